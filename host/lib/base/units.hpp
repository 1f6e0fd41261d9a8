// Sizes and durations as users write them: "512", "64k", "1.5g", "2GiB"
// (binary units); "30s", "1m30s".
#pragma once

#include <ctr/sdk/result.hpp>

#include <cstdint>
#include <string>

namespace ctr {

// Bytes from a size string; `what` names the field in the error.
Result<int64_t> parse_size(const std::string& text, const std::string& what);

// Seconds from a duration as Go and Compose write them: "30s", "1m30s",
// "500ms", "1h", "2.5s"; a bare number is seconds.
Result<double> parse_duration(const std::string& text, const std::string& what);

// "1.5 GiB", "512 B": for tables.
std::string human_size(int64_t bytes);

}  // namespace ctr
