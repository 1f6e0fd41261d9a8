#include "apiserver/build/build_context.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>

namespace ctr::apiserver::build {

namespace fs = std::filesystem;

Hasher::Hasher() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr); }
Hasher::~Hasher() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }
void Hasher::update(const void* data, size_t n) { EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, n); }
std::string Hasher::hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), md, &len);
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        out += digits[md[i] >> 4];
        out += digits[md[i] & 15];
    }
    return out;
}

std::string sha256_hex(const std::string& s) {
    Hasher h;
    h.update(s);
    return h.hex();
}

namespace {

// A relative path with "." and ".." resolved lexically; nullopt when it
// climbs above its start.
std::optional<std::string> clean_relative(const std::string& p) {
    std::vector<std::string> parts;
    size_t i = 0;
    while (i <= p.size()) {
        size_t j = p.find('/', i);
        if (j == std::string::npos) j = p.size();
        std::string part = p.substr(i, j - i);
        if (part == "..") {
            if (parts.empty()) return std::nullopt;
            parts.pop_back();
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        i = j + 1;
    }
    std::string out;
    for (const auto& part : parts) out += (out.empty() ? "" : "/") + part;
    return out;
}


struct WriteFree {
    void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
    void operator()(archive_entry* e) const { archive_entry_free(e); }
};

// Every entry below `dir` (sorted, recursive), as paths relative to the context.
// `descend`: an ignored folder is still searched (a '!' rule may bring back
// something in it); it is not visited itself.
void walk(const fs::path& dir, const std::string& rel, const std::function<bool(const std::string&)>& skip,
          const std::function<void(const fs::path&, const std::string&, const struct stat&)>& visit, bool descend = false) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
        fs::path p = dir / n;
        std::string r = rel.empty() ? n : rel + "/" + n;
        struct stat st {};
        if (::lstat(p.c_str(), &st) != 0) continue;
        if (skip(r)) {
            if (descend && S_ISDIR(st.st_mode)) walk(p, r, skip, visit, descend);
            continue;
        }
        visit(p, r, st);
        if (S_ISDIR(st.st_mode)) walk(p, r, skip, visit, descend);
    }
}

struct ReadFree {
    void operator()(archive* a) const { archive_read_free(a); }
};

// ADD's rule: a local tar (plain or compressed) is unpacked under `dest`,
// its names kept inside it ("..", absolute names refused). False when the
// file is no tar (it is copied as it is then).
Result<bool> append_archive(archive* out, const fs::path& file, const std::string& dest, long uid, long gid) {
    std::unique_ptr<archive, ReadFree> in(archive_read_new());
    archive_read_support_format_tar(in.get());
    archive_read_support_format_gnutar(in.get());
    for (auto f : {archive_read_support_filter_gzip, archive_read_support_filter_bzip2, archive_read_support_filter_xz,
                   archive_read_support_filter_zstd})
        f(in.get());
    if (archive_read_open_filename(in.get(), file.c_str(), 1 << 16) != ARCHIVE_OK) return false;
    archive_entry* e = nullptr;
    int r = archive_read_next_header(in.get(), &e);
    if (r != ARCHIVE_OK) return false;  // not a tar: a plain file
    auto under = [&dest](const std::string& name) -> std::optional<std::string> {
        if (!name.empty() && name[0] == '/') return std::nullopt;
        auto clean = clean_relative(name);
        if (!clean) return std::nullopt;
        return dest.empty() ? *clean : clean->empty() ? dest : dest + "/" + *clean;
    };
    for (; r == ARCHIVE_OK; r = archive_read_next_header(in.get(), &e)) {
        auto name = under(archive_entry_pathname(e));
        if (!name) return make_error(CTR_E_PERMISSION_DENIED, "ADD " + file.filename().string() + ": unsafe name \"" + archive_entry_pathname(e) + "\" in the archive");
        if (name->empty()) continue;
        archive_entry_set_pathname(e, name->c_str());
        if (const char* link = archive_entry_hardlink(e)) {
            auto target = under(link);
            if (!target) return make_error(CTR_E_PERMISSION_DENIED, "ADD " + file.filename().string() + ": unsafe link in the archive");
            archive_entry_set_hardlink(e, target->c_str());
        }
        if (uid >= 0) archive_entry_set_uid(e, uid);
        if (gid >= 0) archive_entry_set_gid(e, gid);
        if (archive_write_header(out, e) < ARCHIVE_WARN) return make_error(CTR_E_INTERNAL, std::string("write the copy: ") + archive_error_string(out));
        const void* buf;
        size_t size;
        la_int64_t off;
        while (archive_read_data_block(in.get(), &buf, &size, &off) == ARCHIVE_OK) archive_write_data(out, buf, size);
    }
    if (r != ARCHIVE_EOF) return make_error(CTR_E_INVALID_ARGUMENT, "ADD " + file.filename().string() + ": " + archive_error_string(in.get()));
    return true;
}

}  // namespace

