// `container`'s build of cli/cmd_cp.cpp: its flags and help, without the
// bodies, which container-full has (cli/full_cli.hpp).
#define CTR_CLI_LEAN 1
#include "cli/cmd_cp.cpp"  // NOLINT(bugprone-suspicious-include)
