// What the CLI resolves in the caller's context before a request, because
// the daemon must not: every `-e KEY` and env-file line without "=" from the
// caller's environment (the daemon never reads its own for a container), and
// relative bind sources from the caller's working directory, and the files
// that --security-opt names.
#pragma once

#include <ctr/sdk/result.hpp>

#include <string>
#include <vector>

namespace ctr::cli {

// `-e` values: KEY=VALUE as given; a bare KEY takes the caller's value, or
// is left out when the caller has none (as docker does).
std::vector<std::string> resolve_env(const std::vector<std::string>& given);

// An --env-file's text: KEY=VALUE lines (the value taken literally, as
// docker does), blank lines and "#" comments skipped, a leading "export "
// stripped, bare KEY lines resolved as for -e. `file` names it in errors.
Result<std::vector<std::string>> parse_env_file(const std::string& text, const std::string& file);

// `-v SRC:DST[:opts]` with a relative SRC ("./data", "../x", ".") made
// absolute against the caller's working directory, as docker does; a name
// (a volume) or an absolute path is left as it is. `--mount` values get the
// same for their source= (or src=) of a bind.
std::string absolute_volume_source(const std::string& volume);
std::string absolute_mount_source(const std::string& mount);

// `--security-opt seccomp=FILE` with the file read (relative to `base`, the
// caller's working directory when empty) and its JSON in place of the path,
// as docker sends it; other options as given. An unreadable file: an error
// naming it.
Result<std::string> resolve_security_opt(const std::string& opt, const std::string& base = "");

}  // namespace ctr::cli
