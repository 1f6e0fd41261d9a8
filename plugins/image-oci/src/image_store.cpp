#include "image_store.hpp"

#include "ingest_follower.hpp"
#include "overlay_mount.hpp"
#include "unpack.hpp"

#include <ctr/base/failpoint.hpp>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

namespace image_oci {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kMaxConfig = 8 * 1024 * 1024;

int64_t now_unix() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string short_id(const std::string& digest) { return digest.size() > 19 ? digest.substr(7, 12) : digest; }

ctr::Status check_container_id(const std::string& id) {
    static const std::regex re("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    if (!std::regex_match(id, re)) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "invalid container id \"" + id + "\"");
    return ctr::ok();
}

ctr::Status write_atomic(const fs::path& path, const std::string& content) {
    fs::path tmp = path;
    tmp += ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << content;
        out.flush();
        if (!out) return ctr::make_error(CTR_E_INTERNAL, "write \"" + tmp.string() + "\" failed");
    }
    int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) return ctr::make_error(CTR_E_INTERNAL, "rename \"" + path.string() + "\": " + ec.message());
    return ctr::ok();
}

}  // namespace

std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids) {
    std::vector<std::string> out;
    for (const auto& d : diff_ids) out.push_back(out.empty() ? d : sha256_of(out.back() + " " + d));
    return out;
}

ImageStore::ImageStore(StoreOptions options) : opt_(std::move(options)), content_(opt_.state_dir / "content") {}

ctr::Status ImageStore::init() {
    CTR_TRY_STATUS(content_.init());
    std::error_code ec;
    fs::create_directories(opt_.state_dir / "snapshots", ec);
    if (!ec) fs::create_directories(opt_.state_dir / "containers", ec);
    if (ec) return ctr::make_error(CTR_E_INTERNAL, "create image store: " + ec.message());
    // A removal that died between the index and the collection (remove).
    if (fs::exists(gc_mark(), ec)) {
        CTR_TRY_STATUS(collect_garbage(CTR_TRY(read_index())));
        fs::remove(gc_mark(), ec);
    }
    return ctr::ok();
}

fs::path ImageStore::snapshot_dir(const std::string& chain_id) const {
    return opt_.state_dir / "snapshots" / digest_hex(chain_id);
}

ctr::Result<json> ImageStore::read_index() const {
    std::ifstream in(opt_.state_dir / "images.json", std::ios::binary);
    if (!in) return json{{"images", json::object()}};
    json j = json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("images"))
        return ctr::make_error(CTR_E_INTERNAL, "image index \"" + (opt_.state_dir / "images.json").string() + "\" is corrupt");
    return j;
}

ctr::Status ImageStore::write_index(const json& index) const { return write_atomic(opt_.state_dir / "images.json", index.dump(2)); }

ctr::Result<std::string> ImageStore::key_of(const std::string& reference) const {
    auto ref = parse_reference(reference, opt_.default_domain);
    const std::string hex = reference.rfind("sha256:", 0) == 0 ? reference.substr(7) : reference;
    const bool id_like = hex.size() >= 12 && hex.size() <= 64 && hex.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!id_like) return CTR_TRY(std::move(ref)).str();
    // An image's id (its digest, or its first 12 or more digits), as docker
    // takes one: a stored name that reads the same wins.
    json index = CTR_TRY(read_index());
    if (ref && index["images"].contains(ref->str())) return ref->str();
    std::string found, digest;
    for (const auto& [key, rec] : index["images"].items()) {
        const std::string d = rec.value("digest", "");
        if (d.rfind("sha256:" + hex, 0) != 0) continue;
        if (!digest.empty() && d != digest)
            return ctr::make_error(CTR_E_INVALID_ARGUMENT, "\"" + reference + "\" is the start of more than one image's id: give more of it");
        digest = d;
        // A name under a reserved domain (.invalid: never a registry's)
        // only if the image has no other.
        const bool reserved = key.find(".invalid/") != std::string::npos;
        if (found.empty() || (found.find(".invalid/") != std::string::npos && !reserved)) found = key;
    }
    if (!found.empty()) return found;
    return CTR_TRY(std::move(ref)).str();
}

std::unique_ptr<RegistryClient> ImageStore::client_for(const Reference& ref, const json& req, const ctr::sdk::Progress& progress) const {
    Credentials creds;
    if (req.contains("auth") && req["auth"].is_object()) {
        creds.username = req["auth"].value("username", "");
        creds.password = req["auth"].value("password", "");
    }
    auto client = std::make_unique<RegistryClient>(ref.domain, ref.path, creds, opt_.insecure, [&progress] { return progress.cancelled(); });
    client->set_stall_seconds(opt_.stall_seconds);
    return client;
}

