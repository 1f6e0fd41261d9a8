// The templates live in host/cli/scaffold/ (built in by scripts/embed-text.py);
// a C runtime starts from plugin-sdk/examples/runtime-minimal itself, so the
// scaffold and the example cannot drift apart.
#include "plugin_scaffold.hpp"

#include <ctr/plugin.h>
#include <ctr/pluginhost/manifest.hpp>
#include <ctr/sys/files.hpp>

#include <cerrno>
#include <cstdlib>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace ctr::cli {

extern const char* const kScaffoldRuntimeC;  // runtime-minimal's minimal.c
extern const char* const kScaffoldNetworkC;
extern const char* const kScaffoldImageC;
extern const char* const kScaffoldHelpersC;  // fail, emit, parse: spliced into both at @HELPERS@
extern const char* const kScaffoldRuntimeCpp;
extern const char* const kScaffoldNetworkCpp;
extern const char* const kScaffoldImageCpp;
extern const char* const kScaffoldMeson;
extern const char* const kScaffoldManifest;
extern const char* const kScaffoldReadme;

namespace {

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

// What differs between the kinds: what the skeleton passes, what to write
// next, and how to use the result.
struct KindText {
    const char* kind;
    const char* rules_c;    // --rule flags of the rules the C skeleton passes ("": all)
    const char* rules_cpp;  // the same for the C++ skeleton
    const char* what_c;
    const char* what_cpp;
    const char* next;
    const char* use;
    const char* description;
};

const KindText kKinds[] = {
    {"runtime", "", "--rule GEN-001 --rule GEN-002 --rule GEN-003 --rule GEN-004 --rule GEN-005 --rule GEN-006 --rule GEN-007 --rule GEN-008 --rule RT-006",
     "A whole runtime already (a copy of the SDK's runtime-minimal): one process per container in new PID, mount, UTS, IPC and network namespaces, chrooted into the bundle's rootfs, with the spec's user and capabilities. It passes every runtime rule.",
     "A skeleton on the C++ SDK: it keeps a table of containers but cannot create one yet, so it passes the GEN rules and RT-006.",
     "Write what is missing. For the C runtime: seccomp, cgroup limits, joining the network namespace the spec names, exec, stats (they answer unimplemented now). For the C++ skeleton: create (read the bundle's config.json, start the process held before exec), start, kill, wait and state; `plugin-sdk/examples/runtime-minimal/minimal.c` in container's sources does each in C.",
     "container run --rm --runtime @NAME@ IMAGE echo hello",
     "A runtime made by container plugin new"},
    {"network", "", "",
     "A skeleton: it has no networks yet, so list answers [], every name is unknown and create_network checks its request, then answers unimplemented. It passes every GEN and NET rule.",
     "A skeleton on the C++ SDK: it has no networks yet, so list answers [], every name is unknown and create_network checks its request, then answers unimplemented. It passes every GEN and NET rule.",
     "Make create_network keep networks (in the state directory the host gives it) and attach give a container an interface in the network namespace it names; list, remove_network and detach follow.",
     "# choose it in /etc/container/config.toml: [network] plugin = \"@NAME@\"\n   container network create --subnet 10.89.0.0/24 net1",
     "A network plugin made by container plugin new"},
    {"image", "", "",
     "A skeleton: its store is empty, so list answers [], every reference is unknown and pull checks the reference, then answers unimplemented. It passes every GEN and IMG rule.",
     "A skeleton on the C++ SDK: its store is empty, so list answers [], every reference is unknown and pull checks the reference, then answers unimplemented. It passes every GEN and IMG rule.",
     "Make pull fetch an image into the state directory the host gives it, and prepare_rootfs make a container's root filesystem from it; resolve, list and remove follow.",
     "# choose it in /etc/container/config.toml: [image] plugin = \"@NAME@\"\n   container image pull IMAGE",
     "An image plugin made by container plugin new"},
};

const char* skeleton(const std::string& kind, bool c) {
    if (kind == "runtime") return c ? kScaffoldRuntimeC : kScaffoldRuntimeCpp;
    if (kind == "network") return c ? kScaffoldNetworkC : kScaffoldNetworkCpp;
    return c ? kScaffoldImageC : kScaffoldImageCpp;
}

}  // namespace

