/* One Gemma 4 decoder layer on the GPU (gemma4.md §4.4), including the
 * mixture-of-experts feed-forward of 26B-style models. */
#include "gpu/engine_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant.h"

typedef struct {
    uint32_t E, K, es_off, pad0;
    float in_scale;
    uint32_t pad1, pad2, pad3;
} route_params;

typedef struct {
    uint32_t rows, cols, K, expert_bytes, x_off, x_stride_t, x_stride_k, y_off, y_stride, pad0, pad1, pad2;
} moe_mv_params;

typedef struct {
    uint32_t n, K, w_off, pad0;
    float eps;
    uint32_t pad1, pad2, pad3;
} moe_combine_params;

/* y[t][k] = W_{ids[t][k]} x for the chosen experts (a 3-D expert tensor). */
static rl_status expert_matvec(rl_gpu_engine *e, const gguf_tensor *W, act x, uint32_t x_stride_k, act y, int T,
                               rl_error *err) {
    const uint32_t rows = (uint32_t)W->ne[1], cols = (uint32_t)W->ne[0], K = (uint32_t)e->m->n_expert_used;
    char type_def[48];
    snprintf(type_def, sizeof type_def, "TYPE_%s", rl_type_get(W->type)->name);
    const char *defs[] = {type_def, gpu_layout_def(e, W->type), "WG=128u", "ROWS=4u", NULL};
    uint32_t pipe = rl_gdev_pipeline(e->dev, K_MOE_MATVEC, defs, err);
    if (!pipe) return err->code;
    moe_mv_params p = {rows,     cols,     K,          (uint32_t)(rows * gpu_row_bytes(e, W->type, cols)),
                       x.off,    x.stride, x_stride_k, y.off,
                       y.stride, 0,        0,          0};
    const placed *pw = &e->where[W - e->mf.gguf->tensors];
    rl_gbind b[4] = {{pw->buffer, pw->offset, align_up(pw->size, 4)}, {x.buf, 0, 0}, {y.buf, 0, 0}, {e->b_eids, 0, 0}};
    return rl_gdev_dispatch(e->dev, pipe, &p, b, (rows + 3) / 4, K, (uint32_t)T, err);
}

/* The MoE half of a 26B-style feed-forward (gemma4.md §4.4). On entry b_x holds
 * the dense branch's output; on exit b_x = RMSNorm(dense; post_ffw_norm_1) +
 * RMSNorm(sum_k w_k expert_k(RMSNorm(h; pre_ffw_norm_2)); post_ffw_norm_2). */
