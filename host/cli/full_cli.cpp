#include "cli/full_cli.hpp"
#include "api/exit_codes.hpp"

#include <ctr/pluginhost/host_env.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unistd.h>

namespace ctr::cli {

namespace {
char** g_argv = nullptr;
}  // namespace

void remember_args(char** argv) { g_argv = argv; }

int run_full_cli() {
    const std::string exe = pluginhost::helper_path("container-full").string();
    std::fflush(nullptr);
    ::execv(exe.c_str(), g_argv);
    const int err = errno;
    std::fprintf(stderr, "container: cannot run %s: %s\n", exe.c_str(), std::strerror(err));
    return err == ENOENT ? api::kExitNotFound : api::kExitCannotInvoke;
}

}  // namespace ctr::cli
