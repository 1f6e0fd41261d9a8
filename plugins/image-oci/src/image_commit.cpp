// commit (ABI 1.3): the builder's step. An image is the base's layers, the
// new layer when the step made one (stored once, as the uncompressed tar the
// builder wrote), and the config the builder computed; only rootfs is ours.
#include "image_store.hpp"

#include "digest.hpp"

namespace image_oci {

namespace fs = std::filesystem;

ctr::Result<json> ImageStore::commit(const json& req) {
    std::string reference = CTR_TRY(ctr::sdk::get_string(req, "reference"));
    Reference ref = CTR_TRY(parse_reference(reference, opt_.default_domain));
    if (!ref.digest.empty()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "reference \"" + reference + "\": name it with a tag, not a digest");
    if (!req.contains("config") || !req["config"].is_object())
        return ctr::make_error(CTR_E_INVALID_ARGUMENT, "field \"config\" must be an OCI image config object");
    std::string base = req.value("base", "");
    std::string layer = req.value("layer", "");

    json descriptors = json::array();
    json diff_ids = json::array();
    if (!base.empty()) {
        std::string key = CTR_TRY(key_of(base));
        std::lock_guard<std::mutex> lock(mu_);
        json index = CTR_TRY(read_index());
        if (!index["images"].contains(key)) return ctr::make_error(CTR_E_NOT_FOUND, "no image " + key + " in the store");
        const json rec = index["images"][key];
        for (const auto& l : rec["layers"]) {
            descriptors.push_back({{"mediaType", l["media_type"]}, {"digest", l["digest"]}, {"size", l["size"]}});
            diff_ids.push_back(l["diff_id"]);
        }
    }
    if (!layer.empty()) {
        fs::path path(layer);
        if (!path.is_absolute()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "layer must be an absolute path");
        std::error_code ec;
        auto size = fs::file_size(path, ec);
        if (ec) return ctr::make_error(CTR_E_NOT_FOUND, "layer \"" + layer + "\": " + ec.message());
        // Uncompressed: its digest is its diff_id too.
        std::string digest = CTR_TRY(ingest_file(path));
        descriptors.push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar"}, {"digest", digest}, {"size", size}});
        diff_ids.push_back(digest);
    }
    json config = req["config"];
    config["rootfs"] = {{"type", "layers"}, {"diff_ids", diff_ids}};
    std::string config_text = config.dump();
    std::string config_digest = sha256_of(config_text);
    CTR_TRY_STATUS(content_.put(config_digest, config_text));
    json manifest = {{"schemaVersion", 2}, {"mediaType", media::kOciManifest},
                     {"config", {{"mediaType", media::kOciConfig}, {"digest", config_digest}, {"size", config_text.size()}}},
                     {"layers", descriptors}};
    std::string manifest_text = manifest.dump();
    std::string manifest_digest = sha256_of(manifest_text);
    CTR_TRY_STATUS(content_.put(manifest_digest, manifest_text));
    std::string name = CTR_TRY(record_image(ref.str(), manifest_digest)).get<std::string>();
    return json{{"reference", name}, {"digest", manifest_digest}, {"config", config}};
}

}  // namespace image_oci