ctr::Status ImageStore::ensure_snapshot(const Descriptor& layer, const std::string& diff_id, const std::string& chain_id,
                                        const ctr::sdk::Progress& progress, const ReadFn* streamed) {
    fs::path final_dir = snapshot_dir(chain_id);
    std::error_code ec;
    if (fs::exists(final_dir, ec)) return ctr::ok();  // shared with an image we already have
    auto compression = CTR_TRY(layer_compression(layer.media_type));
    fs::path tmp = final_dir;
    tmp += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(std::hash<std::thread::id>()(std::this_thread::get_id()));
    fs::remove_all(tmp, ec);
    fs::create_directories(tmp / "fs", ec);
    if (ec) return ctr::make_error(CTR_E_INTERNAL, "create snapshot: " + ec.message());
    auto result = [&] {
        if (streamed) return unpack_stream(*streamed, digest_hex(layer.digest), compression, tmp / "fs", opt_.max_layer_bytes);
        progress.event({{"id", short_id(layer.digest)}, {"action", "unpack"}, {"current", 0}, {"total", layer.size}});
        return unpack_layer(content_.blob_path(layer.digest), compression, tmp / "fs", opt_.max_layer_bytes);
    }();
    if (!result) {
        fs::remove_all(tmp, ec);
        return result.error().wrap("layer " + short_id(layer.digest));
    }
    if (result->diff_id != diff_id) {
        fs::remove_all(tmp, ec);
        return ctr::make_error(CTR_E_INVALID_ARGUMENT, "layer " + short_id(layer.digest) + ": uncompressed digest " +
                                                           result->diff_id + " does not match the config's diff_id " + diff_id);
    }
    fs::rename(tmp, final_dir, ec);
    if (ec) fs::remove_all(tmp, ec);  // another pull made it first: theirs is the same
    return ctr::ok();
}

