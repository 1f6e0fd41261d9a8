// `container system oci-config ENGINE [--plugin NAME]`: the snippet that
// makes an engine run containers through container-oci (docs/oci-cli.md,
// docs/kubernetes.md). It only prints: the engines' files are the
// operator's.
#include "cli/app.hpp"
#include <ctr/pluginhost/host_env.hpp>
#include <ctr/pluginhost/registry.hpp>

#include <cstdio>
#include <filesystem>

namespace ctr::cli {

namespace {

namespace fs = std::filesystem;

// container-oci sits beside this program, installed or in the build tree.
std::string oci_path() {
    std::error_code ec;
    auto self = fs::read_symlink("/proc/self/exe", ec);
    return ec ? "/usr/local/bin/container-oci" : (self.parent_path() / "container-oci").string();
}

// `plugin`: the one --plugin names; `fallback`: the one container-oci runs
// when it names none.
int print_oci_config(const std::string& engine, const std::string& plugin, const std::string& fallback) {
    const std::string short_name = plugin.rfind("runtime-", 0) == 0 ? plugin.substr(8) : plugin;
    const std::string handler = "container-" + short_name;
    std::string binary = oci_path();
    // Engines that take a path and no arguments choose the plugin by the
    // program's name: a link container-oci-NAME means runtime-NAME.
    if (plugin != fallback) {
        const std::string link = binary + "-" + short_name;
        if (plugin.rfind("runtime-", 0) == 0 && engine != "docker") std::printf("# once: ln -s %s %s\n", binary.c_str(), link.c_str());
        if (plugin.rfind("runtime-", 0) == 0 && engine != "docker") binary = link;
    }
    if (engine == "containerd") {
        // Beside the runc runtime the operator's config has: a runtimes table
        // of ours alone would replace containerd's built-in one, and the CRI
        // plugin does not load without its default_runtime_name's table.
        std::printf("# /etc/containerd/config.toml (version = 2), beside its runc runtime\n"
                    "# (`containerd config default` writes one; the CRI plugin does not load\n"
                    "# without the table of its default_runtime_name), then restart containerd\n"
                    "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.%s]\n"
                    "  runtime_type = \"io.containerd.runc.v2\"\n"
                    "  [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.%s.options]\n"
                    "    BinaryName = \"%s\"\n\n"
                    "# Kubernetes: pods with runtimeClassName: %s run on it\n"
                    "# apiVersion: node.k8s.io/v1\n# kind: RuntimeClass\n# metadata:\n#   name: %s\n# handler: %s\n",
                    handler.c_str(), handler.c_str(), binary.c_str(), handler.c_str(), handler.c_str(), handler.c_str());
    } else if (engine == "podman") {
        std::printf("# /etc/containers/containers.conf; then: podman --runtime %s run ...\n"
                    "[engine.runtimes]\n%s = [\"%s\"]\n\n"
                    "[engine]\nruntime_supports_json = [\"crun\", \"runc\", \"kata\", \"runsc\", \"krun\", \"%s\"]\n",
                    handler.c_str(), handler.c_str(), binary.c_str(), handler.c_str());
    } else {
        std::printf("# /etc/docker/daemon.json; then restart dockerd and: docker run --runtime %s ...\n"
                    "{\n  \"runtimes\": {\n    \"%s\": {\n      \"path\": \"%s\",\n      \"runtimeArgs\": [\"--plugin\", \"%s\"]\n    }\n  }\n}\n",
                    handler.c_str(), handler.c_str(), binary.c_str(), plugin.c_str());
    }
    return 0;
}

}  // namespace

void add_oci_config_command(CLI::App& system, Globals& g) {
    auto* cmd = system.add_subcommand("oci-config", "print the snippet that makes containerd, podman or docker run containers through container-oci");
    static std::string engine, plugin;
    cmd->add_option("engine", engine, "containerd, podman or docker")->required()->check(CLI::IsMember({"containerd", "podman", "docker"}));
    cmd->add_option("--plugin", plugin, "the runtime plugin (default: the one container-oci runs when none is named)");
    on_run(cmd, g, [&g] {
        auto fallback = pluginhost::Registry::default_of(pluginhost::default_registry_options(g.paths()), CTR_KIND_RUNTIME, "--plugin");
        if (!fallback) return fail(fallback.error());
        return print_oci_config(engine, plugin.empty() ? *fallback : plugin, *fallback);
    });
}

}  // namespace ctr::cli
