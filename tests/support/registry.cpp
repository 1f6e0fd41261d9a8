#include "registry.hpp"
#include "ports.hpp"
#include "token_server.hpp"

#include <ctr/sys/files.hpp>
#include <ctr/sys/process.hpp>

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace ctr::test {

namespace {

bool answers(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

}  // namespace

std::string sh(const std::string& script) {
    sys::RunOptions o;
    o.timeout_ms = 120000;
    o.capture_stderr = true;
    auto r = sys::run_capture({"/bin/bash", "-euo", "pipefail", "-c", script}, o);
    REQUIRE(r.has_value());
    INFO(script);
    INFO(r->err);
    REQUIRE(r->status.success());
    return r->out;
}

Registry::Registry(const TokenServer* tokens) {
    start(std::string("auth:\n  token:\n    realm: ") + tokens->realm() + "\n    service: " + TokenServer::kService + "\n    issuer: " +
          TokenServer::kIssuer + "\n    rootcertbundle: " + tokens->cert_path() + "\n");
}

Registry::Registry(const std::vector<std::string>& users) {
    std::string auth;
    if (!users.empty()) {
        std::string lines;
        for (const auto& u : users) {
            auto colon = u.find(':');
            lines += sh("htpasswd -nbB '" + u.substr(0, colon) + "' '" + u.substr(colon + 1) + "' | head -n1");
        }
        REQUIRE(sys::write_file_atomic(dir_.path() / "htpasswd", lines));
        auth = "auth:\n  htpasswd:\n    realm: test\n    path: " + (dir_.path() / "htpasswd").string() + "\n";
    }
    start(auth);
}

void Registry::start(const std::string& auth) {
    int port = free_port();
    host_ = "127.0.0.1:" + std::to_string(port);
    std::string config = "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: " +
                         (dir_.path() / "storage").string() + "\n  delete:\n    enabled: true\nhttp:\n  addr: " + host_ + "\n" + auth;
    REQUIRE(sys::write_file_atomic(dir_.path() / "config.yml", config));
    auto child = sys::Child::spawn({"/usr/bin/docker-registry", "serve", (dir_.path() / "config.yml").string()},
                                   (dir_.path() / "registry.log").string());
    REQUIRE(child.has_value());
    child_ = std::move(*child);
    for (int i = 0; i < 500 && !answers(port); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE_MESSAGE(answers(port), "docker-registry did not start");
}

Registry::~Registry() { child_.stop(); }

void build_and_push(const ScratchDir& work, const std::vector<std::string>& layer_scripts, const std::string& dest,
                    const std::string& compress, const std::string& creds) {
    std::string w = work.path().string();
    sh("cd " + w + " && rm -rf L B && umoci init --layout L && umoci new --image L:t");
    for (const auto& step : layer_scripts) {
        sh("cd " + w + " && rm -rf B && umoci unpack --image L:t B >/dev/null && R=$PWD/B/rootfs && cd $R && " + step +
           " && cd " + w + " && umoci repack --image L:t B >/dev/null");
    }
    sh("cd " + w + " && umoci config --image L:t --config.cmd /bin/sh --config.env PATH=/bin >/dev/null");
    std::string dest_creds = creds.empty() ? "" : " --dest-creds '" + creds + "'";
    sh("skopeo copy --quiet --dest-tls-verify=false --dest-compress-format " + compress + dest_creds + " oci:" + w + "/L:t " + dest);
}

}  // namespace ctr::test

namespace ctr::test {

const std::vector<std::string> kBusyboxImage = {
    "mkdir -p bin etc tmp work && cp /bin/busybox bin/ && "
    "for a in sh echo cat ls id hostname sleep env pwd true false kill ps grep swapoff mount; do ln -s busybox bin/$a; done && "
    "printf 'root:x:0:0:root:/root:/bin/sh\\napp:x:1000:1000:app:/work:/bin/sh\\n' > etc/passwd && "
    "printf 'root:x:0:\\napp:x:1000:\\nstaff:x:50:\\n' > etc/group && chown 1000:1000 work"};

BusyboxRegistry& shared_busybox() {
    static BusyboxRegistry s;
    return s;
}

}  // namespace ctr::test
