#include "api/client.hpp"

#include "api/http_status.hpp"
#include <ctr/pluginhost/host_env.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/process.hpp>
#include <ctr/sys/spawn.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string_view>
#include <limits>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <thread>


namespace ctr::api {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using Socket = asio::local::stream_protocol::socket;

std::filesystem::path socket_path(const Paths& paths) { return paths.run_dir() / "api.sock"; }

namespace {

// `timeout_s` > 0 bounds every read and write on the connection.
Result<Socket> connect(asio::io_context& ioc, const std::filesystem::path& path, int timeout_s = 0) {
    Socket sock(ioc);
    if (path.string().size() >= sizeof(sockaddr_un::sun_path))  // asio throws past it
        return make_error(CTR_E_INVALID_ARGUMENT, "socket path \"" + path.string() + "\" is longer than " +
                                                      std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes: use a shorter --root");
    boost::system::error_code ec;
    sock.connect(asio::local::stream_protocol::endpoint(path.string()), ec);
    if (ec)
        return make_error(CTR_E_UNAVAILABLE, "no API server answers at " + path.string() + ": " + ec.message());
    if (timeout_s > 0) {
        timeval tv{timeout_s, 0};
        ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    return sock;
}

http::request<http::string_body> make_request(const std::string& method, const std::string& target,
                                              const nlohmann::json& body) {
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, "container");
    req.set(http::field::user_agent, "container-cli");
    if (!body.is_null()) {
        req.set(http::field::content_type, "application/json");
        req.body() = body.dump();
    }
    req.prepare_payload();
    return req;
}

}  // namespace

Result<nlohmann::json> Client::call(const std::string& method, const std::string& target,
                                    const nlohmann::json& body) const {
    return call_with_timeout(method, target, body, 0);
}

Result<nlohmann::json> Client::call_with_timeout(const std::string& method, const std::string& target,
                                                 const nlohmann::json& body, int timeout_s) const {
    asio::io_context ioc;
    auto sock = CTR_TRY(connect(ioc, socket_, timeout_s));
    boost::system::error_code ec;
    http::write(sock, make_request(method, target, body), ec);
    if (ec) return make_error(CTR_E_UNAVAILABLE, "send to API server: " + ec.message());
    boost::beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(sock, buf, res, ec);
    if (ec) return make_error(CTR_E_UNAVAILABLE, "read from API server: " + ec.message());
    auto j = res.body().empty() ? nlohmann::json() : nlohmann::json::parse(res.body(), nullptr, false);
    if (j.is_discarded()) return make_error(CTR_E_INTERNAL, "API server sent a body that is not json");
    int code = res.result_int();
    if (code < 200 || code > 299) return error_from_body(code, j);
    return j;
}

Status Client::stream(const std::string& target, const std::function<bool(std::string_view)>& on_data) const {
    return stream_post_impl("GET", target, nullptr, on_data);
}

Status Client::stream_post(const std::string& target, const nlohmann::json& body,
                           const std::function<bool(std::string_view)>& on_data) const {
    return stream_post_impl("POST", target, body, on_data);
}

Status Client::stream_post_impl(const std::string& method, const std::string& target, const nlohmann::json& body,
                                const std::function<bool(std::string_view)>& on_data) const {
    asio::io_context ioc;
    auto sock = CTR_TRY(connect(ioc, socket_));
    boost::system::error_code ec;
    http::write(sock, make_request(method, target, body), ec);
    if (ec) return make_error(CTR_E_UNAVAILABLE, "send to API server: " + ec.message());
    boost::beast::flat_buffer buf;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // streams have no fixed size
    http::read_header(sock, buf, parser, ec);
    if (ec) return make_error(CTR_E_UNAVAILABLE, "read from API server: " + ec.message());
    int code = parser.get().result_int();
    std::string error_text;
    while (!parser.is_done()) {
        char tmp[16384];
        parser.get().body().data = tmp;
        parser.get().body().size = sizeof tmp;
        // read_some, not read: read returns only once the body is done or
        // the 16 KiB above are full, which holds a container's line back
        // until then. read_some hands on whatever one read brought.
        http::read_some(sock, buf, parser, ec);
        if (ec == http::error::need_buffer) ec = {};
        if (ec) return make_error(CTR_E_UNAVAILABLE, "read from API server: " + ec.message());
        size_t n = sizeof tmp - parser.get().body().size;
        if (n == 0) continue;
        if (code >= 300) error_text.append(tmp, n);
        else if (!on_data(std::string_view(tmp, n))) return ok();
    }
    if (code >= 300) return error_from_body(code, nlohmann::json::parse(error_text, nullptr, false));
    return ok();
}

bool Client::ping() const {
    auto r = call_with_timeout("GET", "/v1/ping", nullptr, 5);
    return r.has_value();
}

namespace {

// Whether a server accepts on `path`: a connect and nothing more. A stale
// socket of a dead daemon refuses; a full request would cost every command
// of the CLI a round trip before its own.
bool accepting(const std::filesystem::path& path) {
    sys::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (!fd.valid() || path.string().size() >= sizeof a.sun_path) return false;
    std::memcpy(a.sun_path, path.c_str(), path.string().size());
    return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
}

// A datagram socket at `path` on which a daemon we start says READY=1 once
// it serves (the sd_notify protocol, NOTIFY_SOCKET): we wake then, not at
// the next poll. Not valid when the path is too long for a socket: polling
// alone then.
sys::UniqueFd ready_socket(const std::filesystem::path& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (path.string().size() >= sizeof a.sun_path) return {};
    std::memcpy(a.sun_path, path.c_str(), path.string().size());
    sys::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ::unlink(path.c_str());
    if (!fd.valid() || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return {};
    return fd;
}

// Whether READY=1 came within `ms` (anything else sent there is read and dropped).
bool said_ready(int fd, int ms) {
    if (fd < 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        return false;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return false;
    char buf[256];
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    return n > 0 && std::string_view(buf, static_cast<size_t>(n)).find("READY=1") != std::string_view::npos;
}

// Why a daemon we started exited: the last line of its start log that is
// not an info line (a failure in serving is followed by "container-apiserver
// stopped"), else its last line.
std::string start_failure(const std::filesystem::path& start_log) {
    auto text = sys::read_file(start_log);
    if (!text || text->empty()) return "it exited without a message";
    std::string last, last_any;
    for (size_t at = 0; at < text->size();) {
        size_t nl = text->find('\n', at);
        if (nl == std::string::npos) nl = text->size();
        std::string line = text->substr(at, nl - at);
        if (!line.empty()) {
            last_any = line;
            if (line.find(": info: ") == std::string::npos) last = line;
        }
        at = nl + 1;
    }
    if (last.empty()) last = last_any;
    return last.empty() ? "it exited without a message" : last;
}

}  // namespace

Result<bool> ensure_daemon(const Paths& paths, bool debug, const std::vector<std::string>& daemon_args) {
    Client client(socket_path(paths));
    if (accepting(socket_path(paths))) {
        // A daemon killed a moment ago still accepts while its last threads
        // exit, and resets what it took once they have: wait for it to be
        // gone, then start a new one.
        const pid_t pid = sys::read_pid_file(paths.run_dir() / "apiserver.pid");
        if (!sys::process_exiting(pid)) return false;
        for (int i = 0; i < 500 && !sys::process_ended(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (!sys::process_ended(pid)) return make_error(CTR_E_UNAVAILABLE, "the API server (pid " + std::to_string(pid) + ") is exiting and has not ended within 5 s");
    }

    CTR_TRY_STATUS(sys::make_dirs(paths.run_dir(), 0700));
    // One start log per starting CLI: several may race to start the daemon.
    auto start_log = paths.run_dir() / ("apiserver.start." + std::to_string(::getpid()) + ".log");
    auto exe = pluginhost::helper_path("container-apiserver");
    std::vector<std::string> args = {exe.string(), "--root", paths.root().string(), "--background"};
    if (debug) args.push_back("--debug");
    args.insert(args.end(), daemon_args.begin(), daemon_args.end());
    auto ready_path = paths.run_dir() / ("apiserver.ready." + std::to_string(::getpid()) + ".sock");
    sys::UniqueFd ready = ready_socket(ready_path);
    sys::SpawnOptions so;
    so.stderr_path = start_log.string();  // its one line of error, if it cannot start
    so.truncate = true;
    so.new_session = true;                // not in our session: it outlives us
    if (ready.valid()) so.env.push_back("NOTIFY_SOCKET=" + ready_path.string());
    auto remove_log = [&] {
        std::error_code ec;
        std::filesystem::remove(start_log, ec);
        if (ready.valid()) std::filesystem::remove(ready_path, ec);
    };
    auto spawned = sys::spawn(args, so);
    if (!spawned) {
        remove_log();
        return spawned.error();
    }
    pid_t pid = *spawned;

    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    bool ours_running = true;
    while (std::chrono::steady_clock::now() < deadline) {
        if (client.ping()) {
            remove_log();
            return ours_running;
        }
        int status = 0;
        if (ours_running && waitpid(pid, &status, WNOHANG) == pid) {
            ours_running = false;
            const std::string why = start_failure(start_log);
            if (why.find("another container-apiserver is running") == std::string::npos) {
                remove_log();
                return make_error(CTR_E_UNAVAILABLE, "the API server did not start: " + why);
            }
            // Another one holds the lock: one that another CLI started (it
            // will answer soon), or one still on its way out after a stop
            // (it never will). Try again shortly: one of ours gets the lock
            // once that one has gone.
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            if (client.ping()) {
                remove_log();
                return false;
            }
            auto again = sys::spawn(args, so);
            if (again) {
                pid = *again;
                ours_running = true;
            }
        }
        if (said_ready(ready.get(), 10) && ours_running) {
            remove_log();
            return true;
        }
    }
    remove_log();
    return make_error(CTR_E_DEADLINE_EXCEEDED, "the API server did not answer within 15 s");
}

Result<Client::Upgraded> Client::upgrade(const std::string& target, const std::string& first) const {
    // Plain socket calls: after the 101 the connection is no longer HTTP,
    // and the caller polls it together with its terminal.
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::string path = socket_.string();
    if (fd < 0 || path.size() >= sizeof a.sun_path) return make_error(CTR_E_UNAVAILABLE, "cannot reach the API server at " + path);
    std::memcpy(a.sun_path, path.c_str(), path.size());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return make_error(CTR_E_UNAVAILABLE, "cannot reach the API server at " + path);
    }
    std::string req = "POST " + target + " HTTP/1.1\r\nHost: container\r\nConnection: Upgrade\r\nUpgrade: ctr-attach\r\nContent-Length: 0\r\n\r\n" + first;
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
        ::close(fd);
        return make_error(CTR_E_UNAVAILABLE, "the API server closed the connection");
    }
    std::string got;
    char buf[4096];
    size_t end;
    while ((end = got.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) {
            ::close(fd);
            return make_error(CTR_E_UNAVAILABLE, "the API server closed the connection");
        }
        got.append(buf, static_cast<size_t>(n));
    }
    std::string head = got.substr(0, end);
    std::string rest = got.substr(end + 4);
    if (head.rfind("HTTP/1.1 101", 0) == 0) return Upgraded{fd, rest};
    // An error answer: its JSON body says what.
    size_t length = 0;
    auto cl = head.find("Content-Length: ");
    if (cl == std::string::npos) cl = head.find("content-length: ");
    if (cl != std::string::npos) length = std::stoul(head.substr(cl + 16));
    while (rest.size() < length) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        rest.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    auto j = nlohmann::json::parse(rest, nullptr, false);
    if (j.is_object() && j.contains("message"))
        return Error{j.value("code", int32_t{CTR_E_INTERNAL}), j.value("message", std::string()), j.value("detail", int32_t{0})};
    return make_error(CTR_E_INTERNAL, "attach: unexpected answer: " + head.substr(0, head.find('\r')));
}

}  // namespace ctr::api
