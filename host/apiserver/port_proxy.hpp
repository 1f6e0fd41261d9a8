// Rootless: published ports. A rootless daemon's networks live in the
// user's own network namespace (rootless.hpp), which the host's network
// does not reach, so the network plugin's port rules cannot serve the
// host. The daemon, in the host's namespace, listens on each published
// host port itself and carries each TCP connection to the container's
// address through a socket made in the user's namespace (as rootlesskit's
// built-in port driver does). Each connection is a thread of its own, up
// to a bound over all ports (more are refused).
#pragma once

#include "services/network_options.hpp"

#include <ctr/sdk/result.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ctr::apiserver {

class PortProxy {
public:
    explicit PortProxy(std::filesystem::path netns);
    ~PortProxy();  // every listener closed, its thread joined
    PortProxy(const PortProxy&) = delete;
    PortProxy& operator=(const PortProxy&) = delete;

    // Listens for container `id` on each mapping's host address and port
    // and forwards to `target_ip` at its container port. One that cannot be
    // had (in use, privileged, UDP) fails them all, none left open.
    Status open(const std::string& id, const std::string& target_ip, const std::vector<services::PortMapping>& ports);
    // Stops listening for `id` (connections under way go on to their end).
    void close(const std::string& id);
    bool has(const std::string& id);

    // A port free on the host now for mapping `m`'s address, for `-p 80`
    // (no host port). Chosen here, where the daemon listens: the network
    // plugin, in the user's network namespace, would choose one free there
    // that the host may have taken.
    static Result<int> free_host_port(const services::PortMapping& m);

    struct Listener;

private:
    std::filesystem::path netns_;
    std::mutex mu_;
    std::map<std::string, std::vector<std::unique_ptr<Listener>>> by_id_;
};

}  // namespace ctr::apiserver
