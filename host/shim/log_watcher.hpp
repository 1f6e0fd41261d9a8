// Marks when a container's log files grow (sys/log_index.hpp) and keeps
// them within their bound (sys/log_bound.h). The container writes its log
// files itself: the shim stays out of the data path, so its death never
// blocks a container's output. A thread watches the files with inotify and
// looks at them each time new bytes appear.
#pragma once

#include <ctr/sys/log_bound.h>
#include <ctr/sys/unique_fd.hpp>

#include <ctr/sdk/result.hpp>

#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

namespace ctr::shim {

// A container's log files as marked so far.
class LogFiles {
public:
    // Their current ends are where new output starts.
    LogFiles(const std::vector<std::filesystem::path>& logs, ctr_log_limit limit);
    ~LogFiles();
    LogFiles(const LogFiles&) = delete;
    LogFiles& operator=(const LogFiles&) = delete;

    // One mark for each file that grew; the oldest bytes freed past the bound.
    void grew();
    std::vector<int64_t> sizes() const;  // marked up to here
    const std::vector<std::filesystem::path>& paths() const { return paths_; }
    const ctr_log_limit& limit() const { return limit_; }

private:
    std::vector<std::filesystem::path> paths_;
    std::vector<ctr_log_file> files_;
    ctr_log_limit limit_;
};

class LogWatcher {
public:
    // Creates the log files when missing; `files` outlives the watcher.
    static Result<std::unique_ptr<LogWatcher>> start(LogFiles& files);
    ~LogWatcher();  // a last look at the files, then the thread ends
    LogWatcher(const LogWatcher&) = delete;
    LogWatcher& operator=(const LogWatcher&) = delete;

private:
    explicit LogWatcher(LogFiles& files) : files_(files) {}
    void run();

    LogFiles& files_;
    sys::UniqueFd inotify_, stop_;
    std::thread thread_;
};

}  // namespace ctr::shim