Result<std::vector<Source>> Context::sources(const std::string& pattern) const {
    if (root_.empty()) return make_error(CTR_E_INVALID_ARGUMENT, "COPY " + pattern + ": this build has no context (the Dockerfile came on stdin)");
    auto clean = clean_relative(pattern);
    if (!clean) return make_error(CTR_E_PERMISSION_DENIED, "COPY " + pattern + ": the path leads outside the build context");
    std::vector<std::string> found;
    if (clean->find_first_of("*?[") == std::string::npos) {
        found.push_back(*clean);
    } else {
        // Level by level: each part of the pattern against the entries there.
        std::vector<std::string> level = {""};
        std::vector<std::string> parts;
        for (size_t i = 0, j; i <= clean->size(); i = j + 1) {
            j = clean->find('/', i);
            if (j == std::string::npos) j = clean->size();
            parts.push_back(clean->substr(i, j - i));
        }
        for (const auto& part : parts) {
            std::vector<std::string> next;
            for (const auto& base : level) {
                std::error_code ec;
                std::vector<std::string> names;
                for (const auto& e : fs::directory_iterator(root_ / base, ec)) names.push_back(e.path().filename().string());
                std::sort(names.begin(), names.end());
                for (const auto& n : names)
                    if (::fnmatch(part.c_str(), n.c_str(), FNM_PATHNAME) == 0) next.push_back(base.empty() ? n : base + "/" + n);
            }
            level = std::move(next);
        }
        found = level;
    }
    std::vector<Source> out;
    std::error_code ec;
    fs::path canonical_root = fs::canonical(root_, ec);
    for (const auto& rel : found) {
        if (ignored(rel)) continue;
        fs::path p = root_ / rel;
        // A symlink on the way may lead anywhere: what it resolves to must stay inside.
        fs::path real = fs::weakly_canonical(p, ec);
        std::string r = real.string(), base = canonical_root.string();
        if (ec || (r != base && r.rfind(base + "/", 0) != 0))
            return make_error(CTR_E_PERMISSION_DENIED, "COPY " + pattern + ": \"" + rel + "\" leads outside the build context");
        struct stat st {};
        if (::stat(real.c_str(), &st) != 0) continue;
        out.push_back(Source{real, rel.empty() ? "." : rel, S_ISDIR(st.st_mode)});
    }
    if (out.empty()) return make_error(CTR_E_NOT_FOUND, "COPY " + pattern + ": no such file or directory in the build context");
    return out;
}

Result<std::string> Context::digest(const std::vector<Source>& sources) const {
    Hasher h;
    auto add = [&](const fs::path& p, const std::string& name, const struct stat& st) {
        std::string meta = name + '\0' + std::to_string(st.st_mode) + '\0' + std::to_string(st.st_uid) + '\0' +
                           std::to_string(st.st_gid) + '\0' + std::to_string(S_ISREG(st.st_mode) ? st.st_size : 0) + '\0';
        if (S_ISLNK(st.st_mode)) {
            std::error_code ec;
            meta += fs::read_symlink(p, ec).string();
        }
        h.update(meta + '\0');
        if (!S_ISREG(st.st_mode)) return;
        int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) return;
        char buf[1 << 16];
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof buf)) > 0) h.update(buf, static_cast<size_t>(n));
        ::close(fd);
    };
    for (const auto& s : sources) {
        struct stat st {};
        if (::stat(s.path.c_str(), &st) != 0) return make_error(CTR_E_NOT_FOUND, "\"" + s.rel + "\" went away");
        add(s.path, s.rel, st);
        if (s.directory) {
            std::string base = s.rel == "." ? "" : s.rel;
            walk(s.path, base, [this](const std::string& r) { return ignored(r); }, add, ignore_.has_exceptions());
        }
    }
    return h.hex();
}

