// `container kube generate CONTAINER | --compose FILE`: Kubernetes YAML
// from a container or a Compose project (compose/kube.hpp), on stdout or
// into -o FILE.
#include "cli/app.hpp"
#include "cli/full_cli.hpp"
#include "cli/compose_ops.hpp"
#include "cli/output.hpp"
#include "compose/kube.hpp"

#include <ctr/base/strings.hpp>
#include <ctr/sys/files.hpp>

#include <cstdio>

namespace ctr::cli {

namespace {

// The model to write: the Compose project's, or the container's as a
// one-service project.
Result<nlohmann::json> model_of(const Globals& g, const ComposeFlags& flags, const std::string& container) {
    if (!container.empty()) {
        auto client = CTR_TRY(daemon_client(g));
        auto c = CTR_TRY(client.call("GET", "/v1/containers/" + url_escape(container)));
        auto props = CTR_TRY(client.call("GET", "/v1/system/properties"));
        return compose::container_model(c.value("config", nlohmann::json::object()), c.value("name", container),
                                        props.value("container.runtime", ""));
    }
    return CTR_TRY(load_project(flags)).model;
}

int kube_generate(const Globals& g, const ComposeFlags& flags, const std::string& container, const std::string& output,
                  const std::string& volume_size) {
    if (flags.files.empty() == container.empty()) return error("kube generate: give a container, or a Compose file with --compose FILE");
    auto model = model_of(g, flags, container);
    if (!model) return fail(model.error());
    std::vector<std::string> warnings;
    compose::KubeOptions options;
    options.volume_size = volume_size;
    auto yaml = compose::kube_yaml(*model, options, warnings);
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
    static std::string container, output, volume_size = "1Gi";
    generate->add_option("container", container, "a container (its Pod or Deployment)");
    generate->add_option("--compose", flags.files, "the Compose file (repeat to merge)");
    generate->add_option("-p,--project-name", flags.project, "the project's name");
    generate->add_option("--env-file", flags.env_files, "a .env file for ${VAR}");
    generate->add_option("-o,--output", output, "write here instead of stdout");
    generate->add_option("--volume-size", volume_size, "the storage each volume's claim requests")->capture_default_str();
    on_run_heavy(generate, g, [&g] { return kube_generate(g, flags, container, output, volume_size); });
}

}  // namespace ctr::cli
