// Tags, and images as archives: `image save` writes an OCI image layout as a
// tar (readable by skopeo's oci-archive:, podman and Docker), `image load`
// reads one back, or a `docker save` tar (manifest.json, config and
// uncompressed layers), verifying every blob's digest on the way in.
#include "image_store.hpp"

#include "digest.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <set>

namespace image_oci {

namespace fs = std::filesystem;
using media::kOciConfig;
using media::kOciIndex;
using media::kOciManifest;

namespace {

constexpr int64_t kMaxJson = 8 * 1024 * 1024;

int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct ArchiveFree {
    void operator()(archive* a) const { archive_write_free(a); }
};
struct ReadFree {
    void operator()(archive* a) const { archive_read_free(a); }
};

ctr::Status write_entry(archive* a, const std::string& name, const std::string& data) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(data.size()));
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0644);
    archive_entry_set_mtime(e.get(), 0, 0);
    if (archive_write_header(a, e.get()) != ARCHIVE_OK || archive_write_data(a, data.data(), data.size()) < 0)
        return ctr::make_error(CTR_E_INTERNAL, std::string("write archive: ") + archive_error_string(a));
    return ctr::ok();
}

ctr::Status write_file_entry(archive* a, const std::string& name, const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return ctr::make_error(CTR_E_NOT_FOUND, "blob " + file.filename().string() + " is missing from the content store");
    std::error_code ec;
    auto size = fs::file_size(file, ec);
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(size));
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0644);
    archive_entry_set_mtime(e.get(), 0, 0);
    if (archive_write_header(a, e.get()) != ARCHIVE_OK) return ctr::make_error(CTR_E_INTERNAL, std::string("write archive: ") + archive_error_string(a));
    char buf[1 << 16];
    while (in.read(buf, sizeof buf) || in.gcount() > 0)
        if (archive_write_data(a, buf, static_cast<size_t>(in.gcount())) < 0)
            return ctr::make_error(CTR_E_INTERNAL, std::string("write archive: ") + archive_error_string(a));
    return ctr::ok();
}

}  // namespace

ctr::Result<json> ImageStore::tag(const std::string& source, const std::string& target) {
    std::string from = CTR_TRY(key_of(source));
    Reference to = CTR_TRY(parse_reference(target, opt_.default_domain));
    if (!to.digest.empty()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "target \"" + target + "\": a tag cannot name a digest");
    std::lock_guard<std::mutex> lock(mu_);
    json index = CTR_TRY(read_index());
    if (!index["images"].contains(from)) return ctr::make_error(CTR_E_NOT_FOUND, "no image " + from + " in the store");
    json rec = index["images"][from];
    index["images"][to.str()] = rec;
    CTR_TRY_STATUS(write_index(index));
    return json{{"reference", to.str()}, {"digest", rec["digest"]}};
}

