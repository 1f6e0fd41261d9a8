// Unpacking one layer into its own, empty snapshot directory. The layer is
// hostile input: every entry is created relative to a directory fd resolved
// inside the target (openat2 RESOLVE_IN_ROOT), never by following a path, so
// no entry can write outside the target ("..", absolute paths, symlinked
// parents, hard links pointing out, chmod through a link). Whiteouts become
// overlayfs whiteouts, so that snapshots stack as overlay lower layers.
#pragma once

#include "oci_types.hpp"

#include <ctr/sdk/result.hpp>

#include <cstdint>
#include <sys/types.h>
#include <filesystem>
#include <functional>
#include <string>

namespace image_oci {

struct UnpackResult {
    std::string diff_id;  // sha256 of the uncompressed tar, to check against the config
    int64_t bytes = 0;    // uncompressed size
};

// `max_bytes`: a layer whose uncompressed tar grows past this is refused
// (a decompression bomb stops there, whatever its ratio).
inline constexpr int64_t kNoLayerLimit = INT64_MAX;
ctr::Result<UnpackResult> unpack_layer(const std::filesystem::path& blob, Compression compression,
                                       const std::filesystem::path& target, int64_t max_bytes = kNoLayerLimit);

// The compressed bytes of a layer from elsewhere (a download in progress):
// `read` fills up to `n` bytes and returns how many, 0 at the end, -1 when
// the bytes will not come (the caller knows why). It may block. `name`
// names the layer in errors.
using ReadFn = std::function<ssize_t(char* buf, size_t n)>;
ctr::Result<UnpackResult> unpack_stream(const ReadFn& read, const std::string& name, Compression compression,
                                        const std::filesystem::path& target, int64_t max_bytes = kNoLayerLimit);

}  // namespace image_oci
