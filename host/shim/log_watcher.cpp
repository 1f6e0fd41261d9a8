#include "shim/log_watcher.hpp"

#include <ctr/sys/files.hpp>
#include <ctr/sys/log_index.hpp>

#include <chrono>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ctr::shim {

namespace {

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::vector<int64_t> log_sizes(const std::vector<std::filesystem::path>& logs) {
    std::vector<int64_t> out;
    for (const auto& p : logs) {
        struct stat st {};
        out.push_back(::stat(p.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0);
    }
    return out;
}

void mark_growth(const std::vector<std::filesystem::path>& logs, std::vector<int64_t>& sizes) {
    auto now = log_sizes(logs);
    for (size_t i = 0; i < logs.size() && i < sizes.size(); ++i) {
        if (now[i] <= sizes[i]) continue;
        sys::UniqueFd index(::open(sys::LogIndex::index_of(logs[i]).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
        if (index.valid()) sys::append_mark(index.get(), {sizes[i], now_ns()});
        sizes[i] = now[i];
    }
}

Result<std::unique_ptr<LogWatcher>> LogWatcher::start(const std::vector<std::filesystem::path>& logs) {
    std::unique_ptr<LogWatcher> w(new LogWatcher());
    w->inotify_.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!w->inotify_.valid()) return sys::errno_error("inotify_init1", "", errno);
    w->stop_.reset(::eventfd(0, EFD_CLOEXEC));
    if (!w->stop_.valid()) return sys::errno_error("eventfd", "", errno);
    for (const auto& p : logs) {
        sys::UniqueFd log(::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
        if (!log.valid()) return sys::errno_error("open", p, errno);
        if (::inotify_add_watch(w->inotify_.get(), p.c_str(), IN_MODIFY) < 0) return sys::errno_error("inotify_add_watch", p, errno);
    }
    w->logs_ = logs;
    w->sizes_ = log_sizes(logs);
    w->thread_ = std::thread([raw = w.get()] { raw->run(); });
    return w;
}

LogWatcher::~LogWatcher() {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(stop_.get(), &one, sizeof one);
    if (thread_.joinable()) thread_.join();
    mark_growth(logs_, sizes_);  // what came after the last event
}

void LogWatcher::run() {
    char buf[4096];
    for (;;) {
        pollfd p[2] = {{inotify_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
        if (::poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (p[1].revents) return;
        while (::read(inotify_.get(), buf, sizeof buf) > 0) {
        }
        mark_growth(logs_, sizes_);
    }
}

}  // namespace ctr::shim
