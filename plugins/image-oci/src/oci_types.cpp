#include "oci_types.hpp"

#include "digest.hpp"

#include <sys/utsname.h>

namespace image_oci {

using nlohmann::json;

namespace {

ctr::Error bad(const std::string& what) { return ctr::make_error(CTR_E_INVALID_ARGUMENT, what); }

ctr::Result<json> parse_object(const std::string& body, const char* what) {
    auto j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return bad(std::string(what) + " is not a json object");
    return j;
}

ctr::Result<Descriptor> parse_descriptor(const json& j, const char* what) {
    if (!j.is_object()) return bad(std::string(what) + ": descriptor is not an object");
    Descriptor d;
    if (!j.contains("mediaType") || !j["mediaType"].is_string()) return bad(std::string(what) + ": descriptor has no mediaType");
    d.media_type = j["mediaType"];
    if (!j.contains("digest") || !j["digest"].is_string()) return bad(std::string(what) + ": descriptor has no digest");
    d.digest = j["digest"];
    CTR_TRY_STATUS(check_digest(d.digest));
    if (!j.contains("size") || !j["size"].is_number_integer() || j["size"].get<int64_t>() < 0)
        return bad(std::string(what) + ": descriptor has no valid size");
    d.size = j["size"];
    if (j.contains("platform") && j["platform"].is_object()) {
        Platform p;
        p.os = j["platform"].value("os", "");
        p.architecture = j["platform"].value("architecture", "");
        p.variant = j["platform"].value("variant", "");
        d.platform = p;
    }
    d.annotations = j.value("annotations", json::object());
    return d;
}

// The document's own mediaType must agree with the Content-Type, when both say one.
ctr::Status agree(const json& j, const std::string& content_type, const char* what) {
    std::string own = j.value("mediaType", "");
    if (!own.empty() && !content_type.empty() && own != content_type && content_type != "application/json" &&
        content_type != "application/octet-stream")
        return bad(std::string(what) + ": media type \"" + own + "\" disagrees with content type \"" + content_type + "\"");
    return ctr::ok();
}

}  // namespace

Platform host_platform() {
    utsname u{};
    uname(&u);
    std::string m = u.machine;
    Platform p;
    if (m == "x86_64") p.architecture = "amd64";
    else if (m == "aarch64") {
        p.architecture = "arm64";
        p.variant = "v8";
    } else if (m.rfind("armv7", 0) == 0) {
        p.architecture = "arm";
        p.variant = "v7";
    } else if (m == "i686" || m == "i386") p.architecture = "386";
    else p.architecture = m;
    return p;
}

ctr::Result<Platform> parse_platform(const std::string& text) {
    Platform p;
    auto a = text.find('/');
    if (a == std::string::npos || a == 0) return bad("invalid platform \"" + text + "\" (want os/arch[/variant])");
    p.os = text.substr(0, a);
    auto b = text.find('/', a + 1);
    p.architecture = text.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
    if (b != std::string::npos) p.variant = text.substr(b + 1);
    if (p.architecture.empty()) return bad("invalid platform \"" + text + "\" (want os/arch[/variant])");
    return p;
}

bool is_index_type(const std::string& t) { return t == media::kOciIndex || t == media::kDockerList; }
bool is_manifest_type(const std::string& t) { return t == media::kOciManifest || t == media::kDockerManifest; }

ctr::Result<Index> parse_index(const std::string& body, const std::string& content_type) {
    json j = CTR_TRY(parse_object(body, "image index"));
    CTR_TRY_STATUS(agree(j, content_type, "image index"));
    if (j.contains("layers") || j.contains("config")) return bad("image index also holds manifest fields (ambiguous document)");
    if (!j.contains("manifests") || !j["manifests"].is_array()) return bad("image index has no manifests");
    Index idx;
    for (const auto& m : j["manifests"]) idx.manifests.push_back(CTR_TRY(parse_descriptor(m, "image index")));
    return idx;
}

ctr::Result<Manifest> parse_manifest(const std::string& body, const std::string& content_type) {
    json j = CTR_TRY(parse_object(body, "image manifest"));
    CTR_TRY_STATUS(agree(j, content_type, "image manifest"));
    if (j.contains("manifests")) return bad("image manifest also holds index fields (ambiguous document)");
    if (j.value("schemaVersion", 0) != 2) return bad("image manifest: only schemaVersion 2 is supported");
    Manifest m;
    m.media_type = j.value("mediaType", content_type);
    if (!j.contains("config")) return bad("image manifest has no config");
    m.config = CTR_TRY(parse_descriptor(j["config"], "image manifest config"));
    if (!j.contains("layers") || !j["layers"].is_array()) return bad("image manifest has no layers");
    for (const auto& l : j["layers"]) m.layers.push_back(CTR_TRY(parse_descriptor(l, "image manifest layer")));
    return m;
}

ctr::Result<ImageConfig> parse_config(const std::string& body) {
    json j = CTR_TRY(parse_object(body, "image config"));
    ImageConfig c;
    c.raw = j;
    c.platform.os = j.value("os", "");
    c.platform.architecture = j.value("architecture", "");
    c.platform.variant = j.value("variant", "");
    if (!j.contains("rootfs") || !j["rootfs"].is_object() || !j["rootfs"].contains("diff_ids") ||
        !j["rootfs"]["diff_ids"].is_array())
        return bad("image config has no rootfs.diff_ids");
    for (const auto& d : j["rootfs"]["diff_ids"]) {
        if (!d.is_string()) return bad("image config: a diff_id is not a string");
        CTR_TRY_STATUS(check_digest(d.get<std::string>()));
        c.diff_ids.push_back(d);
    }
    if (j.contains("config") && !j["config"].is_null() && !j["config"].is_object()) return bad("image config: config is not an object");
    return c;
}

ctr::Result<Descriptor> select_platform(const Index& index, const Platform& want) {
    std::string available;
    const Descriptor* fallback = nullptr;
    for (const auto& m : index.manifests) {
        if (!m.platform) continue;
        const auto& p = *m.platform;
        if (p.os == "unknown" || p.architecture == "unknown") continue;  // attestations
        available += (available.empty() ? "" : ", ") + p.str();
        if (p.os != want.os || p.architecture != want.architecture) continue;
        if (p.variant == want.variant) return m;
        if (want.variant.empty() || p.variant.empty()) fallback = fallback ? fallback : &m;
    }
    if (fallback) return *fallback;
    return ctr::make_error(CTR_E_NOT_FOUND, "no image for platform " + want.str() + " (available: " +
                                                (available.empty() ? "none" : available) + ")");
}

ctr::Result<Compression> layer_compression(const std::string& t) {
    if (t == "application/vnd.oci.image.layer.v1.tar" || t == "application/vnd.docker.image.rootfs.diff.tar")
        return Compression::none;
    if (t == "application/vnd.oci.image.layer.v1.tar+gzip" || t == "application/vnd.docker.image.rootfs.diff.tar.gzip")
        return Compression::gzip;
    if (t == "application/vnd.oci.image.layer.v1.tar+zstd" || t == "application/vnd.docker.image.rootfs.diff.tar.zstd")
        return Compression::zstd;
    return bad("unsupported layer media type \"" + t + "\"");
}

}  // namespace image_oci
