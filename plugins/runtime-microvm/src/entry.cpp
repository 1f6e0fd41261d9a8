// runtime-microvm: ABI wiring only; the runtime is in runtime.cpp.
#include "runtime.hpp"

CTR_SDK_PLUGIN(microvm::Runtime, "runtime-microvm", "0.1.0")
