// `container kube generate CONTAINER | --compose FILE`: Kubernetes YAML
// from a container or a Compose project (compose/kube.hpp), on stdout or
// into -o FILE. `container kube play FILE [--down] [--replace]`: such YAML
// run here as a Compose project (compose/kube_play.hpp).
#include "cli/app.hpp"
#include "cli/full_cli.hpp"
#include "cli/compose_ops.hpp"
#include "cli/output.hpp"
#include "compose/kube.hpp"
#include "compose/kube_play.hpp"
#include "compose/yaml_in.hpp"

#include <ctr/base/strings.hpp>
#include <ctr/sys/files.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

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

// `kube play FILE`: the YAML's pods run as a Compose project (named by -p,
// else by the file) that compose's up makes and `--down` removes.
int kube_play(const Globals& g, const std::string& file, const std::string& project_name, bool down, bool replace) {
    std::string text;
    if (file == "-") {
        std::stringstream ss;
        ss << std::cin.rdbuf();
        text = ss.str();
    } else {
        auto read = sys::read_file(file);
        if (!read) return error("kube play: cannot read \"" + file + "\"");
        text = *read;
    }
    auto docs = compose::yaml_documents(text, file == "-" ? "stdin" : std::filesystem::path(file).filename().string());
    if (!docs) return fail(docs.error());
    std::string name = project_name.empty() ? (file == "-" ? "kube" : std::filesystem::path(file).stem().string()) : project_name;
    name = compose::normalize_project_name(name);
    if (name.empty()) return error("kube play: give the project a name with -p");
    std::vector<std::string> warnings;
    auto model = compose::kube_play_model(*docs, name, warnings);
    if (!model) return fail(model.error());
    for (const auto& w : warnings) std::fprintf(stderr, "container kube: warning: %s\n", w.c_str());
    auto client = daemon_client(g);
    if (!client) return fail(client.error());
    if (down || replace)
        if (auto st = compose_down(*client, name, false); !st) return fail(st.error());
    if (down) return 0;
    compose::Project project;
    project.name = name;
    std::error_code ec;
    project.dir = file == "-" ? std::filesystem::current_path(ec) : std::filesystem::absolute(file, ec).parent_path();
    if (file != "-") project.files.push_back(std::filesystem::absolute(file, ec));
    project.model = *model;
    if (auto st = compose_up(*client, project, UpOptions{}); !st) return fail(st.error());
    return 0;
}

}  // namespace

void add_kube_commands(CLI::App& app, Globals& g) {
    auto* kube = app.add_subcommand("kube", "Kubernetes YAML: generate it from Compose projects and containers, play it on this host");
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

    auto* play = kube->add_subcommand("play", "run the Pods, Deployments, Services, ConfigMaps and claims of a YAML file on this host");
    static std::string play_file, play_project;
    static bool play_down = false, play_replace = false;
    play->add_option("file", play_file, "the YAML file (- for stdin)")->required();
    play->add_option("-p,--project-name", play_project, "the name its containers are grouped under (default: the file's name)");
    play->add_flag("--down", play_down, "remove what the file made (its volumes stay)");
    play->add_flag("--replace", play_replace, "remove what the file made before, then run it again");
    on_run_heavy(play, g, [&g] { return kube_play(g, play_file, play_project, play_down, play_replace); });
}

}  // namespace ctr::cli
