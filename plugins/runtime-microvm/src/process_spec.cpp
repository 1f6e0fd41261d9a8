#include "process_spec.hpp"

#include <algorithm>

namespace microvm {

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
