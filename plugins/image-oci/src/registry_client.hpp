// A client of the OCI distribution API on libcurl: manifests and blobs,
// anonymous, basic and bearer-token auth (the WWW-Authenticate challenge
// flow), bounded retries with backoff on 429 and 5xx, blob downloads that
// resume with Range, plain HTTP only for loopback or hosts configured insecure.
#pragma once

#include "content_store.hpp"

#include <ctr/sdk/result.hpp>

#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace image_oci {

struct Credentials {
    std::string username, password;
    bool empty() const { return username.empty(); }
};

struct Fetched {
    std::string content_type;
    std::string body;
    std::string digest;  // sha256 of body
};

using ProgressFn = std::function<void(int64_t current, int64_t total)>;
using CancelledFn = std::function<bool()>;

class RegistryClient {
public:
    // `insecure`: hosts allowed over plain HTTP besides loopback.
    RegistryClient(const std::string& domain, const std::string& repository, Credentials creds,
                   const std::vector<std::string>& insecure, CancelledFn cancelled);

    // GET /v2/<repo>/manifests/<ref> with every manifest type accepted.
    ctr::Result<Fetched> manifest(const std::string& ref);
    // Downloads a blob into the store (verifying it), resuming a partial one.
    ctr::Status blob(const std::string& digest, int64_t size, const ContentStore& store, const ProgressFn& progress);

    // Push: is the blob there (HEAD)? Uploads it from a file (a monolithic
    // upload: POST for a location, then PUT with the digest). Puts a manifest.
    ctr::Result<bool> has_blob(const std::string& digest);
    ctr::Status upload_blob(const std::string& digest, const std::string& file, int64_t size, const ProgressFn& progress);
    ctr::Status put_manifest(const std::string& tag, const std::string& media_type, const std::string& body);

    const std::string& host() const { return host_; }
    // A transfer under 1 byte/s for this long is dropped (a blob then goes on with Range).
    void set_stall_seconds(int seconds) { stall_seconds_ = seconds; }

private:
    struct Response {
        long status = 0;
        std::string body;
        std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
        std::string header(const std::string& name) const;
    };
    // Receives a 2xx body as it arrives, with the response's status.
    using WriteFn = std::function<bool(long status, const char*, size_t)>;

    // What a request sends besides GET's nothing.
    struct Body {
        std::string method;  // HEAD, POST, PUT
        std::string data;    // sent when `file` is empty
        std::string file;
        int64_t size = 0;
        const ProgressFn* progress = nullptr;
    };
    // One request with auth and retries. `write` receives a 2xx body.
    // `retry_broken`: a transfer that broke is sent again whole; false hands
    // the error back instead, so that a blob can go on with Range from where
    // it stopped rather than receive its first bytes twice.
    ctr::Result<Response> send(const std::string& url, const std::vector<std::string>& headers, const WriteFn& write,
                               const Body* body = nullptr, bool retry_broken = true);
    ctr::Result<Response> send_once(const std::string& url, const std::vector<std::string>& headers,
                                    const WriteFn& write, const std::string& authorization, const Body* body = nullptr);
    ctr::Status authorize(const std::string& challenge);

    int stall_seconds_ = 60;
    std::string host_;        // as in the reference, e.g. "127.0.0.1:5000"
    std::string api_host_;    // where the API lives (docker.io -> registry-1.docker.io)
    std::string repository_;
    std::string scheme_;
    Credentials creds_;
    CancelledFn cancelled_;
    std::mutex mu_;
    std::string authorization_;  // "Bearer ..." or "Basic ..." once known
};

}  // namespace image_oci
