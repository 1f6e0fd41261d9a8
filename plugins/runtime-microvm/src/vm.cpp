#include "vm.hpp"

#include "unix_socket.hpp"

#include <ctr/sys/files.hpp>
#include <ctr/sys/spawn.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <poll.h>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <vector>

namespace microvm {

namespace fs = std::filesystem;

namespace {

// The guest's TSC runs at the host's rate under TCG and KVM alike. microvm
// has neither HPET nor a PM timer to calibrate it against, and without this
// hint about half of all emulated boots hang at "Unable to calibrate".
long read_tsc_khz() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("cpu MHz", 0) == 0) {
            auto colon = line.find(':');
            if (colon != std::string::npos) return static_cast<long>(std::stod(line.substr(colon + 1)) * 1000);
        }
    return 2400000;
}

// Read once per process: a shim boots one VM, a kernel tool one per test.
long tsc_khz() {
    static const long khz = read_tsc_khz();
    return khz;
}

std::vector<std::string> qemu_argv(const VmConfig& c, const std::string& qemu) {
    const std::string mem = std::to_string(c.memory_mib) + "M";
    std::string append = "console=ttyS0 reboot=t panic=-1 quiet loglevel=3 rdinit=/init tsc_early_khz=" + std::to_string(tsc_khz());
    if (!c.kernel_args.empty()) append += " " + c.kernel_args;
    std::string accel = c.accel.kvm ? "kvm" : "tcg";
    if (!c.accel.kvm && c.tcg_tb_size_mib > 0) accel += ",tb-size=" + std::to_string(c.tcg_tb_size_mib);
    std::vector<std::string> a = {
        qemu, "-name", "container-vm", "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
        // A VM escape must not find a QEMU that can spawn, gain privileges or use obsolete calls.
        "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
        "-machine", "microvm,memory-backend=mem",
        "-accel", accel,
        "-cpu", c.accel.kvm ? "host" : "max",
        "-m", mem, "-smp", std::to_string(c.cpus),
        // virtiofsd shares the guest's RAM, so RAM is a shared memfd.
        "-object", "memory-backend-memfd,id=mem,size=" + mem + ",share=on",
        "-kernel", fs::absolute(c.kernel).string(), "-initrd", fs::absolute(c.initramfs).string(), "-append", append,
        "-serial", "file:console.log",
        // libvhost-user (virtiofsd) speaks only modern virtio.
        "-global", "virtio-mmio.force-legacy=false",
        "-chardev", "socket,id=fs,path=vfs.sock", "-device", "vhost-user-fs-device,chardev=fs,tag=" CTR_AGENT_ROOTFS_TAG,
        "-chardev", "socket,id=agent,path=agent.sock", "-device", "virtio-serial-device",
        "-device", "virtserialport,chardev=agent,name=" CTR_AGENT_PORT_NAME,
        // Free pages go back to the host as the guest frees them.
        "-device", "virtio-balloon-device,free-page-reporting=on",
    };
    for (size_t i = 0; i < c.shares.size(); ++i) {
        std::string n = std::to_string(i);
        a.insert(a.end(), {"-chardev", "socket,id=fs" + n + ",path=vfs" + n + ".sock", "-device",
                           "vhost-user-fs-device,chardev=fs" + n + ",tag=" + share_tag(i)});
    }
    for (size_t i = 0; i < c.nics.size(); ++i) {
        std::string id = "n" + std::to_string(i);
        a.insert(a.end(), {"-netdev", "tap,id=" + id + ",fd=" + std::to_string(3 + i), "-device",
                           "virtio-net-device,netdev=" + id + ",mac=" + c.nics[i].mac});
    }
    return a;
}

}  // namespace

std::string console_tail(const fs::path& dir, size_t lines) {
    auto text = ctr::sys::read_file(dir / "console.log");
    if (!text) return {};
    std::vector<std::string> all;
    std::stringstream ss(*text);
    std::string line;
    while (std::getline(ss, line)) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (!line.empty()) all.push_back(line);
    }
    std::string out;
    for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) out += (out.empty() ? "" : " | ") + all[i];
    return out;
}

