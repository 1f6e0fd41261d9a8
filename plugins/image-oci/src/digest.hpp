// Digests: validated before any use as a path or URL, and computed with
// OpenSSL's streaming SHA-256.
#pragma once

#include <ctr/sdk/result.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace image_oci {

// "sha256:" and 64 lower-case hex digits, nothing else.
ctr::Status check_digest(const std::string& digest);
// The hex part of a checked digest.
inline std::string digest_hex(const std::string& digest) { return digest.substr(7); }

class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    void update(const void* data, size_t len);
    void update(std::string_view s) { update(s.data(), s.size()); }
    std::string digest();  // "sha256:<hex>"; the hasher is spent afterwards

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

std::string sha256_of(std::string_view data);

}  // namespace image_oci
