/* libFuzzer target for the JSON parser. Any input must either fail with a
 * positioned message or give a tree that survives json_write -> json_parse
 * unchanged (serialization is canonical, so the second write must equal the
 * first byte for byte). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_value *v = NULL;
    rl_error err = {0};
    if (json_parse((const char *)data, size, &v, &err) != RL_OK) {
        if (v || strncmp(err.msg, "line ", 5)) abort();
        return 0;
    }
    strbuf a, b;
    sb_init(&a);
    sb_init(&b);
    json_write(&a, v);
    json_value *v2 = NULL;
    if (a.failed || json_parse(a.s, a.len, &v2, &err) != RL_OK) abort();
    json_write(&b, v2);
    if (b.failed || a.len != b.len || memcmp(a.s, b.s, a.len)) abort();
    json_free(v);
    json_free(v2);
    sb_free(&a);
    sb_free(&b);
    return 0;
}
