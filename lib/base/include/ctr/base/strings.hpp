// Small string helpers shared by the CLI and plugins.
#pragma once

#include <string>

namespace ctr {

// Percent-encodes everything but RFC 3986's unreserved characters, for query
// strings and URL parts.
std::string url_escape(const std::string& s);

}  // namespace ctr
