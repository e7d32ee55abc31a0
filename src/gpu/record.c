/* Recording primitives: each turns one operation into one dispatch (two for
 * split-K attention), with the kernel variant that suits the shape. */
#include "gpu/engine_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/matvec_cfg.h"
#include "quant.h"

typedef struct {
    uint32_t rows, cols, n_tok, w_off, x_off, x_stride, y_off, y_stride, grid_x;
    float softcap;
    uint32_t pad0, pad1, pro_w1, pro_w2, pro_s, pro_flags;
} mm_params;

/* y = W x for T slots, W being `rows` rows starting at tensor W (a run of
 * adjacent tensors when rows exceeds W's own): the mat-vec kernel for up to
 * MATVEC_MAX_TOK slots, else the tiled mat-mat, each in the variant
 * src/gpu/matvec_cfg.c picks for the shape. Mat-vec epilogues: geglu, y =
 * gelu(Wx) * B; pair > 0, y_r = gelu(W_r x) * (W_{r+pair} x) for r < rows (a
 * [gate | up] run of 2 * rows rows, kernels/matvec.wgsl EPI_PAIR). */
static uint32_t tpr_of(const rl_matvec_variant *v) { return v->wg * v->rpt / v->rows; }

typedef struct {
    uint32_t cols, n_tok, x_off, x_stride, xf_s, nb, pad0, pad1;
} limb_params;

typedef struct {
    uint32_t rows, cols, n_tok, tile_off, scale_off, y_off, y_stride, xf_s, nb;
    float softcap;
    uint32_t kb_per, part;
} smx_params;

typedef struct {
    uint32_t rows, n_tok, slices, part, y_off, y_stride;
    float softcap;
    uint32_t pad0;
} split_params;

/* Does the integer matmul take y = W x over `rows` rows from W (packed, and its
 * packed run long enough)? */
static int smx_takes(const rl_gpu_engine *e, const gguf_tensor *W, uint32_t rows) {
    if (!e->smx) return 0;
    const smx_placed *sp = &e->smx_where[W - e->mf.gguf->tensors];
    return sp->buffer && rows <= sp->run_rows && rows % 16 == 0 && W->ne[0] <= e->smx_cols;
}

uint32_t gpu_limbs_pipeline(rl_gpu_engine *e, int glu, const char *label, rl_error *err) {
    const rl_gpu_caps *caps = rl_gdev_caps(e->dev);
    char sgmin[24];
    snprintf(sgmin, sizeof sgmin, "SGMIN=%uu", gpu_sgmin(caps));
    const char *defs[] = {"WG=256u", caps->has_subgroups ? "SUBGROUPS" : "NO_SUBGROUPS", sgmin,
                          e->smx_nl == 2 ? "LIMBS2" : "LIMBS3", glu ? "GLU" : "NO_GLU", label, NULL};
    return rl_gdev_pipeline(e->dev, glu ? K_ACT_LIMBS_GLU : K_ACT_LIMBS, defs, err);
}

/* The matmul on integer tensor cores (kernels/act_limbs.wgsl, matmul_smx.wgsl):
 * x as three int8 limbs per value into b_xl / b_xf, then y = W x from W's
 * packed copy (gpu_pack_smx). With mul, the product's input is the GeGLU
 * gelu(x) * mul, made by the limbs pass (act_limbs.wgsl GLU). */
static rl_status smx_product(rl_gpu_engine *e, const gguf_tensor *W, uint32_t rows, act x, const act *mul, act y,
                             int T, float softcap, rl_error *err) {
    const uint32_t cols = (uint32_t)W->ne[0], nb = cols / 32;
    limb_params lp = {cols, (uint32_t)T, x.off, x.stride, 0, nb, mul ? mul->off : 0, mul ? mul->stride : 0};
    rl_gbind lb[4] = {{x.buf, 0, 0}, {e->b_xl, 0, 0}, {e->b_xf, 0, 0}, {mul ? mul->buf : 0, 0, 0}};
    char label[40]; /* RULLAMA_TUNE smxlabel=1: a pipeline and profile line per shape */
    uint32_t p_limbs = mul ? e->p_limbs_glu : e->p_limbs;
    if (e->smx_label) {
        snprintf(label, sizeof label, "LABEL_%u%s", cols, mul ? "_glu" : "");
        if (!(p_limbs = gpu_limbs_pipeline(e, mul != NULL, label, err))) return err->code;
    }
    /* a norm may have written them already (gpu_residual): then only the product runs */
    const int ready = !mul && e->limbs_buf == x.buf && e->limbs_off == x.off && e->limbs_cols == cols &&
                      x.stride == cols && e->limbs_tok == T;
    e->limbs_buf = 0; /* b_xl is this product's from here on */
    rl_status s = ready ? RL_OK : rl_gdev_dispatch(e->dev, p_limbs, &lp, lb, (uint32_t)T, 1, 1, err);
    if (s) return s;
    snprintf(label, sizeof label, "LABEL_%ux%u", rows, cols);
    /* the activations' staging, as smx_plan chose it (or the smxks/smxst knobs forced it) */
    if (gpu_smx_stage_bytes(e->smx_ks, e->smx_st, e->smx_nl) > rl_gdev_caps(e->dev)->max_wg_storage)
        return rl_fail(err, RL_ERR_INVALID, "smxks/smxst: over the workgroup memory");
    char ks_def[16], st_def[16];
    snprintf(ks_def, sizeof ks_def, "KS=%uu", e->smx_ks);
    snprintf(st_def, sizeof st_def, "ST=%uu", e->smx_st);
    const char *defs[] = {e->smx_emu ? "NO_SMX_HW" : "SMX_HW", ks_def, st_def, e->smx_nl == 2 ? "LIMBS2" : "LIMBS3",
                          e->smx_label ? label : NULL, NULL};
    const uint32_t pipe = rl_gdev_pipeline(e->dev, K_MATMUL_SMX, defs, err);
    if (!pipe) return err->code;
    const smx_placed *pw = &e->smx_where[W - e->mf.gguf->tensors];
    uint32_t slices = gpu_smx_slices(e, rows, nb, (uint32_t)T);
    if ((uint64_t)slices * (uint32_t)T * rows > e->smx_part_floats) slices = 1;
    const uint32_t kb_per = (nb + slices - 1) / slices;
    slices = (nb + kb_per - 1) / kb_per; /* no empty slice */
    smx_params sp = {rows, cols, (uint32_t)T, pw->tile_word, pw->scale_word, y.off, y.stride, 0, nb, softcap, kb_per, 0};
    rl_gbind b[4] = {{pw->buffer, 0, 0}, {e->b_xl, 0, 0}, {e->b_xf, 0, 0}, {y.buf, 0, 0}};
    if (slices > 1) { /* slice z into b_smx_part at z T rows, then their sum into y */
        sp.y_off = 0, sp.y_stride = rows, sp.softcap = 0, sp.part = (uint32_t)T * rows;
        b[3] = (rl_gbind){e->b_smx_part, 0, 0};
    }
    if ((s = rl_gdev_dispatch(e->dev, pipe, &sp, b, ((uint32_t)T + 63) / 64, (rows + 127) / 128, slices, err)) ||
        slices == 1)
        return s;
    split_params qp = {rows, (uint32_t)T, slices, sp.part, y.off, y.stride, softcap, 0};
    rl_gbind qb[2] = {{e->b_smx_part, 0, 0}, {y.buf, 0, 0}};
    return rl_gdev_dispatch(e->dev, e->p_split_sum, &qp, qb, (rows + 255) / 256, (uint32_t)T, 1, err);
}

