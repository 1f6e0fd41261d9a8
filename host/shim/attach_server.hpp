// The shim's side of attach: a unix socket that clients (through the API
// server) connect to, to feed the container's stdin and, when it has a
// terminal, to see its output and resize it. See api/attach_protocol.hpp.
//
// Output of a terminal goes to stdout.log as well, and what it printed
// before the first client came (a shell's prompt) is kept for that client.
#pragma once

#include "api/attach_protocol.hpp"
#include <ctr/sys/unique_fd.hpp>

#include <ctr/sdk/result.hpp>

#include <string>
#include <vector>

namespace ctr::shim {

namespace attach = ctr::api::attach;

// Listens on `path` (replacing a stale socket), mode 0600.
Result<sys::UniqueFd> listen_unix(const std::string& path);

struct AttachIo {
    int master = -1;       // the terminal's master, or -1
    int stdin_write = -1;  // the write end of the container's stdin pipe, or -1
    std::string log_path;  // where a terminal's output is kept (stdout.log)
    int out = -1, err = -1;  // read ends of an exec's stdout and stderr (no terminal), or -1
};

class AttachServer {
public:
    AttachServer(sys::UniqueFd listener, AttachIo io);
    // Before the process starts: waits up to `timeout_ms` for the first
    // client and takes what it sent at once (its terminal size above all),
    // so that the process starts with the client's size.
    void accept_first(int timeout_ms);
    // The process's ends, when they exist only after accept_first (exec).
    void set_io(AttachIo io);
    // The first client's terminal size, once it said it (0x0 until then).
    unsigned short rows() const { return rows_; }
    unsigned short cols() const { return cols_; }
    // Tells the clients why the process could not run (as its stderr).
    void send_error(const std::string& message);
    // Serves clients until `exited` (an eventfd or pipe) becomes readable,
    // then passes on what the terminal still had and closes every client.
    void run(int exited);

private:
    struct Client {
        sys::UniqueFd fd;
        std::string in;  // bytes read, not yet a whole frame
    };
    void on_output(const char* data, size_t n, attach::Frame type);
    void on_client_data(Client& c, bool& drop);
    void write_stdin(const std::string& data);
    void close_stdin();
    void flush_stdin();
    void apply_size();
    void send_all(const std::string& frame);

    sys::UniqueFd listener_;
    sys::UniqueFd master_;
    sys::UniqueFd stdin_;
    sys::UniqueFd log_;
    sys::UniqueFd out_, err_;
    std::vector<Client> clients_;
    std::string early_;          // output before the first client, kept for it
    bool had_client_ = false;
    std::string stdin_pending_;  // written when the container reads
    bool stdin_closed_ = false;  // the client ended stdin (maybe before the process existed)
    unsigned short rows_ = 0, cols_ = 0;  // the client's size, for a terminal made later
};

}  // namespace ctr::shim
