// A tree of files as a tar stream, both ways, for `cp` and `export`.
//
// Writing reads the tree physically (symlinks stored, never followed, names
// of owners never looked up: no NSS module is ever loaded from a container's
// files). Extracting treats the stream as hostile: every name must be
// relative and free of "..", and nothing is written through a symlink, so a
// tar made inside a container cannot reach outside its destination.
#pragma once

#include "copy/copy_rules.hpp"

#include <ctr/sdk/result.hpp>

#include <filesystem>
#include <functional>
#include <string_view>

namespace ctr::copy {

// Receives the stream; false stops the writing (the reader has gone).
using Sink = std::function<bool(std::string_view)>;

struct WriteOptions {
    // The top entry's name ("." when empty); entries below it are
    // "<prefix>/<rel>", or "<rel>" when the prefix is empty.
    std::string prefix;
    bool follow = false;        // a symlink at the top is followed (cp -L); links below never are
    bool cross_mounts = true;   // false: mounts below the top are left out (export)
};
Status write_tree(const std::filesystem::path& top, const WriteOptions& options, const Sink& out);

// What is at `path`; `follow`: symlinks resolved.
Kind kind_of(const std::filesystem::path& path, bool follow);

struct ExtractOptions {
    // The stream's top entry is "." (write_tree with prefix "."); it lands
    // where copy_rules put `src` (as the user wrote it) given `dest`.
    std::string src;
    std::string dest;
    // raw: the stream is any tar (cp - DEST): its entries land under `dest`,
    // an existing directory, as they are named.
    bool raw = false;
    bool keep_owner = false;  // cp -a: owners from the stream; else the extracting user's
};
// Reads a tar from `fd` until its end. Relative paths in `dest` are taken
// from the current directory, which is the same again on return.
Status extract_tree(int fd, const ExtractOptions& options);

}  // namespace ctr::copy
