#include "runtime.hpp"

#include <ctr/sys/files.hpp>
#include <ctr/sys/userns.hpp>
#include <ctr/sys/process.hpp>
#include <ctr/sys/spawn.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <regex>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace microvm {

namespace fs = std::filesystem;

namespace {

constexpr int kStartTimeoutMs = 30000;

ctr::Status check_id(const std::string& id) {
    static const std::regex re("[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}");
    if (!std::regex_match(id, re)) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "invalid container id \"" + id + "\"");
    return ctr::ok();
}

ctr::Result<ctr::sys::UniqueFd> open_output(const json& req, const char* key) {
    std::string path = req.value(key, std::string("/dev/null"));
    ctr::sys::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
    if (!fd.valid()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, std::string("open ") + key + " \"" + path + "\": " + std::strerror(errno));
    return fd;
}

ctr::Result<ctr::sys::UniqueFd> open_input(const json& req) {
    if (!req.contains("stdin")) return ctr::sys::UniqueFd();
    std::string path = req["stdin"].get<std::string>();
    ctr::sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "open stdin \"" + path + "\": " + std::strerror(errno));
    return fd;
}

// The files the host bind-mounts over the image's (resolv.conf, hosts,
// hostname) cannot be mounted into a guest: they are written into the
// container's root instead, which is its own writable layer.
ctr::Status copy_etc_files(const json& config, const fs::path& rootfs) {
    for (const auto& m : config.value("mounts", json::array())) {
        std::string dest = m.value("destination", "");
        if (dest != "/etc/resolv.conf" && dest != "/etc/hosts" && dest != "/etc/hostname") continue;
        auto text = ctr::sys::read_file(m.value("source", ""));
        if (!text) continue;
        std::error_code ec;
        fs::path target = rootfs / fs::path(dest).relative_path();
        if (fs::is_symlink(target, ec)) fs::remove(target, ec);  // never written through a link of the image's
        fs::create_directories(target.parent_path(), ec);
        CTR_TRY_STATUS(ctr::sys::write_file_atomic(target, *text, 0644, ctr::sys::Durability::process_crash));
    }
    return ctr::ok();
}

// Makes `path` (absolute in the container) as directories under `root`,
// never through a symlink of the image's: a link could point anywhere on
// the host. A path that ends in a file is left as it is.
ctr::Status make_dirs_in_root(const fs::path& root, const fs::path& path) {
    fs::path at = root;
    for (const auto& part : path.relative_path()) {
        if (part == "..") return ctr::make_error(CTR_E_INVALID_ARGUMENT, "mount point " + path.string() + " leaves the root");
        at /= part;
        struct stat st {};
        if (::lstat(at.c_str(), &st) != 0) {
            if (errno != ENOENT || ::mkdir(at.c_str(), 0755) != 0)
                return ctr::make_error(CTR_E_INTERNAL, "mkdir " + at.string() + ": " + std::strerror(errno));
            continue;
        }
        if (S_ISLNK(st.st_mode)) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "mount point " + path.string() + " goes through a symlink in the image");
        if (!S_ISDIR(st.st_mode)) return ctr::ok();
    }
    return ctr::ok();
}

// A file to bind a file onto, in a root the guest cannot write: its
// parents made as make_dirs_in_root makes them, itself empty.
ctr::Status make_file_in_root(const fs::path& root, const fs::path& path) {
    CTR_TRY_STATUS(make_dirs_in_root(root, path.parent_path()));
    fs::path at = root / path.relative_path();
    int fd = ::open(at.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EISDIR) return ctr::make_error(CTR_E_INTERNAL, "create " + at.string() + ": " + std::strerror(errno));
    if (fd >= 0) ::close(fd);
    return ctr::ok();
}

// Removes a VM's directory, first letting go of the views a killed shim
// left mounted in it: never deleting through them.
void remove_vm_dir(const fs::path& dir) {
    release_views_left_in(dir);
    std::error_code ec;
    fs::remove_all(dir, ec);
}

fs::path own_dir() {
    Dl_info info{};
    if (::dladdr(reinterpret_cast<void*>(&own_dir), &info) && info.dli_fname) return fs::path(info.dli_fname).parent_path();
    return {};
}

}  // namespace

