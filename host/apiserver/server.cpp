#include "apiserver/server.hpp"

#include "api/http_status.hpp"
#include <ctr/sys/files.hpp>

#include <sys/un.h>

#include <boost/asio/signal_set.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include <cctype>
#include <chrono>
#include <fcntl.h>
#include <limits>
#include <optional>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>

namespace ctr::apiserver {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using Socket = asio::local::stream_protocol::socket;

Status Server::listen(const std::filesystem::path& socket, const Router& router, Dialect dialect) {
    auto e = std::make_unique<Endpoint>();
    e->socket = socket;
    e->router = &router;
    if (!dialect.error_body) dialect.error_body = [](const Error& err) { return api::error_body(err); };
    e->dialect = std::move(dialect);
    // A socket's path has room for 107 bytes (sun_path); asio throws past it.
    if (socket.string().size() >= sizeof(sockaddr_un::sun_path))
        return make_error(CTR_E_INVALID_ARGUMENT, "socket path \"" + socket.string() + "\" is longer than " +
                                                      std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes: use a shorter --root");
    std::error_code fec;
    std::filesystem::remove(socket, fec);  // stale: we hold the root's lock, so no live server owns it
    boost::system::error_code ec;
    e->acceptor = std::make_unique<asio::local::stream_protocol::acceptor>(ioc_);
    e->acceptor->open(asio::local::stream_protocol(), ec);
    if (!ec) e->acceptor->bind(asio::local::stream_protocol::endpoint(socket.string()), ec);
    if (!ec) ::chmod(socket.c_str(), e->dialect.mode);
    if (!ec && e->dialect.group >= 0 && ::chown(socket.c_str(), static_cast<uid_t>(-1), static_cast<gid_t>(e->dialect.group)) != 0)
        return sys::errno_error("chown", socket, errno);
    if (!ec) ::fcntl(e->acceptor->native_handle(), F_SETFD, FD_CLOEXEC);
    if (!ec) e->acceptor->listen(128, ec);
    if (ec) return make_error(CTR_E_UNAVAILABLE, "listen on \"" + socket.string() + "\": " + ec.message());
    endpoints_.push_back(std::move(e));
    return ok();
}

void Server::accept(Endpoint& e) {
    e.acceptor->async_accept([this, &e](boost::system::error_code ec, Socket sock) {
        if (ec) return;  // closed by stop()
        ::fcntl(sock.native_handle(), F_SETFD, FD_CLOEXEC);
        {
            std::lock_guard<std::mutex> lock(mu_);
            ++active_;
            open_fds_.insert(sock.native_handle());
        }
        std::thread([this, &e, s = std::move(sock)]() mutable { session(e, std::move(s)); }).detach();
        accept(e);
    });
}

void Server::run() {
    asio::signal_set signals(ioc_, SIGTERM, SIGINT);
    signals.async_wait([this](boost::system::error_code ec, int sig) {
        if (!ec) {
            spdlog::info("signal {}: shutting down", sig);
            stop();
        }
    });
    daemon_.request_stop = [this] { asio::post(ioc_, [this] { stop(); }); };
    for (auto& e : endpoints_) accept(*e);
    ioc_.run();

    // Drain: wake idle keep-alive connections and wait for busy ones.
    std::unique_lock<std::mutex> lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RD);
    idle_.wait_for(lock, std::chrono::seconds(5), [this] { return active_ == 0; });
    std::error_code ec;
    for (const auto& e : endpoints_) std::filesystem::remove(e->socket, ec);
}

void Server::stop() {
    if (daemon_.stopping.exchange(true)) return;
    boost::system::error_code ec;
    for (auto& e : endpoints_) e->acceptor->close(ec);
    ioc_.stop();
}

namespace {

// Runs a handler's continuation (a stream, an upgrade, an `after`) on the
// session thread. Those run past dispatch's catch, and an exception escaping
// a detached thread would end the daemon: it is logged instead, and the
// connection ends.
template <typename F>
bool guarded(const std::string& target, F&& f) {
    try {
        f();
        return true;
    } catch (const std::exception& e) {
        spdlog::error("{}: internal error: {}", target, e.what());
        return false;
    }
}

Result<Reply> dispatch(const Router& router, Request& req) {
    try {  // a handler bug must not take the daemon down
        return router.dispatch(req);
    } catch (const std::exception& e) {
        return make_error(CTR_E_INTERNAL, std::string("internal error: ") + e.what());
    }
}

// The largest body read whole (json): larger ones are refused with 413;
// tars go to routes that stream their body.
constexpr size_t kBodyLimit = 1 << 20;

// Reads a request's body piece by piece into the caller's buffer (Beast's
// buffer_body): 0 at its end, -1 when the client failed.
class BodyReader {
public:
    BodyReader(Socket& sock, boost::beast::flat_buffer& buf, http::request_parser<http::buffer_body>& parser)
        : sock_(sock), buf_(buf), parser_(parser) {}
    long read(char* out, size_t n) { return next(out, n, false); }
    // As read, but with what has come so far, without waiting for more to
    // fill `out`.
    long read_available(char* out, size_t n) { return next(out, n, true); }
    bool chunked() const { return parser_.chunked(); }

private:
    long next(char* out, size_t n, bool some) {
        while (!parser_.is_done()) {
            parser_.get().body().data = out;
            parser_.get().body().size = n;
            boost::system::error_code ec;
            if (some) http::read_some(sock_, buf_, parser_, ec);
            else http::read(sock_, buf_, parser_, ec);
            if (ec == http::error::need_buffer) ec = {};
            if (ec) return -1;
            const size_t got = n - parser_.get().body().size;
            if (got > 0) return static_cast<long>(got);
        }
        return 0;
    }
    Socket& sock_;
    boost::beast::flat_buffer& buf_;
    http::request_parser<http::buffer_body>& parser_;
};

// The whole body, when it is at most kBodyLimit: nullopt when larger (or
// when the client failed: `failed`). The rest of a larger one is read and
// dropped (up to 64 MiB), so that its client, still sending, gets to read
// the 413 instead of a broken pipe.
std::optional<std::string> read_whole(BodyReader& reader, bool& failed) {
    std::string body;
    char chunk[65536];
    failed = false;
    bool over = false;
    for (size_t dropped = 0;;) {
        long n = reader.read(chunk, sizeof chunk);
        if (n < 0) failed = true;
        if (n <= 0) return failed || over ? std::nullopt : std::optional<std::string>(std::move(body));
        if (!over && body.size() + static_cast<size_t>(n) > kBodyLimit) {
            over = true;
            body.clear();
        }
        if (!over) body.append(chunk, static_cast<size_t>(n));
        else if ((dropped += static_cast<size_t>(n)) > (64u << 20)) return std::nullopt;
    }
}

// The body of a request that hands its connection over (an upgrade, an
// exec's start) sent chunked by a client that keeps the request open for
// the stream after it (dockerode with stdin): read until it is a whole JSON
// value, as Docker decodes it, never waiting for a last chunk that does not
// come.
std::optional<std::string> read_json_value(BodyReader& reader, bool& failed) {
    std::string body;
    char chunk[4096];
    failed = false;
    while (body.size() <= kBodyLimit) {
        long n = reader.read_available(chunk, sizeof chunk);
        if (n < 0) failed = true;
        if (n <= 0) return failed ? std::nullopt : std::optional<std::string>(std::move(body));
        body.append(chunk, static_cast<size_t>(n));
        if (nlohmann::json::accept(body)) return body;
    }
    return std::nullopt;
}

// The body read by its type (json, or as it is), then the route.
Result<Reply> handle(const Router& router, Request& req, const std::string& body, const std::string& type) {
    if (!body.empty() && !type.empty() && type.find("json") == std::string::npos) {
        req.raw_body = body;  // a tar, text: the handler reads it as it is
    } else if (!body.empty()) {
        req.body = nlohmann::json::parse(body, nullptr, false);
        if (req.body.is_discarded()) return make_error(CTR_E_INVALID_ARGUMENT, "request body is not valid json");
    }
    return dispatch(router, req);
}

// The request line and headers as a Request (no body yet).
Request request_of(const http::request_parser<http::buffer_body>::value_type& head) {
    Request req;
    req.method = std::string(head.method_string());
    std::string target(head.target());
    auto q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) {
        req.raw_query = target.substr(q + 1);
        req.query = parse_query(req.raw_query);
    }
    for (const auto& field : head) {
        std::string name(field.name_string());
        for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        req.headers[name] = std::string(field.value());
    }
    return req;
}

// The path as the endpoint's router knows it; then the route, which reads
// its body itself (a streaming route) or gets it read whole (at most
// kBodyLimit: `too_large` past it). `failed`: the client broke off.
Result<Reply> read_and_route(const Router& router, const Dialect& dialect, Request& req, BodyReader& reader, const std::string& type,
                             bool& too_large, bool& failed) {
    if (dialect.route_path) req.path = CTR_TRY(dialect.route_path(req.path));
    if (router.streams_body(req)) {
        req.read_body = [&reader](char* out, size_t n) { return reader.read(out, n); };
        auto reply = dispatch(router, req);
        req.read_body = nullptr;
        return reply;
    }
    const bool hands_over = req.headers.count("upgrade") || router.hands_over(req);
    const bool open_ended = hands_over && reader.chunked();
    auto body = open_ended ? read_json_value(reader, failed) : read_whole(reader, failed);
    if (failed) return make_error(CTR_E_CANCELLED, "the client broke off");
    if (!body) {
        too_large = true;
        return make_error(CTR_E_INVALID_ARGUMENT, "request body larger than " + std::to_string(kBodyLimit) + " bytes");
    }
    return handle(router, req, *body, type);
}

// What hands a connection over: an upgrade if the client asked for one.
const std::string& handover_of(const Dialect& dialect, const Request& req) {
    return req.headers.count("upgrade") || dialect.handover_response.empty() ? dialect.upgrade_response : dialect.handover_response;
}

}  // namespace

