// RT rules: what a runtime plugin must do. They run real containers from a
// busybox bundle, so they need root.
#include "bundle.hpp"
#include "harness.hpp"

#include <ctr/sys/files.hpp>

#include <csignal>
#include <thread>
#include <unistd.h>

namespace ctr::conformance {
namespace {

// One loaded runtime and the containers a rule made, force-deleted at the end
// so that a failing rule leaves nothing running.
class Rt {
public:
    static Result<Rt> open(Context& ctx) {
        auto p = ctx.load();
        if (!p) return failure("load: " + p.error().message);
        return Rt(ctx, std::move(*p));
    }
    Rt(Rt&&) = default;
    ~Rt() {
        if (!plugin_) return;
        for (const auto& id : ids_) (void)call(t().delete_container, i(), json{{"id", id}, {"force", true}});
    }

    std::string id(const std::string& suffix) const { return "ctr-conf-" + std::to_string(getpid()) + "-" + suffix; }

    Result<Reply> create(const std::string& id, const std::vector<std::string>& args, json extra = json::object()) {
        auto bundle = make_bundle(ctx_->work, id, args);
        if (!bundle) return bundle.error();
        json req = {{"id", id}, {"bundle", bundle->string()}, {"stdout", (ctx_->work / (id + ".out")).string()},
                    {"stderr", (ctx_->work / (id + ".err")).string()}};
        for (auto& [k, v] : extra.items()) req[k] = v;
        ids_.push_back(id);
        return call(t().create, i(), req);
    }
    Reply start(const std::string& id) { return call(t().start, i(), json{{"id", id}}); }
    Reply state(const std::string& id) { return call(t().state, i(), json{{"id", id}}); }
    Reply kill(const std::string& id, int sig) { return call(t().kill, i(), json{{"id", id}, {"signal", sig}}); }
    Reply wait(const std::string& id, int timeout_ms = 20000) {
        return call(t().wait, i(), json{{"id", id}, {"timeout_ms", timeout_ms}});
    }
    Reply remove(const std::string& id, bool force = false) {
        return call(t().delete_container, i(), json{{"id", id}, {"force", force}});
    }
    std::string output(const std::string& id) {
        auto text = sys::read_file(ctx_->work / (id + ".out"));
        return text ? *text : "";
    }
    // Creates and starts a container; fails the rule if either step fails.
    Status run(const std::string& id, const std::vector<std::string>& args) {
        auto c = create(id, args);
        if (!c) return c.error();
        CTR_TRY_STATUS(expect(*c, {CTR_OK}, "create"));
        return expect(start(id), {CTR_OK}, "start");
    }
    // Polls state until `status` (the OCI status string) or a timeout.
    bool reaches(const std::string& id, const std::string& status, int ms = 10000) {
        for (int waited = 0; waited < ms; waited += 20) {
            Reply r = state(id);
            if (r.status == CTR_OK && r.result.is_object() && r.result.value("status", "") == status) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }

    const ctr_runtime_v1& t() const { return *plugin_->runtime(); }
    ctr_plugin* i() const { return plugin_->instance(); }

private:
    Rt(Context& ctx, std::unique_ptr<pluginhost::LoadedPlugin> p) : ctx_(&ctx), plugin_(std::move(p)) {}
    Context* ctx_;
    std::unique_ptr<pluginhost::LoadedPlugin> plugin_;
    std::vector<std::string> ids_;
};

Status exit_code_is(const Reply& w, int code, const std::string& step) {
    CTR_TRY_STATUS(expect(w, {CTR_OK}, step));
    if (!w.result.is_object() || w.result.value("exit_code", -1) != code)
        return failure(step + ": result " + w.result.dump() + ", want exit_code " + std::to_string(code));
    return ok();
}

void rule(const char* id, const char* title, std::function<Status(Rt&)> body) {
    all_rules().push_back(Rule{id, CTR_KIND_RUNTIME, title,
                               [body](Context& ctx) -> Status {
                                   auto rt = Rt::open(ctx);
                                   if (!rt) return rt.error();
                                   return body(*rt);
                               },
                               true});
}

struct Rules {
    Rules() {
        rule("RT-001", "create makes a container in state \"created\" whose process has not run", [](Rt& rt) -> Status {
            auto id = rt.id("a");
            auto c = CTR_TRY(rt.create(id, {"sh", "-c", "echo ran"}));
            CTR_TRY_STATUS(expect(c, {CTR_OK}, "create"));
            Reply s = rt.state(id);
            CTR_TRY_STATUS(expect(s, {CTR_OK}, "state"));
            if (s.result.value("status", "") != "created") return failure("state after create: " + s.result.dump());
            if (s.result.value("id", "") != id) return failure("state names another id: " + s.result.dump());
            if (!rt.output(id).empty()) return failure("the process ran before start");
            return ok();
        });
        rule("RT-002", "start runs the process and wait reports its exit code", [](Rt& rt) -> Status {
            auto id = rt.id("a");
            CTR_TRY_STATUS(rt.run(id, {"sh", "-c", "exit 7"}));
            CTR_TRY_STATUS(exit_code_is(rt.wait(id), 7, "wait"));
            if (!rt.reaches(id, "stopped")) return failure("state is not \"stopped\" after the process exited");
            return ok();
        });
        rule("RT-003", "the process's stdout reaches the path given to create", [](Rt& rt) -> Status {
            auto id = rt.id("a");
            CTR_TRY_STATUS(rt.run(id, {"echo", "hello-conformance"}));
            CTR_TRY_STATUS(exit_code_is(rt.wait(id), 0, "wait"));
            if (rt.output(id).find("hello-conformance") == std::string::npos)
                return failure("stdout file holds \"" + rt.output(id) + "\"");
            return ok();
        });
        rule("RT-004", "delete is idempotent: deleting a deleted or unknown container succeeds", [](Rt& rt) -> Status {
            auto id = rt.id("a");
            CTR_TRY_STATUS(rt.run(id, {"true"}));
            CTR_TRY_STATUS(expect(rt.wait(id), {CTR_OK}, "wait"));
            CTR_TRY_STATUS(expect(rt.remove(id), {CTR_OK}, "first delete"));
            CTR_TRY_STATUS(expect(rt.remove(id), {CTR_OK}, "second delete"));
            CTR_TRY_STATUS(expect(rt.remove(rt.id("never-made")), {CTR_OK}, "delete of an unknown id"));
            return expect(rt.state(id), {CTR_E_NOT_FOUND}, "state after delete");
        });
        rule("RT-005", "kill of a stopped container succeeds or says it is not running", [](Rt& rt) -> Status {
            auto id = rt.id("a");
            CTR_TRY_STATUS(rt.run(id, {"true"}));
            CTR_TRY_STATUS(expect(rt.wait(id), {CTR_OK}, "wait"));
            return expect(rt.kill(id, SIGTERM), {CTR_OK, CTR_E_FAILED_PRECONDITION}, "kill of a stopped container");
        });
        rule("RT-006", "state, start, kill and wait of an unknown id say not found", [](Rt& rt) -> Status {
            auto id = rt.id("never-made");
            CTR_TRY_STATUS(expect(rt.state(id), {CTR_E_NOT_FOUND}, "state"));
            CTR_TRY_STATUS(expect(rt.start(id), {CTR_E_NOT_FOUND}, "start"));
            CTR_TRY_STATUS(expect(rt.kill(id, SIGTERM), {CTR_E_NOT_FOUND}, "kill"));
            return expect(rt.wait(id, 100), {CTR_E_NOT_FOUND}, "wait");
        });
        rule("RT-007", "create with a live id says already exists and leaves the first container alone", [](Rt& rt) -> Status {
            auto id = rt.id("a");
            auto first = CTR_TRY(rt.create(id, {"sleep", "30"}));
            CTR_TRY_STATUS(expect(first, {CTR_OK}, "first create"));
            auto second = CTR_TRY(rt.create(id, {"true"}));
            CTR_TRY_STATUS(expect(second, {CTR_E_ALREADY_EXISTS}, "second create"));
            Reply s = rt.state(id);
            CTR_TRY_STATUS(expect(s, {CTR_OK}, "state"));
            if (s.result.value("status", "") != "created") return failure("first container changed: " + s.result.dump());
            return ok();
        });
        rule("RT-008", "start of a running container fails with failed precondition and changes nothing", [](Rt& rt) -> Status {
            auto id = rt.id("a");
            CTR_TRY_STATUS(rt.run(id, {"sleep", "30"}));
            CTR_TRY_STATUS(expect(rt.start(id), {CTR_E_FAILED_PRECONDITION}, "second start"));
            if (!rt.reaches(id, "running", 2000)) return failure("container not running after a refused start");
            return ok();
        });
        rule("RT-009", "kill delivers the signal: SIGKILL ends the process and wait reports 137", [](Rt& rt) -> Status {
            auto id = rt.id("a");
            CTR_TRY_STATUS(rt.run(id, {"sleep", "30"}));
            CTR_TRY_STATUS(expect(rt.kill(id, SIGKILL), {CTR_OK}, "kill"));
            return exit_code_is(rt.wait(id), 137, "wait");
        });
        rule("RT-010", "delete of a running container needs force; with force it is gone", [](Rt& rt) -> Status {
            auto id = rt.id("a");
            CTR_TRY_STATUS(rt.run(id, {"sleep", "30"}));
            CTR_TRY_STATUS(expect(rt.remove(id, false), {CTR_E_FAILED_PRECONDITION}, "delete without force"));
            if (!rt.reaches(id, "running", 2000)) return failure("refused delete changed the container");
            CTR_TRY_STATUS(expect(rt.remove(id, true), {CTR_OK}, "delete with force"));
            return expect(rt.state(id), {CTR_E_NOT_FOUND}, "state after forced delete");
        });
        rule("RT-011", "exec runs another process in a running container; wait with exec_id reports its exit code (or unimplemented)", [](Rt& rt) -> Status {
            auto id = rt.id("a");
            CTR_TRY_STATUS(rt.run(id, {"sleep", "30"}));
            json process = default_spec({"sh", "-c", "exit 5"})["process"];
            Reply e = call(rt.t().exec, rt.i(), json{{"id", id}, {"exec_id", "e1"}, {"process", process}});
            if (e.status == CTR_E_UNIMPLEMENTED) return ok();  // a runtime without exec (runtime-minimal)
            CTR_TRY_STATUS(expect(e, {CTR_OK}, "exec"));
            Reply w = call(rt.t().wait, rt.i(), json{{"id", id}, {"exec_id", "e1"}, {"timeout_ms", 20000}});
            CTR_TRY_STATUS(exit_code_is(w, 5, "wait for exec"));
            if (!rt.reaches(id, "running", 2000)) return failure("the container stopped when its exec process ended");
            return ok();
        });
        rule("RT-012", "a missing executable is reported: start fails with not found, or wait says 127", [](Rt& rt) -> Status {
            auto id = rt.id("a");
            auto c = CTR_TRY(rt.create(id, {"/no/such/program"}));
            if (c.status != CTR_OK) return expect(c, {CTR_E_NOT_FOUND, CTR_E_INVALID_ARGUMENT}, "create");
            Reply s = rt.start(id);
            if (s.status != CTR_OK) return expect(s, {CTR_E_NOT_FOUND}, "start");
            return exit_code_is(rt.wait(id), 127, "wait");
        });
        rule("RT-013", "a failed create leaves nothing behind: the id can be created again", [](Rt& rt) -> Status {
            auto id = rt.id("a");
            Reply bad = call(rt.t().create, rt.i(), json{{"id", id}, {"bundle", "/nonexistent/conformance-bundle"}});
            if (bad.status == CTR_OK) return failure("create with a missing bundle succeeded");
            if (bad.message.empty()) return failure("create with a missing bundle failed without a message");
            auto good = CTR_TRY(rt.create(id, {"true"}));
            return expect(good, {CTR_OK}, "create after a failed create");
        });
        rule("RT-014", "the process is PID 1 of its own PID namespace", [](Rt& rt) -> Status {
            auto id = rt.id("a");
            CTR_TRY_STATUS(rt.run(id, {"sh", "-c", "echo pid=$$"}));
            CTR_TRY_STATUS(exit_code_is(rt.wait(id), 0, "wait"));
            if (rt.output(id).find("pid=1\n") == std::string::npos) return failure("process printed \"" + rt.output(id) + "\"");
            return ok();
        });
        rule("RT-015", "stats of a running container is a json object (or unimplemented)", [](Rt& rt) -> Status {
            auto id = rt.id("a");
            CTR_TRY_STATUS(rt.run(id, {"sleep", "30"}));
            Reply s = call(rt.t().stats, rt.i(), json{{"id", id}});
            if (s.status == CTR_E_UNIMPLEMENTED) return ok();
            CTR_TRY_STATUS(expect(s, {CTR_OK}, "stats"));
            if (!s.result.is_object()) return failure("stats result is not an object: " + s.result.dump());
            return ok();
        });
        rule("RT-016", "processes (1.4) of a running container lists its process with pid, ppid and command (or unimplemented)", [](Rt& rt) -> Status {
            auto id = rt.id("a");
            CTR_TRY_STATUS(rt.run(id, {"sleep", "31"}));
            if (!rt.t().processes) return ok();  // a plugin built for an older minor
            Reply s = call(rt.t().processes, rt.i(), json{{"id", id}});
            if (s.status == CTR_E_UNIMPLEMENTED) return ok();
            CTR_TRY_STATUS(expect(s, {CTR_OK}, "processes"));
            const json list = s.result.is_object() ? s.result.value("processes", json()) : json();
            if (!list.is_array()) return failure("processes result has no \"processes\" list: " + s.result.dump());
            for (const auto& p : list) {
                if (!p.is_object() || !p.contains("pid") || !p.contains("ppid") || !p.contains("command"))
                    return failure("a process entry lacks pid, ppid or command: " + p.dump());
                if (p["command"] == "sleep 31") return ok();
            }
            return failure("\"sleep 31\" is not among the processes: " + list.dump());
        });
    }
} rules;

}  // namespace
}  // namespace ctr::conformance