/* Weight types whose one-slot mat-vec has integer products from its input's limbs (matvec.wgsl XLIMBS) */
static int xl_type(uint32_t type) { return type == RL_TYPE_Q4_K || type == RL_TYPE_Q6_K; }

int gpu_xl_takes(const rl_gpu_engine *e, const gguf_tensor *W, int T, int which) {
    return T == 1 && (e->mv_xl & which) && !e->mv_wg && xl_type(W->type) && W->ne[0] % 256 == 0;
}

/* The attention's unmerged partials as a mat-vec's input (matvec.wgsl PRO_ATTN) */
typedef struct {
    uint32_t hd, n_split;
} attn_in;

/* W2 (rows2 rows, another type): a second matrix after W's rows, in one mat-vec
 * (kernels/matvec.wgsl TWO_TYPES; gpu_can_two_types decides). limbs_out: a GeGLU pair
 * (pair > 0) also writes its outputs' limbs for the product after it (matvec.wgsl
 * LIMBS_OUT), where its variant allows. ai: x is the attention's unmerged splits in b_part,
 * merged by every workgroup on its way in (matvec.wgsl PRO_ATTN) */
static rl_status weight_product(rl_gpu_engine *e, const gguf_tensor *W, uint32_t rows, act x, act y, int T,
                                float softcap, const act *geglu, uint32_t pair, const gpu_prologue *pro,
                                const gguf_tensor *W2, uint32_t rows2, int limbs_out, const attn_in *ai,
                                rl_error *err) {
    const rl_gpu_caps *caps = rl_gdev_caps(e->dev);
    const gpu_dlimbs dl = e->dl; /* limbs of this product's input, if its producer wrote them */
    e->dl.buf = 0;
    int xl = 0, lout = 0;
    const uint32_t rows_a = rows;
    if (W2) rows += rows2;
    const uint32_t cols = (uint32_t)W->ne[0], w_rows = pair ? 2 * pair : rows;
    const uint32_t nt = rl_matvec_nt((uint32_t)T);
    char d0[48], d1[32], d2[32], d3[32], d4[32], d5[32], d7[32], d8[32], d9[48];
    snprintf(d0, sizeof d0, "TYPE_%s", rl_type_get(W->type)->name);
    if (W2) snprintf(d9, sizeof d9, "TYPE2_%s", rl_type_get(W2->type)->name);
    uint32_t pipe, gx, gy;
    mm_params p = {rows,
                   cols,
                   (uint32_t)T,
                   0,
                   x.off,
                   x.stride,
                   y.off,
                   y.stride,
                   0,
                   softcap,
                   geglu ? geglu->off : pair,
                   geglu ? geglu->stride : 0,
                   0,
                   0,
                   0,
                   0};
    if (pro) {
        if (T != 1 || !nt) return rl_fail(err, RL_ERR_INVALID, "a residual prologue is a one-slot mat-vec variant");
        x = (act){e->b_x, 0, cols}; /* the residual's input; the product's input is the prologue's */
        p.x_off = 0;
        p.x_stride = cols;
        p.pro_w1 = pro->w1 ? gpu_vec_off(e, pro->w1) : 0;
        p.pro_w2 = pro->next ? gpu_vec_off(e, pro->next) : 0;
        p.pro_s = pro->scale ? gpu_vec_off(e, pro->scale) : 0;
        p.pro_flags = (pro->scale ? 1u : 0u) | (pro->next ? 2u : 0u) | (pro->w1 ? 0u : 4u);
    }
    if (ai) { /* x is the partials in b_part (gpu_matvec_attn) */
        if (T != 1 || !nt || pro || pair || geglu || W2)
            return rl_fail(err, RL_ERR_INVALID, "merged attention partials are a plain one-slot mat-vec's input");
        p.pro_w1 = ai->hd;
        p.pro_w2 = ai->n_split;
    }
    if (nt) {
        rl_matvec_variant v;
        rl_matvec_config_steps(W->type, w_rows, cols, (uint32_t)T, caps, (uint32_t)e->mv_steps, (uint32_t)e->mv_threads, &v);
        if (pair && v.rpt != 2) v.rows *= 2, v.rpt = 2; /* the partner row is the thread's second row */
        if (pro || ai) v.xs = cols; /* the prologue's input, staged whole (its chunk loop is the one-token loop) */
        /* the same threads per row, more or fewer rows per workgroup: every mat-vec (wg=N), or those with
         * a residual prologue, which every workgroup repeats (pwg=N) */
        const int wg_knob = e->mv_wg ? e->mv_wg : ai ? e->mv_attn_wg : pro && !pair ? e->mv_pro_wg : 0;
        const uint32_t max_wg = caps->max_invocations ? caps->max_invocations : 256;
        if (wg_knob) {
            const uint32_t tpr = tpr_of(&v);
            uint32_t w = (uint32_t)wg_knob < tpr ? tpr : (uint32_t)wg_knob;
            if (w > max_wg) w = max_wg;
            if (w >= tpr) v.rows = w / tpr * v.rpt, v.wg = w;
        }
        if (W == e->m->output && e->head_wg && T == 1 && !pro && !pair && !geglu && !W2 &&
            (uint32_t)e->head_wg <= max_wg) {
            v.wg = (uint32_t)e->head_wg, v.rpt = (uint32_t)e->head_rpt;
            v.rows = v.wg / (uint32_t)e->head_tpr * v.rpt;
            v.lc = v.lc < (uint32_t)e->head_tpr ? v.lc : (uint32_t)e->head_tpr;
            v.steps = e->head_unroll ? rl_matvec_steps(W->type, cols, (uint32_t)e->head_tpr) : 0;
        }
        if (W2 && v.rpt == 2) v.rows /= 2, v.rpt = 1; /* one row per thread (tall q|k|v of big models), same TPR */
        /* integer products (IDOT) for a GeGLU pair after a residual prologue: workgroups of 256, so that
         * half as many of them repeat the prologue and its limbs (H100, 24576x1536 alone: 16.4 us against
         * 20.3 with 128, and 20.3 in f32) */
        const int idot = pro && pair && W->type == RL_TYPE_Q4_K && v.nt == 1 && e->mv_idot && !e->mv_wg;
        if (idot && caps->max_invocations >= 256 && v.wg < 256) v.rows = v.rows * (256 / v.wg), v.wg = 256;
        /* integer products from limbs the input's producer wrote (XLIMBS; gpu_xl_takes asked for them) */
        xl = !pro && !pair && !geglu && !W2 && v.nt == 1 && dl.buf && dl.buf == x.buf && dl.off == x.off &&
             dl.cols == cols && gpu_xl_takes(e, W, T, XL_HEAD | XL_DOWN);
        /* the pair's outputs as limbs for the down product (LIMBS_OUT): a workgroup's 32 outputs are one
         * block (e2b's gate|up has this geometry anyway: 8 threads a row) */
        lout = limbs_out && idot && v.wg == 256 && rows % 32 == 0;
        if (lout) v.rows = 64;
        if (W2 && ((v.xs && !pro) || T != 1))
            return rl_fail(err, RL_ERR_INVALID, "two weight types need a one-token mat-vec without x tiles");
        if (e->mv_lc) v.lc = (uint32_t)e->mv_lc < tpr_of(&v) ? (uint32_t)e->mv_lc : tpr_of(&v);
        if (e->mv_unroll >= 0) v.steps = e->mv_unroll && (pro || !v.xs) ? rl_matvec_steps(W->type, cols, tpr_of(&v)) : 0;
        if (e->mv_wvec >= 0) v.wvec = (uint32_t)e->mv_wvec;
        /* 16-byte loads need the binding in whole 16-byte words (it starts 256-aligned) */
        if ((uint64_t)w_rows * gpu_row_bytes(e, W->type, cols) % 16) v.wvec = 0;
        if (W2 && (e->where[W2 - e->mf.gguf->tensors].offset - e->where[W - e->mf.gguf->tensors].offset) % 16) v.wvec = 0;
        char d6[40], d10[24], d11[24];
        snprintf(d6, sizeof d6, "EPS=%.9g", (double)e->m->eps);
        if (ai) { /* its workgroup memory: the weights of every (head, split) */
            snprintf(d10, sizeof d10, "AH=%uu", cols / ai->hd);
            snprintf(d11, sizeof d11, "AS=%uu", (uint32_t)e->attn_fuse);
        }
        snprintf(d1, sizeof d1, "WG=%uu", v.wg);
        snprintf(d2, sizeof d2, "ROWS=%uu", v.rows);
        snprintf(d3, sizeof d3, "NT=%uu", v.nt);
        snprintf(d4, sizeof d4, "RPT=%uu", v.rpt);
        snprintf(d5, sizeof d5, "XS=%uu", v.xs);
        snprintf(d7, sizeof d7, "LC=%uu", v.lc);
        snprintf(d8, sizeof d8, "STEPS=%uu", v.steps);
        const char *defs[] = {d0,
                              gpu_layout_def(e, W->type),
                              d1,
                              d2,
                              d3,
                              d4,
                              caps->has_subgroups ? "SUBGROUPS" : "NO_SUBGROUPS",
                              geglu ? "EPI_GEGLU" : pair ? "EPI_PAIR" : "NO_EPI",
                              pro ? "PRO_RES" : "NO_PRO",
                              pro ? d6 : "NO_EPS",
                              d7,
                              v.wvec ? "WVEC" : "NO_WVEC",
                              v.steps ? d8 : "NO_STEPS",
                              W2 ? "TWO_TYPES" : "ONE_TYPE",
                              W2 ? gpu_layout_def(e, W2->type) : "NO_PAD2",
                              W2 ? d9 : "NO_TYPE2",
                              idot || xl ? "IDOT" : "NO_IDOT",
                              xl ? "XLIMBS" : "NO_XLIMBS",
                              lout ? "LIMBS_OUT" : "NO_LIMBS_OUT",
                              xl || lout ? "LIMBS_FLAT" : "NO_LIMBS_FLAT",
                              ai ? "PRO_ATTN" : "NO_PRO_ATTN",
                              ai ? d10 : "NO_AH",
                              ai ? d11 : "NO_AS",
                              v.xs ? d5 : NULL,
                              NULL};
        const rl_kernel_id k = xl ? K_MATVEC_XL : pro ? K_MATVEC_RES : geglu ? K_MATVEC_GEGLU : K_MATVEC;
        if (!(pipe = rl_gdev_pipeline(e->dev, k, defs, err))) return err->code;
        const uint32_t out_rows = pair ? v.rows / 2 : v.rows, groups = (rows + out_rows - 1) / out_rows,
                       maxg = caps->max_workgroups ? caps->max_workgroups : 65535;
        gx = groups < maxg ? groups : maxg;
        gy = (groups + gx - 1) / gx;
        p.grid_x = gx;
    } else {
        if (geglu || pair) return rl_fail(err, RL_ERR_INVALID, "GeGLU epilogues are mat-vec variants");
        if (smx_takes(e, W, rows)) return smx_product(e, W, rows, x, NULL, y, T, softcap, err);
        uint32_t tm, tn, bk;
        rl_matmul_config(rows, (uint32_t)T, caps, (uint32_t)e->mm_min_groups, &tm, &tn, &bk);
        const uint32_t mem = caps->max_wg_storage ? caps->max_wg_storage : 16384;
        if (e->mm_tm && (16 * e->mm_tm + 16 * e->mm_tn) * (bk + 4) * 4 <= mem) { /* A/B */
            tm = (uint32_t)e->mm_tm;
            tn = (uint32_t)e->mm_tn;
        }
        if (e->mm_bk && (16 * tm + 16 * tn) * ((uint32_t)e->mm_bk + 4) * 4 <= mem) bk = (uint32_t)e->mm_bk; /* A/B */
        snprintf(d1, sizeof d1, "TM=%uu", tm);
        snprintf(d2, sizeof d2, "TN=%uu", tn);
        snprintf(d3, sizeof d3, "BK=%uu", bk);
        const char *defs[] = {d0, gpu_layout_def(e, W->type), d1, d2, d3, NULL};
        if (!(pipe = rl_gdev_pipeline(e->dev, K_MATMUL, defs, err))) return err->code;
        gx = (rows + 16 * tm - 1) / (16 * tm);
        gy = ((uint32_t)T + 16 * tn - 1) / (16 * tn);
    }
    const placed *pw = &e->where[W - e->mf.gguf->tensors];
    uint64_t wbind = align_up((uint64_t)w_rows * gpu_row_bytes(e, W->type, cols), 4);
    if (W2) { /* the binding spans both; the second starts pad1 bytes in */
        const placed *p2 = &e->where[W2 - e->mf.gguf->tensors];
        p.pad0 = rows_a;
        p.pad1 = (uint32_t)(p2->offset - pw->offset);
        wbind = align_up(p2->offset + (uint64_t)rows2 * gpu_row_bytes(e, W2->type, cols) - pw->offset, 4);
    }
    rl_gbind b[9] = {{pw->buffer, pw->offset, wbind},
                     {x.buf, 0, 0},
                     {y.buf, 0, 0},
                     {geglu ? geglu->buf : e->b_dummy, 0, 0},
                     {e->b_h, 0, 0},
                     {e->vec_buf, 0, 0},
                     {e->b_h_alt, 0, 0},
                     {e->b_xn, 0, 0}};
    if (pro && !pro->next) b[7].buffer = e->b_dummy; /* the input is h' itself: b_xn keeps its value */
    if (lout) b[7].buffer = e->b_dl; /* instead of xn, which nothing reads after this product */
    if (xl) { /* the limbs, and their scale(s) and block sums (per block: after the limbs in b_dl) */
        const uint32_t nb = cols / 32;
        b[3] = (rl_gbind){e->b_dl, 0, 0};
        b[4] = (rl_gbind){dl.per_block ? e->b_dl : e->b_dlf, 0, 0};
        p.pro_s = dl.per_block ? 24 * nb : 0;
        p.pro_flags = dl.per_block;
        p.pad0 = 25 * nb;
    }
    rl_status s = rl_gdev_dispatch(e->dev, pipe, &p, b, gx, gy, 1, err);
    if (!s && lout) e->dl = (gpu_dlimbs){y.buf, y.off, rows, 1};
    if (!s && pro) { /* h' is the residual stream from here on */
        const uint32_t t = e->b_h;
        e->b_h = e->b_h_alt;
        e->b_h_alt = t;
    }
    return s;
}

