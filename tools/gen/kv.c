/* Metadata KV list: building, sorting, sizing, and the gemma4.* / general.* keys
 * of gemma4.md §2.3 with the GGUF types Ollama's converter gives them. */
#include "gen.h"

#include <stdlib.h>
#include <string.h>

void gen_kvs_free(gen_kvs *k) {
    for (size_t i = 0; i < k->n; i++) free(k->kv[i].key);
    for (size_t i = 0; i < k->n_owned; i++) free(k->owned[i]);
    free(k->kv);
    free(k->owned);
    memset(k, 0, sizeof *k);
}

int gen_kvs_own(gen_kvs *k, void *p) {
    if (!p) return k->failed = 1, 0;
    if (k->n_owned == k->cap_owned) {
        size_t cap = k->cap_owned ? 2 * k->cap_owned : 32;
        void **n = realloc(k->owned, cap * sizeof *n);
        if (!n) {
            free(p);
            return k->failed = 1, 0;
        }
        k->owned = n, k->cap_owned = cap;
    }
    k->owned[k->n_owned++] = p;
    return 1;
}

static void *copy_owned(gen_kvs *k, const void *src, size_t n) {
    void *p = malloc(n ? n : 1);
    if (p && n) memcpy(p, src, n);
    return gen_kvs_own(k, p) ? p : NULL;
}

static gen_kv *push(gen_kvs *k, const char *key, gguf_vtype type, gguf_vtype elem, uint64_t count) {
    if (k->failed) return NULL;
    if (k->n == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 64;
        gen_kv *n = realloc(k->kv, cap * sizeof *n);
        if (!n) return k->failed = 1, NULL;
        k->kv = n, k->cap = cap;
    }
    size_t len = strlen(key);
    char *dup = malloc(len + 1);
    if (!dup) return k->failed = 1, NULL;
    memcpy(dup, key, len + 1);
    gen_kv *kv = &k->kv[k->n++];
    memset(kv, 0, sizeof *kv);
    kv->key = dup, kv->type = type, kv->elem_type = elem, kv->count = count;
    return kv;
}

static size_t elem_size(gguf_vtype t) {
    switch (t) {
    case GGUF_U8: case GGUF_I8: case GGUF_BOOL: return 1;
    case GGUF_U16: case GGUF_I16: return 2;
    case GGUF_U32: case GGUF_I32: case GGUF_F32: return 4;
    case GGUF_U64: case GGUF_I64: case GGUF_F64: return 8;
    default: return 0;
    }
}

static int scalar(gen_kvs *k, const char *key, gguf_vtype t, const void *v) {
    gen_kv *kv = push(k, key, t, t, 1);
    return kv && (kv->data = copy_owned(k, v, elem_size(t))) != NULL;
}

/* Payloads are stored little-endian; both our targets are little-endian. */
int gen_kv_u32(gen_kvs *k, const char *key, uint32_t v) { return scalar(k, key, GGUF_U32, &v); }
int gen_kv_u64(gen_kvs *k, const char *key, uint64_t v) { return scalar(k, key, GGUF_U64, &v); }
int gen_kv_f32(gen_kvs *k, const char *key, float v) { return scalar(k, key, GGUF_F32, &v); }
int gen_kv_i32(gen_kvs *k, const char *key, int32_t v) { return scalar(k, key, GGUF_I32, &v); }
int gen_kv_bool(gen_kvs *k, const char *key, int v) {
    uint8_t b = v ? 1 : 0;
    return scalar(k, key, GGUF_BOOL, &b);
}

int gen_kv_str(gen_kvs *k, const char *key, const char *s) {
    gen_kv *kv = push(k, key, GGUF_STRING, GGUF_STRING, 1);
    if (!kv) return 0;
    size_t len = strlen(s);
    char *bytes = copy_owned(k, s, len);
    gguf_str *str = bytes ? copy_owned(k, &(gguf_str){bytes, len}, sizeof(gguf_str)) : NULL;
    return (kv->strs = str) != NULL;
}

int gen_kv_arr(gen_kvs *k, const char *key, gguf_vtype elem, const void *data, uint64_t count) {
    gen_kv *kv = push(k, key, GGUF_ARRAY, elem, count);
    return kv && (kv->data = copy_owned(k, data, (size_t)count * elem_size(elem))) != NULL;
}

int gen_kv_strs_ref(gen_kvs *k, const char *key, const gguf_str *strs, uint64_t count) {
    gen_kv *kv = push(k, key, GGUF_ARRAY, GGUF_STRING, count);
    return kv && (kv->strs = strs, 1);
}

int gen_kv_ref(gen_kvs *k, const char *key, gguf_vtype type, gguf_vtype elem, uint64_t count, const void *data,
               const gguf_str *strs) {
    gen_kv *kv = push(k, key, type, elem, count);
    return kv && (kv->data = data, kv->strs = strs, 1);
}

static int kv_cmp(const void *a, const void *b) {
    return strcmp(((const gen_kv *)a)->key, ((const gen_kv *)b)->key);
}
void gen_kvs_sort(gen_kvs *k) {
    if (k->n) qsort(k->kv, k->n, sizeof *k->kv, kv_cmp);
}

const gen_kv *gen_kvs_find(const gen_kvs *k, const char *key) {
    for (size_t i = 0; i < k->n; i++)
        if (!strcmp(k->kv[i].key, key)) return &k->kv[i];
    return NULL;
}

void gen_kvs_remove(gen_kvs *k, const char *key) {
    for (size_t i = 0; i < k->n; i++)
        if (!strcmp(k->kv[i].key, key)) {
            free(k->kv[i].key);
            memmove(&k->kv[i], &k->kv[i + 1], (k->n - i - 1) * sizeof *k->kv);
            k->n--;
            return;
        }
}

