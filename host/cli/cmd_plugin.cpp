// `container plugin new`: a new plugin's folder, ready to build against the
// installed SDK (docs/plugin-tutorial.md walks through the rest).
#include "cli/app.hpp"
#include "cli/output.hpp"
#include "cli/plugin_scaffold.hpp"

#include <cstdio>

namespace ctr::cli {

namespace {

struct NewOptions {
    std::string kind, lang = "c", name, dir;
};

int plugin_new(const NewOptions& o) {
    auto files = plugin_scaffold(o.kind, o.lang, o.name);
    if (!files) return fail(files.error());
    std::filesystem::path dir = o.dir.empty() ? o.name : o.dir;
    if (auto st = write_scaffold(dir, *files); !st) return fail(st.error());
    std::printf("made %s plugin \"%s\" (%s) in %s:\n", o.kind.c_str(), o.name.c_str(), o.lang == "c" ? "C" : "C++",
                dir.string().c_str());
    for (const auto& f : *files) std::printf("  %s\n", f.name.c_str());
    std::printf("next: %s/README.md\n", dir.string().c_str());
    return 0;
}

}  // namespace

void add_plugin_group(CLI::App& app, Globals& g) {
    auto* plugin = app.add_subcommand("plugin", "write plugins (listing them: system plugin ls)");
    plugin->require_subcommand(1);
    auto* make = plugin->add_subcommand("new", "make a new plugin's folder: manifest, meson.build, skeleton, README");
    static NewOptions o;
    make->add_option("--kind", o.kind, "runtime, network or image")->required();
    make->add_option("--lang", o.lang, "c (the C header and jansson) or cpp (the C++ SDK)")->capture_default_str();
    make->add_option("name", o.name, "the plugin's name: [a-z0-9][a-z0-9._-]*")->required();
    make->add_option("dir", o.dir, "the folder to make (default: ./NAME); it must not exist or be empty");
    on_run(make, g, [] { return plugin_new(o); });
}

}  // namespace ctr::cli
