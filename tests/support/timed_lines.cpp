#include "timed_lines.hpp"

#include <ctr/sys/spawn.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ctr::test {

std::vector<TimedLine> timed_lines(const std::vector<std::string>& argv, int timeout_ms) {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    sys::UniqueFd read_end(p[0]), write_end(p[1]);
    sys::SpawnOptions so;
    so.stdout_fd = write_end.get();
    auto pid = sys::spawn(argv, so);
    REQUIRE_MESSAGE(pid.has_value(), (pid ? "" : pid.error().message));
    write_end.reset();

    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    auto elapsed_ms = [&] { return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start).count(); };
    std::vector<TimedLine> lines;
    std::string partial;
    char buf[4096];
    while (elapsed_ms() < timeout_ms) {
        pollfd pfd{read_end.get(), POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(timeout_ms - elapsed_ms())) <= 0) continue;
        ssize_t n = ::read(read_end.get(), buf, sizeof buf);
        if (n <= 0) break;
        double at = static_cast<double>(elapsed_ms()) / 1000.0;
        partial.append(buf, static_cast<size_t>(n));
        for (size_t nl; (nl = partial.find('\n')) != std::string::npos; partial.erase(0, nl + 1))
            lines.push_back({at, partial.substr(0, nl)});
    }
    ::kill(*pid, SIGKILL);
    ::waitpid(*pid, nullptr, 0);
    return lines;
}

double time_of(const std::vector<TimedLine>& lines, const std::string& text) {
    for (const auto& l : lines)
        if (l.text == text) return l.at_s;
    return -1;
}

}  // namespace ctr::test
