#include "apiserver/port_proxy.hpp"

#include <ctr/sys/files.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <atomic>
#include <thread>
#include <unistd.h>

namespace ctr::apiserver {

struct PortProxy::Listener {
    sys::UniqueFd fd;
    sys::FdPair stop;  // written to end the accept loop
    std::thread thread;
    ~Listener() {
        if (stop.write.valid()) {
            char byte = 1;
            (void)::write(stop.write.get(), &byte, 1);
        }
        if (thread.joinable()) thread.join();
    }
};

namespace {

// Copies both ways until each side has said it is done.
void pump(int a, int b) {
    bool a_open = true, b_open = true;
    char buf[65536];
    while (a_open || b_open) {
        pollfd p[2] = {{a, static_cast<short>(a_open ? POLLIN : 0), 0}, {b, static_cast<short>(b_open ? POLLIN : 0), 0}};
        if (::poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        for (int i = 0; i < 2; ++i) {
            int from = i == 0 ? a : b, to = i == 0 ? b : a;
            bool& open = i == 0 ? a_open : b_open;
            if (!open || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = ::read(from, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {  // done (or broken): the other side hears the end
                open = false;
                ::shutdown(to, SHUT_WR);
                if (n < 0) return;
                continue;
            }
            for (ssize_t off = 0; off < n;) {
                ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
                if (w < 0 && errno == EINTR) continue;
                if (w <= 0) return;
                off += w;
            }
        }
    }
}

// Connections carried at once, over every port: each is a thread, so a
// client that opens them without end must not cost the daemon its memory.
// One over the bound is closed at once (the client sees a reset).
constexpr int kMaxConnections = 1024;
std::atomic<int> g_connections{0};

// One connection: a socket made in the user's network namespace (this
// thread joins it; the thread ends with the connection) to the container.
void forward(sys::UniqueFd client, std::string netns, sockaddr_in target) {
    struct Counted {
        ~Counted() { --g_connections; }
    } counted;
    sys::UniqueFd ns(::open(netns.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns.valid() || ::setns(ns.get(), CLONE_NEWNET) != 0) return;
    sys::UniqueFd up(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!up.valid() || ::connect(up.get(), reinterpret_cast<sockaddr*>(&target), sizeof target) != 0) return;
    pump(client.get(), up.get());
}

void accept_loop(int listen_fd, int stop_fd, std::string netns, sockaddr_in target) {
    for (;;) {
        pollfd p[2] = {{listen_fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
        if (::poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (p[1].revents) return;
        sys::UniqueFd client(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
        if (!client.valid()) continue;
        if (++g_connections > kMaxConnections) {
            --g_connections;
            continue;  // closed as `client` goes
        }
        std::thread(forward, std::move(client), netns, target).detach();
    }
}

int unprivileged_port_start() {
    auto text = sys::read_file("/proc/sys/net/ipv4/ip_unprivileged_port_start");
    return text ? std::atoi(text->c_str()) : 1024;
}

Result<sys::UniqueFd> listen_on(const services::PortMapping& m) {
    const std::string where = (m.host_ip.empty() ? "0.0.0.0" : m.host_ip) + ":" + std::to_string(m.host_port);
    if (m.protocol != "tcp")
        return make_error(CTR_E_UNIMPLEMENTED, "publish " + where + "/" + m.protocol + ": a rootless daemon publishes TCP ports only");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(m.host_port));
    if (::inet_pton(AF_INET, m.host_ip.empty() ? "0.0.0.0" : m.host_ip.c_str(), &addr.sin_addr) != 1)
        return make_error(CTR_E_INVALID_ARGUMENT, "publish " + where + ": a rootless daemon publishes on IPv4 addresses only");
    sys::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return sys::errno_error("socket", where, errno);
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        int e = errno;
        if (e == EACCES && m.host_port < unprivileged_port_start())
            return make_error(CTR_E_PERMISSION_DENIED, "publish " + where + ": host ports below " + std::to_string(unprivileged_port_start()) +
                                                           " need root (net.ipv4.ip_unprivileged_port_start); choose a higher one");
        if (e == EADDRINUSE) return make_error(CTR_E_ALREADY_EXISTS, "publish " + where + ": the port is in use on the host");
        return sys::errno_error("bind", where, e);
    }
    if (::listen(fd.get(), 128) != 0) return sys::errno_error("listen", where, errno);
    return fd;
}

}  // namespace

Result<int> PortProxy::free_host_port(const services::PortMapping& m) {
    services::PortMapping any = m;
    any.host_port = 0;  // the kernel's choice, among the ports free now
    auto fd = CTR_TRY(listen_on(any));
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) return sys::errno_error("getsockname", "publish", errno);
    return static_cast<int>(ntohs(addr.sin_port));
}

PortProxy::PortProxy(std::filesystem::path netns) : netns_(std::move(netns)) {}

PortProxy::~PortProxy() {
    std::lock_guard<std::mutex> lock(mu_);
    by_id_.clear();
}

Status PortProxy::open(const std::string& id, const std::string& target_ip, const std::vector<services::PortMapping>& ports) {
    std::vector<std::unique_ptr<Listener>> made;
    for (const auto& m : ports) {
        sockaddr_in target{};
        target.sin_family = AF_INET;
        target.sin_port = htons(static_cast<uint16_t>(m.container_port));
        if (::inet_pton(AF_INET, target_ip.c_str(), &target.sin_addr) != 1)
            return make_error(CTR_E_INVALID_ARGUMENT, "publish: no IPv4 address for container " + id.substr(0, 12));
        auto l = std::make_unique<Listener>();
        l->fd = CTR_TRY(listen_on(m));
        l->stop = CTR_TRY(sys::make_pipe(O_CLOEXEC));
        l->thread = std::thread(accept_loop, l->fd.get(), l->stop.read.get(), netns_.string(), target);
        made.push_back(std::move(l));
    }
    std::lock_guard<std::mutex> lock(mu_);
    auto& mine = by_id_[id];
    for (auto& l : made) mine.push_back(std::move(l));
    spdlog::debug("rootless: {} port(s) of {} published", ports.size(), id.substr(0, 12));
    return ok();
}

void PortProxy::close(const std::string& id) {
    std::vector<std::unique_ptr<Listener>> going;
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = by_id_.find(id);
        if (it == by_id_.end()) return;
        going = std::move(it->second);
        by_id_.erase(it);
    }
}

bool PortProxy::has(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    return by_id_.count(id) > 0;
}

}  // namespace ctr::apiserver