int gpu_can_fuse_residual(const rl_gpu_engine *e, int T) {
    /* one slot, and a row the kernel stages whole in tiles of 256 (matvec.wgsl XS) */
    return T == 1 && e->m->n_embd % 256 == 0 &&
           (uint64_t)e->m->n_embd * 4 + 4096 <= rl_gdev_caps(e->dev)->max_wg_storage;
}

rl_status gpu_matmul_pro(rl_gpu_engine *e, const gguf_tensor *W, uint32_t rows, act x, act y, int T,
                         const act *geglu, const gpu_prologue *pro, rl_error *err) {
    return weight_product(e, W, rows, x, y, T, 0, geglu, 0, pro, NULL, 0, 0, NULL, err);
}

int gpu_smx_takes(const rl_gpu_engine *e, const gguf_tensor *W, uint32_t rows, int T) {
    return !rl_matvec_nt((uint32_t)T) && smx_takes(e, W, rows);
}

rl_status gpu_matmul_glu(rl_gpu_engine *e, const gguf_tensor *W, uint32_t rows, act g, act m, act y, int T,
                         rl_error *err) {
    if (!gpu_smx_takes(e, W, rows, T)) return rl_fail(err, RL_ERR_INVALID, "a GeGLU input needs the integer matmul");
    return smx_product(e, W, rows, g, &m, y, T, 0, err);
}

