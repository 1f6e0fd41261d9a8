// Attached sessions of the CLI: `run -i/-t`, `attach`, `start -a`. The
// terminal is put in raw mode for a container with a terminal (so that
// Ctrl-C reaches its process), its size follows ours, and stdin flows to the
// container until it ends. Without a terminal, signals we get are passed to
// the container (Docker's --sig-proxy).
#pragma once

#include "api/client.hpp"
#include <ctr/sys/unique_fd.hpp>

#include <atomic>
#include <csignal>
#include <string>
#include <thread>

namespace ctr::cli {

// The keys that detach from a session and leave the container running:
// docker's format ("ctrl-p,ctrl-q", the default; "ctrl-a,d"; "" for none).
// The bytes to watch for, or an error naming the key that is not one.
Result<std::string> parse_detach_keys(const std::string& text);
inline constexpr const char* kDefaultDetachKeys = "ctrl-p,ctrl-q";

enum class SessionEnd { ended, detached };

// Relays stdin and a terminal's output over the container's attach stream
// until the container ends (the stream closes), or until `detach_keys` are
// typed on a passed-on stdin (they never reach the container then).
// `target`: the attach route; default the container's.
Result<SessionEnd> attach_session(const api::Client& client, const std::string& id, bool interactive, bool tty,
                                  const std::string& target = "", const std::string& detach_keys = "\x10\x11");

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
    sys::FdPair pipe_;
    std::thread thread_;
};

}  // namespace ctr::cli
