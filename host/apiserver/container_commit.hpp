// diff, commit and size: what a container wrote to its root filesystem, listed as
// docker lists it, or stored as a new image (the container's image's layers
// plus one layer of its writes, its settings as the config). Both read the
// image plugin's writable_dir (the overlay upper directory); the files the
// daemon mounts in (/etc/hosts, /etc/resolv.conf, /etc/hostname), other
// mount points and /dev, /proc and /sys are left out, as docker leaves them.
#pragma once

#include "apiserver/containers.hpp"
#include "apiserver/daemon.hpp"
#include "apiserver/router.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace ctr::apiserver {

struct CommitRequest {
    std::string container;
    std::string reference;             // REPOSITORY[:TAG], required
    std::string comment, author;       // -m, -a
    std::vector<std::string> changes;  // -c: Dockerfile lines (CMD, ENV, ...)
    bool pause = true;                 // a running container is frozen while its layer is written
    // Docker's POST /commit body, a ContainerConfig: its Cmd, Entrypoint,
    // Env, Labels, ExposedPorts, Volumes, User, WorkingDir, StopSignal over
    // the image's, by docker's merge rules. Null: none.
    nlohmann::json config;
    // {"reference", "comment"?, "author"?, "changes"?, "pause"?, "config"?};
    // the container from the route.
    static Result<CommitRequest> from_json(const std::string& container, const nlohmann::json& body);
};

// [{"Path": "/etc/motd", "Kind": 0 | 1 | 2}] (changed, added, deleted), by path.
Result<nlohmann::json> container_changes(Containers& cs, const std::string& key);

// {"Id": the image's digest, "reference"}. An event: container commit.
Result<nlohmann::json> commit_container(Daemon& d, Containers& cs, const CommitRequest& req);

// The bytes each container wrote (its writable layer, 0 without one) and
// those with its image's: Docker's {"SizeRw", "SizeRootFs"}, by id. `ps -s`
// and ?size=1 of both APIs' lists; each image is asked for once.
std::map<std::string, nlohmann::json> container_sizes(Daemon& d, const std::vector<store::ContainerRecord>& containers);

// GET /v1/containers/{id}/changes and POST /v1/containers/{id}/commit.
void add_commit_routes(Router& r, Daemon& d, Containers& cs);

}  // namespace ctr::apiserver