rl_status gpu_matmul(rl_gpu_engine *e, const gguf_tensor *W, uint32_t rows, act x, act y, int T, float softcap,
                     const act *geglu, rl_error *err) {
    return weight_product(e, W, rows, x, y, T, softcap, geglu, 0, NULL, NULL, 0, 0, NULL, err);
}

rl_status gpu_gate_up_geglu(rl_gpu_engine *e, const gguf_tensor *gate, uint32_t F, act x, act y, int T,
                            const gpu_prologue *pro, int limbs_out, rl_error *err) {
    return weight_product(e, gate, F, x, y, T, 0, NULL, F, pro, NULL, 0, limbs_out, NULL, err);
}

rl_status gpu_matvec_attn(rl_gpu_engine *e, const gguf_tensor *W, uint32_t rows, uint32_t hd, uint32_t n_split,
                          act y, rl_error *err) {
    const attn_in ai = {hd, n_split};
    return weight_product(e, W, rows, (act){e->b_part, 0, (uint32_t)W->ne[0]}, y, 1, 0, NULL, 0, NULL, NULL, 0, 0,
                          &ai, err);
}

/* Can layer li's attention output mat-vec merge n_split partials on its way in (matvec.wgsl PRO_ATTN)? Its
 * input row is staged whole in workgroup memory, with a weight per (head, split). */
