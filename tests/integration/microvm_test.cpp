// runtime-microvm end to end: real QEMU (emulated on hosts without hardware
// virtualization, as this one), Debian's cloud kernel, our agent, virtiofsd,
// on throwaway roots. The kernel package comes from the Debian archive once
// (scripts/install-deps.sh caches it) and is installed per root with
// `system kernel set --package`.
#include "tests/support/guest_kernel.hpp"
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"
#include "tests/support/terminal.hpp"

#include <ctr/sys/files.hpp>
#include <ctr/sys/process.hpp>
#include <ctr/sys/spawn.hpp>

#include "tests/support/skip.hpp"
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

using ctr::test::DaemonRoot;
using ctr::test::ScratchDir;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

using ctr::test::have_qemu;
using ctr::test::kernel_package;

void set_kernel(const DaemonRoot& r) {
    auto set = r.cli({"system", "kernel", "set", "--package", kernel_package().string()});
    REQUIRE_MESSAGE(set.code == 0, set.err);
}

fs::path vms_dir(const DaemonRoot& r) { return r.path() / "var/lib/container/plugins/runtime-microvm/vms"; }

// QEMU's pid for a container: the QEMU process whose working directory is the VM's.
int qemu_pid(const DaemonRoot& r, const std::string& id) {
    std::error_code ec;
    fs::path want = vms_dir(r) / id;
    for (const auto& p : fs::directory_iterator("/proc", ec)) {
        std::string name = p.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        auto cwd = fs::read_symlink(p.path() / "cwd", ec);
        auto comm = ctr::sys::read_file(p.path() / "comm");
        if (!ec && cwd == want && comm && comm->rfind("qemu-system", 0) == 0) return std::stoi(name);
    }
    return 0;
}

// QEMU processes working in this root's VM directories.
int qemus_of(const DaemonRoot& r) {
    int n = 0;
    std::error_code ec;
    for (const auto& p : fs::directory_iterator("/proc", ec)) {
        auto cwd = fs::read_symlink(p.path() / "cwd", ec);
        if (!ec && cwd.string().rfind(vms_dir(r).string(), 0) == 0) ++n;
    }
    return n;
}

int64_t rss_kib(int pid) {
    auto status = ctr::sys::read_file("/proc/" + std::to_string(pid) + "/status");
    if (!status) return -1;
    auto at = status->find("VmRSS:");
    return at == std::string::npos ? -1 : std::stoll(status->substr(at + 6));
}

int count(const std::string& haystack, const std::string& needle) {
    int n = 0;
    for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
    return n;
}

