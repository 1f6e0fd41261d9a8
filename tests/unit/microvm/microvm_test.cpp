// runtime-microvm's parts that need no VM: the initramfs archive, the RUN
// payload and VM sizing, the mount plan, and the kernel store's switching
// (with a boot test that passes or fails on demand).
#include "guest_mounts.hpp"
#include "initramfs.hpp"
#include "kernel_store.hpp"
#include "process_spec.hpp"

#include <ctr/sys/files.hpp>
#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

using ctr::test::ScratchDir;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Reads a newc archive back: name -> (mode, data).
std::map<std::string, std::pair<uint32_t, std::string>> read_cpio(const std::string& a) {
    std::map<std::string, std::pair<uint32_t, std::string>> out;
    size_t at = 0;
    auto hex = [&](size_t field) { return static_cast<uint32_t>(std::stoul(a.substr(at + 6 + field * 8, 8), nullptr, 16)); };
    auto pad = [](size_t n) { return (n + 3) & ~size_t{3}; };
    while (at + 110 <= a.size()) {
        REQUIRE(a.substr(at, 6) == "070701");
        uint32_t mode = hex(1), size = hex(6), namesize = hex(11);
        std::string name = a.substr(at + 110, namesize - 1);
        size_t data = pad(at + 110 + namesize);
        if (name == "TRAILER!!!") break;
        out[name] = {mode, a.substr(data, size)};
        at = pad(data + size);
    }
    return out;
}

std::vector<std::string> strings(const std::string& payload) {
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t i = 0; i < payload.size(); ++i)
        if (payload[i] == '\0') {
            out.push_back(payload.substr(start, i - start));
            start = i + 1;
        }
    return out;
}

}  // namespace

TEST_CASE("microvm initramfs: /init, device nodes and the modules in load order, as newc") {
    ScratchDir d;
    REQUIRE(ctr::sys::write_file_atomic(d.path() / "agent", "AGENT"));
    REQUIRE(ctr::sys::write_file_atomic(d.path() / "b.ko", "BBB"));
    REQUIRE(ctr::sys::write_file_atomic(d.path() / "a.ko", "A"));
    REQUIRE(microvm::write_initramfs(d.path() / "out.img", d.path() / "agent", {{"b.ko", d.path() / "b.ko"}, {"a.ko", d.path() / "a.ko"}}));
    auto files = read_cpio(ctr::sys::read_file(d.path() / "out.img").value());
    CHECK(files["init"].second == "AGENT");
    CHECK((files["init"].first & 0777) == 0755);
    CHECK((files["dev/console"].first & 0170000) == 0020000);  // a character device
    CHECK(files["lib/modules/b.ko"].second == "BBB");
    CHECK(files["lib/modules/order"].second == "b.ko\na.ko\n");
    CHECK(!microvm::write_initramfs(d.path() / "x.img", d.path() / "missing", {}));
}

