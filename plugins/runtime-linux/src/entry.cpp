// runtime-linux: ABI wiring. The runtime itself (spec generation, driving
// crun/runc, cgroups on hybrid hosts) arrives with its own issue; until then
// the plugin loads, negotiates and checks that its OCI runtime binary exists,
// and every operation answers CTR_E_UNIMPLEMENTED with a message saying so.
#include <ctr/sdk/plugin.hpp>

#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace {

using ctr::sdk::json;

// Finds a binary by name on PATH, or checks an absolute path.
std::string find_binary(const std::string& name) {
    if (name.empty()) return {};
    if (name.front() == '/') return std::filesystem::exists(name) ? name : std::string();
    const char* path = std::getenv("PATH");
    std::stringstream ss(path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    std::string dir;
    while (std::getline(ss, dir, ':')) {
        auto candidate = std::filesystem::path(dir) / name;
        std::error_code ec;
        if (!dir.empty() && std::filesystem::exists(candidate, ec)) return candidate.string();
    }
    return {};
}

class RuntimeLinux : public ctr::sdk::Runtime {
public:
    using Runtime::Runtime;

    ctr::Status init() override {
        json settings = host().settings();
        std::string wanted = settings.value("oci_runtime", "crun");
        binary_ = find_binary(wanted);
        if (binary_.empty())
            return ctr::make_error(CTR_E_UNAVAILABLE, "oci runtime \"" + wanted + "\" not found on PATH");
        host().debug("using oci runtime " + binary_);
        return ctr::ok();
    }

private:
    std::string binary_;
};

}  // namespace

CTR_SDK_PLUGIN(RuntimeLinux, "runtime-linux", "0.1.0")
