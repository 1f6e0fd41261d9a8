// @NAME@: a runtime plugin on the C++ SDK, as `container plugin new` made it.
// The SDK (<ctr/sdk/plugin.hpp>) negotiates the ABI, parses each request
// (refusing unknown fields), encodes results and keeps exceptions inside; an
// operation not overridden answers unimplemented. This skeleton holds a table
// of containers but cannot create one yet, so it passes the GEN rules and
// RT-006 of container-plugin-conformance. Write create, start,
// kill, wait and state next (README.md); the requests and results are in
// <ctr/plugin.h>, and plugin-sdk/examples/runtime-minimal is a whole runtime
// in C to read beside it.
#include <ctr/sdk/plugin.hpp>

#include <map>
#include <mutex>
#include <string>
#include <sys/types.h>

namespace {

using ctr::sdk::json;

struct Container {
    std::string bundle;
    pid_t pid = 0;
    std::string status = "created";  // created, running, stopped
};

class Runtime final : public ctr::sdk::Runtime {
public:
    using ctr::sdk::Runtime::Runtime;

    ctr::Result<json> create(const json& req) override {
        auto id = CTR_TRY(ctr::sdk::get_string(req, "id"));
        CTR_TRY(ctr::sdk::get_string(req, "bundle"));
        std::lock_guard lock(mu_);
        if (containers_.count(id)) return ctr::make_error(CTR_E_ALREADY_EXISTS, "container \"" + id + "\" already exists");
        // Next: read bundle/config.json, start the process held before exec,
        // and add it to containers_.
        return ctr::make_error(CTR_E_UNIMPLEMENTED, "@NAME@ cannot create containers yet");
    }

    ctr::Result<json> start(const json& req) override { return not_yet(req, "start"); }
    ctr::Result<json> kill(const json& req) override { return not_yet(req, "kill"); }
    ctr::Result<json> wait(const json& req) override { return not_yet(req, "wait"); }

    ctr::Result<json> state(const json& req) override {
        auto c = CTR_TRY(known(req));
        return json{{"ociVersion", "1.0.2"}, {"id", req["id"]}, {"status", c.status}, {"pid", c.pid}, {"bundle", c.bundle}};
    }

    // delete: a container that is not there is already deleted.
    ctr::Result<json> remove(const json& req) override {
        auto id = CTR_TRY(ctr::sdk::get_string(req, "id"));
        std::lock_guard lock(mu_);
        containers_.erase(id);
        return json();
    }

private:
    // Not found for an unknown id (the rules ask it first), else unimplemented.
    ctr::Result<json> not_yet(const json& req, const char* op) {
        CTR_TRY(known(req));
        return ctr::make_error(CTR_E_UNIMPLEMENTED, std::string("@NAME@ cannot ") + op + " yet");
    }

    // A copy of the container the request's "id" names, or not found.
    ctr::Result<Container> known(const json& req) {
        auto id = CTR_TRY(ctr::sdk::get_string(req, "id"));
        std::lock_guard lock(mu_);
        auto it = containers_.find(id);
        if (it == containers_.end()) return ctr::make_error(CTR_E_NOT_FOUND, "no container \"" + id + "\"");
        return it->second;
    }

    std::mutex mu_;  // operations on different containers come from several threads
    std::map<std::string, Container> containers_;
};

}  // namespace

CTR_SDK_PLUGIN(Runtime, "@NAME@", "0.1.0")