bool wait_for(const std::function<bool()>& cond, int ms) {
    for (int i = 0; i < ms / 50; ++i) {
        if (cond()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return cond();
}

}  // namespace

TEST_CASE("microvm: run shows stdout and stderr apart, exits with the container's code, in a guest kernel of its own" * doctest::skip(ctr::test::not_root() || !have_qemu())) {
    DaemonRoot r;
    set_kernel(r);
    auto res = r.cli({"run", "--rm", "--runtime", "microvm", ctr::test::shared_busybox().image, "sh", "-c",
                      "echo out; echo err >&2; /bin/busybox uname -r; /bin/busybox hostname; exit 3"});
    CHECK(res.code == 3);
    CHECK(res.out.rfind("out\n", 0) == 0);
    CHECK(res.out.find("cloud-amd64\n") != std::string::npos);  // the guest's kernel, not the host's
    CHECK(res.err.find("err\n") != std::string::npos);
    // Without hardware virtualization: one line that says it emulates.
    auto info = ctr::sys::read_file("/proc/cpuinfo");
    std::string cpuinfo = info ? *info : std::string();
    if (cpuinfo.find(" vmx") == std::string::npos && cpuinfo.find(" svm") == std::string::npos)
        CHECK(count(res.err, "software emulation") == 1);
    // --memory and --cpus size the VM.
    auto sized = r.cli({"run", "--rm", "--runtime", "microvm", "--memory", "384m", "--cpus", "2", ctr::test::shared_busybox().image, "sh", "-c",
                        "/bin/busybox nproc; /bin/busybox awk '/MemTotal/ {print $2}' /proc/meminfo"});
    REQUIRE_MESSAGE(sized.code == 0, sized.err);
    CHECK(sized.out.rfind("2\n", 0) == 0);
    int64_t mem_kib = std::stoll(sized.out.substr(2));
    CHECK(mem_kib > 300 * 1024);
    CHECK(mem_kib <= 384 * 1024);
    // --rm leaves no VM, no QEMU, no record.
    CHECK(r.cli({"ls", "-a", "-q"}).out.empty());
    CHECK(wait_for([&] { return qemus_of(r) == 0; }, 5000));
    std::error_code ec;
    CHECK(fs::is_empty(vms_dir(r), ec));
}

TEST_CASE("microvm: run -d, logs, exec with its own exit code and stdin, 127 for a missing program, stop reaches the guest process" * doctest::skip(ctr::test::not_root() || !have_qemu())) {
    DaemonRoot r;
    set_kernel(r);
    auto run = r.cli({"run", "-d", "--name", "vm1", "--runtime", "microvm", ctr::test::shared_busybox().image, "sh", "-c",
                      "trap 'echo got TERM; exit 7' TERM; echo started; while true; do /bin/busybox sleep 0.1; done"});
    REQUIRE_MESSAGE(run.code == 0, run.err);
    CHECK(wait_for([&] { return r.cli({"logs", "vm1"}).out == "started\n"; }, 10000));
    auto ls = json::parse(r.cli({"ls", "--format", "json"}).out, nullptr, false);
    REQUIRE(ls.is_array());
    REQUIRE(ls.size() == 1);
    CHECK(ls[0].value("state", "") == "running");

    auto exec = r.cli({"exec", "vm1", "sh", "-c", "echo in the vm; echo oops >&2; exit 4"});
    CHECK(exec.code == 4);
    CHECK(exec.out == "in the vm\n");
    CHECK(exec.err.find("oops") != std::string::npos);
    auto piped = ctr::test::shell(r, "printf 'four' | $CTR exec -i vm1 /bin/busybox wc -c");
    CHECK(piped.code == 0);
    CHECK(piped.out == "4\n");
    auto missing = r.cli({"exec", "vm1", "no-such-program"});
    CHECK(missing.code == 127);
    CHECK(missing.err.find("no-such-program") != std::string::npos);

    // stats: the VM's memory as the host pays it.
    auto stats = json::parse(r.cli({"stats", "--no-stream", "--format", "json", "vm1"}).out, nullptr, false);
    REQUIRE(stats.is_array());
    CHECK(stats[0]["memory"].value("usage", int64_t{0}) > (int64_t{16} << 20));

    // cp both ways: the root is the host's overlay that the guest shares.
    ScratchDir files;
    REQUIRE(ctr::sys::write_file_atomic(files.path() / "in.txt", "from the host\n"));
    CHECK(r.cli({"cp", (files.path() / "in.txt").string(), "vm1:/tmp/in.txt"}).code == 0);
    CHECK(wait_for([&] { return r.cli({"exec", "vm1", "cat", "/tmp/in.txt"}).out == "from the host\n"; }, 5000));
    REQUIRE(r.cli({"exec", "vm1", "sh", "-c", "echo from the guest > /tmp/out.txt"}).code == 0);
    CHECK(r.cli({"cp", "vm1:/tmp/out.txt", (files.path() / "out.txt").string()}).code == 0);
    CHECK(ctr::sys::read_file(files.path() / "out.txt").value() == "from the guest\n");
    auto host_tmp = ctr::sys::read_file("/tmp/in.txt");
    CHECK_FALSE((host_tmp && *host_tmp == "from the host\n"));  // never the host's /tmp
    // top: the guest's processes, as its agent lists them through the
    // runtime's ABI (1.4); never QEMU or the host's others.
    auto top = json::parse(r.cli({"top", "--format", "json", "vm1"}).out, nullptr, false);
    REQUIRE(top.is_array());
    std::vector<std::string> commands;
    for (const auto& p : top) commands.push_back(p.value("command", ""));
    CHECK_MESSAGE(std::find_if(commands.begin(), commands.end(), [](const std::string& c) { return c.rfind("sh -c trap", 0) == 0; }) != commands.end(),
                  top.dump());
    for (const auto& c : commands) {
        CHECK(c.find("qemu-system") == std::string::npos);
        CHECK(c.find("container-apiserver") == std::string::npos);
        CHECK(c.find("container-vm-agent") == std::string::npos);  // the guest's init is ours, not the container's
    }

    auto stop = r.cli({"stop", "vm1"});
    CHECK(stop.code == 0);
    auto inspect = json::parse(r.cli({"inspect", "vm1"}).out, nullptr, false);
    REQUIRE(inspect.is_array());
    CHECK(inspect[0].value("exit_code", -1) == 7);  // the guest's process got SIGTERM and left its way
    CHECK(r.cli({"logs", "vm1"}).out == "started\ngot TERM\n");
    CHECK(wait_for([&] { return qemus_of(r) == 0; }, 5000));

    // kill: SIGKILL ends it at once.
    REQUIRE(r.cli({"start", "vm1"}).code == 0);
    CHECK(r.cli({"kill", "vm1"}).code == 0);
    CHECK(wait_for([&] { return json::parse(r.cli({"inspect", "vm1"}).out, nullptr, false)[0].value("state", "") == "stopped"; }, 10000));
    CHECK(json::parse(r.cli({"inspect", "vm1"}).out, nullptr, false)[0].value("exit_code", -1) == 137);
    CHECK(r.cli({"rm", "vm1"}).code == 0);
    CHECK(wait_for([&] { return qemus_of(r) == 0; }, 5000));
}

TEST_CASE("microvm: memory the guest frees goes back to the host within 20 s" * doctest::skip(ctr::test::not_root() || !have_qemu())) {
    DaemonRoot r;
    set_kernel(r);
    auto run = r.cli({"run", "-d", "--name", "mem", "--runtime", "microvm", "--memory", "1g", ctr::test::shared_busybox().image, "sh", "-c",
                      "/bin/busybox sleep 2; /bin/busybox dd if=/dev/zero of=/dev/null bs=512M count=1 2>/dev/null; echo freed; "
                      "/bin/busybox sleep 300"});
    REQUIRE_MESSAGE(run.code == 0, run.err);
    std::string id = json::parse(r.cli({"inspect", "mem"}).out)[0].value("id", "");
    int pid = 0;
    REQUIRE(wait_for([&] { return (pid = qemu_pid(r, id)) > 0; }, 10000));
    // The peak: RSS while the 512 MiB are held, and just after.
    int64_t peak = 0;
    REQUIRE(wait_for([&] {
        peak = std::max(peak, rss_kib(pid));
        return r.cli({"logs", "mem"}).out.find("freed") != std::string::npos;
    }, 60000));
    peak = std::max(peak, rss_kib(pid));
    auto freed_at = std::chrono::steady_clock::now();
    const int64_t target = 512 * 1024 * 8 / 10;  // 80% of what was freed, in KiB
    int64_t now = peak;
    bool returned = wait_for([&] {
        now = rss_kib(pid);
        return peak - now >= target;
    }, 20000);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - freed_at).count();
    MESSAGE("qemu rss: peak " << peak / 1024 << " MiB, " << now / 1024 << " MiB " << secs << " s after the free: "
            << (peak - now) * 100 / (512 * 1024) << "% of 512 MiB returned");
    CHECK(peak >= 512 * 1024);  // the guest really held it
    CHECK(returned);
    CHECK(r.cli({"rm", "-f", "mem"}).code == 0);
}

