// A long-lived child process (posix_spawn), killed with SIGKILL and reaped
// when the owner lets go of it, unless released.
#pragma once

#include <ctr/sys/spawn.hpp>

#include <ctr/sdk/result.hpp>

#include <string>
#include <sys/types.h>
#include <vector>

namespace ctr::sys {

class Child {
public:
    // stdin from /dev/null; stdout and stderr appended to `log` ("" = /dev/null).
    static Result<Child> spawn(const std::vector<std::string>& argv, const std::string& log = "",
                               const std::vector<std::string>& env = {});
    static Result<Child> spawn(const std::vector<std::string>& argv, const SpawnOptions& options);
    Child() = default;
    ~Child();
    Child(Child&& o) noexcept : pid_(o.pid_) { o.pid_ = -1; }
    Child& operator=(Child&& o) noexcept;
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    pid_t pid() const { return pid_; }
    bool running();  // reaps it when it has exited
    // SIGTERM, a grace period, then SIGKILL; always reaped.
    void stop(int grace_ms = 2000);
    [[nodiscard]] pid_t release() {
        pid_t p = pid_;
        pid_ = -1;
        return p;
    }

private:
    explicit Child(pid_t pid) : pid_(pid) {}
    pid_t pid_ = -1;
};

}  // namespace ctr::sys
