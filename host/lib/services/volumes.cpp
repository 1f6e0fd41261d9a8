#include "services/volumes.hpp"

#include "services/names.hpp"

#include <ctr/base/failpoint.hpp>
#include <ctr/sys/files.hpp>

#include <spdlog/spdlog.h>

#include <fstream>
#include <random>
#include <regex>
#include <sys/stat.h>

namespace ctr::services {

namespace fs = std::filesystem;

Status check_volume_name(const std::string& name) { return check_name("volume", name, kMaxVolumeName); }

int64_t disk_usage(const fs::path& dir) {
    int64_t total = 0;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
        struct stat st {};
        if (::lstat(it->path().c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) total += st.st_blocks * 512;
    }
    return total;
}

namespace {

std::string random_name() {
    std::random_device rd;
    std::string s;
    const char* hex = "0123456789abcdef";
    for (int i = 0; i < 64; ++i) s += hex[rd() % 16];
    return s;
}

Status remove_tree(const fs::path& dir) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (ec) return make_error(CTR_E_INTERNAL, "remove \"" + dir.string() + "\": " + ec.message());
    return ok();
}

}  // namespace

Result<store::VolumeRecord> Volumes::create(const VolumeRequest& req) {
    store::VolumeRecord v;
    v.anonymous = req.name.empty();
    v.name = v.anonymous ? random_name() : req.name;
    CTR_TRY_STATUS(check_volume_name(v.name));
    if (!req.labels.is_object()) return make_error(CTR_E_INVALID_ARGUMENT, "labels must be an object of strings");
    for (const auto& [k, val] : req.labels.items())
        if (!val.is_string()) return make_error(CTR_E_INVALID_ARGUMENT, "label \"" + k + "\" must be a string");
    if (!req.options.is_object() || !req.options.empty())
        return make_error(CTR_E_INVALID_ARGUMENT, "the local volume driver takes no options");
    v.labels = req.labels;
    v.options = req.options;
    v.mountpoint = (dir_of(v.name) / "_data").string();
    v.state = "creating";
    v.created_at = store::now_unix();

    std::lock_guard<std::mutex> lock(mu_);
    CTR_TRY_STATUS(store_.insert_volume(v));  // the intent, committed
    failpoint("volume-create-after-insert");
    if (auto st = sys::make_dirs(v.mountpoint, 0755); !st) {
        (void)remove_tree(dir_of(v.name));
        (void)store_.delete_volume(v.name);
        return st.error().wrap("create volume \"" + v.name + "\"");
    }
    failpoint("volume-create-after-mkdir");
    CTR_TRY_STATUS(store_.set_volume_state(v.name, "ready"));
    v.state = "ready";
    spdlog::info("created volume {}", v.name);
    if (on_change) on_change("create", v.name);
    return v;
}

Status Volumes::remove(const std::string& name, bool force) {
    std::lock_guard<std::mutex> lock(mu_);
    auto v = CTR_TRY(store_.volume(name));
    if (!v || v->state == "creating") {
        if (force) return ok();
        return make_error(CTR_E_NOT_FOUND, "no volume named \"" + name + "\"");
    }
    auto users = CTR_TRY(store_.volume_users(name));
    if (!users.empty()) {
        std::string list;
        for (const auto& u : users) list += (list.empty() ? "" : ", ") + u.substr(0, 12);
        return make_error(CTR_E_FAILED_PRECONDITION, "volume \"" + name + "\" is in use by container(s) " + list);
    }
    CTR_TRY_STATUS(store_.set_volume_state(name, "removing"));
    failpoint("volume-remove-after-mark");
    CTR_TRY_STATUS(remove_tree(dir_of(name)));
    CTR_TRY_STATUS(store_.delete_volume(name));
    spdlog::info("removed volume {}", name);
    if (on_change) on_change("destroy", name);
    return ok();
}

Result<store::VolumeRecord> Volumes::inspect(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    auto v = CTR_TRY(store_.volume(name));
    if (!v || v->state != "ready") return make_error(CTR_E_NOT_FOUND, "no volume named \"" + name + "\"");
    return *v;
}

Result<std::vector<store::VolumeRecord>> Volumes::list() {
    std::lock_guard<std::mutex> lock(mu_);
    auto all = CTR_TRY(store_.volumes());
    std::vector<store::VolumeRecord> ready;
    for (auto& v : all)
        if (v.state == "ready") ready.push_back(std::move(v));
    return ready;
}

Result<PruneReport> Volumes::prune(bool named_too, const std::function<bool(const store::VolumeRecord&)>& may_remove) {
    PruneReport report;
    auto all = CTR_TRY(list());
    for (const auto& v : all) {
        if (!v.anonymous && !named_too) continue;
        if (may_remove && !may_remove(v)) continue;
        int64_t size = disk_usage(dir_of(v.name));
        auto st = remove(v.name, false);
        if (st) {
            report.removed.push_back(v.name);
            report.reclaimed += size;
        } else if (st.error().status != CTR_E_FAILED_PRECONDITION) {
            return st.error();
        }
    }
    return report;
}

Result<std::vector<std::string>> Volumes::reconcile() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> done;
    auto all = CTR_TRY(store_.volumes());
    for (const auto& v : all) {
        if (v.state == "ready") continue;
        CTR_TRY_STATUS(remove_tree(dir_of(v.name)));
        CTR_TRY_STATUS(store_.delete_volume(v.name));
        done.push_back(std::string(v.state == "creating" ? "rolled back the creation of" : "finished removing") +
                       " volume \"" + v.name + "\"");
    }
    return done;
}

}  // namespace ctr::services
