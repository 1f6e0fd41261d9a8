#include "unpack.hpp"

#include "digest.hpp"
#include "overlay_mount.hpp"

#include <ctr/sys/files.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

namespace image_oci {

namespace {

using ctr::Error;
using ctr::Result;
using ctr::Status;

// ---- fd helpers ---------------------------------------------------------------

using Fd = ctr::sys::UniqueFd;

Error sys_error(const std::string& op, const std::string& path) {
    return ctr::make_error(errno == ENOSPC ? CTR_E_RESOURCE_EXHAUSTED : CTR_E_INTERNAL,
                           op + " \"" + path + "\": " + std::strerror(errno));
}

// A chown to an id our user namespace does not map fails with EINVAL: a
// rootless daemon with only its user's id mapped keeps such files its
// user's (as podman's ignore_chown_errors does). As root it cannot happen.
bool owned(int rc) { return rc == 0 || errno == EINVAL; }

// Every open inside the target goes through this (see unpack.hpp).
using ctr::sys::open_in_root;

// ---- paths from the tar -------------------------------------------------------------

// "./a//b/" -> {"a","b"}; refuses ".." so that no entry names a place above the root.
Result<std::vector<std::string>> split_entry(const std::string& raw) {
    std::vector<std::string> parts;
    std::string cur;
    for (size_t i = 0; i <= raw.size(); ++i) {
        if (i == raw.size() || raw[i] == '/') {
            if (cur == "..")
                return ctr::make_error(CTR_E_INVALID_ARGUMENT, "layer entry \"" + raw + "\" leaves the root (\"..\")");
            if (!cur.empty() && cur != ".") parts.push_back(cur);
            cur.clear();
        } else {
            cur += raw[i];
        }
    }
    return parts;
}

std::string join(const std::vector<std::string>& parts, size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += (i ? "/" : "") + parts[i];
    return s;
}

// The parent directory of an entry, made if missing (mode 0755, root-owned,
// as tar does for implied directories), opened inside the root.
Result<Fd> parent_dir(int root, const std::vector<std::string>& parts, const std::string& raw) {
    for (size_t depth = 1; depth < parts.size(); ++depth) {
        std::string sub = join(parts, depth);
        Fd fd(open_in_root(root, sub, O_PATH | O_DIRECTORY));
        if (fd.valid()) continue;
        if (errno != ENOENT) return sys_error("open parent of", raw);
        Fd up(open_in_root(root, join(parts, depth - 1), O_PATH | O_DIRECTORY));
        if (!up.valid()) return sys_error("open parent of", raw);
        if (::mkdirat(up.get(), parts[depth - 1].c_str(), 0755) != 0 && errno != EEXIST)
            return sys_error("mkdir", sub);
    }
    Fd fd(open_in_root(root, join(parts, parts.size() - 1), O_PATH | O_DIRECTORY));
    if (!fd.valid()) return sys_error("open parent of", raw);
    return fd;
}

// Removes what is at parent/name unless both it and the new entry are
// directories (a directory entry then only updates metadata).
Status clear_place(int parent, const std::string& name, bool new_is_dir, const std::string& raw) {
    struct stat st {};
    if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return ctr::ok();
        return sys_error("stat", raw);
    }
    if (S_ISDIR(st.st_mode)) {
        if (new_is_dir) return ctr::ok();
        if (::unlinkat(parent, name.c_str(), AT_REMOVEDIR) != 0) return sys_error("replace directory", raw);
        return ctr::ok();
    }
    if (::unlinkat(parent, name.c_str(), 0) != 0) return sys_error("replace", raw);
    return ctr::ok();
}

Status apply_xattrs(int fd, archive_entry* e, const std::string& raw) {
    archive_entry_xattr_reset(e);
    const char* name;
    const void* value;
    size_t size;
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
        // overlay's own attributes from an image would forge whiteouts: ignore them.
        if (std::strncmp(name, "trusted.overlay.", 16) == 0) continue;
        if (::fsetxattr(fd, name, value, size, 0) != 0 && errno != ENOTSUP) return sys_error("set xattr on", raw);
    }
    return ctr::ok();
}

bool is_zero(const char* p, size_t n) {
    if (n == 0) return true;
    if (p[0] != 0) return false;
    return std::memcmp(p, p + 1, n - 1) == 0;
}

