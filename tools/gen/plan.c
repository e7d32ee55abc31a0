/* The tensor plan: collecting tensors, Ollama's order, types, offsets and the
 * complete key list. */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant.h"

int gen_add_tensor(gen_model *m, const char *name, uint32_t n_dims, const uint64_t *ne, gen_init init) {
    if (strlen(name) >= GEN_NAME_MAX || n_dims < 1 || n_dims > 4) return 0;
    if (m->n_t == m->cap_t) {
        size_t cap = m->cap_t ? 2 * m->cap_t : 256;
        gen_tensor *t = realloc(m->t, cap * sizeof *t);
        if (!t) return 0;
        m->t = t, m->cap_t = cap;
    }
    gen_tensor *t = &m->t[m->n_t++];
    memset(t, 0, sizeof *t);
    strcpy(t->name, name);
    t->n_dims = n_dims;
    for (uint32_t d = 0; d < 4; d++) t->ne[d] = d < n_dims ? ne[d] : 1;
    t->init = init;
    return 1;
}

int gen_add(gen_model *m, const char *name, gen_init init, uint64_t d0, uint64_t d1, uint64_t d2, uint64_t d3) {
    uint64_t ne[4] = {d0, d1, d2, d3};
    uint32_t n = d3 ? 4 : d2 ? 3 : d1 ? 2 : 1;
    return gen_add_tensor(m, name, n, ne, init);
}

int gen_add_clamps(gen_model *m, const char *base) {
    static const char *const sfx[4] = {"input_min", "input_max", "output_min", "output_max"};
    char name[GEN_NAME_MAX];
    int ok = 1;
    for (int k = 0; k < 4; k++) {
        snprintf(name, sizeof name, "%s.%s", base, sfx[k]);
        ok &= gen_add(m, name, init_clamp(&m->cfg, k & 1), 1, 0, 0, 0);
    }
    return ok;
}

/* Go's fmt.Sscanf(name, "blk.%d.", &n) as used by Ollama's Tensor.block();
 * names that do not match sort after every block. */
static int64_t block_of(const char *name) {
    if (strncmp(name, "blk.", 4) != 0) return INT64_MAX;
    const char *p = name + 4;
    int64_t n = 0;
    if (*p < '0' || *p > '9') return INT64_MAX;
    for (; *p >= '0' && *p <= '9'; p++) {
        n = n * 10 + (*p - '0');
        if (n > 1000000000) return INT64_MAX;
    }
    return *p == '.' ? n : INT64_MAX;
}

int gen_tensor_cmp(const char *a, const char *b) {
    int64_t ba = block_of(a), bb = block_of(b);
    if (ba != bb) return ba < bb ? -1 : 1;
    return strcmp(a, b);
}

static int tensor_cmp(const void *a, const void *b) {
    return gen_tensor_cmp(((const gen_tensor *)a)->name, ((const gen_tensor *)b)->name);
}

const gen_tensor *gen_model_find(const gen_model *m, const char *name) {
    for (size_t i = 0; i < m->n_t; i++)
        if (!strcmp(m->t[i].name, name)) return &m->t[i];
    return NULL;
}

void gen_model_free(gen_model *m) {
    gen_kvs_free(&m->kv);
    free(m->t);
    memset(m, 0, sizeof *m);
}

#define ALIGN 32

rl_status gen_model_build(gen_model *m, const gen_config *cfg, const gen_vocab *vocab, rl_error *err) {
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    m->cfg.n_vocab = gen_vocab_size(vocab);
    rl_status st = gen_config_validate(&m->cfg, err);
    if (st) return st;
    if (!gen_plan_text(m) || !gen_plan_vision(m) || !gen_plan_audio(m)) {
        gen_model_free(m);
        return rl_fail(err, RL_ERR_NOMEM, "building the tensor list");
    }
    qsort(m->t, m->n_t, sizeof *m->t, tensor_cmp);
    for (size_t i = 1; i < m->n_t; i++)
        if (!strcmp(m->t[i - 1].name, m->t[i].name)) {
            rl_fail(err, RL_ERR_INVALID, "duplicate tensor %s", m->t[i].name);
            gen_model_free(m);
            return RL_ERR_INVALID;
        }
    /* types come from the full Ollama plan (the Q4_K_M rules count tower attn_v
     * tensors too), so the llama.cpp layout keeps every text tensor's type */
    if ((st = gen_assign_types(m, err)) ||
        (m->cfg.layout == GEN_LAYOUT_LLAMACPP && (st = gen_layout_llamacpp_tensors(m, err)))) {
        gen_model_free(m);
        return st;
    }
    uint64_t off = 0;
    for (size_t i = 0; i < m->n_t; i++) {
        gen_tensor *t = &m->t[i];
        uint64_t n = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
        const rl_type_info *ti = rl_type_get(t->type);
        t->offset = off;
        t->nbytes = n / ti->block_size * ti->type_size;
        m->n_params += n;
        off += t->nbytes;
        off += (ALIGN - off % ALIGN) % ALIGN;
    }
    if ((st = gen_model_keys(&m->cfg, &m->kv, err)) || (st = gen_vocab_keys(vocab, &m->kv, err))) {
        gen_model_free(m);
        return st;
    }
    if (m->cfg.layout == GEN_LAYOUT_LLAMACPP && (st = gen_layout_llamacpp_keys(m, err))) {
        gen_model_free(m);
        return st;
    }
    if (m->cfg.param_count_key) gen_kv_u64(&m->kv, "general.parameter_count", m->n_params);
    if (m->kv.failed) {
        gen_model_free(m);
        return rl_fail(err, RL_ERR_NOMEM, "metadata");
    }
    gen_kvs_sort(&m->kv);
    uint64_t h = 4 + 4 + 8 + 8;
    for (size_t i = 0; i < m->kv.n; i++) h += gen_kv_size(&m->kv.kv[i]);
    for (size_t i = 0; i < m->n_t; i++) h += 8 + strlen(m->t[i].name) + 4 + 8 * m->t[i].n_dims + 4 + 8;
    m->header_bytes = h;
    m->data_offset = h + (ALIGN - h % ALIGN) % ALIGN;
    /* the file ends right after the last tensor (no trailing padding) */
    const gen_tensor *last = m->n_t ? &m->t[m->n_t - 1] : NULL;
    m->file_bytes = m->data_offset + (last ? last->offset + last->nbytes : 0);
    return RL_OK;
}
