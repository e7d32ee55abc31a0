#include "forward.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rmath.h"
#include "cpu/ops.h"
#include "quant.h"

#define UBATCH 64 /* slots per internal pass: bounds scratch memory and the sliding ring */

typedef struct {
    float *attn_norm, *q_norm, *k_norm, *post_attn, *ffn_norm, *post_ffw, *post_norm;
    float out_scale; /* 1 when the layer has no layer_output_scale */
    float *router_scale, *expert_scale, *pre_ffw2, *post_ffw1, *post_ffw2; /* MoE */
    /* KV cache (layers that compute K/V): cap slots of n_kv_head*head_dim floats */
    float *k, *v;
    int cap;
} cpu_layer;

struct rl_cpu {
    const rl_model_file *mf;
    const rl_model *m;
    int n_ctx, n_past;
    cpu_layer *layers;
    float *output_norm, *ple_norm;
    /* scratch, sized for UBATCH slots */
    float *h, *x, *q, *k, *v, *o, *t1, *t2, *t3, *ple, *row, *scores;
    int max_qdim, max_kvdim, max_ff;
};

/* ---- weights --------------------------------------------------------------- */

static rl_status load_vec(const rl_cpu *c, rl_tensor_ref t, float **out, rl_error *err) {
    *out = NULL;
    if (!t) return RL_OK;
    size_t n = (size_t)t->ne[0];
    *out = malloc(n * sizeof(float));
    if (!*out) return rl_fail(err, RL_ERR_NOMEM, "norm weights");
    return rl_tensor_row_f32(c->mf, t, 0, *out, err);
}

/* y[t][o] = sum_i W[o][i] * x[t][i] for T slots; W is rows [o0, o0+out) of the
 * tensor's 2-D view starting at matrix `slice` (experts of a 3-D tensor). */
static rl_status matmul(rl_cpu *c, rl_tensor_ref W, int slice, const float *x, int T, int in, float *y, int out,
                        rl_error *err) {
    const rl_type_info *ti = rl_type_get(W->type);
    const uint8_t *base = rl_tensor_data(c->mf, W);
    if (!ti || !ti->dot || !ti->dequant)
        return rl_fail(err, RL_ERR_UNSUPPORTED, "%.*s: type %s is not supported by the CPU engine", (int)W->name.len,
                       W->name.ptr, ti ? ti->name : "?");
    if (!base) return rl_fail(err, RL_ERR_INVALID, "%.*s is not loaded", (int)W->name.len, W->name.ptr);
    const size_t rb = rl_row_bytes(W->type, (uint64_t)in);
    base += (size_t)slice * (size_t)out * rb;
    if (T == 1) {
        for (int o = 0; o < out; o++) y[o] = ti->dot(base + (size_t)o * rb, x, (size_t)in);
        return RL_OK;
    }
    for (int o = 0; o < out; o++) {
        ti->dequant(base + (size_t)o * rb, c->row, (size_t)in);
        for (int t = 0; t < T; t++) y[(size_t)t * out + o] = rl_dot_f32(c->row, x + (size_t)t * in, (size_t)in);
    }
    return RL_OK;
}

/* ---- construction ---------------------------------------------------------- */