TEST_CASE("microvm RUN payload: user, cwd, stdin mode with a terminal's size, args and env; bad processes refused") {
    json p = {{"args", {"sh", "-c", "echo hi"}}, {"env", {"PATH=/bin", "A=b"}}, {"cwd", "/tmp"}, {"user", {{"uid", 1000}, {"gid", 50}}}};
    auto s = strings(microvm::run_payload(p, "box", microvm::StdinMode::terminal, 33, 101).value());
    CHECK(s == std::vector<std::string>{"1000", "50", "/tmp", "box", "t33x101", "", "0", "", "3", "sh", "-c", "echo hi", "PATH=/bin", "A=b"});
    CHECK(strings(microvm::run_payload(p, "", microvm::StdinMode::pipe).value())[4] == "1");
    // Privileges: capability masks (bounding, effective, permitted, inheritable, ambient), no_new_privs, rlimits.
    p["capabilities"] = {{"bounding", {"CAP_CHOWN", "CAP_KILL"}}, {"effective", {"CAP_KILL"}}};
    p["noNewPrivileges"] = true;
    p["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 1024}, {"hard", 2048}}};
    auto priv = strings(microvm::run_payload(p, "", microvm::StdinMode::none).value());
    CHECK(priv[5] == "21,20,0,0,0");  // CAP_CHOWN is 0, CAP_KILL is 5
    CHECK(priv[6] == "1");
    CHECK(priv[7] == "7=1024:2048");
    p["capabilities"] = {{"bounding", {"CAP_NOPE"}}};
    CHECK(!microvm::run_payload(p, "", microvm::StdinMode::none));
    p["capabilities"] = json::object();
    p["rlimits"] = {{{"type", "RLIMIT_NOPE"}}};
    CHECK(!microvm::run_payload(p, "", microvm::StdinMode::none));
    CHECK(!microvm::run_payload({{"args", json::array()}}, "", microvm::StdinMode::none));
    CHECK(!microvm::run_payload({{"args", {"a", 1}}}, "", microvm::StdinMode::none));
    CHECK(!microvm::run_payload({{"args", {std::string("a\0b", 3)}}}, "", microvm::StdinMode::none));
}

TEST_CASE("microvm VM size: memory limit and cpu quota from the spec, defaults otherwise") {
    json spec = {{"linux", {{"resources", {{"memory", {{"limit", int64_t{512} << 20}}}, {"cpu", {{"quota", 150000}, {"period", 100000}}}}}}}};
    auto size = microvm::vm_size(spec, {1024, 1});
    CHECK(size.memory_mib == 512);
    CHECK(size.cpus == 2);
    auto none = microvm::vm_size(json::object(), {1024, 1});
    CHECK(none.memory_mib == 1024);
    CHECK(none.cpus == 1);
    CHECK(microvm::vm_size({{"linux", {{"resources", {{"memory", {{"limit", 1 << 20}}}}}}}}, {1024, 1}).memory_mib == 128);  // a floor
}

TEST_CASE("microvm mount plan: volumes become shares, tmpfs stays in the guest, the guest's own mounts are skipped, a writable file is shared alone") {
    ScratchDir d;
    fs::create_directories(d.path() / "vol");
    REQUIRE(ctr::sys::write_file_atomic(d.path() / "file", "x"));
    json config = {{"mounts",
                    {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
                     {{"destination", "/etc/hosts"}, {"type", "bind"}, {"source", (d.path() / "file").string()}, {"options", {"rbind"}}},
                     {{"destination", "/scratch"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"nosuid", "size=65536k"}}},
                     {{"destination", "/data"}, {"type", "bind"}, {"source", (d.path() / "vol").string()}, {"options", {"rbind", "nodev"}}}}}};
    auto plan = microvm::plan_guest_mounts(config, d.path() / "vm");
    REQUIRE(plan);
    CHECK(plan->shares == std::vector<fs::path>{d.path() / "vol"});
    CHECK(strings(plan->payload) == std::vector<std::string>{"tmpfs", "tmpfs", "/scratch", "nosuid", "size=65536k", "virtiofs", "vol0", "/data", "nodev", ""});
    // A writable file is shared alone: a directory of ours holding only it,
    // bound (a mount: root only), gone with the plan.
    json file = {{"mounts", {{{"destination", "/x"}, {"type", "bind"}, {"source", (d.path() / "file").string()}, {"options", {"rbind"}}}}}};
    fs::create_directories(d.path() / "vm");
    if (geteuid() == 0) {
        auto lone = microvm::plan_guest_mounts(file, d.path() / "vm");
        REQUIRE(lone);
        CHECK(lone->shares == std::vector<fs::path>{d.path() / "vm/file0"});
        CHECK(strings(lone->payload) == std::vector<std::string>{"virtiofs-file", "vol0", "/x", "", ""});
        std::vector<std::string> entries;
        for (const auto& e : fs::directory_iterator(d.path() / "vm/file0")) entries.push_back(e.path().filename());
        CHECK(entries == std::vector<std::string>{"file"});
        { std::ofstream(d.path() / "vm/file0/file", std::ios::app) << "y"; }
        CHECK(ctr::sys::read_file(d.path() / "file").value() == "xy");  // writes reach the host's file
        lone->views.clear();
        CHECK(!fs::exists(d.path() / "vm/file0"));
        CHECK(ctr::sys::read_file(d.path() / "file").value() == "xy");
    }
    // Neither a directory nor a regular file: refused, naming it.
    REQUIRE(::mkfifo((d.path() / "fifo").c_str(), 0600) == 0);
    json fifo = {{"mounts", {{{"destination", "/x"}, {"type", "bind"}, {"source", (d.path() / "fifo").string()}, {"options", {"rbind"}}}}}};
    auto refused = microvm::plan_guest_mounts(fifo, d.path() / "vm");
    REQUIRE(!refused);
    CHECK(refused.error().message.find("shares directories and regular files only, and " + (d.path() / "fifo").string()) != std::string::npos);
}