ctr::Status boot_test(const fs::path& kernel_dir, const KernelStore& store, const fs::path& agent, const VmConfig& base) {
    VmConfig c = base;
    c.kernel = kernel_dir / "vmlinuz";
    c.initramfs = CTR_TRY(store.initramfs(kernel_dir, agent));
    // An empty root is enough: the agent mounts it and reports READY.
    char tmpl[] = "/tmp/container-vm-boot-XXXXXX";
    if (!::mkdtemp(tmpl)) return ctr::make_error(CTR_E_INTERNAL, std::string("mkdtemp: ") + std::strerror(errno));
    fs::path dir = tmpl;
    std::error_code ec;
    fs::create_directories(dir / "root", ec);
    c.dir = dir;
    c.rootfs = dir / "root";
    c.memory_mib = 256;
    c.cpus = 1;
    ctr::Status result = ctr::ok();
    {
        auto vm = Vm::boot(c, [](Frame&&) {}, nullptr);
        if (!vm) result = vm.error();
    }
    fs::remove_all(dir, ec);
    return result;
}

Runtime::~Runtime() {
    std::map<std::string, std::shared_ptr<Container>> all;
    {
        std::lock_guard lock(mu_);
        all.swap(containers_);
    }
    for (auto& [id, c] : all) teardown(*c);
    for (auto& [key, e] : execs_) {
        e->terminal.reset();  // both write to the channel
        e->stdin.reset();
        e->channel.shutdown();
        if (e->reader.joinable()) e->reader.join();
    }
}

ctr::Status Runtime::init() {
    settings_ = host().settings();
    plugin_dir_ = own_dir();
    std::string qemu = settings_.value("qemu", "qemu-system-x86_64");
    if (ctr::sys::find_program(qemu).empty())
        return ctr::make_error(CTR_E_UNAVAILABLE, "qemu \"" + qemu + "\" not found (install qemu-system-x86)");
    accel_ = choose_accel(settings_.value("accel", "auto"));
    // Kernels are the plugin's own, unless an operator points at another store.
    std::string kernels = settings_.value("kernels_dir", "");
    kernels_ = std::make_unique<KernelStore>(kernels.empty() ? fs::path(host().state_dir()) / "kernels" : fs::path(kernels));
    std::error_code ec;
    fs::create_directories(fs::path(host().state_dir()) / "vms", ec);
    if (ec) return ctr::make_error(CTR_E_UNAVAILABLE, "create " + (fs::path(host().state_dir()) / "vms").string() + ": " + ec.message());
    return ctr::ok();
}

fs::path Runtime::vm_dir(const std::string& id) const { return fs::path(host().state_dir()) / "vms" / id; }

fs::path Runtime::helper(const std::string& name) const { return plugin_dir_ / name; }

ctr::Result<std::shared_ptr<Runtime::Container>> Runtime::find(const std::string& id) {
    std::lock_guard lock(mu_);
    auto it = containers_.find(id);
    if (it == containers_.end()) return ctr::make_error(CTR_E_NOT_FOUND, "no container \"" + id + "\"");
    return it->second;
}

namespace {

// The size= of the spec's /dev/shm mount, in bytes; 0 when it has none.
uint64_t shm_bytes(const json& config) {
    for (const auto& m : config.value("mounts", json::array())) {
        if (m.value("destination", "") != "/dev/shm") continue;
        for (const auto& o : m.value("options", json::array()))
            if (o.is_string() && o.get<std::string>().rfind("size=", 0) == 0)
                return std::strtoull(o.get<std::string>().c_str() + 5, nullptr, 10);
    }
    return 0;
}

}  // namespace

