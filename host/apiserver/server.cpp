#include "apiserver/server.hpp"

#include "api/http_status.hpp"

#include <boost/asio/signal_set.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>

namespace ctr::apiserver {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using Socket = asio::local::stream_protocol::socket;

Status Server::listen(const std::filesystem::path& socket) {
    socket_path_ = socket;
    std::error_code fec;
    std::filesystem::remove(socket, fec);  // stale: we hold the root's lock, so no live server owns it
    boost::system::error_code ec;
    acceptor_ = std::make_unique<asio::local::stream_protocol::acceptor>(ioc_);
    acceptor_->open(asio::local::stream_protocol(), ec);
    if (!ec) acceptor_->bind(asio::local::stream_protocol::endpoint(socket.string()), ec);
    if (!ec) ::chmod(socket.c_str(), 0600);
    if (!ec) ::fcntl(acceptor_->native_handle(), F_SETFD, FD_CLOEXEC);
    if (!ec) acceptor_->listen(128, ec);
    if (ec) return make_error(CTR_E_UNAVAILABLE, "listen on \"" + socket.string() + "\": " + ec.message());
    return ok();
}

void Server::accept() {
    acceptor_->async_accept([this](boost::system::error_code ec, Socket sock) {
        if (ec) return;  // closed by stop()
        ::fcntl(sock.native_handle(), F_SETFD, FD_CLOEXEC);
        {
            std::lock_guard<std::mutex> lock(mu_);
            ++active_;
            open_fds_.insert(sock.native_handle());
        }
        std::thread([this, s = std::move(sock)]() mutable { session(std::move(s)); }).detach();
        accept();
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
    accept();
    ioc_.run();

    // Drain: wake idle keep-alive connections and wait for busy ones.
    std::unique_lock<std::mutex> lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RD);
    idle_.wait_for(lock, std::chrono::seconds(5), [this] { return active_ == 0; });
    std::error_code ec;
    std::filesystem::remove(socket_path_, ec);
}

void Server::stop() {
    if (daemon_.stopping.exchange(true)) return;
    boost::system::error_code ec;
    if (acceptor_) acceptor_->close(ec);
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

}  // namespace

void Server::session(Socket sock) {
    boost::beast::flat_buffer buf;
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(1 << 20);
        boost::system::error_code ec;
        http::read(sock, buf, parser, ec);
        if (ec) break;
        auto raw = parser.release();
        bool keep_alive = raw.keep_alive() && !daemon_.stopping;

        Request req;
        req.method = std::string(raw.method_string());
        std::string target(raw.target());
        auto q = target.find('?');
        req.path = target.substr(0, q);
        if (q != std::string::npos) req.query = parse_query(std::string_view(target).substr(q + 1));
        Result<Reply> reply = make_error(CTR_E_INTERNAL, "unhandled");
        if (!raw.body().empty()) {
            req.body = nlohmann::json::parse(raw.body(), nullptr, false);
            if (req.body.is_discarded()) reply = make_error(CTR_E_INVALID_ARGUMENT, "request body is not valid json");
        }
        if (!req.body.is_discarded()) {
            try {  // a handler bug must not take the daemon down
                reply = router_.dispatch(req);
            } catch (const std::exception& e) {
                reply = make_error(CTR_E_INTERNAL, std::string("internal error: ") + e.what());
            }
        }
        spdlog::debug("{} {} -> {}", req.method, target, reply ? reply->status : api::http_status_of(reply.error().status));

        if (reply && reply->upgrade) {
            static const std::string kSwitch =
                "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ctr-attach\r\n\r\n";
            asio::write(sock, asio::buffer(kSwitch), ec);
            if (ec) break;
            auto pending = buf.data();
            std::string leftover(static_cast<const char*>(pending.data()), pending.size());
            guarded(target, [&] { reply->upgrade(sock.native_handle(), std::move(leftover)); });
            break;  // the connection was the attach stream's
        }
        if (reply && reply->stream) {
            http::response<http::empty_body> res(http::status::ok, 11);
            res.set(http::field::content_type, "application/octet-stream");
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
        res.set(http::field::content_type, "application/json");
        if (reply) {
            res.result(reply->status);
            res.body() = reply->body.is_null() ? "" : reply->body.dump();
        } else {
            res.result(api::http_status_of(reply.error().status));
            res.body() = api::error_body(reply.error()).dump();
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