rl_status rl_cpu_new(const rl_model_file *mf, int n_ctx, rl_cpu **out, rl_error *err) {
    const rl_model *m = &mf->model;
    if (n_ctx <= 0) return rl_fail(err, RL_ERR_INVALID, "context size must be positive");
    rl_cpu *c = calloc(1, sizeof *c);
    if (!c) return rl_fail(err, RL_ERR_NOMEM, "cpu engine");
    c->mf = mf;
    c->m = m;
    c->n_ctx = n_ctx;
    rl_status s = RL_OK;
    c->layers = calloc((size_t)m->n_layer, sizeof *c->layers);
    if (!c->layers) {
        s = rl_fail(err, RL_ERR_NOMEM, "layers");
        goto fail;
    }
    for (int i = 0; i < m->n_layer; i++) {
        const rl_layer *l = &m->layers[i];
        cpu_layer *cl = &c->layers[i];
        if ((s = load_vec(c, l->attn_norm, &cl->attn_norm, err)) || (s = load_vec(c, l->attn_q_norm, &cl->q_norm, err)) ||
            (s = load_vec(c, l->attn_k_norm, &cl->k_norm, err)) ||
            (s = load_vec(c, l->post_attention_norm, &cl->post_attn, err)) ||
            (s = load_vec(c, l->ffn_norm, &cl->ffn_norm, err)) || (s = load_vec(c, l->post_ffw_norm, &cl->post_ffw, err)) ||
            (s = load_vec(c, l->post_norm, &cl->post_norm, err)) ||
            (s = load_vec(c, l->ffn_gate_inp_scale, &cl->router_scale, err)) ||
            (s = load_vec(c, l->ffn_down_exps_scale, &cl->expert_scale, err)) ||
            (s = load_vec(c, l->pre_ffw_norm_2, &cl->pre_ffw2, err)) ||
            (s = load_vec(c, l->post_ffw_norm_1, &cl->post_ffw1, err)) ||
            (s = load_vec(c, l->post_ffw_norm_2, &cl->post_ffw2, err)))
            goto fail;
        cl->out_scale = 1.0f;
        if (l->layer_output_scale && (s = rl_tensor_row_f32(mf, l->layer_output_scale, 0, &cl->out_scale, err)))
            goto fail;
        const int qdim = m->n_head * l->head_dim, kvdim = l->n_kv_head * l->head_dim;
        if (qdim > c->max_qdim) c->max_qdim = qdim;
        if (kvdim > c->max_kvdim) c->max_kvdim = kvdim;
        int ff = l->n_ff > m->n_ff_exp * 2 ? l->n_ff : m->n_ff_exp * 2;
        if (ff > c->max_ff) c->max_ff = ff;
        if (!l->kv_shared) {
            /* A sliding layer attends to at most window-1 earlier positions plus its batch. */
            cl->cap = l->is_swa && m->window + UBATCH < n_ctx ? m->window + UBATCH : n_ctx;
            cl->k = malloc((size_t)cl->cap * (size_t)kvdim * sizeof(float));
            cl->v = malloc((size_t)cl->cap * (size_t)kvdim * sizeof(float));
            if (!cl->k || !cl->v) {
                s = rl_fail(err, RL_ERR_NOMEM, "KV cache for layer %d (%d positions)", i, cl->cap);
                goto fail;
            }
        }
    }
    if ((s = load_vec(c, m->output_norm, &c->output_norm, err)) ||
        (s = load_vec(c, m->per_layer_proj_norm, &c->ple_norm, err)))
        goto fail;
    const size_t U = UBATCH, D = (size_t)m->n_embd, LP = (size_t)m->n_layer * (size_t)m->ple_dim;
    size_t wide = D;
    if ((size_t)c->max_qdim > wide) wide = (size_t)c->max_qdim;
    if ((size_t)c->max_ff > wide) wide = (size_t)c->max_ff;
    if (LP > wide) wide = LP;
    c->h = malloc(U * D * sizeof(float));
    c->x = malloc(U * D * sizeof(float));
    c->q = malloc(U * (size_t)c->max_qdim * sizeof(float));
    c->k = malloc(U * (size_t)c->max_kvdim * sizeof(float));
    c->v = malloc(U * (size_t)c->max_kvdim * sizeof(float));
    c->o = malloc(U * (size_t)c->max_qdim * sizeof(float));
    c->t1 = malloc(U * wide * sizeof(float));
    c->t2 = malloc(U * wide * sizeof(float));
    c->t3 = malloc(U * wide * sizeof(float));
    c->ple = malloc(U * (LP ? LP : 1) * sizeof(float));
    size_t rowlen = wide > (size_t)m->n_vocab ? wide : (size_t)m->n_vocab;
    c->row = malloc(rowlen * sizeof(float));
    c->scores = malloc((size_t)n_ctx * sizeof(float));
    if (!c->h || !c->x || !c->q || !c->k || !c->v || !c->o || !c->t1 || !c->t2 || !c->t3 || !c->ple || !c->row ||
        !c->scores) {
        s = rl_fail(err, RL_ERR_NOMEM, "scratch buffers");
        goto fail;
    }
    *out = c;
    return RL_OK;
fail:
    rl_cpu_free(c);
    return s;
}

