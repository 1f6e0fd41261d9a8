#include "store/store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>

namespace ctr::store {

using nlohmann::json;

int64_t now_unix() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

namespace {
json parse_or_empty(const std::string& s) {
    auto j = json::parse(s, nullptr, false);
    return j.is_discarded() ? json::object() : j;
}
json opt(const std::optional<int64_t>& v) { return v ? json(*v) : json(); }
std::optional<int64_t> col_opt(const Stmt& s, int c) {
    return s.is_null(c) ? std::nullopt : std::optional<int64_t>(s.integer(c));
}

const char* kVolumeCols = "name, driver, mountpoint, labels, options, anonymous, state, created_at";
VolumeRecord read_volume(const Stmt& s) {
    VolumeRecord v;
    v.name = s.text(0);
    v.driver = s.text(1);
    v.mountpoint = s.text(2);
    v.labels = parse_or_empty(s.text(3));
    v.options = parse_or_empty(s.text(4));
    v.anonymous = s.integer(5) != 0;
    v.state = s.text(6);
    v.created_at = s.integer(7);
    return v;
}

const char* kContainerCols =
    "id, name, image, runtime, state, config, labels, created_at, started_at, finished_at, exit_code, pid";
ContainerRecord read_container(const Stmt& s) {
    ContainerRecord c;
    c.id = s.text(0);
    c.name = s.text(1);
    c.image = s.text(2);
    c.runtime = s.text(3);
    // A name this version does not know (a newer one's) reads as stopped:
    // the container can still be inspected, started or removed.
    c.state = parse_container_state(s.text(4)).value_or(ContainerState::stopped);
    c.config = migrate_config(parse_or_empty(s.text(5)));
    c.labels = parse_or_empty(s.text(6));
    c.created_at = s.integer(7);
    c.started_at = col_opt(s, 8);
    c.finished_at = col_opt(s, 9);
    c.exit_code = col_opt(s, 10);
    c.pid = col_opt(s, 11);
    return c;
}
}  // namespace

json VolumeRecord::to_json() const {
    return {{"name", name},       {"driver", driver}, {"mountpoint", mountpoint}, {"labels", labels},
            {"options", options}, {"anonymous", anonymous}, {"state", state}, {"created_at", created_at}};
}

json ContainerRecord::to_json() const {
    json j = {{"id", id},
            {"name", name},
            {"image", image},
            {"runtime", runtime},
            {"state", to_string(state)},
            {"config", config},
            {"labels", labels},
            {"created_at", created_at},
            {"started_at", opt(started_at)},
            {"finished_at", opt(finished_at)},
            {"exit_code", opt(exit_code)},
            {"pid", opt(pid)},
            {"paused", paused},
            {"oom_killed", oom_killed}};
    if (!warnings.empty()) j["warnings"] = warnings;
    return j;
}

json ImageRecord::to_json() const {
    return {{"reference", reference}, {"digest", digest}, {"size", size}, {"config", config}, {"created_at", created_at}};
}

json NetworkRecord::to_json() const {
    return {{"name", name},       {"subnet", subnet}, {"gateway", gateway},       {"internal", internal},
            {"labels", labels},   {"options", options}, {"state", state}, {"created_at", created_at}};
}

namespace {

// Containers' stored configs written by an older version, brought up to
// this one's schema (store/container_config.hpp), all in one transaction.
Status migrate_container_configs(Db& db) {
    return db.transaction([&]() -> Status {
        auto q = CTR_TRY(db.prepare("SELECT id, config FROM containers"));
        std::vector<std::pair<std::string, std::string>> changed;
        while (CTR_TRY(q.step())) {
            auto stored = parse_or_empty(q.text(1));
            if (stored.value("schema", 1) >= ContainerConfig::kSchema) continue;
            changed.emplace_back(q.text(0), migrate_config(stored).dump());
        }
        for (const auto& [id, config] : changed) {
            auto u = CTR_TRY(db.prepare("UPDATE containers SET config = ? WHERE id = ?"));
            CTR_TRY_STATUS(u.bind(1, config).bind(2, id).run());
        }
        return ok();
    });
}

}  // namespace

namespace {
// The way back to the copy of the last clean start or stop, when there is one.
std::string backup_hint(const std::filesystem::path& file) {
    std::filesystem::path bak = file.string() + ".bak";
    std::error_code ec;
    if (!std::filesystem::exists(bak, ec)) return "";
    return "; the copy the daemon made when it last started or stopped cleanly is " + bak.string() + ": to go back to it, move it to " +
           file.string() + " and remove " + file.string() + "-wal and " + file.string() + "-shm";
}
}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::filesystem::path& file) {
    auto db = Db::open(file);
    if (!db) {
        if (db.error().status != CTR_E_INTERNAL) return db.error();
        return make_error(CTR_E_INTERNAL, db.error().message + backup_hint(file));
    }
    CTR_TRY_STATUS(migrate_container_configs(**db));
    return std::unique_ptr<Store>(new Store(std::move(*db)));
}

