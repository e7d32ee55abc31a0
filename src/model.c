/* Binds a gemma4 GGUF to rl_model: hyperparameters (gemma4.md §2.3) and the
 * text tensors of every layer kind (§2.6), checked for presence, shape and a
 * known type. Towers (§2.7, §2.8) are counted and spot-checked here; their
 * detailed binding belongs to the vision/audio modules. */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant.h"

#define KEY(k) "gemma4." k
#define MAX_LAYERS 1024
#define MAX_DIM (1 << 20)

/* ---- metadata helpers ------------------------------------------------------ */

static rl_status get_u32_default(const gguf_file *g, const char *key, uint32_t def, uint32_t *out, rl_error *err) {
    rl_status s = gguf_get_u32(g, key, out, err);
    if (s == RL_ERR_NOT_FOUND) {
        *out = def;
        return RL_OK;
    }
    return s;
}

static rl_status get_f32_default(const gguf_file *g, const char *key, float def, float *out, rl_error *err) {
    rl_status s = gguf_get_f32(g, key, out, err);
    if (s == RL_ERR_NOT_FOUND) {
        *out = def;
        return RL_OK;
    }
    return s;
}

static rl_status get_required_u32(const gguf_file *g, const char *key, uint32_t lo, uint32_t hi, int *out,
                                  rl_error *err) {
    uint32_t v;
    rl_status s = gguf_get_u32(g, key, &v, err);
    if (s == RL_ERR_NOT_FOUND) return rl_fail(err, RL_ERR_FORMAT, "missing required key %s", key);
    if (s != RL_OK) return s;
    if (v < lo || v > hi) return rl_fail(err, RL_ERR_FORMAT, "%s = %u is out of range [%u, %u]", key, v, lo, hi);
    *out = (int)v;
    return RL_OK;
}

/* A key that is either a scalar integer or an integer array with one entry per layer. */
static rl_status get_per_layer_int(const gguf_file *g, const char *key, int n_layer, int def, int *out,
                                   rl_error *err) {
    const gguf_kv *kv = gguf_find_kv(g, key);
    if (!kv) {
        for (int i = 0; i < n_layer; i++) out[i] = def;
        return RL_OK;
    }
    if (kv->type == GGUF_ARRAY) {
        if (kv->elem_type == GGUF_STRING || kv->elem_type == GGUF_F32 || kv->elem_type == GGUF_F64 ||
            kv->elem_type == GGUF_BOOL)
            return rl_fail(err, RL_ERR_FORMAT, "%s: expected an integer array, found an array of %s", key,
                           gguf_vtype_name(kv->elem_type));
        if (kv->count != (uint64_t)n_layer)
            return rl_fail(err, RL_ERR_FORMAT, "%s: array has %llu entries, expected one per layer (%d)", key,
                           (unsigned long long)kv->count, n_layer);
        for (int i = 0; i < n_layer; i++) {
            int64_t v = gguf_arr_int(kv, (uint64_t)i);
            if (v < 0 || v > MAX_DIM)
                return rl_fail(err, RL_ERR_FORMAT, "%s[%d] = %lld is out of range", key, i, (long long)v);
            out[i] = (int)v;
        }
        return RL_OK;
    }
    uint32_t v;
    rl_status s = gguf_get_u32(g, key, &v, err);
    if (s != RL_OK) return s;
    if (v > MAX_DIM) return rl_fail(err, RL_ERR_FORMAT, "%s = %u is out of range", key, v);
    for (int i = 0; i < n_layer; i++) out[i] = (int)v;
    return RL_OK;
}

/* ---- tensor helpers -------------------------------------------------------- */

