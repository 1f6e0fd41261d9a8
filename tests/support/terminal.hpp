// Commands run through a shell, optionally inside a real pty (util-linux's
// `script`), for the tests of terminals and stdin.
#pragma once

#include "tests/support/run.hpp"

#include <string>

namespace ctr::test {

// `sh -c SCRIPT`, where SCRIPT may use $CTR for the CLI with this root.
Run shell(const DaemonRoot& r, const std::string& script);
// The same inside a pty of `script`, of 33 rows and 101 columns; what
// `input_script` prints is typed into it.
Run in_terminal(const DaemonRoot& r, const std::string& command, const std::string& input_script = "");
std::string without_cr(std::string s);

}  // namespace ctr::test
