// How a long-lived process leaves word of its own crash in its log file.
// Without it, a daemon that dies of an uncaught exception or a fault just
// stops logging: its clients see their connections reset and nothing says
// why.
#pragma once

#include <string>

namespace ctr::log {

// After this, an uncaught exception is logged (with its what()) before the
// abort, and a fatal signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) writes
// one line to `file` before the process dies of it as it would have. Call
// once, after add_file().
void record_fatal_exits(const std::string& file);

}  // namespace ctr::log
