#include <ctr/sdk/result.hpp>

#include <doctest/doctest.h>

namespace {

ctr::Result<int> half(int x) {
    if (x % 2) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "odd: " + std::to_string(x));
    return x / 2;
}

ctr::Result<int> quarter(int x) {
    int h = CTR_TRY(half(x));
    return CTR_TRY(half(h));
}

ctr::Status check_even(int x) {
    CTR_TRY_STATUS(ctr::Status(half(x) ? ctr::ok() : ctr::Status(half(x).error())));
    return ctr::ok();
}

}  // namespace

TEST_CASE("Result holds a value or an error") {
    auto a = half(8);
    REQUIRE(a.has_value());
    CHECK(*a == 4);
    auto b = half(7);
    REQUIRE_FALSE(b);
    CHECK(b.error().status == CTR_E_INVALID_ARGUMENT);
    CHECK(b.error().message == "odd: 7");
}

TEST_CASE("CTR_TRY propagates the first error") {
    CHECK(*quarter(8) == 2);
    auto r = quarter(6);  // 6 -> 3 -> odd
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "odd: 3");
    CHECK(check_even(4));
    CHECK_FALSE(check_even(5));
}

TEST_CASE("Error::wrap prefixes context and keeps the status") {
    auto e = ctr::make_error(CTR_E_NOT_FOUND, "no such file").wrap("open \"/x\"");
    CHECK(e.message == "open \"/x\": no such file");
    CHECK(e.status == CTR_E_NOT_FOUND);
    CHECK(std::string(ctr::status_name(CTR_E_NOT_FOUND)) == "not found");
    CHECK(std::string(ctr::status_name(999)) == "unknown status");
}
