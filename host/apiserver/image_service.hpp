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

// The name of a container made from the image `reference` names, if any.
Result<std::optional<std::string>> image_user(Daemon& d, const std::string& reference);

// Removes the image `reference` names; without `force` a FAILED_PRECONDITION
// when a container was made from it (Docker's rule). The plugin's answer.
Result<nlohmann::json> remove_image(Daemon& d, const std::string& reference, bool force);

// Tags `source` as `target` (an event: tag).
Result<nlohmann::json> tag_image(Daemon& d, const std::string& source, const std::string& target);
// Loads the archive at `input` (events: load, one per image); {"loaded": [refs]}.
Result<nlohmann::json> load_images(Daemon& d, const std::string& input);

// Removes, with `all`, every image no container was made from that `keep`
// allows (nothing dangles here: without `all`, nothing goes).
// {"removed": [references], "digests": [theirs], "reclaimed": bytes}.
Result<nlohmann::json> prune_images(Daemon& d, const PruneFilters& keep, bool all);

// The images as one archive (docker-save layout), written to a file of the
// run directory; the stream sends it and removes it.
Result<std::function<void(const Writer&)>> save_images(Daemon& d, const std::vector<std::string>& references);

}  // namespace ctr::apiserver
