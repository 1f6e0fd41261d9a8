// The Docker Engine API on <root>/run/container/docker.sock: the routes the
// docker CLI, docker-compose and the Docker SDKs call, each translated into
// the services our own API uses (the same validation, errors and state; no
// second container model). docs/docker-api.md lists what is served.
#pragma once

#include "apiserver/containers.hpp"
#include "apiserver/daemon.hpp"
#include "apiserver/router.hpp"
#include "apiserver/server.hpp"

#include <memory>

namespace ctr::apiserver::build {
class Builder;
}

namespace ctr::apiserver::docker {

// The API version we advertise, and the oldest a client may ask for.
inline constexpr int kApiMinor = 41;
inline constexpr int kApiMinorMin = 24;

// Docker's way of speaking: {"message"} errors, API-Version on every reply,
// /v1.NN/ prefixes, "101 UPGRADED".
Dialect dialect();

void add_system_routes(Router& r, Daemon& d);
class Sessions;
void add_container_routes(Router& r, Daemon& d, Containers& cs, std::shared_ptr<Sessions> sessions);
void add_image_routes(Router& r, Daemon& d);
// An image of the image plugin's list as GET /images/json shows it.
nlohmann::json image_summary(const nlohmann::json& listed);
// A volume as GET /volumes shows it; whether a container names it.
nlohmann::json volume_shape(const store::VolumeRecord& v);
bool volume_used(Daemon& d, const std::string& name);
// POST /containers/prune, /images/prune, /build/prune, GET /system/df (docker_disk.cpp).
void add_prune_routes(Router& r, Daemon& d, Containers& cs);
void add_image_transfer_routes(Router& r, Daemon& d);  // push, get, load
// POST /build, the classic builder's API, on our builder (docker_build.cpp).
void add_build_route(Router& r, Daemon& d, build::Builder& builder);
// A streamed request body into a new file of the run directory; its path.
Result<std::filesystem::path> body_to_file(Daemon& d, const Request& req);
// The credentials of X-Registry-Auth ({"username", "password"}), or null.
nlohmann::json registry_auth_of(const Request& req);
void add_log_routes(Router& r, Daemon& d, Containers& cs);
void add_attach_routes(Router& r, Daemon& d, Containers& cs, std::shared_ptr<Sessions> sessions);
void add_exec_routes(Router& r, Containers& cs, std::shared_ptr<Sessions> sessions);
void add_archive_routes(Router& r, Containers& cs);
void add_event_routes(Router& r, Daemon& d);
void add_stats_routes(Router& r, Daemon& d, Containers& cs);  // stats, top
void add_object_routes(Router& r, Daemon& d, Containers& cs, Networks& nets);  // networks, volumes
// GET /v1/docker/{path*} on our own API: the Docker route's reply to a GET
// of /{path}, for the CLI's Go templates (Docker's field names) and
// --filter (Docker's filters, matched in one place for both).
void add_view_route(Router& ours, const Router& docker);
// GET /containers/{id}/changes and POST /commit (docker_commit.cpp).
void add_commit_routes(Router& r, Daemon& d, Containers& cs);

// Our "no such image: X" and "no such container: X" as Docker says them:
// the docker CLI pulls on seeing the first.
Error docker_error(Error e);

// The reference of an image named by its Id ("sha256:HEX", or 12 or 64 hex
// digits), as clients that read a container's Image send it back; any other
// name as it is.
Result<std::string> image_reference_of(Daemon& d, const std::string& name);

// ?h=ROWS&w=COLS of a resize request.
Result<std::pair<uint16_t, uint16_t>> terminal_size(const Request& req);

// A container's create request in Docker's shape (Config with HostConfig,
// the name from the query) as our run request: what docker sends, as
// `container run` would say it.
Result<nlohmann::json> run_request_of(const nlohmann::json& docker, const std::string& name);

}  // namespace ctr::apiserver::docker
