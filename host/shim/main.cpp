// container-shim: one small process per container. It loads the runtime
// plugin the container was created with, creates and starts the container,
// holds its stdio, waits for it and reports its exit.
//
// This first version runs in the foreground: stdio is the shim's own, and the
// shim exits with the container's exit code. Detached operation (log file,
// pty, attach socket, surviving the daemon) comes with the runtime issue.
//
//   container-shim --runtime NAME --id ID --bundle DIR [--root DIR] [-i]
#include "base/log.hpp"
#include "base/paths.hpp"
#include "plugins/call.hpp"
#include "plugins/host_env.hpp"
#include "plugins/registry.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <filesystem>

namespace {

constexpr int kExitEngine = 125, kExitCannotInvoke = 126, kExitNotFound = 127;

int fail(const std::string& message, int code = kExitEngine) {
    std::fprintf(stderr, "container-shim: %s\n", message.c_str());
    return code;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"container-shim: runs one container through a runtime plugin", "container-shim"};
    std::string runtime = "runtime-linux", id, bundle, root;
    bool interactive = false, debug = false;
    app.add_option("--runtime", runtime, "runtime plugin name");
    app.add_option("--id", id, "container id")->required();
    app.add_option("--bundle", bundle, "OCI bundle directory")->required()->check(CLI::ExistingDirectory);
    app.add_option("--root", root, "root of all state");
    app.add_flag("-i,--interactive", interactive, "connect stdin");
    app.add_flag("--debug", debug, "log debug messages");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : kExitEngine;
    }
    ctr::log::init("container-shim", debug);

    using namespace ctr::plugins;
    ctr::Paths paths(root);
    auto options = default_registry_options(paths);
    options.only_name = runtime;  // the shim needs its one runtime plugin and nothing else
    auto registry = Registry::scan(options);
    auto plugin = registry->get(runtime, CTR_KIND_RUNTIME);
    if (!plugin) return fail(plugin.error().message);
    const ctr_runtime_v1& rt = *(*plugin)->runtime();
    ctr_plugin* inst = (*plugin)->instance();

    nlohmann::json create = {{"id", id},
                             {"bundle", std::filesystem::absolute(bundle).lexically_normal().string()},
                             {"stdout", "/dev/stdout"},
                             {"stderr", "/dev/stderr"}};
    if (interactive) create["stdin"] = "/dev/stdin";
    if (auto r = invoke(rt.create, inst, create, "create"); !r) return fail(r.error().message);

    // From here the container exists: whatever happens, delete it before exiting.
    auto remove = [&] { (void)invoke(rt.delete_container, inst, {{"id", id}, {"force", true}}, "delete"); };
    if (auto r = invoke(rt.start, inst, {{"id", id}}, "start"); !r) {
        remove();
        int code = r.error().status == CTR_E_NOT_FOUND           ? kExitNotFound
                   : r.error().status == CTR_E_PERMISSION_DENIED ? kExitCannotInvoke
                                                                 : kExitEngine;
        return fail(r.error().message, code);
    }
    auto waited = invoke(rt.wait, inst, {{"id", id}}, "wait");
    remove();
    if (!waited) return fail(waited.error().message);
    return waited->value("exit_code", kExitEngine);
}
