// A real registry for tests: Debian's docker-registry on a free loopback
// port with a throwaway storage directory, optionally behind htpasswd basic
// auth; and images built for it with umoci and pushed with skopeo.
#pragma once

#include <ctr/sys/child.hpp>
#include "tempdir.hpp"

#include <string>
#include <vector>

namespace ctr::test {

class TokenServer;

class Registry {
public:
    // users: "name:password" pairs for htpasswd basic auth (none: anonymous).
    explicit Registry(const std::vector<std::string>& users = {});
    // Bearer-token auth: the registry trusts `tokens`' certificate and sends clients to its realm.
    explicit Registry(const TokenServer* tokens);
    ~Registry();
    const std::string& host() const { return host_; }  // "127.0.0.1:PORT"

private:
    void start(const std::string& auth_yaml);
    ScratchDir dir_;
    sys::Child child_;
    std::string host_;
};

// Runs a shell script (bash -euo pipefail); REQUIREs success.
std::string sh(const std::string& script);

// Builds an image in an OCI layout from a list of shell steps, each run in
// the bundle's rootfs ($R) and committed as one layer, then pushes it to
// `dest` (docker://... reference) with skopeo. `compress` is gzip or zstd.
void build_and_push(const ScratchDir& work, const std::vector<std::string>& layer_scripts, const std::string& dest,
                    const std::string& compress = "gzip", const std::string& creds = "");

}  // namespace ctr::test

namespace ctr::test {

// Layer scripts for a small busybox image: applets, /etc/passwd and /etc/group
// with a user "app" (1000:1000), /work owned by it.
extern const std::vector<std::string> kBusyboxImage;

// A registry holding one busybox image (kBusyboxImage plus `extra` steps in
// one more layer), for a test file to share: REGISTRY/test/busybox:1.
struct BusyboxRegistry {
    Registry registry;
    ScratchDir work;
    std::string image;
    explicit BusyboxRegistry(const std::string& extra = "") {
        image = registry.host() + "/test/busybox:1";
        auto steps = kBusyboxImage;
        if (!extra.empty()) steps.push_back(extra);
        build_and_push(work, steps, "docker://" + image);
    }
};

// The plain one (no extra steps), shared by every test file of the binary
// that needs no more: one registry and one build for all of them.
BusyboxRegistry& shared_busybox();

}  // namespace ctr::test