TEST_CASE("microvm kernel store: a kernel becomes current only after its boot test; previous and rollback; digests checked") {
    ScratchDir d;
    microvm::KernelStore store(d.path() / "kernels");
    auto none = store.current();
    REQUIRE(!none);
    CHECK(none.error().message.find("kernel set --recommended") != std::string::npos);

    REQUIRE(ctr::sys::write_file_atomic(d.path() / "k1", "kernel one"));
    REQUIRE(ctr::sys::write_file_atomic(d.path() / "k2", "kernel two"));
    int boots = 0;
    auto pass = [&](const fs::path& dir) {
        ++boots;
        CHECK(fs::exists(dir / "vmlinuz"));
        return ctr::ok();
    };
    auto fail = [&](const fs::path&) { return ctr::make_error(CTR_E_INTERNAL, "no marker"); };
    auto one = store.install({microvm::KernelSource::binary, d.path() / "k1", ""}, pass);
    REQUIRE(one);
    CHECK(boots == 1);
    CHECK(ctr::sys::read_file(store.current().value() / "vmlinuz").value() == "kernel one");

    auto bad = store.install({microvm::KernelSource::binary, d.path() / "k2", ""}, fail);
    REQUIRE(!bad);
    CHECK(bad.error().message.find("did not boot, so it was not switched to: no marker") != std::string::npos);
    CHECK(ctr::sys::read_file(store.current().value() / "vmlinuz").value() == "kernel one");
    CHECK(store.list().value().size() == 1);  // nothing of the refused one stays

    REQUIRE(store.install({microvm::KernelSource::binary, d.path() / "k2", ""}, pass));
    CHECK(ctr::sys::read_file(store.current().value() / "vmlinuz").value() == "kernel two");
    auto list = store.list().value();
    REQUIRE(list.size() == 2);
    for (const auto& k : list) CHECK((k.value("current", false) || k.value("previous", false)));
    REQUIRE(store.rollback());
    CHECK(ctr::sys::read_file(store.current().value() / "vmlinuz").value() == "kernel one");
    REQUIRE(store.rollback());  // and back again
    CHECK(ctr::sys::read_file(store.current().value() / "vmlinuz").value() == "kernel two");

    // A tarball: the digest is checked before anything is read.
    auto tar = store.install({microvm::KernelSource::tar, d.path() / "k1", "sha256:" + std::string(64, '0')}, pass);
    REQUIRE(!tar);
    CHECK(tar.error().message.find("--digest") != std::string::npos);
    CHECK(!store.install({microvm::KernelSource::tar, d.path() / "k1", ""}, pass));
    CHECK(!store.install({microvm::KernelSource::package, d.path() / "k1", ""}, pass));  // not a .deb
    CHECK(!store.install({microvm::KernelSource::binary, d.path() / "missing", ""}, pass));
}