void rl_cpu_free(rl_cpu *c) {
    if (!c) return;
    if (c->layers)
        for (int i = 0; i < c->m->n_layer; i++) {
            cpu_layer *cl = &c->layers[i];
            float *vecs[] = {cl->attn_norm, cl->q_norm,       cl->k_norm,   cl->post_attn, cl->ffn_norm,
                             cl->post_ffw,  cl->post_norm,    cl->router_scale, cl->expert_scale,
                             cl->pre_ffw2,  cl->post_ffw1,    cl->post_ffw2, cl->k, cl->v};
            for (size_t j = 0; j < sizeof vecs / sizeof *vecs; j++) free(vecs[j]);
        }
    free(c->layers);
    float *bufs[] = {c->output_norm, c->ple_norm, c->h, c->x, c->q, c->k, c->v, c->o,
                     c->t1, c->t2, c->t3, c->ple, c->row, c->scores};
    for (size_t j = 0; j < sizeof bufs / sizeof *bufs; j++) free(bufs[j]);
    free(c);
}

int rl_cpu_n_past(const rl_cpu *c) { return c->n_past; }

rl_status rl_cpu_truncate(rl_cpu *c, int n_keep, rl_error *err) {
    if (n_keep < 0 || n_keep > c->n_past) return rl_fail(err, RL_ERR_INVALID, "cannot keep %d of %d positions", n_keep, c->n_past);
    /* A ring holds positions [n_past - cap, n_past); the next query (at n_keep)
     * needs [n_keep - W + 1, n_keep). */
    const int need_from = n_keep - c->m->window + 1 > 0 ? n_keep - c->m->window + 1 : 0;
    for (int i = 0; i < c->m->n_layer; i++) {
        const cpu_layer *cl = &c->layers[i];
        if (cl->k && cl->cap < c->n_ctx && n_keep > 0 && need_from < c->n_past - cl->cap)
            return rl_fail(err, RL_ERR_INVALID,
                           "cannot rewind to %d: sliding-window layers no longer hold the positions it needs", n_keep);
    }
    c->n_past = n_keep;
    return RL_OK;
}

/* ---- forward pieces -------------------------------------------------------- */

/* Per-layer embeddings for T slots (gemma4.md §4.3), written to c->ple as
 * [T][L*P]; h holds the slots' input embeddings (scaled token rows or injected). */
static rl_status compute_ple(rl_cpu *c, const rl_batch *b, int t0, int T, rl_error *err) {
    const rl_model *m = c->m;
    const int D = m->n_embd, P = m->ple_dim, LP = m->n_layer * P;
    rl_status s = matmul(c, m->per_layer_model_proj, 0, c->h, T, D, c->ple, LP, err);
    if (s) return s;
    const float proj_scale = 1.0f / sqrtf((float)D), table_scale = sqrtf((float)P), combine = 1.0f / sqrtf(2.0f);
    for (int t = 0; t < T; t++) {
        float *p = c->ple + (size_t)t * LP;
        const int slot = t0 + t;
        const int32_t tok = (b->use_embd && b->use_embd[slot]) ? 0 : b->tokens[slot]; /* soft slots use <pad> */
        if ((s = rl_tensor_row_f32(c->mf, m->per_layer_token_embd, (uint64_t)tok, c->row, err))) return s;
        for (int l = 0; l < m->n_layer; l++) {
            float *pl = p + (size_t)l * P;
            rl_scale(pl, proj_scale, (size_t)P);
            rl_rmsnorm(pl, pl, c->ple_norm, (size_t)P, m->eps);
            for (int j = 0; j < P; j++) pl[j] = (pl[j] + c->row[(size_t)l * P + j] * table_scale) * combine;
        }
    }
    return RL_OK;
}