uint64_t gen_kv_size(const gen_kv *kv) {
    uint64_t n = 8 + strlen(kv->key) + 4;
    if (kv->type == GGUF_ARRAY) n += 4 + 8;
    if (kv->elem_type == GGUF_STRING)
        for (uint64_t i = 0; i < kv->count; i++) n += 8 + kv->strs[i].len;
    else
        n += kv->count * elem_size(kv->elem_type);
    return n;
}

/* ---- gemma4 keys ---- */

rl_status gen_model_keys(const gen_config *c, gen_kvs *k, rl_error *err) {
    uint32_t L = c->n_layer;
    int32_t *arr = malloc(L * sizeof *arr);
    uint8_t *pat = malloc(L);
    if (!arr || !pat) {
        free(arr), free(pat);
        return rl_fail(err, RL_ERR_NOMEM, "model keys");
    }
    gen_kv_u32(k, "gemma4.block_count", L);
    gen_kv_u32(k, "gemma4.embedding_length", c->n_embd);
    /* i32 per-layer array exactly when double-wide shared layers exist (converter rule) */
    if (c->double_wide && c->n_shared) {
        for (uint32_t i = 0; i < L; i++) arr[i] = (int32_t)gen_layer_ff(c, i);
        gen_kv_arr(k, "gemma4.feed_forward_length", GGUF_I32, arr, L);
    } else {
        gen_kv_u32(k, "gemma4.feed_forward_length", c->n_ff);
    }
    gen_kv_u32(k, "gemma4.context_length", c->n_ctx);
    gen_kv_u32(k, "gemma4.attention.head_count", c->n_head);
    if (c->n_kv_full != c->n_kv_swa) {
        for (uint32_t i = 0; i < L; i++) arr[i] = (int32_t)gen_layer_kv(c, i);
        gen_kv_arr(k, "gemma4.attention.head_count_kv", GGUF_I32, arr, L);
    } else {
        gen_kv_u32(k, "gemma4.attention.head_count_kv", c->n_kv_swa);
    }
    gen_kv_u32(k, "gemma4.attention.key_length", c->hd_full);
    gen_kv_u32(k, "gemma4.attention.value_length", c->hd_full);
    gen_kv_u32(k, "gemma4.attention.key_length_swa", c->hd_swa);
    gen_kv_u32(k, "gemma4.attention.value_length_swa", c->hd_swa);
    gen_kv_f32(k, "gemma4.attention.layer_norm_rms_epsilon", c->eps);
    gen_kv_u32(k, "gemma4.attention.sliding_window", c->window);
    for (uint32_t i = 0; i < L; i++) pat[i] = (uint8_t)gen_layer_is_swa(c, i);
    gen_kv_arr(k, "gemma4.attention.sliding_window_pattern", GGUF_BOOL, pat, L);
    gen_kv_u32(k, "gemma4.attention.shared_kv_layers", c->n_shared);
    gen_kv_f32(k, "gemma4.rope.freq_base", c->rope_base);
    gen_kv_u32(k, "gemma4.rope.dimension_count", c->hd_full);
    gen_kv_f32(k, "gemma4.rope.freq_base_swa", c->rope_base_swa);
    gen_kv_u32(k, "gemma4.rope.dimension_count_swa", c->hd_swa);
    if (c->softcap > 0) gen_kv_f32(k, "gemma4.final_logit_softcapping", c->softcap);
    if (c->n_expert) {
        gen_kv_u32(k, "gemma4.expert_count", c->n_expert);
        gen_kv_u32(k, "gemma4.expert_used_count", c->n_expert_used);
        gen_kv_u32(k, "gemma4.expert_feed_forward_length", c->n_ff_expert);
    }
    gen_kv_u32(k, "gemma4.embedding_length_per_layer_input", c->n_ple); /* always written */
    if (c->v_layers) {
        gen_kv_u32(k, "gemma4.vision.block_count", c->v_layers);
        gen_kv_u32(k, "gemma4.vision.embedding_length", c->v_embd);
        gen_kv_u32(k, "gemma4.vision.attention.head_count", c->v_heads);
        gen_kv_u32(k, "gemma4.vision.feed_forward_length", c->v_ff);
        gen_kv_u32(k, "gemma4.vision.patch_size", c->v_patch);
        gen_kv_u32(k, "gemma4.vision.num_channels", c->v_channels);
        gen_kv_u32(k, "gemma4.vision.projector.scale_factor", c->v_pool);
        gen_kv_f32(k, "gemma4.vision.attention.layer_norm_epsilon", c->v_eps);
    }
    if (c->a_layers) {
        gen_kv_u32(k, "gemma4.audio.block_count", c->a_layers);
        gen_kv_u32(k, "gemma4.audio.embedding_length", c->a_embd);
        gen_kv_u32(k, "gemma4.audio.feed_forward_length", c->a_ff);
        gen_kv_u32(k, "gemma4.audio.attention.head_count", c->a_heads);
        gen_kv_f32(k, "gemma4.audio.attention.layer_norm_epsilon", c->a_eps);
        gen_kv_u32(k, "gemma4.audio.conv_kernel_size", c->a_kernel);
    }
    gen_kv_str(k, "general.architecture", "gemma4");
    gen_kv_u32(k, "general.file_type", gen_file_type(c));
    gen_kv_u32(k, "general.quantization_version", 2);
    free(arr), free(pat);
    return k->failed ? rl_fail(err, RL_ERR_NOMEM, "model keys") : RL_OK;
}
