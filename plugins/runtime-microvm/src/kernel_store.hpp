// The guest kernels of runtime-microvm, kept in the plugin's state directory:
//
//   kernels/<name>/vmlinuz          the kernel image
//   kernels/<name>/modules/*.ko     the virtio modules the agent loads, flat
//   kernels/<name>/kernel.json      {"name","version","source","sha256","installed_at"}
//   kernels/<name>/initramfs.img    built from the agent and the modules (a cache)
//   kernels/current, previous       symlinks to a <name>
//
// A kernel is unpacked beside the others, booted once (the caller's test),
// and only then made current, by renaming a new symlink over the old one:
// a crash at any point leaves the old current in place. The one it replaced
// becomes `previous`, for rollback.
#pragma once

#include <ctr/sdk/result.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace microvm {

// The modules the agent loads, in load order (dependencies first).
const std::vector<std::string>& guest_modules();

struct KernelSource {
    enum Kind { package, tar, binary } kind = package;
    std::filesystem::path path;
    std::string digest;  // tar: "sha256:<hex>", required
};

class KernelStore {
public:
    // Boots the kernel in the directory given; an error keeps it from being switched to.
    using BootTest = std::function<ctr::Status(const std::filesystem::path& kernel_dir)>;

    explicit KernelStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
    const std::filesystem::path& dir() const { return dir_; }

    // The current kernel's directory; CTR_E_NOT_FOUND with advice when none is set.
    ctr::Result<std::filesystem::path> current() const;
    // Every installed kernel's kernel.json, with "current" and "previous" flags.
    ctr::Result<nlohmann::json> list() const;
    // Unpacks, verifies, boot-tests and switches to the kernel. Result: its kernel.json.
    ctr::Result<nlohmann::json> install(const KernelSource& source, const BootTest& test);
    // Makes `previous` current again (and the current one previous).
    ctr::Result<nlohmann::json> rollback();
    // The version recorded for the current kernel ("" when none).
    std::string current_version() const;
    // The initramfs for a kernel directory, rebuilt when the agent is newer.
    ctr::Result<std::filesystem::path> initramfs(const std::filesystem::path& kernel_dir, const std::filesystem::path& agent) const;

private:
    ctr::Status point(const std::string& link, const std::string& name) const;
    std::filesystem::path dir_;
};

// "sha256:<hex>" of a file.
ctr::Result<std::string> file_sha256(const std::filesystem::path& path);
// A .deb's control fields (Package, Version, ...).
ctr::Result<nlohmann::json> package_control(const std::filesystem::path& deb);

}  // namespace microvm
