// Engines that drive runc, driving container-oci instead: podman (Debian's)
// with --runtime set to it, and containerd (Debian's) with ctr's
// --runc-binary, each on a private store, state and socket, all removed
// after.
#include "tests/support/guest_kernel.hpp"
#include "tests/support/netns_link.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"
#include "tests/support/skip.hpp"
#include <ctr/sys/child.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/process.hpp>
#include <ctr/sys/spawn.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <future>
#include <thread>

using ctr::test::DaemonRoot;
using ctr::test::ScratchDir;
namespace fs = std::filesystem;

namespace {

// The cgroup parent of the test's podman containers and of their conmons
// (podman puts those in PARENT/conmon): the test's own, removed when the
// object goes, so that nothing is left in podman's default /libpod_parent.
// Pods (kube play's) take no parent of ours: their /libpod_parent, when the
// test made it, goes too (only if empty: another podman may use it).
struct PodmanCgroups {
    const std::string parent = "ctrtest-podman-" + std::to_string(::getpid());
    const bool podman_parent_was_there = fs::exists("/sys/fs/cgroup/memory/libpod_parent") || fs::exists("/sys/fs/cgroup/libpod_parent");
    PodmanCgroups() = default;
    PodmanCgroups(const PodmanCgroups&) = delete;
    PodmanCgroups& operator=(const PodmanCgroups&) = delete;
    ~PodmanCgroups() {
        std::error_code ec;
        for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec)) {
            if (h.is_symlink(ec)) continue;
            if (!podman_parent_was_there) ::rmdir((h.path() / "libpod_parent").c_str());
            const fs::path top = h.path() / parent;
            if (!fs::is_directory(top, ec)) continue;
            std::vector<fs::path> dirs;
            for (const auto& e : fs::recursive_directory_iterator(top, ec))
                if (e.is_directory(ec)) dirs.push_back(e.path());
            for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) ::rmdir(it->c_str());  // the deepest first
            ::rmdir(top.c_str());
        }
    }
};

struct Podman {
    fs::path dir;
    std::string runtime;
    std::string cgroup_parent;  // PodmanCgroups::parent
    ctr::test::Run operator()(std::vector<std::string> args) const {
        std::vector<std::string> argv = {ctr::sys::find_program("podman"), "--root", (dir / "graph").string(), "--runroot", (dir / "run").string(),
                                         "--tmpdir", (dir / "tmp").string(), "--cgroup-manager", "cgroupfs", "--events-backend", "file",
                                         "--runtime", runtime};
        if (!args.empty() && args[0] == "run") args.insert(args.begin() + 1, {"--cgroup-parent", "/" + cgroup_parent});
        argv.insert(argv.end(), args.begin(), args.end());
        ctr::sys::RunOptions o;
        o.timeout_ms = 120000;
        o.capture_stderr = true;
        o.env = {"CONTAINERS_CONF=" + (dir / "containers.conf").string(), "CONTAINERS_STORAGE_CONF=" + (dir / "storage.conf").string()};
        auto r = ctr::sys::run_capture(argv, o);
        REQUIRE(r);
        return {r->status.signal ? 128 + r->status.signal : r->status.code, r->out, r->err};
    }
};

// podman's settings for the test: its own store, network configs and
// runtime root; rlimits this machine's root can set (it lacks
// CAP_SYS_RESOURCE above its hard limits, which podman's defaults exceed).
Podman make_podman(const fs::path& dir, const PodmanCgroups& cgroups) {
    fs::create_directories(dir / "cni");
    std::ofstream(dir / "containers.conf") << "[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n"
                                           << "[network]\nnetwork_config_dir = \"" << (dir / "cni").string() << "\"\n"
                                           << "[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n";
    std::ofstream(dir / "storage.conf") << "[storage]\ndriver = \"overlay\"\nrunroot = \"" << (dir / "run").string() << "\"\ngraphroot = \""
                                        << (dir / "graph").string() << "\"\n";
    // The runtime podman runs: container-oci with a --root of the test's.
    // podman passes no --root of its own, and its cleanup after an exit
    // (conmon's exit command) passes no runtime flags, so the root goes in
    // the program, as an operator's wrapper would put it.
    const fs::path wrapper = dir / "container-oci";
    std::ofstream(wrapper) << "#!/bin/sh\nexec '" << (ctr::test::build_root() / "host/container-oci").string() << "' --root '"
                           << (dir / "oci-root").string() << "' \"$@\"\n";
    fs::permissions(wrapper, fs::perms::owner_all);
    return {dir, wrapper.string(), cgroups.parent};
}

