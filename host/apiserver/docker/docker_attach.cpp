// POST /containers/{id}/attach (hijacked: "101 UPGRADED", then raw bytes
// both ways) and POST /containers/{id}/resize. The docker CLI attaches
// before it starts the container, so the attach waits for it to run.
//
// A container with a terminal: its shim's attach socket carries both ways
// (and keeps what the terminal printed before we came). Without one: the
// output comes from its log files (framed), stdin (-i) goes to the shim.
#include "apiserver/docker/docker_api.hpp"
#include "apiserver/docker/docker_sessions.hpp"
#include "apiserver/docker/docker_streams.hpp"

#include <ctr/sys/io.hpp>

#include <sys/socket.h>

#include <chrono>
#include <thread>

namespace ctr::apiserver::docker {

namespace {

// The shim's attach socket of `id` once the container runs. Nothing when it
// ran and ended before (or went), did not start within a minute, or `stop`.
std::shared_ptr<ShimLink> connect_when_running(Containers& cs, Daemon& d, const std::string& id, int64_t started_before,
                                               const std::atomic<bool>& stop) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    while (!d.stopping && !stop && std::chrono::steady_clock::now() < give_up) {
        const uint64_t seen = cs.change_count();
        auto c = cs.get(id);
        if (!c) return nullptr;
        if (c->state == store::ContainerState::running) {
            if (auto fd = cs.connect_attach(id)) {
                auto link = std::make_shared<ShimLink>();
                link->fd = std::move(*fd);
                return link;
            }
        } else if (c->state == store::ContainerState::stopped && c->started_at.value_or(-1) != started_before) {
            return nullptr;
        }
        cs.wait_for_change(seen, 20);  // a start wakes us at once
    }
    return nullptr;
}

struct AttachPlan {
    std::string id;
    bool tty = false, stdin_wanted = false, output = false;
    std::string detach;
    int64_t started_before = -1;
    std::vector<Source> sources;  // held from the attach on
};

// With a terminal: the shim carries both ways. If the process ended before
// we reached it, what it printed is in stdout.log.
void attach_terminal(Containers& cs, Daemon& d, Sessions& sessions, AttachPlan& p, int fd, std::string leftover) {
    std::atomic<bool> never{false};
    auto link = connect_when_running(cs, d, p.id, p.started_before, never);
    if (!link) {
        for (auto& s : p.sources)
            if (std::string chunk = read_more(s); !chunk.empty()) sys::send_all(fd, chunk);
        return;
    }
    sessions.link_sized(p.id, link);
    relay(fd, *link, std::move(leftover), {p.stdin_wanted, p.output, true, p.detach});
    sessions.drop_link(p.id, link);
}

// Without one: the logs to the client on this thread, stdin to the shim on
// another; either ending (the process's exit, a detach) ends both.
void attach_streams(Containers& cs, Daemon& d, Sessions& sessions, AttachPlan& p, int fd, std::string leftover) {
    std::atomic<bool> stop{false};
    std::thread pump;
    if (p.stdin_wanted) {
        pump = std::thread([&, leftover = std::move(leftover)]() mutable {
            auto link = connect_when_running(cs, d, p.id, p.started_before, stop);
            if (!link) return;
            sessions.add_link(p.id, link);
            if (relay(fd, *link, std::move(leftover), {true, false, false, p.detach}, &stop) != RelayEnd::ended) stop = true;
            sessions.drop_link(p.id, link);
        });
    }
    follow_output(cs, d, p.id, fd, p.sources, false, &stop);
    stop = true;
    if (pump.joinable()) pump.join();
}

Result<uint16_t> dimension(const Request& req, const char* key) {
    auto it = req.query.find(key);
    const std::string v = it == req.query.end() ? "" : it->second;
    if (v.empty() || v.size() > 5 || v.find_first_not_of("0123456789") != std::string::npos || std::stoi(v) > 65535)
        return make_error(CTR_E_INVALID_ARGUMENT, std::string(key) + " \"" + v + "\": want a number of " + (key[0] == 'h' ? "rows" : "columns"));
    return static_cast<uint16_t>(std::stoi(v));
}

}  // namespace

Result<std::pair<uint16_t, uint16_t>> terminal_size(const Request& req) {
    return std::make_pair(CTR_TRY(dimension(req, "h")), CTR_TRY(dimension(req, "w")));
}

void add_attach_routes(Router& r, Daemon& d, Containers& cs, std::shared_ptr<Sessions> sessions) {
    r.add("POST", "/containers/{id}/attach", [&cs, &d, sessions](const Request& req) -> Result<Reply> {
        auto c = cs.get(req.param("id"));
        if (!c) return make_error(CTR_E_NOT_FOUND, "No such container: " + req.param("id"));
        const auto s = c->settings();
        auto plan = std::make_shared<AttachPlan>();
        plan->id = c->id;
        plan->tty = s.tty;
        plan->stdin_wanted = req.flag("stdin") && s.interactive;
        plan->output = req.flag("stdout") || req.flag("stderr");
        plan->detach = CTR_TRY(detach_sequence(req.query.count("detachKeys") ? req.query.at("detachKeys") : ""));
        plan->started_before = c->started_at.value_or(-1);
        if (req.flag("stdout")) plan->sources.push_back({cs.dir_of(c->id) / "stdout.log", 1});
        if (req.flag("stderr") && !s.tty) plan->sources.push_back({cs.dir_of(c->id) / "stderr.log", 2});
        hold_from_end(plan->sources);  // from now: what the container prints once docker starts it
        Reply reply;
        reply.status = 101;
        const bool terminal = s.tty && (plan->stdin_wanted || plan->output);
        if (terminal && c->state == store::ContainerState::created) sessions->expect_attach(c->id);
        reply.upgrade = [&cs, &d, sessions, plan, terminal](int fd, std::string leftover) {
            if (terminal) {
                attach_terminal(cs, d, *sessions, *plan, fd, std::move(leftover));
                sessions->attach_ended(plan->id);
            } else {
                attach_streams(cs, d, *sessions, *plan, fd, std::move(leftover));
            }
            end_hijacked(fd);
        };
        return reply;
    });
    r.add("POST", "/containers/{id}/resize", [&cs, sessions](const Request& req) -> Result<Reply> {
        auto c = cs.get(req.param("id"));
        if (!c) return make_error(CTR_E_NOT_FOUND, "No such container: " + req.param("id"));
        auto [rows, cols] = CTR_TRY(terminal_size(req));
        if (c->settings().tty) sessions->resize(c->id, rows, cols);
        return Reply{};
    });
}

}  // namespace ctr::apiserver::docker
