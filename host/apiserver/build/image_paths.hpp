// Paths inside another image's root filesystem (a stage's or any image's),
// read from the host through a mount of it: globs expanded and paths
// resolved as that image sees them, never leading out of its root.
#pragma once

#include <ctr/sdk/result.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace ctr::apiserver::build {

// The absolute paths (as the image sees them, sorted) that `pattern` names
// in `root`: each part of the pattern matched against the entries of the
// folders the parts before it matched, with Go's filepath.Match rules as
// Docker uses (`*`, `?`, `[...]`; a `*` never crosses a '/', and matches a
// leading dot). Folders are opened inside the root (openat2
// RESOLVE_IN_ROOT), so a symlink of the image cannot send the walk out.
// A pattern without wildcards comes back as written, cleaned.
Result<std::vector<std::string>> glob_in_root(const std::filesystem::path& root, const std::string& pattern);

bool has_wildcard(const std::string& path);

}  // namespace ctr::apiserver::build