// The VM for a container: its kernel, size, settings and NICs.
ctr::Result<VmConfig> Runtime::vm_config(const json& config, const fs::path& rootfs, Container& c) {
    auto kernel_dir = CTR_TRY(kernels_->current());
    VmConfig vc;
    vc.dir = vm_dir(c.id);
    vc.kernel = kernel_dir / "vmlinuz";
    vc.initramfs = CTR_TRY(kernels_->initramfs(kernel_dir, helper("container-vm-agent")));
    vc.rootfs = rootfs;
    VmSize size = vm_size(config, {static_cast<int>(settings_.value("memory_mib", 1024)), static_cast<int>(settings_.value("cpus", 1))});
    vc.memory_mib = size.memory_mib;
    vc.cpus = size.cpus;
    c.memory_mib = size.memory_mib;
    vc.accel = accel_;
    vc.qemu = settings_.value("qemu", "qemu-system-x86_64");
    vc.virtiofsd = settings_.value("virtiofsd", "/usr/lib/qemu/virtiofsd");
    vc.boot_timeout_ms = static_cast<int>(settings_.value("boot_timeout_s", 120)) * 1000;
    vc.tcg_tb_size_mib = static_cast<int>(settings_.value("tcg_tb_size_mib", 0));
    // The network namespace the host wired (none for --network none or host).
    for (const auto& ns : config.value("linux", json::object()).value("namespaces", json::array()))
        if (ns.value("type", "") == "network" && ns.contains("path")) {
            auto nics = wire_guest_nics(ns.value("path", ""));
            if (!nics) return ctr::make_error(static_cast<ctr_status>(nics.error().status), "runtime-microvm: network: " + nics.error().message);
            c.nics = std::move(*nics);
        }
    for (const auto& nic : c.nics) vc.nics.push_back({nic.tap.get(), nic.mac});
    vc.kernel_args = settings_.value("kernel_args", "");
    // /dev/shm is a tmpfs of the guest's memory: a size past the VM's own
    // is refused, not quietly capped by the guest kernel.
    uint64_t shm = shm_bytes(config);
    if (shm > (uint64_t{static_cast<uint64_t>(vc.memory_mib)} << 20))
        return ctr::make_error(CTR_E_INVALID_ARGUMENT, "runtime-microvm: --shm-size " + std::to_string(shm >> 20) +
                                                           " MiB is more than the VM's memory (" + std::to_string(vc.memory_mib) +
                                                           " MiB): give --memory at least that");
    if (shm > 0) vc.kernel_args += (vc.kernel_args.empty() ? "" : " ") + std::string("ctr.shm=") + std::to_string(shm);
    return vc;
}

// The container's pid on the host (signal_proxy.c): what it receives goes
// to the guest's process.
ctr::Status Runtime::spawn_signal_proxy(Container& c, const fs::path& rootfs) {
    auto [signals_read, signals_write] = CTR_TRY(ctr::sys::make_pipe());
    ctr::sys::SpawnOptions so;
    so.pass_fds = {{signals_write.get(), 3}};
    c.proxy = CTR_TRY(ctr::sys::Child::spawn({helper("container-vm-signals").string(), fs::absolute(rootfs).string()}, so));
    signals_write.reset();
    (void)c.cgroup.add(c.proxy.pid());  // the daemon finds the cgroup through this pid
    c.proxy_signals = std::move(signals_read);
    Container* raw = &c;
    c.signal_thread = std::thread([raw] {
        unsigned char sig;
        for (;;) {
            ssize_t n = ::read(raw->proxy_signals.get(), &sig, 1);
            if (n < 0 && errno == EINTR) continue;
            // EOF: the proxy was killed (SIGKILL cannot reach us any other way).
            int32_t s = n == 1 ? sig : SIGKILL;
            if (raw->main->running()) (void)raw->vm->channel().send(CTR_F_SIGNAL, 0, ints_payload(s));
            if (n != 1) return;
        }
    });
    return ctr::ok();
}

