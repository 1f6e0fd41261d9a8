// The internals that project.cpp (reading and merging the files) and
// normalize.cpp (one service in the model's shape) share. Not an interface:
// only the compose library includes it.
#pragma once

#include "compose/project.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace ctr::compose::detail {

// Where each value came from: json pointer -> "file:line".
using Origins = std::map<std::string, std::string>;

Error at(const std::string& where, const std::string& message);
// "/services/web/ports" -> "services.web.ports"
std::string dotted(const std::string& pointer);
// The origin of a pointer, or of its nearest parent that has one.
std::string origin_of(const Origins& o, std::string pointer);

// What normalizing a service needs: where values came from, the project's
// folder, the variables, and where warnings go.
struct Ctx {
    const Origins& origins;
    std::filesystem::path dir;
    const Lookup& env;
    std::vector<std::string>& warnings;
    std::string project;  // its name: the default image name of a service that builds
    Error err(const std::string& pointer, const std::string& message) const {
        return at(origin_of(origins, pointer), dotted(pointer) + ": " + message);
    }
};

// Service `name` of the merged document, in the model's shape (see
// project.hpp); `top` is the whole document, for its volumes and networks.
Result<nlohmann::json> service_of(const std::string& name, const nlohmann::json& s, const Ctx& c, const nlohmann::json& top);

// The top level's networks and volumes into `model`, each with the
// project's prefix unless external or named; "default" when a service uses it.
Status top_level_into(nlohmann::json& model, nlohmann::json top, const std::string& project, const Ctx& ctx);

}  // namespace ctr::compose::detail
