#include "fault_proxy.hpp"

#include <ctr/sys/io.hpp>

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sched.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace ctr::test {

namespace {

int connect_to(const std::string& hostport) {
    auto colon = hostport.rfind(':');
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(std::stoi(hostport.substr(colon + 1))));
    ::inet_pton(AF_INET, hostport.substr(0, colon).c_str(), &a.sin_addr);
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

}  // namespace

FaultProxy::FaultProxy(std::string upstream, Faults faults)
    : upstream_(std::move(upstream)), faults_(faults), unavailable_left_(faults.unavailable) {
    listen_at("127.0.0.1");
    stop_.reset(::eventfd(0, EFD_CLOEXEC));
    thread_ = std::thread([this] { serve(); });
}

FaultProxy::FaultProxy(std::string upstream, Faults faults, const std::string& netns_path, const std::string& address)
    : upstream_(std::move(upstream)), faults_(faults), unavailable_left_(faults.unavailable) {
    // A socket belongs to the namespace it was made in: make it on a thread
    // that joined the test's namespace, and use it from anywhere.
    std::thread([&] {
        sys::UniqueFd ns(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
        if (ns.valid() && ::setns(ns.get(), CLONE_NEWNET) == 0) listen_at(address);
    }).join();
    REQUIRE_MESSAGE(!host_.empty(), ("listen in " + netns_path));
    stop_.reset(::eventfd(0, EFD_CLOEXEC));
    thread_ = std::thread([this] { serve(); });
}

void FaultProxy::listen_at(const std::string& address) {
    listener_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, address.c_str(), &a.sin_addr);
    if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listener_.get(), 64) != 0) return;
    socklen_t len = sizeof a;
    ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&a), &len);
    host_ = address + ":" + std::to_string(ntohs(a.sin_port));
}

FaultProxy::~FaultProxy() {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(stop_.get(), &one, sizeof one);
    thread_.join();
    for (auto& w : workers_) w.join();
}

std::vector<std::string> FaultProxy::requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
}

void FaultProxy::serve() {
    for (;;) {
        pollfd p[2] = {{listener_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
        if (::poll(p, 2, -1) < 0 && errno != EINTR) return;
        if (p[1].revents) return;
        if (!(p[0].revents & POLLIN)) continue;
        int client = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) continue;
        workers_.emplace_back([this, client] {
            handle(client);
            ::close(client);
        });
    }
}

void FaultProxy::handle(int client) {
    timeval tv{10, 0};
    ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    // One request: its head (the clients here send GETs and HEADs without bodies).
    std::string head;
    char buf[65536];
    while (head.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(client, buf, sizeof buf, 0);
        if (n <= 0) return;
        head.append(buf, static_cast<size_t>(n));
        if (head[0] == '\x16') {  // a TLS record: a client that speaks https to this plain server
            std::lock_guard<std::mutex> lock(mu_);
            seen_.push_back("TLS handshake");
            return;
        }
    }
    std::string line = head.substr(0, head.find("\r\n"));
    std::string range;
    if (auto r = head.find("\r\nRange: "); r != std::string::npos) range = head.substr(r + 2, head.find("\r\n", r + 2) - r - 2);
    bool blob_get = line.rfind("GET ", 0) == 0 && line.find("/blobs/sha256:") != std::string::npos;
    bool cut = false;
    {
        std::lock_guard<std::mutex> lock(mu_);
        seen_.push_back(line + (range.empty() ? "" : " [" + range + "]"));
        if (blob_get && (faults_.always_unavailable || unavailable_left_ > 0)) {
            --unavailable_left_;
            std::string refusal = "HTTP/1.1 " + faults_.refusal + "\r\n" +
                                  (faults_.retry_after.empty() ? "" : "Retry-After: " + faults_.retry_after + "\r\n") +
                                  "Content-Length: 0\r\nConnection: close\r\n\r\n";
            sys::send_all(client, refusal);
            return;
        }
        if (line.rfind("GET ", 0) == 0 && line.find("/manifests/") != std::string::npos && !faults_.manifest_body.empty()) {
            std::string answer = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: " +
                                 std::to_string(faults_.manifest_body.size()) + "\r\nConnection: close\r\n\r\n";
            sys::send_all(client, answer);
            sys::send_all(client, faults_.manifest_body);
            return;
        }
        cut = blob_get && faults_.cut_after >= 0 && !cut_done_;  // until one body was long enough to cut
    }
    // Upstream, one request per connection.
    auto eol = head.find("\r\n");
    std::string forwarded = head.substr(0, eol + 2) + "Connection: close\r\n" + head.substr(eol + 2);
    sys::UniqueFd up(connect_to(upstream_));
    if (!up.valid() || !sys::send_all(up.get(), forwarded)) return;
    int64_t body_seen = -1;  // -1: still in the response head
    std::string resp_head;
    const size_t chunk = blob_get && faults_.throttle_ms > 0 ? 16384 : sizeof buf;
    for (;;) {
        ssize_t n = ::recv(up.get(), buf, chunk, 0);
        if (n <= 0) return;
        if (chunk != sizeof buf) std::this_thread::sleep_for(std::chrono::milliseconds(faults_.throttle_ms));
        size_t take = static_cast<size_t>(n);
        if (cut) {
            if (body_seen < 0) {
                resp_head.append(buf, take);
                auto end = resp_head.find("\r\n\r\n");
                if (end != std::string::npos) body_seen = static_cast<int64_t>(resp_head.size() - end - 4);
            } else {
                body_seen += n;
            }
            bool first_cut = false;
            if (body_seen >= faults_.cut_after) {
                std::lock_guard<std::mutex> lock(mu_);
                first_cut = !cut_done_;
                cut_done_ = true;
            }
            if (first_cut) {
                // Send up to the cut, then end the connection mid-body.
                size_t over = static_cast<size_t>(body_seen - faults_.cut_after);
                sys::send_all(client, std::string_view(buf, take - std::min(over, take)));
                if (faults_.stall) {  // silent until the client gives up (or 30 s)
                    pollfd p{client, POLLIN, 0};
                    ::poll(&p, 1, 30000);
                }
                ::shutdown(client, SHUT_RDWR);
                return;
            }
        }
        if (!sys::send_all(client, std::string_view(buf, take))) return;
    }
}

}  // namespace ctr::test
