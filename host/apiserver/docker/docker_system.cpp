// Version handshake and the system routes: /_ping, /version, /info.
#include "apiserver/docker/docker_api.hpp"

#include "build_config.hpp"
#include <ctr/sys/cgroup.hpp>
#include <ctr/pluginhost/call.hpp>

#include <sys/utsname.h>
#include <unistd.h>

#include <regex>
#include <thread>

namespace ctr::apiserver::docker {

using nlohmann::json;

namespace {

std::string api_version() { return "1." + std::to_string(kApiMinor); }

}  // namespace

Dialect dialect() {
    Dialect d;
    d.error_body = [](const Error& e) { return json{{"message", e.message}}; };
    d.headers = {{"API-Version", api_version()}, {"Docker-Experimental", "false"}, {"OSType", "linux"}, {"Server", "container/" CTR_VERSION}};
    // "/v1.41/containers/json" and "/containers/json" are the same route;
    // a version outside what we speak is refused with the range.
    d.route_path = [](const std::string& path) -> Result<std::string> {
        static const std::regex versioned("^/v1\\.([0-9]{1,3})(/.*)$");
        std::smatch m;
        if (!std::regex_match(path, m, versioned)) return path;
        int minor = std::stoi(m[1]);
        if (minor < kApiMinorMin || minor > kApiMinor)
            return make_error(CTR_E_INVALID_ARGUMENT, "client version 1." + std::to_string(minor) + " is not supported: this engine speaks 1." +
                                                          std::to_string(kApiMinorMin) + " to " + api_version());
        return std::string(m[2]);
    };
    d.upgrade_response = "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n";
    d.handover_response = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n";
    return d;
}

void add_system_routes(Router& r, Daemon& d) {
    auto ping = [](const Request& req) -> Result<Reply> {
        Reply reply;
        reply.content_type = "text/plain; charset=utf-8";
        reply.text = req.method == "HEAD" ? "" : "OK";  // a HEAD reply has no body
        return reply;
    };
    r.add("GET", "/_ping", ping);
    r.add("HEAD", "/_ping", ping);
    r.add("GET", "/version", [](const Request&) -> Result<Reply> {
        utsname u{};
        ::uname(&u);
        const std::string arch = u.machine == std::string("x86_64") ? "amd64" : u.machine;
        json engine = {{"Name", "Engine"},
                       {"Version", CTR_VERSION},
                       {"Details",
                        {{"ApiVersion", api_version()}, {"MinAPIVersion", "1." + std::to_string(kApiMinorMin)}, {"Os", "linux"}, {"Arch", arch},
                         {"KernelVersion", u.release}}}};
        Reply reply;
        reply.body = {{"Platform", {{"Name", "container"}}}, {"Components", json::array({engine})}, {"Version", CTR_VERSION},
                      {"ApiVersion", api_version()}, {"MinAPIVersion", "1." + std::to_string(kApiMinorMin)}, {"GitCommit", ""},
                      {"GoVersion", ""}, {"Os", "linux"}, {"Arch", arch},
                      {"KernelVersion", u.release}, {"BuildTime", ""}};
        return reply;
    });
    // Not a swarm, and no managed plugins: Docker's own answers to both, so
    // that clients which ask (compose, SDK helpers) go on.
    auto not_swarm = [](const Request&) -> Result<Reply> {
        return make_error(CTR_E_UNAVAILABLE,
                          "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.");
    };
    r.add("GET", "/swarm", not_swarm);
    // Swarm's objects: Docker answers these the same way on a node that is not in a swarm.
    for (const char* kind : {"/services", "/tasks", "/nodes", "/secrets", "/configs"}) {
        r.add("GET", kind, not_swarm);
        r.add("POST", std::string(kind) + "/create", not_swarm);
        r.add("GET", std::string(kind) + "/{id}", not_swarm);
        r.add("DELETE", std::string(kind) + "/{id}", not_swarm);
    }
    // Searching needs a registry's search API, which OCI registries do not
    // have (Docker Hub's is its own); said plainly rather than an empty list.
    r.add("GET", "/images/search", [](const Request&) -> Result<Reply> {
        return make_error(CTR_E_UNIMPLEMENTED, "image search is not supported: OCI registries have no search API (pull by name)");
    });
    r.add("GET", "/plugins", [](const Request&) -> Result<Reply> { return json_reply(json::array()); });
    r.add("GET", "/info", [&d](const Request&) -> Result<Reply> {
        utsname u{};
        ::uname(&u);
        int64_t running = 0, stopped = 0, total = 0, images = 0;
        {
            std::lock_guard<std::mutex> lock(d.store_mu);
            if (auto all = d.store->containers(); all)
                for (const auto& c : *all) {
                    ++total;
                    (c.state == store::ContainerState::running ? running : stopped)++;
                }
        }
        if (auto p = d.image_plugin(); p)
            if (auto list = pluginhost::invoke((*p)->image()->list, (*p)->instance(), json::object(), "list"); list && list->is_array())
                images = static_cast<int64_t>(list->size());
        auto runtime = d.runtime_named("");
        json runtimes = json::object();
        for (const auto& e : d.plugins->entries())
            if (e.kind == "runtime" && e.state == pluginhost::PluginState::loaded) runtimes[e.name] = {{"path", e.path.string()}};
        Reply reply;
        reply.body = {{"ID", ""}, {"Containers", total}, {"ContainersRunning", running}, {"ContainersPaused", 0},
                      {"ContainersStopped", stopped}, {"Images", images}, {"Driver", "overlay"}, {"DockerRootDir", d.paths.lib_dir().string()},
                      {"Name", u.nodename}, {"OperatingSystem", "container on Linux"}, {"OSType", "linux"},
                      {"Architecture", u.machine}, {"KernelVersion", u.release}, {"NCPU", std::thread::hardware_concurrency()},
                      {"MemTotal", static_cast<int64_t>(::sysconf(_SC_PHYS_PAGES)) * ::sysconf(_SC_PAGESIZE)},
                      {"ServerVersion", CTR_VERSION}, {"DefaultRuntime", runtime ? *runtime : ""}, {"Runtimes", runtimes},
                      // Docker says "1" for a hybrid host too: its controllers are v1's.
                      {"CgroupVersion", sys::Cgroups().version() == sys::CgroupVersion::v2 ? "2" : "1"}, {"CgroupDriver", to_string(d.cgroup_manager)},
                      {"SecurityOptions", json::array({"name=seccomp,profile=default", "name=no-new-privileges"})},
                      {"Swarm", {{"LocalNodeState", "inactive"}}}, {"Plugins", {{"Volume", {"local"}}, {"Network", {"bridge"}}}},
                      {"Warnings", json::array()}};
        return reply;
    });
}

}  // namespace ctr::apiserver::docker
