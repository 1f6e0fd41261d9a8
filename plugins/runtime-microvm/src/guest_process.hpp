// A process in the guest as the host follows it: its output goes to the
// files or fds it was given, and its start and exit are waited for. Fed
// frames by whichever thread reads the channel they come from.
#pragma once

#include "channel.hpp"

#include <ctr/sys/unique_fd.hpp>

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

#include <condition_variable>
#include <mutex>

namespace microvm {

class GuestProcess {
public:
    GuestProcess(ctr::sys::UniqueFd out, ctr::sys::UniqueFd err) : out_(std::move(out)), err_(std::move(err)) {}

    void handle(const Frame& f);
    // The channel ended: a process still running is reported killed (137).
    void lost();
    // Waits for STARTED (ok, with the guest pid) or FAILED (an error that
    // maps the guest's errno: ENOENT is not found, EACCES permission denied).
    ctr::Result<int> wait_started(int timeout_ms);
    // {"exit_code","signal"}; timeout_ms < 0 waits for ever.
    ctr::Result<nlohmann::json> wait_exit(int64_t timeout_ms);
    bool exited();
    bool running();

private:
    std::mutex mu_;
    std::condition_variable cv_;
    ctr::sys::UniqueFd out_, err_;
    bool started_ = false, failed_ = false, exited_ = false;
    int pid_ = 0, errno_ = 0, code_ = 0, signal_ = 0;
    std::string message_;
};

}  // namespace microvm