// libarchive's message, which may be missing.
std::string errstr(archive* a) {
    const char* e = a ? archive_error_string(a) : nullptr;
    return e ? e : "unexpected end or corrupt data";
}

struct DirTime {
    std::string path;
    timespec times[2];
};

// ---- the two-stage reader: decompress (and hash), then read tar -------------------------

struct Stage {
    archive* decompressed = nullptr;  // raw format over the compressed blob
    Sha256 hash;
    int64_t bytes = 0;
    int64_t max_bytes = kNoLayerLimit;
    bool too_big = false;
};

// Stage 1's input: what the magic-byte check read first, then the rest.
struct Source {
    const ReadFn* read;
    std::string head;
    bool head_given = false;
    std::vector<char> buf = std::vector<char>(1 << 17);
};

la_ssize_t read_source(archive*, void* ctx, const void** out) {
    auto* s = static_cast<Source*>(ctx);
    if (!s->head_given && !s->head.empty()) {
        s->head_given = true;
        *out = s->head.data();
        return static_cast<la_ssize_t>(s->head.size());
    }
    ssize_t n = (*s->read)(s->buf.data(), s->buf.size());
    if (n < 0) return -1;
    *out = s->buf.data();
    return n;
}

struct Blocks {
    Stage* stage;
    std::vector<char> buf = std::vector<char>(1 << 17);
};

la_ssize_t read_block(archive*, void* ctx, const void** out) {
    auto* b = static_cast<Blocks*>(ctx);
    la_ssize_t n = archive_read_data(b->stage->decompressed, b->buf.data(), b->buf.size());
    if (n < 0) return -1;
    if (n > b->stage->max_bytes - b->stage->bytes) {
        b->stage->too_big = true;
        return -1;
    }
    b->stage->hash.update(b->buf.data(), static_cast<size_t>(n));
    b->stage->bytes += n;
    *out = b->buf.data();
    return n;
}

}  // namespace

Result<UnpackResult> unpack_layer(const std::filesystem::path& blob, Compression compression,
                                  const std::filesystem::path& target, int64_t max_bytes) {
    Fd f(::open(blob.c_str(), O_RDONLY | O_CLOEXEC));
    if (!f.valid()) return sys_error("open layer", blob.string());
    ReadFn read = [&f](char* buf, size_t n) -> ssize_t {
        ssize_t r;
        do r = ::read(f.get(), buf, n);
        while (r < 0 && errno == EINTR);
        return r;
    };
    return unpack_stream(read, blob.filename().string(), compression, target, max_bytes);
}

