// OCI and Docker schema 2 documents: indexes, manifests, configs. Parsed
// strictly enough that a document cannot be read two ways (CVE-2021-41190):
// its media type must agree with what the registry said, and a manifest
// holding both "manifests" and "layers" is refused.
#pragma once

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace image_oci {

namespace media {
inline constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr const char* kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* kDockerConfig = "application/vnd.docker.container.image.v1+json";
}  // namespace media

struct Platform {
    std::string os = "linux";
    std::string architecture;
    std::string variant;
    std::string str() const { return os + "/" + architecture + (variant.empty() ? "" : "/" + variant); }
};

// The host's platform (linux/amd64, linux/arm64/v8, ...).
Platform host_platform();
// "os/arch[/variant]".
ctr::Result<Platform> parse_platform(const std::string& text);

struct Descriptor {
    std::string media_type;
    std::string digest;
    int64_t size = 0;
    std::optional<Platform> platform;
    nlohmann::json annotations;
};

struct Index {
    std::vector<Descriptor> manifests;
};

struct Manifest {
    std::string media_type;
    Descriptor config;
    std::vector<Descriptor> layers;
};

struct ImageConfig {
    Platform platform;
    std::vector<std::string> diff_ids;
    nlohmann::json raw;  // the whole config document
};

bool is_index_type(const std::string& media_type);
bool is_manifest_type(const std::string& media_type);

// `content_type` is what the registry sent (may be empty).
ctr::Result<Index> parse_index(const std::string& body, const std::string& content_type);
ctr::Result<Manifest> parse_manifest(const std::string& body, const std::string& content_type);
ctr::Result<ImageConfig> parse_config(const std::string& body);

// Picks the manifest for `want` (attestations skipped); the error lists what there is.
ctr::Result<Descriptor> select_platform(const Index& index, const Platform& want);

// A layer's compression, from its media type.
enum class Compression { none, gzip, zstd };
ctr::Result<Compression> layer_compression(const std::string& media_type);

}  // namespace image_oci