/* Attention for T query slots of layer li; q is [T][H*hd] after norm+RoPE. */
static void attend(rl_cpu *c, int li, int T) {
    const rl_model *m = c->m;
    const rl_layer *l = &m->layers[li];
    const cpu_layer *kvl = &c->layers[l->kv_donor];
    const int H = m->n_head, hd = l->head_dim, kvh = l->n_kv_head, kvdim = kvh * hd, group = H / kvh;
    for (int t = 0; t < T; t++) {
        const int p = c->n_past + t;
        const int k_lo = l->is_swa && p - m->window + 1 > 0 ? p - m->window + 1 : 0;
        for (int h = 0; h < H; h++) {
            const int g = h / group; /* contiguous GQA groups */
            const float *q = c->q + (size_t)t * H * hd + (size_t)h * hd;
            float *o = c->o + (size_t)t * H * hd + (size_t)h * hd;
            for (int k = k_lo; k <= p; k++)
                c->scores[k - k_lo] = rl_dot_f32(q, kvl->k + (size_t)(k % kvl->cap) * kvdim + (size_t)g * hd, (size_t)hd);
            rl_softmax(c->scores, (size_t)(p - k_lo + 1));
            memset(o, 0, (size_t)hd * sizeof(float));
            for (int k = k_lo; k <= p; k++) {
                const float a = c->scores[k - k_lo];
                const float *v = kvl->v + (size_t)(k % kvl->cap) * kvdim + (size_t)g * hd;
                for (int d = 0; d < hd; d++) o[d] += a * v[d];
            }
        }
    }
}

static rl_status attention_block(rl_cpu *c, int li, int T, rl_error *err) {
    const rl_model *m = c->m;
    const rl_layer *l = &m->layers[li];
    cpu_layer *cl = &c->layers[li];
    const int D = m->n_embd, H = m->n_head, hd = l->head_dim, kvdim = l->n_kv_head * hd;
    const float *factors = l->is_swa ? NULL : m->rope_freqs;
    rl_status s;
    for (int t = 0; t < T; t++) rl_rmsnorm(c->x + (size_t)t * D, c->h + (size_t)t * D, cl->attn_norm, (size_t)D, m->eps);
    if ((s = matmul(c, l->attn_q, 0, c->x, T, D, c->q, H * hd, err))) return s;
    for (int t = 0; t < T; t++)
        for (int h = 0; h < H; h++) {
            float *q = c->q + (size_t)t * H * hd + (size_t)h * hd;
            rl_rmsnorm(q, q, cl->q_norm, (size_t)hd, m->eps);
            rl_rope_neox(q, l->rope_dims, c->n_past + t, l->rope_base, factors);
        }
    if (!l->kv_shared) {
        if ((s = matmul(c, l->attn_k, 0, c->x, T, D, c->k, kvdim, err))) return s;
        if (l->v_from_k) memcpy(c->v, c->k, (size_t)T * kvdim * sizeof(float)); /* V is the raw K projection */
        else if ((s = matmul(c, l->attn_v, 0, c->x, T, D, c->v, kvdim, err))) return s;
        for (int t = 0; t < T; t++) {
            const int p = c->n_past + t;
            float *kc = cl->k + (size_t)(p % cl->cap) * kvdim, *vc = cl->v + (size_t)(p % cl->cap) * kvdim;
            for (int g = 0; g < l->n_kv_head; g++) {
                float *k = c->k + (size_t)t * kvdim + (size_t)g * hd, *v = c->v + (size_t)t * kvdim + (size_t)g * hd;
                rl_rmsnorm(k, k, cl->k_norm, (size_t)hd, m->eps);
                rl_rope_neox(k, l->rope_dims, p, l->rope_base, factors);
                rl_rmsnorm(v, v, NULL, (size_t)hd, m->eps);
            }
            memcpy(kc, c->k + (size_t)t * kvdim, (size_t)kvdim * sizeof(float));
            memcpy(vc, c->v + (size_t)t * kvdim, (size_t)kvdim * sizeof(float));
        }
    }
    attend(c, li, T);
    if ((s = matmul(c, l->attn_output, 0, c->o, T, H * hd, c->x, D, err))) return s;
    for (int t = 0; t < T; t++) {
        float *y = c->x + (size_t)t * D;
        rl_rmsnorm(y, y, cl->post_attn, (size_t)D, m->eps);
        rl_add(c->h + (size_t)t * D, y, (size_t)D);
    }
    return RL_OK;
}

/* Dense GeGLU MLP on T rows of `in` (already normed) into out [T][D]. */
static rl_status mlp(rl_cpu *c, rl_tensor_ref gate, rl_tensor_ref up, rl_tensor_ref down, int slice, int F,
                     const float *in, int T, float *out, rl_error *err) {
    const int D = c->m->n_embd;
    rl_status s;
    if ((s = matmul(c, gate, slice, in, T, D, c->t1, F, err)) || (s = matmul(c, up, slice, in, T, D, c->t2, F, err)))
        return s;
    rl_geglu(c->t1, c->t1, c->t2, (size_t)T * F);
    return matmul(c, down, slice, c->t1, T, F, out, D, err);
}

