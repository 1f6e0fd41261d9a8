// A plugin in a process of its own (the plugin host, `container-plugin-host`),
// reached through the same C tables as a plugin loaded in-process: each slot
// of the table the daemon sees sends the call over a socket (wire.hpp), so no
// call site knows the difference.
//
// A crash or a hang in a call fails that call, and that call alone, with an
// error that names the plugin, the operation and what happened; the process
// is then killed (if it hangs), reaped and started again, and the daemon goes
// on serving. Every call has a deadline; progress events (pull, push) renew it.
#pragma once

#include <ctr/pluginhost/loader.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <vector>

namespace ctr::pluginhost {

struct RemoteOptions {
    std::filesystem::path host_exe;     // container-plugin-host
    // Its stdout and stderr are appended here (the daemon's log), not
    // inherited: the daemon's own stderr may be a pipe nobody reads.
    std::filesystem::path log_file;     // empty: inherited
    int init_timeout_ms = 10000;        // the plugin's init, at each start
    int call_timeout_ms = 600000;       // each call; progress renews it
    std::filesystem::path netns;        // empty: ours; else the network namespace it runs in
};

class RemotePlugin {
public:
    // Starts the host process; fails as LoadedPlugin::load does (the same
    // statuses for "skipped"), or when the process dies or hangs in init.
    static Result<std::unique_ptr<RemotePlugin>> start(const Manifest& manifest, const HostOffer& offer,
                                                       const RemoteOptions& options);
    ~RemotePlugin();
    RemotePlugin(const RemotePlugin&) = delete;
    RemotePlugin& operator=(const RemotePlugin&) = delete;

    // What the plugin said at load: name, version, abi_minor, slots.
    const nlohmann::json& hello() const { return hello_; }
    pid_t pid();
    int call_timeout_ms() const { return options_.call_timeout_ms; }

    // One call, with the C ABI's contract: the result through `sink`, the
    // error through `err`, progress (may be null) passed on.
    int32_t call(const char* op, std::string_view request, const ctr_progress* progress, const ctr_sink* sink,
                 ctr_error* err);

private:
    struct Conn {
        sys::UniqueFd fd;
        uint64_t generation = 0;
    };
    RemotePlugin() = default;
    Status spawn_locked();                 // a new process, its hello read
    void end_locked();                     // kills and reaps the process
    Result<Conn> acquire();
    void give_back(Conn conn);
    // The process failed `op` (EOF, timeout or garbage): the message, after
    // it is reaped and started again (once per failure of a generation).
    std::string failed(const Conn& conn, const char* op, bool timed_out);
    void after_restart();                  // the first call of a new process

    Manifest manifest_;
    HostOffer offer_;
    RemoteOptions options_;
    nlohmann::json hello_;

    std::mutex mu_;
    pid_t pid_ = -1;
    sys::UniqueFd control_;
    uint64_t generation_ = 0;
    bool restarted_ = false;
    std::vector<sys::UniqueFd> idle_;
};

}  // namespace ctr::pluginhost
