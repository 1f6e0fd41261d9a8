// The HTTP/1.1 server on the daemon's unix socket: an Asio acceptor, one
// thread per connection (synchronous Beast), graceful shutdown that closes
// idle connections and waits for the busy ones.
#pragma once

#include "apiserver/daemon.hpp"
#include "apiserver/router.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>

namespace ctr::apiserver {

class Server {
public:
    Server(Daemon& daemon, const Router& router) : daemon_(daemon), router_(router) {}

    // Binds the socket (mode 0600: the API is root-equivalent).
    Status listen(const std::filesystem::path& socket);
    // Serves until stop() (or SIGTERM/SIGINT); then drains connections.
    void run();
    void stop();

private:
    void accept();
    void session(boost::asio::local::stream_protocol::socket sock);

    Daemon& daemon_;
    const Router& router_;
    boost::asio::io_context ioc_;
    std::unique_ptr<boost::asio::local::stream_protocol::acceptor> acceptor_;
    std::filesystem::path socket_path_;
    std::mutex mu_;
    std::condition_variable idle_;
    std::set<int> open_fds_;
    int active_ = 0;
};

}  // namespace ctr::apiserver
