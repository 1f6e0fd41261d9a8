// An overlay upper directory as an image layer: the tar a registry and every
// runtime read. Overlay's whiteouts (a 0/0 character device) become
// ".wh.NAME" entries, an opaque directory (trusted.overlay.opaque=y) gets a
// ".wh..wh..opq" entry, overlay's own xattrs are left out, hard links stay
// links. Entries are in name order, so the same tree gives the same tar.
#pragma once

#include <ctr/sdk/result.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace ctr::copy {

// Entries of an upper directory a caller leaves out: the relative path
// ("etc/hosts") and its stat. A skipped directory is skipped whole.
using SkipEntry = std::function<bool(const std::string& rel, const struct stat& st)>;

// Overlay's marks in an upper directory: a whiteout (a 0/0 character
// device) and an opaque directory (trusted.overlay.opaque=y).
bool is_whiteout(const struct stat& st);
bool is_opaque(const std::filesystem::path& dir);

struct UpperEntry {
    std::string name, rel;  // "motd", "etc/motd"
    std::filesystem::path path;
    struct stat st;
};
// The entries of `dir`, which is `rel` in an upper directory, in name order
// (the same tree gives the same layer), with their lstat; `skip`'s left out.
Result<std::vector<UpperEntry>> upper_entries(const std::filesystem::path& dir, const std::string& rel, const SkipEntry& skip);

// Writes the layer to `out` (created, or replaced); its size in bytes.
Result<int64_t> write_layer(const std::filesystem::path& upper, const std::filesystem::path& out, const SkipEntry& skip = {});

}  // namespace ctr::copy
