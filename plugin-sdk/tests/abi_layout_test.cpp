// Locks the layout of every released ABI struct. A failure here means a
// change would break plugins built against an earlier header: released
// fields never move; new ones go at the end, in a new minor. Built against
// the current header and against each frozen one (tests/abi/1.N), which
// checks the slots its minor has.
#include <ctr/plugin.h>

#include <doctest/doctest.h>

#include <cstddef>

#define FIELD(type, field, off) CHECK(offsetof(type, field) == (off))

#if defined(__x86_64__) || defined(__aarch64__)

TEST_CASE("ctr_error layout 1.0") {
    CHECK(sizeof(ctr_error) == 24);
    FIELD(ctr_error, struct_size, 0);
    FIELD(ctr_error, status, 4);
    FIELD(ctr_error, detail_code, 8);
    FIELD(ctr_error, message_capacity, 12);
    FIELD(ctr_error, message, 16);
}

TEST_CASE("ctr_sink and ctr_progress layout 1.0") {
    CHECK(sizeof(ctr_sink) == 24);
    FIELD(ctr_sink, ctx, 8);
    FIELD(ctr_sink, write, 16);
    CHECK(sizeof(ctr_progress) == 32);
    FIELD(ctr_progress, ctx, 8);
    FIELD(ctr_progress, event, 16);
    FIELD(ctr_progress, cancelled, 24);
}

TEST_CASE("ctr_host layout 1.0") {
    CHECK(sizeof(ctr_host) == 80);
    FIELD(ctr_host, struct_size, 0);
    FIELD(ctr_host, abi_major, 4);
    FIELD(ctr_host, abi_minor_min, 8);
    FIELD(ctr_host, abi_minor_max, 12);
    FIELD(ctr_host, host_version, 16);
    FIELD(ctr_host, plugin_name, 24);
    FIELD(ctr_host, state_dir, 32);
    FIELD(ctr_host, config_json, 40);
    FIELD(ctr_host, config_json_len, 48);
    FIELD(ctr_host, host_data, 56);
    FIELD(ctr_host, log, 64);
    FIELD(ctr_host, get_extension, 72);
}

TEST_CASE("ctr_plugin_desc layout 1.0") {
    CHECK(sizeof(ctr_plugin_desc) == 72);
    FIELD(ctr_plugin_desc, abi_minor, 4);
    FIELD(ctr_plugin_desc, kind, 8);
    FIELD(ctr_plugin_desc, name, 16);
    FIELD(ctr_plugin_desc, version, 24);
    FIELD(ctr_plugin_desc, instance, 32);
    FIELD(ctr_plugin_desc, destroy, 40);
    FIELD(ctr_plugin_desc, runtime, 48);
    FIELD(ctr_plugin_desc, network, 56);
    FIELD(ctr_plugin_desc, image, 64);
}

TEST_CASE("ctr_runtime_v1 layout 1.0") {
    CHECK(CTR_RUNTIME_V1_MIN_SIZE == 80);
    FIELD(ctr_runtime_v1, create, 8);
    FIELD(ctr_runtime_v1, start, 16);
    FIELD(ctr_runtime_v1, kill, 24);
    FIELD(ctr_runtime_v1, state, 32);
    FIELD(ctr_runtime_v1, wait, 40);
    FIELD(ctr_runtime_v1, delete_container, 48);
    FIELD(ctr_runtime_v1, exec, 56);
    FIELD(ctr_runtime_v1, resize, 64);
    FIELD(ctr_runtime_v1, stats, 72);
}

#if CTR_ABI_MINOR >= 2
TEST_CASE("ctr_runtime_v1 layout 1.2: pause, resume, update after the 1.0 slots") {
    FIELD(ctr_runtime_v1, pause, 80);
    FIELD(ctr_runtime_v1, resume, 88);
    FIELD(ctr_runtime_v1, update, 96);
}

#endif

#if CTR_ABI_MINOR >= 4
TEST_CASE("ctr_runtime_v1 layout 1.4: processes after update") {
    CHECK(sizeof(ctr_runtime_v1) == 112);
    FIELD(ctr_runtime_v1, processes, 104);
}
#endif

TEST_CASE("ctr_network_v1 layout 1.0") {
    CHECK(sizeof(ctr_network_v1) == 48);
    FIELD(ctr_network_v1, create_network, 8);
    FIELD(ctr_network_v1, remove_network, 16);
    FIELD(ctr_network_v1, attach, 24);
    FIELD(ctr_network_v1, detach, 32);
    FIELD(ctr_network_v1, list, 40);
}

TEST_CASE("ctr_image_v1 layout 1.0") {
    CHECK(CTR_IMAGE_V1_MIN_SIZE == 56);
    FIELD(ctr_image_v1, pull, 8);
    FIELD(ctr_image_v1, resolve, 16);
    FIELD(ctr_image_v1, list, 24);
    FIELD(ctr_image_v1, remove, 32);
    FIELD(ctr_image_v1, prepare_rootfs, 40);
    FIELD(ctr_image_v1, release_rootfs, 48);
}

#if CTR_ABI_MINOR >= 1
TEST_CASE("ctr_image_v1 layout 1.1: tag, save, load, push, import_rootfs after the 1.0 slots") {
    FIELD(ctr_image_v1, tag, 56);
    FIELD(ctr_image_v1, save, 64);
    FIELD(ctr_image_v1, load, 72);
    FIELD(ctr_image_v1, push, 80);
    FIELD(ctr_image_v1, import_rootfs, 88);
}

#endif

#if CTR_ABI_MINOR >= 3
TEST_CASE("ctr_image_v1 layout 1.3: commit after import_rootfs") {
    CHECK(sizeof(ctr_image_v1) == 104);
    FIELD(ctr_image_v1, commit, 96);
}
#endif

#endif

TEST_CASE("status, kind and log level values 1.0") {
    CHECK(CTR_OK == 0);
    CHECK(CTR_E_INVALID_ARGUMENT == 1);
    CHECK(CTR_E_NOT_FOUND == 2);
    CHECK(CTR_E_ALREADY_EXISTS == 3);
    CHECK(CTR_E_FAILED_PRECONDITION == 4);
    CHECK(CTR_E_UNAVAILABLE == 5);
    CHECK(CTR_E_UNIMPLEMENTED == 6);
    CHECK(CTR_E_INTERNAL == 7);
    CHECK(CTR_E_PERMISSION_DENIED == 8);
    CHECK(CTR_E_CANCELLED == 9);
    CHECK(CTR_E_DEADLINE_EXCEEDED == 10);
    CHECK(CTR_E_UNSUPPORTED == 11);
    CHECK(CTR_E_RESOURCE_EXHAUSTED == 12);
    CHECK(CTR_KIND_RUNTIME == 1);
    CHECK(CTR_KIND_NETWORK == 2);
    CHECK(CTR_KIND_IMAGE == 3);
    CHECK(CTR_LOG_TRACE == 0);
    CHECK(CTR_LOG_ERROR == 4);
    CHECK(CTR_ABI_MAJOR == 1);
}
