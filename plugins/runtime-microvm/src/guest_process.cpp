#include "guest_process.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <unistd.h>

namespace microvm {

namespace {

void write_all(int fd, const std::string& data) {
    size_t done = 0;
    while (fd >= 0 && done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // a reader that left: the output has nowhere to go
        done += static_cast<size_t>(n);
    }
}

}  // namespace

void GuestProcess::handle(const Frame& f) {
    switch (f.type) {
    case CTR_F_STDOUT:
        write_all(out_.get(), f.payload);
        return;
    case CTR_F_STDERR:
        write_all(err_.get(), f.payload);
        return;
    default:
        break;
    }
    std::lock_guard lock(mu_);
    if (f.type == CTR_F_STARTED) {
        started_ = true;
        pid_ = payload_int(f.payload, 0);
    } else if (f.type == CTR_F_FAILED) {
        failed_ = true;
        errno_ = payload_int(f.payload, 0);
        message_ = f.payload.size() > 4 ? f.payload.substr(4) : "the process could not start";
    } else if (f.type == CTR_F_EXIT) {
        exited_ = true;
        code_ = payload_int(f.payload, 0);
        signal_ = payload_int(f.payload, 1);
    }
    cv_.notify_all();
}

void GuestProcess::lost() {
    std::lock_guard lock(mu_);
    if (!exited_) {
        exited_ = true;
        code_ = 128 + SIGKILL;
        signal_ = SIGKILL;
    }
    if (!started_ && !failed_) {
        failed_ = true;
        errno_ = EIO;
        message_ = "the vm stopped";
    }
    cv_.notify_all();
}

ctr::Result<int> GuestProcess::wait_started(int timeout_ms) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return started_ || failed_; }))
        return ctr::make_error(CTR_E_DEADLINE_EXCEEDED, "the guest agent did not start the process within " + std::to_string(timeout_ms / 1000) + " s");
    if (started_) return pid_;
    ctr_status status = errno_ == ENOENT || errno_ == ENOTDIR ? CTR_E_NOT_FOUND
                        : errno_ == EACCES || errno_ == EPERM ? CTR_E_PERMISSION_DENIED
                                                              : CTR_E_INTERNAL;
    return ctr::make_error(status, message_);
}

ctr::Result<nlohmann::json> GuestProcess::wait_exit(int64_t timeout_ms) {
    std::unique_lock lock(mu_);
    auto done = [&] { return exited_ || failed_; };
    if (timeout_ms < 0) cv_.wait(lock, done);
    else if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), done))
        return ctr::make_error(CTR_E_DEADLINE_EXCEEDED, "still running after " + std::to_string(timeout_ms) + " ms");
    if (!exited_) return ctr::make_error(CTR_E_FAILED_PRECONDITION, "the process never started: " + message_);
    nlohmann::json r = {{"exit_code", code_}};
    if (signal_) r["signal"] = signal_;
    return r;
}

bool GuestProcess::exited() {
    std::lock_guard lock(mu_);
    return exited_ || failed_;
}

bool GuestProcess::running() {
    std::lock_guard lock(mu_);
    return started_ && !exited_;
}

}  // namespace microvm
