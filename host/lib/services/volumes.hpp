// Named volumes: directories under <root>/var/lib/container/volumes, owned by
// the state database. Each change is a recorded intent first (a row in state
// "creating" or "removing"), then the filesystem change, then the commit; a
// crash anywhere in between is undone or finished by reconcile().
#pragma once

#include <ctr/base/paths.hpp>
#include "store/store.hpp"

#include <functional>
#include <mutex>

namespace ctr::services {

struct VolumeRequest {
    std::string name;  // empty: an anonymous volume with a random name
    nlohmann::json labels = nlohmann::json::object();
    nlohmann::json options = nlohmann::json::object();
};

struct PruneReport {
    std::vector<std::string> removed;
    int64_t reclaimed = 0;
};

class Volumes {
public:
    Volumes(const Paths& paths, store::Store& store, std::mutex& store_mu)
        : paths_(paths), store_(store), mu_(store_mu) {}

    Result<store::VolumeRecord> create(const VolumeRequest& req);
    Status remove(const std::string& name, bool force);
    Result<store::VolumeRecord> inspect(const std::string& name);
    Result<std::vector<store::VolumeRecord>> list();
    // Every unused anonymous volume; with `named_too`, unused named ones as well.
    // `may_remove`, when set, has the last word on each unused volume.
    Result<PruneReport> prune(bool named_too = false, const std::function<bool(const store::VolumeRecord&)>& may_remove = nullptr);

    // Rolls back volumes caught "creating" and finishes those caught
    // "removing" by a crash. Returns what it did, one line per volume.
    Result<std::vector<std::string>> reconcile();

    std::filesystem::path dir_of(const std::string& name) const { return paths_.lib_dir() / "volumes" / name; }

    // Told each create and destroy ("create", name), as it is committed: the
    // daemon's events.
    std::function<void(const std::string& action, const std::string& name)> on_change;

private:
    Paths paths_;
    store::Store& store_;
    std::mutex& mu_;
};

Status check_volume_name(const std::string& name);

// Bytes used by the files under `dir` (not following symlinks).
int64_t disk_usage(const std::filesystem::path& dir);

}  // namespace ctr::services