Status Context::write_tar(const std::vector<Source>& sources, const std::string& dest, bool dest_is_dir, long uid, long gid,
                          int chmod, const fs::path& out, bool make_dest, bool extract_archives) const {
    std::unique_ptr<archive, WriteFree> a(archive_write_new());
    archive_write_set_format_pax_restricted(a.get());
    if (archive_write_open_filename(a.get(), out.c_str()) != ARCHIVE_OK)
        return make_error(CTR_E_INTERNAL, "create \"" + out.string() + "\": " + archive_error_string(a.get()));
    Status result;
    auto put = [&](const fs::path& p, const std::string& name, const struct stat& st) {
        if (!result) return;
        std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
        archive_entry_copy_stat(e.get(), &st);
        archive_entry_set_pathname(e.get(), name.c_str());
        archive_entry_set_uid(e.get(), uid >= 0 ? uid : 0);
        archive_entry_set_gid(e.get(), gid >= 0 ? gid : 0);
        if (chmod >= 0 && !S_ISLNK(st.st_mode)) archive_entry_set_perm(e.get(), static_cast<mode_t>(chmod));
        if (S_ISLNK(st.st_mode)) {
            std::error_code ec;
            archive_entry_set_symlink(e.get(), fs::read_symlink(p, ec).c_str());
        }
        if (archive_write_header(a.get(), e.get()) < ARCHIVE_WARN) {
            result = make_error(CTR_E_INTERNAL, std::string("write the copy: ") + archive_error_string(a.get()));
            return;
        }
        if (!S_ISREG(st.st_mode)) return;
        int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
            result = make_error(CTR_E_INTERNAL, "open \"" + p.string() + "\": " + std::strerror(errno));
            return;
        }
        char buf[1 << 16];
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof buf)) > 0) archive_write_data(a.get(), buf, static_cast<size_t>(n));
        ::close(fd);
    };
    if (make_dest && !dest.empty()) {
        std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
        archive_entry_set_pathname(e.get(), dest.c_str());
        archive_entry_set_filetype(e.get(), AE_IFDIR);
        archive_entry_set_perm(e.get(), 0755);
        archive_entry_set_uid(e.get(), uid >= 0 ? uid : 0);
        archive_entry_set_gid(e.get(), gid >= 0 ? gid : 0);
        archive_entry_set_mtime(e.get(), ::time(nullptr), 0);
        if (archive_write_header(a.get(), e.get()) < ARCHIVE_WARN)
            return make_error(CTR_E_INTERNAL, std::string("write the copy: ") + archive_error_string(a.get()));
    }
    for (const auto& s : sources) {
        struct stat st {};
        if (::stat(s.path.c_str(), &st) != 0) return make_error(CTR_E_NOT_FOUND, "\"" + s.rel + "\" went away");
        if (s.directory) {
            // A directory's contents land in dest; the directory itself is dest.
            std::string skip_base = s.rel == "." ? "" : s.rel;
            walk(s.path, "", [&](const std::string& r) { return ignored(skip_base.empty() ? r : skip_base + "/" + r); },
                 [&](const fs::path& p, const std::string& r, const struct stat& sub) { put(p, dest.empty() ? r : dest + "/" + r, sub); },
                 ignore_.has_exceptions());
        } else if (extract_archives && CTR_TRY(append_archive(a.get(), s.path, dest, uid, gid))) {
            // ADD of a local archive: its contents went in.
        } else {
            std::string name = dest_is_dir ? (dest.empty() ? "" : dest + "/") + fs::path(s.rel).filename().string() : dest;
            put(s.path, name, st);
        }
        CTR_TRY_STATUS(result);
    }
    if (archive_write_close(a.get()) != ARCHIVE_OK)
        return make_error(CTR_E_INTERNAL, "close \"" + out.string() + "\": " + archive_error_string(a.get()));
    return ok();
}

}  // namespace ctr::apiserver::build
