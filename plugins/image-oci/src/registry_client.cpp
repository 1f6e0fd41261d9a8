#include "registry_client.hpp"

#include <ctr/base/strings.hpp>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

namespace image_oci {

namespace {

constexpr int64_t kMaxManifest = 4 * 1024 * 1024;
constexpr int kAttempts = 4;

const char* kAccept =
    "Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

bool is_loopback(const std::string& host) {
    std::string h = host;
    if (!h.empty() && h.front() == '[') h = h.substr(1, h.find(']') - 1);
    else if (auto c = h.rfind(':'); c != std::string::npos) h = h.substr(0, c);
    return h == "localhost" || h == "::1" || h.rfind("127.", 0) == 0;
}


// Parses `Bearer realm="...",service="...",scope="..."` into its parameters.
std::map<std::string, std::string> challenge_params(const std::string& value) {
    std::map<std::string, std::string> out;
    size_t i = value.find(' ');
    while (i != std::string::npos && i < value.size()) {
        while (i < value.size() && (value[i] == ' ' || value[i] == ',')) ++i;
        size_t eq = value.find('=', i);
        if (eq == std::string::npos) break;
        std::string key = value.substr(i, eq - i);
        std::transform(key.begin(), key.end(), key.begin(), ::tolower);
        std::string v;
        size_t j = eq + 1;
        if (j < value.size() && value[j] == '"') {
            size_t end = value.find('"', j + 1);
            v = value.substr(j + 1, end == std::string::npos ? std::string::npos : end - j - 1);
            i = end == std::string::npos ? end : end + 1;
        } else {
            size_t end = value.find(',', j);
            v = value.substr(j, end == std::string::npos ? std::string::npos : end - j);
            i = end;
        }
        out[key] = v;
    }
    return out;
}

struct Transfer {
    const std::function<bool(long, const char*, size_t)>* write;
    std::string* error_body;
    long status = 0;
    std::vector<std::pair<std::string, std::string>>* headers;
    bool aborted = false;
};

size_t on_header(char* data, size_t size, size_t n, void* ctx) {
    auto* t = static_cast<Transfer*>(ctx);
    std::string line(data, size * n);
    if (line.rfind("HTTP/", 0) == 0) {  // a new response (after a redirect): start over
        t->headers->clear();
        auto sp = line.find(' ');
        t->status = sp == std::string::npos ? 0 : std::atol(line.c_str() + sp + 1);
        return size * n;
    }
    auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), ::tolower);
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
        t->headers->emplace_back(name, value);
    }
    return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* ctx) {
    auto* t = static_cast<Transfer*>(ctx);
    size_t len = size * n;
    if (t->status >= 200 && t->status < 300) {
        if (!(*t->write)(t->status, data, len)) {
            t->aborted = true;
            return 0;  // makes curl stop with CURLE_WRITE_ERROR
        }
    } else if (t->error_body->size() < 65536) {
        t->error_body->append(data, len);
    }
    return len;
}

// The body of an upload, from a file or a string.
struct Upload {
    std::FILE* file = nullptr;
    const std::string* data = nullptr;
    int64_t sent = 0;
    const ProgressFn* progress = nullptr;
    int64_t total = 0;
};

size_t on_read(char* buf, size_t size, size_t n, void* ctx) {
    auto* u = static_cast<Upload*>(ctx);
    size_t got = 0;
    if (u->file) {
        got = std::fread(buf, 1, size * n, u->file);
    } else if (u->data) {
        got = std::min(size * n, u->data->size() - static_cast<size_t>(u->sent));
        std::memcpy(buf, u->data->data() + u->sent, got);
    }
    u->sent += static_cast<int64_t>(got);
    if (u->progress && *u->progress) (*u->progress)(u->sent, u->total);
    return got;
}

int on_progress(void* ctx, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* cancelled = static_cast<CancelledFn*>(ctx);
    return (*cancelled && (*cancelled)()) ? 1 : 0;
}

