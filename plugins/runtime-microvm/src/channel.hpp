// Frames of the agent protocol (agent/protocol.h) over a stream socket: the
// VM's virtio-serial port as QEMU hands it to us, or an exec client's
// connection to the shim that owns the VM.
#pragma once

#include "protocol.h"

#include <ctr/sys/unique_fd.hpp>

#include <ctr/sdk/result.hpp>

#include <cstdint>
#include <mutex>
#include <string>

namespace microvm {

struct Frame {
    uint32_t type = 0, stream = 0;
    std::string payload;
};

class Channel {
public:
    Channel() = default;
    explicit Channel(ctr::sys::UniqueFd fd) : fd_(std::move(fd)) {}
    // Moved only before any thread uses it: the lock is not carried over.
    Channel(Channel&& o) noexcept : fd_(std::move(o.fd_)) {}
    Channel& operator=(Channel&& o) noexcept {
        fd_ = std::move(o.fd_);
        return *this;
    }
    bool valid() const { return fd_.valid(); }
    int fd() const { return fd_.get(); }
    // Whole frames, from any thread.
    ctr::Status send(uint32_t type, uint32_t stream, const std::string& payload = {});
    // Blocks for the next frame; an error at EOF.
    ctr::Result<Frame> receive();
    void shutdown();

private:
    ctr::sys::UniqueFd fd_;
    std::mutex send_mu_;
};

std::string ints_payload(int32_t a);
std::string ints_payload(int32_t a, int32_t b);
int32_t payload_int(const std::string& payload, size_t index);

}  // namespace microvm