static void fmt_shape(char *buf, size_t cap, const uint64_t *ne, uint32_t n_dims) {
    size_t o = (size_t)snprintf(buf, cap, "[");
    for (uint32_t i = 0; i < n_dims && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%llu", i ? ", " : "", (unsigned long long)ne[i]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
}

/* Look up name (or its alternative spelling), check its shape; required tensors
 * that are missing are errors, optional ones leave *out NULL. dims: n_dims
 * values; trailing dims of the file tensor beyond n_dims must be 1. */
static rl_status bind(const gguf_file *g, rl_tensor_ref *out, int required, const char *name, const char *alt,
                      uint32_t n_dims, const uint64_t *dims, rl_error *err) {
    const gguf_tensor *t = gguf_find_tensor(g, name);
    if (!t && alt) t = gguf_find_tensor(g, alt);
    *out = t;
    if (!t) return required ? rl_fail(err, RL_ERR_FORMAT, "missing tensor %s", name) : RL_OK;
    int ok = t->n_dims >= 1;
    for (uint32_t i = 0; i < GGUF_MAX_DIMS && ok; i++) {
        uint64_t want = i < n_dims ? dims[i] : 1;
        uint64_t have = i < t->n_dims ? t->ne[i] : 1;
        ok = want == have;
    }
    if (!ok) {
        char want[96], have[96];
        fmt_shape(want, sizeof want, dims, n_dims);
        fmt_shape(have, sizeof have, t->ne, t->n_dims);
        return rl_fail(err, RL_ERR_FORMAT, "tensor %.*s: expected shape %s, found %s", (int)t->name.len,
                       t->name.ptr, want, have);
    }
    if (!rl_type_get(t->type))
        return rl_fail(err, RL_ERR_UNSUPPORTED, "tensor %.*s: unknown type id %u", (int)t->name.len, t->name.ptr,
                       t->type);
    return RL_OK;
}

#define DIMS(...) (sizeof((uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t)), ((const uint64_t[]){__VA_ARGS__})

/* bind() for "blk.<i>.<suffix>" with an optional alternative suffix. */
static rl_status bind_blk(const gguf_file *g, int i, rl_tensor_ref *out, int required, const char *suffix,
                          const char *alt, uint32_t n_dims, const uint64_t *dims, rl_error *err) {
    char name[160], alt_name[160];
    snprintf(name, sizeof name, "blk.%d.%s", i, suffix);
    if (alt) snprintf(alt_name, sizeof alt_name, "blk.%d.%s", i, alt);
    return bind(g, out, required, name, alt ? alt_name : NULL, n_dims, dims, err);
}

static rl_status bind_layer(const gguf_file *g, rl_model *m, int i, rl_error *err) {
    rl_layer *l = &m->layers[i];
    const uint64_t D = (uint64_t)m->n_embd, H = (uint64_t)m->n_head, hd = (uint64_t)l->head_dim;
    const uint64_t kv = (uint64_t)l->n_kv_head, P = (uint64_t)m->ple_dim;
    const int own = !l->kv_shared; /* K/V weights are required only where this layer computes K/V */
    rl_status s;
#define B(field, req, suffix, alt, ...) \
    if ((s = bind_blk(g, i, &l->field, req, suffix, alt, DIMS(__VA_ARGS__), err)) != RL_OK) return s
    B(attn_norm, 1, "attn_norm.weight", NULL, D);
    B(attn_q, 1, "attn_q.weight", NULL, D, H * hd);
    B(attn_q_norm, 1, "attn_q_norm.weight", NULL, hd);
    B(attn_k, own, "attn_k.weight", NULL, D, kv * hd);
    B(attn_k_norm, own, "attn_k_norm.weight", NULL, hd);
    B(attn_v, 0, "attn_v.weight", NULL, D, kv * hd);
    l->v_from_k = own && !l->attn_v;
    if (!own) l->attn_k = l->attn_k_norm = l->attn_v = NULL; /* never used: the donor's cache is read */
    B(attn_output, 1, "attn_output.weight", NULL, H * hd, D);
    B(post_attention_norm, 1, "post_attention_norm.weight", "attn_post_norm.weight", D);
    B(ffn_norm, 1, "ffn_norm.weight", "ffn_pre_norm.weight", D);
    if (l->n_ff > 0) {
        const uint64_t F = (uint64_t)l->n_ff;
        B(ffn_gate, 1, "ffn_gate.weight", NULL, D, F);
        B(ffn_up, 1, "ffn_up.weight", NULL, D, F);
        B(ffn_down, 1, "ffn_down.weight", NULL, F, D);
    }
    B(post_ffw_norm, 1, "post_ffw_norm.weight", "ffn_post_norm.weight", D);
    B(layer_output_scale, 0, "layer_output_scale.weight", "layer_scalar", 1);
    if (P) {
        B(inp_gate, 1, "inp_gate.weight", NULL, D, P);
        B(proj, 1, "proj.weight", NULL, P, D);
        B(post_norm, 1, "post_norm.weight", NULL, D);
    }
    if (m->n_expert > 0) {
        const uint64_t E = (uint64_t)m->n_expert, Fe = (uint64_t)m->n_ff_exp;
        l->is_moe = 1;
        if (l->n_ff <= 0) return rl_fail(err, RL_ERR_FORMAT, "layer %d: MoE layer without the dense branch", i);
        B(ffn_gate_inp, 1, "ffn_gate_inp.weight", NULL, D, E);
        B(ffn_gate_inp_scale, 1, "ffn_gate_inp.scale", NULL, D);
        B(ffn_gate_up_exps, 0, "ffn_gate_up_exps.weight", NULL, D, 2 * Fe, E);
        B(ffn_gate_exps, !l->ffn_gate_up_exps, "ffn_gate_exps.weight", NULL, D, Fe, E);
        B(ffn_up_exps, !l->ffn_gate_up_exps, "ffn_up_exps.weight", NULL, D, Fe, E);
        B(ffn_down_exps, 1, "ffn_down_exps.weight", NULL, Fe, D, E);
        B(ffn_down_exps_scale, 1, "ffn_down_exps.scale", "ffn_gate_inp.per_expert_scale", E);
        B(pre_ffw_norm_2, 1, "pre_ffw_norm_2.weight", "ffn_pre_norm_2.weight", D);
        B(post_ffw_norm_1, 1, "post_ffw_norm_1.weight", "ffn_post_norm_1.weight", D);
        B(post_ffw_norm_2, 1, "post_ffw_norm_2.weight", "ffn_post_norm_2.weight", D);
    }
#undef B
    return RL_OK;
}

/* Layer kinds, head dims, KV heads, donors and RoPE parameters from metadata. */
static rl_status read_layer_layout(const gguf_file *g, rl_model *m, rl_error *err) {
    const int L = m->n_layer;
    int *kv = calloc((size_t)L, sizeof *kv), *ff = calloc((size_t)L, sizeof *ff);
    rl_status s = RL_OK;
    if (!kv || !ff) {
        s = rl_fail(err, RL_ERR_NOMEM, "layer tables");
        goto out;
    }
    if ((s = get_per_layer_int(g, KEY("attention.head_count_kv"), L, 0, kv, err)) != RL_OK) goto out;
    if ((s = get_per_layer_int(g, KEY("feed_forward_length"), L, 0, ff, err)) != RL_OK) goto out;

    const gguf_kv *pat = gguf_find_kv(g, KEY("attention.sliding_window_pattern"));
    if (pat && (pat->type != GGUF_ARRAY || pat->elem_type != GGUF_BOOL || pat->count != (uint64_t)L)) {
        s = rl_fail(err, RL_ERR_FORMAT, "%s: expected a bool array with one entry per layer (%d)",
                    KEY("attention.sliding_window_pattern"), L);
        goto out;
    }
    for (int i = 0; i < L; i++) {
        rl_layer *l = &m->layers[i];
        l->is_swa = pat ? gguf_arr_int(pat, (uint64_t)i) != 0 : 0;
        l->head_dim = l->is_swa ? m->head_dim_swa : m->head_dim_full;
        l->n_kv_head = kv[i];
        l->n_ff = ff[i];
        if (l->n_kv_head <= 0 || m->n_head % l->n_kv_head) {
            s = rl_fail(err, RL_ERR_FORMAT, "layer %d: %d KV heads does not divide %d query heads", i, l->n_kv_head,
                        m->n_head);
            goto out;
        }
        if (l->is_swa && m->window <= 0) {
            s = rl_fail(err, RL_ERR_FORMAT, "layer %d is a sliding-window layer but %s is missing or 0", i,
                        KEY("attention.sliding_window"));
            goto out;
        }
        l->rope_base = l->is_swa ? m->rope_base_swa : m->rope_base_full;
    }
    /* KV donors: a shared layer reads the last non-shared layer of its own type (gemma4.md §3.1). */
    const int first_shared = L - m->n_shared_kv;
    for (int i = 0; i < L; i++) {
        rl_layer *l = &m->layers[i];
        l->kv_donor = i;
        if (i < first_shared) continue;
        l->kv_donor = -1;
        for (int j = first_shared - 1; j >= 0; j--)
            if (m->layers[j].is_swa == l->is_swa) {
                l->kv_donor = j;
                break;
            }
        if (l->kv_donor < 0) {
            s = rl_fail(err, RL_ERR_FORMAT, "layer %d shares KV but no earlier non-shared %s layer exists", i,
                        l->is_swa ? "sliding-window" : "full-attention");
            goto out;
        }
        l->kv_shared = 1;
        if (m->layers[l->kv_donor].n_kv_head != l->n_kv_head) {
            s = rl_fail(err, RL_ERR_FORMAT, "layer %d has %d KV heads but its donor layer %d has %d", i, l->n_kv_head,
                        l->kv_donor, m->layers[l->kv_donor].n_kv_head);
            goto out;
        }
    }
out:
    free(kv);
    free(ff);
    return s;
}

static rl_status read_hparams(const gguf_file *g, rl_model *m, rl_error *err) {
    rl_status s;
    uint32_t u;
    if ((s = get_required_u32(g, KEY("block_count"), 1, MAX_LAYERS, &m->n_layer, err))) return s;
    if ((s = get_required_u32(g, KEY("embedding_length"), 1, MAX_DIM, &m->n_embd, err))) return s;
    if ((s = get_required_u32(g, KEY("attention.head_count"), 1, 4096, &m->n_head, err))) return s;
    if ((s = get_u32_default(g, KEY("attention.key_length"), 512, &u, err))) return s;
    m->head_dim_full = (int)u;
    if ((s = get_u32_default(g, KEY("attention.key_length_swa"), 256, &u, err))) return s;
    m->head_dim_swa = (int)u;
    if (m->head_dim_full <= 0 || m->head_dim_full > 65536 || m->head_dim_full % 2 || m->head_dim_swa <= 0 ||
        m->head_dim_swa > 65536 || m->head_dim_swa % 2)
        return rl_fail(err, RL_ERR_FORMAT, "head dims must be positive and even (key_length %d, key_length_swa %d)",
                       m->head_dim_full, m->head_dim_swa);
    /* K and V head dims are equal in Gemma 4; a file that says otherwise is not one we understand. */
    if ((s = get_u32_default(g, KEY("attention.value_length"), (uint32_t)m->head_dim_full, &u, err))) return s;
    if ((int)u != m->head_dim_full)
        return rl_fail(err, RL_ERR_UNSUPPORTED, "attention.value_length %u differs from key_length %d", u,
                       m->head_dim_full);
    if ((s = get_u32_default(g, KEY("attention.value_length_swa"), (uint32_t)m->head_dim_swa, &u, err))) return s;
    if ((int)u != m->head_dim_swa)
        return rl_fail(err, RL_ERR_UNSUPPORTED, "attention.value_length_swa %u differs from key_length_swa %d", u,
                       m->head_dim_swa);
    if ((s = get_u32_default(g, KEY("context_length"), 131072, &u, err))) return s;
    m->n_ctx_train = (int)(u > (1u << 24) ? (1u << 24) : u);
    if ((s = get_u32_default(g, KEY("attention.sliding_window"), 0, &u, err))) return s;
    m->window = (int)(u > (1u << 24) ? (1u << 24) : u);
    if ((s = get_u32_default(g, KEY("attention.shared_kv_layers"), 0, &u, err))) return s;
    if (u >= (uint32_t)m->n_layer)
        return rl_fail(err, RL_ERR_FORMAT, "attention.shared_kv_layers = %u but the model has %d layers", u,
                       m->n_layer);
    m->n_shared_kv = (int)u;
    if ((s = get_u32_default(g, KEY("embedding_length_per_layer_input"), 0, &u, err))) return s;
    if (u > MAX_DIM) return rl_fail(err, RL_ERR_FORMAT, "embedding_length_per_layer_input = %u is out of range", u);
    m->ple_dim = (int)u;
    if ((s = get_u32_default(g, KEY("expert_count"), 0, &u, err))) return s;
    if (u > 4096) return rl_fail(err, RL_ERR_FORMAT, "expert_count = %u is out of range", u);
    m->n_expert = (int)u;
    if ((s = get_u32_default(g, KEY("expert_used_count"), 0, &u, err))) return s;
    m->n_expert_used = (int)u;
    if (m->n_expert && (m->n_expert_used <= 0 || m->n_expert_used > m->n_expert || m->n_expert_used > 64))
        return rl_fail(err, RL_ERR_FORMAT, "expert_used_count = %d must be in [1, min(expert_count = %d, 64)]",
                       m->n_expert_used, m->n_expert);
    if ((s = get_f32_default(g, KEY("attention.layer_norm_rms_epsilon"), 1e-6f, &m->eps, err))) return s;
    if (!(m->eps > 0 && m->eps < 1)) return rl_fail(err, RL_ERR_FORMAT, "RMS epsilon %g is out of range", m->eps);
    if ((s = get_f32_default(g, KEY("final_logit_softcapping"), 0.0f, &m->softcap, err))) return s;
    if (!(m->softcap >= 0) || isinf(m->softcap))
        return rl_fail(err, RL_ERR_FORMAT, "final_logit_softcapping %g is invalid", m->softcap);
    if ((s = get_f32_default(g, KEY("rope.freq_base"), 1e6f, &m->rope_base_full, err))) return s;
    float swa_base;
    if ((s = get_f32_default(g, KEY("rope.freq_base_swa"), 0.0f, &swa_base, err))) return s;
    if (swa_base == 0.0f && (s = get_f32_default(g, KEY("rope.local.freq_base"), 1e4f, &swa_base, err))) return s;
    m->rope_base_swa = swa_base;
    if (!(m->rope_base_full > 1) || !(m->rope_base_swa > 1))
        return rl_fail(err, RL_ERR_FORMAT, "RoPE bases must be > 1 (full %g, sliding %g)", m->rope_base_full,
                       m->rope_base_swa);
    return RL_OK;
}

static rl_status read_rope(const gguf_file *g, const void *rope_freqs_data, rl_model *m, rl_error *err) {
    rl_status s;
    uint32_t n_full, n_swa;
    float partial;
    if ((s = get_f32_default(g, KEY("rope.partial_rotary_factor"), 1.0f, &partial, err))) return s;
    if ((s = get_u32_default(g, KEY("rope.dimension_count"), 0, &n_full, err))) return s;
    if (n_full == 0) n_full = (uint32_t)(partial * (float)m->head_dim_full);
    if ((s = get_u32_default(g, KEY("rope.dimension_count_swa"), (uint32_t)m->head_dim_swa, &n_swa, err))) return s;
    if (n_full == 0 || n_full % 2 || (int)n_full > m->head_dim_full || n_swa == 0 || n_swa % 2 ||
        (int)n_swa > m->head_dim_swa)
        return rl_fail(err, RL_ERR_FORMAT, "RoPE dimension counts (full %u, sliding %u) must be even and within the "
                                           "head dims (%d, %d)", n_full, n_swa, m->head_dim_full, m->head_dim_swa);
    for (int i = 0; i < m->n_layer; i++) m->layers[i].rope_dims = (int)(m->layers[i].is_swa ? n_swa : n_full);

    /* Full layers divide each angle by rope_freqs[j] (1 for rotated pairs, 1e30 for the rest). */
    if ((s = bind(g, &m->rope_freqs_t, 0, "rope_freqs.weight", NULL, DIMS(n_full / 2), err))) return s;
    m->n_rot_full = (int)n_full / 2;
    if (m->rope_freqs_t) {
        if (m->rope_freqs_t->type != RL_TYPE_F32)
            return rl_fail(err, RL_ERR_UNSUPPORTED, "rope_freqs.weight must be F32");
        if (!rope_freqs_data) return rl_fail(err, RL_ERR_INVALID, "rope_freqs.weight data was not supplied");
        m->owned_rope_freqs = malloc(n_full / 2 * sizeof(float));
        if (!m->owned_rope_freqs) return rl_fail(err, RL_ERR_NOMEM, "rope_freqs");
        memcpy(m->owned_rope_freqs, rope_freqs_data, n_full / 2 * sizeof(float));
        m->rope_freqs = m->owned_rope_freqs;
        m->n_rot_full = 0;
        for (uint32_t j = 0; j < n_full / 2; j++) {
            float f = m->rope_freqs[j];
            if (!(f > 0) || isinf(f))
                return rl_fail(err, RL_ERR_FORMAT, "rope_freqs.weight[%u] = %g is not a positive factor", j, f);
            if (f == 1.0f) m->n_rot_full++;
        }
    }
    return RL_OK;
}

static int has_prefix(gguf_str s, const char *p) {
    size_t n = strlen(p);
    return s.len >= n && !memcmp(s.ptr, p, n);
}

static void count_towers(const gguf_file *g, rl_model *m) {
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        uint64_t n = 1;
        for (uint32_t d = 0; d < t->n_dims; d++) n *= t->ne[d];
        if (has_prefix(t->name, "v.")) {
            m->n_vision_tensors++;
            m->n_params_vision += n;
        } else if (has_prefix(t->name, "a.")) {
            m->n_audio_tensors++;
            m->n_params_audio += n;
        } else if (has_prefix(t->name, "mm.")) {
            m->n_mm_tensors++;
            if (has_prefix(t->name, "mm.a.")) m->n_params_audio += n;
            else m->n_params_vision += n;
        } else {
            m->n_params_text += n;
        }
    }
    m->has_vision = m->n_vision_tensors > 0;
    m->has_audio = m->n_audio_tensors > 0;
    m->has_projector = m->n_mm_tensors > 0;
}

