#include "guest_mounts.hpp"

#include "sys/files.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/mount.h>
#include <unistd.h>

namespace microvm {

namespace fs = std::filesystem;

namespace {

constexpr uintmax_t kMaxFileBytes = uintmax_t{16} << 20;

// What the agent mounts itself, or what runtime.cpp copies in.
bool provided_by_guest(const std::string& dest) {
    static const char* const kOwn[] = {"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup",
                                       "/etc/resolv.conf", "/etc/hosts", "/etc/hostname"};
    return std::any_of(std::begin(kOwn), std::end(kOwn), [&](const char* d) { return dest == d; });
}

}  // namespace

ctr::Result<std::unique_ptr<ReadOnlyView>> ReadOnlyView::make(const fs::path& source, const fs::path& at) {
    std::error_code ec;
    fs::create_directories(at, ec);
    if (ec) return ctr::make_error(CTR_E_INTERNAL, "mkdir " + at.string() + ": " + ec.message());
    if (::mount(source.c_str(), at.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
        return ctr::make_error(CTR_E_INTERNAL, "bind " + source.string() + ": " + std::strerror(errno));
    std::unique_ptr<ReadOnlyView> view(new ReadOnlyView(at));  // from here, undone on any failure
    if (::mount(nullptr, at.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, nullptr) != 0)
        return ctr::make_error(CTR_E_INTERNAL, "read-only " + source.string() + ": " + std::strerror(errno));
    return view;
}

ReadOnlyView::~ReadOnlyView() {
    ::umount2(at_.c_str(), MNT_DETACH);
    ::rmdir(at_.c_str());
}

ctr::Result<GuestMounts> plan_guest_mounts(const nlohmann::json& config, const fs::path& vm_dir) {
    GuestMounts out;
    auto put = [&](const std::string& s) {
        out.payload += s;
        out.payload.push_back('\0');
    };
    for (const auto& m : config.value("mounts", nlohmann::json::array())) {
        const std::string dest = m.value("destination", ""), type = m.value("type", ""), source = m.value("source", "");
        if (dest.empty() || provided_by_guest(dest)) continue;
        std::vector<std::string> options;
        for (const auto& o : m.value("options", nlohmann::json::array()))
            if (o.is_string()) options.push_back(o.get<std::string>());
        bool ro = std::find(options.begin(), options.end(), "ro") != options.end();
        std::string flags, data;
        for (const auto& o : options) {
            if (o == "ro" || o == "nosuid" || o == "nodev" || o == "noexec") flags += (flags.empty() ? "" : ",") + o;
            else if (o.find('=') != std::string::npos) data += (data.empty() ? "" : ",") + o;
        }
        if (type == "tmpfs") {
            for (const auto& s : {"tmpfs", "tmpfs", dest.c_str(), flags.c_str(), data.c_str()}) put(s);
            continue;
        }
        if (type != "bind" && std::find(options.begin(), options.end(), "rbind") == options.end() &&
            std::find(options.begin(), options.end(), "bind") == options.end())
            return ctr::make_error(CTR_E_INVALID_ARGUMENT, "runtime-microvm cannot mount a " + type + " at " + dest);
        std::error_code ec;
        if (ro && fs::is_regular_file(source, ec)) {
            // A read-only file (--init's tini, a config file): its bytes go to the
            // guest, which mounts them read-only; the host's file is never shared.
            auto size = fs::file_size(source, ec);
            if (ec || size > kMaxFileBytes)
                return ctr::make_error(CTR_E_INVALID_ARGUMENT, "runtime-microvm copies files of at most 16 MiB into a VM: " + source + " (for " + dest + ")");
            auto bytes = ctr::sys::read_file(source);
            if (!bytes) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "read " + source + " (for " + dest + "): " + bytes.error().message);
            std::string id = std::to_string(out.files.size());
            out.files.push_back(id + std::string(1, '\0') + *bytes);
            for (const auto& s : {std::string("file"), id, dest, flags, std::string()}) put(s);
            continue;
        }
        if (!fs::is_directory(source, ec))
            return ctr::make_error(CTR_E_INVALID_ARGUMENT, "runtime-microvm shares directories and read-only files only, and " + source +
                                                               " (for " + dest + ") is neither");
        fs::path shared = source;
        if (ro) {
            auto view = CTR_TRY(ReadOnlyView::make(source, vm_dir / ("ro" + std::to_string(out.shares.size()))));
            shared = view->path();
            out.views.push_back(std::move(view));
        }
        std::string tag = "vol" + std::to_string(out.shares.size());
        out.shares.push_back(shared);
        for (const auto& s : {std::string("virtiofs"), tag, dest, flags, std::string()}) put(s);
    }
    return out;
}

}  // namespace microvm
