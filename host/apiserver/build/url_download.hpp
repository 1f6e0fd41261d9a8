// ADD URL's download: one http or https URL into a file.
#pragma once

#include <ctr/sdk/result.hpp>

#include <filesystem>
#include <string>

namespace ctr::apiserver::build {

// Fetches `url` (http or https; up to 5 redirects; a 4xx or 5xx answer is an
// error) into `file`. The error names what failed, without the URL.
Status download_url(const std::string& url, const std::filesystem::path& file);

}  // namespace ctr::apiserver::build
