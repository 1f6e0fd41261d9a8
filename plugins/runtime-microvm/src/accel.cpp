#include "accel.hpp"

#include <ctr/sys/files.hpp>

#include <filesystem>
#include <unistd.h>

namespace microvm {

namespace {

bool hardware_virtualization() {
    auto cpuinfo = ctr::sys::read_file("/proc/cpuinfo");
    if (!cpuinfo) return false;
    return cpuinfo->find(" vmx") != std::string::npos || cpuinfo->find(" svm") != std::string::npos;
}

}  // namespace

Accel choose_accel(const std::string& wanted) {
    if (wanted == "tcg") return {false, ""};
    if (wanted == "kvm") return {true, ""};  // the operator knows better
    std::error_code ec;
    if (::access("/dev/kvm", R_OK | W_OK) != 0)
        return {false, "runtime-microvm: no usable /dev/kvm; using software emulation (slow)"};
    if (std::filesystem::exists("/sys/module/kvm_pvm", ec) || !hardware_virtualization())
        return {false, "runtime-microvm: /dev/kvm here is PVM without hardware virtualization and cannot boot a stock kernel; using software emulation (slow)"};
    return {true, ""};
}

}  // namespace microvm
