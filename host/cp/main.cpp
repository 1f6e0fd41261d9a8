// container-cp: the daemon's hands for `cp`. It runs as a program of its own
// (the daemon never forks without exec) and does its file work from inside
// the container's root: a running container's mount namespace, or a stopped
// one's root filesystem. Paths, "..", absolute symlinks, all resolve inside
// that root, so a container cannot point the copy at the host's files.
//
//   container-cp (--pid PID | --rootfs DIR [--binds JSON]) stat PATH [--follow]
//       prints {"kind", "size", "mode", "mtime", "link_target"} of PATH
//   container-cp ... out PATH [--follow] [--prefix NAME | --no-prefix]
//       writes PATH as a tar to stdout, its top entry named NAME (".");
//       --no-prefix: entries named from PATH, as export names them
//   container-cp ... in --src SRC --dest DEST [--archive] [--raw]
//       reads a tar (top entry ".", or any with --raw) from stdin and places
//       it at DEST by cp's rules, as SRC was named
//
// Errors: one line on stderr; exit code 2 when a path is missing, else 1.
#include "copy/tar_tree.hpp"
#include <ctr/sys/files.hpp>
#include <ctr/sys/io.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <iconv.h>
#include <sys/mount.h>
#include <langinfo.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace {

using namespace ctr;

// glibc loads its charset conversion tables (and could load conversion
// modules) the first time they are needed, from the root it sees then. Make
// that happen now, from the host's root: libarchive converts names later,
// when the root is the container's, whose files we do not trust.
void load_charsets_from_host() {
    const char* here = nl_langinfo(CODESET);
    for (const char* to : {"UTF-8", here}) {
        for (const char* from : {"UTF-8", here}) {
            iconv_t cd = ::iconv_open(to, from);
            if (cd != reinterpret_cast<iconv_t>(-1)) ::iconv_close(cd);
        }
    }
}

// A stopped container's binds (its volumes, /etc/hosts, /etc/resolv.conf,
// /etc/hostname) put back on its root filesystem, in a mount namespace of
// our own, so that cp sees what the container saw. Each target is resolved
// inside the root (openat2 RESOLVE_IN_ROOT): a symlink the image planted
// cannot send a bind onto the host's files.
Status bind_into(const std::string& rootfs, const nlohmann::json& binds) {
    if (binds.empty()) return ok();
    if (::unshare(CLONE_NEWNS) != 0) return sys::errno_error("unshare", "mount namespace", errno);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return sys::errno_error("mount", "/ private", errno);
    sys::UniqueFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root.valid()) return sys::errno_error("open", rootfs, errno);
    for (const auto& b : binds) {
        std::string source = b.value("source", ""), destination = b.value("destination", "");
        sys::UniqueFd target = sys::open_in_root(root.get(), destination, O_PATH);
        if (!target.valid()) continue;  // no mount point in the root: the container did not see it either
        std::string at = "/proc/self/fd/" + std::to_string(target.get());
        if (::mount(source.c_str(), at.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) continue;
        if (b.value("read_only", false)) (void)::mount(nullptr, at.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr);
    }
    return ok();
}

Status enter(int64_t pid, const std::string& rootfs, const nlohmann::json& binds) {
    load_charsets_from_host();
    if (pid <= 0) CTR_TRY_STATUS(bind_into(rootfs, binds));
    if (pid > 0) {
        std::string proc = "/proc/" + std::to_string(pid);
        sys::UniqueFd root(::open((proc + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!root.valid()) return sys::errno_error("open", proc + "/root", errno);
        sys::UniqueFd ns(::open((proc + "/ns/mnt").c_str(), O_RDONLY | O_CLOEXEC));
        if (!ns.valid()) return sys::errno_error("open", proc + "/ns/mnt", errno);
        if (::setns(ns.get(), CLONE_NEWNS) != 0) return sys::errno_error("setns", proc + "/ns/mnt", errno);
        // The namespace's root mount is not always the container's root (pivot_root):
        // the process's own root is.
        if (::fchdir(root.get()) != 0) return sys::errno_error("fchdir", proc + "/root", errno);
    } else if (::chdir(rootfs.c_str()) != 0) {
        return sys::errno_error("chdir", rootfs, errno);
    }
    if (::chroot(".") != 0) return sys::errno_error("chroot", ".", errno);
    if (::chdir("/") != 0) return sys::errno_error("chdir", "/", errno);
    return ok();
}

nlohmann::json stat_json(const std::string& path, bool follow) {
    struct stat st {};
    int r = follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st);
    if (r != 0) return {{"kind", "missing"}};
    nlohmann::json j = {{"kind", copy::kind_name(copy::kind_of(path, follow))},
                        {"size", static_cast<int64_t>(st.st_size)},
                        {"mode", static_cast<int64_t>(st.st_mode & 07777)},
                        {"mtime", static_cast<int64_t>(st.st_mtime)}};
    if (S_ISLNK(st.st_mode)) {
        char buf[4096];
        ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
        if (n >= 0) j["link_target"] = std::string(buf, static_cast<size_t>(n));
    }
    return j;
}

int fail(const Error& e) {
    std::fprintf(stderr, "%s\n", e.message.c_str());
    return e.status == CTR_E_NOT_FOUND ? 2 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"container-cp: copies files into and out of a container's root"};
    int64_t pid = 0;
    std::string rootfs, path, src, dest, prefix = ".";
    bool follow = false, archive = false, raw = false;
    app.add_option("--pid", pid, "a running container's process");
    app.add_option("--rootfs", rootfs, "a stopped container's root filesystem");
    std::string binds_text = "[]";
    app.add_option("--binds", binds_text, "with --rootfs: [{source, destination, read_only}] to bind on it first");
    app.require_subcommand(1);
    auto* st = app.add_subcommand("stat", "describe PATH");
    st->add_option("path", path)->required();
    st->add_flag("--follow", follow);
    auto* out = app.add_subcommand("out", "PATH as a tar on stdout");
    out->add_option("path", path)->required();
    out->add_flag("--follow", follow);
    bool no_prefix = false;
    out->add_option("--prefix", prefix);
    out->add_flag("--no-prefix", no_prefix, "entries named from PATH (\"etc/hosts\"), as export names them");
    auto* in = app.add_subcommand("in", "a tar from stdin to DEST");
    in->add_option("--src", src);
    in->add_option("--dest", dest)->required();
    in->add_flag("--archive", archive);
    in->add_flag("--raw", raw);
    CLI11_PARSE(app, argc, argv);
    if ((pid > 0) == !rootfs.empty()) return fail(make_error(CTR_E_INVALID_ARGUMENT, "give one of --pid and --rootfs"));
    auto binds = nlohmann::json::parse(binds_text, nullptr, false);
    if (!binds.is_array()) return fail(make_error(CTR_E_INVALID_ARGUMENT, "--binds: not a json array"));
    if (auto entered = enter(pid, rootfs, binds); !entered) return fail(entered.error());

    if (st->parsed()) {
        std::cout << stat_json(path, follow).dump() << "\n";
        return 0;
    }
    if (out->parsed()) {
        copy::WriteOptions o;
        o.prefix = no_prefix ? "" : prefix;
        o.follow = follow;
        auto written = copy::write_tree(path, o, [](std::string_view d) { return sys::write_all(1, d); });
        return written ? 0 : fail(written.error());
    }
    copy::ExtractOptions o;
    o.src = src;
    o.dest = dest;
    o.raw = raw;
    o.keep_owner = archive;
    auto extracted = copy::extract_tree(0, o);
    return extracted ? 0 : fail(extracted.error());
}
