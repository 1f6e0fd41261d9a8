#include <ctr/base/units.hpp>

#include <doctest/doctest.h>

TEST_CASE("sizes") {
    CHECK(*ctr::parse_size("512", "m") == 512);
    CHECK(*ctr::parse_size("64k", "m") == 65536);
    CHECK(*ctr::parse_size("1.5g", "m") == 1610612736);
    CHECK(*ctr::parse_size("2GiB", "m") == 2147483648);
    CHECK(*ctr::parse_size("0", "m") == 0);
    for (const char* bad : {"", "-1", "12XB", "g", "1e30", "1..5m", "10 m"}) {
        CAPTURE(bad);
        auto r = ctr::parse_size(bad, "--memory");
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find("--memory: ") == 0);
    }
    CHECK_FALSE(ctr::parse_size("99999999999t", "m"));
    CHECK(ctr::human_size(512) == "512 B");
    CHECK(ctr::human_size(1536) == "1.5 KiB");
}

TEST_CASE("durations") {
    CHECK(*ctr::parse_duration("30s", "x") == doctest::Approx(30));
    CHECK(*ctr::parse_duration("1m30s", "x") == doctest::Approx(90));
    CHECK(*ctr::parse_duration("500ms", "x") == doctest::Approx(0.5));
    CHECK(*ctr::parse_duration("1h", "x") == doctest::Approx(3600));
    CHECK(*ctr::parse_duration("2.5s", "x") == doctest::Approx(2.5));
    CHECK(*ctr::parse_duration("10", "x") == doctest::Approx(10));
    for (const char* bad : {"", "s", "10x", "1m30", "-1s", "1.2.3s"}) {
        CAPTURE(bad);
        auto r = ctr::parse_duration(bad, "interval");
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find("interval: invalid duration") == 0);
    }
}

TEST_CASE("--since: epoch seconds, RFC 3339, dates, durations before now") {
    const double now = 1764346457.0;  // 2025-11-28T16:14:17Z
    CHECK(*ctr::parse_since("1764346000", now, "x") == doctest::Approx(1764346000));
    CHECK(*ctr::parse_since("1764346000.25", now, "x") == doctest::Approx(1764346000.25));
    CHECK(*ctr::parse_since("2025-11-28T16:14:17Z", now, "x") == doctest::Approx(1764346457));
    CHECK(*ctr::parse_since("2025-11-28T16:14:17.5Z", now, "x") == doctest::Approx(1764346457.5));
    CHECK(*ctr::parse_since("2025-11-28T17:14:17+01:00", now, "x") == doctest::Approx(1764346457));
    CHECK(*ctr::parse_since("2025-11-28", now, "x") == doctest::Approx(1764288000));
    CHECK(*ctr::parse_since("10m", now, "x") == doctest::Approx(now - 600));
    for (const char* bad : {"yesterday", "2025-13-01", "2025-11-28T25:00:00Z", "", "-5"}) {
        CAPTURE(bad);
        auto r = ctr::parse_since(bad, now, "--since");
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find("--since") == 0);
    }
}
