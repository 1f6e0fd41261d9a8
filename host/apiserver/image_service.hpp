// What both APIs do with images beyond one plugin call: the rule that an
// image a container was made from is kept unless forced, and save's
// archive written under the run directory to be streamed and removed.
#pragma once

#include "apiserver/daemon.hpp"
#include "apiserver/list_filters.hpp"
#include "apiserver/router.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ctr::apiserver {

// Images with no name (docker's <none>:<none>: a commit without one, a build
// without -t) are stored under this reserved repository; listings show them
// nameless and dangling, `image prune` takes them, a tag of one replaces it.
inline constexpr const char* kUntaggedRepository = "container-untagged.invalid/image";
bool is_untagged(const std::string& reference);
// A new name there; `tag`: 64 hex digits (a digest's, or random ones when empty).
std::string untagged_reference(const std::string& tag = "");

// The name of a container made from the image `reference` names, if any.
Result<std::optional<std::string>> image_user(Daemon& d, const std::string& reference);

// Removes the image `reference` names; without `force` a FAILED_PRECONDITION
// when a container was made from it (Docker's rule). The plugin's answer.
Result<nlohmann::json> remove_image(Daemon& d, const std::string& reference, bool force);

// Tags `source` as `target` (an event: tag).
Result<nlohmann::json> tag_image(Daemon& d, const std::string& source, const std::string& target);
// Loads the archive at `input` (events: load, one per image); {"loaded": [refs]}.
Result<nlohmann::json> load_images(Daemon& d, const std::string& input);

// Removes the nameless images no container was made from, with `all` every
// image no container was made from, that `keep` allows.
// {"removed": [references; a nameless image's digest], "digests": [theirs], "reclaimed": bytes}.
Result<nlohmann::json> prune_images(Daemon& d, const PruneFilters& keep, bool all);

// The images as one archive (docker-save layout), written to a file of the
// run directory; the stream sends it and removes it.
Result<std::function<void(const Writer&)>> save_images(Daemon& d, const std::vector<std::string>& references);

}  // namespace ctr::apiserver
