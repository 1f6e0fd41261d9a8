// Runs a command with its stdout on a pipe, and notes when each line came:
// for tests that output reaches the CLI's stdout as it is printed, not when
// a buffer fills or the command ends.
#pragma once

#include <string>
#include <vector>

namespace ctr::test {

struct TimedLine {
    double at_s;       // seconds after the start
    std::string text;  // without its newline
};

// `argv[0]` is absolute. Ends when stdout closes or after `timeout_ms`
// (then the command is killed). Stdin is /dev/null; stderr is discarded.
std::vector<TimedLine> timed_lines(const std::vector<std::string>& argv, int timeout_ms = 30000);

// The time of the first line equal to `text`; -1 when none came.
double time_of(const std::vector<TimedLine>& lines, const std::string& text);

}  // namespace ctr::test