ctr::Result<std::unique_ptr<Vm>> Vm::boot(const VmConfig& c, FrameHandler on_frame, std::function<void()> on_gone) {
    std::string qemu = ctr::sys::find_program(c.qemu);
    if (qemu.empty()) return ctr::make_error(CTR_E_UNAVAILABLE, "qemu \"" + c.qemu + "\" not found (install qemu-system-x86)");
    std::string virtiofsd = ctr::sys::find_program(c.virtiofsd);
    if (virtiofsd.empty()) return ctr::make_error(CTR_E_UNAVAILABLE, "virtiofsd \"" + c.virtiofsd + "\" not found (install qemu-system-x86)");
    std::error_code ec;
    if (!fs::exists(c.kernel, ec)) return ctr::make_error(CTR_E_FAILED_PRECONDITION, "kernel " + c.kernel.string() + " not found");
    if (!fs::is_directory(c.rootfs, ec)) return ctr::make_error(CTR_E_FAILED_PRECONDITION, "rootfs " + c.rootfs.string() + " not found");

    std::unique_ptr<Vm> vm(new Vm());
    auto agent_listener = CTR_TRY(listen_in(c.dir, "agent.sock"));
    ::unlink((c.dir / "console.log").c_str());

    // One virtiofsd per shared directory, each on a socket it is handed
    // already listening, so that QEMU can connect as soon as it starts.
    std::vector<fs::path> sources = {c.rootfs};
    sources.insert(sources.end(), c.shares.begin(), c.shares.end());
    for (size_t i = 0; i < sources.size(); ++i) {
        std::string name = i == 0 ? "vfs" : "vfs" + std::to_string(i - 1);
        auto listener = CTR_TRY(listen_in(c.dir, name + ".sock"));
        ctr::sys::SpawnOptions fso;
        fso.stdout_path = (c.dir / (name + ".log")).string();
        fso.stderr_path.clear();
        fso.pass_fds = {{listener.get(), 3}};
        vm->virtiofsd_.push_back(CTR_TRY(ctr::sys::Child::spawn(
            {virtiofsd, "--fd=3", "-o", "source=" + fs::absolute(sources[i]).string(), "-o", "cache=auto", "-o", "xattr"}, fso)));
        if (c.on_spawn) c.on_spawn(vm->virtiofsd_.back().pid());
    }

    ctr::sys::SpawnOptions qo;
    qo.stdout_path = (c.dir / "qemu.log").string();
    qo.stderr_path.clear();
    qo.truncate = true;
    qo.cwd = c.dir.string();  // the socket paths above are relative to it
    for (size_t i = 0; i < c.nics.size(); ++i) qo.pass_fds.push_back({c.nics[i].tap_fd, static_cast<int>(3 + i)});
    vm->qemu_ = CTR_TRY(ctr::sys::Child::spawn(qemu_argv(c, qemu), qo));
    if (c.on_spawn) c.on_spawn(vm->qemu_.pid());

    auto died = [&](const std::string& when) {
        auto log = ctr::sys::read_file(c.dir / "qemu.log");
        std::string why = log && !log->empty() ? log->substr(0, log->find('\n')) : console_tail(c.dir);
        return ctr::make_error(CTR_E_INTERNAL, "the vm stopped " + when + (why.empty() ? "" : ": " + why));
    };
    // QEMU connects while it starts, before the guest runs.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(c.boot_timeout_ms);
    ctr::sys::UniqueFd agent;
    while (!agent.valid()) {
        if (!vm->qemu_.running()) return died("while starting");
        auto a = accept_within(agent_listener.get(), 100);
        if (a) agent = std::move(*a);
        else if (std::chrono::steady_clock::now() > deadline) return ctr::make_error(CTR_E_DEADLINE_EXCEEDED, "qemu did not connect to the agent channel");
    }
    agent_listener.reset();
    ::unlink((c.dir / "agent.sock").c_str());
    vm->channel_ = Channel(std::move(agent));

    // The guest boots: wait for READY, watching QEMU and the clock.
    for (;;) {
        pollfd p{vm->channel_.fd(), POLLIN, 0};
        int n = ::poll(&p, 1, 100);
        if (n > 0) {
            auto f = vm->channel_.receive();
            if (!f) return died("while booting");
            if (f->type == CTR_F_READY) break;
            continue;
        }
        if (!vm->qemu_.running()) return died("while booting");
        if (std::chrono::steady_clock::now() > deadline)
            return ctr::make_error(CTR_E_DEADLINE_EXCEEDED, "the vm did not boot within " + std::to_string(c.boot_timeout_ms / 1000) + " s: " + console_tail(c.dir));
    }
    Vm* self = vm.get();
    vm->reader_ = std::thread([self, on_frame = std::move(on_frame), on_gone = std::move(on_gone)] {
        for (;;) {
            auto f = self->channel_.receive();
            if (!f) break;
            on_frame(std::move(*f));
        }
        if (on_gone) on_gone();
    });
    return vm;
}

void Vm::power_off(int timeout_ms) {
    if (!qemu_.running()) return;
    (void)channel_.send(CTR_F_POWEROFF, 0);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (qemu_.running() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    qemu_.stop(0);
}

Vm::~Vm() {
    power_off();
    channel_.shutdown();
    if (reader_.joinable()) reader_.join();
    for (auto& d : virtiofsd_) d.stop(1000);  // they leave by themselves once QEMU is gone
}

}  // namespace microvm
