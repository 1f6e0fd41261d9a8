// `container kube generate --compose FILE`: Kubernetes YAML from a Compose
// project (compose/kube.hpp), on stdout or into -o FILE.
#include "cli/app.hpp"
#include "cli/compose_ops.hpp"
#include "cli/output.hpp"
#include "compose/kube.hpp"

#include <ctr/sys/files.hpp>

#include <cstdio>

namespace ctr::cli {

namespace {

int kube_generate(const ComposeFlags& flags, const std::string& output, const std::string& volume_size) {
    if (flags.files.empty()) return error("kube generate: give the Compose file with --compose FILE");
    auto project = load_project(flags);
    if (!project) return fail(project.error());
    std::vector<std::string> warnings;
    compose::KubeOptions options;
    options.volume_size = volume_size;
    auto yaml = compose::kube_yaml(project->model, options, warnings);
    if (!yaml) return fail(yaml.error());
    for (const auto& w : warnings) std::fprintf(stderr, "container kube: warning: %s\n", w.c_str());
    if (output.empty()) {
        std::fputs(yaml->c_str(), stdout);
        return 0;
    }
    if (auto st = sys::write_file_atomic(output, *yaml, 0644); !st) return fail(st.error());
    return 0;
}

}  // namespace

void add_kube_commands(CLI::App& app, Globals& g) {
    auto* kube = app.add_subcommand("kube", "Kubernetes YAML from Compose projects");
    kube->require_subcommand(1);
    auto* generate = kube->add_subcommand("generate", "write Deployments, Pods, Services, ConfigMaps and claims for a Compose project");
    static ComposeFlags flags;
    static std::string output, volume_size = "1Gi";
    generate->add_option("--compose", flags.files, "the Compose file (repeat to merge)")->required();
    generate->add_option("-p,--project-name", flags.project, "the project's name");
    generate->add_option("--env-file", flags.env_files, "a .env file for ${VAR}");
    generate->add_option("-o,--output", output, "write here instead of stdout");
    generate->add_option("--volume-size", volume_size, "the storage each volume's claim requests")->capture_default_str();
    on_run(generate, g, [] { return kube_generate(flags, output, volume_size); });
}

}  // namespace ctr::cli
