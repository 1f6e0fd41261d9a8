// The guest's initramfs: a newc cpio archive (the only format the kernel
// unpacks) holding our agent as /init, the kernel modules it loads, and the
// two device nodes init needs before devtmpfs is mounted.
#pragma once

#include <ctr/sdk/result.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace microvm {

struct InitramfsModule {
    std::string name;             // e.g. "virtio_mmio.ko"
    std::filesystem::path source;
};

// Writes the archive to `out` (atomically): /init from `agent`, and
// /lib/modules/<name> for each module plus /lib/modules/order, in load order.
ctr::Status write_initramfs(const std::filesystem::path& out, const std::filesystem::path& agent,
                            const std::vector<InitramfsModule>& modules);

}  // namespace microvm
