// runtime-linux's seccomp compiler (plugins/runtime-linux/src/seccomp_bpf.hpp):
// the program it makes is loaded into a child process here and must do what
// the profile says, and the bundle gets the annotation crun reads.
#include "seccomp_bpf.hpp"
#include "services/seccomp.hpp"

#include <ctr/base/strings.hpp>
#include <ctr/sys/files.hpp>

#include <doctest/doctest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <functional>

namespace fs = std::filesystem;
using nlohmann::json;
using runtime_linux::compile_seccomp;
using runtime_linux::precompile_seccomp;

namespace {

// Runs `probe` in a child under the filter `bpf`: its exit code (what the
// probe returns, 100 when the filter would not load).
int under_filter(const std::string& bpf, const std::function<int()>& probe) {
    pid_t pid = ::fork();
    if (pid == 0) {
        sock_fprog prog{static_cast<unsigned short>(bpf.size() / 8),
                        reinterpret_cast<sock_filter*>(const_cast<char*>(bpf.data()))};
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) ::_exit(100);
        ::_exit(probe());
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

// errno of a raw call, 0 when it succeeded.
int errno_of(long rc) { return rc < 0 ? errno : 0; }

json allow_but(json rules) { return {{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", std::move(rules)}}; }

}  // namespace

TEST_CASE("runtime-linux's seccomp program does what the profile says: errno values, argument checks, alternatives") {
    auto bpf = compile_seccomp(allow_but(json::array({
        {{"names", {"getppid"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", EDOM}},
        // Checks of one argument are alternatives: either priority kind is refused.
        {{"names", {"getpriority"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", EAGAIN},
         {"args", {{{"index", 0}, {"value", PRIO_PGRP}, {"op", "SCMP_CMP_EQ"}}, {{"index", 0}, {"value", PRIO_USER}, {"op", "SCMP_CMP_EQ"}}}}},
        // Checks of two arguments must both hold.
        {{"names", {"umask"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", EACCES}, {"args", {{{"index", 0}, {"value", 0777}, {"op", "SCMP_CMP_EQ"}}}}},
        {{"names", {"a_call_no_kernel_has"}}, {"action", "SCMP_ACT_ERRNO"}},  // skipped, as crun skips it
    })));
    REQUIRE_MESSAGE(bpf, bpf.error().message);
    CHECK(bpf->size() % 8 == 0);
    CHECK(under_filter(*bpf, [] { return errno_of(::syscall(SYS_getppid)); }) == EDOM);
    CHECK(under_filter(*bpf, [] { return errno_of(::syscall(SYS_getpid)); }) == 0);
    CHECK(under_filter(*bpf, [] { return errno_of(::syscall(SYS_getpriority, PRIO_PGRP, 0)); }) == EAGAIN);
    CHECK(under_filter(*bpf, [] { return errno_of(::syscall(SYS_getpriority, PRIO_USER, 0)); }) == EAGAIN);
    CHECK(under_filter(*bpf, [] { return errno_of(::syscall(SYS_getpriority, PRIO_PROCESS, 0)); }) == 0);
    CHECK(under_filter(*bpf, [] { return errno_of(::syscall(SYS_umask, 0777)); }) == EACCES);
    CHECK(under_filter(*bpf, [] { return errno_of(::syscall(SYS_umask, 022)); }) == 0);
}

TEST_CASE("runtime-linux compiles the default profile: an allow-list that refuses new namespaces") {
    auto section = ctr::services::oci_seccomp(ctr::services::default_seccomp_profile(), {"CAP_CHOWN", "CAP_KILL"});
    auto bpf = compile_seccomp(section);
    REQUIRE_MESSAGE(bpf, bpf.error().message);
    CHECK(under_filter(*bpf, [] { return errno_of(::syscall(SYS_getpid)); }) == 0);
    CHECK(under_filter(*bpf, [] { return errno_of(::unshare(CLONE_NEWUSER)); }) == EPERM);
    CHECK(under_filter(*bpf, [] { return errno_of(::syscall(SYS_kexec_load, 0, 0, 0, 0)); }) == EPERM);
}

TEST_CASE("runtime-linux's seccomp compiler names what it cannot translate") {
    auto with = [](json rule) { return compile_seccomp(allow_but(json::array({std::move(rule)}))); };
    auto notify = with({{"names", {"mkdir"}}, {"action", "SCMP_ACT_NOTIFY"}});
    REQUIRE_FALSE(notify);
    CHECK(notify.error().message == "seccomp: action \"SCMP_ACT_NOTIFY\" is not compiled here");
    auto index = with({{"names", {"mkdir"}}, {"action", "SCMP_ACT_ERRNO"}, {"args", {{{"index", 6}, {"value", 1}, {"op", "SCMP_CMP_EQ"}}}}});
    REQUIRE_FALSE(index);
    CHECK(index.error().message == "seccomp: argument index 6 (0 to 5)");
    auto errno_on_allow = compile_seccomp({{"defaultAction", "SCMP_ACT_ALLOW"}, {"defaultErrnoRet", 1}});
    REQUIRE_FALSE(errno_on_allow);
    CHECK(errno_on_allow.error().message == "seccomp: defaultErrnoRet given for SCMP_ACT_ALLOW");
    auto op = with({{"names", {"mkdir"}}, {"action", "SCMP_ACT_ERRNO"}, {"args", {{{"index", 0}, {"value", 1}, {"op", "EQUALS"}}}}});
    REQUIRE_FALSE(op);
    CHECK(op.error().message == "seccomp: unknown operator \"EQUALS\"");
    auto typed = with({{"names", {"mkdir"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", "one"}});
    REQUIRE_FALSE(typed);
    CHECK(typed.error().message.rfind("seccomp: a field of the wrong type", 0) == 0);
    auto arch = compile_seccomp({{"defaultAction", "SCMP_ACT_ALLOW"}, {"architectures", {"SCMP_ARCH_PDP11"}}});
    REQUIRE_FALSE(arch);
    CHECK(arch.error().message == "seccomp: unknown architecture \"SCMP_ARCH_PDP11\"");
}

TEST_CASE("runtime-linux hands crun the compiled filter in the bundle, kept for the next container") {
    char tmpl[] = "/tmp/ctr-unit-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    const fs::path dir = tmpl, bundle = dir / "bundle", cache = dir / "cache";
    fs::create_directories(bundle);
    const json seccomp = allow_but(json::array({{{"names", {"getppid"}}, {"action", "SCMP_ACT_ERRNO"}}}));
    json spec = {{"ociVersion", "1.0.2"}, {"linux", {{"seccomp", seccomp}}}, {"annotations", {{"kept", "yes"}}}};
    REQUIRE(ctr::sys::write_file_atomic(bundle / "config.json", spec.dump(), 0640));
    auto read = [&] { return json::parse(*ctr::sys::read_file(bundle / "config.json")); };

    CHECK(precompile_seccomp(bundle, cache));
    json now = read();
    const std::string data = now["annotations"].value(runtime_linux::kSeccompBpfAnnotation, "");
    CHECK(ctr::base64_decode(data) == *compile_seccomp(seccomp));
    CHECK(now["annotations"]["kept"] == "yes");
    CHECK(now["linux"]["seccomp"] == seccomp);  // crun still reads its flags there
    CHECK((fs::status(bundle / "config.json").permissions() & fs::perms::all) == static_cast<fs::perms>(0640));
    CHECK(std::distance(fs::directory_iterator(cache), fs::directory_iterator()) == 1);

    // A second bundle of the same profile takes the kept program, not a
    // fresh compile: the entry (key, NUL, program) is planted with another
    // program, which is what the bundle must get.
    const fs::path entry = fs::directory_iterator(cache)->path();
    const std::string kept = *ctr::sys::read_file(entry);
    const std::string key = kept.substr(0, kept.find('\0'));
    REQUIRE(ctr::sys::write_file_atomic(entry, key + std::string(1, '\0') + "planted program"));
    fs::create_directories(dir / "second");
    REQUIRE(ctr::sys::write_file_atomic(dir / "second" / "config.json", spec.dump()));
    auto second = [&] { return json::parse(*ctr::sys::read_file(dir / "second" / "config.json")); };
    CHECK(precompile_seccomp(dir / "second", cache));
    CHECK(ctr::base64_decode(second()["annotations"].value(runtime_linux::kSeccompBpfAnnotation, "")) == "planted program");
    // An entry under the same name for another key (a hash collision) is
    // not taken: the profile is compiled and the entry made right.
    REQUIRE(ctr::sys::write_file_atomic(entry, "another key" + std::string(1, '\0') + "planted program"));
    REQUIRE(ctr::sys::write_file_atomic(dir / "second" / "config.json", spec.dump()));
    CHECK(precompile_seccomp(dir / "second", cache));
    CHECK(second()["annotations"][runtime_linux::kSeccompBpfAnnotation] == data);
    CHECK(*ctr::sys::read_file(entry) == kept);
    // An unchanged bundle is left as it is.
    CHECK(precompile_seccomp(bundle, cache));
    CHECK(read() == now);

    // The profile changed (an edited bundle): the program follows it.
    now["linux"]["seccomp"]["syscalls"][0]["errnoRet"] = EDOM;
    REQUIRE(ctr::sys::write_file_atomic(bundle / "config.json", now.dump()));
    CHECK(precompile_seccomp(bundle, cache));
    CHECK(ctr::base64_decode(read()["annotations"].value(runtime_linux::kSeccompBpfAnnotation, "")) == *compile_seccomp(now["linux"]["seccomp"]));

    // A filter someone else put there stays, and a spec without seccomp is not touched.
    json foreign = {{"linux", {{"seccomp", seccomp}}}, {"annotations", {{runtime_linux::kSeccompBpfAnnotation, "AAAA"}}}};
    REQUIRE(ctr::sys::write_file_atomic(bundle / "config.json", foreign.dump()));
    CHECK_FALSE(precompile_seccomp(bundle, cache));
    CHECK(read() == foreign);
    json plain = {{"linux", {{"namespaces", json::array()}}}};
    REQUIRE(ctr::sys::write_file_atomic(bundle / "config.json", plain.dump()));
    CHECK_FALSE(precompile_seccomp(bundle, cache));
    CHECK(read() == plain);
    fs::remove_all(dir);
}
