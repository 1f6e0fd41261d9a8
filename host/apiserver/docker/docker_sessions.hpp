// What the Docker API keeps between requests that our own API does not
// need: execs made (POST /containers/{id}/exec) before they start and after
// they end (their exit code, for GET /exec/{id}/json), and the live relays
// that a resize request writes its frame through.
#pragma once

#include "apiserver/docker/docker_streams.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace ctr::apiserver::docker {

struct DockerExec {
    std::string id, container_id;
    nlohmann::json config;       // the create request, as Docker sent it
    std::string ours;            // the container service's exec, once started
    bool started = false, running = false;
    std::optional<int> exit_code;
    int64_t ended_at = 0;        // unix seconds; ended execs are forgotten after a while
};

class Sessions {
public:
    std::string add_exec(DockerExec e);
    std::optional<DockerExec> exec(const std::string& id);
    // Marks an exec started; false when it had been (a second start is a conflict).
    bool start_exec(const std::string& id);
    void set_ours(const std::string& id, const std::string& ours);
    void end_exec(const std::string& id, std::optional<int> exit_code);

    // A relay's shim end under `key` (a container or exec id) while it lives.
    void add_link(const std::string& key, std::shared_ptr<ShimLink> link);
    void drop_link(const std::string& key, const std::shared_ptr<ShimLink>& link);
    bool has_link(const std::string& key);
    // Sends a resize through the live relay of `key`; a size asked for
    // before the relay exists is sent when it comes (docker resizes right
    // after start, while the attach may still be connecting).
    void resize(const std::string& key, uint16_t rows, uint16_t cols);
    // Registers `link` under `key` and waits (a moment at most) for the
    // client's terminal size to go through it; else sends 0x0. A process
    // waiting for its first client (start with attach, an exec) then starts
    // with the client's size: docker sends it only after its start request.
    void link_sized(const std::string& key, const std::shared_ptr<ShimLink>& link);

    // A terminal attach made before the start: the start waits for it, so
    // that the process begins at the client's size with nothing printed unseen.
    void expect_attach(const std::string& id);
    bool attach_expected(const std::string& id);
    void attach_ended(const std::string& id);

private:
    std::mutex mu_;
    std::map<std::string, DockerExec> execs_;
    std::map<std::string, std::shared_ptr<ShimLink>> links_;
    std::map<std::string, std::pair<uint16_t, uint16_t>> pending_sizes_;
    std::map<std::string, int> expected_attaches_;
};

}  // namespace ctr::apiserver::docker
