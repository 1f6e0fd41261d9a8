#include "oci/crash_guard.hpp"

#include <array>
#include <csignal>
#include <cstring>
#include <unistd.h>

namespace ctr::oci {

namespace {

constexpr std::array<int, 5> kFatal = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};

// What the handler reads: set by the guard before the handlers go in.
char** g_argv = nullptr;
char g_signal[4];  // the signal's number as text, in the last argument's place
struct sigaction g_previous[kFatal.size()];
stack_t g_previous_stack;
// Its own stack, so that a plugin's stack overflow still reaches it.
alignas(16) char g_stack[64 * 1024];

void on_fatal(int sig) {
    int n = sig, len = n >= 10 ? 2 : 1;
    g_signal[len] = '\0';
    for (int i = len - 1; i >= 0; --i, n /= 10) g_signal[i] = static_cast<char>('0' + n % 10);
    // A handler's signal stays blocked across exec: the new process must
    // die of a second crash, not hang on it.
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(g_argv[0], g_argv, environ);
    // No way to report: die of the signal, as without the guard.
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

}  // namespace

CrashGuard::CrashGuard(std::vector<std::string> argv) : args_(std::move(argv)) {
    for (auto& a : args_) argv_.push_back(a.data());
    argv_.back() = g_signal;
    argv_.push_back(nullptr);
    g_argv = argv_.data();
    stack_t st{};
    st.ss_sp = g_stack;
    st.ss_size = sizeof g_stack;
    ::sigaltstack(&st, &g_previous_stack);
    struct sigaction sa {};
    sa.sa_handler = on_fatal;
    sa.sa_flags = SA_ONSTACK;
    ::sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < kFatal.size(); ++i) ::sigaction(kFatal[i], &sa, &g_previous[i]);
}

CrashGuard::~CrashGuard() {
    for (size_t i = 0; i < kFatal.size(); ++i) ::sigaction(kFatal[i], &g_previous[i], nullptr);
    ::sigaltstack(&g_previous_stack, nullptr);
    g_argv = nullptr;
}

}  // namespace ctr::oci
