#include "apiserver/docker/docker_sessions.hpp"

#include "api/attach_protocol.hpp"

#include <chrono>
#include <ctime>
#include <thread>

namespace ctr::apiserver::docker {

namespace {
constexpr int64_t kKeepEndedSeconds = 600;  // Docker forgets ended execs too; a client reads the code at once
}

std::string Sessions::add_exec(DockerExec e) {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = std::time(nullptr);
    std::erase_if(execs_, [now](const auto& kv) { return !kv.second.running && kv.second.ended_at && now - kv.second.ended_at > kKeepEndedSeconds; });
    std::string id = e.id;
    execs_[id] = std::move(e);
    return id;
}

std::optional<DockerExec> Sessions::exec(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = execs_.find(id);
    if (it == execs_.end()) return std::nullopt;
    return it->second;
}

bool Sessions::start_exec(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = execs_.find(id);
    if (it == execs_.end() || it->second.started) return false;
    it->second.started = it->second.running = true;
    return true;
}

void Sessions::set_ours(const std::string& id, const std::string& ours) {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = execs_.find(id); it != execs_.end()) it->second.ours = ours;
}

bool Sessions::has_link(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    return links_.count(key) > 0;
}

void Sessions::end_exec(const std::string& id, std::optional<int> exit_code) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = execs_.find(id);
    if (it == execs_.end()) return;
    it->second.running = false;
    it->second.exit_code = exit_code;
    it->second.ended_at = std::time(nullptr);
}

void Sessions::add_link(const std::string& key, std::shared_ptr<ShimLink> link) {
    std::optional<std::pair<uint16_t, uint16_t>> size;
    {
        std::lock_guard<std::mutex> lock(mu_);
        links_[key] = link;
        if (auto it = pending_sizes_.find(key); it != pending_sizes_.end()) {
            size = it->second;
            pending_sizes_.erase(it);
        }
    }
    if (size && link->send(api::attach::resize_frame(size->first, size->second))) link->sized = true;
}

void Sessions::link_sized(const std::string& key, const std::shared_ptr<ShimLink>& link) {
    add_link(key, link);
    for (int i = 0; i < 15 && !link->sized; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!link->sized) link->send(api::attach::resize_frame(0, 0));
}

void Sessions::expect_attach(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    ++expected_attaches_[id];
}

bool Sessions::attach_expected(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    return expected_attaches_.count(id) > 0;
}

void Sessions::attach_ended(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = expected_attaches_.find(id); it != expected_attaches_.end() && --it->second <= 0) expected_attaches_.erase(it);
}

void Sessions::drop_link(const std::string& key, const std::shared_ptr<ShimLink>& link) {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = links_.find(key); it != links_.end() && it->second == link) links_.erase(it);
    pending_sizes_.erase(key);
}

void Sessions::resize(const std::string& key, uint16_t rows, uint16_t cols) {
    std::shared_ptr<ShimLink> link;
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = links_.find(key);
        if (it == links_.end()) {
            if (pending_sizes_.size() < 1024) pending_sizes_[key] = {rows, cols};
            return;
        }
        link = it->second;
    }
    if (link->send(api::attach::resize_frame(rows, cols))) link->sized = true;
}

}  // namespace ctr::apiserver::docker
