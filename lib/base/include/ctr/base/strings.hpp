// Small string helpers shared by the CLI and plugins.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ctr {

// Percent-encodes everything but RFC 3986's unreserved characters, for query
// strings and URL parts.
std::string url_escape(const std::string& s);

// Base64 (RFC 4648, padded). decode takes the standard and the URL-safe
// alphabets, padded or not (Docker's X-Registry-Auth is URL-safe); nullopt
// on any other character.
std::string base64_encode(std::string_view in);
std::optional<std::string> base64_decode(std::string_view in);

// A time as RFC 3339 in UTC, to the second: "2026-12-04T21:00:00Z".
std::string rfc3339(int64_t unix_seconds);

}  // namespace ctr
