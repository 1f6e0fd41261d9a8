#include "run.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <unistd.h>

namespace ctr::test {

std::string env_or_empty(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

std::filesystem::path build_root() { return env_or_empty("CTR_BUILD_ROOT"); }

Run run(const std::string& binary, const std::vector<std::string>& args, const std::vector<std::string>& env,
        int timeout_ms) {
    std::vector<std::string> argv{(build_root() / binary).string()};
    argv.insert(argv.end(), args.begin(), args.end());
    sys::RunOptions o;
    o.timeout_ms = timeout_ms;
    o.capture_stderr = true;
    o.env = env;
    auto r = sys::run_capture(argv, o);
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
    Run out;
    out.out = r->out;
    out.err = r->err;
    out.code = r->status.signal ? 128 + r->status.signal : r->status.code;
    if (r->status.timed_out) out.code = -2;
    return out;
}

}  // namespace ctr::test
