// Marks when a container's log files grow (sys/log_index.hpp). The
// container writes its log files itself: the shim stays out of the data
// path, so its death never blocks a container's output. A thread watches the
// files with inotify and appends a mark each time new bytes appear.
#pragma once

#include <ctr/sys/unique_fd.hpp>

#include <ctr/sdk/result.hpp>

#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

namespace ctr::shim {

// The sizes of `logs` now (0 for a missing file).
std::vector<int64_t> log_sizes(const std::vector<std::filesystem::path>& logs);
// One mark for each file that grew past its entry in `sizes`, which is updated.
void mark_growth(const std::vector<std::filesystem::path>& logs, std::vector<int64_t>& sizes);

class LogWatcher {
public:
    // Creates the log files when missing; their current ends are where new output starts.
    static Result<std::unique_ptr<LogWatcher>> start(const std::vector<std::filesystem::path>& logs);
    ~LogWatcher();  // a last look at the files, then the thread ends
    LogWatcher(const LogWatcher&) = delete;
    LogWatcher& operator=(const LogWatcher&) = delete;

private:
    LogWatcher() = default;
    void run();

    std::vector<std::filesystem::path> logs_;
    std::vector<int64_t> sizes_;  // marked up to here
    sys::UniqueFd inotify_, stop_;
    std::thread thread_;
};

}  // namespace ctr::shim
