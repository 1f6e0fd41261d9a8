#include "dns_server.hpp"

#include <ctr/sys/unique_fd.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>

namespace ctr::net {

namespace {

constexpr uint16_t kTypeA = 1;
constexpr int kRcodeFormErr = 1, kRcodeNxDomain = 3;

uint16_t be16(const std::string& s, size_t at) {
    return static_cast<uint16_t>((static_cast<uint8_t>(s[at]) << 8) | static_cast<uint8_t>(s[at + 1]));
}
void put16(std::string& s, uint16_t v) {
    s.push_back(static_cast<char>(v >> 8));
    s.push_back(static_cast<char>(v & 0xff));
}

// The reply header: the query's id, opcode and RD, with QR, AA and RA set.
std::string reply_header(const std::string& q, int rcode, uint16_t qdcount, uint16_t ancount) {
    std::string r;
    r += q.substr(0, 2);
    uint8_t flags1 = static_cast<uint8_t>(0x80 | (q[2] & 0x79) | 0x04);  // QR, opcode, AA, RD
    uint8_t flags2 = static_cast<uint8_t>(0x80 | rcode);                  // RA, rcode
    r.push_back(static_cast<char>(flags1));
    r.push_back(static_cast<char>(flags2));
    put16(r, qdcount);
    put16(r, ancount);
    put16(r, 0);
    put16(r, 0);
    return r;
}

}  // namespace

std::optional<std::string> answer_query(const std::string& q, const Zone& zone, Ipv4 client) {
    if (q.size() < 12) return std::nullopt;  // not even a header: drop it
    if ((q[2] & 0x80) != 0) return std::nullopt;  // a response, not a query
    if (be16(q, 4) != 1) return reply_header(q, kRcodeFormErr, 0, 0);
    // QNAME: labels up to a zero byte; compression is not allowed here.
    size_t at = 12;
    std::string name;
    while (true) {
        if (at >= q.size()) return reply_header(q, kRcodeFormErr, 0, 0);
        auto len = static_cast<uint8_t>(q[at]);
        if (len == 0) break;
        if (len > 63 || at + 1 + len > q.size()) return reply_header(q, kRcodeFormErr, 0, 0);
        if (!name.empty()) name += '.';
        name += q.substr(at + 1, len);
        at += 1 + len;
    }
    at += 1;
    if (at + 4 > q.size()) return reply_header(q, kRcodeFormErr, 0, 0);
    uint16_t qtype = be16(q, at);
    size_t question_end = at + 4;
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });

    auto it = zone.names.find(name);
    if (it == zone.names.end())
        if (auto more = zone.more_for_client.find(client.value); more != zone.more_for_client.end()) {
            it = more->second.find(name);
            if (it == more->second.end()) it = zone.names.end();
        }
    if (it == zone.names.end()) {
        // A name with no dot that we do not know is nobody's: answer at once.
        // Others go upstream, unless the network is internal.
        if (zone.internal || name.find('.') == std::string::npos)
            return reply_header(q, kRcodeNxDomain, 1, 0) + q.substr(12, question_end - 12);
        return std::nullopt;
    }
    std::string r = reply_header(q, 0, 1, qtype == kTypeA ? 1 : 0) + q.substr(12, question_end - 12);
    if (qtype == kTypeA) {
        put16(r, 0xc00c);  // the name: a pointer to the question's
        put16(r, kTypeA);
        put16(r, 1);  // IN
        put16(r, 0);
        put16(r, 5);  // TTL 5 s: containers come and go
        put16(r, 4);
        uint32_t ip = it->second.value;
        for (int shift = 24; shift >= 0; shift -= 8) r.push_back(static_cast<char>((ip >> shift) & 0xff));
    }
    return r;
}

std::vector<Ipv4> host_nameservers() {
    std::vector<Ipv4> out;
    std::ifstream in("/etc/resolv.conf");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string key, value;
        if (words >> key >> value && key == "nameserver")
            if (auto ip = parse_ipv4(value, "nameserver")) out.push_back(*ip);
    }
    return out;
}