static int attn_out_merges(const rl_gpu_engine *e, int li) {
    const rl_layer *l = &e->m->layers[li];
    const gguf_tensor *W = l->attn_output;
    const uint32_t cols = (uint32_t)(e->m->n_head * l->head_dim);
    const uint64_t mem = (uint64_t)cols * 4 + (uint64_t)e->m->n_head * (uint32_t)e->attn_fuse * 4 + 4096;
    return e->attn_fuse > 1 && W && (uint32_t)W->ne[0] == cols && cols % 256 == 0 && rl_matvec_chunk(W->type) &&
           mem <= rl_gdev_caps(e->dev)->max_wg_storage;
}

int gpu_can_two_types(const rl_gpu_engine *e, const gguf_tensor *a_last, const gguf_tensor *b, int T) {
    if (T != 1 || !a_last || !b || e->no_two_types || b->ne[0] != a_last->ne[0] || !rl_matvec_chunk(b->type)) return 0;
    const placed *pa = &e->where[a_last - e->mf.gguf->tensors], *pb = &e->where[b - e->mf.gguf->tensors];
    return pa->buffer && pa->buffer == pb->buffer && pb->offset >= pa->offset + pa->size;
}

rl_status gpu_matvec_two(rl_gpu_engine *e, const gguf_tensor *Wa, uint32_t rows_a, const gguf_tensor *Wb,
                         uint32_t rows_b, act x, act y, const gpu_prologue *pro, rl_error *err) {
    return weight_product(e, Wa, rows_a, x, y, 1, 0, NULL, 0, pro, Wb, rows_b, 0, NULL, err);
}

/* A norm pass (kernels/norm.wgsl); with limbs (one group a token), its last output's limbs
 * too (LIMBS), recorded as what b_xl holds for the product that reads that output next. */
static rl_status norm_pass(rl_gpu_engine *e, uint32_t x_buf, uint32_t y_buf, norm_params p, int T, int limbs,
                           rl_error *err) {
    p.eps = e->m->eps;
    if (p.in_scale == 0) p.in_scale = 1;
    rl_gbind b[6] = {{x_buf ? x_buf : e->b_dummy, 0, 0}, {e->vec_buf, 0, 0}, {y_buf, 0, 0}, {e->b_xn, 0, 0},
                     {e->b_xl, 0, 0}, {e->b_xf, 0, 0}};
    if (y_buf == e->b_xn) b[3].buffer = e->b_dummy; /* Z unused: never bind one buffer twice writable */
    e->limbs_buf = 0; /* whatever they were of may change now */
    const uint32_t out = p.flags & NF_NEXT ? e->b_xn : y_buf;
    if (limbs == 1) e->limbs_buf = out, e->limbs_off = p.y_off, e->limbs_cols = p.n, e->limbs_tok = T;
    if (limbs == 2) { /* one slot's, for a mat-vec (XLIMBS) */
        b[4].buffer = e->b_dl, b[5].buffer = e->b_dlf;
        e->dl = (gpu_dlimbs){out, p.y_off, p.n, 0};
    }
    const uint32_t pipe = limbs == 2 ? e->p_norm_dlimbs : limbs ? e->p_norm_limbs : e->p_norm;
    return rl_gdev_dispatch(e->dev, pipe, &p, b, p.groups, (uint32_t)T, 1, err);
}

rl_status gpu_norm(rl_gpu_engine *e, uint32_t x_buf, uint32_t y_buf, norm_params p, int T, rl_error *err) {
    return norm_pass(e, x_buf, y_buf, p, T, 0, err);
}

/* The residual step r as a norm pass of its own (gpu_prologue says what it computes). */
rl_status gpu_residual(rl_gpu_engine *e, const gpu_prologue *r, int T, int limbs, rl_error *err) {
    const uint32_t D = (uint32_t)e->m->n_embd;
    norm_params p = {D,
                     1,
                     0,
                     D,
                     0,
                     D,
                     gpu_vec_off(e, r->w1),
                     r->scale ? gpu_vec_off(e, r->scale) : 0,
                     NF_WEIGHT | NF_RESIDUAL | (r->scale ? NF_SCALE : 0) | (r->next ? NF_NEXT : 0),
                     0,
                     1,
                     r->next ? gpu_vec_off(e, r->next) : 0};
    /* the output (xn with a next norm, else h) as limbs too: act_limbs.wgsl's pass for the next product saved,
     * or a one-slot mat-vec's dequantization into f32 */
    if (limbs == 2) limbs = T == 1 && e->p_norm_dlimbs && D % 32 == 0 ? 2 : 0;
    else limbs = limbs && e->smx && D % 32 == 0 && D <= e->smx_cols;
    return norm_pass(e, e->b_x, e->b_h, p, T, limbs, err);
}

