// An owning file descriptor: move-only, closes on destruction, keeps errno.
#pragma once

#include <cerrno>
#include <unistd.h>
#include <utility>

namespace ctr::sys {

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept {
        if (this != &o) reset(o.release());
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    bool operator!() const = delete;  // write valid() instead: fd 0 is a valid fd

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    [[nodiscard]] int release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1) {
        if (fd_ >= 0) {
            int saved = errno;
            ::close(fd_);
            errno = saved;
        }
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

// Both ends of a pipe or a socket pair, each owned.
struct FdPair {
    UniqueFd read;   // for a socket pair: either end; "read" is the first
    UniqueFd write;
};

}  // namespace ctr::sys
