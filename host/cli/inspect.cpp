#include "cli/inspect.hpp"

#include "cli/go_template.hpp"
#include "cli/output.hpp"

#include <ctr/base/strings.hpp>

#include <cstdio>
#include <memory>

namespace ctr::cli {

using nlohmann::json;

namespace {

const char* kind_name(ObjectKind k) {
    switch (k) {
    case ObjectKind::Container: return "container";
    case ObjectKind::Image: return "image";
    case ObjectKind::Network: return "network";
    case ObjectKind::Volume: return "volume";
    }
    return "";
}

std::string our_path(ObjectKind k, const std::string& name) {
    switch (k) {
    case ObjectKind::Container: return "/v1/containers/" + url_escape(name);
    case ObjectKind::Image: return "/v1/images/inspect?reference=" + url_escape(name);
    case ObjectKind::Network: return "/v1/networks/" + url_escape(name);
    case ObjectKind::Volume: return "/v1/volumes/" + url_escape(name);
    }
    return "";
}

// Docker's inspect of the same object, through our socket.
std::string docker_path(ObjectKind k, const std::string& name) {
    switch (k) {
    case ObjectKind::Container: return "/v1/docker/containers/" + url_escape(name) + "/json";
    case ObjectKind::Image: return "/v1/docker/images/" + name + "/json";  // a reference's slashes are its path
    case ObjectKind::Network: return "/v1/docker/networks/" + url_escape(name);
    case ObjectKind::Volume: return "/v1/docker/volumes/" + url_escape(name);
    }
    return "";
}

struct Options {
    std::vector<std::string> names;
    std::string format;
    std::string type;
};

// The first kind that knows `name`: its JSON, or the last error.
Result<std::pair<ObjectKind, json>> find(const api::Client& client, const std::vector<ObjectKind>& kinds, const std::string& name) {
    Error last = make_error(CTR_E_NOT_FOUND, "no such object: " + name);
    for (auto k : kinds) {
        auto r = client.call("GET", our_path(k, name));
        if (r) return std::make_pair(k, *r);
        if (r.error().status != CTR_E_NOT_FOUND || kinds.size() == 1) return r.error();
    }
    return last;
}

// What a template sees: docker's fields, then ours where docker has no such name.
Result<json> template_data(const api::Client& client, ObjectKind k, const std::string& name, json ours) {
    json data = CTR_TRY(client.call("GET", docker_path(k, name)));
    if (!data.is_object()) data = json::object();
    readable_times(ours);
    for (auto it = ours.begin(); it != ours.end(); ++it)
        if (!data.contains(it.key())) data[it.key()] = it.value();
    return data;
}

int run(const Globals& g, const Options& o, std::vector<ObjectKind> kinds) {
    if (!o.type.empty()) {
        std::vector<ObjectKind> picked;
        for (auto k : kinds)
            if (o.type == kind_name(k)) picked.push_back(k);
        if (picked.empty()) return error("--type: \"" + o.type + "\" is not one of container, image, network, volume");
        kinds = picked;
    }
    std::unique_ptr<gotmpl::Template> tmpl;
    if (!o.format.empty()) {
        auto t = gotmpl::Template::parse(gotmpl::unescape_format(o.format));
        if (!t) return error("--format: " + t.error().message);
        tmpl = std::make_unique<gotmpl::Template>(std::move(*t));
    }
    auto client = daemon_client(g);
    if (!client) return fail(client.error());
    json arr = json::array();
    int rc = 0;
    for (const auto& name : o.names) {
        auto found = find(*client, kinds, name);
        if (!found) {
            rc = fail(found.error());
            continue;
        }
        if (!tmpl) {
            arr.push_back(found->second);
            continue;
        }
        auto data = template_data(*client, found->first, name, found->second);
        auto text = data ? tmpl->execute(*data) : Result<std::string>(data.error());
        if (!text) rc = error("--format: " + text.error().message);
        else std::printf("%s\n", text->c_str());
    }
    if (!tmpl && !arr.empty()) print_inspect(arr);
    return rc;
}

}  // namespace

void add_inspect_command(CLI::App* parent, Globals& g, std::vector<ObjectKind> kinds, const std::string& description) {
    auto* cmd = parent->add_subcommand("inspect", description);
    auto o = std::make_shared<Options>();
    cmd->add_option("name", o->names, "names or ids")->required();
    cmd->add_option("-f,--format", o->format, "a Go template over docker's inspect fields: '{{.State.Status}}'");
    if (kinds.size() > 1) cmd->add_option("--type", o->type, "container, image, network or volume");
    on_run(cmd, g, [&g, o, kinds] { return run(g, *o, kinds); });
}

}  // namespace ctr::cli