static rl_status moe(rl_gpu_engine *e, const rl_layer *l, int T, rl_error *err) {
    const rl_model *m = e->m;
    const uint32_t D = (uint32_t)m->n_embd, E = (uint32_t)m->n_expert, K = (uint32_t)m->n_expert_used;
    const uint32_t Fe = (uint32_t)m->n_ff_exp;
    rl_status s;
    norm_params d1 = {D, 1, 0, D, 0, D, gpu_vec_off(e, l->post_ffw_norm_1), 0, NF_WEIGHT | NF_IN_PLACE, 0, 1, 0};
    if ((s = gpu_norm(e, 0, e->b_x, d1, T, err))) return s;
    /* router: logits of RMSNorm(h) * router scale; the 1/sqrt(D) factor is applied to the logits (linear) */
    norm_params z = {D, 1, 0, D, 0, D, gpu_vec_off(e, l->ffn_gate_inp_scale), 0, NF_WEIGHT, 0, 1, 0};
    if ((s = gpu_norm(e, e->b_h, e->b_x2, z, T, err)) ||
        (s = gpu_matmul(e, l->ffn_gate_inp, E, (act){e->b_x2, 0, D}, (act){e->b_router, 0, E}, T, 0, NULL, err)))
        return s;
    route_params rp = {E, K, gpu_vec_off(e, l->ffn_down_exps_scale), 0, 1.0f / sqrtf((float)D), 0, 0, 0};
    rl_gbind rb[4] = {{e->b_router, 0, 0}, {e->vec_buf, 0, 0}, {e->b_eids, 0, 0}, {e->b_ewts, 0, 0}};
    if ((s = rl_gdev_dispatch(e->dev, e->p_route, &rp, rb, 1, (uint32_t)T, 1, err))) return s;
    norm_params x2 = {D, 1, 0, D, 0, D, gpu_vec_off(e, l->pre_ffw_norm_2), 0, NF_WEIGHT, 0, 1, 0};
    if ((s = gpu_norm(e, e->b_h, e->b_x2, x2, T, err))) return s;
    /* experts: [gate | up] per (slot, choice), GeGLU, down */
    const act xin = {e->b_x2, 0, D}, gu = {e->b_egu, 0, 2 * Fe};
    if (l->ffn_gate_up_exps) {
        if ((s = expert_matvec(e, l->ffn_gate_up_exps, xin, 0, gu, T, err))) return s;
    } else if ((s = expert_matvec(e, l->ffn_gate_exps, xin, 0, gu, T, err)) ||
               (s = expert_matvec(e, l->ffn_up_exps, xin, 0, (act){e->b_egu, Fe, 2 * Fe}, T, err))) {
        return s;
    }
    glu_params gp = {Fe, 0, 0, 2 * Fe, Fe, 2 * Fe, 0, 0};
    if ((s = gpu_glu(e, 0, e->b_egu, gp, T * (int)K, err))) return s;
    if ((s = expert_matvec(e, l->ffn_down_exps, (act){e->b_egu, Fe, K * 2 * Fe}, 2 * Fe, (act){e->b_eout, 0, D}, T,
                           err)))
        return s;
    moe_combine_params cp = {D, K, gpu_vec_off(e, l->post_ffw_norm_2), 0, m->eps, 0, 0, 0};
    rl_gbind cb[4] = {{e->b_eout, 0, 0}, {e->b_ewts, 0, 0}, {e->vec_buf, 0, 0}, {e->b_x, 0, 0}};
    return rl_gdev_dispatch(e->dev, e->p_moe_combine, &cp, cb, 1, (uint32_t)T, 1, err);
}

/* The norm that comes after layer li's last residual: the next layer's
 * attention norm, or the output norm after the last layer. */
static const gguf_tensor *next_norm(const rl_gpu_engine *e, int li) {
    return li + 1 < e->m->n_layer ? e->m->layers[li + 1].attn_norm : e->m->output_norm;
}

/* Whether the next layer's first product (q, with k and v where they follow) runs on the integer
 * matmul, so that this layer's last residual step writes its input's limbs. */
static int next_takes_limbs(const rl_gpu_engine *e, int li, int T) {
    if (li + 1 >= e->m->n_layer) return 0;
    const rl_layer *n = &e->m->layers[li + 1];
    return gpu_smx_takes(e, n->attn_q, (uint32_t)(e->m->n_head * n->head_dim), T);
}

/* The limbs layer li's last residual step writes (gpu_residual): the next layer's integer matmul's,
 * or after the last layer, the LM head's one-slot integer products' (XLIMBS). */
static int after_limbs(const rl_gpu_engine *e, int li, int T) {
    if (li + 1 < e->m->n_layer) return next_takes_limbs(e, li, T);
    return gpu_xl_takes(e, e->m->output, T, XL_HEAD) ? 2 : 0;
}

/* One decoder layer (gemma4.md §4.4) for T slots. On entry b_xn holds
 * RMSNorm(h; attn_norm); on exit it holds the next block's normed input. */