Status Store::backup(const std::filesystem::path& to) {
    std::filesystem::path tmp = to.string() + ".tmp";
    std::error_code ec;
    std::filesystem::remove(tmp, ec);  // VACUUM INTO wants a file that is not there
    auto s = CTR_TRY(db_->prepare("VACUUM INTO ?"));
    CTR_TRY_STATUS(s.bind(1, tmp.string()).run());
    {
        sys::UniqueFd fd(::open(tmp.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd.valid() || ::fsync(fd.get()) != 0) return sys::errno_error("flush", tmp, errno);
    }
    if (::rename(tmp.c_str(), to.c_str()) != 0) return sys::errno_error("rename", tmp, errno);
    sys::UniqueFd dir(::open(to.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.valid()) (void)::fsync(dir.get());
    return ok();
}

Status Store::insert_volume(const VolumeRecord& v) {
    auto s = CTR_TRY(db_->prepare("INSERT INTO volumes (" + std::string(kVolumeCols) + ") VALUES (?,?,?,?,?,?,?,?)"));
    s.bind(1, v.name).bind(2, v.driver).bind(3, v.mountpoint).bind(4, v.labels.dump()).bind(5, v.options.dump());
    s.bind(6, int64_t{v.anonymous}).bind(7, v.state).bind(8, v.created_at);
    auto st = s.run();
    if (!st && st.error().status == CTR_E_ALREADY_EXISTS)
        return make_error(CTR_E_ALREADY_EXISTS, "volume \"" + v.name + "\" already exists");
    return st;
}

Status Store::set_volume_state(const std::string& name, const std::string& state) {
    auto s = CTR_TRY(db_->prepare("UPDATE volumes SET state = ? WHERE name = ?"));
    return s.bind(1, state).bind(2, name).run();
}

Status Store::delete_volume(const std::string& name) {
    auto s = CTR_TRY(db_->prepare("DELETE FROM volumes WHERE name = ?"));
    return s.bind(1, name).run();
}

Result<std::optional<VolumeRecord>> Store::volume(const std::string& name) {
    auto s = CTR_TRY(db_->prepare("SELECT " + std::string(kVolumeCols) + " FROM volumes WHERE name = ?"));
    s.bind(1, name);
    if (!CTR_TRY(s.step())) return std::optional<VolumeRecord>{};
    return std::optional<VolumeRecord>{read_volume(s)};
}

Result<std::vector<VolumeRecord>> Store::volumes() {
    auto s = CTR_TRY(db_->prepare("SELECT " + std::string(kVolumeCols) + " FROM volumes ORDER BY name"));
    std::vector<VolumeRecord> out;
    while (CTR_TRY(s.step())) out.push_back(read_volume(s));
    return out;
}

Result<std::vector<std::string>> Store::volume_users(const std::string& name) {
    auto s = CTR_TRY(db_->prepare("SELECT container_id FROM container_volumes WHERE volume = ? ORDER BY container_id"));
    s.bind(1, name);
    std::vector<std::string> out;
    while (CTR_TRY(s.step())) out.push_back(s.text(0));
    return out;
}

Status Store::link_volume(const std::string& container_id, const std::string& volume) {
    auto s = CTR_TRY(db_->prepare("INSERT OR IGNORE INTO container_volumes (container_id, volume) VALUES (?, ?)"));
    return s.bind(1, container_id).bind(2, volume).run();
}

Result<std::vector<std::string>> Store::container_volumes(const std::string& container_id) {
    auto s = CTR_TRY(db_->prepare("SELECT volume FROM container_volumes WHERE container_id = ? ORDER BY volume"));
    s.bind(1, container_id);
    std::vector<std::string> out;
    while (CTR_TRY(s.step())) out.push_back(s.text(0));
    return out;
}

Status Store::insert_container(const ContainerRecord& c, sys::Durability durability) {
    auto s = CTR_TRY(db_->prepare("INSERT INTO containers (" + std::string(kContainerCols) +
                                  ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"));
    s.bind(1, c.id).bind(2, c.name).bind(3, c.image).bind(4, c.runtime).bind(5, std::string(to_string(c.state))).bind(6, migrate_config(c.config).dump());
    s.bind(7, c.labels.dump()).bind(8, c.created_at).bind(9, c.started_at).bind(10, c.finished_at);
    s.bind(11, c.exit_code).bind(12, c.pid);
    auto st = run_with(s, durability);
    if (!st && st.error().status == CTR_E_ALREADY_EXISTS)
        return make_error(CTR_E_ALREADY_EXISTS, "the container name \"" + c.name + "\" is already in use");
    return st;
}

Status Store::rename_container(const std::string& id, const std::string& name) {
    auto s = CTR_TRY(db_->prepare("UPDATE containers SET name = ? WHERE id = ?"));
    auto st = s.bind(1, name).bind(2, id).run();
    if (!st && st.error().status == CTR_E_ALREADY_EXISTS)
        return make_error(CTR_E_ALREADY_EXISTS, "the container name \"" + name + "\" is already in use");
    return st;
}

Status Store::run_with(Stmt& s, sys::Durability durability) {
    if (durability == sys::Durability::power_loss) return s.run();
    // WAL with synchronous=NORMAL: atomic and safe from a crash of the
    // process, not flushed until a later FULL commit or checkpoint.
    CTR_TRY_STATUS(db_->exec("PRAGMA synchronous=NORMAL"));
    auto st = s.run();
    auto back = db_->exec("PRAGMA synchronous=FULL");
    if (!st) return st;
    return back;
}

Status Store::update_container(const ContainerRecord& c, sys::Durability durability) {
    auto s = CTR_TRY(db_->prepare(
        "UPDATE containers SET state = ?, started_at = ?, finished_at = ?, exit_code = ?, pid = ?, config = ? WHERE id = ?"));
    s.bind(1, std::string(to_string(c.state))).bind(2, c.started_at).bind(3, c.finished_at).bind(4, c.exit_code).bind(5, c.pid).bind(6, migrate_config(c.config).dump()).bind(7, c.id);
    return run_with(s, durability);
}

Status Store::delete_container(const std::string& id) {
    auto s = CTR_TRY(db_->prepare("DELETE FROM containers WHERE id = ?"));
    return s.bind(1, id).run();
}

Result<std::optional<ContainerRecord>> Store::container(const std::string& key) {
    // Exact id or name first; then a unique id prefix, as Docker accepts.
    auto s = CTR_TRY(db_->prepare("SELECT " + std::string(kContainerCols) + " FROM containers WHERE id = ? OR name = ?"));
    s.bind(1, key).bind(2, key);
    if (CTR_TRY(s.step())) return std::optional<ContainerRecord>{read_container(s)};
    if (key.empty()) return std::optional<ContainerRecord>{};
    auto p = CTR_TRY(db_->prepare("SELECT " + std::string(kContainerCols) +
                                  " FROM containers WHERE substr(id, 1, length(?1)) = ?1 LIMIT 2"));
    p.bind(1, key);
    if (!CTR_TRY(p.step())) return std::optional<ContainerRecord>{};
    ContainerRecord first = read_container(p);
    if (CTR_TRY(p.step())) return make_error(CTR_E_INVALID_ARGUMENT, "\"" + key + "\" matches more than one container");
    return std::optional<ContainerRecord>{first};
}

Result<std::vector<ContainerRecord>> Store::containers() {
    auto s = CTR_TRY(db_->prepare("SELECT " + std::string(kContainerCols) + " FROM containers ORDER BY created_at DESC, rowid DESC"));
    std::vector<ContainerRecord> out;
    while (CTR_TRY(s.step())) out.push_back(read_container(s));
    return out;
}

Result<std::vector<ImageRecord>> Store::images() {
    auto s = CTR_TRY(db_->prepare("SELECT reference, digest, size, config, created_at FROM images ORDER BY reference"));
    std::vector<ImageRecord> out;
    while (CTR_TRY(s.step())) {
        ImageRecord r;
        r.reference = s.text(0);
        r.digest = s.text(1);
        r.size = s.integer(2);
        r.config = parse_or_empty(s.text(3));
        r.created_at = s.integer(4);
        out.push_back(r);
    }
    return out;
}

Result<std::vector<NetworkRecord>> Store::networks() {
    auto s = CTR_TRY(db_->prepare(
        "SELECT name, subnet, gateway, internal, labels, options, state, created_at FROM networks ORDER BY name"));
    std::vector<NetworkRecord> out;
    while (CTR_TRY(s.step())) {
        NetworkRecord r;
        r.name = s.text(0);
        r.subnet = s.text(1);
        r.gateway = s.text(2);
        r.internal = s.integer(3) != 0;
        r.labels = parse_or_empty(s.text(4));
        r.options = parse_or_empty(s.text(5));
        r.state = s.text(6);
        r.created_at = s.integer(7);
        out.push_back(r);
    }
    return out;
}

}  // namespace ctr::store
