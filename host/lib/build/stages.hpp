// A Dockerfile's instructions checked and grouped into stages: each
// instruction's flags and arguments validated (errors name file, line and
// column), FROM's base expanded with the global ARGs (those before the first
// FROM) and the build args, stage names and indexes resolved, and the
// stages a target needs found (the others are skipped).
#pragma once

#include "build/dockerfile.hpp"

#include <map>
#include <optional>
#include <set>

namespace ctr::build {

struct Stage {
    size_t index = 0;
    std::string name;          // AS name, lower case; empty when none
    std::string base;          // FROM's image, expanded: "scratch", an image reference, or a stage
    std::optional<size_t> base_stage;  // when base names an earlier stage
    std::string platform;      // --platform, expanded; empty when none
    Instruction from;
    std::vector<Instruction> steps;
    std::set<size_t> needs;    // earlier stages it reads (FROM, COPY --from, RUN --mount from=)
};

struct Plan {
    Dockerfile file;
    std::vector<Instruction> global_args;  // ARGs before the first FROM
    std::vector<Stage> stages;
    // A stage by name or index ("builder", "0"); nullopt when neither.
    std::optional<size_t> stage_named(const std::string& key) const;
    // The stage a build ends at (--target, else the last) and, in order,
    // every stage it needs.
    Result<std::vector<size_t>> stages_for(const std::string& target) const;
};

// `build_args`: --build-arg values, which override ARG defaults.
// `automatic`: the platform args (TARGETPLATFORM, BUILDARCH, ...), visible
// to FROM and to ARGs that name them.
Result<Plan> plan_build(const Dockerfile& df, const std::map<std::string, std::string>& build_args,
                        const std::map<std::string, std::string>& automatic);

// An instruction's flags and arguments as its keyword takes them.
Status check_instruction(const Dockerfile& df, const Instruction& ins);

// "error at Dockerfile:LINE:COL: message" for an instruction.
Error instruction_error(const Dockerfile& df, const Instruction& ins, const std::string& message);

// NAME=VALUE pairs of ENV, LABEL and ARG (ARG's value may be absent):
// quotes and escapes kept for expansion. ENV's and LABEL's legacy
// "KEY value words" form gives one pair.
Result<std::vector<std::pair<std::string, std::optional<std::string>>>> name_values(const Dockerfile& df, const Instruction& ins);

}  // namespace ctr::build