rl_status gpu_layer(rl_gpu_engine *e, int li, int T, rl_error *err) {
    const rl_model *m = e->m;
    const rl_layer *l = &m->layers[li];
    const uint32_t D = (uint32_t)m->n_embd, H = (uint32_t)m->n_head, hd = (uint32_t)l->head_dim;
    const uint32_t kvh = (uint32_t)l->n_kv_head, qdim = H * hd, kvdim = kvh * hd, F = (uint32_t)l->n_ff;
    const uint32_t LP = (uint32_t)(m->n_layer * m->ple_dim), P = (uint32_t)m->ple_dim;
    const uint32_t qs = qdim + 2 * kvdim; /* [q | k | v] per slot */
    const act xn = {e->b_xn, 0, D}, x = {e->b_x, 0, D};
    const int fuse = gpu_can_fuse_residual(e, T);
    rl_status s;
    /* the previous layer's last residual step, if it was left to this layer's first mat-vec */
    gpu_prologue in = e->pend;
    const gpu_prologue *pin = gpu_prologue_pending(&in) ? &in : NULL;
    e->pend = (gpu_prologue){NULL, NULL, NULL};
    /* attention: q, k, v in as few dispatches as their placement allows */
    if (l->kv_shared) {
        if ((s = gpu_matmul_pro(e, l->attn_q, qdim, xn, (act){e->b_q, 0, qs}, T, NULL, pin, err))) return s;
    } else {
        const int qk = gpu_adjacent(e, l->attn_q, l->attn_k),
                  qkv = qk && !l->v_from_k && gpu_adjacent(e, l->attn_k, l->attn_v);
        const uint32_t first = qkv ? qdim + 2 * kvdim : qk ? qdim + kvdim : qdim;
        /* a v of another type (Q4_K_M's Q6_K v) shares the q|k mat-vec when it sits in their buffer */
        const int two = qk && !qkv && !l->v_from_k && gpu_can_two_types(e, l->attn_k, l->attn_v, T);
        if (two) {
            if ((s = gpu_matvec_two(e, l->attn_q, first, l->attn_v, kvdim, xn, (act){e->b_q, 0, qs}, pin, err)))
                return s;
        } else {
            if ((s = gpu_matmul_pro(e, l->attn_q, first, xn, (act){e->b_q, 0, qs}, T, NULL, pin, err))) return s;
            if (!qk && (s = gpu_matmul(e, l->attn_k, kvdim, xn, (act){e->b_q, qdim, qs}, T, 0, NULL, err))) return s;
            if (!qkv && !l->v_from_k &&
                (s = gpu_matmul(e, l->attn_v, kvdim, xn, (act){e->b_q, qdim + kvdim, qs}, T, 0, NULL, err)))
                return s;
        }
    }
    if (!gpu_attention_preps(e, li, T) && (s = gpu_attn_prep(e, li, T, qs, err))) return s;
    uint32_t fused; /* splits the output's mat-vec merges on its way in, or 0 (merged, in b_o) */
    if ((s = gpu_attention(e, li, T, qs, &fused, err))) return s;
    if (fused ? (s = gpu_matvec_attn(e, l->attn_output, D, hd, fused, x, err))
              : (s = gpu_matmul(e, l->attn_output, D, (act){e->b_o, 0, qdim}, x, T, 0, NULL, err)))
        return s;
    /* h += RMSNorm(x); xn = RMSNorm(h; ffn_norm): its own pass, or the next mat-vec's prologue */
    const gpu_prologue post_attn = {l->post_attention_norm, NULL, l->ffn_norm};
    const gpu_prologue *pa = fuse ? &post_attn : NULL;
    const int adjacent = gpu_adjacent(e, l->ffn_gate, l->ffn_up);
    /* the residual steps write limbs for the integer matmul that reads their output next */
    if (!pa && (s = gpu_residual(e, &post_attn, T, gpu_smx_takes(e, l->ffn_gate, adjacent ? 2 * F : F, T), err)))
        return s;
    /* feed-forward: [gate | up] per slot, GeGLU in place on the up half */
    const act f = {e->b_f, 0, 2 * F}, fu = {e->b_f, F, 2 * F}; /* GeGLU lands in the up half */
    const int glu_in = gpu_smx_takes(e, l->ffn_down, D, T); /* the down product's limbs pass makes the GeGLU */
    if (adjacent && T <= MATVEC_MAX_TOK) { /* one pass: both rows of a pair per thread, GeGLU on the way out */
        /* its outputs also as limbs when the down product takes them (XLIMBS) */
        if ((s = gpu_gate_up_geglu(e, l->ffn_gate, F, xn, fu, T, pa, gpu_xl_takes(e, l->ffn_down, T, XL_DOWN), err)))
            return s;
    } else {
        /* pa (one slot) gets here only with gate and up apart: the gate's mat-vec takes it over */
        if (adjacent) {
            if ((s = gpu_matmul(e, l->ffn_gate, 2 * F, xn, f, T, 0, NULL, err))) return s;
        } else if ((s = gpu_matmul_pro(e, l->ffn_gate, F, xn, f, T, NULL, pa, err)) ||
                   (s = gpu_matmul(e, l->ffn_up, F, xn, fu, T, 0, NULL, err))) {
            return s;
        }
        glu_params gp = {F, 0, 0, 2 * F, F, 2 * F, 0, 0};
        if (!glu_in && (s = gpu_glu(e, 0, e->b_f, gp, T, err))) return s;
    }
    if (glu_in ? (s = gpu_matmul_glu(e, l->ffn_down, D, f, fu, x, T, err))
               : (s = gpu_matmul(e, l->ffn_down, D, fu, x, T, 0, NULL, err)))
        return s;
    if (l->is_moe && (s = moe(e, l, T, err))) return s;
    const int ple = m->ple_dim > 0, last = li + 1 == m->n_layer;
    /* h += RMSNorm(x) [then the layer scalar and the next pre-norm, without PLE]: its own pass, or
     * the prologue of the next mat-vec (the PLE gate's; else the next layer's first) */
    const gpu_prologue post_ffw = {l->post_ffw_norm, ple ? NULL : l->layer_output_scale, ple ? NULL : next_norm(e, li)};
    const int fuse_ffw = fuse && !l->is_moe && (ple || !last);
    const int ffw_limbs = ple ? gpu_smx_takes(e, l->inp_gate, P, T) : after_limbs(e, li, T);
    if (!fuse_ffw && (s = gpu_residual(e, &post_ffw, T, ffw_limbs, err))) return s;
    if (fuse_ffw && !ple) e->pend = post_ffw;
    /* per-layer embedding injection, then the layer scalar */
    if (ple) {
        const act pl = {e->b_ple, (uint32_t)li * P, LP}, g = {e->b_f, 0, P};
        if (T <= MATVEC_MAX_TOK) {
            if ((s = gpu_matmul_pro(e, l->inp_gate, P, (act){e->b_h, 0, D}, g, T, &pl, fuse_ffw ? &post_ffw : NULL,
                                    err)))
                return s;
        } else {
            if ((s = gpu_matmul(e, l->inp_gate, P, (act){e->b_h, 0, D}, g, T, 0, NULL, err))) return s;
            glu_params pg = {P, 1, (uint32_t)li * P, LP, 0, P, 0, 0};
            if (!gpu_smx_takes(e, l->proj, D, T) && (s = gpu_glu(e, e->b_ple, e->b_f, pg, T, err))) return s;
        }
        if (gpu_smx_takes(e, l->proj, D, T) ? (s = gpu_matmul_glu(e, l->proj, D, g, pl, x, T, err))
                                            : (s = gpu_matmul(e, l->proj, D, g, x, T, 0, NULL, err)))
            return s;
        const gpu_prologue post = {l->post_norm, l->layer_output_scale, next_norm(e, li)};
        if (fuse && !last)
            e->pend = post; /* the next layer's first mat-vec takes it over */
        else if ((s = gpu_residual(e, &post, T, after_limbs(e, li, T), err)))
            return s;
    }
    return RL_OK;
}
