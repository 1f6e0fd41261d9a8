// Named network namespaces: a new namespace kept alive by a bind mount on a
// file (as `ip netns add` does), so that the network plugin can wire it
// before the container starts and the container keeps it across restarts.
#pragma once

#include <ctr/sdk/result.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

namespace ctr::sys {

// Makes a fresh network namespace and pins it at `path` (its parent must
// exist). Made on a short-lived thread: no thread of ours changes namespace.
Status make_netns(const std::filesystem::path& path);

// Reads `file` (a /proc/thread-self/net/... file, say) from inside the
// namespace pinned at `netns`: on a short-lived thread that joins it.
Result<std::string> read_in_netns(const std::filesystem::path& netns, const std::filesystem::path& file);

// Writes `text` to `file` (a /proc/sys/net/... file) from inside the
// namespace pinned at `netns`.
Status write_in_netns(const std::filesystem::path& netns, const std::filesystem::path& file, const std::string& text);

// The bytes received and sent by every interface of a /proc/net/dev text.
struct NetTotals {
    int64_t rx_bytes = 0, tx_bytes = 0;
};
NetTotals net_dev_totals(const std::string& proc_net_dev);

// Sets the loopback link of the namespace pinned at `netns` up (a new
// namespace's is down, without 127.0.0.1).
Status loopback_up(const std::filesystem::path& netns);

// Unpins and deletes `path`; a path that is gone is not an error.
Status remove_netns(const std::filesystem::path& path);

}  // namespace ctr::sys