typedef struct {
    uint32_t H, kvh, hd, rope_dims, q_stride, kv_stride, kv_cap, rt_stride, rt_col, qn_off, kn_off;
    float eps;
    uint32_t k_off, v_off, pad0, pad1;
} prep_params;

/* Per-head norms and RoPE of q (in place) and, for layers that own their
 * cache, k and v into the cache at each slot's position. */
rl_status gpu_attn_prep(rl_gpu_engine *e, int li, int T, uint32_t qs, rl_error *err) {
    const rl_model *m = e->m;
    const rl_layer *l = &m->layers[li];
    const uint32_t H = (uint32_t)m->n_head, hd = (uint32_t)l->head_dim, kvh = (uint32_t)l->n_kv_head;
    const uint32_t qdim = H * hd, kvdim = kvh * hd;
    const int donor = l->kv_donor;
    prep_params pp = {H,
                      kvh,
                      hd,
                      (uint32_t)l->rope_dims,
                      qs,
                      kvdim,
                      (uint32_t)e->cap[donor],
                      (uint32_t)e->rt_stride,
                      l->is_swa ? 0 : (uint32_t)m->head_dim_swa,
                      gpu_vec_off(e, l->attn_q_norm),
                      l->attn_k_norm ? gpu_vec_off(e, l->attn_k_norm) : 0,
                      m->eps,
                      qdim,
                      l->v_from_k ? qdim : qdim + kvdim,
                      0,
                      0};
    rl_gbind pb[6] = {{e->b_step, 0, 0}, {e->b_q, 0, 0},       {e->vec_buf, 0, 0},
                      {e->b_step, e->rope_off, 0}, {e->kc[donor], 0, 0}, {e->vc[donor], 0, 0}};
    return rl_gdev_dispatch(e->dev, e->p_prep, &pp, pb, H + (l->kv_shared ? 0 : kvh), (uint32_t)T, 1, err);
}

typedef struct {
    uint32_t H, kvh, hd, window, q_stride, q_off, kv_stride, kv_cap, o_stride, n_split, head_chunks, n_tok;
    uint32_t qn_off, kn_off; /* attn_decode PREP only (kernels/attn_io.wgsl) */
    float eps;
    uint32_t rope_dims, rt_col, k_off, v_off, prep_flags;
} attn_params;

typedef struct {
    uint32_t H, hd, n_split, o_stride;
} combine_params;

/* attention_tiled.wgsl: R query rows (tokens x the KV group's heads) per
 * workgroup, BK = 16 * WG / R keys per block (one 4x4 score tile per
 * invocation), SD dims per staged score slice. */
typedef struct {
    uint32_t r, bk, sd;
} tiled_cfg;

#define ATTN_TILED_WG 256

/* Its workgroup memory: a slice of the Q and K rows as vec4 rows padded by one (later a
 * chunk of V), the block's scores by key (rows padded by a vec4), the score tiles' row
 * maxima (likewise), the key table, the rows' rescale factors. */
static uint32_t tiled_bytes(const tiled_cfg *c) {
    return 16 * (c->r + c->bk) * (c->sd / 4 + 1) + 16 * c->bk * (c->r / 4 + 1) + 16 * (c->bk / 4) * (c->r / 4 + 1) +
           4 * c->bk + 4 * c->r;
}

/* The tiled variant for a pass of T slots, or 0 where the per-token kernel runs:
 * the widest slice (fewest barriers and Q reloads per key) that fits the
 * workgroup memory. */
static int tiled_config(const rl_gpu_caps *caps, int T, uint32_t group, uint32_t hd, tiled_cfg *c) {
    static const uint32_t cand[] = {32, 16, 8};
    c->r = hd >= 512 ? 32 : 64; /* at most 64 output floats per invocation, in registers */
    c->bk = 16 * ATTN_TILED_WG / c->r;
    const uint32_t mem = caps->max_wg_storage ? caps->max_wg_storage : 16384, f = c->r * hd / ATTN_TILED_WG;
    /* the output tiles are 1-4 blocks of 4x4 floats: 16, 32 or 64 (head dims 64, 128, 256, 512) */
    if (T < ATTN_TILED_MIN_T || group > c->r || caps->max_invocations < ATTN_TILED_WG ||
        c->r * hd != f * ATTN_TILED_WG || (f != 16 && f != 32 && f != 64))
        return 0;
    for (size_t i = 0; i < sizeof cand / sizeof *cand; i++) {
        c->sd = cand[i];
        if (tiled_bytes(c) <= mem) return 1;
    }
    return 0;
}

/* Attention of layer li for T slots from the donor's cache into b_o, split
 * over the keys until the pass has enough workgroups (then merged). Prefill
 * passes use the tiled kernel, decode the per-token one. */
int gpu_attention_preps(const rl_gpu_engine *e, int li, int T) {
    const rl_layer *l = &e->m->layers[li];
    return T == 1 && !e->attn_noprep && l->rope_dims % 8 == 0 &&
           (uint32_t)l->head_dim / 2 <= rl_gdev_caps(e->dev)->max_invocations;
}

/* What gpu_attention records for layer li and T slots: the kernel and its
 * variant, the grid's key splits. A pure function of the engine's settings, T
 * and n_past, so a decode step whose plans all match an earlier step's records
 * the same commands (engine.c replays them). */
