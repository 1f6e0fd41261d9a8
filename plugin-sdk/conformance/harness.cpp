#include "harness.hpp"

#include <ctr/sys/files.hpp>

#include <sstream>

namespace ctr::conformance {

std::vector<Rule>& all_rules() {
    static std::vector<Rule> rules;
    return rules;
}

Result<std::unique_ptr<pluginhost::LoadedPlugin>> Context::load(uint32_t minor_min, uint32_t minor_max) const {
    pluginhost::HostOffer offer;
    offer.host_version = "conformance";
    offer.state_dir = state_dir.string();
    offer.abi_minor_min = minor_min;
    offer.abi_minor_max = minor_max;
    return pluginhost::LoadedPlugin::load(manifest, offer);
}

namespace {
int32_t collect(void* ctx, const char* data, size_t len) {
    static_cast<std::string*>(ctx)->append(data, len);
    return 0;
}
}  // namespace

Reply call(ctr_op op, ctr_plugin* instance, const std::string& request) {
    Reply r;
    std::string out;
    ctr_sink sink{sizeof(ctr_sink), 0, &out, &collect};
    char msg[1024] = {};
    ctr_error err{sizeof(ctr_error), CTR_OK, 0, sizeof msg, msg};
    r.status = op(instance, request.data(), request.size(), &sink, &err);
    r.message = msg;
    if (!out.empty()) {
        r.result = json::parse(out, nullptr, false);
        if (r.result.is_discarded()) r.result = json("<not json: " + out + ">");
    }
    return r;
}

Reply call(ctr_op op, ctr_plugin* instance, const json& request) { return call(op, instance, request.dump()); }

Status expect(const Reply& reply, std::initializer_list<int32_t> allowed, const std::string& step) {
    for (int32_t s : allowed)
        if (reply.status == s) return ok();
    std::ostringstream want;
    for (int32_t s : allowed) want << (want.tellp() > 0 ? " or " : "") << status_name(s);
    return failure(step + ": got " + status_name(reply.status) + (reply.message.empty() ? "" : " (" + reply.message + ")") +
                   ", want " + want.str());
}

Error failure(const std::string& why) { return make_error(CTR_E_FAILED_PRECONDITION, why); }

}  // namespace ctr::conformance
