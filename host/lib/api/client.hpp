// The CLI's side of the API: HTTP/1.1 over the daemon's unix socket, with
// Boost.Beast. One connection per call; streaming calls deliver chunks as
// they arrive.
#pragma once

#include <ctr/base/paths.hpp>

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ctr::api {

std::filesystem::path socket_path(const Paths& paths);

class Client {
public:
    explicit Client(std::filesystem::path socket) : socket_(std::move(socket)) {}

    // `target` is e.g. "/v1/volumes?all=1". A non-2xx answer becomes the
    // Error the daemon sent. CTR_E_UNAVAILABLE means no daemon answered.
    Result<nlohmann::json> call(const std::string& method, const std::string& target,
                                const nlohmann::json& body = nullptr) const;

    // A streaming GET: `on_data` receives the body as it arrives; returning
    // false stops reading.
    Status stream(const std::string& target, const std::function<bool(std::string_view)>& on_data) const;
    // The same for a POST with a JSON body (image pull).
    Status stream_post(const std::string& target, const nlohmann::json& body,
                       const std::function<bool(std::string_view)>& on_data) const;

    // The same, with every read and write bounded by `timeout_s` (0: none).
    Result<nlohmann::json> call_with_timeout(const std::string& method, const std::string& target,
                                             const nlohmann::json& body, int timeout_s) const;

    bool ping() const;

    // POST `target` asking to switch protocols (attach): on 101, the raw
    // connection, and any bytes that came after the answer's header.
    struct Upgraded {
        int fd = -1;  // the caller owns it
        std::string leftover;
    };
    // `first`: bytes sent right behind the request (they reach the other end
    // as soon as the connection is switched: a terminal's size, say).
    Result<Upgraded> upgrade(const std::string& target, const std::string& first = "") const;

private:
    Status stream_post_impl(const std::string& method, const std::string& target, const nlohmann::json& body,
                            const std::function<bool(std::string_view)>& on_data) const;
    std::filesystem::path socket_;
};

// Starts container-apiserver for `paths` in the background when none
// answers, waits until it does (or it exits, whose error is returned).
// Returns true when it started one.
Result<bool> ensure_daemon(const Paths& paths, bool debug, const std::vector<std::string>& daemon_args = {});

}  // namespace ctr::api