typedef struct {
    uint32_t tiled, hc, chunks, kb, n_split, per_pass, prep;
    uint32_t npv;   /* attn_decode's P.V parts (NPV; > 2: LANE_PARTS) */
    uint32_t fused; /* its splits are merged by the output's mat-vec (PART_VEC, no attn_combine) */
    tiled_cfg tc;
} attn_plan;

/* attn_decode's workgroup memory (kernels/attn_decode.wgsl) with npv parts */
static uint32_t attn_decode_bytes(uint32_t hd, uint32_t hc, uint32_t kb, uint32_t npv, int prep) {
    const uint32_t c4 = hd / 4, wg = npv * c4;
    return hc * c4 * 16 + wg * (hc + 2) * 4 + hc * kb * 4 + 3 * hc * 4 + (prep ? 2 * c4 * 16 + (hc + 2) * 4 : 0);
}

static void attention_plan(const rl_gpu_engine *e, int li, int T, attn_plan *p) {
    const rl_layer *l = &e->m->layers[li];
    const rl_gpu_caps *caps = rl_gdev_caps(e->dev);
    const uint32_t H = (uint32_t)e->m->n_head, kvh = (uint32_t)l->n_kv_head, hd = (uint32_t)l->head_dim;
    const uint32_t group = H / kvh, window = l->is_swa ? (uint32_t)e->m->window : 0;
    memset(p, 0, sizeof *p);
    p->tiled = (uint32_t)tiled_config(caps, T, group, hd, &p->tc);
    const uint32_t last = (uint32_t)(e->n_past + T - 1); /* the pass's last position */
    const uint32_t keys = window && last + 1 > window ? window : last + 1;       /* decode: the keys a pass reads */
    const uint32_t dec_keys = (uint32_t)align_up(keys, ATTN_PLAN_KEYS);                /* ... as planned */
    uint32_t hc = group < ATTN_HC ? group : ATTN_HC;
    if (!p->tiled) {
        /* decode: few heads per workgroup keep attn_decode's per-head arrays in registers (8 heads
         * measured 17 us a pass against 9.6 for one on the H100, docs/PERF.md), but each head
         * chunk after the first reads the keys and values again: as few heads as that allows */
        const uint64_t kv = (uint64_t)dec_keys * hd * 8 * kvh;
        for (hc = 1; hc < group && (uint64_t)((group + hc - 1) / hc - 1) * kv > ATTN_DEC_REREAD;) hc *= 2;
        if (hc > ATTN_HC) hc = ATTN_HC;
        if (e->attn_hc) hc = (uint32_t)e->attn_hc < group ? (uint32_t)e->attn_hc : group;
    }
    p->hc = hc;
    p->chunks = (group + hc - 1) / hc;
    p->prep = (uint32_t)(!p->tiled && gpu_attention_preps(e, li, T)); /* one slot: the decode kernel prepares q, k, v */
    const uint32_t dec_splits = e->attn_splits ? (uint32_t)e->attn_splits : ATTN_DEC_SPLITS;
    /* workgroups per split, and the longest key range one workgroup walks */
    uint32_t max_keys, min_keys;
    if (p->tiled) {
        const uint32_t bq = p->tc.r / group;
        p->per_pass = ((uint32_t)T + bq - 1) / bq * kvh;
        max_keys = window && last + 1 > window + bq - 1 ? window + bq - 1 : last + 1; /* its tokens' union */
        min_keys = p->tc.bk; /* a split of at least one whole block */
    } else {
        /* kernels/attn_decode.wgsl: WG = 2 * hd / 4, blocks of KB <= WG keys; splits of at least
         * one block, as many as ATTN_DEC_SPLITS (a long context walks several blocks each) */
        const uint32_t kb_max = e->attn_kb ? (uint32_t)e->attn_kb : ATTN_DEC_KB;
        p->kb = kb_max < hd / 2 ? kb_max : hd / 2;
        /* more P.V parts, each over the same keys a thread: blocks of kb npv / 2 keys; parts past 2 are
         * neighbouring lanes of a subgroup */
        p->npv = 2;
        for (uint32_t n = 4; caps->has_subgroups && n <= (uint32_t)e->attn_npv && n <= gpu_sgmin(caps) &&
                             n * hd / 4 <= caps->max_invocations &&
                             attn_decode_bytes(hd, hc, p->kb * n / 2, n, (int)p->prep) <= caps->max_wg_storage;
             n *= 2)
            p->npv = n;
        p->kb = p->kb * p->npv / 2;
        p->per_pass = (uint32_t)T * kvh * p->chunks;
        max_keys = dec_keys;
        min_keys = (max_keys + dec_splits - 1) / dec_splits;
        if (min_keys < p->kb) min_keys = p->kb;
    }
    uint32_t n_split = p->tiled ? (ATTN_TARGET_WG + p->per_pass - 1) / p->per_pass : dec_splits,
             by_keys = (max_keys + min_keys - 1) / min_keys;
    const uint64_t by_buf = attn_part_slots((uint64_t)e->ubatch) * (MAX_HD + 2) / ((uint64_t)T * (hd + 2));
    if (n_split > by_keys) n_split = by_keys;
    /* one token, few blocks: a split a block (up to fuse of them walking up to fuse_blocks each), merged by
     * the output's mat-vec */
    const uint32_t blocks = p->kb ? (dec_keys + p->kb - 1) / p->kb : 0;
    if (!p->tiled && p->prep && T == 1 && blocks > 1 &&
        blocks <= (uint32_t)e->attn_fuse * (uint32_t)e->attn_fuse_blocks && attn_out_merges(e, li)) {
        p->fused = 1;
        n_split = blocks < (uint32_t)e->attn_fuse ? blocks : (uint32_t)e->attn_fuse;
    }
    if (n_split > by_buf) n_split = (uint32_t)by_buf, p->fused = 0;
    p->n_split = n_split < 1 ? 1 : n_split;
    if (p->n_split == 1) p->fused = 0;
}

