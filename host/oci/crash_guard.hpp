// A runtime plugin runs in container-oci's own process: its crash in the
// middle of a call would end us with no word an engine can read (and, in
// create, with a half-made container). While a CrashGuard lives, a fatal
// signal (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT) execs container-oci
// again with the arguments given to the guard, the last one replaced by the
// signal's number: that process reports the crash as runc reports any error
// (a line on stderr and in the log, exit 1), after create also removing
// what was made.
//
// The handler makes only async-signal-safe calls: everything it needs is
// built when the guard is made. One guard at a time.
#pragma once

#include <string>
#include <vector>

namespace ctr::oci {

class CrashGuard {
public:
    // argv: the program to exec (argv[0] is also its path) and its
    // arguments; the last element is the placeholder for the signal.
    explicit CrashGuard(std::vector<std::string> argv);
    ~CrashGuard();
    CrashGuard(const CrashGuard&) = delete;
    CrashGuard& operator=(const CrashGuard&) = delete;

private:
    std::vector<std::string> args_;
    std::vector<char*> argv_;
};

}  // namespace ctr::oci
