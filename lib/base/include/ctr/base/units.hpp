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

// A point in time as `logs --since` takes it, in seconds since the epoch: a
// number of seconds since the epoch ("1764346457.5"), an RFC 3339 time
// ("2026-11-28T16:14:17Z", "...17.25+01:00"), a date ("2026-11-28", UTC), or a
// duration before `now` ("10m", "1h30m").
Result<double> parse_since(const std::string& text, double now, const std::string& what);

// "1.5 GiB", "512 B": for tables.
std::string human_size(int64_t bytes);

}  // namespace ctr
