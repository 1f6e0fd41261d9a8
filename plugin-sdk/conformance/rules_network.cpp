// NET rules: what a network plugin must do. They touch no host networking.
#include "harness.hpp"

namespace ctr::conformance {
namespace {

Status with_network(Context& ctx, const std::function<Status(const ctr_network_v1&, ctr_plugin*)>& body) {
    auto p = ctx.load();
    if (!p) return failure("load: " + p.error().message);
    return body(*(*p)->network(), (*p)->instance());
}

Registrar net1({"NET-001", CTR_KIND_NETWORK, "list answers a json array", [](Context& ctx) {
                    return with_network(ctx, [](const ctr_network_v1& t, ctr_plugin* i) -> Status {
                        Reply r = call(t.list, i, json::object());
                        CTR_TRY_STATUS(expect(r, {CTR_OK}, "list"));
                        if (!r.result.is_array()) return failure("list result is not an array: " + r.result.dump());
                        return ok();
                    });
                }});

Registrar net2({"NET-002", CTR_KIND_NETWORK, "remove_network of an unknown name says not found", [](Context& ctx) {
                    return with_network(ctx, [](const ctr_network_v1& t, ctr_plugin* i) -> Status {
                        return expect(call(t.remove_network, i, json{{"name", "conformance-no-such-network"}}),
                                      {CTR_E_NOT_FOUND}, "remove_network");
                    });
                }});

Registrar net3({"NET-003", CTR_KIND_NETWORK, "create_network with an invalid subnet says invalid argument", [](Context& ctx) {
                    return with_network(ctx, [](const ctr_network_v1& t, ctr_plugin* i) -> Status {
                        for (const char* subnet : {"10.0.0.0/33", "10.0.0.1/24", "not-a-subnet"})
                            CTR_TRY_STATUS(expect(call(t.create_network, i, json{{"name", "conformance-bad"}, {"subnet", subnet}}),
                                                  {CTR_E_INVALID_ARGUMENT}, std::string("subnet ") + subnet));
                        return ok();
                    });
                }});

Registrar net4({"NET-004", CTR_KIND_NETWORK, "attach to an unknown network says not found", [](Context& ctx) {
                    return with_network(ctx, [](const ctr_network_v1& t, ctr_plugin* i) -> Status {
                        return expect(call(t.attach, i, json{{"network", "conformance-no-such-network"},
                                                             {"container_id", "c1"}, {"netns", "/proc/self/ns/net"}}),
                                      {CTR_E_NOT_FOUND}, "attach");
                    });
                }});

}  // namespace
}  // namespace ctr::conformance
