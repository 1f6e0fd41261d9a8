// .env files (the project's, and env_file of a service): KEY=VALUE lines,
// "#" comments, blank lines, an optional "export " prefix, values in single
// quotes (literal) or double quotes (with \n, \t, \" and \\ escapes).
#pragma once

#include <ctr/sdk/result.hpp>

#include <map>
#include <string>

namespace ctr::compose {

// `where` names the file in errors ("a.env:3: ...").
Result<std::map<std::string, std::string>> parse_dotenv(const std::string& text, const std::string& where);

}  // namespace ctr::compose
