// Registry logins, kept where the daemon that pulls can read them (Apple's
// tool stored them where its image helper could not): a Docker-compatible
// auth file, <root>/var/lib/container/auth.json, mode 0600:
//   {"auths": {"registry.example.com": {"auth": base64("user:password")}}}
// A login is only ever handed to a pull from the host it belongs to.
#pragma once

#include "apiserver/daemon.hpp"

namespace ctr::apiserver {

struct Login {
    std::string server, username, password;
};

class RegistryAuth {
public:
    explicit RegistryAuth(std::filesystem::path file) : file_(std::move(file)) {}
    Status login(const Login& l);
    Status logout(const std::string& server);
    Result<std::vector<Login>> list() const;
    // The login for the registry of an image reference, if there is one.
    Result<std::optional<Login>> for_reference(const std::string& reference) const;

private:
    std::filesystem::path file_;
    mutable std::mutex mu_;
};

// The registry host of a reference, by Docker's rule: the first component if
// it holds '.' or ':' or is "localhost", else docker.io.
std::string registry_host(const std::string& reference);
// "https://index.docker.io/v1/" and friends name docker.io; a scheme or path is dropped.
std::string normalize_server(const std::string& server);

void add_registry_routes(Router& router, RegistryAuth& auth);

}  // namespace ctr::apiserver
