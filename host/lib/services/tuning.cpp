#include "services/tuning.hpp"

#include "services/spec.hpp"

#include <algorithm>
#include <map>
#include <regex>
#include <sstream>

namespace ctr::services {

using nlohmann::json;

namespace {

Error bad(const std::string& flag, const std::string& value, const std::string& why) {
    return make_error(CTR_E_INVALID_ARGUMENT, flag + " \"" + value + "\": " + why);
}

Result<int64_t> integer(const json& b, const char* key, const char* flag) {
    if (!b.contains(key) || b[key].is_null()) return int64_t{0};
    if (!b[key].is_number_integer()) return bad(flag, b[key].dump(), "want a whole number");
    return b[key].get<int64_t>();
}

Result<std::string> text(const json& b, const char* key, const char* flag) {
    if (!b.contains(key) || b[key].is_null()) return std::string();
    if (!b[key].is_string()) return bad(flag, b[key].dump(), "want a string");
    return b[key].get<std::string>();
}

// "" | host | container:NAME; `container` says whether joining another is allowed.
Result<std::string> ns_mode(const json& b, const char* key, const char* flag, bool container) {
    std::string m = CTR_TRY(text(b, key, flag));
    if (m == "private" || m == "shareable") return std::string();  // Docker's names for its own default
    if (m.empty() || m == "host") return m;
    if (container && m.rfind("container:", 0) == 0 && m.size() > 10) return m;
    return bad(flag, m, container ? "want host or container:NAME" : "want host");
}

}  // namespace

bool TuningOptions::is_field(const std::string& key) {
    static const char* const fields[] = {"memory_reservation", "memory_swap", "cpu_shares", "cpuset_cpus", "cpuset_mems",
                                         "oom_score_adj", "group_add", "annotations", "pid", "ipc", "uts"};
    return std::any_of(std::begin(fields), std::end(fields), [&](const char* f) { return key == f; });
}

Result<TuningOptions> TuningOptions::from_json(const json& b, int64_t memory, const std::string& hostname) {
    TuningOptions t;
    t.memory_reservation = CTR_TRY(integer(b, "memory_reservation", "--memory-reservation"));
    if (t.memory_reservation < 0) return bad("--memory-reservation", std::to_string(t.memory_reservation), "want a byte count");
    if (memory > 0 && t.memory_reservation > memory)
        return bad("--memory-reservation", std::to_string(t.memory_reservation), "must not be above --memory");
    t.memory_swap = CTR_TRY(integer(b, "memory_swap", "--memory-swap"));
    if (t.memory_swap != 0) {
        if (t.memory_swap < -1) return bad("--memory-swap", std::to_string(t.memory_swap), "want -1 (unlimited) or a byte count");
        if (memory <= 0) return bad("--memory-swap", std::to_string(t.memory_swap), "needs --memory (it is memory plus swap)");
        if (t.memory_swap > 0 && t.memory_swap < memory)
            return bad("--memory-swap", std::to_string(t.memory_swap), "must not be below --memory (it is memory plus swap)");
    }
    t.cpu_shares = CTR_TRY(integer(b, "cpu_shares", "--cpu-shares"));
    if (t.cpu_shares != 0 && (t.cpu_shares < 2 || t.cpu_shares > 262144))
        return bad("--cpu-shares", std::to_string(t.cpu_shares), "want 2 to 262144");
    static const std::regex cpuset("^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$");
    t.cpuset_cpus = CTR_TRY(text(b, "cpuset_cpus", "--cpuset-cpus"));
    if (!t.cpuset_cpus.empty() && !std::regex_match(t.cpuset_cpus, cpuset)) return bad("--cpuset-cpus", t.cpuset_cpus, "want a list like 0-2,4");
    t.cpuset_mems = CTR_TRY(text(b, "cpuset_mems", "--cpuset-mems"));
    if (!t.cpuset_mems.empty() && !std::regex_match(t.cpuset_mems, cpuset)) return bad("--cpuset-mems", t.cpuset_mems, "want a list like 0-1");
    if (b.contains("oom_score_adj") && !b["oom_score_adj"].is_null()) {
        int64_t v = CTR_TRY(integer(b, "oom_score_adj", "--oom-score-adj"));
        if (v < -1000 || v > 1000) return bad("--oom-score-adj", std::to_string(v), "want -1000 to 1000");
        t.oom_score_adj = static_cast<int>(v);
    }
    if (b.contains("group_add") && !b["group_add"].is_null()) {
        if (!b["group_add"].is_array()) return bad("--group-add", b["group_add"].dump(), "want a list");
        for (const auto& g : b["group_add"]) {
            if (!g.is_string() || g.get<std::string>().empty()) return bad("--group-add", g.dump(), "want a group name or number");
            t.group_add.push_back(g);
        }
    }
    if (b.contains("annotations") && !b["annotations"].is_null()) {
        if (!b["annotations"].is_object()) return bad("--annotation", b["annotations"].dump(), "want KEY=VALUE");
        for (auto it = b["annotations"].begin(); it != b["annotations"].end(); ++it) {
            if (!it->is_string()) return bad("--annotation", it.key(), "want a string value");
            t.annotations[it.key()] = it->get<std::string>();
        }
    }
    t.pid_mode = CTR_TRY(ns_mode(b, "pid", "--pid", true));
    t.ipc_mode = CTR_TRY(ns_mode(b, "ipc", "--ipc", true));
    t.uts_mode = CTR_TRY(ns_mode(b, "uts", "--uts", false));
    if (t.uts_mode == "host" && !hostname.empty()) return bad("--uts", "host", "a container on the host's UTS namespace cannot have --hostname");
    return t;
}

void TuningOptions::to_json(json& j) const {
    j["memory_reservation"] = memory_reservation;
    j["memory_swap"] = memory_swap;
    j["cpu_shares"] = cpu_shares;
    j["cpuset_cpus"] = cpuset_cpus;
    j["cpuset_mems"] = cpuset_mems;
    j["oom_score_adj"] = oom_score_adj ? json(*oom_score_adj) : json(nullptr);
    j["group_add"] = group_add;
    j["annotations"] = annotations;
    j["pid"] = pid_mode;
    j["ipc"] = ipc_mode;
    j["uts"] = uts_mode;
}

std::string joined_container(const std::string& mode) { return mode.rfind("container:", 0) == 0 ? mode.substr(10) : ""; }

namespace {

// The gid of each --group-add: a number as it is, a name from the image's /etc/group.
Result<json> additional_gids(const std::vector<std::string>& groups, const std::filesystem::path& rootfs) {
    json out = json::array();
    std::string table;
    bool read = false;
    for (const auto& g : groups) {
        if (g.find_first_not_of("0123456789") == std::string::npos) {
            out.push_back(std::stoll(g));
            continue;
        }
        if (!read) {
            auto file = read_in_root(rootfs, "/etc/group");
            table = file ? *file : "";
            read = true;
        }
        std::istringstream in(table);
        std::string line;
        bool found = false;
        while (!found && std::getline(in, line)) {
            auto a = line.find(':'), b = line.find(':', a + 1), c = line.find(':', b + 1);
            if (a == std::string::npos || c == std::string::npos || line.substr(0, a) != g) continue;
            const std::string gid = line.substr(b + 1, c - b - 1);
            if (gid.empty() || gid.find_first_not_of("0123456789") != std::string::npos) continue;
            out.push_back(std::stoll(gid));
            found = true;
        }
        if (!found) return bad("--group-add", g, "no such group in the image's /etc/group");
    }
    return out;
}

}  // namespace

Status apply_tuning(json& spec, const TuningOptions& t, const std::filesystem::path& rootfs) {
    json& res = spec["linux"]["resources"];
    if (t.memory_reservation > 0) res["memory"]["reservation"] = t.memory_reservation;
    if (t.memory_swap != 0) res["memory"]["swap"] = t.memory_swap;
    if (t.cpu_shares > 0) res["cpu"]["shares"] = t.cpu_shares;
    if (!t.cpuset_cpus.empty()) res["cpu"]["cpus"] = t.cpuset_cpus;
    if (!t.cpuset_mems.empty()) res["cpu"]["mems"] = t.cpuset_mems;
    if (t.oom_score_adj) spec["process"]["oomScoreAdj"] = *t.oom_score_adj;
    if (!t.group_add.empty()) spec["process"]["user"]["additionalGids"] = CTR_TRY(additional_gids(t.group_add, rootfs));
    if (!t.annotations.empty()) spec["annotations"] = t.annotations;
    auto& namespaces = spec["linux"]["namespaces"];
    for (const auto& [type, mode] : {std::pair{"pid", t.pid_mode}, std::pair{"ipc", t.ipc_mode}, std::pair{"uts", t.uts_mode}}) {
        if (mode != "host") continue;
        namespaces.erase(std::remove_if(namespaces.begin(), namespaces.end(), [&](const json& ns) { return ns["type"] == type; }),
                         namespaces.end());
        // The host's UTS: its name, not the container's.
        if (std::string(type) == "uts") spec.erase("hostname");
    }
    return ok();
}

void join_namespace(json& spec, const std::string& type, const std::string& path) {
    for (auto& ns : spec["linux"]["namespaces"])
        if (ns["type"] == type) ns["path"] = path;
}

Status check_no_limits(const json& spec) {
    static const std::map<std::string, std::string> flags = {
        {"memory", "--memory"}, {"cpu", "--cpus"}, {"pids", "--pids-limit"}, {"blockIO", "--blkio-weight"},
        {"hugepageLimits", "hugepage limits"}, {"network", "network priorities"}, {"rdma", "rdma limits"}, {"unified", "cgroup v2 settings"}};
    const json* resources = spec.contains("linux") ? &spec["linux"] : nullptr;
    if (!resources || !resources->contains("resources")) return ok();
    for (const auto& [key, value] : (*resources)["resources"].items()) {
        if (key == "devices" || value.is_null() || value.empty()) continue;
        auto flag = flags.find(key);
        return make_error(CTR_E_FAILED_PRECONDITION,
                          (flag == flags.end() ? key : flag->second) +
                              ": a rootless daemon limits resources only in a cgroup v2 subtree delegated to its user, and this one has none "
                              "(see docs/rootless.md)");
    }
    return ok();
}

void drop_unmapped_mount_ids(json& spec) {
    if (!spec.contains("mounts")) return;
    for (auto& m : spec["mounts"]) {
        if (!m.contains("options")) continue;
        json kept = json::array();
        for (const auto& o : m["options"]) {
            const std::string s = o.is_string() ? o.get<std::string>() : "";
            const bool id = s.rfind("gid=", 0) == 0 || s.rfind("uid=", 0) == 0;
            if (!id || s.substr(4) == "0") kept.push_back(o);  // 0, the user, is mapped
        }
        m["options"] = kept;
    }
}

}  // namespace ctr::services