// A busybox image, imported from a root made of Debian's static busybox.
void import_busybox(const Podman& podman, const fs::path& dir) {
    fs::create_directories(dir / "rootfs/bin");
    fs::copy_file("/bin/busybox", dir / "rootfs/bin/busybox");
    for (const char* applet : {"sh", "echo", "sleep", "cat", "true"}) fs::create_symlink("busybox", dir / "rootfs/bin" / applet);
    auto tar = ctr::sys::run_capture({ctr::sys::find_program("tar"), "-C", (dir / "rootfs").string(), "-cf", (dir / "rootfs.tar").string(), "."}, 30000);
    REQUIRE((tar && tar->status.success()));
    auto imported = podman({"import", (dir / "rootfs.tar").string(), "localhost/ctr-busybox:1"});
    REQUIRE_MESSAGE(imported.code == 0, imported.err);
}

}  // namespace

namespace {

// podman's life of a container through container-oci, the same for every
// runtime plugin: a foreground run's output and exit code, a detached one,
// exec with and without a terminal, logs, pause, stop, rm; then nothing of
// container-oci's is left (`plugin_state`: the plugin's folder under the root).
void podman_flow(const Podman& podman, const fs::path& oci_root, const fs::path& plugin_state,
                 const std::function<void(const std::string& name)>& while_running = {}) {
    const std::string image = "localhost/ctr-busybox:1";
    auto fg = podman({"run", "--rm", "--network", "none", image, "sh", "-c", "echo hello; exit 3"});
    CHECK_MESSAGE(fg.code == 3, fg.err);
    CHECK(fg.out == "hello\n");
    // The container's own terminal: a pty master on podman's console socket.
    auto on_tty = podman({"run", "--rm", "-t", "--network", "none", image, "echo", "a terminal"});
    CHECK_MESSAGE(on_tty.code == 0, on_tty.err);
    CHECK(on_tty.out == "a terminal\r\n");
    auto bg = podman({"run", "-d", "--name", "p1", "--network", "none", image, "sh", "-c", "echo started; sleep 60"});
    REQUIRE_MESSAGE(bg.code == 0, bg.err);
    if (while_running) while_running("p1");
    auto ex = podman({"exec", "p1", "echo", "in it"});
    CHECK_MESSAGE(ex.code == 0, ex.err);
    CHECK(ex.out == "in it\n");
    CHECK(podman({"exec", "p1", "sh", "-c", "exit 5"}).code == 5);
    auto tty = podman({"exec", "-t", "p1", "echo", "on a tty"});
    CHECK_MESSAGE(tty.code == 0, tty.err);
    CHECK(tty.out == "on a tty\r\n");
    CHECK(podman({"logs", "p1"}).out == "started\n");
    CHECK(podman({"pause", "p1"}).code == 0);
    CHECK(podman({"inspect", "-f", "{{.State.Status}}", "p1"}).out == "paused\n");
    CHECK(podman({"unpause", "p1"}).code == 0);
    CHECK(podman({"inspect", "-f", "{{.State.Status}}", "p1"}).out == "running\n");
    CHECK(podman({"stop", "-t", "1", "p1"}).code == 0);
    CHECK(podman({"inspect", "-f", "{{.State.Status}}", "p1"}).out == "exited\n");
    CHECK(podman({"rm", "p1"}).code == 0);
    CHECK(podman({"ps", "-a", "-q"}).out.empty());
    CHECK(podman({"rmi", "-a", "-f"}).code == 0);

    // Nothing of container-oci's is left: no container it knows of, no
    // state of the plugin's for one.
    CHECK(fs::exists(oci_root / "containers"));
    auto list = ctr::test::run("host/container-oci", {"--root", oci_root.string(), "list", "-q"});
    CHECK(list.code == 0);
    CHECK(list.out.empty());
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(plugin_state, ec)) CHECK_MESSAGE(false, "plugin state left: " << e.path().string());
}

}  // namespace

