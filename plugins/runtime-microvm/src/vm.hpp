// One micro-VM: QEMU's `microvm` machine booting our kernel and initramfs,
// its root filesystem shared from the host by virtiofsd, and the agent
// channel on a virtio-serial port. Owns both processes: the destructor
// powers the guest off (or kills QEMU) and reaps them.
#pragma once

#include "accel.hpp"
#include "channel.hpp"

#include <ctr/sys/child.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <ctr/sdk/result.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace microvm {

// The virtiofs tag of VmConfig::shares[i], as the guest mounts it.
inline std::string share_tag(size_t i) { return "vol" + std::to_string(i); }

struct VmConfig {
    std::filesystem::path dir;  // the VM's own: sockets, console and QEMU logs
    std::filesystem::path kernel, initramfs;
    std::filesystem::path rootfs;  // shared with the guest as its /
    // More directories shared with the guest (volumes), each by a virtiofsd
    // of its own, under the tag share_tag(N) (N from 0, in this order).
    std::vector<std::filesystem::path> shares;
    int memory_mib = 1024;
    int cpus = 1;
    Accel accel;
    std::string qemu = "qemu-system-x86_64";           // a name on PATH or a path
    std::string virtiofsd = "/usr/lib/qemu/virtiofsd";
    int boot_timeout_ms = 120000;
    struct Nic {
        int tap_fd;       // stays ours; QEMU gets a copy
        std::string mac;
    };
    std::vector<Nic> nics;
    int tcg_tb_size_mib = 0;  // emulation's translation cache; 0: QEMU's default
    std::string kernel_args;  // appended to the kernel command line
    // Called with each process the VM is made of, as soon as it exists
    // (to put it in the container's cgroup before the guest's RAM is touched).
    std::function<void(pid_t)> on_spawn;
};

class Vm {
public:
    using FrameHandler = std::function<void(Frame&&)>;
    // Boots and waits for the agent's READY. `on_frame` then gets every
    // frame the agent sends, on the VM's reader thread; `on_gone` runs there
    // once when the channel ends (the guest powered off or died).
    static ctr::Result<std::unique_ptr<Vm>> boot(const VmConfig& config, FrameHandler on_frame, std::function<void()> on_gone);
    ~Vm();
    Vm(const Vm&) = delete;
    Vm& operator=(const Vm&) = delete;

    Channel& channel() { return channel_; }
    pid_t qemu_pid() const { return qemu_.pid(); }
    // Asks the guest to power off; kills QEMU if it has not within the time.
    void power_off(int timeout_ms = 3000);

private:
    Vm() = default;
    std::vector<ctr::sys::Child> virtiofsd_;
    ctr::sys::Child qemu_;
    Channel channel_;
    std::thread reader_;
};

// The last lines of the VM's console, for error messages.
std::string console_tail(const std::filesystem::path& dir, size_t lines = 3);

}  // namespace microvm
