// File helpers that return errors as values and write atomically.
#pragma once

#include <ctr/sdk/result.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <filesystem>
#include <string>

namespace ctr::sys {

// "<op> \"<path>\": <strerror(errno)>", with a status chosen from errno.
Error errno_error(const std::string& op, const std::filesystem::path& path, int err);

Result<std::string> read_file(const std::filesystem::path& path);

// What a write must outlive. Either way, while the machine runs, a reader
// finds the old or the new content, whole, whichever process dies when.
// `power_loss`: the file and its directory are fsynced, so that holds after a
// power loss too. `process_crash`: renamed into place unflushed (after a
// power loss it may be empty), for runtime state that a reboot makes
// meaningless anyway (a shim's pid, the exit of a process that a reboot ends
// too); it saves disk flushes on the path of every run.
enum class Durability { power_loss, process_crash };

// Writes to a temporary file beside `path` and renames it over `path`.
Status write_file_atomic(const std::filesystem::path& path, const std::string& content, int mode = 0644,
                         Durability durability = Durability::power_loss);

Status make_dirs(const std::filesystem::path& path, int mode = 0755);

// `path` opened beneath the directory `root` as if `root` were "/": "..",
// absolute symlinks and symlinked parents all stay inside, and no magic link
// of /proc leads out (openat2 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS). The
// one way this project opens a path inside a tree that a container or an
// image controls. O_CLOEXEC is added; "" means `root` itself. On failure the
// fd is invalid and errno says why.
UniqueFd open_in_root(int root, const std::string& path, int flags);

// pipe2(flags | O_CLOEXEC), both ends owned.
Result<FdPair> make_pipe(int flags = 0);
// A connected AF_UNIX stream socket pair, close-on-exec. A send to a peer
// that is gone fails with EPIPE (with MSG_NOSIGNAL) where a pipe's write
// would raise SIGPIPE.
Result<FdPair> make_socketpair();

}  // namespace ctr::sys