TEST_CASE("microvm: kernel set, ls, update and rollback with local packages; a kernel that does not boot is not switched to" * doctest::skip(ctr::test::not_root() || !have_qemu())) {
    DaemonRoot r;
    ScratchDir work;
    set_kernel(r);
    auto ls = json::parse(r.cli({"system", "kernel", "ls", "--format", "json"}).out, nullptr, false);
    REQUIRE(ls.is_array());
    REQUIRE(ls.size() == 1);
    CHECK(ls[0].value("current", false));
    const std::string first = ls[0].value("name", "");
    const std::string version = ls[0].value("version", "");

    // A newer package: the same kernel and modules under a higher version.
    fs::path kernel_dir = r.path() / "var/lib/container/plugins/runtime-microvm/kernels/current";
    fs::path pkg = work.path() / "pkg";
    fs::create_directories(pkg / "DEBIAN");
    fs::create_directories(pkg / "boot");
    fs::create_directories(pkg / "lib/modules/test/kernel");
    fs::copy_file(kernel_dir / "vmlinuz", pkg / "boot/vmlinuz-test");
    for (const auto& m : fs::directory_iterator(kernel_dir / "modules")) fs::copy_file(m.path(), pkg / "lib/modules/test/kernel" / m.path().filename());
    REQUIRE(ctr::sys::write_file_atomic(pkg / "DEBIAN/control", "Package: linux-image-test-cloud-amd64\nVersion: " + version +
                                                                       "+test1\nArchitecture: amd64\nMaintainer: tests <t@example.org>\nDescription: test kernel\n"));
    fs::create_directories(work.path() / "updates");
    fs::copy_file(kernel_package(), work.path() / "updates" / kernel_package().filename());
    auto built = ctr::sys::run_capture({ctr::sys::find_program("dpkg-deb"), "-Znone", "--root-owner-group", "-b", pkg.string(),
                                        (work.path() / "updates/linux-image-test-cloud-amd64.deb").string()}, 60000);
    REQUIRE(built);
    REQUIRE(built->status.success());

    auto update = r.cli({"system", "kernel", "update", "--from", (work.path() / "updates").string()});
    CHECK_MESSAGE(update.code == 0, update.err);
    CHECK(update.out.find("updated to linux-image-test-cloud-amd64") != std::string::npos);
    ls = json::parse(r.cli({"system", "kernel", "ls", "--format", "json"}).out, nullptr, false);
    REQUIRE(ls.size() == 2);
    for (const auto& k : ls) {
        if (k.value("name", "") == first) CHECK(k.value("previous", false));
        else CHECK(k.value("current", false));
    }
    CHECK(r.cli({"system", "kernel", "update", "--from", (work.path() / "updates").string()}).out.find("up to date") != std::string::npos);
    // The new kernel runs containers.
    CHECK(r.cli({"run", "--rm", "--runtime", "microvm", ctr::test::shared_busybox().image, "echo", "on the update"}).out == "on the update\n");

    auto back = r.cli({"system", "kernel", "rollback"});
    CHECK_MESSAGE(back.code == 0, back.err);
    ls = json::parse(r.cli({"system", "kernel", "ls", "--format", "json"}).out, nullptr, false);
    for (const auto& k : ls)
        if (k.value("name", "") == first) CHECK(k.value("current", false));

    // Not a kernel: it does not boot, so the current one stays.
    REQUIRE(ctr::sys::write_file_atomic(work.path() / "garbage", std::string(4096, 'x')));
    auto bad = r.cli({"system", "kernel", "set", "--binary", (work.path() / "garbage").string()});
    CHECK(bad.code == 125);
    CHECK(bad.err.find("did not boot, so it was not switched to") != std::string::npos);
    ls = json::parse(r.cli({"system", "kernel", "ls", "--format", "json"}).out, nullptr, false);
    CHECK(ls.size() == 2);
    for (const auto& k : ls)
        if (k.value("name", "") == first) CHECK(k.value("current", false));
    // A tarball whose digest is not the one given is refused before it is read.
    auto tar = r.cli({"system", "kernel", "set", "--tar", kernel_package().string(), "--digest", "sha256:" + std::string(64, '0')});
    CHECK(tar.code == 125);
    CHECK(tar.err.find("--digest") != std::string::npos);
    CHECK(r.cli({"system", "kernel", "set", "--package", (work.path() / "garbage").string()}).err.find("not a debian package") != std::string::npos);

    // The plugin's kernel_auto_update: the daemon runs its command's start
    // args (`kernel update`) when it starts, and finds the newer package.
    REQUIRE(r.cli({"system", "stop"}).code == 0);
    fs::create_directories(r.path() / "etc/container");
    REQUIRE(ctr::sys::write_file_atomic(r.path() / "etc/container/config.toml",
                                        "[plugins.runtime-microvm]\nkernel_auto_update = true\nkernel_update_from = \"" +
                                            (work.path() / "updates").string() + "\"\n"));
    REQUIRE(r.cli({"system", "start"}).code == 0);
    CHECK(wait_for([&] {
        auto now = json::parse(r.cli({"system", "kernel", "ls", "--format", "json"}).out, nullptr, false);
        for (const auto& k : now)
            if (k.value("current", false)) return k.value("name", "") != first;
        return false;
    }, 60000));
}

