// The image store: what was pulled (images.json), the content it needs
// (ContentStore), and one unpacked snapshot per layer, named by its chain ID
// and shared by every image that has the layer. A container's root
// filesystem is an overlay of its image's snapshots plus its own upper layer.
#pragma once

#include "content_store.hpp"
#include "oci_types.hpp"
#include "overlay_mount.hpp"
#include "unpack.hpp"
#include "reference.hpp"
#include "registry_client.hpp"

#include <ctr/sdk/plugin.hpp>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace image_oci {

using ctr::sdk::json;

struct StoreOptions {
    std::filesystem::path state_dir;
    std::string default_domain = "docker.io";
    std::vector<std::string> insecure;
    int max_concurrent_downloads = 3;
    int stall_seconds = 60;  // a transfer below 1 byte/s this long is dropped (and resumed)
    int64_t max_layer_bytes = int64_t{64} << 30;  // a layer's uncompressed tar may not grow past this
    OverlayDriver overlay = OverlayDriver::automatic;  // how containers' root filesystems are mounted
};

class ImageStore {
public:
    explicit ImageStore(StoreOptions options);
    ctr::Status init();

    ctr::Result<json> pull(const json& request, const ctr::sdk::Progress& progress);
    ctr::Result<json> resolve(const std::string& reference);
    ctr::Result<json> list();
    ctr::Result<json> remove(const std::string& reference);
    ctr::Result<json> prepare_rootfs(const std::string& reference, const std::string& container_id,
                                     const std::filesystem::path& target);
    ctr::Status release_rootfs(const std::string& container_id, const std::filesystem::path& target);

    // image_archive.cpp: names and archives.
    ctr::Result<json> tag(const std::string& source, const std::string& target);
    ctr::Result<json> save(const std::vector<std::string>& references, const std::filesystem::path& output);
    ctr::Result<json> load(const std::filesystem::path& input);
    ctr::Result<json> import_rootfs(const std::filesystem::path& input, const std::string& reference);
    // image_commit.cpp: a base's layers plus one more (or none), with a given
    // config: the builder's steps.
    ctr::Result<json> commit(const json& request);
    // image_push.cpp: uploads what the registry lacks, then the manifest.
    ctr::Result<json> push(const json& request, const ctr::sdk::Progress& progress);

private:
    // A client for the reference's registry: the request's login ("auth"),
    // our settings, the request's cancellation.
    std::unique_ptr<RegistryClient> client_for(const Reference& ref, const json& request, const ctr::sdk::Progress& progress) const;
    ctr::Result<json> read_index() const;               // images.json, under mu_
    ctr::Status write_index(const json& index) const;   // atomically, under mu_
    ctr::Result<std::string> key_of(const std::string& reference) const;
    std::filesystem::path snapshot_dir(const std::string& chain_id) const;
    // prepare_rootfs for a container that has its layer already (the host
    // unmounted it at a stop): the same layers and writes, mounted again.
    ctr::Result<json> remount_rootfs(const std::filesystem::path& dir, const std::filesystem::path& target);
    // Unpacks the stored blob, or with `streamed`, the bytes of its download
    // as they arrive (see ingest_follower.hpp).
    ctr::Status ensure_snapshot(const Descriptor& layer, const std::string& diff_id, const std::string& chain_id,
                                const ctr::sdk::Progress& progress, const ReadFn* streamed = nullptr);
    ctr::Status collect_garbage(const json& index);
    // Present while a removal's collection is owed.
    std::filesystem::path gc_mark() const { return opt_.state_dir / "gc-pending"; }
    // Records `name` for the manifest `manifest_digest`, whose blobs are all
    // in the content store: unpacks its layers, then writes the index.
    ctr::Result<json> record_image(const std::string& name, const std::string& manifest_digest);
    // A blob from a file, its digest computed (or checked against `digest`).
    ctr::Result<std::string> ingest_file(const std::filesystem::path& file, const std::string& digest = "");

    StoreOptions opt_;
    ContentStore content_;
    mutable std::mutex mu_;
};

// chain[0] = diff[0]; chain[i] = sha256(chain[i-1] + " " + diff[i]).
std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids);

}  // namespace image_oci
