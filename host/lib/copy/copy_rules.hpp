// Where `cp SRC DEST` puts things, by Docker's rules (`docker cp`): a file
// into an existing directory keeps its name, onto a file replaces it, to a
// missing path takes that name; a directory to a missing path becomes it, into
// an existing directory goes under its own name, or with "SRC/." only its
// contents go. Pure functions: the caller looks at the filesystem.
#pragma once

#include <ctr/sdk/result.hpp>

#include <string>

namespace ctr::copy {

enum class Kind { missing, file, dir, symlink, other };

const char* kind_name(Kind kind);

// `src` and `dest` as the user wrote them (trailing "/" and "/." matter).
// `src_kind`: what the source is; `dest_kind`: what is at `dest` (symlinks
// followed: a link to a directory counts as the directory).
struct Placement {
    std::string path;       // the path the source's top becomes
    bool onto_dir = false;  // path is an existing directory whose contents the source's contents join
};
Result<Placement> place(Kind src_kind, const std::string& src, Kind dest_kind, const std::string& dest);

// The last name of a path as `cp` uses it: "a/b/" and "a/b/." give "b"; "/" gives "".
std::string base_name(const std::string& path);

// True when `path` ends with "/." (copy a directory's contents only).
bool contents_only(const std::string& path);

}  // namespace ctr::copy
