// A loopback HTTP proxy in front of a real registry that misbehaves on
// purpose, for the bad-network rows of the catalogue: it answers 503 to
// blob requests a number of times, or cuts a blob's body after some bytes.
// Each request goes upstream on its own connection ("Connection: close"), so
// that every response ends with its connection and can be cut cleanly.
#pragma once

#include <ctr/sys/unique_fd.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ctr::test {

class FaultProxy {
public:
    struct Faults {
        int unavailable = 0;          // blob GETs answered 503 (Retry-After: 0) before the real ones
        bool always_unavailable = false;
        int64_t cut_after = -1;       // the first blob body longer than this is cut there (-1: never)
        int throttle_ms = 0;          // a pause after each 16 KiB of a blob body (a slow link)
        bool stall = false;           // with cut_after: hold the connection open, silent, instead of closing it
        std::string manifest_body;    // non-empty: every manifest GET gets this body (an OCI manifest's type), not the registry's
        std::string refusal = "503 Service Unavailable";  // what `unavailable` blob GETs get
        std::string retry_after = "0";                     // their Retry-After ("" : none)
    };
    FaultProxy(std::string upstream, Faults faults);  // upstream: "127.0.0.1:PORT"
    // Listens at `address` inside the network namespace at `netns_path`
    // (a NetnsLink's), port chosen by the kernel; upstream is still reached
    // from the host's namespace.
    FaultProxy(std::string upstream, Faults faults, const std::string& netns_path, const std::string& address);
    ~FaultProxy();
    FaultProxy(const FaultProxy&) = delete;
    FaultProxy& operator=(const FaultProxy&) = delete;

    const std::string& host() const { return host_; }  // "127.0.0.1:PORT"
    // The request lines (and Range headers) seen so far, "GET /v2/... [Range: ...]".
    std::vector<std::string> requests();

private:
    void listen_at(const std::string& address);
    void serve();
    void handle(int client);

    std::string upstream_, host_;
    Faults faults_;
    sys::UniqueFd listener_, stop_;
    std::thread thread_;
    std::mutex mu_;
    std::vector<std::string> seen_;
    std::vector<std::thread> workers_;
    int unavailable_left_;
    bool cut_done_ = false;
};

}  // namespace ctr::test
