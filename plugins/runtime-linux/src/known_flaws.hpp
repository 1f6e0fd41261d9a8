// Known flaws of the OCI runtime binary in use, told to the user of each
// container they can reach (as a start warning) rather than found out.
//
// runc before 1.1.14 (Debian 12 ships 1.1.5) creates a mount's missing
// target with a MkdirAll that follows symlinks on the host's terms: a
// container that shares the volume another container's nested mount goes
// into can swap a directory for a symlink to "/" during that start and
// have runc make directories anywhere on the host (CVE-2024-45310, the
// CVE-2021-30465 race's sequel). crun resolves inside the root and is safe.
#pragma once

#include "oci_cli.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <utility>

namespace runtime_linux {

struct KnownFlaws {
    std::string version;         // "1.1.5", from `BINARY --version`
    bool mkdir_race = false;     // runc older than 1.1.14
};

// Asks the binary its version, when it is runc (a process: asked only for
// a container the flaw could reach, once per plugin instance).
KnownFlaws known_flaws(const OciBinary& binary);

// The first bind mount of the spec with another mount below it: {its
// destination, the one below}; empty when there is none.
std::pair<std::string, std::string> nested_bind_mount(const nlohmann::json& spec);

// The warning for a container whose spec (config.json) has a mount below
// another mount of the user's, when the binary has the race; "" otherwise.
std::string mkdir_race_warning(const KnownFlaws& flaws, const OciBinary& binary, const nlohmann::json& spec);

}  // namespace runtime_linux