uint64_t gpu_attention_key(const rl_gpu_engine *e, int T) {
    uint64_t h = RL_GDEV_HASH_SEED;
    for (int li = 0; li < e->m->n_layer; li++) {
        attn_plan p;
        attention_plan(e, li, T, &p);
        h = rl_gdev_hash(&p, sizeof p, h);
    }
    return h;
}

rl_status gpu_attention(rl_gpu_engine *e, int li, int T, uint32_t q_stride, uint32_t *fused, rl_error *err) {
    const rl_model *m = e->m;
    const rl_layer *l = &m->layers[li];
    const int donor = l->kv_donor;
    const uint32_t H = (uint32_t)m->n_head, kvh = (uint32_t)l->n_kv_head, hd = (uint32_t)l->head_dim;
    const uint32_t qdim = H * hd, kvdim = kvh * hd, window = l->is_swa ? (uint32_t)m->window : 0;
    if (hd % 64) return rl_fail(err, RL_ERR_UNSUPPORTED, "head dim %u is not a multiple of 64", hd);
    attn_plan pl;
    attention_plan(e, li, T, &pl);
    const int tiled = (int)pl.tiled, prep = (int)pl.prep;
    *fused = pl.fused ? pl.n_split : 0;
    const uint32_t chunks = pl.chunks, per_pass = pl.per_pass, n_split = pl.n_split;
    uint32_t pipe;
    char d0[32], d1[32], d2[32], d3[32], d4[32];
    if (tiled) {
        snprintf(d0, sizeof d0, "R=%uu", pl.tc.r);
        snprintf(d2, sizeof d2, "SD=%uu", pl.tc.sd);
        snprintf(d3, sizeof d3, "HD=%uu", hd);
        snprintf(d4, sizeof d4, "WG=%uu", ATTN_TILED_WG);
        const char *defs[] = {d4, d0, d2, d3, NULL};
        pipe = rl_gdev_pipeline(e->dev, K_ATTENTION_TILED, defs, err);
    } else {
        snprintf(d0, sizeof d0, "HC=%uu", pl.hc);
        snprintf(d1, sizeof d1, "KB=%uu", pl.kb);
        snprintf(d2, sizeof d2, "HD=%uu", hd);
        snprintf(d3, sizeof d3, "WG=%uu", pl.npv * hd / 4);
        const rl_gpu_caps *caps = rl_gdev_caps(e->dev);
        snprintf(d4, sizeof d4, "SGMIN=%uu", gpu_sgmin(caps));
        const char *defs[] = {d3,
                              d0,
                              d1,
                              d2,
                              caps->has_subgroups ? "SUBGROUPS" : "NO_SUBGROUPS",
                              d4,
                              pl.npv > 2 ? "LANE_PARTS" : "NO_LANE_PARTS",
                              pl.fused ? "PART_VEC" : "NO_PART_VEC",
                              prep ? "PREP" : NULL,
                              NULL};
        pipe = rl_gdev_pipeline(e->dev, prep ? K_ATTN_DECODE_PREP : K_ATTN_DECODE, defs, err);
    }
    if (!pipe) return err->code;
    attn_params ap = {H,
                      kvh,
                      hd,
                      window,
                      q_stride,
                      0,
                      kvdim,
                      (uint32_t)e->cap[donor],
                      qdim,
                      n_split,
                      chunks,
                      (uint32_t)T,
                      prep ? gpu_vec_off(e, l->attn_q_norm) : 0,
                      prep && l->attn_k_norm ? gpu_vec_off(e, l->attn_k_norm) : 0,
                      m->eps,
                      (uint32_t)l->rope_dims,
                      l->is_swa ? 0 : (uint32_t)m->head_dim_swa,
                      qdim,
                      l->v_from_k ? qdim : qdim + kvdim,
                      l->kv_shared ? 0u : 1u};
    rl_gbind ab[8] = {{e->b_step, 0, 0},    {e->b_q, 0, 0}, {e->kc[donor], 0, 0},   {e->vc[donor], 0, 0},
                      {e->b_o, 0, 0},       {e->b_part, 0, 0}, {e->vec_buf, 0, 0}, {e->b_step, e->rope_off, 0}};
    rl_status s = tiled ? rl_gdev_dispatch(e->dev, pipe, &ap, ab, n_split, per_pass / kvh, kvh, err)
                        : rl_gdev_dispatch(e->dev, pipe, &ap, ab, n_split, kvh * chunks, (uint32_t)T, err);
    if (s || n_split == 1 || pl.fused) return s;
    combine_params cp = {H, hd, n_split, qdim};
    rl_gbind cb[2] = {{e->b_part, 0, 0}, {e->b_o, 0, 0}};
    /* prefill's few splits: one dimension per thread, no workgroup reductions; decode's many:
     * the splits spread over the threads of a workgroup */
    const int direct = n_split <= ATTN_COMBINE_DIRECT_MAXS && T > 1 && !e->combine_grouped;
    const uint32_t dw = direct ? ATTN_COMBINE_DIRECT_DW : e->combine_dw;
    return rl_gdev_dispatch(e->dev, direct ? e->p_combine_direct : e->p_combine, &cp, cb, H * ((hd + dw - 1) / dw),
                            (uint32_t)T, 1, err);
}

rl_status gpu_glu(rl_gpu_engine *e, uint32_t a_buf, uint32_t y_buf, glu_params p, int T, rl_error *err) {
    rl_gbind b[2] = {{a_buf ? a_buf : e->b_dummy, 0, 0}, {y_buf, 0, 0}};
    return rl_gdev_dispatch(e->dev, e->p_glu, &p, b, (p.n + SMALL_WG - 1) / SMALL_WG, (uint32_t)T, 1, err);
}
