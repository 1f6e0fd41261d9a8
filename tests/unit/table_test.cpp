#include "cli/output.hpp"

#include <doctest/doctest.h>

TEST_CASE("tables align columns with three spaces and no trailing blanks") {
    auto t = ctr::cli::render_table({"NAME", "STATE", "REASON"}, {{"a", "loaded", ""}, {"longer-name", "failed", "why"}});
    CHECK(t == "NAME          STATE    REASON\n"
               "a             loaded\n"
               "longer-name   failed   why\n");
}