std::string registry_error_text(const std::string& body) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_object() && j.contains("errors") && j["errors"].is_array() && !j["errors"].empty()) {
        const auto& e = j["errors"][0];
        std::string code = e.value("code", ""), message = e.value("message", "");
        return code.empty() ? message : code + ": " + message;
    }
    return "";
}

}  // namespace

std::string RegistryClient::Response::header(const std::string& name) const {
    for (const auto& [k, v] : headers)
        if (k == name) return v;
    return "";
}

RegistryClient::RegistryClient(const std::string& domain, const std::string& repository, Credentials creds,
                               const std::vector<std::string>& insecure, CancelledFn cancelled)
    : host_(domain), repository_(repository), creds_(std::move(creds)), cancelled_(std::move(cancelled)) {
    static std::once_flag curl_init;
    std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    api_host_ = domain == "docker.io" ? "registry-1.docker.io" : domain;
    bool plain = is_loopback(domain) || std::find(insecure.begin(), insecure.end(), domain) != insecure.end();
    scheme_ = plain ? "http" : "https";
}

ctr::Result<RegistryClient::Response> RegistryClient::send_once(const std::string& url,
                                                                const std::vector<std::string>& headers,
                                                                const WriteFn& write, const std::string& authorization,
                                                                const Body* body) {
    CURL* curl = curl_easy_init();
    if (!curl) return ctr::make_error(CTR_E_RESOURCE_EXHAUSTED, "cannot make a curl handle");
    Response res;
    std::string error_body;
    Transfer t{&write, &error_body, 0, &res.headers};
    curl_slist* list = nullptr;
    for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
    if (!authorization.empty()) list = curl_slist_append(list, ("Authorization: " + authorization).c_str());
    char errbuf[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
    // A redirect to another host (object storage) must not carry our credentials.
    curl_easy_setopt(curl, CURLOPT_UNRESTRICTED_AUTH, 0L);
    // Plain HTTP only where allowed; a redirect may not downgrade us.
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, scheme_ == "https" ? "https" : "http,https");
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "container-image-oci/0.1");
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &cancelled_);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
    // A transfer that stalls below 1 byte/s for stall_seconds_ (60 s) is dead.
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(stall_seconds_));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    Upload up;
    std::unique_ptr<std::FILE, decltype(&std::fclose)> file(nullptr, &std::fclose);
    if (body) {
        // Uploads go where they were sent: a redirect would resend the body.
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        if (body->method == "HEAD") {
            curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
        } else if (body->method == "POST" && body->data.empty()) {
            curl_easy_setopt(curl, CURLOPT_POST, 1L);
            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
        } else {
            if (!body->file.empty()) {
                file.reset(std::fopen(body->file.c_str(), "rb"));
                if (!file) {
                    curl_slist_free_all(list);
                    curl_easy_cleanup(curl);
                    return ctr::make_error(CTR_E_NOT_FOUND, "blob file " + body->file + " is missing");
                }
            }
            up = Upload{file.get(), &body->data, 0, body->progress, body->file.empty() ? static_cast<int64_t>(body->data.size()) : body->size};
            curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, body->method.c_str());
            curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(curl, CURLOPT_READDATA, &up);
            curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(up.total));
        }
    }
    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    res.status = t.status;
    res.body = std::move(error_body);
    if (rc == CURLE_ABORTED_BY_CALLBACK) return ctr::make_error(CTR_E_CANCELLED, "pull cancelled");
    if (t.aborted) return ctr::make_error(CTR_E_INTERNAL, "could not store data from " + host_);
    if (rc != CURLE_OK)
        return ctr::make_error(CTR_E_UNAVAILABLE, "cannot reach registry " + host_ + ": " + (errbuf[0] ? errbuf : curl_easy_strerror(rc)));
    return res;
}

