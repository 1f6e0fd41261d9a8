// @NAME@: an image plugin on the C++ SDK, as `container plugin new` made it.
// The SDK (<ctr/sdk/plugin.hpp>) negotiates the ABI, parses each request
// (refusing unknown fields), encodes results and keeps exceptions inside.
// This skeleton's store is empty: list answers [], every reference is
// unknown, release_rootfs succeeds, and pull checks the reference, then
// answers unimplemented. That passes every GEN and IMG rule of
// container-plugin-conformance; make pull and prepare_rootfs real next
// (README.md). The requests and results are in <ctr/plugin.h>.
#include <ctr/sdk/plugin.hpp>

#include <regex>
#include <string>

namespace {

using ctr::sdk::json;

// Docker's reference grammar, in short: [domain/]path[:tag][@sha256:hex]. A
// domain holds a . or a :port (or is localhost); the path's components are
// lowercase [a-z0-9] joined by . _ or -.
bool valid_reference(const std::string& ref) {
    static const std::regex grammar(
        R"(^((localhost(:[0-9]+)?|[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)+(:[0-9]+)?|[a-zA-Z0-9-]+:[0-9]+)/)?)"
        R"([a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*)"
        R"((:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$)");
    return std::regex_match(ref, grammar);
}

ctr::Result<std::string> reference(const json& req) {
    auto ref = CTR_TRY(ctr::sdk::get_string(req, "reference"));
    if (!valid_reference(ref)) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "invalid reference \"" + ref + "\"");
    return ref;
}

class Image final : public ctr::sdk::Image {
public:
    using ctr::sdk::Image::Image;

    ctr::Result<json> pull(const json& req, const ctr::sdk::Progress&) override {
        CTR_TRY(reference(req));
        return ctr::make_error(CTR_E_UNIMPLEMENTED, "@NAME@ cannot pull yet");
    }

    ctr::Result<json> resolve(const json& req) override { return unknown(req); }
    ctr::Result<json> remove(const json& req) override { return unknown(req); }
    ctr::Result<json> prepare_rootfs(const json& req) override { return unknown(req); }

    // Nothing was prepared, so there is nothing to undo.
    ctr::Result<json> release_rootfs(const json& req) override {
        CTR_TRY(ctr::sdk::get_string(req, "container_id"));
        return json();
    }

    ctr::Result<json> list(const json&) override { return json::array(); }

private:
    // Nothing is stored: every well-formed reference is unknown.
    static ctr::Result<json> unknown(const json& req) {
        auto ref = CTR_TRY(reference(req));
        return ctr::make_error(CTR_E_NOT_FOUND, "no image \"" + ref + "\"");
    }
};

}  // namespace

CTR_SDK_PLUGIN(Image, "@NAME@", "0.1.0")