Result<UnpackResult> unpack_stream(const ReadFn& read, const std::string& layer_name, Compression compression,
                                   const std::filesystem::path& target, int64_t max_bytes) {
    Fd root(::open(target.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root.valid()) return sys_error("open", target.string());

    // libarchive would pass data that is not compressed through unchanged: the
    // media type must be the truth, so check the magic bytes first.
    Source source{&read};
    if (compression != Compression::none) {
        auto& m = source.head;
        while (m.size() < 4) {
            char c[4];
            ssize_t n = read(c, 4 - m.size());
            if (n <= 0) break;
            m.append(c, static_cast<size_t>(n));
        }
        auto b = [&m](size_t i) { return static_cast<unsigned char>(m[i]); };
        if (m.size() < 4 || (compression == Compression::gzip && !(b(0) == 0x1f && b(1) == 0x8b)) ||
            (compression == Compression::zstd && !(b(0) == 0x28 && b(1) == 0xb5 && b(2) == 0x2f && b(3) == 0xfd)))
            return ctr::make_error(CTR_E_INVALID_ARGUMENT, "layer " + layer_name + " is not " +
                                                               (compression == Compression::gzip ? "gzip" : "zstd") +
                                                               "-compressed as its media type says");
    }

    // Stage 1: the blob, decompressed, as one raw stream.
    Stage stage;
    stage.max_bytes = max_bytes;
    auto too_big = [&] {
        return ctr::make_error(CTR_E_RESOURCE_EXHAUSTED, "layer " + layer_name + " expands past " +
                                                             std::to_string(max_bytes) + " bytes (the image-oci setting max_layer_bytes)");
    };
    std::unique_ptr<archive, int (*)(archive*)> a1(archive_read_new(), archive_read_free);
    stage.decompressed = a1.get();
    switch (compression) {
    case Compression::gzip: archive_read_support_filter_gzip(a1.get()); break;
    case Compression::zstd: archive_read_support_filter_zstd(a1.get()); break;
    case Compression::none: break;
    }
    archive_read_support_format_raw(a1.get());
    if (archive_read_open(a1.get(), &source, nullptr, read_source, nullptr) != ARCHIVE_OK)
        return ctr::make_error(CTR_E_INVALID_ARGUMENT, "open layer " + layer_name + ": " + errstr(a1.get()));
    archive_entry* raw_entry = nullptr;
    if (archive_read_next_header(a1.get(), &raw_entry) != ARCHIVE_OK)
        return ctr::make_error(CTR_E_INVALID_ARGUMENT, "layer " + layer_name + " is not " +
                                                           (compression == Compression::none ? "a tar" : "compressed as its media type says") +
                                                           ": " + errstr(a1.get()));

    // Stage 2: tar over those bytes.
    Blocks blocks{&stage};
    std::unique_ptr<archive, int (*)(archive*)> a2(archive_read_new(), archive_read_free);
    archive_read_support_format_tar(a2.get());
    if (archive_read_open(a2.get(), &blocks, nullptr, read_block, nullptr) != ARCHIVE_OK)
        return ctr::make_error(CTR_E_INVALID_ARGUMENT, std::string("read layer: ") + errstr(a2.get()));

    std::vector<DirTime> dir_times;
    archive_entry* e = nullptr;
    for (;;) {
        int r = archive_read_next_header(a2.get(), &e);
        if (stage.too_big) return too_big();
        if (r == ARCHIVE_EOF) break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
            return ctr::make_error(CTR_E_INVALID_ARGUMENT, std::string("read layer: ") + errstr(a2.get()));
        std::string raw = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
        auto parts = CTR_TRY(split_entry(raw));
        if (parts.empty()) continue;  // the root itself
        Fd parent = CTR_TRY(parent_dir(root.get(), parts, raw));
        const std::string& name = parts.back();

        // Whiteouts become overlayfs whiteouts: an opaque directory or a 0/0 char device.
        if (name == ".wh..wh..opq") {
            Fd dir(open_in_root(root.get(), join(parts, parts.size() - 1), O_RDONLY | O_DIRECTORY));
            if (!dir.valid()) return sys_error("open opaque directory", raw);
            if (::fsetxattr(dir.get(), opaque_xattr(), "y", 1, 0) != 0) return sys_error("mark opaque", raw);
            continue;
        }
        if (name.rfind(".wh.", 0) == 0) {
            std::string hidden = name.substr(4);
            if (hidden.empty() || hidden == "." || hidden == ".." || hidden.find('/') != std::string::npos)
                return ctr::make_error(CTR_E_INVALID_ARGUMENT, "invalid whiteout \"" + raw + "\"");
            CTR_TRY_STATUS(clear_place(parent.get(), hidden, false, raw));
            if (::mknodat(parent.get(), hidden.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) return sys_error("whiteout", raw);
            continue;
        }

        mode_t type = archive_entry_filetype(e);
        mode_t perm = archive_entry_perm(e);
        uid_t uid = static_cast<uid_t>(archive_entry_uid(e));
        gid_t gid = static_cast<gid_t>(archive_entry_gid(e));
        timespec times[2] = {{archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
                             {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};
        const char* hardlink = archive_entry_hardlink(e);
        CTR_TRY_STATUS(clear_place(parent.get(), name, type == AE_IFDIR && !hardlink, raw));

        if (hardlink) {
            auto tparts = CTR_TRY(split_entry(hardlink));
            if (tparts.empty()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "hard link \"" + raw + "\" to the root");
            Fd tparent(open_in_root(root.get(), join(tparts, tparts.size() - 1), O_PATH | O_DIRECTORY));
            if (!tparent.valid()) return sys_error("open hard link target of", raw);
            if (::linkat(tparent.get(), tparts.back().c_str(), parent.get(), name.c_str(), 0) != 0)
                return sys_error("hard link", raw);
            continue;
        }

        switch (type) {
        case AE_IFDIR: {
            if (::mkdirat(parent.get(), name.c_str(), 0700) != 0 && errno != EEXIST) return sys_error("mkdir", raw);
            Fd dir(::openat(parent.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!dir.valid()) return sys_error("open directory", raw);
            if (!owned(::fchown(dir.get(), uid, gid))) return sys_error("chown", raw);
            if (::fchmod(dir.get(), perm) != 0) return sys_error("chmod", raw);
            CTR_TRY_STATUS(apply_xattrs(dir.get(), e, raw));
            dir_times.push_back({join(parts, parts.size()), {times[0], times[1]}});
            break;
        }
        case AE_IFREG: {
            Fd f(::openat(parent.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
            if (!f.valid()) return sys_error("create", raw);
            const void* buf;
            size_t size;
            la_int64_t offset;
            int rr;
            while ((rr = archive_read_data_block(a2.get(), &buf, &size, &offset)) == ARCHIVE_OK) {
                const char* p = static_cast<const char*>(buf);
                // Runs of zeros are left as holes (ftruncate below sets the size):
                // layers carry sparse files as plain zeros, and disk is not free.
                if (is_zero(p, size)) continue;
                size_t done = 0;
                while (done < size) {  // pwrite keeps sparse holes as holes
                    ssize_t n = ::pwrite(f.get(), p + done, size - done, offset + static_cast<off_t>(done));
                    if (n < 0 && errno == EINTR) continue;
                    if (n < 0) return sys_error("write", raw);
                    done += static_cast<size_t>(n);
                }
            }
            if (stage.too_big) return too_big();
            if (rr != ARCHIVE_EOF)
                return ctr::make_error(CTR_E_INVALID_ARGUMENT, "read layer entry \"" + raw + "\": " + errstr(a2.get()));
            if (::ftruncate(f.get(), archive_entry_size(e)) != 0) return sys_error("size", raw);
            if (!owned(::fchown(f.get(), uid, gid))) return sys_error("chown", raw);
            if (::fchmod(f.get(), perm) != 0) return sys_error("chmod", raw);
            CTR_TRY_STATUS(apply_xattrs(f.get(), e, raw));
            if (::futimens(f.get(), times) != 0) return sys_error("set times of", raw);
            break;
        }
        case AE_IFLNK: {
            const char* to = archive_entry_symlink(e);
            if (::symlinkat(to ? to : "", parent.get(), name.c_str()) != 0) return sys_error("symlink", raw);
            if (!owned(::fchownat(parent.get(), name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW))) return sys_error("chown", raw);
            if (::utimensat(parent.get(), name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) return sys_error("set times of", raw);
            break;
        }
        case AE_IFCHR: case AE_IFBLK: case AE_IFIFO: {
            dev_t dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
            if (::mknodat(parent.get(), name.c_str(), type | perm, dev) != 0) {
                // A user namespace may not make devices; a container's /dev
                // is its own tmpfs anyway, so a rootless unpack goes without.
                if (errno == EPERM && type != AE_IFIFO) continue;
                return sys_error("mknod", raw);
            }
            if (!owned(::fchownat(parent.get(), name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW))) return sys_error("chown", raw);
            if (::fchmodat(parent.get(), name.c_str(), perm, 0) != 0) return sys_error("chmod", raw);
            if (::utimensat(parent.get(), name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) return sys_error("set times of", raw);
            break;
        }
        default:
            return ctr::make_error(CTR_E_INVALID_ARGUMENT, "layer entry \"" + raw + "\" has an unsupported type");
        }
    }

    // Directory times last: creating their children changed them.
    for (auto it = dir_times.rbegin(); it != dir_times.rend(); ++it) {
        Fd dir(open_in_root(root.get(), it->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
        if (dir.valid()) ::futimens(dir.get(), it->times);
    }
    // The tar reader may stop before the end-of-archive padding: hash the rest too.
    const void* rest;
    while (true) {
        la_ssize_t n = read_block(nullptr, &blocks, &rest);
        if (n < 0) return ctr::make_error(CTR_E_INVALID_ARGUMENT, std::string("read layer: ") + errstr(a1.get()));
        if (n == 0) break;
    }
    return UnpackResult{stage.hash.digest(), stage.bytes};
}

}  // namespace image_oci
