#include "copy/tar_tree.hpp"

#include <ctr/sys/files.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace ctr::copy {

namespace fs = std::filesystem;

namespace {

struct ReaderFree {
    void operator()(archive* a) const { archive_read_free(a); }
};
struct WriterFree {
    void operator()(archive* a) const { archive_write_free(a); }  // closes too
};
using Reader = std::unique_ptr<archive, ReaderFree>;
using Writer = std::unique_ptr<archive, WriterFree>;

struct EntryFree {
    void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using EntryPtr = std::unique_ptr<archive_entry, EntryFree>;

struct ResolverFree {
    void operator()(archive_entry_linkresolver* r) const { archive_entry_linkresolver_free(r); }
};

Error archive_failure(const std::string& what, archive* a) {
    const char* msg = archive_error_string(a);
    return make_error(CTR_E_INTERNAL, what + ": " + (msg ? msg : "archive error"));
}

// "a/b/" and "a/b/." are the tree "a/b"; "/" stays.
std::string normalize_top(std::string p) {
    for (;;) {
        if (p.size() > 1 && p.back() == '/') p.pop_back();
        else if (p.size() > 2 && p.compare(p.size() - 2, 2, "/.") == 0) p.resize(p.size() - 2);
        else return p;
    }
}

// Restores the current directory when extraction is done.
class CwdGuard {
public:
    CwdGuard() : fd_(::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {}
    ~CwdGuard() {
        if (fd_.get() >= 0) (void)!::fchdir(fd_.get());
    }

private:
    sys::UniqueFd fd_;
};

// A name from the stream, made relative: "./a/b" and "a/b" give "a/b", "."
// gives "". Absolute names and ".." anywhere are refused.
Result<std::string> relative_name(const char* raw) {
    std::string name = raw ? raw : "";
    if (name.empty() || name.front() == '/') return make_error(CTR_E_INVALID_ARGUMENT, "unsafe name in the archive: \"" + name + "\"");
    std::string out;
    size_t i = 0;
    while (i <= name.size()) {
        size_t j = name.find('/', i);
        if (j == std::string::npos) j = name.size();
        std::string part = name.substr(i, j - i);
        if (part == "..") return make_error(CTR_E_INVALID_ARGUMENT, "unsafe name in the archive: \"" + name + "\"");
        if (!part.empty() && part != ".") out += (out.empty() ? "" : "/") + part;
        i = j + 1;
    }
    return out;
}

Kind kind_of_entry(archive_entry* e) {
    switch (archive_entry_filetype(e)) {
        case AE_IFDIR: return Kind::dir;
        case AE_IFREG: return Kind::file;
        case AE_IFLNK: return Kind::symlink;
        default: return Kind::other;
    }
}

Status copy_data(archive* in, archive* out, const std::string& name) {
    for (;;) {
        const void* buf = nullptr;
        size_t size = 0;
        la_int64_t offset = 0;
        int r = archive_read_data_block(in, &buf, &size, &offset);
        if (r == ARCHIVE_EOF) return ok();
        if (r < ARCHIVE_WARN) return archive_failure("read \"" + name + "\"", in);
        if (archive_write_data_block(out, buf, size, offset) < ARCHIVE_WARN) return archive_failure("write \"" + name + "\"", out);
    }
}

}  // namespace

Kind kind_of(const fs::path& path, bool follow) {
    struct stat st {};
    int r = follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st);
    if (r != 0) return Kind::missing;
    if (S_ISDIR(st.st_mode)) return Kind::dir;
    if (S_ISREG(st.st_mode)) return Kind::file;
    if (S_ISLNK(st.st_mode)) return Kind::symlink;
    return Kind::other;
}

Status write_tree(const fs::path& top_path, const WriteOptions& o, const Sink& out) {
    const std::string top = normalize_top(top_path.string());
    Reader disk(archive_read_disk_new());
    int behavior = ARCHIVE_READDISK_NO_XATTR;
    if (!o.cross_mounts) behavior |= ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS;
    archive_read_disk_set_behavior(disk.get(), behavior);
    // Hybrid: the top itself is followed when it is a link, nothing below it.
    if (o.follow) archive_read_disk_set_symlink_hybrid(disk.get());
    else archive_read_disk_set_symlink_physical(disk.get());

    Writer tar(archive_write_new());
    archive_write_set_format_pax_restricted(tar.get());
    archive_write_set_bytes_in_last_block(tar.get(), 1);
    struct Ctx {
        const Sink* out;
        bool gone = false;
    } ctx{&out};
    archive_write_open(
        tar.get(), &ctx, nullptr,
        [](archive*, void* p, const void* buf, size_t n) -> la_ssize_t {
            auto* c = static_cast<Ctx*>(p);
            if (c->gone || !(*c->out)(std::string_view(static_cast<const char*>(buf), n))) {
                c->gone = true;
                return -1;
            }
            return static_cast<la_ssize_t>(n);
        },
        nullptr);
    std::unique_ptr<archive_entry_linkresolver, ResolverFree> links(archive_entry_linkresolver_new());
    archive_entry_linkresolver_set_strategy(links.get(), archive_format(tar.get()));

    auto entries = [&]() -> Status {
        if (archive_read_disk_open(disk.get(), top.c_str()) != ARCHIVE_OK) return archive_failure("read \"" + top + "\"", disk.get());
        const std::string root_name = o.prefix.empty() ? "." : o.prefix;
        EntryPtr e(archive_entry_new());
        for (;;) {
            archive_entry_clear(e.get());
            int r = archive_read_next_header2(disk.get(), e.get());
            if (r == ARCHIVE_EOF) break;
            if (r < ARCHIVE_WARN) return archive_failure("read \"" + top + "\"", disk.get());
            archive_read_disk_descend(disk.get());
            const std::string source = archive_entry_pathname(e.get());
            std::string rel;
            if (source.size() > top.size()) rel = source.substr(top == "/" ? 1 : top.size() + 1);
            std::string name = rel.empty() ? root_name : o.prefix.empty() ? rel : o.prefix + "/" + rel;
            archive_entry_set_pathname(e.get(), name.c_str());
            // Several names of one file: the first carries the data, the rest link to it.
            archive_entry* entry = e.get();
            archive_entry* spare = nullptr;
            archive_entry_linkify(links.get(), &entry, &spare);
            if (!entry) continue;  // deferred by the resolver (not with tar's strategy)
            if (archive_write_header(tar.get(), entry) < ARCHIVE_WARN) {
                if (ctx.gone) return ok();
                return archive_failure("write \"" + name + "\"", tar.get());
            }
            if (archive_entry_filetype(entry) == AE_IFREG && archive_entry_size(entry) > 0 && !archive_entry_hardlink(entry)) {
                // Only the top may be a followed link (cp -L); below it, links are never opened.
                int nofollow = rel.empty() && o.follow ? 0 : O_NOFOLLOW;
                sys::UniqueFd fd(::open(source.c_str(), O_RDONLY | nofollow | O_CLOEXEC));
                if (fd.get() < 0) return sys::errno_error("open", source, errno);
                char buf[65536];
                ssize_t n;
                la_int64_t left = archive_entry_size(entry);
                while (left > 0 && (n = ::read(fd.get(), buf, sizeof buf)) > 0) {
                    // A file that grew while we read is cut at the size in its header.
                    size_t take = static_cast<size_t>(std::min<la_int64_t>(n, left));
                    if (archive_write_data(tar.get(), buf, take) < 0) return ctx.gone ? ok() : archive_failure("write \"" + name + "\"", tar.get());
                    left -= static_cast<la_int64_t>(take);
                }
            }
            if (spare) archive_entry_free(spare);
        }
        if (archive_write_close(tar.get()) != ARCHIVE_OK && !ctx.gone) return archive_failure("write the archive", tar.get());
        return ok();
    };
    Status st = entries();
    // A tree that could not be read whole must not look whole: the stream
    // stops here, cut inside the entry, and its reader reports it truncated.
    if (!st) ctx.gone = true;
    return st;
}

Status extract_tree(int fd, const ExtractOptions& o) {
    Reader in(archive_read_new());
    archive_read_support_format_tar(in.get());
    archive_read_support_filter_all(in.get());
    if (archive_read_open_fd(in.get(), fd, 65536) != ARCHIVE_OK) return archive_failure("read the archive", in.get());

    Writer disk(archive_write_disk_new());
    int flags = ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
                ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM;
    if (o.keep_owner) flags |= ARCHIVE_EXTRACT_OWNER;
    archive_write_disk_set_options(disk.get(), flags);  // numeric owners only: no name lookups

    CwdGuard restore;
    archive_entry* e = nullptr;
    int r = archive_read_next_header(in.get(), &e);
    if (r == ARCHIVE_EOF) return o.raw ? ok() : make_error(CTR_E_INVALID_ARGUMENT, "the archive is empty");
    if (r < ARCHIVE_WARN) return archive_failure("read the archive", in.get());

    // Where names land: entries are made relative to `base` (the current
    // directory, moved to the destination's real parent), below `top`.
    std::string top;
    bool skip_root = false;
    if (o.raw) {
        if (kind_of(o.dest, true) != Kind::dir)
            return make_error(CTR_E_NOT_FOUND, "destination \"" + o.dest + "\" must be an existing directory");
        if (::chdir(o.dest.c_str()) != 0) return sys::errno_error("chdir", o.dest, errno);
    } else {
        auto root = CTR_TRY(relative_name(archive_entry_pathname(e)));
        if (!root.empty()) return make_error(CTR_E_INVALID_ARGUMENT, "the archive does not start with its top entry \".\"");
        auto placed = CTR_TRY(place(kind_of_entry(e), o.src, kind_of(o.dest, true), o.dest));
        if (placed.onto_dir) {
            if (::chdir(placed.path.c_str()) != 0) return sys::errno_error("chdir", placed.path, errno);
            skip_root = true;  // the existing directory keeps its own mode and owner
        } else {
            fs::path target(placed.path);
            fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
            if (kind_of(parent, true) != Kind::dir) return make_error(CTR_E_NOT_FOUND, "\"" + parent.string() + "\": no such directory");
            if (::chdir(parent.c_str()) != 0) return sys::errno_error("chdir", parent, errno);
            top = target.filename().string();
        }
    }
    auto land = [&](const char* raw) -> Result<std::string> {
        std::string rel = CTR_TRY(relative_name(raw));
        if (o.raw) return rel.empty() ? std::string(".") : rel;
        if (top.empty()) return rel.empty() ? std::string(".") : rel;
        return rel.empty() ? top : top + "/" + rel;
    };
    for (bool first = true;; first = false) {
        if (!first) {
            r = archive_read_next_header(in.get(), &e);
            if (r == ARCHIVE_EOF) break;
            if (r < ARCHIVE_WARN) return archive_failure("read the archive", in.get());
        }
        const std::string original = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
        auto name = CTR_TRY(land(original.c_str()));
        if (name == "." && (skip_root || o.raw)) continue;
        archive_entry_set_pathname(e, name.c_str());
        if (const char* link = archive_entry_hardlink(e)) {
            auto target = CTR_TRY(land(link));
            archive_entry_set_hardlink(e, target.c_str());
        }
        if (archive_write_header(disk.get(), e) < ARCHIVE_WARN) return archive_failure("\"" + original + "\"", disk.get());
        if (archive_entry_size(e) > 0) CTR_TRY_STATUS(copy_data(in.get(), disk.get(), original));
        if (archive_write_finish_entry(disk.get()) < ARCHIVE_WARN) return archive_failure("\"" + original + "\"", disk.get());
    }
    if (archive_write_close(disk.get()) != ARCHIVE_OK) return archive_failure("finish", disk.get());
    return ok();
}

}  // namespace ctr::copy
