#include "initramfs.hpp"

#include <ctr/sys/files.hpp>

#include <cstdio>
#include <sys/stat.h>
#include <sys/sysmacros.h>

namespace microvm {

namespace {

// One newc entry: a 110-byte ASCII header, the name, padding to 4, the data,
// padding to 4.
class Cpio {
public:
    void add(const std::string& name, uint32_t mode, const std::string& data = {}, uint32_t rdev_major = 0,
             uint32_t rdev_minor = 0) {
        char header[111];
        std::snprintf(header, sizeof header, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ++ino_, mode, 0u, 0u,
                      1u, 0u, static_cast<uint32_t>(data.size()), 0u, 0u, rdev_major, rdev_minor,
                      static_cast<uint32_t>(name.size() + 1), 0u);
        out_.append(header, 110);
        out_ += name;
        out_.push_back('\0');
        pad();
        out_ += data;
        pad();
    }
    std::string finish() {
        add("TRAILER!!!", 0);
        return std::move(out_);
    }

private:
    void pad() {
        while (out_.size() % 4) out_.push_back('\0');
    }
    std::string out_;
    uint32_t ino_ = 0;
};

}  // namespace

ctr::Status write_initramfs(const std::filesystem::path& out, const std::filesystem::path& agent,
                            const std::vector<InitramfsModule>& modules) {
    auto init = ctr::sys::read_file(agent);
    if (!init) return ctr::make_error(CTR_E_UNAVAILABLE, "guest agent " + agent.string() + ": " + init.error().message);
    Cpio cpio;
    for (const char* dir : {"dev", "proc", "sys", "newroot", "lib", "lib/modules"}) cpio.add(dir, S_IFDIR | 0755);
    cpio.add("dev/console", S_IFCHR | 0600, {}, 5, 1);
    cpio.add("dev/null", S_IFCHR | 0666, {}, 1, 3);
    cpio.add("init", S_IFREG | 0755, *init);
    std::string order;
    for (const auto& m : modules) {
        auto data = ctr::sys::read_file(m.source);
        if (!data) return ctr::make_error(CTR_E_INTERNAL, "module " + m.source.string() + ": " + data.error().message);
        cpio.add("lib/modules/" + m.name, S_IFREG | 0644, *data);
        order += m.name + "\n";
    }
    cpio.add("lib/modules/order", S_IFREG | 0644, order);
    return ctr::sys::write_file_atomic(out, cpio.finish(), 0644);
}

}  // namespace microvm