ctr::Result<json> ImageStore::pull(const json& req, const ctr::sdk::Progress& progress) {
    std::string text = CTR_TRY(ctr::sdk::get_string(req, "reference"));
    Reference ref = CTR_TRY(parse_reference(text, opt_.default_domain));
    Platform want = host_platform();
    if (auto p = CTR_TRY(ctr::sdk::get_opt_string(req, "platform")); p) want = CTR_TRY(parse_platform(*p));
    int64_t concurrency = CTR_TRY(ctr::sdk::get_int(req, "max_concurrent_downloads", opt_.max_concurrent_downloads));
    if (concurrency < 1 || concurrency > 32)
        return ctr::make_error(CTR_E_INVALID_ARGUMENT, "max_concurrent_downloads must be from 1 to 32");
    auto client_ptr = client_for(ref, req, progress);
    RegistryClient& client = *client_ptr;

    // Manifest, through an index if the reference names one.
    auto top = CTR_TRY(client.manifest(ref.ref()));
    if (!ref.digest.empty() && top.digest != ref.digest)
        return ctr::make_error(CTR_E_INVALID_ARGUMENT, "digest mismatch: asked for " + ref.digest + ", registry sent " + top.digest);
    std::string media = top.content_type;
    if (media.empty() || media == "application/json") {
        auto j = json::parse(top.body, nullptr, false);
        media = j.is_object() ? j.value("mediaType", "") : "";
    }
    Fetched manifest_doc = top;
    std::string index_digest;
    if (is_index_type(media)) {
        Index index = CTR_TRY(parse_index(top.body, top.content_type));
        CTR_TRY_STATUS(content_.put(top.digest, top.body));
        index_digest = top.digest;
        Descriptor chosen = CTR_TRY(select_platform(index, want));
        manifest_doc = CTR_TRY(client.manifest(chosen.digest));
        if (manifest_doc.digest != chosen.digest)
            return ctr::make_error(CTR_E_INVALID_ARGUMENT, "digest mismatch: index names " + chosen.digest + ", registry sent " + manifest_doc.digest);
    } else if (!is_manifest_type(media)) {
        return ctr::make_error(CTR_E_INVALID_ARGUMENT, "unsupported manifest media type \"" + media + "\" for " + ref.str());
    }
    Manifest manifest = CTR_TRY(parse_manifest(manifest_doc.body, manifest_doc.content_type));
    for (const auto& l : manifest.layers) {  // refuse unknown layer types before downloading anything
        auto c = layer_compression(l.media_type);
        if (!c) return c.error();
    }

    // Config.
    if (manifest.config.size > kMaxConfig) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "image config is larger than 8 MiB");
    // A config this pull brought and then refused does not stay in the
    // store; one that was there already belongs to an image pulled before.
    const bool had_config = content_.has(manifest.config.digest);
    auto refuse_config = [&](ctr::Error e) -> ctr::Error {
        if (!had_config) (void)content_.remove(manifest.config.digest);
        return e;
    };
    CTR_TRY_STATUS(client.blob(manifest.config.digest, manifest.config.size, content_, nullptr));
    std::string config_text = CTR_TRY(content_.read(manifest.config.digest, kMaxConfig));
    auto parsed_config = parse_config(config_text);
    if (!parsed_config) return refuse_config(parsed_config.error());
    ImageConfig config = std::move(*parsed_config);
    if (config.diff_ids.size() != manifest.layers.size())
        return refuse_config(ctr::make_error(CTR_E_INVALID_ARGUMENT, "image config lists " + std::to_string(config.diff_ids.size()) +
                                                                         " layers, the manifest " + std::to_string(manifest.layers.size())));

    // Layers: each worker downloads a layer and unpacks it at once into its
    // own snapshot (snapshots do not stack on disk, so layers unpack in any
    // order): downloads, inflation and writes of different layers overlap.
    auto chains = chain_ids(config.diff_ids);
    std::atomic<size_t> next{0};
    std::mutex err_mu;
    ctr::Status first_error;
    auto worker = [&] {
        for (size_t i = next++; i < manifest.layers.size(); i = next++) {
            const Descriptor& l = manifest.layers[i];
            std::string id = short_id(l.digest);
            ctr::Status st;
            std::error_code ec;
            if (content_.has(l.digest) || fs::exists(snapshot_dir(chains[i]), ec)) {
                progress.event({{"id", id}, {"action", "exists"}, {"current", l.size}, {"total", l.size}});
            } else {
                // The layer unpacks on a thread of its own as its bytes arrive.
                IngestFollower follower(content_.ingest_path(l.digest));
                ReadFn follow = [&follower](char* buf, size_t n) { return follower.read(buf, n); };
                std::thread unpacker;
                auto last = std::chrono::steady_clock::now() - std::chrono::seconds(1);
                st = client.blob(l.digest, l.size, content_, [&](int64_t cur, int64_t total) {
                    follower.grew(cur);
                    if (!unpacker.joinable())
                        unpacker = std::thread([&] { (void)ensure_snapshot(l, config.diff_ids[i], chains[i], progress, &follow); });
                    auto now = std::chrono::steady_clock::now();
                    if (cur != total && now - last < std::chrono::milliseconds(100)) return;
                    last = now;
                    progress.event({{"id", id}, {"action", "download"}, {"current", cur}, {"total", total}});
                });
                follower.finish(static_cast<bool>(st));
                if (unpacker.joinable()) unpacker.join();
            }
            // Present already (unpacked while downloading, or by another
            // image), or else from the stored blob, which also gives a bad
            // layer its own error.
            if (st) st = ensure_snapshot(l, config.diff_ids[i], chains[i], progress);
            if (st) progress.event({{"id", id}, {"action", "done"}, {"current", l.size}, {"total", l.size}});
            if (!st) {
                std::lock_guard<std::mutex> lock(err_mu);
                // Unpack errors name their layer already; download errors get it here.
                if (first_error)
                    first_error = st.error().message.rfind("layer " + id, 0) == 0 ? st.error() : st.error().wrap("layer " + id);
                next = manifest.layers.size();  // stop the others from starting more
                return;
            }
        }
    };
    std::vector<std::thread> workers;
    for (int64_t t = 0; t < std::min<int64_t>(concurrency, static_cast<int64_t>(manifest.layers.size())); ++t)
        workers.emplace_back(worker);
    for (auto& w : workers) w.join();
    if (!first_error) return first_error.error();

    // Only now, with every part verified and in place, is the image recorded.
    CTR_TRY_STATUS(content_.put(manifest_doc.digest, manifest_doc.body));
    json layers = json::array();
    int64_t size = manifest.config.size;
    for (size_t i = 0; i < manifest.layers.size(); ++i) {
        const auto& l = manifest.layers[i];
        size += l.size;
        layers.push_back({{"digest", l.digest}, {"media_type", l.media_type}, {"size", l.size}, {"diff_id", config.diff_ids[i]}, {"chain_id", chains[i]}});
    }
    json record = {{"digest", manifest_doc.digest}, {"index_digest", index_digest}, {"config_digest", manifest.config.digest},
                   {"layers", layers}, {"size", size}, {"platform", want.str()}, {"created", now_unix()}};
    {
        std::lock_guard<std::mutex> lock(mu_);
        json index = CTR_TRY(read_index());
        index["images"][ref.str()] = record;
        CTR_TRY_STATUS(write_index(index));
    }
    return json{{"reference", ref.str()}, {"digest", manifest_doc.digest}, {"platform", want.str()}, {"size", size}, {"config", config.raw}};
}