// A container's process and stdio, from create's request and its spec.
ctr::Result<std::shared_ptr<Runtime::Container>> Runtime::new_container(const json& req, const json& config, const std::string& id,
                                                                         const std::string& bundle) {
    const bool terminal = CTR_TRY(ctr::sdk::get_bool(req, "terminal", false));
    auto console = CTR_TRY(ctr::sdk::get_opt_string(req, "console_socket"));
    if (terminal && !console) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "a terminal needs \"console_socket\"");
    auto c = std::make_shared<Container>();
    c->id = id;
    c->bundle = bundle;
    c->process = config.value("process", json::object());
    c->hostname = config.value("hostname", "");
    c->stdin_fd = CTR_TRY(open_input(req));
    c->stdin_mode = terminal ? StdinMode::terminal : c->stdin_fd.valid() ? StdinMode::pipe : StdinMode::none;
    CTR_TRY(run_payload(c->process, c->hostname, c->stdin_mode));  // refuse a bad process now, not at start
    if (terminal) {
        c->terminal = CTR_TRY(HostTerminal::open(*console));
        c->main = std::make_unique<GuestProcess>(CTR_TRY(c->terminal->output()), CTR_TRY(c->terminal->output()));
    } else {
        auto out = CTR_TRY(open_output(req, "stdout"));
        auto err = CTR_TRY(open_output(req, "stderr"));
        c->main = std::make_unique<GuestProcess>(std::move(out), std::move(err));
    }
    return c;
}

ctr::Result<json> Runtime::create(const json& req) {
    std::string id = CTR_TRY(ctr::sdk::get_string(req, "id"));
    CTR_TRY_STATUS(check_id(id));
    // virtiofsd drops its supplementary groups, which a user namespace that
    // maps only the user's own ids forbids (setgroups denied there): said
    // before anything is made, rather than as virtiofsd's death.
    if (auto groups = ctr::sys::read_file("/proc/self/setgroups"); groups && groups->rfind("deny", 0) == 0)
        return ctr::make_error(CTR_E_UNSUPPORTED,
                               "VM containers under a rootless daemon need the user's subordinate ids (/etc/subuid and /etc/subgid): "
                               "virtiofsd sets its groups, which a user namespace that maps only the user's own id forbids");
    std::string bundle = CTR_TRY(ctr::sdk::get_string(req, "bundle"));
    {
        std::lock_guard lock(mu_);
        if (containers_.count(id)) return ctr::make_error(CTR_E_ALREADY_EXISTS, "container \"" + id + "\" already exists");
    }
    auto text = ctr::sys::read_file(fs::path(bundle) / "config.json");
    if (!text) return ctr::make_error(CTR_E_NOT_FOUND, "no config.json in bundle \"" + bundle + "\"");
    json config = json::parse(*text, nullptr, false);
    if (!config.is_object()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "config.json in \"" + bundle + "\" is not a json object");
    fs::path rootfs = config.value("root", json::object()).value("path", "rootfs");
    if (rootfs.is_relative()) rootfs = fs::path(bundle) / rootfs;

    auto c = CTR_TRY(new_container(req, config, id, bundle));

    CTR_TRY_STATUS(copy_etc_files(config, rootfs));
    VmConfig vc = CTR_TRY(vm_config(config, rootfs, *c));
    remove_vm_dir(vc.dir);  // a shim killed outright leaves its VM dir behind
    CTR_TRY_STATUS(ctr::sys::make_dirs(vc.dir, 0700));
    const std::string cgroup_path = config.value("linux", json::object()).value("cgroupsPath", "");
    // A rootless daemon without a delegated subtree can make no cgroup (it
    // refuses limits then): the VM runs in the daemon's, as runtime-linux
    // has crun make none (docs/rootless.md).
    if (ctr::sys::may_make_cgroups()) c->cgroup = CTR_TRY(VmCgroup::create(cgroup_path));
    // For a delete by another process, after this shim died (see remove).
    CTR_TRY_STATUS(ctr::sys::write_file_atomic(vc.dir / "cgroup", cgroup_path, 0600, ctr::sys::Durability::process_crash));
    vc.on_spawn = [cg = &c->cgroup, this](pid_t pid) {
        if (auto st = cg->add(pid); !st) host().warn(st.error().message);
    };
    if (!accel_.warning.empty()) host().warn(accel_.warning);

    // What create fails leaves nothing: the VM dir and its views go, the VM
    // and the proxy die with their owners.
    struct Undo {
        fs::path dir;
        GuestMounts* mounts;
        ~Undo() {
            if (dir.empty()) return;
            mounts->views.clear();
            remove_vm_dir(dir);
        }
    } undo{vc.dir, &c->mounts};
    c->mounts = CTR_TRY(plan_guest_mounts(config, vc.dir));
    vc.shares = c->mounts.shares;
    // --read-only: the root is shared through a read-only view, which root
    // in the guest cannot remount writable.
    if (config.value("root", json::object()).value("readonly", false)) {
        // The guest cannot make its mount points in a read-only root: made here first.
        for (const char* d : {"/proc", "/sys", "/dev", "/run"}) CTR_TRY_STATUS(make_dirs_in_root(rootfs, d));
        for (const auto& m : config.value("mounts", json::array())) {
            std::error_code ec;  // a file is bound onto a file (--init's tini, a file volume)
            if (fs::is_regular_file(m.value("source", ""), ec)) CTR_TRY_STATUS(make_file_in_root(rootfs, m.value("destination", "/")));
            else CTR_TRY_STATUS(make_dirs_in_root(rootfs, m.value("destination", "/")));
        }
        c->mounts.views.push_back(CTR_TRY(HostView::read_only(rootfs, vc.dir / "ro-root")));
        vc.rootfs = c->mounts.views.back()->path();
    }
    Container* raw = c.get();
    auto vm = Vm::boot(
        vc,
        [raw](Frame&& f) {
            if (f.stream == 0) raw->main->handle(f);
            else raw->deliver_to_relay(f);
        },
        [raw] { raw->main->lost(); });
    if (!vm) return ctr::make_error(static_cast<ctr_status>(vm.error().status), "runtime-microvm: " + vm.error().message);
    c->vm = std::move(*vm);
    // What stats needs, for a shim other than this one (the daemon asks a
    // fresh one): the VM's QEMU and its size.
    (void)ctr::sys::write_file_atomic(vc.dir / "vm.json",
                                      json{{"qemu_pid", c->vm->qemu_pid()}, {"memory_mib", c->memory_mib}}.dump(), 0600);
    // Frames are handled in order: volumes are mounted and NICs up before any process runs.
    for (const auto& file : c->mounts.files) CTR_TRY_STATUS(c->vm->channel().send(CTR_F_FILE, 0, file));
    if (!c->mounts.payload.empty()) CTR_TRY_STATUS(c->vm->channel().send(CTR_F_MOUNT, 0, c->mounts.payload));
    if (!c->nics.empty()) CTR_TRY_STATUS(c->vm->channel().send(CTR_F_NETWORK, 0, network_payload(c->nics)));
    {
        auto relay = CTR_TRY(ExecRelay::start(vc.dir, c->vm->channel()));
        std::lock_guard lock(c->relay_mu);
        c->relay = std::move(relay);
    }

    CTR_TRY_STATUS(spawn_signal_proxy(*c, rootfs));
    undo.dir.clear();
    pid_t pid = c->proxy.pid();
    {
        std::lock_guard lock(mu_);
        containers_[id] = c;
    }
    json result = {{"id", id}, {"pid", pid}};
    if (!accel_.warning.empty()) result["warnings"] = json::array({accel_.warning});
    return result;
}