TEST_CASE("podman runs containers through container-oci: run, -d, exec with and without -t, logs, pause, stop, rm; nothing left" * CTR_NEEDS_ROOT) {
    REQUIRE_FALSE(ctr::sys::find_program("podman").empty());
    ScratchDir d;
    const PodmanCgroups cgroups;
    const Podman podman = make_podman(d.path(), cgroups);
    import_busybox(podman, d.path());
    podman_flow(podman, d.path() / "oci-root", d.path() / "oci-root/var/lib/container/plugins/runtime-linux/oci/crun");
}

TEST_CASE("podman runs VM containers through container-oci-microvm: each container's monitor is its pid, exits with its status; nothing left" *
          doctest::skip(ctr::test::not_root() || !ctr::test::have_qemu())) {
    REQUIRE_FALSE(ctr::sys::find_program("podman").empty());
    ScratchDir d;
    const PodmanCgroups cgroups;
    Podman podman = make_podman(d.path(), cgroups);
    const fs::path oci_root = d.path() / "oci-root";
    // The guest kernel, where runtime-microvm looks under this root.
    auto kernel = ctr::test::run("host/container", {"--root", oci_root.string(), "system", "kernel", "set", "--package", ctr::test::kernel_package().string()});
    REQUIRE_MESSAGE(kernel.code == 0, kernel.err);
    // The plugin chosen by the program's name, as an operator's link does.
    const fs::path link = d.path() / "bin/container-oci-microvm", wrapper = d.path() / "container-oci-microvm";
    fs::create_directories(link.parent_path());
    fs::create_symlink(ctr::test::build_root() / "host/container-oci", link);
    std::ofstream(wrapper) << "#!/bin/sh\nexec '" << link.string() << "' --root '" << oci_root.string() << "' \"$@\"\n";
    fs::permissions(wrapper, fs::perms::owner_all);
    podman.runtime = wrapper.string();
    import_busybox(podman, d.path());
    podman_flow(podman, oci_root, oci_root / "var/lib/container/plugins/runtime-microvm/vms", [&](const std::string& name) {
        // The container's pid, to podman, is its monitor: a container-oci
        // process, which podman's conmon now parents.
        const std::string pid = podman({"inspect", "-f", "{{.State.Pid}}", name}).out;
        auto cmdline = ctr::test::file_text("/proc/" + pid.substr(0, pid.find('\n')) + "/cmdline");
        CHECK(cmdline.find(std::string("monitor") + '\0') != std::string::npos);
        // ... in the container's cgroup (the spec's cgroupsPath, named for
        // its id), with QEMU, as runc's init is in it.
        const std::string id = podman({"inspect", "-f", "{{.Id}}", name}).out;
        auto membership = ctr::test::file_text("/proc/" + pid.substr(0, pid.find('\n')) + "/cgroup");
        CHECK_MESSAGE(membership.find(id.substr(0, id.find('\n'))) != std::string::npos, membership);
        // A container on the network namespace the engine hands over (here
        // one of the test's, with a veth to the host): the VM's NIC has the
        // namespace's address and reaches the host's end of the veth.
        ctr::test::NetnsLink veth;
        auto listener = ctr::test::hold_port(veth.outside());
        auto vm = std::async(std::launch::async, [&] {
            return podman({"run", "--rm", "--network", "ns:" + veth.path(), "localhost/ctr-busybox:1", "sh", "-c",
                           "busybox ip -4 addr show eth0 | busybox grep -o 'inet [0-9./]*'; echo from the vm | busybox nc " +
                               veth.outside() + " " + std::to_string(listener.port)});
        });
        CHECK(ctr::test::accept_line(listener, 120000) == "from the vm");
        listener.fd.reset();
        auto ran = vm.get();
        CHECK_MESSAGE(ran.code == 0, ran.err);
        CHECK(ran.out == "inet " + veth.inside() + "/30\n");
    });
    // runc's own default spec (`spec`: ambient capabilities without an
    // inheritable set) runs in a VM as under runc.
    const fs::path bundle = d.path() / "bundle";
    fs::create_directories(bundle / "rootfs/bin");
    fs::copy_file("/bin/busybox", bundle / "rootfs/bin/busybox");
    fs::create_symlink("busybox", bundle / "rootfs/bin/sh");
    REQUIRE(ctr::test::run("host/container-oci", {"spec", "--bundle", bundle.string()}).code == 0);
    auto spec = nlohmann::json::parse(ctr::test::file_text(bundle / "config.json"));
    spec["process"]["terminal"] = false;
    spec["process"]["args"] = {"sh", "-c", "echo from the runc spec; exit 4"};
    REQUIRE(ctr::sys::write_file_atomic(bundle / "config.json", spec.dump()));
    auto plain = ctr::test::run("host/container-oci", {"--root", oci_root.string(), "--plugin", "runtime-microvm", "run", "--bundle", bundle.string(), "plain"});
    CHECK_MESSAGE(plain.code == 4, plain.err);
    CHECK(plain.out == "from the runc spec\n");
    // No monitor is left either.
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(oci_root / "monitors", ec)) CHECK_MESSAGE(false, "monitor socket left: " << e.path().string());
}