struct DnsServer::Impl {
    Warn warn;
    std::vector<Ipv4> upstreams;
    std::mutex mu;
    std::vector<Zone> zones;  // guarded by mu
    bool changed = false;     // guarded by mu
    std::atomic<bool> stop{false};
    sys::UniqueFd wake{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
    std::thread thread;

    struct Listener {
        Zone zone;
        sys::UniqueFd fd;
    };
    struct Pending {  // a question passed upstream
        sys::UniqueFd fd;
        int listener_fd;
        sockaddr_in client;
        std::chrono::steady_clock::time_point deadline;
    };

    void run();
    void reload(std::map<uint32_t, Listener>& listeners);
    void forward(const std::string& q, int listener_fd, const sockaddr_in& client, std::vector<Pending>& pending);
};

void DnsServer::Impl::reload(std::map<uint32_t, Listener>& listeners) {
    std::vector<Zone> now;
    {
        std::lock_guard lock(mu);
        if (!changed) return;
        changed = false;
        now = zones;
    }
    std::map<uint32_t, Listener> next;
    for (auto& z : now) {
        auto old = listeners.find(z.listen.value);
        if (old != listeners.end()) {
            old->second.zone = std::move(z);
            next.emplace(old->first, std::move(old->second));
            listeners.erase(old);
            continue;
        }
        sys::UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        int one = 1;
        ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        // The gateway address may still be settling on a new bridge.
        ::setsockopt(fd.get(), IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(53);
        a.sin_addr.s_addr = htonl(z.listen.value);
        if (!fd.valid() || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            warn("dns for network \"" + z.network + "\": cannot listen on " + z.listen.str() + ":53: " + strerror(errno));
            continue;
        }
        uint32_t key = z.listen.value;
        next.emplace(key, Listener{std::move(z), std::move(fd)});
    }
    listeners = std::move(next);  // what is left in the old map closes here
}

void DnsServer::Impl::forward(const std::string& q, int listener_fd, const sockaddr_in& client, std::vector<Pending>& pending) {
    if (upstreams.empty() || pending.size() >= 256) return;  // the client retries or gives up
    sys::UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid()) return;
    sockaddr_in up{};
    up.sin_family = AF_INET;
    up.sin_port = htons(53);
    up.sin_addr.s_addr = htonl(upstreams.front().value);
    if (::sendto(fd.get(), q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&up), sizeof up) < 0) return;
    pending.push_back({std::move(fd), listener_fd, client, std::chrono::steady_clock::now() + std::chrono::seconds(3)});
}

void DnsServer::Impl::run() {
    std::map<uint32_t, Listener> listeners;
    std::vector<Pending> pending;
    char buf[1500];
    while (!stop) {
        reload(listeners);
        std::vector<pollfd> fds{{wake.get(), POLLIN, 0}};
        std::vector<Listener*> order;
        for (auto& [key, l] : listeners) {
            fds.push_back({l.fd.get(), POLLIN, 0});
            order.push_back(&l);
        }
        for (auto& p : pending) fds.push_back({p.fd.get(), POLLIN, 0});
        if (::poll(fds.data(), fds.size(), pending.empty() ? -1 : 500) < 0 && errno != EINTR) break;
        if (fds[0].revents & POLLIN) {
            uint64_t n;
            [[maybe_unused]] auto got = ::read(wake.get(), &n, sizeof n);
        }
        for (size_t i = 0; i < order.size(); ++i) {
            if (!(fds[1 + i].revents & POLLIN)) continue;
            sockaddr_in client{};
            socklen_t len = sizeof client;
            ssize_t got = ::recvfrom(order[i]->fd.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&client), &len);
            if (got <= 0) continue;
            std::string q(buf, static_cast<size_t>(got));
            if (auto reply = answer_query(q, order[i]->zone, Ipv4{ntohl(client.sin_addr.s_addr)}))
                ::sendto(order[i]->fd.get(), reply->data(), reply->size(), 0, reinterpret_cast<sockaddr*>(&client), len);
            else if (!order[i]->zone.internal)
                forward(q, order[i]->fd.get(), client, pending);
        }
        auto now = std::chrono::steady_clock::now();
        size_t base = 1 + order.size();
        std::vector<Pending> still;
        for (size_t i = 0; i < pending.size(); ++i) {
            auto& p = pending[i];
            if (base + i < fds.size() && (fds[base + i].revents & POLLIN)) {
                ssize_t got = ::recv(p.fd.get(), buf, sizeof buf, 0);
                bool listener_alive = std::any_of(listeners.begin(), listeners.end(), [&](auto& kv) { return kv.second.fd.get() == p.listener_fd; });
                if (got > 0 && listener_alive)
                    ::sendto(p.listener_fd, buf, static_cast<size_t>(got), 0, reinterpret_cast<sockaddr*>(&p.client), sizeof p.client);
                continue;
            }
            if (now < p.deadline) still.push_back(std::move(p));
        }
        pending = std::move(still);
    }
}

DnsServer::DnsServer(Warn warn, std::vector<Ipv4> upstreams) : impl_(std::make_unique<Impl>()) {
    impl_->warn = std::move(warn);
    impl_->upstreams = std::move(upstreams);
    impl_->thread = std::thread([this] { impl_->run(); });
}

DnsServer::~DnsServer() {
    impl_->stop = true;
    uint64_t one = 1;
    [[maybe_unused]] auto put = ::write(impl_->wake.get(), &one, sizeof one);
    if (impl_->thread.joinable()) impl_->thread.join();
}

void DnsServer::update(std::vector<Zone> zones) {
    {
        std::lock_guard lock(impl_->mu);
        impl_->zones = std::move(zones);
        impl_->changed = true;
    }
    uint64_t one = 1;
    [[maybe_unused]] auto put = ::write(impl_->wake.get(), &one, sizeof one);
}

}  // namespace ctr::net
