#include "apiserver/file_watch.hpp"

#include <ctr/sys/files.hpp>

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace ctr::apiserver {

namespace {

void wake(int fd) {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(fd, &one, sizeof one);
}

}  // namespace

FileWatch::~FileWatch() {
    if (reader_.joinable()) {
        wake(stop_.get());
        reader_.join();
    }
}

FileWatch::Subscription::~Subscription() {
    if (w_ && fd_.valid()) w_->leave(dir_, fd_.get());
}

Status FileWatch::start_locked() {
    if (inotify_.valid()) return ok();
    sys::UniqueFd in(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!in.valid()) return sys::errno_error("inotify_init1", "", errno);
    sys::UniqueFd stop(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!stop.valid()) return sys::errno_error("eventfd", "", errno);
    inotify_ = std::move(in);
    stop_ = std::move(stop);
    reader_ = std::thread([this] { read_events(); });
    return ok();
}

Result<FileWatch::Subscription> FileWatch::subscribe(const std::filesystem::path& dir) {
    sys::UniqueFd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!fd.valid()) return sys::errno_error("eventfd", "", errno);
    std::lock_guard<std::mutex> lock(mu_);
    CTR_TRY_STATUS(start_locked());
    auto& w = dirs_[dir.string()];
    if (w.wd < 0) {
        w.wd = ::inotify_add_watch(inotify_.get(), dir.c_str(), IN_MOVED_TO | IN_CREATE | IN_ONLYDIR);
        if (w.wd < 0) {
            int e = errno;
            dirs_.erase(dir.string());
            return sys::errno_error("watch", dir, e);
        }
        by_wd_[w.wd] = dir.string();
    }
    w.waiters.push_back(fd.get());
    return Subscription(this, dir.string(), std::move(fd));
}

void FileWatch::leave(const std::string& dir, int fd) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = dirs_.find(dir);
    if (it == dirs_.end()) return;
    auto& waiters = it->second.waiters;
    std::erase(waiters, fd);
    if (!waiters.empty()) return;
    if (it->second.wd >= 0) {
        ::inotify_rm_watch(inotify_.get(), it->second.wd);  // does not wait, unlike a close
        by_wd_.erase(it->second.wd);
    }
    dirs_.erase(it);
}

void FileWatch::read_events() {
    for (;;) {
        pollfd p[2] = {{inotify_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
        if (::poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            spdlog::warn("file watch: poll: {}", std::strerror(errno));
            return;
        }
        if (p[1].revents) return;
        alignas(inotify_event) char buf[8192];
        ssize_t len = ::read(inotify_.get(), buf, sizeof buf);
        std::lock_guard<std::mutex> lock(mu_);
        for (ssize_t at = 0; at < len;) {
            auto* e = reinterpret_cast<inotify_event*>(buf + at);
            at += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
            bool ours = e->len > 0 && name_ == e->name;
            bool gone = e->mask & (IN_IGNORED | IN_DELETE_SELF);  // the directory went: nothing will come
            if (!ours && !gone) continue;
            auto d = by_wd_.find(e->wd);
            if (d == by_wd_.end()) continue;
            auto w = dirs_.find(d->second);
            if (w == dirs_.end()) continue;
            for (int fd : w->second.waiters) wake(fd);
            if (gone) {  // a new subscriber must add the watch again
                w->second.wd = -1;
                by_wd_.erase(d);
            }
        }
    }
}

}  // namespace ctr::apiserver
