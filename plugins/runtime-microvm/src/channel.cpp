#include "channel.hpp"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

namespace microvm {

ctr::Status Channel::send(uint32_t type, uint32_t stream, const std::string& payload) {
    ctr_frame f{static_cast<uint32_t>(payload.size()), type, stream};
    std::lock_guard lock(send_mu_);
    iovec iov[2] = {{&f, sizeof f}, {const_cast<char*>(payload.data()), payload.size()}};
    size_t total = sizeof f + payload.size(), done = 0;
    // writev with a cursor over both pieces.
    int idx = 0;
    while (done < total) {
        // sendmsg, not writev: a VM that went away is an error, not a SIGPIPE.
        msghdr m{};
        m.msg_iov = iov + idx;
        m.msg_iovlen = static_cast<size_t>(2 - idx);
        ssize_t n = ::sendmsg(fd_.get(), &m, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return ctr::make_error(CTR_E_UNAVAILABLE, std::string("agent channel: ") + std::strerror(errno));
        done += static_cast<size_t>(n);
        size_t left = static_cast<size_t>(n);
        while (idx < 2 && left >= iov[idx].iov_len) {
            left -= iov[idx].iov_len;
            ++idx;
        }
        if (idx < 2) {
            iov[idx].iov_base = static_cast<char*>(iov[idx].iov_base) + left;
            iov[idx].iov_len -= left;
        }
    }
    return ctr::ok();
}

ctr::Result<Frame> Channel::receive() {
    ctr_frame f{};
    auto read_exact = [&](void* buf, size_t len) -> bool {
        char* p = static_cast<char*>(buf);
        while (len > 0) {
            ssize_t n = ::read(fd_.get(), p, len);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            p += n;
            len -= static_cast<size_t>(n);
        }
        return true;
    };
    if (!read_exact(&f, sizeof f)) return ctr::make_error(CTR_E_UNAVAILABLE, "agent channel closed");
    if (f.len > CTR_AGENT_MAX_PAYLOAD) return ctr::make_error(CTR_E_INTERNAL, "agent channel: a frame of " + std::to_string(f.len) + " bytes");
    Frame out{f.type, f.stream, std::string(f.len, '\0')};
    if (f.len && !read_exact(out.payload.data(), f.len)) return ctr::make_error(CTR_E_UNAVAILABLE, "agent channel closed");
    return out;
}

void Channel::shutdown() {
    if (fd_.valid()) ::shutdown(fd_.get(), SHUT_RDWR);
}

std::string ints_payload(int32_t a) { return std::string(reinterpret_cast<const char*>(&a), sizeof a); }

std::string ints_payload(int32_t a, int32_t b) { return ints_payload(a) + ints_payload(b); }

int32_t payload_int(const std::string& payload, size_t index) {
    int32_t v = 0;
    if (payload.size() >= (index + 1) * sizeof v) std::memcpy(&v, payload.data() + index * sizeof v, sizeof v);
    return v;
}

}  // namespace microvm