ctr::Result<json> Runtime::start(const json& req) {
    std::string id = CTR_TRY(ctr::sdk::get_string(req, "id"));
    auto c = CTR_TRY(find(id));
    if (c->started) return ctr::make_error(CTR_E_FAILED_PRECONDITION, "container \"" + id + "\" is not in state created");
    c->started = true;
    // A terminal starts at the size its client gave before the start.
    auto [rows, cols] = c->terminal ? c->terminal->size() : std::pair<int, int>{0, 0};
    auto payload = CTR_TRY(run_payload(c->process, c->hostname, c->stdin_mode, rows, cols));
    CTR_TRY_STATUS(c->vm->channel().send(CTR_F_RUN, 0, payload));
    CTR_TRY(c->main->wait_started(kStartTimeoutMs));
    if (c->terminal) c->terminal->relay(c->vm->channel(), 0);
    else if (c->stdin_mode == StdinMode::pipe) {
        c->stdin = std::make_unique<StdinPump>();
        c->stdin->start(std::move(c->stdin_fd), c->vm->channel(), 0);
    }
    return json{{"id", id}};
}

ctr::Result<json> Runtime::kill(const json& req) {
    std::string id = CTR_TRY(ctr::sdk::get_string(req, "id"));
    int sig = static_cast<int>(CTR_TRY(ctr::sdk::get_int(req, "signal")));
    if (sig <= 0 || sig >= 65) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "invalid signal " + std::to_string(sig));
    auto c = CTR_TRY(find(id));
    if (!c->main->running()) return ctr::make_error(CTR_E_FAILED_PRECONDITION, "container \"" + id + "\" is not running");
    CTR_TRY_STATUS(c->vm->channel().send(CTR_F_SIGNAL, 0, ints_payload(sig)));
    return json();
}

