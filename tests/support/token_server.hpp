// A small bearer-token server for a real registry (docker-registry's `auth:
// token` mode), as registries like Docker Hub and GHCR work: a client that
// gets 401 with `WWW-Authenticate: Bearer realm=...,service=...,scope=...`
// asks the realm for a token and presents it. Tokens are JWTs signed RS256
// with a throwaway key; the certificate travels in the header (x5c) and is
// the registry's trusted root. With `users`, the server wants basic auth.
#pragma once

#include <ctr/sys/unique_fd.hpp>
#include "tempdir.hpp"

#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ctr::test {

class TokenServer {
public:
    explicit TokenServer(std::string user = "", std::string password = "");
    ~TokenServer();
    TokenServer(const TokenServer&) = delete;
    TokenServer& operator=(const TokenServer&) = delete;

    std::string realm() const { return "http://" + host_ + "/token"; }
    static constexpr const char* kService = "test-registry";
    static constexpr const char* kIssuer = "test-token-issuer";
    std::string cert_path() const { return (dir_.path() / "cert.pem").string(); }
    // Each token request: its query, and whether it carried the right basic credentials.
    struct Seen {
        std::string query;
        bool authenticated = false;
    };
    std::vector<Seen> requests();

private:
    void serve();
    void handle(int client);
    std::string token_for(const std::string& query);

    ScratchDir dir_;
    std::string user_, password_, host_, cert_der_b64_;
    sys::UniqueFd listener_, stop_;
    std::thread thread_;
    std::mutex mu_;
    std::vector<Seen> seen_;
};

}  // namespace ctr::test
