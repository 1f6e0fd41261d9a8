#include "shim/log_watcher.hpp"

#include <ctr/sys/files.hpp>

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

LogFiles::LogFiles(const std::vector<std::filesystem::path>& logs, ctr_log_limit limit) : paths_(logs), files_(logs.size()), limit_(limit) {
    for (size_t i = 0; i < logs.size(); ++i) {
        struct stat st {};
        const long long size = ::stat(logs[i].c_str(), &st) == 0 ? static_cast<long long>(st.st_size) : 0;
        (void)ctr_log_open(&files_[i], logs[i].c_str(), size);  // without an index, no marks: logs work without
    }
}

LogFiles::~LogFiles() {
    for (auto& f : files_) ctr_log_close(&f);
}

void LogFiles::grew() {
    const int64_t now = now_ns();
    for (auto& f : files_) ctr_log_grew(&f, &limit_, now);
}

std::vector<int64_t> LogFiles::sizes() const {
    std::vector<int64_t> out;
    for (const auto& f : files_) out.push_back(f.size);
    return out;
}

Result<std::unique_ptr<LogWatcher>> LogWatcher::start(LogFiles& files) {
    std::unique_ptr<LogWatcher> w(new LogWatcher(files));
    w->inotify_.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!w->inotify_.valid()) return sys::errno_error("inotify_init1", "", errno);
    w->stop_.reset(::eventfd(0, EFD_CLOEXEC));
    if (!w->stop_.valid()) return sys::errno_error("eventfd", "", errno);
    for (const auto& p : files.paths()) {
        sys::UniqueFd log(::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
        if (!log.valid()) return sys::errno_error("open", p, errno);
        if (::inotify_add_watch(w->inotify_.get(), p.c_str(), IN_MODIFY) < 0) return sys::errno_error("inotify_add_watch", p, errno);
    }
    w->thread_ = std::thread([raw = w.get()] { raw->run(); });
    return w;
}

LogWatcher::~LogWatcher() {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(stop_.get(), &one, sizeof one);
    if (thread_.joinable()) thread_.join();
    files_.grew();  // what came after the last event
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
        files_.grew();
    }
}

}  // namespace ctr::shim