ctr::Result<json> Runtime::state(const json& req) {
    std::string id = CTR_TRY(ctr::sdk::get_string(req, "id"));
    auto c = CTR_TRY(find(id));
    std::string status = !c->started ? "created" : c->main->exited() ? "stopped" : "running";
    // A paused VM (QEMU stopped) is a paused container, as runc says of a frozen one.
    if (status == "running" && c->vm) {
        auto stat = ctr::sys::read_proc_stat(c->vm->qemu_pid());
        if (stat && stat->state == 'T') status = "paused";
    }
    return json{{"ociVersion", "1.0.2"}, {"id", id}, {"status", status}, {"pid", c->proxy.pid()}, {"bundle", c->bundle}};
}

ctr::Result<json> Runtime::wait(const json& req) {
    std::string id = CTR_TRY(ctr::sdk::get_string(req, "id"));
    std::string exec_id = req.value("exec_id", "");
    int64_t timeout = CTR_TRY(ctr::sdk::get_int(req, "timeout_ms", -1));
    if (!exec_id.empty()) {
        std::shared_ptr<Exec> e;
        {
            std::lock_guard lock(mu_);
            auto it = execs_.find(id + "/" + exec_id);
            if (it == execs_.end()) return ctr::make_error(CTR_E_NOT_FOUND, "no process to wait for in \"" + id + "\" (exec " + exec_id + ")");
            e = it->second;
        }
        return e->process->wait_exit(timeout);
    }
    auto c = CTR_TRY(find(id));
    if (!c->started) return ctr::make_error(CTR_E_FAILED_PRECONDITION, "container \"" + id + "\" was not started");
    auto r = c->main->wait_exit(timeout);
    if (r) c->proxy.stop(0);  // the daemon now sees the container's pid gone
    return r;
}

void Runtime::teardown(Container& c) {
    c.proxy.stop(0);
    if (c.signal_thread.joinable()) c.signal_thread.join();
    {
        std::unique_ptr<ExecRelay> relay;
        {
            std::lock_guard lock(c.relay_mu);
            relay = std::move(c.relay);
        }
        relay.reset();  // outside the lock: it joins its client threads
    }
    c.terminal.reset();  // its relay uses the VM's channel
    c.stdin.reset();     // and so does this
    c.vm.reset();  // powers off, joins its reader
    c.cgroup.remove();
    c.mounts.views.clear();
    remove_vm_dir(vm_dir(c.id));
}

ctr::Result<json> Runtime::remove(const json& req) {
    std::string id = CTR_TRY(ctr::sdk::get_string(req, "id"));
    bool force = CTR_TRY(ctr::sdk::get_bool(req, "force", false));
    std::shared_ptr<Container> c;
    {
        std::lock_guard lock(mu_);
        auto it = containers_.find(id);
        if (it == containers_.end()) {
            // Not ours: a shim that ran it died. Its VM powered itself off
            // when the channel closed; what is left is on disk.
            CTR_TRY_STATUS(check_id(id));
            auto cgroup = ctr::sys::read_file(vm_dir(id) / "cgroup");
            if (cgroup && !cgroup->empty()) VmCgroup::existing(*cgroup).remove();
            remove_vm_dir(vm_dir(id));
            return json();  // idempotent
        }
        if (!force && it->second->main->running())
            return ctr::make_error(CTR_E_FAILED_PRECONDITION, "container \"" + id + "\" is running (use force)");
        c = it->second;
        containers_.erase(it);
    }
    teardown(*c);
    return json();
}