namespace {

// containerd on a socket, root and state of the test's (its "opt" plugin's
// folder too), stopped when the object goes. Without its CRI plugin unless
// `cri` has that plugin's settings: then what a Kubernetes node runs.
struct Containerd {
    fs::path dir;
    ctr::sys::Child daemon;
    // The parent of the containers' cgroups (/PARENT/ID), removed after:
    // ctr's namespace, or the parent the CRI's pods name.
    const std::string cgroup_parent = "ctrtest-" + std::to_string(::getpid());
    // ctr's namespace: the test's own (declared after cgroup_parent, which
    // it copies), or the CRI's.
    const std::string ns;
    explicit Containerd(const fs::path& d, const std::string& cri = "") : dir(d), ns(cri.empty() ? cgroup_parent : "k8s.io") {
        std::ofstream(dir / "config.toml") << "version = 2\nroot = \"" << (dir / "root").string() << "\"\nstate = \"" << (dir / "state").string() << "\"\n"
                                           << (cri.empty() ? "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n" : "") << "[grpc]\n  address = \""
                                           << (dir / "sock").string() << "\"\n[ttrpc]\n  address = \"" << (dir / "sock.ttrpc").string() << "\"\n"
                                           << "[plugins.\"io.containerd.internal.v1.opt\"]\n  path = \"" << (dir / "opt").string() << "\"\n"
                                           << cri;
        auto started = ctr::sys::Child::spawn({ctr::sys::find_program("containerd"), "--config", (dir / "config.toml").string()}, (dir / "log").string());
        REQUIRE_MESSAGE(started, (started ? "" : started.error().message));
        daemon = std::move(*started);
        for (int i = 0; i < 250 && (*this)({"version"}).code != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ~Containerd() {
        daemon.stop(5000);
        for (const auto& dir_left : cgroups_left()) ::rmdir(dir_left.c_str());
    }
    // The namespace's cgroup parent, in each hierarchy that has it.
    std::vector<fs::path> cgroups_left() const {
        std::vector<fs::path> out;
        std::error_code ec;
        for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec))
            if (fs::is_directory(h.path() / cgroup_parent, ec)) out.push_back(h.path() / cgroup_parent);
        if (fs::is_directory(fs::path("/sys/fs/cgroup") / cgroup_parent, ec)) out.push_back(fs::path("/sys/fs/cgroup") / cgroup_parent);
        return out;
    }
    ctr::test::Run operator()(const std::vector<std::string>& args) const {
        std::vector<std::string> argv = {ctr::sys::find_program("ctr"), "--address", (dir / "sock").string(), "-n", ns};
        argv.insert(argv.end(), args.begin(), args.end());
        ctr::sys::RunOptions o;
        o.timeout_ms = 120000;
        o.capture_stderr = true;
        auto r = ctr::sys::run_capture(argv, o);
        REQUIRE(r);
        return {r->status.signal ? 128 + r->status.signal : r->status.code, r->out, r->err};
    }
};

}  // namespace