/* Mixture of experts for one slot (gemma4.md §4.4); r is the residual after attention. */
static rl_status moe_slot(rl_cpu *c, int li, const float *r, float *y, rl_error *err) {
    const rl_model *m = c->m;
    const rl_layer *l = &m->layers[li];
    const cpu_layer *cl = &c->layers[li];
    const int D = m->n_embd, E = m->n_expert, K = m->n_expert_used, Fe = m->n_ff_exp;
    float *z = c->t3, *probs = c->t3 + D, *x2 = c->t3 + D + E, *ye = c->t3 + 2 * D + E;
    rl_status s;
    /* router input: the unweighted-normed residual, scaled by 1/sqrt(D) and the per-channel scale */
    rl_rmsnorm(z, r, NULL, (size_t)D, m->eps);
    for (int i = 0; i < D; i++) z[i] *= cl->router_scale[i] / sqrtf((float)D);
    if ((s = matmul(c, l->ffn_gate_inp, 0, z, 1, D, probs, E, err))) return s;
    rl_softmax(probs, (size_t)E);
    int chosen[256];
    float wsum = 0;
    for (int k = 0; k < K; k++) { /* top-K, ties to the lower index */
        int best = -1;
        for (int e = 0; e < E; e++) {
            int taken = 0;
            for (int j = 0; j < k; j++) taken |= chosen[j] == e;
            if (!taken && (best < 0 || probs[e] > probs[best])) best = e;
        }
        chosen[k] = best;
        wsum += probs[best];
    }
    rl_rmsnorm(x2, r, cl->pre_ffw2, (size_t)D, m->eps);
    memset(y, 0, (size_t)D * sizeof(float));
    for (int k = 0; k < K; k++) {
        const int e = chosen[k];
        const float w = probs[e] / wsum * cl->expert_scale[e];
        if (l->ffn_gate_up_exps) { /* fused: rows [0,Fe) gate, [Fe,2Fe) up of expert e */
            if ((s = matmul(c, l->ffn_gate_up_exps, e, x2, 1, D, c->t1, 2 * Fe, err))) return s;
            rl_geglu(c->t1, c->t1, c->t1 + Fe, (size_t)Fe);
            if ((s = matmul(c, l->ffn_down_exps, e, c->t1, 1, Fe, ye, D, err))) return s;
        } else if ((s = mlp(c, l->ffn_gate_exps, l->ffn_up_exps, l->ffn_down_exps, e, Fe, x2, 1, ye, err))) {
            return s;
        }
        for (int i = 0; i < D; i++) y[i] += w * ye[i];
    }
    return RL_OK;
}

static rl_status ffn_block(rl_cpu *c, int li, int T, rl_error *err) {
    const rl_model *m = c->m;
    const rl_layer *l = &m->layers[li];
    cpu_layer *cl = &c->layers[li];
    const int D = m->n_embd;
    rl_status s;
    for (int t = 0; t < T; t++) rl_rmsnorm(c->x + (size_t)t * D, c->h + (size_t)t * D, cl->ffn_norm, (size_t)D, m->eps);
    /* dense branch into c->o (free after attention) */
    if ((s = mlp(c, l->ffn_gate, l->ffn_up, l->ffn_down, 0, l->n_ff, c->x, T, c->o, err))) return s;
    for (int t = 0; t < T; t++) {
        float *d = c->o + (size_t)t * D, *h = c->h + (size_t)t * D;
        if (l->is_moe) {
            float *y = c->x + (size_t)t * D; /* its normed input is no longer needed */
            rl_rmsnorm(d, d, cl->post_ffw1, (size_t)D, m->eps);
            if ((s = moe_slot(c, li, h, y, err))) return s;
            rl_rmsnorm(y, y, cl->post_ffw2, (size_t)D, m->eps);
            rl_add(d, y, (size_t)D);
        }
        rl_rmsnorm(d, d, cl->post_ffw, (size_t)D, m->eps);
        rl_add(h, d, (size_t)D);
    }
    return RL_OK;
}