ctr::Result<json> Runtime::exec(const json& req) {
    std::string id = CTR_TRY(ctr::sdk::get_string(req, "id"));
    std::string exec_id = CTR_TRY(ctr::sdk::get_string(req, "exec_id"));
    CTR_TRY_STATUS(check_id(exec_id));
    if (!req.contains("process") || !req["process"].is_object()) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "missing field \"process\"");
    auto console = CTR_TRY(ctr::sdk::get_opt_string(req, "console_socket"));
    const bool terminal = req["process"].value("terminal", false) || CTR_TRY(ctr::sdk::get_bool(req, "terminal", false));
    if (terminal && !console) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "a terminal needs \"console_socket\"");
    auto e = std::make_shared<Exec>();
    e->stdin_fd = CTR_TRY(open_input(req));
    StdinMode mode = terminal ? StdinMode::terminal : e->stdin_fd.valid() ? StdinMode::pipe : StdinMode::none;
    // An exec starts at once: its size comes in the process spec.
    const json size = req["process"].value("consoleSize", json::object());
    const int rows = size.value("height", 0), cols = size.value("width", 0);
    auto payload = CTR_TRY(run_payload(req["process"], "", mode, rows, cols));
    if (terminal) {
        e->terminal = CTR_TRY(HostTerminal::open(*console));
        if (rows > 0 && cols > 0) e->terminal->set_size(rows, cols);
        e->process = std::make_unique<GuestProcess>(CTR_TRY(e->terminal->output()), CTR_TRY(e->terminal->output()));
    } else {
        auto out = CTR_TRY(open_output(req, "stdout"));
        auto err = CTR_TRY(open_output(req, "stderr"));
        e->process = std::make_unique<GuestProcess>(std::move(out), std::move(err));
    }
    auto fd = connect_relay(vm_dir(id));
    if (!fd) return ctr::make_error(CTR_E_NOT_FOUND, "container \"" + id + "\" is not running in a vm here");
    e->channel = Channel(std::move(*fd));
    {
        std::lock_guard lock(mu_);
        if (execs_.count(id + "/" + exec_id)) return ctr::make_error(CTR_E_ALREADY_EXISTS, "exec id \"" + exec_id + "\" already used in \"" + id + "\"");
        execs_[id + "/" + exec_id] = e;
    }
    Exec* raw = e.get();
    e->reader = std::thread([raw] {
        for (;;) {
            auto f = raw->channel.receive();
            if (!f) break;
            raw->process->handle(*f);
        }
        raw->process->lost();
    });
    CTR_TRY_STATUS(e->channel.send(CTR_F_RUN, 0, payload));
    int pid = CTR_TRY(e->process->wait_started(kStartTimeoutMs));
    if (e->terminal) e->terminal->relay(e->channel, 0);
    else if (e->stdin_fd.valid()) {
        e->stdin = std::make_unique<StdinPump>();
        e->stdin->start(std::move(e->stdin_fd), e->channel, 0);
    }
    return json{{"exec_id", exec_id}, {"pid", pid}};
}

ctr::Result<pid_t> Runtime::qemu_of(const std::string& id) {
    CTR_TRY_STATUS(check_id(id));
    auto text = ctr::sys::read_file(vm_dir(id) / "vm.json");
    if (!text) return ctr::make_error(CTR_E_NOT_FOUND, "no container \"" + id + "\" runs in a vm here");
    json vm = json::parse(*text, nullptr, false);
    pid_t qemu = vm.is_object() ? vm.value("qemu_pid", -1) : -1;
    if (qemu <= 0 || !ctr::sys::read_proc_stat(qemu)) return ctr::make_error(CTR_E_FAILED_PRECONDITION, "the vm of \"" + id + "\" is not running");
    return qemu;
}

namespace {

// Whether the process is stopped (state T).
bool stopped(pid_t pid) {
    auto stat = ctr::sys::read_proc_stat(pid);
    return stat && stat->state == 'T';
}

}  // namespace

