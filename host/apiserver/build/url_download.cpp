// libcurl is opened the first time a build downloads something, not linked:
// it and the twenty libraries it loads (TLS, Kerberos, LDAP, SSH, IDN...)
// cost every start of the daemon about 15 ms here, for the one Dockerfile
// instruction that needs them (ADD URL). Only the few calls below are used.
#include "apiserver/build/url_download.hpp"

#include <curl/curl.h>

#include <dlfcn.h>

#include <fstream>
#include <memory>
#include <mutex>

namespace ctr::apiserver::build {

namespace {

struct Curl {
    decltype(&curl_global_init) global_init = nullptr;
    decltype(&curl_easy_init) easy_init = nullptr;
    decltype(&curl_easy_setopt) easy_setopt = nullptr;
    decltype(&curl_easy_perform) easy_perform = nullptr;
    decltype(&curl_easy_cleanup) easy_cleanup = nullptr;
    decltype(&curl_easy_strerror) easy_strerror = nullptr;
    std::string error;  // set when libcurl could not be opened
};

template <typename F>
bool bind(void* lib, const char* name, F& out) {
    out = reinterpret_cast<F>(::dlsym(lib, name));
    return out != nullptr;
}

// Opened once for the life of the process (never closed: libcurl keeps
// global state that outlives a handle).
const Curl& curl() {
    static Curl c;
    static std::once_flag once;
    std::call_once(once, [] {
        void* lib = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            const char* why = ::dlerror();
            c.error = std::string("libcurl cannot be loaded (install libcurl4): ") + (why ? why : "unknown");
            return;
        }
        if (!bind(lib, "curl_global_init", c.global_init) || !bind(lib, "curl_easy_init", c.easy_init) ||
            !bind(lib, "curl_easy_setopt", c.easy_setopt) || !bind(lib, "curl_easy_perform", c.easy_perform) ||
            !bind(lib, "curl_easy_cleanup", c.easy_cleanup) || !bind(lib, "curl_easy_strerror", c.easy_strerror)) {
            c.error = "libcurl lacks a function this build needs";
            return;
        }
        // Once, before any handle, and from one thread (call_once).
        if (c.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) c.error = "libcurl did not initialise";
    });
    return c;
}

size_t to_file(char* data, size_t size, size_t n, void* out) {
    auto* f = static_cast<std::ofstream*>(out);
    f->write(data, static_cast<std::streamsize>(size * n));
    return *f ? size * n : 0;
}

}  // namespace

Status download_url(const std::string& url, const std::filesystem::path& file) {
    const Curl& c = curl();
    if (!c.error.empty()) return make_error(CTR_E_UNAVAILABLE, c.error);
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    if (!out) return make_error(CTR_E_INTERNAL, "cannot write " + file.string());
    std::unique_ptr<CURL, void (*)(CURL*)> h(c.easy_init(), c.easy_cleanup);
    if (!h) return make_error(CTR_E_INTERNAL, "libcurl: no handle");
    char err[CURL_ERROR_SIZE] = {};
    c.easy_setopt(h.get(), CURLOPT_URL, url.c_str());
    c.easy_setopt(h.get(), CURLOPT_PROTOCOLS_STR, "http,https");
    c.easy_setopt(h.get(), CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    c.easy_setopt(h.get(), CURLOPT_FOLLOWLOCATION, 1L);
    c.easy_setopt(h.get(), CURLOPT_MAXREDIRS, 5L);
    c.easy_setopt(h.get(), CURLOPT_FAILONERROR, 1L);
    c.easy_setopt(h.get(), CURLOPT_CONNECTTIMEOUT, 30L);
    c.easy_setopt(h.get(), CURLOPT_LOW_SPEED_LIMIT, 1L);
    c.easy_setopt(h.get(), CURLOPT_LOW_SPEED_TIME, 60L);
    c.easy_setopt(h.get(), CURLOPT_ERRORBUFFER, err);
    c.easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, to_file);
    c.easy_setopt(h.get(), CURLOPT_WRITEDATA, &out);
    CURLcode rc = c.easy_perform(h.get());
    out.close();
    if (rc != CURLE_OK) return make_error(CTR_E_UNAVAILABLE, err[0] ? std::string(err) : c.easy_strerror(rc));
    return ok();
}

}  // namespace ctr::apiserver::build
