#include <ctr/base/fatal_log.hpp>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <execinfo.h>
#include <fcntl.h>
#include <unistd.h>

namespace ctr::log {

namespace {

int fatal_fd = -1;       // the log, opened ahead: a handler may not allocate
char fatal_prefix[64];  // "NAME: fatal signal "

// Async-signal-safe: write(2) of fixed text and a number formatted by hand.
void on_fatal_signal(int sig) {
    char line[96];
    size_t n = std::strlen(fatal_prefix);
    std::memcpy(line, fatal_prefix, n);
    char digits[8];
    size_t d = 0;
    for (int v = sig; v > 0 && d < sizeof digits; v /= 10) digits[d++] = static_cast<char>('0' + v % 10);
    while (d > 0) line[n++] = digits[--d];
    line[n++] = '\n';
    if (fatal_fd >= 0 && ::write(fatal_fd, line, n) < 0) { /* nothing left to tell it to */ }
    // Where it happened, as "binary(+offset)" lines addr2line reads: glibc's
    // backtrace was called once at setup, so it allocates nothing here.
    void* frames[48];
    const int depth = ::backtrace(frames, 48);
    if (fatal_fd >= 0) ::backtrace_symbols_fd(frames, depth, fatal_fd);
    // SA_RESETHAND put the default action back: re-raised, the signal ends
    // the process as it would have (a core, the same wait status).
    ::raise(sig);
}

[[noreturn]] void on_terminate() {
    std::string what = "no exception";
    if (auto e = std::current_exception()) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            what = ex.what();
        } catch (...) {
            what = "an exception that is not a std::exception";
        }
    }
    spdlog::critical("terminating on an uncaught exception: {}", what);
    spdlog::default_logger()->flush();
    std::abort();
}

}  // namespace

void record_fatal_exits(const std::string& file) {
    std::snprintf(fatal_prefix, sizeof fatal_prefix, "%s: fatal signal ", program_invocation_short_name);
    fatal_fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    std::set_terminate(on_terminate);
    void* warm[1];
    (void)::backtrace(warm, 1);  // loads the unwinder now, not in a signal handler
    struct sigaction sa{};
    sa.sa_handler = on_fatal_signal;
    sa.sa_flags = SA_RESETHAND | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::sigaction(sig, &sa, nullptr);
}

}  // namespace ctr::log