ctr::Result<json> Runtime::pause(const json& req) {
    std::string id = CTR_TRY(ctr::sdk::get_string(req, "id"));
    pid_t qemu = CTR_TRY(qemu_of(id));
    if (stopped(qemu)) return ctr::make_error(CTR_E_FAILED_PRECONDITION, "container \"" + id + "\" is paused already");
    if (::kill(qemu, SIGSTOP) != 0) return ctr::make_error(CTR_E_INTERNAL, std::string("stop the vm: ") + std::strerror(errno));
    return json::object();
}

ctr::Result<json> Runtime::resume(const json& req) {
    std::string id = CTR_TRY(ctr::sdk::get_string(req, "id"));
    pid_t qemu = CTR_TRY(qemu_of(id));
    if (!stopped(qemu)) return ctr::make_error(CTR_E_FAILED_PRECONDITION, "container \"" + id + "\" is not paused");
    if (::kill(qemu, SIGCONT) != 0) return ctr::make_error(CTR_E_INTERNAL, std::string("resume the vm: ") + std::strerror(errno));
    return json::object();
}

ctr::Result<json> Runtime::update(const json&) {
    return ctr::make_error(CTR_E_UNSUPPORTED, "runtime-microvm cannot change a running vm's limits: its memory and CPUs are set when it boots");
}

ctr::Result<json> Runtime::stats(const json& req) {
    std::string id = CTR_TRY(ctr::sdk::get_string(req, "id"));
    CTR_TRY_STATUS(check_id(id));
    // The VM as the host pays for it: QEMU's resident memory and CPU time,
    // against the VM's size. From the VM's directory: the shim that asks is
    // seldom the one that booted it.
    auto text = ctr::sys::read_file(vm_dir(id) / "vm.json");
    if (!text) return ctr::make_error(CTR_E_NOT_FOUND, "no container \"" + id + "\" runs in a vm here");
    json vm = json::parse(*text, nullptr, false);
    pid_t qemu = vm.is_object() ? vm.value("qemu_pid", -1) : -1;
    int64_t memory_mib = vm.is_object() ? vm.value("memory_mib", int64_t{0}) : 0;
    auto status = ctr::sys::read_file("/proc/" + std::to_string(qemu) + "/status");
    json out = json::object();
    if (status) {
        auto at = status->find("VmRSS:");
        if (at != std::string::npos) out["memory"] = {{"usage", std::stoll(status->substr(at + 6)) * 1024}, {"limit", memory_mib << 20}};
    }
    if (auto stat = ctr::sys::read_proc_stat(qemu)) out["cpu"] = {{"usage_ns", stat->cpu_ns()}};
    return out;
}

ctr::Result<json> Runtime::processes(const json& req) {
    std::string id = CTR_TRY(ctr::sdk::get_string(req, "id"));
    CTR_TRY_STATUS(check_id(id));
    pid_t qemu = CTR_TRY(qemu_of(id));
    if (stopped(qemu)) return ctr::make_error(CTR_E_FAILED_PRECONDITION, "container \"" + id + "\" is paused: its guest cannot answer");
    auto fd = connect_relay(vm_dir(id));
    if (!fd) return ctr::make_error(CTR_E_NOT_FOUND, "container \"" + id + "\" is not running in a vm here");
    // The agent answers at once; a guest that does not is not waited for.
    const timeval limit{5, 0};
    ::setsockopt(fd->get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    Channel channel(std::move(*fd));
    CTR_TRY_STATUS(channel.send(CTR_F_PROCESSES, 0));
    auto f = channel.receive();
    if (!f || f->type != CTR_F_PROCESS_LIST) return ctr::make_error(CTR_E_UNAVAILABLE, "the guest agent of \"" + id + "\" did not list its processes");
    json list = json::array();
    std::vector<std::string> fields;
    for (size_t at = 0; at < f->payload.size();) {
        size_t end = f->payload.find('\0', at);
        if (end == std::string::npos) end = f->payload.size();
        fields.push_back(f->payload.substr(at, end - at));
        at = end + 1;
        if (fields.size() == 3) {
            list.push_back({{"pid", std::atoll(fields[0].c_str())}, {"ppid", std::atoll(fields[1].c_str())}, {"command", fields[2]}});
            fields.clear();
        }
    }
    return json{{"processes", std::move(list)}, {"pid_namespace", "guest"}};
}

}  // namespace microvm