Result<std::vector<ScaffoldFile>> plugin_scaffold(const std::string& kind, const std::string& lang, const std::string& name) {
    const KindText* k = nullptr;
    for (const auto& entry : kKinds)
        if (kind == entry.kind) k = &entry;
    if (!k) return make_error(CTR_E_INVALID_ARGUMENT, "--kind: want runtime, network or image, not \"" + kind + "\"");
    if (lang != "c" && lang != "cpp") return make_error(CTR_E_INVALID_ARGUMENT, "--lang: want c or cpp, not \"" + lang + "\"");
    if (!pluginhost::valid_plugin_name(name))
        return make_error(CTR_E_INVALID_ARGUMENT, "invalid plugin name \"" + name + "\" (want [a-z0-9][a-z0-9._-]*, at most 63 characters)");
    const bool c = lang == "c";
    const std::string source = std::string(kind) + (c ? ".c" : ".cpp");

    std::string code = skeleton(kind, c);
    if (kind == "runtime" && c) code = replace_all(code, "runtime-minimal", name);
    // Each plugin is one file of its own: the C skeletons' shared helpers go into each.
    if (c) code = replace_all(code, "@HELPERS@\n", kScaffoldHelpersC);

    std::string deps = c ? (kind == "runtime" ? "dependency('jansson'), dependency('libcap')" : "dependency('jansson')")
                         : "dependency('nlohmann_json')";
    std::string meson = replace_all(kScaffoldMeson, "@MESON_LANG@", c ? "c" : "cpp");
    meson = replace_all(meson, "@STD@", c ? "c_std=gnu11" : "cpp_std=c++17");
    meson = replace_all(meson, "@SOURCE@", source);
    meson = replace_all(meson, "@DEPS@", deps);

    std::string manifest = replace_all(kScaffoldManifest, "@KIND@", kind);
    manifest = replace_all(manifest, "@ABI@", "1." + std::to_string(CTR_ABI_MINOR));
    manifest = replace_all(manifest, "@DESCRIPTION@", k->description);
    // Only the C runtime makes namespaces; the C++ skeleton confines nothing yet.
    manifest = replace_all(manifest, "@ISOLATION@\n", kind != "runtime" ? "" : c ? "isolation = \"namespaces\"\n" : "isolation = \"none\"\n");

    std::string rules = c ? k->rules_c : k->rules_cpp;
    std::string readme = replace_all(kScaffoldReadme, "@SOURCE@", source);
    readme = replace_all(readme, "@WHAT@", c ? k->what_c : k->what_cpp);
    readme = replace_all(readme, "@NEXT@", k->next);
    readme = replace_all(readme, "@USE@", k->use);
    readme = replace_all(readme, "@RULES@", rules);
    readme = replace_all(readme, " \n", "\n");  // no rules: no trailing blank
    readme = replace_all(readme, "@KIND@", kind);
    readme = replace_all(readme, "@LANG@", lang);

    std::vector<ScaffoldFile> files = {{"config.toml", manifest}, {"meson.build", meson}, {source, code}, {"README.md", readme}};
    for (auto& f : files) f.text = replace_all(f.text, "@NAME@", name);
    return files;
}

Status write_scaffold(const std::filesystem::path& dir, const std::vector<ScaffoldFile>& files) {
    std::error_code ec;
    if (std::filesystem::exists(dir, ec) && !(std::filesystem::is_directory(dir, ec) && std::filesystem::is_empty(dir, ec)))
        return make_error(CTR_E_ALREADY_EXISTS, "\"" + dir.string() + "\" exists and is not an empty folder");
    auto parent = dir.parent_path().empty() ? std::filesystem::path(".") : dir.parent_path();
    std::string tmpl = (parent / ("." + dir.filename().string() + ".new-XXXXXX")).string();
    if (!::mkdtemp(tmpl.data())) return sys::errno_error("mkdtemp", tmpl, errno);
    struct Staging {  // removed unless renamed into place
        std::filesystem::path path;
        bool keep = false;
        ~Staging() {
            std::error_code ignored;
            if (!keep) std::filesystem::remove_all(path, ignored);
        }
    } staging{tmpl};
    for (const auto& f : files) CTR_TRY_STATUS(sys::write_file_atomic(staging.path / f.name, f.text, 0644));
    ::chmod(staging.path.c_str(), 0755);  // mkdtemp makes it 0700
    if (::rename(staging.path.c_str(), dir.c_str()) != 0) return sys::errno_error("rename", dir, errno);
    staging.keep = true;
    return ok();
}

}  // namespace ctr::cli
