#include "digest.hpp"

#include <openssl/evp.h>

namespace image_oci {

ctr::Status check_digest(const std::string& d) {
    if (d.size() != 71 || d.compare(0, 7, "sha256:") != 0)
        return ctr::make_error(CTR_E_INVALID_ARGUMENT, "invalid digest \"" + d + "\" (want sha256: and 64 hex digits)");
    for (size_t i = 7; i < d.size(); ++i) {
        char c = d[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return ctr::make_error(CTR_E_INVALID_ARGUMENT, "invalid digest \"" + d + "\" (want lower-case hex)");
    }
    return ctr::ok();
}

struct Sha256::Impl {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) { EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr); }
Sha256::~Sha256() = default;

void Sha256::update(const void* data, size_t len) { EVP_DigestUpdate(impl_->ctx, data, len); }

std::string Sha256::digest() {
    unsigned char out[32];
    unsigned int n = 0;
    EVP_DigestFinal_ex(impl_->ctx, out, &n);
    static const char* hex = "0123456789abcdef";
    std::string s = "sha256:";
    for (unsigned i = 0; i < n; ++i) {
        s += hex[out[i] >> 4];
        s += hex[out[i] & 15];
    }
    return s;
}

std::string sha256_of(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.digest();
}

}  // namespace image_oci