rl_status rl_model_bind(const gguf_file *g, const void *rope_freqs_data, rl_model *m, rl_error *err) {
    memset(m, 0, sizeof *m);
    m->gguf = g;
    gguf_str arch;
    rl_status s = gguf_get_str(g, "general.architecture", &arch, err);
    if (s == RL_ERR_NOT_FOUND) return rl_fail(err, RL_ERR_FORMAT, "not a model file: general.architecture is missing");
    if (s != RL_OK) return s;
    if (!gguf_str_eq(arch, "gemma4"))
        return rl_fail(err, RL_ERR_UNSUPPORTED, "architecture is '%.*s', not gemma4: rullama runs Gemma 4 models only",
                       (int)(arch.len > 64 ? 64 : arch.len), arch.ptr);
    if ((s = read_hparams(g, m, err))) goto fail;
    m->layers = calloc((size_t)m->n_layer, sizeof *m->layers);
    if (!m->layers) {
        s = rl_fail(err, RL_ERR_NOMEM, "layers");
        goto fail;
    }
    if ((s = read_layer_layout(g, m, err))) goto fail;
    if ((s = read_rope(g, rope_freqs_data, m, err))) goto fail;
    if (m->n_expert) {
        uint32_t u;
        if ((s = get_u32_default(g, KEY("expert_feed_forward_length"), 0, &u, err))) goto fail;
        m->n_ff_exp = (int)u;
        const gguf_tensor *t = gguf_find_tensor(g, "blk.0.ffn_down_exps.weight");
        if (!m->n_ff_exp && t) m->n_ff_exp = (int)t->ne[0]; /* the tensor shape is authoritative when the key is absent */
        if (m->n_ff_exp <= 0) {
            s = rl_fail(err, RL_ERR_FORMAT, "MoE model without expert_feed_forward_length");
            goto fail;
        }
    }

    /* Global tensors. The vocabulary size comes from the embedding table. */
    const gguf_tensor *te = gguf_find_tensor(g, "token_embd.weight");
    if (!te) {
        s = rl_fail(err, RL_ERR_FORMAT, "missing tensor token_embd.weight");
        goto fail;
    }
    if (te->n_dims != 2 || te->ne[1] == 0 || te->ne[1] > (1u << 24)) {
        s = rl_fail(err, RL_ERR_FORMAT, "token_embd.weight must be 2-D [n_embd, n_vocab]");
        goto fail;
    }
    m->n_vocab = (int)te->ne[1];
    const uint64_t D = (uint64_t)m->n_embd, V = (uint64_t)m->n_vocab;
    if ((s = bind(g, &m->token_embd, 1, "token_embd.weight", NULL, DIMS(D, V), err))) goto fail;
    if ((s = bind(g, &m->output, 0, "output.weight", NULL, DIMS(D, V), err))) goto fail;
    if (!m->output) m->output = m->token_embd; /* tied LM head */
    if ((s = bind(g, &m->output_norm, 1, "output_norm.weight", NULL, DIMS(D), err))) goto fail;
    if (m->ple_dim) {
        const uint64_t LP = (uint64_t)m->n_layer * (uint64_t)m->ple_dim;
        if ((s = bind(g, &m->per_layer_token_embd, 1, "per_layer_token_embd.weight", NULL, DIMS(LP, V), err))) goto fail;
        if ((s = bind(g, &m->per_layer_model_proj, 1, "per_layer_model_proj.weight", NULL, DIMS(D, LP), err))) goto fail;
        if ((s = bind(g, &m->per_layer_proj_norm, 1, "per_layer_proj_norm.weight", NULL, DIMS((uint64_t)m->ple_dim), err)))
            goto fail;
    }
    for (int i = 0; i < m->n_layer; i++)
        if ((s = bind_layer(g, m, i, err))) goto fail;
    count_towers(g, m);
    return RL_OK;
fail:
    rl_model_free(m);
    return s;
}

void rl_model_free(rl_model *m) {
    free(m->layers);
    free(m->owned_rope_freqs);
    m->layers = NULL;
    m->owned_rope_freqs = NULL;
    m->rope_freqs = NULL;
}
