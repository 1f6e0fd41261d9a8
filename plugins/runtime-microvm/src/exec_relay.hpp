// Exec into a VM container. The shim that runs the container owns the VM
// and its one agent channel; `exec` runs in another shim. That one connects
// to exec.sock in the VM's directory and speaks the agent protocol as if it
// were the VM, for one process; the relay here gives the process a stream
// of its own on the real channel and passes frames both ways.
#pragma once

#include "channel.hpp"

#include <ctr/sys/unique_fd.hpp>

#include <ctr/sdk/result.hpp>

#include <filesystem>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace microvm {

class ExecRelay {
public:
    static ctr::Result<std::unique_ptr<ExecRelay>> start(const std::filesystem::path& dir, Channel& vm);
    ~ExecRelay();
    // A guest frame of an exec'd stream (>= 1), for its client.
    void deliver(const Frame& f);

private:
    // A connection. Frames for it are queued and written by a thread of its
    // own, so that a client that stops reading never stalls the VM's
    // reader (and with it every other process's output); past a bound, the
    // client is dropped and its process killed.
    struct Client {
        Channel channel;
        uint32_t stream = 0;
        std::mutex mu;
        std::condition_variable cv;
        std::deque<Frame> out;
        size_t queued = 0;
        bool closed = false;
    };
    ExecRelay(Channel& vm, ctr::sys::UniqueFd listener) : vm_(vm), listener_(std::move(listener)) {}
    void accept_loop();
    void serve(std::shared_ptr<Client> client);
    void write_out(std::shared_ptr<Client> client);
    static void close(Client& c);

    Channel& vm_;
    ctr::sys::UniqueFd listener_, wake_read_, wake_write_;
    std::thread acceptor_;
    std::mutex mu_;
    std::map<uint32_t, std::shared_ptr<Client>> streams_;
    // One per connection; finished ones are joined as new ones come.
    struct Served {
        std::shared_ptr<Client> client;
        std::thread reader, writer;
        std::shared_ptr<std::atomic<bool>> done;
    };
    std::vector<Served> served_;
    uint32_t next_stream_ = 1;
    bool stopping_ = false;
};

// The exec side: one process run through a relay, as a GuestProcess sees it.
ctr::Result<ctr::sys::UniqueFd> connect_relay(const std::filesystem::path& dir);

}  // namespace microvm
