// What a container changed in its root filesystem, read from its overlay
// upper directory against the image's layers beneath (`container diff`,
// GET /containers/{id}/changes). As docker reports it: a whiteout is a
// deletion; a path the layers beneath also hold is a change; anything else
// is an addition. A directory that overlay copied up only to hold a skipped
// entry (the daemon's /etc/hosts mount point, say) is no change.
#pragma once

#include "copy/layer_diff.hpp"

#include <string>
#include <vector>

namespace ctr::copy {

enum class ChangeKind { modified = 0, added = 1, deleted = 2 };  // Docker's numbers

struct Change {
    std::string path;  // absolute in the container: "/etc/motd"
    ChangeKind kind;
};

// Every change, in path order.
Result<std::vector<Change>> layer_changes(const std::filesystem::path& upper, const std::vector<std::filesystem::path>& lowers,
                                          const SkipEntry& skip = {});

// The lower directories of the overlay mounted at `mount_point`, top first,
// read from /proc/self/mountinfo; NOT_FOUND when no overlay is mounted there.
Result<std::vector<std::filesystem::path>> overlay_lowers(const std::filesystem::path& mount_point);

}  // namespace ctr::copy