static rl_status ple_block(rl_cpu *c, int li, int T, rl_error *err) {
    const rl_model *m = c->m;
    const rl_layer *l = &m->layers[li];
    const cpu_layer *cl = &c->layers[li];
    const int D = m->n_embd, P = m->ple_dim, LP = m->n_layer * P;
    rl_status s;
    if ((s = matmul(c, l->inp_gate, 0, c->h, T, D, c->t1, P, err))) return s;
    for (int t = 0; t < T; t++) {
        float *g = c->t1 + (size_t)t * P;
        rl_geglu(g, g, c->ple + (size_t)t * LP + (size_t)li * P, (size_t)P);
    }
    if ((s = matmul(c, l->proj, 0, c->t1, T, P, c->x, D, err))) return s;
    for (int t = 0; t < T; t++) {
        float *y = c->x + (size_t)t * D;
        rl_rmsnorm(y, y, cl->post_norm, (size_t)D, m->eps);
        rl_add(c->h + (size_t)t * D, y, (size_t)D);
    }
    return RL_OK;
}

static rl_status forward_ubatch(rl_cpu *c, const rl_batch *b, int t0, int T, float *logits, int all_logits,
                                int last_chunk, rl_error *err) {
    const rl_model *m = c->m;
    const int D = m->n_embd, V = m->n_vocab;
    rl_status s;
    const float emb_scale = sqrtf((float)D);
    for (int t = 0; t < T; t++) {
        const int slot = t0 + t;
        float *h = c->h + (size_t)t * D;
        if (b->use_embd && b->use_embd[slot]) {
            memcpy(h, b->embd + (size_t)slot * D, (size_t)D * sizeof(float)); /* injected rows are not scaled */
        } else {
            if ((s = rl_tensor_row_f32(c->mf, m->token_embd, (uint64_t)b->tokens[slot], h, err))) return s;
            rl_scale(h, emb_scale, (size_t)D);
        }
    }
    if (m->ple_dim && (s = compute_ple(c, b, t0, T, err))) return s;
    for (int li = 0; li < m->n_layer; li++) {
        const rl_layer *l = &m->layers[li];
        if ((s = attention_block(c, li, T, err)) || (s = ffn_block(c, li, T, err))) return s;
        if (m->ple_dim && (s = ple_block(c, li, T, err))) return s;
        if (l->layer_output_scale) rl_scale(c->h, c->layers[li].out_scale, (size_t)T * D);
    }
    if (logits) {
        const int first = all_logits ? 0 : (last_chunk ? T - 1 : T);
        for (int t = first; t < T; t++) {
            float *y = all_logits ? logits + (size_t)(t0 + t) * V : logits;
            rl_rmsnorm(c->x, c->h + (size_t)t * D, c->output_norm, (size_t)D, m->eps);
            if ((s = matmul(c, m->output, 0, c->x, 1, D, y, V, err))) return s;
            if (m->softcap > 0)
                for (int v = 0; v < V; v++) y[v] = m->softcap * rl_tanhf(y[v] / m->softcap);
        }
    }
    c->n_past += T;
    return RL_OK;
}

rl_status rl_cpu_forward(rl_cpu *c, const rl_batch *b, float *logits, int all_logits, rl_error *err) {
    if (b->n <= 0) return rl_fail(err, RL_ERR_INVALID, "empty batch");
    if (b->n > c->n_ctx - c->n_past)
        return rl_fail(err, RL_ERR_LIMIT, "context full: %d positions cached, %d more requested, context size %d",
                       c->n_past, b->n, c->n_ctx);
    const int V = c->m->n_vocab;
    for (int i = 0; i < b->n; i++) /* validate before touching the cache */
        if (!(b->use_embd && b->use_embd[i]) && (b->tokens[i] < 0 || b->tokens[i] >= V))
            return rl_fail(err, RL_ERR_INVALID, "token id %d at position %d is outside the vocabulary (%d tokens)",
                           b->tokens[i], c->n_past + i, V);
    const int start = c->n_past;
    for (int t0 = 0; t0 < b->n; t0 += UBATCH) {
        const int T = b->n - t0 < UBATCH ? b->n - t0 : UBATCH;
        rl_status s = forward_ubatch(c, b, t0, T, logits, all_logits, t0 + T == b->n, err);
        if (s != RL_OK) {
            c->n_past = start; /* positions written past start are simply forgotten */
            return s;
        }
    }
    return RL_OK;
}
