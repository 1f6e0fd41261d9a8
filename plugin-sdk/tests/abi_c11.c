/* The ABI header must compile as strict C11 (-std=c11 -Wall -Wextra -Werror
 * -pedantic) and be usable from C: this file is built that way in CI and run
 * as a test. */
#include <ctr/plugin.h>

#include <stdio.h>

static int32_t noop(ctr_plugin *plugin, const char *request, size_t request_len, const ctr_sink *result,
                    ctr_error *err) {
    (void)plugin; (void)request; (void)request_len; (void)result; (void)err;
    return CTR_OK;
}

int main(void) {
    ctr_runtime_v1 table = {sizeof(ctr_runtime_v1), 0, noop, noop, noop, noop, noop, noop, noop, noop, noop, noop, noop, noop, noop};
    char msg[8];
    ctr_error err = {sizeof(ctr_error), CTR_OK, 0, sizeof msg, msg};
    if (table.create(NULL, "{}", 2, NULL, &err) != CTR_OK) return 1;
    if (CTR_RUNTIME_V1_MIN_SIZE + 4 * sizeof(ctr_op) != sizeof(ctr_runtime_v1)) return 2;  /* 1.2 added three slots, 1.4 one */
    if (CTR_HOST_MIN_SIZE != sizeof(ctr_host)) return 3;
    if (CTR_DESC_MIN_SIZE != sizeof(ctr_plugin_desc)) return 4;
    printf("abi %d.%d compiles as C11\n", CTR_ABI_MAJOR, CTR_ABI_MINOR);
    return 0;
}
