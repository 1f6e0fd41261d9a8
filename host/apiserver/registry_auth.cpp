#include "apiserver/registry_auth.hpp"

#include <ctr/sys/files.hpp>

#include <ctr/base/strings.hpp>

namespace ctr::apiserver {

using nlohmann::json;


std::string registry_host(const std::string& reference) {
    auto slash = reference.find('/');
    if (slash == std::string::npos) return "docker.io";
    std::string head = reference.substr(0, slash);
    if (head.find('.') != std::string::npos || head.find(':') != std::string::npos || head == "localhost") return head;
    return "docker.io";
}

std::string normalize_server(const std::string& server) {
    std::string s = server;
    if (auto p = s.find("://"); p != std::string::npos) s = s.substr(p + 3);
    s = s.substr(0, s.find('/'));
    if (s == "index.docker.io" || s == "registry-1.docker.io") s = "docker.io";
    return s;
}

Result<std::vector<Login>> RegistryAuth::list() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Login> out;
    auto text = sys::read_file(file_);
    if (!text) return out;
    auto j = json::parse(*text, nullptr, false);
    if (!j.is_object()) return make_error(CTR_E_INTERNAL, "auth file \"" + file_.string() + "\" is not json");
    const json auths = j.value("auths", json::object());  // items() of a temporary would dangle
    for (const auto& [server, entry] : auths.items()) {
        std::string pair = base64_decode(entry.value("auth", "")).value_or("");
        auto colon = pair.find(':');
        if (colon == std::string::npos) continue;
        out.push_back(Login{server, pair.substr(0, colon), pair.substr(colon + 1)});
    }
    return out;
}

Status RegistryAuth::login(const Login& l) {
    if (l.server.empty() || l.username.empty())
        return make_error(CTR_E_INVALID_ARGUMENT, "login needs a server and a username");
    std::lock_guard<std::mutex> lock(mu_);
    json j = json::object();
    if (auto text = sys::read_file(file_); text) {
        j = json::parse(*text, nullptr, false);
        if (!j.is_object()) j = json::object();
    }
    j["auths"][normalize_server(l.server)] = {{"auth", base64_encode(l.username + ":" + l.password)}};
    return sys::write_file_atomic(file_, j.dump(2), 0600);
}

Status RegistryAuth::logout(const std::string& server) {
    std::lock_guard<std::mutex> lock(mu_);
    auto text = sys::read_file(file_);
    json j = text ? json::parse(*text, nullptr, false) : json::object();
    std::string key = normalize_server(server);
    if (!j.is_object() || !j.contains("auths") || !j["auths"].contains(key))
        return make_error(CTR_E_NOT_FOUND, "not logged in to " + key);
    j["auths"].erase(key);
    return sys::write_file_atomic(file_, j.dump(2), 0600);
}

Result<std::optional<Login>> RegistryAuth::for_reference(const std::string& reference) const {
    std::string host = registry_host(reference);
    for (auto& l : CTR_TRY(list()))
        if (l.server == host) return std::optional<Login>(l);
    return std::optional<Login>();
}

void add_registry_routes(Router& r, RegistryAuth& auth) {
    r.add("POST", "/v1/registry/login", [&auth](const Request& req) -> Result<Reply> {
        const json& b = req.body;
        if (!b.is_object() || !b.contains("server") || !b.contains("username") || !b.contains("password"))
            return make_error(CTR_E_INVALID_ARGUMENT, "login needs {\"server\", \"username\", \"password\"}");
        Login l{b["server"], b["username"], b["password"]};
        CTR_TRY_STATUS(auth.login(l));
        return json_reply(json{{"server", normalize_server(l.server)}, {"username", l.username}});
    });
    r.add("POST", "/v1/registry/logout", [&auth](const Request& req) -> Result<Reply> {
        if (!req.body.is_object() || !req.body.contains("server")) return make_error(CTR_E_INVALID_ARGUMENT, "logout needs {\"server\"}");
        CTR_TRY_STATUS(auth.logout(req.body["server"]));
        return json_reply(json{{"server", normalize_server(req.body["server"])}});
    });
    r.add("GET", "/v1/registry", [&auth](const Request&) -> Result<Reply> {
        json arr = json::array();
        for (const auto& l : CTR_TRY(auth.list())) arr.push_back({{"server", l.server}, {"username", l.username}});
        return json_reply(arr);
    });
}

}  // namespace ctr::apiserver