ctr::Result<json> ImageStore::save(const std::vector<std::string>& references, const fs::path& output) {
    if (references.empty()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "references: name at least one image");
    if (!output.is_absolute()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "output must be an absolute path");
    json index;
    {
        std::lock_guard<std::mutex> lock(mu_);
        index = CTR_TRY(read_index());
    }
    json manifests = json::array();
    std::set<std::string> blobs;
    for (const auto& r : references) {
        std::string key = CTR_TRY(key_of(r));
        if (!index["images"].contains(key)) return ctr::make_error(CTR_E_NOT_FOUND, "no image " + key + " in the store");
        const json& rec = index["images"][key];
        std::string manifest_digest = rec["digest"];
        std::string manifest_text = CTR_TRY(content_.read(manifest_digest, kMaxJson));
        auto m = json::parse(manifest_text, nullptr, false);
        std::string media = m.is_object() ? m.value("mediaType", std::string(kOciManifest)) : kOciManifest;
        Reference ref = CTR_TRY(parse_reference(key, opt_.default_domain));
        // Both names: the full one (containerd, ours) and the tag (the OCI
        // layout's own annotation, which skopeo and podman read).
        manifests.push_back({{"mediaType", media}, {"digest", manifest_digest}, {"size", manifest_text.size()},
                             {"annotations", {{"io.containerd.image.name", key}, {"org.opencontainers.image.ref.name", ref.tag}}}});
        blobs.insert(manifest_digest);
        blobs.insert(rec["config_digest"].get<std::string>());
        for (const auto& l : rec["layers"]) blobs.insert(l["digest"].get<std::string>());
    }
    fs::path tmp = output;
    tmp += ".tmp";
    std::unique_ptr<archive, ArchiveFree> a(archive_write_new());
    archive_write_set_format_pax_restricted(a.get());
    if (archive_write_open_filename(a.get(), tmp.c_str()) != ARCHIVE_OK)
        return ctr::make_error(CTR_E_INVALID_ARGUMENT, "output \"" + output.string() + "\": " + archive_error_string(a.get()));
    auto written = [&]() -> ctr::Status {
        CTR_TRY_STATUS(write_entry(a.get(), "oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
        json top = {{"schemaVersion", 2}, {"mediaType", kOciIndex}, {"manifests", manifests}};
        CTR_TRY_STATUS(write_entry(a.get(), "index.json", top.dump()));
        for (const auto& b : blobs) CTR_TRY_STATUS(write_file_entry(a.get(), "blobs/sha256/" + digest_hex(b), content_.blob_path(b)));
        if (archive_write_close(a.get()) != ARCHIVE_OK)
            return ctr::make_error(CTR_E_INTERNAL, std::string("write archive: ") + archive_error_string(a.get()));
        return ctr::ok();
    }();
    std::error_code ec;
    if (!written) {
        fs::remove(tmp, ec);
        return written.error();
    }
    fs::rename(tmp, output, ec);
    if (ec) return ctr::make_error(CTR_E_INTERNAL, "output \"" + output.string() + "\": " + ec.message());
    return json{{"size", fs::file_size(output, ec)}};
}

ctr::Result<std::string> ImageStore::ingest_file(const fs::path& file, const std::string& digest) {
    std::string d = digest;
    if (d.empty()) {  // a docker-save layer: named by path, not digest
        Sha256 h;
        std::ifstream in(file, std::ios::binary);
        char buf[1 << 16];
        while (in.read(buf, sizeof buf) || in.gcount() > 0) h.update(buf, static_cast<size_t>(in.gcount()));
        d = h.digest();
    }
    auto ingest = CTR_TRY(content_.begin(d));
    if (!ingest) return d;  // already stored
    CTR_TRY_STATUS(ingest->restart());
    std::ifstream in(file, std::ios::binary);
    char buf[1 << 16];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) CTR_TRY_STATUS(ingest->append(buf, static_cast<size_t>(in.gcount())));
    std::error_code ec;
    CTR_TRY_STATUS(ingest->commit(static_cast<int64_t>(fs::file_size(file, ec))));  // checks the digest
    return d;
}

ctr::Result<json> ImageStore::record_image(const std::string& name, const std::string& manifest_digest) {
    Reference ref = CTR_TRY(parse_reference(name, opt_.default_domain));
    std::string manifest_text = CTR_TRY(content_.read(manifest_digest, kMaxJson));
    auto j = json::parse(manifest_text, nullptr, false);
    Manifest manifest = CTR_TRY(parse_manifest(manifest_text, j.is_object() ? j.value("mediaType", std::string(kOciManifest)) : kOciManifest));
    std::string config_text = CTR_TRY(content_.read(manifest.config.digest, kMaxJson));
    ImageConfig config = CTR_TRY(parse_config(config_text));
    if (config.diff_ids.size() != manifest.layers.size())
        return ctr::make_error(CTR_E_INVALID_ARGUMENT, "image " + name + ": its config lists " + std::to_string(config.diff_ids.size()) +
                                                           " layers, its manifest " + std::to_string(manifest.layers.size()));
    auto chains = chain_ids(config.diff_ids);
    ctr::sdk::Progress quiet(nullptr);
    json layers = json::array();
    int64_t size = manifest.config.size;
    for (size_t i = 0; i < manifest.layers.size(); ++i) {
        const auto& l = manifest.layers[i];
        if (!content_.has(l.digest)) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "image " + name + ": layer " + l.digest + " is missing");
        CTR_TRY_STATUS(ensure_snapshot(l, config.diff_ids[i], chains[i], quiet));
        size += l.size;
        layers.push_back({{"digest", l.digest}, {"media_type", l.media_type}, {"size", l.size}, {"diff_id", config.diff_ids[i]}, {"chain_id", chains[i]}});
    }
    json record = {{"digest", manifest_digest}, {"index_digest", ""}, {"config_digest", manifest.config.digest}, {"layers", layers},
                   {"size", size}, {"platform", config.platform.str()}, {"created", unix_now()}};
    std::lock_guard<std::mutex> lock(mu_);
    json index = CTR_TRY(read_index());
    index["images"][ref.str()] = record;
    CTR_TRY_STATUS(write_index(index));
    return json(ref.str());
}