ctr::Result<json> ImageStore::resolve(const std::string& reference) {
    std::string key = CTR_TRY(key_of(reference));
    std::lock_guard<std::mutex> lock(mu_);
    json index = CTR_TRY(read_index());
    if (!index["images"].contains(key)) return ctr::make_error(CTR_E_NOT_FOUND, "no image " + key + " in the store");
    const json& rec = index["images"][key];
    std::string config = CTR_TRY(content_.read(rec["config_digest"], kMaxConfig));
    json layers = json::array();
    for (const auto& l : rec.value("layers", json::array())) layers.push_back({{"digest", l.value("digest", "")}, {"size", l.value("size", int64_t{0})}});
    return json{{"reference", key}, {"digest", rec["digest"]}, {"platform", rec["platform"]}, {"size", rec["size"]},
                {"config", json::parse(config, nullptr, false)}, {"layers", layers}};
}

ctr::Result<json> ImageStore::list() {
    std::lock_guard<std::mutex> lock(mu_);
    json index = CTR_TRY(read_index());
    json out = json::array();
    for (const auto& [key, rec] : index["images"].items())
    {
        // The layers too (digest and size): a layer two images share is stored
        // once, and `system df` counts it once.
        json layers = json::array();
        for (const auto& l : rec["layers"]) layers.push_back({{"digest", l["digest"]}, {"size", l["size"]}});
        out.push_back({{"reference", key}, {"digest", rec["digest"]}, {"size", rec["size"]}, {"created", rec["created"]},
                       {"platform", rec["platform"]}, {"layers", layers}});
    }
    return out;
}

ctr::Status ImageStore::collect_garbage(const json& index) {
    // Roots: every image, and every container's prepared root filesystem.
    std::set<std::string> blobs, chains;
    for (const auto& [key, rec] : index["images"].items()) {
        blobs.insert(rec["digest"].get<std::string>());
        blobs.insert(rec["config_digest"].get<std::string>());
        if (!rec["index_digest"].get<std::string>().empty()) blobs.insert(rec["index_digest"].get<std::string>());
        for (const auto& l : rec["layers"]) {
            blobs.insert(l["digest"].get<std::string>());
            chains.insert(digest_hex(l["chain_id"].get<std::string>()));
        }
    }
    std::error_code ec;
    for (const auto& c : fs::directory_iterator(opt_.state_dir / "containers", ec)) {
        std::ifstream in(c.path() / "layers.json");
        json layers = json::parse(in, nullptr, false);
        if (layers.is_array())
            for (const auto& l : layers) chains.insert(digest_hex(l.get<std::string>()));
    }
    for (const auto& b : fs::directory_iterator(content_.root() / "blobs/sha256", ec))
        if (!blobs.count("sha256:" + b.path().filename().string())) fs::remove(b.path(), ec);
    for (const auto& s : fs::directory_iterator(opt_.state_dir / "snapshots", ec))
        if (!chains.count(s.path().filename().string())) fs::remove_all(s.path(), ec);
    return ctr::ok();
}

ctr::Result<json> ImageStore::remove(const std::string& reference) {
    std::string key = CTR_TRY(key_of(reference));
    std::lock_guard<std::mutex> lock(mu_);
    json index = CTR_TRY(read_index());
    if (!index["images"].contains(key)) return ctr::make_error(CTR_E_NOT_FOUND, "no image " + key + " in the store");
    std::string digest = index["images"][key]["digest"];
    index["images"].erase(key);
    // Were this process to die between the index and the collection, the
    // image's blobs and snapshots would be reachable from nothing: the mark
    // has the next start (init) collect them.
    CTR_TRY_STATUS(write_atomic(gc_mark(), ""));
    CTR_TRY_STATUS(write_index(index));
    ctr::failpoint("image-remove-after-index");
    CTR_TRY_STATUS(collect_garbage(index));
    std::error_code ec;
    fs::remove(gc_mark(), ec);
    return json{{"reference", key}, {"digest", digest}};
}

