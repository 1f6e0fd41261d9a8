#include "process_spec.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <sys/capability.h>
#include <sys/resource.h>

namespace microvm {

namespace {

// Capability names as the OCI spec writes them, "CAP_CHOWN", to numbers.
ctr::Result<int> capability_number(const std::string& name) {
    cap_value_t v;
    std::string lower = name;
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (cap_from_name(lower.c_str(), &v) != 0) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "unknown capability \"" + name + "\"");
    return static_cast<int>(v);
}

const std::map<std::string, int>& rlimit_numbers() {
    static const std::map<std::string, int> m = {
        {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_FSIZE", RLIMIT_FSIZE},       {"RLIMIT_DATA", RLIMIT_DATA},
        {"RLIMIT_STACK", RLIMIT_STACK},     {"RLIMIT_CORE", RLIMIT_CORE},         {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_NOFILE", RLIMIT_NOFILE},     {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
        {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_LOCKS", RLIMIT_LOCKS},       {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
        {"RLIMIT_RTTIME", RLIMIT_RTTIME}};
    return m;
}

}  // namespace

ctr::Result<std::string> capability_masks(const nlohmann::json& caps) {
    if (!caps.is_object()) return std::string();
    std::string out;
    for (const char* set : {"bounding", "effective", "permitted", "inheritable", "ambient"}) {
        uint64_t mask = 0;
        for (const auto& name : caps.value(set, nlohmann::json::array())) {
            if (!name.is_string()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, std::string("field \"process.capabilities.") + set + "\" must hold strings");
            int n = CTR_TRY(capability_number(name.get<std::string>()));
            if (n < 64) mask |= uint64_t{1} << n;
        }
        char hex[20];
        std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(mask));
        out += (out.empty() ? "" : ",") + std::string(hex);
    }
    return out;
}

ctr::Result<std::string> rlimit_list(const nlohmann::json& rlimits) {
    std::string out;
    for (const auto& r : rlimits) {
        std::string type = r.value("type", "");
        auto it = rlimit_numbers().find(type);
        if (it == rlimit_numbers().end()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "unknown rlimit \"" + type + "\"");
        out += (out.empty() ? "" : ";") + std::to_string(it->second) + "=" + std::to_string(r.value("soft", uint64_t{0})) + ":" +
               std::to_string(r.value("hard", uint64_t{0}));
    }
    return out;
}

ctr::Result<std::string> run_payload(const nlohmann::json& process, const std::string& hostname, StdinMode stdin_mode, int rows,
                                     int cols) {
    if (!process.is_object()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "field \"process\" must be an object");
    auto args = process.value("args", nlohmann::json::array());
    if (!args.is_array() || args.empty()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "field \"process.args\" must be a non-empty array");
    auto user = process.value("user", nlohmann::json::object());
    std::string out;
    auto put = [&](const std::string& s) {
        out += s;
        out.push_back('\0');
    };
    put(std::to_string(user.value("uid", 0)));
    put(std::to_string(user.value("gid", 0)));
    put(process.value("cwd", "/"));
    put(hostname);
    std::string mode(1, static_cast<char>(stdin_mode));
    if (stdin_mode == StdinMode::terminal && rows > 0 && cols > 0) mode += std::to_string(rows) + "x" + std::to_string(cols);
    put(mode);
    put(CTR_TRY(capability_masks(process.value("capabilities", nlohmann::json()))));
    put(process.value("noNewPrivileges", false) ? "1" : "0");
    put(CTR_TRY(rlimit_list(process.value("rlimits", nlohmann::json::array()))));
    put(std::to_string(args.size()));
    for (const auto& a : args) {
        if (!a.is_string()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "field \"process.args\" must hold strings");
        if (a.get<std::string>().find('\0') != std::string::npos) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "field \"process.args\" holds a NUL byte");
        put(a.get<std::string>());
    }
    for (const auto& e : process.value("env", nlohmann::json::array()))
        if (e.is_string() && e.get<std::string>().find('\0') == std::string::npos) put(e.get<std::string>());
    return out;
}

VmSize vm_size(const nlohmann::json& config, VmSize size) {
    const auto resources = config.value("linux", nlohmann::json::object()).value("resources", nlohmann::json::object());
    const auto memory = resources.value("memory", nlohmann::json::object());
    if (memory.contains("limit") && memory["limit"].is_number_integer() && memory["limit"].get<int64_t>() > 0)
        size.memory_mib = static_cast<int>(std::max<int64_t>(128, memory["limit"].get<int64_t>() >> 20));
    const auto cpu = resources.value("cpu", nlohmann::json::object());
    if (cpu.contains("quota") && cpu.contains("period") && cpu["quota"].is_number_integer() && cpu["period"].is_number_integer()) {
        int64_t quota = cpu["quota"].get<int64_t>(), period = cpu["period"].get<int64_t>();
        if (quota > 0 && period > 0) size.cpus = static_cast<int>(std::max<int64_t>(1, (quota + period - 1) / period));
    }
    return size;
}

}  // namespace microvm
