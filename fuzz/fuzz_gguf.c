/* libFuzzer target for the GGUF header reader: parse the input as a whole
 * file, as a prefix of a larger file, and as a prefix of unknown size; on
 * success walk every key, value and tensor through the lookup and getter API.
 * Broken promises (a failure without a message, a bad need, a tensor outside
 * the stated file) abort so the fuzzer reports them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"

static void exercise(const gguf_file *g) {
    char name[256];
    volatile uint64_t sink = 0;
    volatile double fsink = 0;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const gguf_kv *kv = &g->kv[i];
        size_t n = kv->key.len < sizeof name - 1 ? (size_t)kv->key.len : sizeof name - 1;
        memcpy(name, kv->key.ptr, n);
        name[n] = '\0';
        if (n == kv->key.len && !memchr(name, 0, n) && gguf_find_kv(g, name) != kv) abort();
        rl_error err;
        uint32_t u;
        float f;
        int b;
        gguf_str s;
        if (gguf_get_u32(g, name, &u, &err) != RL_OK && !err.msg[0]) abort();
        if (gguf_get_f32(g, name, &f, &err) == RL_OK) fsink += f;
        else if (!err.msg[0]) abort();
        if (gguf_get_bool(g, name, &b, &err) != RL_OK && !err.msg[0]) abort();
        if (gguf_get_str(g, name, &s, &err) == RL_OK) sink += s.len ? (unsigned char)s.ptr[s.len - 1] : 0;
        uint64_t lim = kv->count < 64 ? kv->count : 64;
        for (uint64_t j = 0; j <= lim; j++) { /* one past the end on purpose */
            sink += (uint64_t)gguf_arr_int(kv, j);
            fsink += gguf_arr_f64(kv, j);
            gguf_str e = gguf_arr_str(kv, j);
            if (e.len) sink += (unsigned char)e.ptr[0] + (unsigned char)e.ptr[e.len - 1];
        }
        if (kv->count) sink += (uint64_t)gguf_arr_int(kv, kv->count - 1) + gguf_arr_str(kv, kv->count - 1).len;
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        if (t->offset % g->alignment || t->nbytes == 0) abort();
        if (g->file_size && g->data_offset + t->offset + t->nbytes > g->file_size) abort();
        size_t n = t->name.len < sizeof name - 1 ? (size_t)t->name.len : sizeof name - 1;
        memcpy(name, t->name.ptr, n);
        name[n] = '\0';
        if (n == t->name.len && !memchr(name, 0, n) && gguf_find_tensor(g, name) != t) abort();
    }
    (void)sink;
    (void)fsink;
}

static void run(const uint8_t *data, size_t size, uint64_t file_size) {
    gguf_file *g = NULL;
    uint64_t need = 0;
    rl_error err;
    err.msg[0] = '\0';
    rl_status st = gguf_parse(data, size, file_size, &g, &need, &err);
    if (st == RL_OK) {
        if (!g || g->data_offset < g->header_size || g->data_offset % g->alignment) abort();
        exercise(g);
        gguf_free(g);
        return;
    }
    if (g || !err.msg[0]) abort();
    if (st == RL_NEED_MORE) {
        uint64_t known = file_size && file_size < size ? file_size : size;
        if (need <= known || (file_size && need > file_size)) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    run(data, size, size);          /* the whole file */
    run(data, size, size * 2 + 64); /* a prefix of a larger file */
    run(data, size, 0);             /* size unknown */
    return 0;
}