TEST_CASE("microvm: clear errors without a kernel and without QEMU; nothing left behind" * doctest::skip(ctr::test::not_root() || !have_qemu())) {
    DaemonRoot r;
    auto none = r.cli({"run", "--rm", "--runtime", "microvm", ctr::test::shared_busybox().image, "true"});
    CHECK(none.code == 125);
    CHECK(none.err.find("no guest kernel is set: run `container system kernel set --recommended`") != std::string::npos);
    CHECK(r.cli({"ls", "-a", "-q"}).out.empty());

    // An operator's setting that names a QEMU which is not there.
    set_kernel(r);
    REQUIRE(r.cli({"system", "stop"}).code == 0);
    fs::create_directories(r.path() / "etc/container");
    REQUIRE(ctr::sys::write_file_atomic(r.path() / "etc/container/config.toml",
                                        "[plugins.runtime-microvm]\nqemu = \"/nonexistent/qemu-system-x86_64\"\n"));
    auto no_qemu = r.cli({"run", "--rm", "--runtime", "microvm", ctr::test::shared_busybox().image, "true"});
    CHECK(no_qemu.code == 125);
    CHECK(no_qemu.err.find("qemu \"/nonexistent/qemu-system-x86_64\" not found") != std::string::npos);
    CHECK(r.cli({"ls", "-a", "-q"}).out.empty());
    std::error_code ec;
    CHECK((!fs::exists(vms_dir(r), ec) || fs::is_empty(vms_dir(r), ec)));
}

