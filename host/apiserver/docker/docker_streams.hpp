// The byte streams of the Docker API that logs, attach and exec share:
// Docker's 8-byte framing, a container's log files followed as they grow,
// and the relay between a hijacked client connection and a shim's attach
// socket (api/attach_protocol.hpp on the shim's side, raw bytes on the
// client's).
#pragma once

#include "apiserver/containers.hpp"
#include "apiserver/daemon.hpp"

#include <ctr/sys/unique_fd.hpp>

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ctr::apiserver::docker {

// `data` behind Docker's 8-byte header: its stream (1 stdout, 2 stderr) and
// its length, big-endian: what the docker CLI and the SDKs demultiplex.
std::string framed(char stream, const std::string& data);

// One of a container's log files, read from `offset` on.
struct Source {
    std::filesystem::path file;
    char stream;
    std::streamoff offset = 0;
    std::shared_ptr<sys::UniqueFd> held;  // set: read through it, the file's path may be gone
};
// What `s` has past its offset, now.
std::string read_more(Source& s);

// The log files held open from now on, each read from its present end (made
// if the shim has not yet: it appends to them): a --rm container's folder
// may go the moment it exits, and what it wrote must still reach the client.
void hold_from_end(std::vector<Source>& sources);

// Attach without a terminal's stream: the output of `sources` (held) to
// `fd`, framed unless `tty`, until the container has run and exited (or
// `stop` is set). The docker CLI attaches before it starts the container: a
// created one is waited for (a minute at most) rather than taken for ended.
void follow_output(Containers& cs, Daemon& d, const std::string& id, int fd, std::vector<Source>& sources, bool tty,
                   const std::atomic<bool>* stop = nullptr);

// The detach sequence of `detachKeys` ("ctrl-p,ctrl-q", "a,ctrl-x"); empty
// text gives Docker's default, Ctrl-P Ctrl-Q. An error names the bad key.
Result<std::string> detach_sequence(const std::string& text);

// The shim end of a relay, shared with resize requests (which write their
// frame between the relay's own).
struct ShimLink {
    sys::UniqueFd fd;
    std::mutex write_mu;
    std::atomic<bool> sized{false};  // a client's terminal size went through it
    bool send(const std::string& frame);
};

struct RelayOptions {
    bool forward_stdin = false;  // the client's bytes are the process's stdin
    bool output = true;          // the shim's output frames go to the client
    bool tty = false;            // output as it is (else in Docker's framing)
    std::string detach;          // the client's bytes that end the relay (not the process)
};
enum class RelayEnd { ended, detached, client_gone };

// Relays until the shim closes (the process ended), the client sent the
// detach sequence, the client left, or `stop` is set. A client's
// half-close ends stdin.
RelayEnd relay(int client, ShimLink& shim, std::string leftover, const RelayOptions& o, const std::atomic<bool>* stop = nullptr);

// Ends a hijacked connection the way its client can read to the end: our
// side closed for writing, then what it still sends (stdin it typed after
// the end) read and dropped until it closes, a second at most. Closing
// with its bytes unread would reset the connection under it.
void end_hijacked(int fd);

}  // namespace ctr::apiserver::docker