ctr::Status RegistryClient::authorize(const std::string& challenge) {
    std::string scheme = challenge.substr(0, challenge.find(' '));
    std::transform(scheme.begin(), scheme.end(), scheme.begin(), ::tolower);
    std::lock_guard<std::mutex> lock(mu_);
    if (scheme == "basic") {
        if (creds_.empty()) return ctr::make_error(CTR_E_PERMISSION_DENIED, "authentication required for " + host_);
        authorization_ = "Basic " + ctr::base64_encode(creds_.username + ":" + creds_.password);
        return ctr::ok();
    }
    if (scheme != "bearer") return ctr::make_error(CTR_E_PERMISSION_DENIED, "unsupported authentication from " + host_ + ": " + challenge);
    auto params = challenge_params(challenge);
    if (params["realm"].empty()) return ctr::make_error(CTR_E_PERMISSION_DENIED, "registry " + host_ + " sent a bearer challenge without a realm");
    std::string url = params["realm"] + (params["realm"].find('?') == std::string::npos ? "?" : "&");
    url += "service=" + ctr::url_escape(params["service"]);
    url += "&scope=" + ctr::url_escape(params.count("scope") ? params["scope"] : "repository:" + repository_ + ":pull");
    std::string basic = creds_.empty() ? "" : "Basic " + ctr::base64_encode(creds_.username + ":" + creds_.password);
    std::string body;
    WriteFn collect = [&body](long, const char* d, size_t n) {
        if (body.size() + n > 1 << 20) return false;
        body.append(d, n);
        return true;
    };
    auto res = CTR_TRY(send_once(url, {}, collect, basic));
    if (res.status == 401 || res.status == 403)
        return ctr::make_error(CTR_E_PERMISSION_DENIED, "authentication failed for " + host_ + " (HTTP " + std::to_string(res.status) + ")");
    if (res.status != 200)
        return ctr::make_error(CTR_E_UNAVAILABLE, "token server for " + host_ + " answered HTTP " + std::to_string(res.status));
    auto j = nlohmann::json::parse(body, nullptr, false);
    std::string token = j.is_object() ? j.value("token", j.value("access_token", "")) : "";
    if (token.empty()) return ctr::make_error(CTR_E_UNAVAILABLE, "token server for " + host_ + " sent no token");
    authorization_ = "Bearer " + token;
    return ctr::ok();
}

ctr::Result<RegistryClient::Response> RegistryClient::send(const std::string& url, const std::vector<std::string>& headers,
                                                           const WriteFn& write, const Body* body, bool retry_broken) {
    bool authorized_once = false;
    int delay_ms = 200;
    for (int attempt = 1;; ++attempt) {
        std::string auth;
        {
            std::lock_guard<std::mutex> lock(mu_);
            auth = authorization_;
        }
        auto res = send_once(url, headers, write, auth, body);
        int wait_ms = delay_ms;
        if (!res) {
            if (res.error().status != CTR_E_UNAVAILABLE || !retry_broken) return res.error();  // transient: retried below
        } else if (res->status == 401 && !authorized_once) {
            std::string challenge = res->header("www-authenticate");
            if (challenge.empty()) return ctr::make_error(CTR_E_PERMISSION_DENIED, "authentication required for " + host_);
            CTR_TRY_STATUS(authorize(challenge));
            authorized_once = true;
            --attempt;  // not a failure of the registry
            continue;
        } else if (res->status == 429 || res->status >= 500) {  // retried below
            if (auto ra = res->header("retry-after"); !ra.empty() && std::isdigit(static_cast<unsigned char>(ra[0])))
                wait_ms = std::min(10000, std::atoi(ra.c_str()) * 1000);
        } else {
            return res;
        }
        if (attempt >= kAttempts) {
            if (!res) return res.error();
            return ctr::make_error(CTR_E_UNAVAILABLE, "registry " + host_ + " answered HTTP " + std::to_string(res->status) +
                                                          " after " + std::to_string(kAttempts) + " attempts");
        }
        if (cancelled_ && cancelled_()) return ctr::make_error(CTR_E_CANCELLED, "pull cancelled");
        std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
        delay_ms *= 2;
    }
}

