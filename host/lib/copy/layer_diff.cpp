#include "copy/layer_diff.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

namespace ctr::copy {

namespace fs = std::filesystem;

namespace {

struct WriteFree {
    void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
    void operator()(archive_entry* e) const { archive_entry_free(e); }
};
struct ResolverFree {
    void operator()(archive_entry_linkresolver* r) const { archive_entry_linkresolver_free(r); }
};

// The xattrs a layer keeps: all but overlay's own bookkeeping.
void add_xattrs(archive_entry* e, const fs::path& path) {
    ssize_t size = ::llistxattr(path.c_str(), nullptr, 0);
    if (size <= 0) return;
    std::vector<char> names(static_cast<size_t>(size));
    size = ::llistxattr(path.c_str(), names.data(), names.size());
    for (ssize_t i = 0; i < size; i += static_cast<ssize_t>(std::strlen(names.data() + i)) + 1) {
        std::string name = names.data() + i;
        if (name.rfind("trusted.overlay.", 0) == 0) continue;
        ssize_t vs = ::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
        if (vs < 0) continue;
        std::vector<char> value(static_cast<size_t>(vs) + 1);
        vs = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
        if (vs >= 0) archive_entry_xattr_add_entry(e, name.c_str(), value.data(), static_cast<size_t>(vs));
    }
}

class LayerWriter {
public:
    LayerWriter(archive* a, const SkipEntry& skip) : a_(a), skip_(skip), resolver_(archive_entry_linkresolver_new()) {
        archive_entry_linkresolver_set_strategy(resolver_.get(), ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
    }

    Status tree(const fs::path& dir, const std::string& rel) {
        for (const auto& e : CTR_TRY(upper_entries(dir, rel, skip_))) {
            if (is_whiteout(e.st)) {
                CTR_TRY_STATUS(whiteout(rel.empty() ? ".wh." + e.name : rel + "/.wh." + e.name, e.st));
                continue;
            }
            CTR_TRY_STATUS(entry(e.path, e.rel, e.st));
            if (S_ISDIR(e.st.st_mode)) {
                if (is_opaque(e.path)) CTR_TRY_STATUS(whiteout(e.rel + "/.wh..wh..opq", e.st));
                CTR_TRY_STATUS(tree(e.path, e.rel));
            }
        }
        return ok();
    }

private:
    Status check(int r, const std::string& what) {
        if (r < ARCHIVE_WARN) return make_error(CTR_E_INTERNAL, "write layer (" + what + "): " + archive_error_string(a_));
        return ok();
    }

    Status whiteout(const std::string& name, const struct stat& st) {
        std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
        archive_entry_set_pathname(e.get(), name.c_str());
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_perm(e.get(), 0);
        archive_entry_set_size(e.get(), 0);
        archive_entry_set_mtime(e.get(), st.st_mtim.tv_sec, 0);
        return check(archive_write_header(a_, e.get()), name);
    }

    Status entry(const fs::path& path, const std::string& name, const struct stat& st) {
        std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
        archive_entry_copy_stat(e.get(), &st);
        archive_entry_set_pathname(e.get(), name.c_str());
        archive_entry_set_uname(e.get(), "");
        archive_entry_set_gname(e.get(), "");
        if (S_ISLNK(st.st_mode)) {
            std::error_code ec;
            auto target = fs::read_symlink(path, ec);
            if (ec) return make_error(CTR_E_INTERNAL, "readlink \"" + path.string() + "\": " + ec.message());
            archive_entry_set_symlink(e.get(), target.c_str());
        }
        add_xattrs(e.get(), path);
        archive_entry* raw = e.release();
        archive_entry* spare = nullptr;
        archive_entry_linkify(resolver_.get(), &raw, &spare);
        std::unique_ptr<archive_entry, EntryFree> owned(raw), spare_owned(spare);
        if (!raw) return ok();
        CTR_TRY_STATUS(check(archive_write_header(a_, raw), name));
        if (S_ISREG(st.st_mode) && archive_entry_size(raw) > 0) CTR_TRY_STATUS(data(path));
        return ok();
    }

    Status data(const fs::path& path) {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) return make_error(CTR_E_INTERNAL, "open \"" + path.string() + "\": " + std::strerror(errno));
        char buf[1 << 16];
        ssize_t n;
        Status st;
        while ((n = ::read(fd, buf, sizeof buf)) > 0)
            if (archive_write_data(a_, buf, static_cast<size_t>(n)) < 0) {
                st = make_error(CTR_E_INTERNAL, std::string("write layer: ") + archive_error_string(a_));
                break;
            }
        ::close(fd);
        return st;
    }

    archive* a_;
    const SkipEntry& skip_;
    std::unique_ptr<archive_entry_linkresolver, ResolverFree> resolver_;
};

}  // namespace

bool is_whiteout(const struct stat& st) { return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0); }

bool is_opaque(const fs::path& dir) {
    // trusted.* as root's overlay marks it; user.* in a user namespace (a
    // rootless daemon's, which cannot set trusted ones); fuse-overlayfs's
    // own mark there, beside the files it also leaves (upper_entries).
    for (const char* name : {"trusted.overlay.opaque", "user.overlay.opaque", "user.fuseoverlayfs.opaque"}) {
        char v[4] = {};
        if (::lgetxattr(dir.c_str(), name, v, sizeof v) == 1 && v[0] == 'y') return true;
    }
    return false;
}

Result<std::vector<UpperEntry>> upper_entries(const fs::path& dir, const std::string& rel, const SkipEntry& skip) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) names.push_back(e.path().filename().string());
    if (ec) return make_error(CTR_E_INTERNAL, "read \"" + dir.string() + "\": " + ec.message());
    std::sort(names.begin(), names.end());
    std::vector<UpperEntry> out;
    for (const auto& name : names) {
        UpperEntry e{name, rel.empty() ? name : rel + "/" + name, dir / name, {}};
        if (::lstat(e.path.c_str(), &e.st) != 0) return make_error(CTR_E_INTERNAL, "stat \"" + e.path.string() + "\": " + std::strerror(errno));
        if (skip && skip(e.rel, e.st)) continue;
        // fuse-overlayfs marks an opaque directory in a user namespace with
        // these two entries too (a file and a whiteout); the directory's
        // xattr says it (is_opaque), they are no change of the container's.
        if (name == ".wh..wh..opq" || (name == ".wh..opq" && is_whiteout(e.st))) continue;
        out.push_back(std::move(e));
    }
    return out;
}

Result<int64_t> write_layer(const fs::path& upper, const fs::path& out, const SkipEntry& skip) {
    std::unique_ptr<archive, WriteFree> a(archive_write_new());
    archive_write_set_format_pax_restricted(a.get());
    if (archive_write_open_filename(a.get(), out.c_str()) != ARCHIVE_OK)
        return make_error(CTR_E_INTERNAL, "create \"" + out.string() + "\": " + archive_error_string(a.get()));
    LayerWriter w(a.get(), skip);
    CTR_TRY_STATUS(w.tree(upper, ""));
    if (archive_write_close(a.get()) != ARCHIVE_OK)
        return make_error(CTR_E_INTERNAL, "close \"" + out.string() + "\": " + archive_error_string(a.get()));
    std::error_code ec;
    return static_cast<int64_t>(fs::file_size(out, ec));
}

}  // namespace ctr::copy
