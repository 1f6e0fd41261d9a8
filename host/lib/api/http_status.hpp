// The API's error convention: a ctr_status maps to an HTTP status, and an
// error body is {"message": "...", "status": "not found"}; the client maps
// it back, so an error keeps its meaning across the socket.
#pragma once

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

namespace ctr::api {

inline constexpr const char* kApiVersion = "v1";

inline int http_status_of(int32_t status) {
    switch (status) {
    case CTR_OK: return 200;
    case CTR_E_INVALID_ARGUMENT: return 400;
    case CTR_E_PERMISSION_DENIED: return 403;
    case CTR_E_NOT_FOUND: return 404;
    case CTR_E_ALREADY_EXISTS: case CTR_E_FAILED_PRECONDITION: return 409;
    case CTR_E_UNIMPLEMENTED: case CTR_E_UNSUPPORTED: return 501;
    case CTR_E_UNAVAILABLE: case CTR_E_RESOURCE_EXHAUSTED: return 503;
    case CTR_E_DEADLINE_EXCEEDED: return 504;
    default: return 500;
    }
}

inline nlohmann::json error_body(const Error& e) {
    return {{"message", e.message}, {"status", status_name(e.status)}, {"code", e.status}, {"detail", e.detail_code}};
}

inline Error error_from_body(int http_status, const nlohmann::json& body) {
    if (body.is_object() && body.contains("code") && body["code"].is_number_integer() && body.contains("message"))
        return Error{body["code"].get<int32_t>(), body["message"].get<std::string>(), body.value("detail", int32_t{0})};
    return make_error(CTR_E_INTERNAL, "api server answered HTTP " + std::to_string(http_status));
}

}  // namespace ctr::api
