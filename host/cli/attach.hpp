// Attached sessions of the CLI: `run -i/-t`, `attach`, `start -a`. The
// terminal is put in raw mode for a container with a terminal (so that
// Ctrl-C reaches its process), its size follows ours, and stdin flows to the
// container until it ends. Without a terminal, signals we get are passed to
// the container (Docker's --sig-proxy).
#pragma once

#include "api/client.hpp"

#include <atomic>
#include <csignal>
#include <string>
#include <thread>

namespace ctr::cli {

// Relays stdin and a terminal's output over the container's attach stream
// until the container ends (the stream closes).
// `target`: the attach route; default the container's.
Status attach_session(const api::Client& client, const std::string& id, bool interactive, bool tty, const std::string& target = "");

// While alive, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to
// this process are sent on to the container instead.
class SignalProxy {
public:
    SignalProxy(const api::Client& client, std::string id);
    ~SignalProxy();
    SignalProxy(const SignalProxy&) = delete;
    SignalProxy& operator=(const SignalProxy&) = delete;

private:
    const api::Client& client_;
    std::string id_;
    int pipe_[2] = {-1, -1};
    std::thread thread_;
};

}  // namespace ctr::cli
