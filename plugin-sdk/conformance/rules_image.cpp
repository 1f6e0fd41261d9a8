// IMG rules: what an image plugin must do. They need no registry.
#include "harness.hpp"

namespace ctr::conformance {
namespace {

Status with_image(Context& ctx, const std::function<Status(const ctr_image_v1&, ctr_plugin*)>& body) {
    auto p = ctx.load();
    if (!p) return failure("load: " + p.error().message);
    return body(*(*p)->image(), (*p)->instance());
}

Registrar img1({"IMG-001", CTR_KIND_IMAGE, "list answers a json array (empty in a fresh state directory)", [](Context& ctx) {
                    return with_image(ctx, [](const ctr_image_v1& t, ctr_plugin* i) -> Status {
                        Reply r = call(t.list, i, json::object());
                        CTR_TRY_STATUS(expect(r, {CTR_OK}, "list"));
                        if (!r.result.is_array() || !r.result.empty())
                            return failure("list of a fresh store: " + r.result.dump() + ", want []");
                        return ok();
                    });
                }});

Registrar img2({"IMG-002", CTR_KIND_IMAGE, "resolve of an image not in the store says not found", [](Context& ctx) {
                    return with_image(ctx, [](const ctr_image_v1& t, ctr_plugin* i) -> Status {
                        return expect(call(t.resolve, i, json{{"reference", "localhost/conformance/absent:1"}}),
                                      {CTR_E_NOT_FOUND}, "resolve");
                    });
                }});

Registrar img3({"IMG-003", CTR_KIND_IMAGE, "release_rootfs is idempotent: an unknown container succeeds", [](Context& ctx) {
                    return with_image(ctx, [&ctx](const ctr_image_v1& t, ctr_plugin* i) -> Status {
                        return expect(call(t.release_rootfs, i, json{{"container_id", "conformance-none"},
                                                                     {"target", (ctx.work / "none").string()}}),
                                      {CTR_OK}, "release_rootfs");
                    });
                }});

Registrar img4({"IMG-004", CTR_KIND_IMAGE, "a malformed reference is invalid argument, before any network access", [](Context& ctx) {
                    return with_image(ctx, [](const ctr_image_v1& t, ctr_plugin* i) -> Status {
                        for (const char* ref : {"UPPER/case", "a//b", "", "name:", "x@sha256:123"}) {
                            std::string req = json{{"reference", ref}}.dump();
                            char msg[512] = {};
                            ctr_error err{sizeof err, 0, 0, sizeof msg, msg};
                            int32_t rc = t.pull(i, req.data(), req.size(), nullptr, nullptr, &err);
                            if (rc != CTR_E_INVALID_ARGUMENT)
                                return failure(std::string("pull \"") + ref + "\": got " + status_name(rc) + ", want invalid argument");
                        }
                        return ok();
                    });
                }});

}  // namespace
}  // namespace ctr::conformance
