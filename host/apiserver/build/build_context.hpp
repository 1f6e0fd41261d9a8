// The build context where it lies: COPY/ADD sources found in it (globs,
// .dockerignore applied), never outside it (a ".." or a symlink that leads
// out is refused), hashed for the cache (content and mode, owner, link
// target; not mtime) and written as a tar for the copy itself. Nothing is
// read that no instruction names.
#pragma once

#include "build/dockerignore.hpp"

#include <ctr/sdk/result.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace ctr::apiserver::build {

// SHA-256 of what is fed, as 64 hex digits.
class Hasher {
public:
    Hasher();
    ~Hasher();
    Hasher(const Hasher&) = delete;
    Hasher& operator=(const Hasher&) = delete;
    void update(const void* data, size_t n);
    void update(const std::string& s) { update(s.data(), s.size()); }
    std::string hex();
private:
    void* ctx_;
};
std::string sha256_hex(const std::string& s);

// One source of a COPY: a path in the context and what it is called at the
// destination (its base name, or "" when its contents are copied).
struct Source {
    std::filesystem::path path;  // absolute, inside the context
    std::string rel;             // relative to the context
    bool directory = false;
};

class Context {
public:
    Context(std::filesystem::path root, ctr::build::IgnoreRules ignore) : root_(std::move(root)), ignore_(std::move(ignore)) {}
    // The sources a COPY names: globs matched, ignored files left out.
    // An absent one, or one outside the context, is an error.
    Result<std::vector<Source>> sources(const std::string& pattern) const;
    // The digest of the sources: names, kinds, modes, sizes, link targets
    // and contents (ignored files inside directories left out).
    Result<std::string> digest(const std::vector<Source>& sources) const;
    // The sources as a tar whose entries are named under `dest` (a path
    // from the root, no leading '/'), owned by uid:gid when >= 0, with
    // `chmod` for modes when >= 0; the parents of `dest` are not written,
    // but `dest` itself is with `make_dest`, as a folder (mode 0755) owned
    // by uid:gid (a COPY into a folder that did not exist). With
    // `extract_archives` (ADD), a source that is a tar (plain, gzip, bzip2,
    // xz or zstd) is unpacked into `dest` instead, its owners kept when uid
    // is -1.
    Status write_tar(const std::vector<Source>& sources, const std::string& dest, bool dest_is_dir, long uid, long gid, int chmod,
                     const std::filesystem::path& out, bool make_dest = false, bool extract_archives = false) const;

private:
    bool ignored(const std::string& rel) const { return !rel.empty() && ignore_.excluded(rel); }
    std::filesystem::path root_;
    ctr::build::IgnoreRules ignore_;
};

}  // namespace ctr::apiserver::build
