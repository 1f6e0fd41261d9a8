// What the parts of the container service share (containers.cpp,
// container_exec.cpp, container_stats.cpp, container_supervisor.cpp,
// container_host_state.cpp): small helpers, not an interface.
#pragma once

#include "apiserver/daemon.hpp"
#include <ctr/base/paths.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace ctr::apiserver::detail {

// What a shim writes on its sync fd before closing it: {"ok", ...}, read
// until it closes or `timeout_ms` passes (then: whatever came, maybe nothing).
nlohmann::json read_sync_answer(int fd, int timeout_ms);
// 64 hex digits from the system's random source.
std::string random_id();
// Where a container's shim (or reaper) records its exit, in its folder `dir`.
inline std::filesystem::path exit_file_of(const std::filesystem::path& dir) { return dir / "exit.json"; }
// That file's record, when it was written.
std::optional<nlohmann::json> read_exit(const std::filesystem::path& dir);
// A process that has not ended (sys::process_ended: a zombie this host's
// PID 1 is slow to reap has ended; one whose threads still exit has not).
bool alive(std::optional<int64_t> pid);

}  // namespace ctr::apiserver::detail
