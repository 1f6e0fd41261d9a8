#include "known_flaws.hpp"

#include <ctr/sys/process.hpp>

#include <cstdio>
#include <tuple>
#include <utility>

namespace runtime_linux {

KnownFlaws known_flaws(const OciBinary& binary) {
    KnownFlaws f;
    // Only runc has a flaw known here: crun is not asked (a process less at
    // each load of the plugin, which every container's shim makes).
    if (binary.name() != "runc") return f;
    auto ran = ctr::sys::run_capture({binary.path, "--version"}, 5000);
    if (!ran) return f;
    // "runc version 1.1.5+ds1" / "crun version 1.8.1"
    const std::string marker = "version ";
    auto at = ran->out.find(marker);
    if (at == std::string::npos) return f;
    int major = 0, minor = 0, patch = 0;
    if (std::sscanf(ran->out.c_str() + at + marker.size(), "%d.%d.%d", &major, &minor, &patch) < 2) return f;
    f.version = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
    f.mkdir_race = binary.name() == "runc" && std::make_tuple(major, minor, patch) < std::make_tuple(1, 1, 14);
    return f;
}

std::pair<std::string, std::string> nested_bind_mount(const nlohmann::json& spec) {
    if (!spec.contains("mounts") || !spec["mounts"].is_array()) return {};
    const auto& mounts = spec["mounts"];
    for (const auto& outer : mounts) {
        if (outer.value("type", "") != "bind") continue;  // the user's volumes and binds
        const std::string above = outer.value("destination", "");
        for (const auto& inner : mounts) {
            const std::string below = inner.value("destination", "");
            if (below.size() > above.size() + 1 && below.compare(0, above.size() + 1, above + "/") == 0) return {above, below};
        }
    }
    return {};
}

std::string mkdir_race_warning(const KnownFlaws& flaws, const OciBinary& binary, const nlohmann::json& spec) {
    if (!flaws.mkdir_race) return "";
    const auto [above, below] = nested_bind_mount(spec);
    if (above.empty()) return "";
    return binary.name() + " " + flaws.version + " can be raced into making directories on the host through the mount at " + above +
           ", under which " + below + " is mounted, by any container that shares it (CVE-2024-45310, " +
           "fixed in runc 1.1.14): use crun, the default, or a newer runc";
}

}  // namespace runtime_linux
