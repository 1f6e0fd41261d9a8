// Routes of the API: "/v1/volumes/{name}" patterns, JSON replies, and
// streaming replies (chunked) for logs and progress.
#pragma once

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ctr::apiserver {

struct Request {
    std::string method;
    std::string path;
    std::map<std::string, std::string> query;
    std::map<std::string, std::string> params;  // from {name} segments
    nlohmann::json body;                        // null when there was none
    std::string raw_body;                       // a body that is not json (its content type says so)

    bool flag(const std::string& key) const;    // ?key=1|true
    std::string param(const std::string& key) const;
};

// Writes one piece of a streaming reply; false once the client has gone.
using Writer = std::function<bool(std::string_view)>;

struct Reply {
    int status = 200;
    nlohmann::json body;
    std::function<void(const Writer&)> stream;  // set: a chunked streaming reply
    std::function<void()> after;                // run after the reply was written
    // set: the server answers 101 Switching Protocols and hands over the
    // connection's fd, with the bytes the client sent after its request.
    std::function<void(int fd, std::string leftover)> upgrade;
    std::string content_type;                   // empty: application/json (a stream: octet-stream)
    std::optional<std::string> text;            // set: the body as it is, not json
};

using Handler = std::function<Result<Reply>(const Request&)>;

class Router {
public:
    void add(const std::string& method, const std::string& pattern, Handler handler);
    Result<Reply> dispatch(Request& request) const;
    // "GET /v1/ping", ... for docs and tests.
    std::vector<std::string> routes() const;

private:
    struct Route {
        std::string method;
        std::vector<std::string> segments;
        Handler handler;
        std::string pattern;
    };
    std::vector<Route> routes_;
};

// Splits "a=1&b=x%20y" into a map.
std::map<std::string, std::string> parse_query(std::string_view query);

inline Result<Reply> json_reply(Result<nlohmann::json> r, int status = 200) {
    if (!r) return r.error();
    Reply reply;
    reply.status = status;
    reply.body = std::move(*r);
    return reply;
}

}  // namespace ctr::apiserver
