#include <ctr/base/strings.hpp>

#include <doctest/doctest.h>

TEST_CASE("base64 both ways, with Docker's URL-safe alphabet and without padding") {
    CHECK(ctr::base64_encode("") == "");
    CHECK(ctr::base64_encode("f") == "Zg==");
    CHECK(ctr::base64_encode("fo") == "Zm8=");
    CHECK(ctr::base64_encode("foo") == "Zm9v");
    CHECK(ctr::base64_encode("user:pa\xff\xfe") == "dXNlcjpwYf/+");
    for (std::string s : {"", "a", "ab", "abc", "abcd", "user:password", "\x01\xff\x80 ok"}) CHECK(ctr::base64_decode(ctr::base64_encode(s)) == s);
    CHECK(ctr::base64_decode("dXNlcjpwYf_-") == "user:pa\xff\xfe");  // URL-safe
    CHECK(ctr::base64_decode("Zm8") == "fo");                         // unpadded
    CHECK_FALSE(ctr::base64_decode("Zm9v!"));
}

TEST_CASE("rfc3339 in UTC") {
    CHECK(ctr::rfc3339(0) == "1970-01-01T00:00:00Z");
    CHECK(ctr::rfc3339(1796331600) == "2026-12-03T21:00:00Z");
}
