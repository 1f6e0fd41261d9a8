// ctr/sdk/result.hpp: errors as values, for plugins and for the host alike.
//
// Result<T> holds either a T or an Error (a ctr_status plus a message). Its
// member names are the subset of std::expected that we use, so that moving to
// C++23 later is a change of alias. Status is Result<void>.
#pragma once

#include <ctr/plugin.h>

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace ctr {

struct Error {
    int32_t status = CTR_E_INTERNAL;  // a ctr_status
    std::string message;              // lower-case, one line, with context
    int32_t detail_code = 0;

    // Prefixes context: Error{..."no such file"}.wrap("open config") -> "open config: no such file".
    Error wrap(const std::string& context) const {
        return Error{status, context + ": " + message, detail_code};
    }
};

inline Error make_error(ctr_status status, std::string message) {
    return Error{static_cast<int32_t>(status), std::move(message), 0};
}

// The lower-case name of a status, for messages and JSON.
inline const char* status_name(int32_t status) {
    switch (status) {
    case CTR_OK: return "ok";
    case CTR_E_INVALID_ARGUMENT: return "invalid argument";
    case CTR_E_NOT_FOUND: return "not found";
    case CTR_E_ALREADY_EXISTS: return "already exists";
    case CTR_E_FAILED_PRECONDITION: return "failed precondition";
    case CTR_E_UNAVAILABLE: return "unavailable";
    case CTR_E_UNIMPLEMENTED: return "unimplemented";
    case CTR_E_INTERNAL: return "internal";
    case CTR_E_PERMISSION_DENIED: return "permission denied";
    case CTR_E_CANCELLED: return "cancelled";
    case CTR_E_DEADLINE_EXCEEDED: return "deadline exceeded";
    case CTR_E_UNSUPPORTED: return "unsupported";
    case CTR_E_RESOURCE_EXHAUSTED: return "resource exhausted";
    default: return "unknown status";
    }
}

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

    bool has_value() const { return v_.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

    bool has_value() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const { return error_; }

private:
    Error error_;
    bool ok_ = true;
};

using Status = Result<void>;

inline Status ok() { return {}; }

}  // namespace ctr

// Propagates an error: `auto x = CTR_TRY(f());` returns f()'s error from the
// enclosing function, else yields the value. GNU statement expression (GCC,
// Clang); __extension__ keeps -Wpedantic quiet about it. Each use gets its own
// variable name, so that uses may nest (a lambda inside a CTR_TRY_STATUS).
#define CTR_DETAIL_CAT2(a, b) a##b
#define CTR_DETAIL_CAT(a, b) CTR_DETAIL_CAT2(a, b)

#define CTR_DETAIL_TRY(expr, var)              \
    __extension__({                            \
        auto var = (expr);                     \
        if (!var) return var.error();          \
        std::move(var).value();                \
    })
#define CTR_TRY(expr) CTR_DETAIL_TRY(expr, CTR_DETAIL_CAT(ctr_try_result_, __COUNTER__))

// The same for Status-returning expressions.
#define CTR_DETAIL_TRY_STATUS(expr, var)       \
    do {                                       \
        auto var = (expr);                     \
        if (!var) return var.error();          \
    } while (0)
#define CTR_TRY_STATUS(expr) CTR_DETAIL_TRY_STATUS(expr, CTR_DETAIL_CAT(ctr_try_status_, __COUNTER__))
