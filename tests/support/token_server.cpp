#include "token_server.hpp"

#include "registry.hpp"
#include <ctr/sys/io.hpp>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>

namespace ctr::test {

namespace {

std::string b64(const unsigned char* data, size_t n) {
    std::string out(4 * ((n + 2) / 3) + 1, '\0');
    int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
    out.resize(static_cast<size_t>(len));
    return out;
}

std::string b64url(const std::string& s) {
    std::string out = b64(reinterpret_cast<const unsigned char*>(s.data()), s.size());
    for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
    while (!out.empty() && out.back() == '=') out.pop_back();
    return out;
}

std::string url_decode(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += s[i] == '+' ? ' ' : s[i];
        }
    }
    return out;
}

}  // namespace

TokenServer::TokenServer(std::string user, std::string password) : user_(std::move(user)), password_(std::move(password)) {
    std::string d = dir_.path().string();
    sh("cd " + d + " && openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -subj /CN=token-issuer -days 2 2>/dev/null");
    std::FILE* f = std::fopen((d + "/cert.pem").c_str(), "r");
    REQUIRE(f);
    X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    REQUIRE(cert);
    unsigned char* der = nullptr;
    int len = i2d_X509(cert, &der);
    cert_der_b64_ = b64(der, static_cast<size_t>(len));
    OPENSSL_free(der);
    X509_free(cert);

    listener_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listener_.get(), 16);
    socklen_t alen = sizeof a;
    ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&a), &alen);
    host_ = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    stop_.reset(::eventfd(0, EFD_CLOEXEC));
    thread_ = std::thread([this] { serve(); });
}

TokenServer::~TokenServer() {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(stop_.get(), &one, sizeof one);
    thread_.join();
}

std::vector<TokenServer::Seen> TokenServer::requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
}

void TokenServer::serve() {
    for (;;) {
        pollfd p[2] = {{listener_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
        if (::poll(p, 2, -1) < 0 && errno != EINTR) return;
        if (p[1].revents) return;
        if (!(p[0].revents & POLLIN)) continue;
        sys::UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (client.valid()) handle(client.get());  // one at a time: tokens are quick
    }
}

void TokenServer::handle(int client) {
    timeval tv{5, 0};
    ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string head;
    char buf[8192];
    while (head.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(client, buf, sizeof buf, 0);
        if (n <= 0) return;
        head.append(buf, static_cast<size_t>(n));
    }
    std::string line = head.substr(0, head.find("\r\n"));
    auto q = line.find('?');
    std::string query = q == std::string::npos ? "" : line.substr(q + 1, line.rfind(' ') - q - 1);
    std::string expected = "Basic " + b64(reinterpret_cast<const unsigned char*>((user_ + ":" + password_).data()), user_.size() + password_.size() + 1);
    bool authenticated = !user_.empty() && head.find("\r\nAuthorization: " + expected + "\r\n") != std::string::npos;
    {
        std::lock_guard<std::mutex> lock(mu_);
        seen_.push_back({query, authenticated});
    }
    if (!user_.empty() && !authenticated) {
        sys::send_all(client, "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"token\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    }
    std::string body = nlohmann::json{{"token", token_for(query)}, {"expires_in", 300}}.dump();
    sys::send_all(client, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                         "\r\nConnection: close\r\n\r\n" + body);
}

std::string TokenServer::token_for(const std::string& query) {
    // scope=repository:NAME:ACTIONS, maybe several: each repository gets pull and push.
    nlohmann::json access = nlohmann::json::array();
    size_t at = 0;
    while ((at = query.find("scope=", at)) != std::string::npos) {
        size_t end = query.find('&', at);
        std::string scope = url_decode(query.substr(at + 6, end == std::string::npos ? std::string::npos : end - at - 6));
        auto first = scope.find(':'), last = scope.rfind(':');
        if (first != std::string::npos && last > first)
            access.push_back({{"type", scope.substr(0, first)}, {"name", scope.substr(first + 1, last - first - 1)}, {"actions", {"pull", "push"}}});
        at += 6;
    }
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}, {"x5c", {cert_der_b64_}}};
    nlohmann::json claims = {{"iss", kIssuer}, {"sub", user_.empty() ? "anonymous" : user_}, {"aud", kService}, {"exp", now + 600},
                             {"nbf", now - 30}, {"iat", now}, {"jti", std::to_string(now) + "-" + std::to_string(seen_.size())},
                             {"access", access}};
    std::string signing_input = b64url(header.dump()) + "." + b64url(claims.dump());
    std::FILE* f = std::fopen((dir_.path() / "key.pem").c_str(), "r");
    EVP_PKEY* key = f ? PEM_read_PrivateKey(f, nullptr, nullptr, nullptr) : nullptr;
    if (f) std::fclose(f);
    std::string sig;
    if (key) {
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        size_t len = 0;
        if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1) {
            sig.resize(len);
            EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, reinterpret_cast<const unsigned char*>(signing_input.data()),
                           signing_input.size());
            sig.resize(len);
        }
        EVP_MD_CTX_free(ctx);
        EVP_PKEY_free(key);
    }
    return signing_input + "." + b64url(sig);
}

}  // namespace ctr::test
