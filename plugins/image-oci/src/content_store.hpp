// The content store: blobs addressed by digest, written to an ingest file,
// checked for size and digest, then renamed into place. A partial ingest left
// by a crash is resumed, not restarted; two pulls of one blob take turns on a
// lock, and the second finds the blob already there.
#pragma once

#include "digest.hpp"

#include <ctr/sdk/result.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace image_oci {

class ContentStore;

// One blob being written. Holds the ingest lock until destroyed.
class Ingest {
public:
    ~Ingest();
    Ingest(const Ingest&) = delete;
    Ingest& operator=(const Ingest&) = delete;

    int64_t offset() const { return offset_; }  // bytes already there (resume point)
    ctr::Status append(const char* data, size_t len);
    // Discards what was written (e.g. the server ignored a Range request).
    ctr::Status restart();
    // Checks size (when known) and digest, then moves the blob into place.
    ctr::Status commit(std::optional<int64_t> expected_size);

private:
    friend class ContentStore;
    Ingest(const ContentStore& store, std::string digest, int fd);
    const ContentStore& store_;
    std::string digest_;
    int fd_;
    int64_t offset_ = 0;
    std::unique_ptr<Sha256> hash_ = std::make_unique<Sha256>();
};

class ContentStore {
public:
    explicit ContentStore(std::filesystem::path root) : root_(std::move(root)) {}
    ctr::Status init() const;

    bool has(const std::string& digest) const;
    std::filesystem::path blob_path(const std::string& digest) const;
    std::filesystem::path ingest_path(const std::string& digest) const { return root_ / "ingest" / digest_hex(digest); }
    // Reads a blob of at most max_size bytes (manifests, configs).
    ctr::Result<std::string> read(const std::string& digest, int64_t max_size) const;
    // Stores a small blob whose bytes are in memory, after checking them.
    ctr::Status put(const std::string& digest, const std::string& data) const;
    // Opens the ingest of `digest`, waiting while another writer has it.
    // Null when, after the wait, the blob is already complete.
    ctr::Result<std::unique_ptr<Ingest>> begin(const std::string& digest) const;
    ctr::Status remove(const std::string& digest) const;

    const std::filesystem::path& root() const { return root_; }

private:
    friend class Ingest;
    std::filesystem::path root_;
};

}  // namespace image_oci
