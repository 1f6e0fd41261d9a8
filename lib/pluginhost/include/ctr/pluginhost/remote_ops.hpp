// The slots of the plugin tables by name, for the plugin host process
// (which calls the slot a frame names), the daemon's proxy (which fills the
// same slots with functions that send the frame), and container-oci's
// monitor (which serves a runtime's calls for one container).
#pragma once

#include <ctr/plugin.h>

#include <cstddef>
#include <cstring>
#include <string_view>

namespace ctr::pluginhost {

struct OpSlot {
    const char* name;
    ctr_kind kind;
    size_t offset;   // in ctr_runtime_v1, ctr_network_v1 or ctr_image_v1
    bool progress;   // a ctr_progress_op (pull, push), else a ctr_op
};

inline constexpr OpSlot kOpSlots[] = {
    {"create", CTR_KIND_RUNTIME, offsetof(ctr_runtime_v1, create), false},
    {"start", CTR_KIND_RUNTIME, offsetof(ctr_runtime_v1, start), false},
    {"kill", CTR_KIND_RUNTIME, offsetof(ctr_runtime_v1, kill), false},
    {"state", CTR_KIND_RUNTIME, offsetof(ctr_runtime_v1, state), false},
    {"wait", CTR_KIND_RUNTIME, offsetof(ctr_runtime_v1, wait), false},
    {"delete", CTR_KIND_RUNTIME, offsetof(ctr_runtime_v1, delete_container), false},
    {"exec", CTR_KIND_RUNTIME, offsetof(ctr_runtime_v1, exec), false},
    {"resize", CTR_KIND_RUNTIME, offsetof(ctr_runtime_v1, resize), false},
    {"stats", CTR_KIND_RUNTIME, offsetof(ctr_runtime_v1, stats), false},
    {"pause", CTR_KIND_RUNTIME, offsetof(ctr_runtime_v1, pause), false},
    {"resume", CTR_KIND_RUNTIME, offsetof(ctr_runtime_v1, resume), false},
    {"update", CTR_KIND_RUNTIME, offsetof(ctr_runtime_v1, update), false},
    {"processes", CTR_KIND_RUNTIME, offsetof(ctr_runtime_v1, processes), false},
    {"create_network", CTR_KIND_NETWORK, offsetof(ctr_network_v1, create_network), false},
    {"remove_network", CTR_KIND_NETWORK, offsetof(ctr_network_v1, remove_network), false},
    {"attach", CTR_KIND_NETWORK, offsetof(ctr_network_v1, attach), false},
    {"detach", CTR_KIND_NETWORK, offsetof(ctr_network_v1, detach), false},
    {"list", CTR_KIND_NETWORK, offsetof(ctr_network_v1, list), false},
    {"pull", CTR_KIND_IMAGE, offsetof(ctr_image_v1, pull), true},
    {"resolve", CTR_KIND_IMAGE, offsetof(ctr_image_v1, resolve), false},
    {"list", CTR_KIND_IMAGE, offsetof(ctr_image_v1, list), false},
    {"remove", CTR_KIND_IMAGE, offsetof(ctr_image_v1, remove), false},
    {"prepare_rootfs", CTR_KIND_IMAGE, offsetof(ctr_image_v1, prepare_rootfs), false},
    {"release_rootfs", CTR_KIND_IMAGE, offsetof(ctr_image_v1, release_rootfs), false},
    {"tag", CTR_KIND_IMAGE, offsetof(ctr_image_v1, tag), false},
    {"save", CTR_KIND_IMAGE, offsetof(ctr_image_v1, save), false},
    {"load", CTR_KIND_IMAGE, offsetof(ctr_image_v1, load), false},
    {"push", CTR_KIND_IMAGE, offsetof(ctr_image_v1, push), true},
    {"import_rootfs", CTR_KIND_IMAGE, offsetof(ctr_image_v1, import_rootfs), false},
    {"commit", CTR_KIND_IMAGE, offsetof(ctr_image_v1, commit), false},
};
inline constexpr size_t kOpSlotCount = sizeof kOpSlots / sizeof kOpSlots[0];

// The slot of `kind` called `name`, or null.
inline const OpSlot* find_op_slot(ctr_kind kind, std::string_view name) {
    for (const auto& s : kOpSlots)
        if (s.kind == kind && name == s.name) return &s;
    return nullptr;
}

// The function pointer stored in a table at a slot's offset (a ctr_op or a
// ctr_progress_op, by slot.progress), as an untyped pointer.
inline void* read_slot(const void* table, const OpSlot& slot) {
    void* fn = nullptr;
    std::memcpy(&fn, static_cast<const char*>(table) + slot.offset, sizeof fn);
    return fn;
}

inline void write_slot(void* table, const OpSlot& slot, void* fn) {
    std::memcpy(static_cast<char*>(table) + slot.offset, &fn, sizeof fn);
}

}  // namespace ctr::pluginhost