TEST_CASE("podman kube play (the reference consumer) loads what kube generate writes: its pods, containers, env from the ConfigMap and the claim" *
          CTR_NEEDS_ROOT) {
    REQUIRE_FALSE(ctr::sys::find_program("podman").empty());
    ScratchDir d;
    const PodmanCgroups cgroups;
    const Podman podman = make_podman(d.path(), cgroups);
    // The pods' infra containers come from our image (no pause image here);
    // --start=false: podman only makes what the YAML says.
    std::ofstream(d.path() / "containers.conf", std::ios::app) << "infra_image = \"localhost/ctr-busybox:cmd\"\n";
    fs::create_directories(d.path() / "rootfs/bin");
    fs::copy_file("/bin/busybox", d.path() / "rootfs/bin/busybox");
    for (const char* applet : {"sh", "sleep"}) fs::create_symlink("busybox", d.path() / "rootfs/bin" / applet);
    auto tar = ctr::sys::run_capture({ctr::sys::find_program("tar"), "-C", (d.path() / "rootfs").string(), "-cf", (d.path() / "rootfs.tar").string(), "."}, 30000);
    REQUIRE((tar && tar->status.success()));
    auto imported = podman({"import", "--change", "CMD [\"sleep\", \"100000\"]", (d.path() / "rootfs.tar").string(), "localhost/ctr-busybox:cmd"});
    REQUIRE_MESSAGE(imported.code == 0, imported.err);
    std::ofstream(d.path() / "compose.yaml") << "name: shop\nservices:\n"
                                                "  web:\n    image: localhost/ctr-busybox:cmd\n    command: [sh, -c, sleep 1000]\n    restart: always\n"
                                                "    environment: {GREETING: from-kube}\n    ports: [\"18080:80\"]\n    volumes: [state:/state]\n"
                                                "  job:\n    image: localhost/ctr-busybox:cmd\n    command: [sh, -c, echo done]\n"
                                                "volumes:\n  state: {}\n";
    const std::string yaml = (d.path() / "app.yaml").string();
    auto generated = ctr::test::run("host/container", {"--root", (d.path() / "ours").string(), "kube", "generate", "--compose",
                                                       (d.path() / "compose.yaml").string(), "-o", yaml});
    REQUIRE_MESSAGE(generated.code == 0, generated.err);
    auto played = podman({"kube", "play", "--start=false", yaml});
    CHECK_MESSAGE(played.code == 0, played.err);
    auto names = podman({"ps", "-a", "--format", "{{.Names}}"});
    CHECK_MESSAGE(names.out.find("job-job\n") != std::string::npos, names.out);
    CHECK_MESSAGE(names.out.find("web-pod-0-web\n") != std::string::npos, names.out);
    auto web = podman({"inspect", "web-pod-0-web", "--format", "{{.Config.Env}} | {{.Config.Cmd}} | {{range .Mounts}}{{.Name}}:{{.Destination}}{{end}}"});
    CHECK_MESSAGE(web.out.find("GREETING=from-kube") != std::string::npos, web.out << web.err);
    CHECK(web.out.find("| [sh -c sleep 1000] |") != std::string::npos);
    CHECK(web.out.find("shop-state:/state") != std::string::npos);
    CHECK(podman({"pod", "rm", "-af"}).code == 0);
    CHECK(podman({"volume", "rm", "-af"}).code == 0);
    CHECK(podman({"rmi", "-af"}).code == 0);
}

