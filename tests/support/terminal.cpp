#include "tests/support/terminal.hpp"

#include <ctr/sys/process.hpp>

#include <doctest/doctest.h>

#include <algorithm>

namespace ctr::test {

namespace {

std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

}  // namespace

Run shell(const DaemonRoot& r, const std::string& script) {
    std::string ctr = (build_root() / "host/container").string() + " --root " + r.root();
    ctr::sys::RunOptions o;
    o.timeout_ms = 60000;
    o.capture_stderr = true;
    auto res = ctr::sys::run_capture({"/bin/sh", "-c", "export CTR=" + quote(ctr) + "; " + script}, o);
    REQUIRE(res);
    Run out;
    out.out = res->out;
    out.err = res->err;
    out.code = res->status.signal ? 128 + res->status.signal : res->status.code;
    return out;
}

Run in_terminal(const DaemonRoot& r, const std::string& command, const std::string& input_script) {
    std::string inner = "stty rows 33 cols 101; " + command;
    std::string feed = input_script.empty() ? "" : "(" + input_script + ") | ";
    return shell(r, feed + "script -qec " + quote(inner) + " /dev/null");
}

std::string without_cr(std::string s) {
    s.erase(std::remove(s.begin(), s.end(), '\r'), s.end());
    return s;
}

}  // namespace ctr::test
