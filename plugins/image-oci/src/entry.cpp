// image-oci: ABI wiring. The work is in ImageStore (pull, store, snapshots,
// root filesystems); this file only maps requests onto it.
#include "image_store.hpp"

#include <ctr/base/units.hpp>

#include <ctr/sdk/plugin.hpp>

namespace {

using ctr::sdk::json;

class ImageOci : public ctr::sdk::Image {
public:
    using Image::Image;

    ctr::Status init() override {
        json settings = host().settings();
        image_oci::StoreOptions o;
        o.state_dir = host().state_dir();
        o.default_domain = settings.value("default_domain", "docker.io");
        if (settings.contains("insecure") && settings["insecure"].is_array())
            for (const auto& h : settings["insecure"])
                if (h.is_string()) o.insecure.push_back(h);
        if (settings.contains("stall_seconds")) {
            const json& v = settings["stall_seconds"];
            if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 3600)
                return ctr::make_error(CTR_E_INVALID_ARGUMENT, "settings.stall_seconds must be a whole number of seconds from 1 to 3600");
            o.stall_seconds = static_cast<int>(v.get<int64_t>());
        }
        if (settings.contains("max_layer_bytes")) {
            const json& v = settings["max_layer_bytes"];
            auto bytes = v.is_string() ? ctr::parse_size(v.get<std::string>(), "settings.max_layer_bytes")
                         : v.is_number_integer() ? ctr::Result<int64_t>(v.get<int64_t>())
                                                 : ctr::Result<int64_t>(ctr::make_error(CTR_E_INVALID_ARGUMENT, "settings.max_layer_bytes must be a size"));
            if (!bytes) return bytes.error();
            if (*bytes < 1024) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "settings.max_layer_bytes must be at least 1k");
            o.max_layer_bytes = *bytes;
        }
        o.overlay = CTR_TRY(image_oci::overlay_driver(settings));
        store_ = std::make_unique<image_oci::ImageStore>(o);
        return store_->init();
    }

    ctr::Result<json> pull(const json& req, const ctr::sdk::Progress& progress) override {
        return store_->pull(req, progress);
    }
    ctr::Result<json> resolve(const json& req) override {
        return store_->resolve(CTR_TRY(ctr::sdk::get_string(req, "reference")));
    }
    ctr::Result<json> list(const json&) override { return store_->list(); }
    ctr::Result<json> remove(const json& req) override {
        return store_->remove(CTR_TRY(ctr::sdk::get_string(req, "reference")));
    }
    ctr::Result<json> prepare_rootfs(const json& req) override {
        return store_->prepare_rootfs(CTR_TRY(ctr::sdk::get_string(req, "reference")),
                                      CTR_TRY(ctr::sdk::get_string(req, "container_id")),
                                      CTR_TRY(ctr::sdk::get_string(req, "target")));
    }
    ctr::Result<json> release_rootfs(const json& req) override {
        auto target = CTR_TRY(ctr::sdk::get_opt_string(req, "target"));
        CTR_TRY_STATUS(store_->release_rootfs(CTR_TRY(ctr::sdk::get_string(req, "container_id")), target.value_or("")));
        return json();
    }

    ctr::Result<json> tag(const json& req) override {
        return store_->tag(CTR_TRY(ctr::sdk::get_string(req, "source")), CTR_TRY(ctr::sdk::get_string(req, "target")));
    }
    ctr::Result<json> save(const json& req) override {
        std::vector<std::string> refs;
        auto it = req.find("references");
        if (it == req.end() || !it->is_array()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "field \"references\" must be a list");
        for (const auto& r : *it) {
            if (!r.is_string()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "field \"references\" must hold strings");
            refs.push_back(r);
        }
        return store_->save(refs, CTR_TRY(ctr::sdk::get_string(req, "output")));
    }
    ctr::Result<json> load(const json& req) override { return store_->load(CTR_TRY(ctr::sdk::get_string(req, "input"))); }
    ctr::Result<json> push(const json& req, const ctr::sdk::Progress& progress) override { return store_->push(req, progress); }
    ctr::Result<json> import_rootfs(const json& req) override {
        return store_->import_rootfs(CTR_TRY(ctr::sdk::get_string(req, "input")), CTR_TRY(ctr::sdk::get_string(req, "reference")));
    }
    ctr::Result<json> commit(const json& req) override { return store_->commit(req); }

private:
    std::unique_ptr<image_oci::ImageStore> store_;
};

}  // namespace

// The name a build gives it (tests build this code a second time as another
// plugin, to show that the host picks image plugins by configuration).
#ifndef IMAGE_OCI_PLUGIN_NAME
#define IMAGE_OCI_PLUGIN_NAME "image-oci"
#endif
CTR_SDK_PLUGIN(ImageOci, IMAGE_OCI_PLUGIN_NAME, "0.1.0")