ctr::Result<Fetched> RegistryClient::manifest(const std::string& ref) {
    std::string body;
    WriteFn collect = [&body](long, const char* d, size_t n) {
        if (static_cast<int64_t>(body.size() + n) > kMaxManifest) return false;
        body.append(d, n);
        return true;
    };
    std::string url = scheme_ + "://" + api_host_ + "/v2/" + repository_ + "/manifests/" + ref;
    auto res = send(url, {kAccept}, collect);
    if (!res && res.error().status == CTR_E_INTERNAL && static_cast<int64_t>(body.size()) >= kMaxManifest - 65536)
        return ctr::make_error(CTR_E_INVALID_ARGUMENT, "manifest of " + host_ + "/" + repository_ + ":" + ref + " is larger than 4 MiB");
    if (!res) return res.error();
    if (res->status == 404)
        return ctr::make_error(CTR_E_NOT_FOUND, "not found: " + host_ + "/" + repository_ + ":" + ref);
    if (res->status == 401 || res->status == 403)
        return ctr::make_error(CTR_E_PERMISSION_DENIED, "access denied to " + host_ + "/" + repository_ + " (HTTP " + std::to_string(res->status) + ")");
    if (res->status != 200) {
        std::string why = registry_error_text(res->body);
        return ctr::make_error(CTR_E_UNAVAILABLE, "registry " + host_ + " answered HTTP " + std::to_string(res->status) + (why.empty() ? "" : ": " + why));
    }
    Fetched f;
    f.content_type = res->header("content-type");
    f.content_type = f.content_type.substr(0, f.content_type.find(';'));
    f.body = std::move(body);
    f.digest = sha256_of(f.body);
    if (std::string dcd = res->header("docker-content-digest"); !dcd.empty() && dcd != f.digest)
        return ctr::make_error(CTR_E_INVALID_ARGUMENT, "manifest digest mismatch: registry says " + dcd + ", content is " + f.digest);
    return f;
}

ctr::Status RegistryClient::blob(const std::string& digest, int64_t size, const ContentStore& store,
                                 const ProgressFn& progress) {
    CTR_TRY_STATUS(check_digest(digest));
    auto ingest = CTR_TRY(store.begin(digest));
    if (!ingest) {  // another pull finished it while we waited
        if (progress) progress(size, size);
        return ctr::ok();
    }
    std::string url = scheme_ + "://" + api_host_ + "/v2/" + repository_ + "/blobs/" + digest;
    for (int attempt = 1;; ++attempt) {
        if (ingest->offset() >= size && size > 0) CTR_TRY_STATUS(ingest->restart());  // nothing left to resume
        int64_t start = ingest->offset();
        std::vector<std::string> headers;
        if (start > 0) headers.push_back("Range: bytes=" + std::to_string(start) + "-");
        ctr::Status write_error;
        bool first = true;
        WriteFn write = [&](long status, const char* d, size_t n) {
            if (first) {
                first = false;
                // 200 to a ranged request: the server sends the whole blob again.
                if (status == 200 && ingest->offset() > 0) {
                    if (auto st = ingest->restart(); !st) {
                        write_error = st;
                        return false;
                    }
                }
            }
            if (auto st = ingest->append(d, n); !st) {
                write_error = st;
                return false;
            }
            if (ingest->offset() > size) {  // longer than announced: stop at once
                write_error = ctr::make_error(CTR_E_INVALID_ARGUMENT, "blob " + digest + " is larger than its descriptor says");
                return false;
            }
            if (progress) progress(ingest->offset(), size);
            return true;
        };
        auto res = send(url, headers, write, nullptr, false);
        if (!write_error) {
            (void)ingest->restart();
            return write_error;
        }
        if (res && (res->status == 200 || res->status == 206)) {
            auto st = ingest->commit(size);
            if (st || st.error().status != CTR_E_INVALID_ARGUMENT || attempt >= 2) return st;
            continue;  // a mismatch (commit reset the ingest): one clean retry from zero
        }
        if (res && res->status == 416 && attempt < 2) {  // our offset is past the end: start over
            CTR_TRY_STATUS(ingest->restart());
            continue;
        }
        if (!res) {
            if (res.error().status == CTR_E_UNAVAILABLE && attempt < kAttempts) {  // resume where we are, after a pause
                if (cancelled_ && cancelled_()) return ctr::make_error(CTR_E_CANCELLED, "pull cancelled");
                std::this_thread::sleep_for(std::chrono::milliseconds(100 << std::min(attempt, 6)));
                continue;
            }
            return res.error();
        }
        if (res->status == 404) return ctr::make_error(CTR_E_NOT_FOUND, "blob " + digest + " not found in " + host_ + "/" + repository_);
        return ctr::make_error(CTR_E_UNAVAILABLE, "registry " + host_ + " answered HTTP " + std::to_string(res->status) + " for blob " + digest);
    }
}