namespace {

// Whether `path` is the root of a mount: its device differs from its parent's.
bool mounted_at(const fs::path& path) {
    struct stat here {}, parent {};
    return ::stat(path.c_str(), &here) == 0 && ::stat(path.parent_path().c_str(), &parent) == 0 && here.st_dev != parent.st_dev;
}

// A container's layers, from its dir: its upper and work folders, and the
// snapshots beneath (top first; an empty folder of its own for an image
// without layers).
OverlayLayers layers_of(const fs::path& dir, std::vector<fs::path> lowers) {
    if (lowers.empty()) lowers.push_back(dir / "empty");
    return OverlayLayers{std::move(lowers), dir / "upper", dir / "work"};
}

json lower_dirs(const OverlayLayers& l) {
    json out = json::array();
    for (const auto& d : l.lowers) out.push_back(d.string());
    return out;
}

}  // namespace

ctr::Result<json> ImageStore::remount_rootfs(const fs::path& dir, const fs::path& target) {
    json result = {{"rootfs", target.string()}, {"writable_dir", (dir / "upper").string()}, {"remounted", true}};
    if (mounted_at(target)) return result;
    std::ifstream in(dir / "layers.json");
    json layers = json::parse(in, nullptr, false);
    if (!layers.is_array()) return ctr::make_error(CTR_E_INTERNAL, "the container's layers.json is damaged");
    // From the container's own list: its image may have been untagged since,
    // and the layers stay while the container does (collect_garbage).
    std::vector<fs::path> lowers;
    for (const auto& chain : layers) lowers.insert(lowers.begin(), snapshot_dir(chain.get<std::string>()) / "fs");
    const OverlayLayers l = layers_of(dir, std::move(lowers));
    std::error_code ec;
    fs::create_directories(target, ec);
    if (auto m = mount_overlay(l, target, opt_.overlay); !m) return m.error().wrap("mount the container's root filesystem again");
    result["lower_dirs"] = lower_dirs(l);
    return result;
}

ctr::Result<json> ImageStore::prepare_rootfs(const std::string& reference, const std::string& container_id,
                                             const fs::path& target) {
    CTR_TRY_STATUS(check_container_id(container_id));
    if (!target.is_absolute()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "target must be an absolute path");
    fs::path existing = opt_.state_dir / "containers" / container_id;
    if (std::error_code ec; fs::exists(existing / "layers.json", ec)) return remount_rootfs(existing, target);
    json image = CTR_TRY(resolve(reference));
    json layers = json::array();
    std::vector<fs::path> lowers;
    {
        std::lock_guard<std::mutex> lock(mu_);
        json index = CTR_TRY(read_index());
        const json& rec = index["images"][image["reference"].get<std::string>()];
        for (const auto& l : rec["layers"]) {
            layers.push_back(l["chain_id"]);
            lowers.insert(lowers.begin(), snapshot_dir(l["chain_id"]) / "fs");  // overlay wants the top layer first
        }
    }
    fs::path dir = opt_.state_dir / "containers" / container_id;
    std::error_code ec;
    if (fs::exists(dir, ec)) return ctr::make_error(CTR_E_ALREADY_EXISTS, "container \"" + container_id + "\" already has a root filesystem");
    fs::create_directories(dir / "upper", ec);
    if (!ec) fs::create_directories(dir / "work", ec);
    if (!ec) fs::create_directories(target, ec);
    if (ec) return ctr::make_error(CTR_E_INTERNAL, "prepare root filesystem: " + ec.message());
    CTR_TRY_STATUS(write_atomic(dir / "layers.json", layers.dump()));
    if (layers.empty()) fs::create_directories(dir / "empty", ec);  // an image without layers: an empty lower layer
    const OverlayLayers l = layers_of(dir, std::move(lowers));
    if (auto m = mount_overlay(l, target, opt_.overlay); !m) {
        fs::remove_all(dir, ec);
        return m.error();
    }
    return json{{"rootfs", target.string()}, {"config", image["config"]}, {"reference", image["reference"]}, {"digest", image["digest"]},
                {"writable_dir", l.upper.string()}, {"lower_dirs", lower_dirs(l)}};
}

ctr::Status ImageStore::release_rootfs(const std::string& container_id, const fs::path& target) {
    CTR_TRY_STATUS(check_container_id(container_id));
    if (!target.empty() && ::umount2(target.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
        return ctr::make_error(CTR_E_INTERNAL, "unmount \"" + target.string() + "\": " + std::strerror(errno));
    std::error_code ec;
    fs::remove_all(opt_.state_dir / "containers" / container_id, ec);
    if (ec) return ctr::make_error(CTR_E_INTERNAL, "remove container layer: " + ec.message());
    return ctr::ok();
}

}  // namespace image_oci