void Server::session(const Endpoint& e, Socket sock) {
    const Dialect& dialect = e.dialect;
    boost::beast::flat_buffer buf;
    for (;;) {
        http::request_parser<http::buffer_body> parser;
        parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // counted by read_whole; streamed bodies have none
        boost::system::error_code ec;
        http::read_header(sock, buf, parser, ec);
        if (ec == http::error::need_buffer) ec = {};  // body bytes came with the header: read below
        if (ec) break;
        const auto& head = parser.get();
        bool keep_alive = head.keep_alive() && !daemon_.stopping;
        BodyReader reader(sock, buf, parser);

        const auto began = std::chrono::steady_clock::now();
        Request req = request_of(head);
        const std::string target(head.target());
        bool too_large = false, failed = false;
        Result<Reply> reply = read_and_route(*e.router, dialect, req, reader, std::string(head[http::field::content_type]), too_large, failed);
        if (failed) break;
        if (too_large || !parser.is_done()) keep_alive = false;  // what is left unread ends the connection
        // With the time the route took (a stream's or an upgrade's until its
        // reply began): docs/performance.md reads these.
        spdlog::debug("{} {} -> {} in {:.2f} ms", req.method, target, reply ? reply->status : api::http_status_of(reply.error().status),
                      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count());

        if (reply && reply->upgrade) {
            asio::write(sock, asio::buffer(handover_of(dialect, req)), ec);
            if (ec) break;
            auto pending = buf.data();
            std::string leftover(static_cast<const char*>(pending.data()), pending.size());
            guarded(target, [&] { reply->upgrade(sock.native_handle(), std::move(leftover)); });
            break;  // the connection was the attach stream's
        }
        if (reply && reply->stream) {
            http::response<http::empty_body> res(static_cast<http::status>(reply->status), 11);
            res.set(http::field::content_type, reply->content_type.empty() ? "application/octet-stream" : reply->content_type);
            for (const auto& [k, v] : dialect.headers) res.set(k, v);
            for (const auto& [k, v] : reply->headers) res.set(k, v);
            res.keep_alive(false);  // the connection ends with the stream: say so, or a client reuses it
            res.chunked(true);
            http::response_serializer<http::empty_body> sr(res);
            http::write_header(sock, sr, ec);
            if (ec) break;
            Writer write = [&](std::string_view data) {
                if (data.empty()) return true;
                boost::system::error_code wec;
                asio::write(sock, http::make_chunk(asio::buffer(data.data(), data.size())), wec);
                return !wec;
            };
            // Without the last chunk the client sees the stream cut short.
            if (guarded(target, [&] { reply->stream(write); })) asio::write(sock, http::make_chunk_last(), ec);
            break;  // a stream ends its connection
        }

        http::response<http::string_body> res;
        res.version(11);
        res.set(http::field::content_type, reply && !reply->content_type.empty() ? reply->content_type : "application/json");
        for (const auto& [k, v] : dialect.headers) res.set(k, v);
        if (reply) {
            for (const auto& [k, v] : reply->headers) res.set(k, v);
            res.result(reply->status);
            if (reply->text) res.body() = *reply->text;
            else res.body() = reply->body.is_null() ? "" : reply->body.dump();
            if (req.method == "HEAD") res.body().clear();  // a HEAD reply has headers only
        } else {
            res.result(too_large ? 413 : api::http_status_of(reply.error().status));
            if (req.method != "HEAD") res.body() = dialect.error_body(reply.error()).dump();
        }
        res.keep_alive(keep_alive);
        res.prepare_payload();
        http::write(sock, res, ec);
        if (reply && reply->after) guarded(target, [&] { reply->after(); });
        if (ec || !keep_alive) break;
    }
    boost::system::error_code ignored;
    sock.shutdown(Socket::shutdown_both, ignored);
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.erase(sock.native_handle());
    --active_;
    idle_.notify_all();
}

}  // namespace ctr::apiserver