TEST_CASE("containerd runs containers through container-oci: an image saved by container, run, exec, ps, pause, kill, delete" * CTR_NEEDS_ROOT) {
    REQUIRE_FALSE(ctr::sys::find_program("containerd").empty());
    static ctr::test::BusyboxRegistry registry;
    ScratchDir d;
    // The image, from our own store into containerd's.
    {
        DaemonRoot r;
        REQUIRE(r.cli({"pull", registry.image}).code == 0);
        auto saved = r.cli({"image", "save", "-o", (d.path() / "image.tar").string(), registry.image});
        REQUIRE_MESSAGE(saved.code == 0, saved.err);
    }
    Containerd ctd(d.path());
    auto imported = ctd({"images", "import", "--all-platforms", (d.path() / "image.tar").string()});
    REQUIRE_MESSAGE(imported.code == 0, imported.err);
    // ctr's fifos in the test's folder too. (containerd 1.6 puts its shims'
    // sockets under /run/containerd/s whatever its config says; they go
    // with the shims.)
    const std::string fifos = (d.path() / "fifo").string();
    const std::vector<std::string> oci = {"--runc-binary", (ctr::test::build_root() / "host/container-oci").string(), "--runc-root",
                                          (d.path() / "oci-root").string(), "--fifo-dir", fifos};
    auto with = [&oci](std::vector<std::string> args) {
        args.insert(args.begin() + 1, oci.begin(), oci.end());
        return args;
    };

    auto fg = ctd(with({"run", "--rm", registry.image, "once", "/bin/sh", "-c", "echo hello; exit 3"}));
    CHECK(fg.code == 3);
    CHECK(fg.out == "hello\n");
    REQUIRE(ctd(with({"run", "-d", registry.image, "c1", "/bin/sleep", "60"})).code == 0);
    CHECK(ctd({"task", "ls"}).out.find("RUNNING") != std::string::npos);
    auto ex = ctd({"task", "exec", "--fifo-dir", fifos, "--exec-id", "e1", "c1", "/bin/echo", "in it"});
    CHECK(ex.code == 0);
    CHECK(ex.out == "in it\n");
    CHECK(ctd({"task", "exec", "--fifo-dir", fifos, "--exec-id", "e2", "c1", "/bin/sh", "-c", "exit 4"}).code == 4);
    CHECK(ctd({"task", "ps", "c1"}).out.find("PID") != std::string::npos);
    CHECK(ctd({"task", "pause", "c1"}).code == 0);
    CHECK(ctd({"task", "ls"}).out.find("PAUSED") != std::string::npos);
    CHECK(ctd({"task", "resume", "c1"}).code == 0);
    CHECK(ctd({"task", "kill", "-s", "KILL", "c1"}).code == 0);
    for (int i = 0; i < 250 && ctd({"task", "ls"}).out.find("STOPPED") == std::string::npos; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(ctd({"task", "ls"}).out.find("STOPPED") != std::string::npos);
    CHECK(ctd({"task", "delete", "c1"}).code == 0);
    CHECK(ctd({"container", "delete", "c1"}).code == 0);
    // Nothing left of container-oci's (its root is per containerd namespace).
    auto list = ctr::test::run("host/container-oci", {"--root", (d.path() / "oci-root" / ctd.ns).string(), "list", "-q"});
    CHECK(list.code == 0);
    CHECK(list.out.empty());
    // Of the containers' cgroups, only the namespace's empty parents, which
    // the runtime does not own (runc leaves them too): removed here.
    for (const auto& parent : ctd.cgroups_left()) CHECK_MESSAGE(::rmdir(parent.c_str()) == 0, parent.string() << " is not empty");
    CHECK(ctd.cgroups_left().empty());
    CHECK(ctd({"images", "rm", registry.image}).code == 0);
}

TEST_CASE("containerd's CRI runs a pod through container-oci with the runtime `system oci-config containerd` prints: sandbox and container, log, exec, stop, remove" *
          CTR_NEEDS_ROOT) {
    REQUIRE_FALSE(ctr::sys::find_program("containerd").empty());
    static ctr::test::BusyboxRegistry registry;
    ScratchDir d;
    // The pod's sandbox image (a kubelet's "pause"): busybox asleep.
    const std::string pause_image = "localhost/ctr-pause:1";
    std::string snippet;
    {
        DaemonRoot r;
        REQUIRE(r.cli({"pull", registry.image}).code == 0);
        fs::create_directories(d.path() / "pause");
        std::ofstream(d.path() / "pause/Dockerfile") << "FROM " << registry.image << "\nCMD [\"sleep\", \"100000\"]\n";
        auto built = r.cli({"build", "-q", "-t", pause_image, (d.path() / "pause").string()});
        REQUIRE_MESSAGE(built.code == 0, built.err);
        auto saved = r.cli({"image", "save", "-o", (d.path() / "images.tar").string(), registry.image, pause_image});
        REQUIRE_MESSAGE(saved.code == 0, saved.err);
        auto printed = r.cli({"system", "oci-config", "containerd"});
        REQUIRE_MESSAGE(printed.code == 0, printed.err);
        snippet = printed.out;
    }
    // The printed table as an operator pastes it, with a Root of the test's
    // (the shim's default is the host's /run/containerd/runc).
    const fs::path oci_root = d.path() / "oci-root";
    const auto binary = snippet.find("    BinaryName = ");
    REQUIRE(binary != std::string::npos);
    snippet.insert(snippet.find('\n', binary) + 1, "    Root = \"" + oci_root.string() + "\"\n");
    fs::create_directories(d.path() / "cni/bin");
    fs::create_directories(d.path() / "cni/conf");
    // restrict_oom_score_adj: a kubelet's sandbox asks for -998, which
    // takes CAP_SYS_RESOURCE, and root on the project's machines lacks it;
    // containerd then asks for no less than its own.
    const std::string cri = "[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"" + pause_image +
                            "\"\n  disable_apparmor = true\n  restrict_oom_score_adj = true\n" +
                            "  [plugins.\"io.containerd.grpc.v1.cri\".cni]\n    bin_dir = \"" + (d.path() / "cni/bin").string() + "\"\n    conf_dir = \"" +
                            (d.path() / "cni/conf").string() + "\"\n" +
                            // The runc runtime an operator's config has (`containerd config default`).
                            "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n  runtime_type = \"io.containerd.runc.v2\"\n" + snippet;
    Containerd ctd(d.path(), cri);
    auto imported = ctd({"images", "import", "--all-platforms", (d.path() / "images.tar").string()});
    REQUIRE_MESSAGE(imported.code == 0, imported.err);
    // A kubelet's calls (tests/fixtures/cri/cri.py).
    const std::string script = (fs::path(ctr::test::env_or_empty("CTR_SOURCE_ROOT")) / "tests/fixtures/cri/cri.py").string();
    auto cri_call = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {script, (d.path() / "sock").string()});
        ctr::sys::RunOptions o;
        o.timeout_ms = 180000;
        o.capture_stderr = true;
        args.insert(args.begin(), "/usr/bin/python3");
        auto r = ctr::sys::run_capture(args, o);
        REQUIRE(r);
        return ctr::test::Run{r->status.signal ? 128 + r->status.signal : r->status.code, r->out, r->err};
    };
    auto line = [](const std::string& out) { return out.substr(0, out.find('\n')); };
    auto version = cri_call({"version"});
    REQUIRE_MESSAGE(version.code == 0, version.err << ctr::test::file_text(d.path() / "log"));
    CHECK(version.out.rfind("containerd ", 0) == 0);

    const std::string logs = (d.path() / "pod-logs").string(), parent = "/" + ctd.cgroup_parent;
    fs::create_directories(logs);
    auto pod = cri_call({"run-pod", "web", logs, parent, "container-linux"});
    REQUIRE_MESSAGE(pod.code == 0, pod.err);
    const std::string pod_id = line(pod.out);
    auto made = cri_call({"create", pod_id, "app", logs, parent, registry.image, "app.log", "sh", "-c", "echo hello from cri; sleep 1000"});
    REQUIRE_MESSAGE(made.code == 0, made.err);
    const std::string id = line(made.out);
    auto started = cri_call({"start", id});
    REQUIRE_MESSAGE(started.code == 0, started.err);
    // Both the sandbox and the container are container-oci's, under the
    // Root of the table (per containerd namespace): the handler's BinaryName.
    auto list = ctr::test::run("host/container-oci", {"--root", (oci_root / "k8s.io").string(), "list", "-q"});
    CHECK(list.out.find(pod_id + "\n") != std::string::npos);
    CHECK(list.out.find(id + "\n") != std::string::npos);
    CHECK(line(cri_call({"status", id}).out) == "CONTAINER_RUNNING 0");
    auto ex = cri_call({"exec", id, "30", "sh", "-c", "echo in it; exit 4"});
    CHECK_MESSAGE(ex.code == 4, ex.err);
    CHECK(ex.out == "in it\n");
    // The container's output in the kubelet's log format, where the pod said.
    std::string log;
    for (int i = 0; i < 250 && log.find(" stdout F hello from cri\n") == std::string::npos; ++i) {
        log = ctr::test::file_text(fs::path(logs) / "app.log");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK_MESSAGE(log.find(" stdout F hello from cri\n") != std::string::npos, log);
    // In the pod's PID namespace (the sandbox's process is its PID 1), the
    // container's process ends of the TERM that stop sends.
    CHECK(cri_call({"stop", id, "10"}).code == 0);
    CHECK(line(cri_call({"status", id}).out) == "CONTAINER_EXITED 143");
    CHECK(cri_call({"rm", id}).code == 0);
    CHECK(cri_call({"stop-pod", pod_id}).code == 0);
    CHECK(cri_call({"rm-pod", pod_id}).code == 0);
    CHECK(ctr::test::run("host/container-oci", {"--root", (oci_root / "k8s.io").string(), "list", "-q"}).out.empty());
    for (const auto& left : ctd.cgroups_left()) CHECK_MESSAGE(::rmdir(left.c_str()) == 0, left.string() << " is not empty");
}
