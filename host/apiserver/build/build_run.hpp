// The builder's internals shared by its files: the run of one build and a
// stage's state as its instructions go.
#pragma once

#include "apiserver/build/build_context.hpp"
#include "apiserver/build/builder.hpp"
#include "build/shell_words.hpp"

#include <memory>
#include <optional>
#include <set>

namespace ctr::apiserver::build {

struct StageState {
    std::string ref;      // its image so far (a base, or a cached step)
    nlohmann::json image; // that image's OCI config document
    std::string key;      // the cache key so far
    std::map<std::string, std::string> args;  // ARGs in scope, with values
    bool cmd_set = false; // CMD given in this stage (ENTRYPOINT keeps it then)
};

// A scratch file of the builder's, removed when this goes.
struct ScratchFile {
    std::filesystem::path path;
    ~ScratchFile();
};

// The label on the builder's containers: a daemon start removes any left.
inline constexpr const char* kBuildLabel = "container.build";

// Removes a builder's container when its step ends, however it ends.
struct ContainerGuard {
    Containers& cs;
    std::string id;
    ~ContainerGuard();
};

// Names ours in the scratch folder: "what-<16 hex>".
std::string scratch_name(const std::string& what);

class BuildRun {
public:
    BuildRun(Daemon& d, Containers& cs, const BuildRequest& req, const Progress& progress, const std::atomic<bool>& cancelled)
        : d_(d), cs_(cs), req_(req), progress_(progress), cancelled_(cancelled) {}
    Result<nlohmann::json> run();

private:
    // builder.cpp
    Result<StageState> from(const ctr::build::Stage& stage, const std::vector<StageState>& done);
    Status step(StageState& s, const ctr::build::Instruction& ins);
    Status metadata(StageState& s, const ctr::build::Instruction& ins, std::string& key_text);
    struct CopyPlan {
        std::vector<Source> sources;          // from the context
        std::shared_ptr<Context> heredocs;    // or from the instruction's heredocs, written here
        std::string from_image;               // or, with --from, this image's
        std::vector<std::string> from_paths;  // paths
        std::string dest;
        std::string chown;                    // --chown as expanded; empty: 0:0
        bool extract = false;                 // ADD: local archives unpacked
        int chmod = -1;
    };
    // --from=NAME (COPY, RUN --mount): a stage of this build that has been
    // built, else an image (pulled when not stored); its reference.
    Result<std::string> image_named(const ctr::build::Instruction& ins, const std::string& from);
    Status copy_plan(const StageState& s, const ctr::build::Instruction& ins, CopyPlan& plan, std::string& payload);
    Status url_sources(const ctr::build::Instruction& ins, const std::vector<std::string>& words, CopyPlan& plan);
    Result<std::shared_ptr<Context>> scratch_context(const std::string& what, std::filesystem::path& dir) const;
    Status heredoc_sources(const StageState& s, const ctr::build::Instruction& ins, const std::vector<std::string>& words, CopyPlan& plan);
    Status owner_and_mode(const StageState& s, const ctr::build::Instruction& ins, CopyPlan& plan) const;
    // COPY from the context (or the heredocs' folder) into a container of the stage.
    Result<std::string> copy_step(const StageState& s, const ctr::build::Instruction& ins, const Context& context, const CopyPlan& plan);
    // COPY --from: paths of another image (a stage's, or any), read through
    // a container of it (build_copy_from.cpp).
    Result<std::string> copy_from_step(const StageState& s, const ctr::build::Instruction& ins, const CopyPlan& plan);
    // -o: the result as an OCI archive (type=oci), a tar of its filesystem
    // (tar) or its filesystem in a folder (local).
    Status write_output(const StageState& s);
    // WORKDIR: its folder made (mkdir -p, root's, 0755) when the image lacks it.
    Result<std::string> workdir_step(const StageState& s, const ctr::build::Instruction& ins);
    // --chown's owner in the stage's image: numbers as given, names from its
    // /etc/passwd and /etc/group (read in container c's root filesystem).
    Result<std::pair<long, long>> owner_in(const store::ContainerRecord& c, const CopyPlan& plan);
    std::vector<std::string> run_argv(const StageState& s, const ctr::build::Instruction& ins) const;
    ctr::build::Lookup lookup(const StageState& s) const;
    Result<std::string> word(const StageState& s, const ctr::build::Instruction& ins, const std::string& w) const;
    std::vector<std::string> run_env(const StageState& s) const;
    // The image plugin: a stored image's {"reference","digest","config"} or nothing.
    Result<std::optional<nlohmann::json>> resolve(const std::string& ref);
    Result<nlohmann::json> image_for(const std::string& reference);
    Result<nlohmann::json> commit(const StageState& s, const std::string& key, const std::string& layer, nlohmann::json image);
    nlohmann::json history(const ctr::build::Instruction& ins, bool empty_layer) const;

    // build_steps.cpp: RUN and COPY through a container of the stage's image.
    Result<std::string> run_step(const StageState& s, const ctr::build::Instruction& ins, const std::vector<std::string>& argv);


    struct Placement {
        std::string rel;   // from the root, no leading '/'; "" for the root
        bool dir = false;      // sources go inside it
        bool exists = false;   // the image has it already
    };
    Result<Placement> place(const StageState& s, const store::ContainerRecord& c, const std::string& dest_word, bool dir_hint);
    Result<std::string> land(const ctr::build::Instruction& ins, const store::ContainerRecord& c, const std::filesystem::path& tar);
    std::filesystem::path scratch_file(const std::string& what) const;
    // `mount_points`: paths the step's mounts made, left out of the layer.
    Result<std::string> layer_of(const store::ContainerRecord& c, const std::vector<std::string>& mount_points = {});
    // RUN --mount (build_mounts.cpp).
    struct RunMounts {
        nlohmann::json volumes = nlohmann::json::array();  // "host:target[:ro]"
        nlohmann::json tmpfs = nlohmann::json::array();
        std::vector<std::string> targets;
        std::vector<std::shared_ptr<void>> held;  // what binds from other images need while the step runs
    };
    Result<RunMounts> run_mounts(const StageState& s, const ctr::build::Instruction& ins);
    Result<std::pair<std::string, std::shared_ptr<void>>> bind_from(const ctr::build::Instruction& ins, const std::string& from,
                                                                    const std::string& source);
    Result<nlohmann::json> bind_sources_key(const ctr::build::Instruction& ins);
    static void strip_mount_points(const std::filesystem::path& upper, const std::vector<std::string>& targets);
    Result<store::ContainerRecord> make_container(const StageState& s, nlohmann::json body);

    Daemon& d_;
    Containers& cs_;
    const BuildRequest& req_;
    const Progress& progress_;
    const std::atomic<bool>& cancelled_;
    std::optional<Context> context_;
    ctr::build::Plan plan_;
    std::map<std::string, std::string> globals_;  // global ARGs and the platform's
    std::vector<StageState> done_;  // by stage index, as they finish
    int step_no_ = 0, steps_ = 0;
    std::set<std::string> temp_files_;
};

}  // namespace ctr::apiserver::build
