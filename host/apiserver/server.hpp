// The HTTP/1.1 server on the daemon's unix sockets (ours, and Docker's when
// enabled): an Asio acceptor per socket, one thread per connection
// (synchronous Beast), graceful shutdown that closes idle connections and
// waits for the busy ones.
#pragma once

#include "apiserver/daemon.hpp"
#include "apiserver/router.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <condition_variable>
#include <functional>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace ctr::apiserver {

// How one socket speaks: our API's, or Docker's. The routes are the
// endpoint's router; the dialect is what every reply of it shares.
struct Dialect {
    // The body of an error reply (ours: {"error": {...}}; Docker's: {"message"}).
    std::function<nlohmann::json(const Error&)> error_body;
    // Headers on every reply (Docker's API-Version, ...).
    std::vector<std::pair<std::string, std::string>> headers;
    // The path a request names, as the router knows it ("/v1.41/x" -> "/x");
    // an error refuses the request (an API version out of range).
    std::function<Result<std::string>(const std::string& path)> route_path;
    // The status line and headers that hand a connection over (101).
    std::string upgrade_response = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ctr-attach\r\n\r\n";
    // The same for a client that did not ask to upgrade (empty: as above).
    // Docker then answers 200 and streams until it closes the connection;
    // a 101 it did not ask for makes such a client (dockerode) drop it.
    std::string handover_response;
    // Permissions of the socket file, and its group (-1: root's).
    unsigned mode = 0600;
    int group = -1;
};

class Server {
public:
    explicit Server(Daemon& daemon) : daemon_(daemon) {}

    // Binds `socket` (by default mode 0600: the API is root-equivalent) and
    // serves `router` on it in `dialect`. Several endpoints share one server.
    Status listen(const std::filesystem::path& socket, const Router& router, Dialect dialect = {});
    // Serves until stop() (or SIGTERM/SIGINT); then drains connections.
    void run();
    void stop();

private:
    struct Endpoint {
        std::filesystem::path socket;
        const Router* router;
        Dialect dialect;
        std::unique_ptr<boost::asio::local::stream_protocol::acceptor> acceptor;
    };
    void accept(Endpoint& e);
    void session(const Endpoint& e, boost::asio::local::stream_protocol::socket sock);

    Daemon& daemon_;
    boost::asio::io_context ioc_;
    std::vector<std::unique_ptr<Endpoint>> endpoints_;
    std::mutex mu_;
    std::condition_variable idle_;
    std::set<int> open_fds_;
    int active_ = 0;
};

}  // namespace ctr::apiserver
