// runtime-linux: ABI wiring only; the runtime is in runtime.cpp.
#include "runtime.hpp"

CTR_SDK_PLUGIN(runtime_linux::Runtime, "runtime-linux", "0.1.0")