ctr::Result<json> ImageStore::load(const fs::path& input) {
    if (!input.is_absolute()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "input must be an absolute path");
    // Unpacked into a scratch directory of ours first: an archive's names are
    // only ever used as keys here, never as paths (except the flat names we
    // choose), so a hostile archive cannot write anywhere.
    fs::path scratch = opt_.state_dir / ("load-" + std::to_string(::getpid()) + "-" + std::to_string(unix_now()));
    std::error_code ec;
    fs::remove_all(scratch, ec);
    fs::create_directories(scratch, ec);
    struct Cleanup {
        fs::path p;
        ~Cleanup() {
            std::error_code e;
            fs::remove_all(p, e);
        }
    } cleanup{scratch};
    std::map<std::string, fs::path> files;  // name in the archive -> our copy
    {
        std::unique_ptr<archive, ReadFree> a(archive_read_new());
        archive_read_support_format_tar(a.get());
        archive_read_support_filter_all(a.get());
        if (archive_read_open_filename(a.get(), input.c_str(), 1 << 16) != ARCHIVE_OK)
            return ctr::make_error(CTR_E_INVALID_ARGUMENT, "input \"" + input.string() + "\": " + archive_error_string(a.get()));
        archive_entry* e = nullptr;
        int n = 0;
        while (archive_read_next_header(a.get(), &e) == ARCHIVE_OK) {
            if (archive_entry_filetype(e) != AE_IFREG) continue;
            std::string name = archive_entry_pathname(e);
            while (name.rfind("./", 0) == 0) name.erase(0, 2);
            fs::path copy = scratch / std::to_string(n++);
            std::ofstream out(copy, std::ios::binary);
            const void* buf;
            size_t size;
            la_int64_t off;
            int r;
            while ((r = archive_read_data_block(a.get(), &buf, &size, &off)) == ARCHIVE_OK) out.write(static_cast<const char*>(buf), static_cast<std::streamsize>(size));
            if (r != ARCHIVE_EOF) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "input \"" + input.string() + "\": " + archive_error_string(a.get()));
            files[name] = copy;
        }
    }
    auto read_json = [&](const std::string& name) -> ctr::Result<json> {
        auto it = files.find(name);
        if (it == files.end()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "the archive has no " + name);
        std::ifstream in(it->second);
        auto j = json::parse(in, nullptr, false);
        if (j.is_discarded()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "the archive's " + name + " is not json");
        return j;
    };
    json loaded = json::array();
    if (files.count("index.json") && files.count("oci-layout")) {
        // An OCI layout: every blob in, digests checked, then the named manifests.
        for (const auto& [name, copy] : files)
            if (name.rfind("blobs/sha256/", 0) == 0) CTR_TRY(ingest_file(copy, "sha256:" + name.substr(13)));
        json top = CTR_TRY(read_json("index.json"));
        for (const auto& m : top.value("manifests", json::array())) {
            json ann = m.value("annotations", json::object());
            std::string name = ann.value("io.containerd.image.name", "");
            std::string tag = ann.value("org.opencontainers.image.ref.name", "");
            if (name.empty() && tag.find('/') != std::string::npos) name = tag;
            if (name.empty())
                return ctr::make_error(CTR_E_INVALID_ARGUMENT, "the archive's image " + m.value("digest", "") +
                                                                   " has no name (io.containerd.image.name or a full org.opencontainers.image.ref.name)");
            std::string media = m.value("mediaType", "");
            if (is_index_type(media)) return ctr::make_error(CTR_E_UNSUPPORTED, "image " + name + ": multi-platform archives are not loaded yet");
            loaded.push_back(CTR_TRY(record_image(name, m.value("digest", ""))));
        }
    } else if (files.count("manifest.json")) {
        // `docker save`: a config file and uncompressed layers per image.
        json list = CTR_TRY(read_json("manifest.json"));
        if (!list.is_array()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "the archive's manifest.json is not a list");
        for (const auto& item : list) {
            std::string config_name = item.value("Config", "");
            if (!files.count(config_name)) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "the archive has no config " + config_name);
            std::string config_digest = CTR_TRY(ingest_file(files[config_name]));
            json layers = json::array();
            for (const auto& l : item.value("Layers", json::array())) {
                std::string lname = l.get<std::string>();
                if (!files.count(lname)) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "the archive has no layer " + lname);
                std::string d = CTR_TRY(ingest_file(files[lname]));
                layers.push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar"}, {"digest", d}, {"size", fs::file_size(files[lname], ec)}});
            }
            json manifest = {{"schemaVersion", 2}, {"mediaType", kOciManifest},
                             {"config", {{"mediaType", kOciConfig}, {"digest", config_digest}, {"size", fs::file_size(files[config_name], ec)}}},
                             {"layers", layers}};
            std::string text = manifest.dump();
            std::string manifest_digest = sha256_of(text);
            CTR_TRY_STATUS(content_.put(manifest_digest, text));
            auto tags = item.value("RepoTags", json::array());
            if (tags.empty() || tags.is_null()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "the archive's image " + config_name + " has no RepoTags");
            for (const auto& t : tags) loaded.push_back(CTR_TRY(record_image(t.get<std::string>(), manifest_digest)));
        }
    } else {
        return ctr::make_error(CTR_E_INVALID_ARGUMENT, "input \"" + input.string() + "\" is neither an OCI layout (index.json, oci-layout) nor a docker save archive (manifest.json)");
    }
    return json{{"loaded", loaded}};
}

