// The Dockerfile instructions that change only an image's config (ENV,
// LABEL, WORKDIR, USER, STOPSIGNAL, CMD, ENTRYPOINT, EXPOSE, VOLUME, SHELL,
// HEALTHCHECK, MAINTAINER, ONBUILD), applied to an OCI image config. One
// place for `build` and for `commit -c`, so both mean the same by a line.
#pragma once

#include "build/dockerfile.hpp"
#include "build/shell_words.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ctr::build {

// `ins` applied to `image` ({"config": {...}, "author"?, ...}). Words are
// expanded with the config's Env first, then `args` (a build's ARGs).
// `cmd_set`: whether this stage set CMD itself (an ENTRYPOINT clears an
// inherited one). Answers what the build's cache key is made of: the values
// as expanded. Errors name the file, line and column.
Result<std::string> apply_config_instruction(nlohmann::json& image, const Dockerfile& file, const Instruction& ins, const Lookup& args,
                                             bool& cmd_set);

// The config's Env as a map-like update: NAME=VALUE replaces NAME's entry.
void set_env(nlohmann::json& env, const std::string& name, const std::string& value);

// `commit -c`'s changes ("CMD [\"sh\"]", "ENV A=1", ...), each one
// Dockerfile line, applied to `image`. Only docker's set is taken: CMD,
// ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR.
Status apply_changes(nlohmann::json& image, const std::vector<std::string>& changes);

}  // namespace ctr::build
