#include "guest_mounts.hpp"

#include "vm.hpp"

#include <ctr/sys/files.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
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

ctr::Result<std::unique_ptr<HostView>> HostView::read_only(const fs::path& source, const fs::path& at) {
    std::error_code ec;
    fs::create_directories(at, ec);
    if (ec) return ctr::make_error(CTR_E_INTERNAL, "mkdir " + at.string() + ": " + ec.message());
    if (::mount(source.c_str(), at.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
        ::rmdir(at.c_str());
        return ctr::make_error(CTR_E_INTERNAL, "bind " + source.string() + ": " + std::strerror(errno));
    }
    std::unique_ptr<HostView> view(new HostView(at, at));  // from here, undone on any failure
    if (::mount(nullptr, at.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, nullptr) != 0)
        return ctr::make_error(CTR_E_INTERNAL, "read-only " + source.string() + ": " + std::strerror(errno));
    return view;
}

ctr::Result<std::unique_ptr<HostView>> HostView::lone_file(const fs::path& source, const fs::path& at, bool read_only) {
    if (::mkdir(at.c_str(), 0700) != 0 && errno != EEXIST)
        return ctr::make_error(CTR_E_INTERNAL, "mkdir " + at.string() + ": " + std::strerror(errno));
    fs::path file = at / kLoneFile;
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
    if (fd < 0 || ::mount(source.c_str(), file.c_str(), nullptr, MS_BIND, nullptr) != 0) {
        int e = errno;
        ::unlink(file.c_str());
        ::rmdir(at.c_str());
        return ctr::make_error(CTR_E_INTERNAL, "bind " + source.string() + ": " + std::strerror(e));
    }
    std::unique_ptr<HostView> view(new HostView(at, file));  // from here, undone on any failure
    if (read_only && ::mount(nullptr, file.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0)
        return ctr::make_error(CTR_E_INTERNAL, "read-only " + source.string() + ": " + std::strerror(errno));
    return view;
}

HostView::~HostView() {
    ::umount2(mounted_.c_str(), MNT_DETACH);
    if (mounted_ != at_) ::unlink(mounted_.c_str());
    ::rmdir(at_.c_str());
}

void release_views_left_in(const fs::path& vm_dir) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(vm_dir, ec)) {
        const std::string name = e.path().filename();
        if (name.rfind("ro", 0) == 0) ::umount2(e.path().c_str(), MNT_DETACH);
        if (name.rfind("file", 0) == 0) ::umount2((e.path() / HostView::kLoneFile).c_str(), MNT_DETACH);
    }
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
        if (ro && fs::is_regular_file(source, ec) && fs::file_size(source, ec) <= kMaxFileBytes && !ec) {
            // A small read-only file (--init's tini, a config file): its bytes
            // go to the guest, which mounts them read-only; it costs no
            // virtiofsd, and the host's file is never shared.
            auto bytes = ctr::sys::read_file(source);
            if (!bytes) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "read " + source + " (for " + dest + "): " + bytes.error().message);
            std::string id = std::to_string(out.files.size());
            out.files.push_back(id + std::string(1, '\0') + *bytes);
            for (const auto& s : {std::string("file"), id, dest, flags, std::string()}) put(s);
            continue;
        }
        std::string tag = share_tag(out.shares.size());
        if (fs::is_regular_file(source, ec)) {
            // A writable (or large) file: shared alone; the agent mounts the
            // share aside and binds its one file onto `dest`.
            auto view = CTR_TRY(HostView::lone_file(source, vm_dir / ("file" + std::to_string(out.shares.size())), ro));
            out.shares.push_back(view->path());
            out.views.push_back(std::move(view));
            for (const auto& s : {std::string("virtiofs-file"), tag, dest, flags, std::string()}) put(s);
            continue;
        }
        if (!fs::is_directory(source, ec))
            return ctr::make_error(CTR_E_INVALID_ARGUMENT, "runtime-microvm shares directories and regular files only, and " + source +
                                                               " (for " + dest + ") is neither");
        fs::path shared = source;
        if (ro) {
            auto view = CTR_TRY(HostView::read_only(source, vm_dir / ("ro" + std::to_string(out.shares.size()))));
            shared = view->path();
            out.views.push_back(std::move(view));
        }
        out.shares.push_back(shared);
        for (const auto& s : {std::string("virtiofs"), tag, dest, flags, std::string()}) put(s);
    }
    return out;
}

}  // namespace microvm