ctr::Result<json> ImageStore::import_rootfs(const fs::path& input, const std::string& reference) {
    if (!input.is_absolute()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "input must be an absolute path");
    Reference ref = CTR_TRY(parse_reference(reference, opt_.default_domain));
    if (!ref.digest.empty()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "reference \"" + reference + "\": name it with a tag, not a digest");
    // The layer is the file as given; its media type from its first bytes.
    std::ifstream in(input, std::ios::binary);
    if (!in) return ctr::make_error(CTR_E_NOT_FOUND, "input \"" + input.string() + "\" cannot be read");
    unsigned char magic[4] = {};
    in.read(reinterpret_cast<char*>(magic), 4);
    std::string media = "application/vnd.oci.image.layer.v1.tar";
    if (magic[0] == 0x1f && magic[1] == 0x8b) media += "+gzip";
    else if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd) media += "+zstd";
    // diff_id: the digest of the uncompressed tar, which must be one.
    std::string diff_id;
    {
        std::unique_ptr<archive, ReadFree> a(archive_read_new());
        archive_read_support_filter_gzip(a.get());
        archive_read_support_filter_zstd(a.get());
        archive_read_support_format_raw(a.get());
        if (archive_read_open_filename(a.get(), input.c_str(), 1 << 16) != ARCHIVE_OK)
            return ctr::make_error(CTR_E_INVALID_ARGUMENT, "input \"" + input.string() + "\": " + archive_error_string(a.get()));
        archive_entry* e = nullptr;
        if (archive_read_next_header(a.get(), &e) != ARCHIVE_OK)
            return ctr::make_error(CTR_E_INVALID_ARGUMENT, "input \"" + input.string() + "\" is empty");
        Sha256 h;
        const void* buf;
        size_t size;
        la_int64_t off;
        int r;
        std::string head;
        while ((r = archive_read_data_block(a.get(), &buf, &size, &off)) == ARCHIVE_OK) {
            if (head.size() < 512) head.append(static_cast<const char*>(buf), std::min<size_t>(size, 512 - head.size()));
            h.update(buf, size);
        }
        if (r != ARCHIVE_EOF) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "input \"" + input.string() + "\": " + archive_error_string(a.get()));
        // A tar's first header says "ustar" at offset 257 (or is all zeros for an empty one).
        if (head.size() < 512 || (head.compare(257, 5, "ustar") != 0 && head.find_first_not_of('\0') != std::string::npos))
            return ctr::make_error(CTR_E_INVALID_ARGUMENT, "input \"" + input.string() + "\" is not a tar (plain, gzip or zstd)");
        diff_id = h.digest();
    }
    std::string layer_digest = CTR_TRY(ingest_file(input));
    std::error_code ec;
    int64_t layer_size = static_cast<int64_t>(fs::file_size(input, ec));
    Platform p = host_platform();
    auto created = unix_now();
    char when[32];
    std::tm tm{};
    std::time_t t = created;
    gmtime_r(&t, &tm);
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json config = {{"architecture", p.architecture}, {"os", p.os}, {"created", when}, {"config", json::object()},
                   {"rootfs", {{"type", "layers"}, {"diff_ids", {diff_id}}}},
                   {"history", {{{"created", when}, {"created_by", "container image import"}}}}};
    std::string config_text = config.dump();
    std::string config_digest = sha256_of(config_text);
    CTR_TRY_STATUS(content_.put(config_digest, config_text));
    json manifest = {{"schemaVersion", 2}, {"mediaType", kOciManifest},
                     {"config", {{"mediaType", kOciConfig}, {"digest", config_digest}, {"size", config_text.size()}}},
                     {"layers", {{{"mediaType", media}, {"digest", layer_digest}, {"size", layer_size}}}}};
    std::string manifest_text = manifest.dump();
    std::string manifest_digest = sha256_of(manifest_text);
    CTR_TRY_STATUS(content_.put(manifest_digest, manifest_text));
    std::string name = CTR_TRY(record_image(ref.str(), manifest_digest)).get<std::string>();
    return json{{"reference", name}, {"digest", manifest_digest}};
}

}  // namespace image_oci