namespace {

ctr::Error push_failure(const std::string& what, const std::string& host, long status, const std::string& body) {
    ctr_status code = status == 401 || status == 403 ? CTR_E_PERMISSION_DENIED : CTR_E_UNAVAILABLE;
    std::string why = registry_error_text(body);
    return ctr::make_error(code, what + ": registry " + host + " answered HTTP " + std::to_string(status) + (why.empty() ? "" : ": " + why));
}

}  // namespace

ctr::Result<bool> RegistryClient::has_blob(const std::string& digest) {
    CTR_TRY_STATUS(check_digest(digest));
    Body head{"HEAD", "", "", 0, nullptr};
    WriteFn ignore = [](long, const char*, size_t) { return true; };
    auto res = CTR_TRY(send(scheme_ + "://" + api_host_ + "/v2/" + repository_ + "/blobs/" + digest, {}, ignore, &head));
    if (res.status == 200) return true;
    if (res.status == 404) return false;
    return push_failure("check blob " + digest, host_, res.status, res.body);
}

ctr::Status RegistryClient::upload_blob(const std::string& digest, const std::string& file, int64_t size,
                                        const ProgressFn& progress) {
    CTR_TRY_STATUS(check_digest(digest));
    WriteFn ignore = [](long, const char*, size_t) { return true; };
    Body post{"POST", "", "", 0, nullptr};
    auto started = CTR_TRY(send(scheme_ + "://" + api_host_ + "/v2/" + repository_ + "/blobs/uploads/", {}, ignore, &post));
    if (started.status != 202) return push_failure("start an upload", host_, started.status, started.body);
    std::string location = started.header("location");
    if (location.empty()) return ctr::make_error(CTR_E_UNAVAILABLE, "registry " + host_ + " gave no upload location");
    if (location.rfind("http", 0) != 0) location = scheme_ + "://" + api_host_ + location;  // a path on the same host
    location += (location.find('?') == std::string::npos ? "?" : "&") + std::string("digest=") + ctr::url_escape(digest);
    Body put{"PUT", "", file, size, &progress};
    auto done = CTR_TRY(send(location, {"Content-Type: application/octet-stream"}, ignore, &put));
    if (done.status != 201) return push_failure("upload blob " + digest, host_, done.status, done.body);
    return ctr::ok();
}

ctr::Status RegistryClient::put_manifest(const std::string& tag, const std::string& media_type, const std::string& body) {
    WriteFn ignore = [](long, const char*, size_t) { return true; };
    Body put{"PUT", body, "", static_cast<int64_t>(body.size()), nullptr};
    auto res = CTR_TRY(send(scheme_ + "://" + api_host_ + "/v2/" + repository_ + "/manifests/" + tag, {"Content-Type: " + media_type},
                            ignore, &put));
    if (res.status != 201 && res.status != 200) return push_failure("put the manifest", host_, res.status, res.body);
    return ctr::ok();
}

}  // namespace image_oci
