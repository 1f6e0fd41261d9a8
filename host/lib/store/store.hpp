// Typed access to the state database. Every method is one statement or one
// transaction; callers that need several in one transaction use db().
#pragma once

#include "store/db.hpp"
#include "store/records.hpp"
#include <ctr/sys/files.hpp>

#include <memory>
#include <mutex>
#include <vector>

namespace ctr::store {

class Store {
public:
    // A file that cannot be read as a database, or fails SQLite's
    // quick_check, is an error that says so and, when there is one, names
    // the copy backup() made and how to go back to it.
    static Result<std::unique_ptr<Store>> open(const std::filesystem::path& file);

    // A consistent copy of the whole database at `to` (VACUUM INTO a
    // temporary file, flushed, then renamed over `to`): the daemon makes one
    // at each start, once the database has passed its check.
    Status backup(const std::filesystem::path& to);

    Db& db() { return *db_; }

    // Volumes.
    Status insert_volume(const VolumeRecord& v);
    Status set_volume_state(const std::string& name, const std::string& state);
    Status delete_volume(const std::string& name);
    Result<std::optional<VolumeRecord>> volume(const std::string& name);
    Result<std::vector<VolumeRecord>> volumes();
    Result<std::vector<std::string>> volume_users(const std::string& name);  // container ids
    Status link_volume(const std::string& container_id, const std::string& volume);
    Result<std::vector<std::string>> container_volumes(const std::string& container_id);

    // Containers.
    Status insert_container(const ContainerRecord& c, sys::Durability durability = sys::Durability::power_loss);
    Status delete_container(const std::string& id);
    Status rename_container(const std::string& id, const std::string& name);
    // Writes state, pid, times, exit code and config of an existing record.
    // `durability` process_crash: committed without a disk flush (the next
    // flushed commit carries it); for a start or an exit, which a reboot
    // would make stale anyway (the daemon reconciles running containers).
    Status update_container(const ContainerRecord& c, sys::Durability durability = sys::Durability::power_loss);
    // By full id, unique id prefix, or name.
    Result<std::optional<ContainerRecord>> container(const std::string& id_or_name);
    Result<std::vector<ContainerRecord>> containers();

    Result<std::vector<ImageRecord>> images();
    Result<std::vector<NetworkRecord>> networks();

private:
    explicit Store(std::unique_ptr<Db> db) : db_(std::move(db)) {}
    Status run_with(Stmt& s, sys::Durability durability);
    std::unique_ptr<Db> db_;
};

int64_t now_unix();

}  // namespace ctr::store
