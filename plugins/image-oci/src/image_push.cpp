// `image push`: a stored image to the registry its name points at. Blobs the
// registry already has are skipped (HEAD); the others are uploaded whole,
// layers in parallel; the manifest goes last, so that a failed push leaves
// the registry's tag as it was.
#include "image_store.hpp"

#include <atomic>
#include <chrono>
#include <thread>

namespace image_oci {

ctr::Result<json> ImageStore::push(const json& req, const ctr::sdk::Progress& progress) {
    std::string text = CTR_TRY(ctr::sdk::get_string(req, "reference"));
    Reference ref = CTR_TRY(parse_reference(text, opt_.default_domain));
    if (!ref.digest.empty()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "push a tag, not a digest: " + text);
    json rec;
    {
        std::lock_guard<std::mutex> lock(mu_);
        json index = CTR_TRY(read_index());
        if (!index["images"].contains(ref.str())) return ctr::make_error(CTR_E_NOT_FOUND, "no image " + ref.str() + " in the store (tag one first)");
        rec = index["images"][ref.str()];
    }
    auto client_ptr = client_for(ref, req, progress);
    RegistryClient& client = *client_ptr;

    struct Blob {
        std::string digest;
        int64_t size;
    };
    std::vector<Blob> blobs;
    for (const auto& l : rec["layers"]) blobs.push_back({l["digest"], l["size"]});
    std::string config_digest = rec["config_digest"];
    std::error_code ec;
    blobs.push_back({config_digest, static_cast<int64_t>(std::filesystem::file_size(content_.blob_path(config_digest), ec))});

    std::atomic<size_t> next{0};
    std::mutex err_mu;
    ctr::Status first_error;
    auto worker = [&] {
        for (size_t i = next++; i < blobs.size(); i = next++) {
            const Blob& b = blobs[i];
            std::string id = b.digest.substr(7, 12);
            auto st = [&]() -> ctr::Status {
                if (CTR_TRY(client.has_blob(b.digest))) {
                    progress.event({{"id", id}, {"action", "exists"}, {"current", b.size}, {"total", b.size}});
                    return ctr::ok();
                }
                auto last = std::chrono::steady_clock::now() - std::chrono::seconds(1);
                ProgressFn report = [&](int64_t cur, int64_t total) {
                    auto now = std::chrono::steady_clock::now();
                    if (cur != total && now - last < std::chrono::milliseconds(100)) return;
                    last = now;
                    progress.event({{"id", id}, {"action", "upload"}, {"current", cur}, {"total", total}});
                };
                CTR_TRY_STATUS(client.upload_blob(b.digest, content_.blob_path(b.digest).string(), b.size, report));
                progress.event({{"id", id}, {"action", "done"}, {"current", b.size}, {"total", b.size}});
                return ctr::ok();
            }();
            if (!st) {
                std::lock_guard<std::mutex> lock(err_mu);
                if (first_error) first_error = st.error().wrap("blob " + id);
                next = blobs.size();
                return;
            }
        }
    };
    std::vector<std::thread> workers;
    for (int t = 0; t < std::min<int>(opt_.max_concurrent_downloads, static_cast<int>(blobs.size())); ++t) workers.emplace_back(worker);
    for (auto& w : workers) w.join();
    if (!first_error) return first_error.error();

    std::string manifest = CTR_TRY(content_.read(rec["digest"], 8 * 1024 * 1024));
    auto m = json::parse(manifest, nullptr, false);
    std::string media = m.is_object() ? m.value("mediaType", std::string(media::kOciManifest)) : media::kOciManifest;
    CTR_TRY_STATUS(client.put_manifest(ref.tag, media, manifest));
    return json{{"reference", ref.str()}, {"digest", rec["digest"]}};
}

}  // namespace image_oci
