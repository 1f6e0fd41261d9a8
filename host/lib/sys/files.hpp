// File helpers that return errors as values and write atomically.
#pragma once

#include <ctr/sdk/result.hpp>

#include <filesystem>
#include <string>

namespace ctr::sys {

// "<op> \"<path>\": <strerror(errno)>", with a status chosen from errno.
Error errno_error(const std::string& op, const std::filesystem::path& path, int err);

Result<std::string> read_file(const std::filesystem::path& path);

// Writes to a temporary file beside `path`, fsyncs it, renames it over `path`
// and fsyncs the directory: after a crash, the old or the new content, whole.
Status write_file_atomic(const std::filesystem::path& path, const std::string& content, int mode = 0644);

Status make_dirs(const std::filesystem::path& path, int mode = 0755);

}  // namespace ctr::sys
