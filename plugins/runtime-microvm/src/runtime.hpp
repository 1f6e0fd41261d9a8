// runtime-microvm: every container in a lightweight VM of its own.
//
// The plugin runs in the container's shim, as runtime-linux does. `create`
// boots the VM (QEMU microvm, the rootfs over virtiofs, our agent as init)
// and `start` has the agent run the container's process; its output comes
// back over the agent channel into the files the shim gave. The container's
// "pid" on the host is a small signal proxy (container-vm-signals): what
// the daemon sends it reaches the process in the guest. `exec` runs in
// another shim and reaches the VM through the owning shim's exec relay.
#pragma once

#include "accel.hpp"
#include "exec_relay.hpp"
#include "guest_mounts.hpp"
#include "guest_process.hpp"
#include "host_terminal.hpp"
#include "process_spec.hpp"
#include "stdin_pump.hpp"
#include "kernel_store.hpp"
#include "vm.hpp"
#include "vm_cgroup.hpp"
#include "vm_network.hpp"

#include <ctr/sdk/plugin.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace microvm {

using ctr::sdk::json;

class Runtime : public ctr::sdk::Runtime {
public:
    using ctr::sdk::Runtime::Runtime;
    ~Runtime() override;

    ctr::Status init() override;
    ctr::Result<json> create(const json& req) override;
    ctr::Result<json> start(const json& req) override;
    ctr::Result<json> kill(const json& req) override;
    ctr::Result<json> state(const json& req) override;
    ctr::Result<json> wait(const json& req) override;
    ctr::Result<json> remove(const json& req) override;
    ctr::Result<json> exec(const json& req) override;
    ctr::Result<json> stats(const json& req) override;
    // ABI 1.2: the whole VM stops and goes on (QEMU gets SIGSTOP and
    // SIGCONT); a VM's memory and CPUs are fixed when it boots: no update.
    ctr::Result<json> pause(const json& req) override;
    ctr::Result<json> resume(const json& req) override;
    ctr::Result<json> update(const json& req) override;
    // ABI 1.4: the guest's processes, from its agent (through the VM's relay).
    ctr::Result<json> processes(const json& req) override;

private:
    // The QEMU of a container's VM, from its directory (whichever shim asks).
    ctr::Result<pid_t> qemu_of(const std::string& id);
    // A container whose VM this instance owns.
    struct Container {
        std::string id, bundle, hostname;
        json process;
        StdinMode stdin_mode = StdinMode::none;
        ctr::sys::UniqueFd stdin_fd;
        std::unique_ptr<HostTerminal> terminal;
        std::unique_ptr<GuestProcess> main;
        std::vector<GuestNic> nics;  // their taps close after QEMU is gone
        GuestMounts mounts;          // read-only views unmounted after QEMU is gone
        VmCgroup cgroup;  // declared before the VM: removed after its processes are gone
        std::unique_ptr<Vm> vm;
        // Set once the VM is up and taken away at teardown, while the VM's
        // reader thread may be handing it a frame: guarded.
        std::mutex relay_mu;
        std::unique_ptr<ExecRelay> relay;
        void deliver_to_relay(const Frame& f) {
            std::lock_guard lock(relay_mu);
            if (relay) relay->deliver(f);
        }
        ctr::sys::Child proxy;
        ctr::sys::UniqueFd proxy_signals;
        std::thread signal_thread;
        std::unique_ptr<StdinPump> stdin;
        bool started = false;
        int memory_mib = 0;
    };
    // A process exec'd through another shim's relay.
    struct Exec {
        Channel channel;
        std::unique_ptr<GuestProcess> process;
        std::thread reader;
        std::unique_ptr<StdinPump> stdin;
        ctr::sys::UniqueFd stdin_fd;
        std::unique_ptr<HostTerminal> terminal;
    };

    std::filesystem::path vm_dir(const std::string& id) const;
    std::filesystem::path helper(const std::string& name) const;
    ctr::Result<std::shared_ptr<Container>> find(const std::string& id);
    void teardown(Container& c);
    ctr::Result<std::shared_ptr<Container>> new_container(const json& req, const json& config, const std::string& id, const std::string& bundle);
    ctr::Result<VmConfig> vm_config(const json& config, const std::filesystem::path& rootfs, Container& c);
    ctr::Status spawn_signal_proxy(Container& c, const std::filesystem::path& rootfs);

    json settings_;
    Accel accel_;
    std::unique_ptr<KernelStore> kernels_;
    std::filesystem::path plugin_dir_;
    std::mutex mu_;
    std::map<std::string, std::shared_ptr<Container>> containers_;
    std::map<std::string, std::shared_ptr<Exec>> execs_;  // by "id/exec_id"
};

// A VM that only boots and powers off: the kernel store's boot test.
ctr::Status boot_test(const std::filesystem::path& kernel_dir, const KernelStore& store, const std::filesystem::path& agent,
                      const VmConfig& base);

}  // namespace microvm