TEST_CASE("microvm: a VM container and a namespaced container on one network reach each other by name" * doctest::skip(ctr::test::not_root() || !have_qemu())) {
    DaemonRoot r;
    set_kernel(r);
    REQUIRE(r.cli({"network", "create", "mixed"}).code == 0);
    auto serve = [](const std::string& text) {
        return "mkdir -p /www && echo " + text + " > /www/index.html && exec /bin/busybox httpd -f -p 80 -h /www";
    };
    REQUIRE(r.cli({"run", "-d", "--name", "native", "--network", "mixed", ctr::test::shared_busybox().image, "sh", "-c", serve("from-native")}).code == 0);
    auto vm = r.cli({"run", "-d", "--name", "guest", "--network", "mixed", "--runtime", "microvm", ctr::test::shared_busybox().image, "sh", "-c", serve("from-guest")});
    REQUIRE_MESSAGE(vm.code == 0, vm.err);
    // The VM reaches the namespaced container by name (the network's DNS), with the address the network gave it.
    auto got = r.cli({"exec", "guest", "sh", "-c", "for i in 1 2 3 4 5; do /bin/busybox wget -q -O - http://native/ && exit 0; /bin/busybox sleep 1; done; exit 1"});
    CHECK_MESSAGE(got.out == "from-native\n", got.err);
    std::string guest_ip = json::parse(r.cli({"inspect", "guest"}).out)[0]["config"]["network_attachments"][0].value("ip", "");
    CHECK(r.cli({"exec", "guest", "/bin/busybox", "ip", "-4", "addr", "show", "eth0"}).out.find(guest_ip + "/") != std::string::npos);
    // And the other way round.
    bool answered = false;
    for (int i = 0; i < 10 && !answered; ++i) {
        auto back = r.cli({"exec", "native", "sh", "-c", "timeout 3 /bin/busybox wget -q -O - http://guest/"});
        answered = back.out == "from-guest\n";
        if (!answered) std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    CHECK(answered);
    CHECK(r.cli({"rm", "-f", "native", "guest"}).code == 0);
    CHECK(r.cli({"network", "rm", "mixed"}).code == 0);
    CHECK(wait_for([&] { return qemus_of(r) == 0; }, 5000));
}

TEST_CASE("microvm: run -it and exec -it give a terminal of our size that takes what we type" * doctest::skip(ctr::test::not_root() || !have_qemu())) {
    DaemonRoot r;
    set_kernel(r);
    REQUIRE(r.cli({"image", "pull", "--progress", "none", ctr::test::shared_busybox().image}).code == 0);
    using ctr::test::in_terminal;
    using ctr::test::without_cr;
    auto sized = in_terminal(r, "$CTR run --rm -t --runtime microvm " + ctr::test::shared_busybox().image +
                                    " sh -c '/bin/busybox tty; /bin/busybox stty size; echo TERM=$TERM; exit 3'");
    INFO(sized.err);
    CHECK(sized.code == 3);
    std::string out = without_cr(sized.out);
    CHECK(out.find("/dev/pts/0\n") != std::string::npos);
    CHECK(out.find("33 101\n") != std::string::npos);
    CHECK(out.find("TERM=xterm\n") != std::string::npos);
    auto typed = in_terminal(r, "$CTR run --rm -it --runtime microvm " + ctr::test::shared_busybox().image + " sh", "sleep 4; printf 'echo from-typing; exit 6\\n'; sleep 5");
    CHECK(typed.code == 6);
    CHECK(without_cr(typed.out).find("\nfrom-typing\n") != std::string::npos);

    REQUIRE(r.cli({"run", "-d", "--name", "box", "--runtime", "microvm", ctr::test::shared_busybox().image, "/bin/busybox", "sleep", "300"}).code == 0);
    auto exec_sized = in_terminal(r, "$CTR exec -t box sh -c '/bin/busybox stty size; exit 5'");
    CHECK(exec_sized.code == 5);
    CHECK(without_cr(exec_sized.out).find("33 101\n") != std::string::npos);
    auto exec_typed = in_terminal(r, "$CTR exec -it box sh", "sleep 1.5; printf 'echo typed-in; exit 8\\n'; sleep 4");
    CHECK(exec_typed.code == 8);
    CHECK(without_cr(exec_typed.out).find("\ntyped-in\n") != std::string::npos);
    // Ctrl-C goes through the guest's terminal to its process.
    auto interrupted = in_terminal(r, "$CTR exec -it box sh -c 'trap \"echo got-int; exit 7\" INT; /bin/busybox sleep 30 & wait'",
                                   "sleep 1.5; printf '\\003'; sleep 4");
    CHECK(interrupted.code == 7);
    CHECK(interrupted.out.find("got-int") != std::string::npos);
    CHECK(r.cli({"rm", "-f", "box"}).code == 0);
}

TEST_CASE("microvm: runtime-microvm passes the runtime conformance suite" * doctest::skip(ctr::test::not_root() || !have_qemu())) {
    DaemonRoot r;
    set_kernel(r);
    // The suite gives each rule a fresh state dir: the kernels come from this root's.
    json settings = {{"runtime-microvm", {{"kernels_dir", (r.path() / "var/lib/container/plugins/runtime-microvm/kernels").string()}}}};
    auto res = ctr::test::run("plugin-sdk/conformance/container-plugin-conformance",
                              {"--plugin", ctr::test::env_or_empty("CTR_MICROVM_PLUGIN"), "--timeout", "120"},
                              {"CONTAINER_PLUGIN_SETTINGS=" + settings.dump()}, 900000);
    INFO(res.out);
    INFO(res.err);
    CHECK(res.code == 0);
    CHECK(res.out.find(" passed, 0 failed\n") != std::string::npos);
    CHECK(res.out.find("FAIL") == std::string::npos);
}

TEST_CASE("microvm: volumes are shared both ways, a read-only one stays read-only even to root in the guest, tmpfs mounts are made, files are shared alone" * doctest::skip(ctr::test::not_root() || !have_qemu())) {
    DaemonRoot r;
    ScratchDir dirs;
    set_kernel(r);
    fs::create_directories(dirs.path() / "rw");
    fs::create_directories(dirs.path() / "ro");
    REQUIRE(ctr::sys::write_file_atomic(dirs.path() / "rw/in.txt", "host rw\n"));
    REQUIRE(ctr::sys::write_file_atomic(dirs.path() / "ro/in.txt", "host ro\n"));
    auto res = r.cli({"run", "--rm", "--runtime", "microvm", "-v", (dirs.path() / "rw").string() + ":/data", "-v",
                      (dirs.path() / "ro").string() + ":/ro:ro", "-v", "keep:/named", "--tmpfs", "/scratch", ctr::test::shared_busybox().image, "sh", "-c",
                      "cat /data/in.txt /ro/in.txt; echo guest > /data/out.txt; echo named > /named/n.txt; "
                      "/bin/busybox mount -o remount,rw /ro; echo x > /ro/x 2>/dev/null && echo WROTE-RO; "
                      "/bin/busybox grep ' /scratch tmpfs' /proc/mounts >/dev/null && echo tmpfs-ok"});
    INFO(res.err);
    CHECK(res.code == 0);
    CHECK(res.out == "host rw\nhost ro\ntmpfs-ok\n");
    CHECK(ctr::sys::read_file(dirs.path() / "rw/out.txt").value() == "guest\n");
    CHECK(!fs::exists(dirs.path() / "ro/x"));
    CHECK(ctr::sys::read_file(r.path() / "var/lib/container/volumes/keep/_data/n.txt").value() == "named\n");
    // The next VM sees what the last one left in the named volume.
    CHECK(r.cli({"run", "--rm", "--runtime", "microvm", "-v", "keep:/named", ctr::test::shared_busybox().image, "cat", "/named/n.txt"}).out == "named\n");
    // A read-only file is sent into the VM (so --init works).
    auto init = r.cli({"run", "--rm", "--runtime", "microvm", "--init", "-v", (dirs.path() / "rw/in.txt").string() + ":/etc/app.conf:ro",
                       ctr::test::shared_busybox().image, "sh", "-c", "cat /etc/app.conf; cat /proc/1/cmdline | /bin/busybox tr '\\0' ' '; echo; echo x > /etc/app.conf || echo refused"});
    INFO(init.err);
    CHECK(init.out.rfind("host rw\n/sbin/container-init -- sh", 0) == 0);
    CHECK(init.out.find("\nrefused\n") != std::string::npos);
    // A writable file is shared alone: written through, and none of its
    // siblings (out.txt) in sight. A large read-only one is shared alone too,
    // read-only even after a remount.
    {
        std::ofstream big(dirs.path() / "ro/big.bin", std::ios::binary);
        big.seekp((17 << 20) - 1);
        big.put('\0');
    }
    auto file = r.cli({"run", "--rm", "--runtime", "microvm", "-v", (dirs.path() / "rw/in.txt").string() + ":/etc/app.conf", "-v",
                       (dirs.path() / "ro/big.bin").string() + ":/big.bin:ro", ctr::test::shared_busybox().image, "sh", "-c",
                       "cat /etc/app.conf; echo appended >> /etc/app.conf; /bin/busybox ls -A /run/.container-files/vol0; "
                       "/bin/busybox wc -c < /big.bin; /bin/busybox mount -o remount,rw /big.bin; echo x >> /big.bin 2>/dev/null || echo big-ro"});
    INFO(file.err);
    CHECK(file.code == 0);
    CHECK(file.out == "host rw\nfile\n17825792\nbig-ro\n");
    CHECK(ctr::sys::read_file(dirs.path() / "rw/in.txt").value() == "host rw\nappended\n");
    CHECK(fs::file_size(dirs.path() / "ro/big.bin") == (17u << 20));
    CHECK(r.cli({"ls", "-a", "-q"}).out.empty());
    CHECK(ScratchDir::mounts_below(r.path()).empty());
}

TEST_CASE("microvm: a VM container outlives a daemon killed with -9; a shim killed outright takes its VM along and leaves nothing" * doctest::skip(ctr::test::not_root() || !have_qemu())) {
    DaemonRoot r;
    set_kernel(r);
    auto run = r.cli({"run", "-d", "--name", "lasting", "--runtime", "microvm", ctr::test::shared_busybox().image, "sh", "-c",
                      "echo up; while true; do /bin/busybox sleep 0.2; done"});
    REQUIRE_MESSAGE(run.code == 0, run.err);
    std::string id = run.out.substr(0, run.out.find('\n'));
    r.kill9();
    auto after = r.cli({"exec", "lasting", "echo", "still here"});  // a new daemon, the same VM
    CHECK_MESSAGE(after.out == "still here\n", after.err << "daemon log:\n" << r.daemon_log());
    CHECK(json::parse(r.cli({"inspect", "lasting"}).out)[0].value("state", "") == "running");

    auto shim = ctr::sys::read_file(r.path() / "var/lib/container/containers" / id / "shim.pid");
    REQUIRE(shim);
    REQUIRE(::kill(std::stoi(*shim), SIGKILL) == 0);
    CHECK(wait_for([&] { return json::parse(r.cli({"inspect", "lasting"}).out)[0].value("state", "") == "stopped"; }, 10000));
    // The guest saw its channel close and powered off; the finishing shim removed the rest.
    CHECK(wait_for([&] { return qemus_of(r) == 0; }, 10000));
    CHECK(wait_for([&] { return !fs::exists(vms_dir(r) / id); }, 10000));
    CHECK(r.cli({"rm", "lasting"}).code == 0);
}

TEST_CASE("microvm: kill -9 of QEMU under a VM container: the exit is recorded, exec says it is not running, rm leaves nothing" * doctest::skip(ctr::test::not_root() || !have_qemu())) {
    DaemonRoot r;
    set_kernel(r);
    auto run = r.cli({"run", "-d", "--name", "vm", "--runtime", "microvm", ctr::test::shared_busybox().image, "sleep", "600"});
    REQUIRE_MESSAGE(run.code == 0, run.err);
    std::string id = run.out.substr(0, run.out.find('\n'));
    int qemu = qemu_pid(r, id);
    REQUIRE(qemu > 0);
    REQUIRE(::kill(qemu, SIGKILL) == 0);
    auto state = [&] { return json::parse(r.cli({"inspect", "vm"}).out)[0]; };
    CHECK_MESSAGE(wait_for([&] { return state().value("state", "") == "stopped"; }, 20000), r.daemon_log());
    auto c = state();
    CHECK(c["exit_code"].is_number_integer());
    CHECK(c.value("exit_code", 0) != 0);  // not a clean exit of its command
    auto exec = r.cli({"exec", "vm", "true"});
    CHECK(exec.code != 0);
    CHECK_MESSAGE(exec.err.find("not running") != std::string::npos, exec.err);
    // The shim saw QEMU go and removed the rest: virtiofsd, the VM's folder.
    CHECK(wait_for([&] { return qemus_of(r) == 0; }, 10000));
    CHECK(wait_for([&] { return !fs::exists(vms_dir(r) / id); }, 10000));
    CHECK(r.cli({"rm", "vm"}).code == 0);
    // And a new VM container starts at once.
    auto again = r.cli({"run", "--rm", "--runtime", "microvm", ctr::test::shared_busybox().image, "echo", "fresh"});
    CHECK_MESSAGE(again.out == "fresh\n", again.err);
}

TEST_CASE("microvm: run applies the flags: env, workdir, user, hostname, entrypoint, a read-only root" * doctest::skip(ctr::test::not_root() || !have_qemu())) {
    DaemonRoot r;
    set_kernel(r);
    auto res = r.cli({"run", "--rm", "--runtime", "microvm", "-e", "GREETING=hi", "-w", "/tmp", "-u", "1000:50", "--hostname", "box",
                      ctr::test::shared_busybox().image, "sh", "-c", "echo $GREETING; pwd; /bin/busybox id -u; /bin/busybox id -g; /bin/busybox hostname; echo $$"});
    INFO(res.err);
    CHECK(res.out == "hi\n/tmp\n1000\n50\nbox\n1\n");  // and PID 1 of its own namespace
    CHECK(r.cli({"run", "--rm", "--runtime", "microvm", "--entrypoint", "echo", ctr::test::shared_busybox().image, "from", "entrypoint"}).out == "from entrypoint\n");
    // The spec's privileges hold in the guest too: Docker's default capabilities, none inheritable or ambient, no new privileges.
    auto status = r.cli({"run", "--rm", "--runtime", "microvm", ctr::test::shared_busybox().image, "cat", "/proc/self/status"});
    CHECK(status.out.find("CapBnd:\t00000000a80425fb") != std::string::npos);
    CHECK(status.out.find("CapEff:\t00000000a80425fb") != std::string::npos);
    CHECK(status.out.find("CapInh:\t0000000000000000") != std::string::npos);
    CHECK(status.out.find("CapAmb:\t0000000000000000") != std::string::npos);
    CHECK(status.out.find("NoNewPrivs:\t1") != std::string::npos);
    auto added = r.cli({"run", "--rm", "--runtime", "microvm", "--cap-drop", "ALL", "--cap-add", "NET_ADMIN", ctr::test::shared_busybox().image, "cat", "/proc/self/status"});
    CHECK(added.out.find("CapBnd:\t0000000000001000") != std::string::npos);
    // --read-only holds for root in the guest, even after a remount; --init's
    // file finds a file to be bound onto in the read-only root.
    auto ro = r.cli({"run", "--rm", "--runtime", "microvm", "--read-only", "--init", "--tmpfs", "/scratch", ctr::test::shared_busybox().image, "sh", "-c",
                     "/bin/busybox mount -o remount,rw /; echo x > /x 2>/dev/null && echo WROTE; echo y > /scratch/y && echo scratch-ok; "
                     "/bin/busybox head -c 20 /proc/1/cmdline | /bin/busybox tr '\\0' ' '; echo"});
    INFO(ro.err);
    CHECK(ro.out == "scratch-ok\n/sbin/container-init\n");
}

TEST_CASE("microvm: stats shows the VM's own memory limit and network; --shm-size reaches the guest, and past its memory is refused" * doctest::skip(ctr::test::not_root() || !have_qemu())) {
    DaemonRoot r;
    set_kernel(r);
    REQUIRE(r.cli({"run", "-d", "--name", "vm", "--runtime", "microvm", "-m", "256m", "--shm-size", "100m", ctr::test::shared_busybox().image, "sleep", "600"}).code == 0);
    auto stats = json::parse(r.cli({"stats", "--no-stream", "--format", "json", "vm"}).out)[0];
    INFO(stats.dump());
    CHECK(stats["memory"]["limit"] == int64_t{256} << 20);
    CHECK(stats["memory"]["usage"].get<int64_t>() > 0);
    // Its own interfaces' counters: not the host's totals.
    int64_t host_rx = 0;
    std::ifstream dev("/proc/net/dev");
    for (std::string line; std::getline(dev, line);)
        if (auto colon = line.find(':'); colon != std::string::npos) {
            int64_t rx = 0;
            std::istringstream(line.substr(colon + 1)) >> rx;
            host_rx += rx;
        }
    CHECK(stats["net"]["rx_bytes"].get<int64_t>() < host_rx);
    auto shm = r.cli({"exec", "vm", "/bin/busybox", "grep", " /dev/shm ", "/proc/mounts"});
    CHECK(shm.out.find("size=102400k") != std::string::npos);
    CHECK(shm.out.find("noexec") != std::string::npos);
    auto too_big = r.cli({"run", "--rm", "--runtime", "microvm", "-m", "256m", "--shm-size", "300m", ctr::test::shared_busybox().image, "true"});
    CHECK(too_big.code == 125);
    CHECK(too_big.err.find("--shm-size 300 MiB is more than the VM's memory (256 MiB)") != std::string::npos);
    CHECK(r.cli({"rm", "-f", "vm"}).code == 0);
    CHECK(wait_for([&] { return qemus_of(r) == 0; }, 5000));
}

TEST_CASE("microvm: pause stops the whole VM and unpause lets it go on; update is refused, naming why" * doctest::skip(ctr::test::not_root() || !have_qemu())) {
    DaemonRoot r;
    set_kernel(r);
    REQUIRE(r.cli({"run", "-d", "--name", "vm", "--runtime", "microvm", ctr::test::shared_busybox().image, "sleep", "600"}).code == 0);
    const std::string id = r.cli({"inspect", "-f", "{{.Id}}", "vm"}).out.substr(0, 64);
    const int qemu = qemu_pid(r, id);
    REQUIRE(qemu > 0);
    auto state = [&] {
        auto stat = ctr::sys::read_file("/proc/" + std::to_string(qemu) + "/stat");
        return stat ? (*stat)[stat->rfind(')') + 2] : '?';
    };
    auto paused = r.cli({"pause", "vm"});
    CHECK_MESSAGE(paused.code == 0, paused.err);
    CHECK(wait_for([&] { return state() == 'T'; }, 2000));
    CHECK(r.cli({"inspect", "-f", "{{.State.Status}}", "vm"}).out == "paused\n");
    CHECK(r.cli({"unpause", "vm"}).code == 0);
    CHECK(wait_for([&] { return state() != 'T'; }, 2000));
    CHECK(r.cli({"exec", "vm", "/bin/busybox", "true"}).code == 0);  // the guest goes on
    auto update = r.cli({"update", "-m", "512m", "vm"});
    CHECK(update.code == 125);
    CHECK(update.err.find("its memory and CPUs are set when it boots") != std::string::npos);
    CHECK(r.cli({"rm", "-f", "vm"}).code == 0);
    CHECK(wait_for([&] { return qemus_of(r) == 0; }, 5000));
}

TEST_CASE("microvm: build --runtime microvm runs the RUN steps in a VM; their writes become the layer" * doctest::skip(ctr::test::not_root() || !have_qemu())) {
    DaemonRoot r;
    set_kernel(r);
    ScratchDir ctx;
    std::ofstream(ctx.path() / "Dockerfile") << "FROM " << ctr::test::shared_busybox().image << "\nRUN /bin/busybox uname -r > /kernel.txt && echo in-a-vm > /made.txt\n";
    auto built = r.cli({"build", "--runtime", "microvm", "-t", "vm-built:1", ctx.path().string()});
    REQUIRE_MESSAGE(built.code == 0, built.err);
    auto ran = r.cli({"run", "--rm", "vm-built:1", "cat", "/kernel.txt", "/made.txt"});
    CHECK(ran.out.find("cloud-amd64\nin-a-vm\n") != std::string::npos);  // the guest's kernel wrote it
    CHECK(r.cli({"ps", "-a", "-q"}).out.empty());
}
