// Which accelerator a VM gets. KVM needs hardware virtualization (VT-x or
// AMD-V) behind /dev/kvm; a PVM host's /dev/kvm runs only guests built for
// PVM, never a stock kernel, so there we emulate (TCG), and say so once.
#pragma once

#include <string>

namespace microvm {

struct Accel {
    bool kvm = false;
    std::string warning;  // one line when we fall back to emulation; else empty
};

// `wanted`: "auto", "kvm" or "tcg" (the manifest's accel setting).
Accel choose_accel(const std::string& wanted);

}  // namespace microvm
