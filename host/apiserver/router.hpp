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
#include <utility>
#include <vector>

namespace ctr::apiserver {

struct Request {
    std::string method;
    std::string path;
    std::map<std::string, std::string> query;
    std::map<std::string, std::string> params;  // from {name} segments
    nlohmann::json body;                        // null when there was none
    std::string raw_body;                       // a body that is not json (its content type says so)
    // A route added with add_streaming reads its body itself, through this:
    // up to n bytes into buf; 0 at its end, -1 when the client failed. Only
    // during the handler's call.
    std::function<long(char* buf, size_t n)> read_body;
    std::string raw_query;                      // as sent: for keys given more than once
    std::map<std::string, std::string> headers; // names in lower case

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
    std::vector<std::pair<std::string, std::string>> headers;  // more headers of this reply
};

using Handler = std::function<Result<Reply>(const Request&)>;

class Router {
public:
    void add(const std::string& method, const std::string& pattern, Handler handler);
    // A route whose body may be large (a tar): its handler is called before
    // the body is read, and reads it with Request::read_body.
    void add_streaming(const std::string& method, const std::string& pattern, Handler handler);
    // A route that hands its connection over after its reply (an exec's
    // start without an Upgrade header): a chunked body is read only up to
    // one whole JSON value, for the client keeps the request open for the
    // stream that follows it.
    void add_handover(const std::string& method, const std::string& pattern, Handler handler);
    Result<Reply> dispatch(Request& request) const;
    bool streams_body(const Request& request) const;
    bool hands_over(const Request& request) const;
    // "GET /v1/ping", ... for docs and tests.
    std::vector<std::string> routes() const;

private:
    struct Route {
        std::string method;
        std::vector<std::string> segments;
        Handler handler;
        std::string pattern;
        bool streaming = false;
        bool handover = false;
    };
    // The route of `req` (its params filled in); null if none, with
    // `path_matched` telling whether another method has it.
    const Route* match(Request& req, bool& path_matched) const;
    std::vector<Route> routes_;
};

// Splits "a=1&b=x%20y" into a map.
std::map<std::string, std::string> parse_query(std::string_view query);
// Every value of `key` in "a=1&a=2" (decoded), in order.
std::vector<std::string> query_values(std::string_view query, const std::string& key);

inline Result<Reply> json_reply(Result<nlohmann::json> r, int status = 200) {
    if (!r) return r.error();
    Reply reply;
    reply.status = status;
    reply.body = std::move(*r);
    return reply;
}

}  // namespace ctr::apiserver
