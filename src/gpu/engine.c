#include "gpu/engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rmath.h"
#include "gpu/device.h"
#include "gpu/matvec_cfg.h"
#include "model_file.h"
#include "quant.h"

#define DEFAULT_UBATCH 128
#define LOGIT_ROWS 8      /* output rows computed per pass when every row's logits are wanted */
#define MAX_HD 512
#define ATTN_WG 128
#define ATTN_HC 8          /* query heads per attention workgroup (of one KV group) */
#define ATTN_KC 32         /* keys per attention chunk */
#define NORM_WG 256
#define ATTN_TARGET_WG 256 /* split the keys until a pass has about this many attention workgroups (MAXS) */
#define SMALL_WG 64
#define MATVEC_MAX_TOK 8  /* up to this many slots use the mat-vec kernel, more use mat-mat */
#define ARGMAX_SLICES 128 /* first pass of the greedy pick: slices per logit row */

typedef struct {
    uint32_t buffer;
    uint64_t offset; /* bytes within buffer (256-aligned) */
    uint64_t size;
} placed;

typedef struct {
    uint32_t pos0, n_tok, pad0, pad1;
} gpu_step;

struct rl_gpu_engine {
    rl_model_file mf;
    const rl_model *m;
    rl_gpu_device *dev;
    placed *where;        /* per tensor index: weight placement (buffer 0 = not on the GPU) */
    uint32_t *vec_at;     /* per tensor index: float offset in the vec buffer (1-D F32 tensors) */
    uint32_t vec_buf;
    uint32_t ple_chunk[4];
    uint32_t ple_rows_per_chunk;
    uint64_t upload_bytes;
    /* activations */
    /* h: residual stream; xn: the next mat-vec's normed input; x: mat-vec outputs that feed a residual;
     * q: [q | k | v] per slot; f: [gate | up] per slot */
    uint32_t b_step, b_ids, b_rope, b_h, b_x, b_xn, b_q, b_o, b_part, b_f, b_ple, b_logits, b_argpart, b_argmax, b_dummy;
    uint32_t *kc, *vc;    /* per layer (0 for layers that read a donor's cache) */
    int *cap;
    int n_ctx, n_past, ubatch, rt_stride;
    /* host staging for per-step writes */
    float *rope_rows;
    uint32_t *ids_rows;
    /* pipelines */
    uint32_t p_norm, p_prep, p_combine, p_glu, p_ple, p_argmax;
};

/* ---- placement ------------------------------------------------------------- */

static int is_text(const gguf_tensor *t) {
    const char *p = t->name.ptr;
    return !((t->name.len >= 2 && (!memcmp(p, "v.", 2) || !memcmp(p, "a.", 2))) ||
             (t->name.len >= 3 && !memcmp(p, "mm.", 3)));
}

static int is_vec(const gguf_tensor *t) { return t->n_dims == 1 && t->type == RL_TYPE_F32; }

static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

/* Matrices that can share a dispatch: [q, k, v] (or [q, k]) and [gate, up] of
 * one layer, when they exist, have one type and one input width. */
static int same_kind(const gguf_tensor *a, const gguf_tensor *b) {
    return a && b && a->type == b->type && a->ne[0] == b->ne[0] && a->n_dims == 2 && b->n_dims == 2;
}

static void group_of(const rl_gpu_engine *e, const gguf_tensor *t, const gguf_tensor **grp, int *n) {
    const rl_model *m = e->m;
    for (int i = 0; i < m->n_layer; i++) {
        const rl_layer *l = &m->layers[i];
        if (t == l->attn_q || t == l->attn_k || t == l->attn_v) {
            *n = 0;
            grp[(*n)++] = l->attn_q;
            if (same_kind(l->attn_q, l->attn_k)) {
                grp[(*n)++] = l->attn_k;
                if (same_kind(l->attn_q, l->attn_v)) grp[(*n)++] = l->attn_v;
            }
            if (t != grp[0] && t != grp[1 < *n ? 1 : 0] && t != grp[2 < *n ? 2 : 0]) {
                grp[0] = t; /* not part of the fusable run: on its own */
                *n = 1;
            }
            return;
        }
        if ((t == l->ffn_gate || t == l->ffn_up) && same_kind(l->ffn_gate, l->ffn_up)) {
            grp[0] = l->ffn_gate;
            grp[1] = l->ffn_up;
            *n = 2;
            return;
        }
    }
}

/* Weights go into arenas no larger than one binding; 1-D F32 tensors (norms,
 * scales) are packed into one small buffer addressed by float offsets; the
 * per-layer-embedding table is split by rows into at most four chunks. */
static rl_status place_weights(rl_gpu_engine *e, rl_error *err) {
    const gguf_file *g = e->mf.gguf;
    const rl_gpu_caps *caps = rl_gdev_caps(e->dev);
    uint64_t arena_cap = caps->max_binding < caps->max_buffer ? caps->max_binding : caps->max_buffer;
    arena_cap = arena_cap / 256 * 256;
    if (arena_cap > (1ull << 30)) arena_cap = 1ull << 30; /* moderate buffers allocate more reliably */
    e->where = calloc(g->n_tensors, sizeof *e->where);
    e->vec_at = calloc(g->n_tensors, sizeof *e->vec_at);
    if (!e->where || !e->vec_at) return rl_fail(err, RL_ERR_NOMEM, "placement tables");
    const gguf_tensor *ple = e->m->per_layer_token_embd;
    const int fd = e->mf.fd;
    rl_status s;

    /* 1-D F32 tensors */
    uint64_t vec_floats = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (is_text(&g->tensors[i]) && is_vec(&g->tensors[i])) {
            e->vec_at[i] = (uint32_t)vec_floats;
            vec_floats += align_up(g->tensors[i].ne[0], 64); /* keep each vector 256-byte aligned */
        }
    e->vec_buf = rl_gdev_buffer(e->dev, (vec_floats ? vec_floats : 64) * 4, RL_BUF_STORAGE | RL_BUF_COPY_DST, err);
    if (!e->vec_buf) return err->code;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        if (!is_text(t) || !is_vec(t)) continue;
        if ((s = rl_gdev_upload(e->dev, fd, g->data_offset + t->offset, (uint32_t)t->nbytes, e->vec_buf,
                                (uint64_t)e->vec_at[i] * 4, err)))
            return s;
        e->upload_bytes += t->nbytes;
    }

    /* matrices: q/k/v and gate/up of a layer go back to back when they share a
     * type and width, so one dispatch can treat them as one taller matrix */
    uint64_t remaining = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        if (is_text(t) && !is_vec(t) && t != ple) remaining += align_up(t->nbytes, 256);
    }
    uint32_t arena = 0;
    uint64_t used = 0, arena_size = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        if (!is_text(t) || is_vec(t) || t == ple || gguf_str_eq(t->name, "rope_freqs.weight") || e->where[i].buffer)
            continue;
        const gguf_tensor *grp[3] = {t};
        int n = 1;
        group_of(e, t, grp, &n);
        uint64_t bytes = 0;
        for (int k = 0; k < n; k++) bytes += grp[k]->nbytes;
        if (bytes > arena_cap)
            return rl_fail(err, RL_ERR_LIMIT, "tensor %.*s (%llu bytes) is larger than this GPU's binding limit (%llu)",
                           (int)t->name.len, t->name.ptr, (unsigned long long)bytes, (unsigned long long)arena_cap);
        if (!arena || align_up(used, 256) + bytes > arena_size) {
            arena_size = remaining < arena_cap ? remaining + 256 : arena_cap;
            if (arena_size < bytes) arena_size = bytes;
            arena = rl_gdev_buffer(e->dev, arena_size, RL_BUF_STORAGE | RL_BUF_COPY_DST, err);
            if (!arena) return err->code;
            used = 0;
        }
        used = align_up(used, 256);
        for (int k = 0; k < n; k++) { /* members back to back: no padding inside a group */
            const gguf_tensor *u = grp[k];
            e->where[u - g->tensors] = (placed){arena, used, u->nbytes};
            for (uint64_t done = 0; done < u->nbytes;) { /* OP_UPLOAD lengths are 32-bit */
                uint64_t len = u->nbytes - done > (1u << 30) ? (1u << 30) : u->nbytes - done;
                if ((s = rl_gdev_upload(e->dev, fd, g->data_offset + u->offset + done, (uint32_t)len, arena, used + done,
                                        err)))
                    return s;
                done += len;
            }
            used += u->nbytes;
            remaining -= align_up(u->nbytes, 256) < remaining ? align_up(u->nbytes, 256) : remaining;
            e->upload_bytes += u->nbytes;
        }
    }

    /* per-layer-embedding table (BF16 rows of L*P) */
    if (ple) {
        const uint64_t row = rl_row_bytes(ple->type, ple->ne[0]), rows = ple->ne[1];
        if (ple->type != RL_TYPE_BF16) return rl_fail(err, RL_ERR_UNSUPPORTED, "per_layer_token_embd must be BF16 on the GPU");
        /* the table may use whole bindings (2 GiB on big GPUs), unlike the 1 GiB arenas */
        const uint64_t bind_cap = (caps->max_binding < caps->max_buffer ? caps->max_binding : caps->max_buffer) / 256 * 256;
        uint64_t per = bind_cap / row;
        if (per * 4 < rows)
            return rl_fail(err, RL_ERR_LIMIT, "the per-layer-embedding table (%llu bytes) needs more than four GPU bindings",
                           (unsigned long long)ple->nbytes);
        e->ple_rows_per_chunk = (uint32_t)(per < rows ? per : rows);
        for (uint64_t r0 = 0, c = 0; r0 < rows; r0 += e->ple_rows_per_chunk, c++) {
            uint64_t n = rows - r0 < e->ple_rows_per_chunk ? rows - r0 : e->ple_rows_per_chunk;
            e->ple_chunk[c] = rl_gdev_buffer(e->dev, n * row, RL_BUF_STORAGE | RL_BUF_COPY_DST, err);
            if (!e->ple_chunk[c]) return err->code;
            for (uint64_t done = 0; done < n * row;) {
                uint64_t len = n * row - done > (1u << 30) ? (1u << 30) : n * row - done;
                if ((s = rl_gdev_upload(e->dev, fd, g->data_offset + ple->offset + r0 * row + done, (uint32_t)len,
                                        e->ple_chunk[c], done, err)))
                    return s;
                done += len;
            }
        }
        for (int c = 0; c < 4; c++)
            if (!e->ple_chunk[c]) e->ple_chunk[c] = e->ple_chunk[0]; /* unused chunk slots still need a binding */
        e->upload_bytes += ple->nbytes;
    }
    return RL_OK;
}

static rl_gbind wbind(const rl_gpu_engine *e, const gguf_tensor *t) {
    const placed *p = &e->where[t - e->mf.gguf->tensors];
    return (rl_gbind){p->buffer, p->offset, align_up(p->size, 4)};
}

static uint32_t vec_off(const rl_gpu_engine *e, const gguf_tensor *t) { return e->vec_at[t - e->mf.gguf->tensors]; }

/* ---- activations and caches ------------------------------------------------ */

static rl_status alloc_activations(rl_gpu_engine *e, rl_error *err) {
    const rl_model *m = e->m;
    const uint64_t U = (uint64_t)e->ubatch, D = (uint64_t)m->n_embd;
    uint64_t qdim = 0, kvdim = 0, ff = 0;
    for (int i = 0; i < m->n_layer; i++) {
        const rl_layer *l = &m->layers[i];
        uint64_t q = (uint64_t)m->n_head * l->head_dim, kv = (uint64_t)l->n_kv_head * l->head_dim;
        if (q > qdim) qdim = q;
        if (kv > kvdim) kvdim = kv;
        if ((uint64_t)l->n_ff > ff) ff = (uint64_t)l->n_ff;
        if (l->head_dim > MAX_HD) return rl_fail(err, RL_ERR_UNSUPPORTED, "head dim %d exceeds %d", l->head_dim, MAX_HD);
    }
    if ((uint64_t)m->ple_dim > ff) ff = (uint64_t)m->ple_dim;
    const uint64_t wide = D > qdim ? D : qdim;
    const uint32_t st = RL_BUF_STORAGE | RL_BUF_COPY_DST | RL_BUF_COPY_SRC;
    e->rt_stride = m->head_dim_swa / 2 * 2 + m->head_dim_full / 2 * 2; /* cos,sin per pair: sliding then full */
    struct {
        uint32_t *id;
        uint64_t bytes;
    } bufs[] = {
        {&e->b_step, sizeof(gpu_step)},
        {&e->b_ids, U * 4},
        {&e->b_rope, U * (uint64_t)e->rt_stride * 4},
        {&e->b_h, U * D * 4},
        {&e->b_x, U * wide * 4},
        {&e->b_xn, U * D * 4},
        {&e->b_q, U * (qdim + 2 * kvdim) * 4},
        {&e->b_o, U * qdim * 4},
        {&e->b_part, (ATTN_TARGET_WG + U) * (uint64_t)m->n_head * (MAX_HD + 2) * 4},
        {&e->b_f, U * 2 * ff * 4},
        {&e->b_ple, U * (uint64_t)(m->n_layer * m->ple_dim + 1) * 4},
        {&e->b_logits, (uint64_t)LOGIT_ROWS * m->n_vocab * 4},
        {&e->b_argpart, (uint64_t)LOGIT_ROWS * ARGMAX_SLICES * 8},
        {&e->b_argmax, U * 4},
        {&e->b_dummy, 256},
    };
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        if (!(*bufs[i].id = rl_gdev_buffer(e->dev, bufs[i].bytes, st, err))) return err->code;
    e->kc = calloc((size_t)m->n_layer, sizeof *e->kc);
    e->vc = calloc((size_t)m->n_layer, sizeof *e->vc);
    e->cap = calloc((size_t)m->n_layer, sizeof *e->cap);
    e->rope_rows = malloc(U * (uint64_t)e->rt_stride * sizeof(float));
    e->ids_rows = malloc(U * sizeof(uint32_t));
    if (!e->kc || !e->vc || !e->cap || !e->rope_rows || !e->ids_rows) return rl_fail(err, RL_ERR_NOMEM, "cache tables");
    for (int i = 0; i < m->n_layer; i++) {
        const rl_layer *l = &m->layers[i];
        if (l->kv_shared) continue;
        e->cap[i] = l->is_swa && m->window + e->ubatch < e->n_ctx ? m->window + e->ubatch : e->n_ctx;
        const uint64_t bytes = (uint64_t)e->cap[i] * (uint64_t)l->n_kv_head * (uint64_t)l->head_dim * 4;
        if (!(e->kc[i] = rl_gdev_buffer(e->dev, bytes, st, err)) || !(e->vc[i] = rl_gdev_buffer(e->dev, bytes, st, err)))
            return rl_fail_ctx(err, "KV cache of layer %d (%d positions)", i, e->cap[i]);
    }
    return RL_OK;
}

static rl_status make_pipelines(rl_gpu_engine *e, rl_error *err) {
    const rl_gpu_caps *c = rl_gdev_caps(e->dev);
    const char *sg = c->has_subgroups ? "SUBGROUPS" : "NO_SUBGROUPS";
    char sgmin[32];
    snprintf(sgmin, sizeof sgmin, "SGMIN=%uu", c->subgroup_min >= 4 ? c->subgroup_min : 4);
    /* norms: every invocation keeps NV vec4 of its row in registers */
    int max_n = e->m->n_embd > e->m->head_dim_full ? e->m->n_embd : e->m->head_dim_full;
    if (e->m->ple_dim > max_n) max_n = e->m->ple_dim;
    char nv[32];
    snprintf(nv, sizeof nv, "NV=%du", (max_n / 4 + NORM_WG - 1) / NORM_WG);
    const char *norm[] = {"WG=256u", nv, sg, sgmin, NULL};
    const char *prep[] = {"WG=64u", "MAX_HD=512u", sg, sgmin, NULL};
    const char *combine[] = {"WG=128u", "MAXS=256u", sg, sgmin, NULL};
    const char *small[] = {"WG=64u", sg, sgmin, NULL};
    const char *argmax[] = {"WG=256u", sg, NULL};
    if (!(e->p_norm = rl_gdev_pipeline(e->dev, K_NORM, norm, err)) ||
        !(e->p_prep = rl_gdev_pipeline(e->dev, K_ATTN_PREP, prep, err)) ||
        !(e->p_combine = rl_gdev_pipeline(e->dev, K_ATTN_COMBINE, combine, err)) ||
        !(e->p_glu = rl_gdev_pipeline(e->dev, K_GLU, small, err)) ||
        !(e->p_ple = rl_gdev_pipeline(e->dev, K_PLE, small, err)) ||
        !(e->p_argmax = rl_gdev_pipeline(e->dev, K_ARGMAX, argmax, err)))
        return err->code;
    return RL_OK;
}

/* ---- open/close ------------------------------------------------------------ */

rl_status rl_gpu_engine_open(rl_host *h, const char *path, const rl_gpu_caps *caps, const rl_gpu_opts *opts,
                             rl_gpu_engine **out, rl_error *err) {
    rl_gpu_engine *e = calloc(1, sizeof *e);
    if (!e) return rl_fail(err, RL_ERR_NOMEM, "gpu engine");
    rl_status s;
    e->mf.fd = -1;
    if ((s = rl_model_file_open(h, path, &e->mf, err))) goto fail;
    e->m = &e->mf.model;
    if (e->m->n_expert) {
        s = rl_fail(err, RL_ERR_UNSUPPORTED, "mixture-of-experts models do not run on the GPU yet; use --cpu");
        goto fail;
    }
    e->n_ctx = opts && opts->n_ctx > 0 ? opts->n_ctx : 4096;
    if (e->n_ctx > e->m->n_ctx_train) e->n_ctx = e->m->n_ctx_train;
    e->ubatch = opts && opts->ubatch > 0 ? opts->ubatch : DEFAULT_UBATCH;
    if ((s = rl_gdev_new(caps, &e->dev, err)) || (s = make_pipelines(e, err)) || (s = place_weights(e, err)) ||
        (s = alloc_activations(e, err)) || (s = rl_gdev_submit(e->dev, err)))
        goto fail;
    *out = e;
    return RL_OK;
fail:
    rl_gpu_engine_free(e);
    return s;
}

void rl_gpu_engine_free(rl_gpu_engine *e) {
    if (!e) return;
    rl_gdev_free(e->dev);
    free(e->where);
    free(e->vec_at);
    free(e->kc);
    free(e->vc);
    free(e->cap);
    free(e->rope_rows);
    free(e->ids_rows);
    if (e->mf.gguf || e->mf.fd >= 0) rl_model_file_close(&e->mf);
    free(e);
}

int rl_gpu_engine_n_past(const rl_gpu_engine *e) { return e->n_past; }
int rl_gpu_engine_n_vocab(const rl_gpu_engine *e) { return e->m->n_vocab; }
int rl_gpu_engine_n_ctx(const rl_gpu_engine *e) { return e->n_ctx; }
const rl_model_file *rl_gpu_engine_model_file(const rl_gpu_engine *e) { return &e->mf; }
uint64_t rl_gpu_engine_upload_bytes(const rl_gpu_engine *e) { return e->upload_bytes; }

rl_status rl_gpu_engine_truncate(rl_gpu_engine *e, int n_keep, rl_error *err) {
    if (n_keep < 0 || n_keep > e->n_past) return rl_fail(err, RL_ERR_INVALID, "cannot keep %d of %d positions", n_keep, e->n_past);
    const int need_from = n_keep - e->m->window + 1 > 0 ? n_keep - e->m->window + 1 : 0;
    for (int i = 0; i < e->m->n_layer; i++)
        if (e->kc[i] && e->cap[i] < e->n_ctx && n_keep > 0 && need_from < e->n_past - e->cap[i])
            return rl_fail(err, RL_ERR_INVALID, "cannot rewind to %d: sliding-window layers no longer hold it", n_keep);
    e->n_past = n_keep;
    return RL_OK;
}

/* ---- recording ------------------------------------------------------------- */

typedef struct {
    uint32_t rows, cols, n_tok, w_off, x_off, x_stride, y_off, y_stride, grid_x;
    float softcap;
    uint32_t pad0, pad1;
} mm_params;

/* An activation operand: a buffer, the float offset of slot 0, floats between slots. */
typedef struct {
    uint32_t buf, off, stride;
} act;

/* Are a and b back to back in one buffer (one dispatch can cover both)? */
static int adjacent(const rl_gpu_engine *e, const gguf_tensor *a, const gguf_tensor *b) {
    if (!a || !b) return 0;
    const placed *pa = &e->where[a - e->mf.gguf->tensors], *pb = &e->where[b - e->mf.gguf->tensors];
    return pa->buffer && pa->buffer == pb->buffer && pa->offset + a->nbytes == pb->offset && a->type == b->type &&
           a->ne[0] == b->ne[0];
}

/* y = W x for T slots, W being `rows` rows starting at tensor W (a run of
 * adjacent tensors when rows exceeds W's own): the mat-vec kernel for up to
 * MATVEC_MAX_TOK slots, else the tiled mat-mat, each in the variant
 * src/gpu/matvec_cfg.c picks for the shape. geglu (mat-vec only): y = gelu(Wx) * B. */
static rl_status matmul(rl_gpu_engine *e, const gguf_tensor *W, uint32_t rows, act x, act y, int T, float softcap,
                        const act *geglu, rl_error *err) {
    const rl_gpu_caps *caps = rl_gdev_caps(e->dev);
    const uint32_t cols = (uint32_t)W->ne[0];
    const uint32_t nt = rl_matvec_nt((uint32_t)T);
    char d0[48], d1[32], d2[32], d3[32], d4[32], d5[32];
    snprintf(d0, sizeof d0, "TYPE_%s", rl_type_get(W->type)->name);
    uint32_t pipe, gx, gy;
    mm_params p = {rows, cols, (uint32_t)T, 0, x.off, x.stride, y.off, y.stride, 0, softcap,
                   geglu ? geglu->off : 0, geglu ? geglu->stride : 0};
    if (nt) {
        rl_matvec_variant v;
        rl_matvec_config(W->type, rows, cols, (uint32_t)T, caps, &v);
        snprintf(d1, sizeof d1, "WG=%uu", v.wg);
        snprintf(d2, sizeof d2, "ROWS=%uu", v.rows);
        snprintf(d3, sizeof d3, "NT=%uu", v.nt);
        snprintf(d4, sizeof d4, "RPT=%uu", v.rpt);
        snprintf(d5, sizeof d5, "XS=%uu", v.xs);
        const char *defs[] = {d0, d1, d2, d3, d4, caps->has_subgroups ? "SUBGROUPS" : "NO_SUBGROUPS",
                              geglu ? "EPI_GEGLU" : "NO_EPI", v.xs ? d5 : NULL, NULL};
        if (!(pipe = rl_gdev_pipeline(e->dev, geglu ? K_MATVEC_GEGLU : K_MATVEC, defs, err))) return err->code;
        const uint32_t groups = (rows + v.rows - 1) / v.rows, maxg = caps->max_workgroups ? caps->max_workgroups : 65535;
        gx = groups < maxg ? groups : maxg;
        gy = (groups + gx - 1) / gx;
        p.grid_x = gx;
    } else {
        if (geglu) return rl_fail(err, RL_ERR_INVALID, "the GeGLU epilogue is a mat-vec variant");
        uint32_t tm, tn, bk;
        rl_matmul_config(rows, (uint32_t)T, caps, &tm, &tn, &bk);
        snprintf(d1, sizeof d1, "TM=%uu", tm);
        snprintf(d2, sizeof d2, "TN=%uu", tn);
        snprintf(d3, sizeof d3, "BK=%uu", bk);
        const char *defs[] = {d0, d1, d2, d3, NULL};
        if (!(pipe = rl_gdev_pipeline(e->dev, K_MATMUL, defs, err))) return err->code;
        gx = (rows + 16 * tm - 1) / (16 * tm);
        gy = ((uint32_t)T + 16 * tn - 1) / (16 * tn);
    }
    const placed *pw = &e->where[W - e->mf.gguf->tensors];
    rl_gbind b[4] = {{pw->buffer, pw->offset, align_up((uint64_t)rows * rl_row_bytes(W->type, cols), 4)},
                     {x.buf, 0, 0}, {y.buf, 0, 0}, {geglu ? geglu->buf : 0, 0, 0}};
    return rl_gdev_dispatch(e->dev, pipe, &p, b, gx, gy, 1, err);
}

typedef struct {
    uint32_t n, groups, x_off, x_stride, y_off, y_stride, w_off, s_off, flags;
    float eps, in_scale;
    uint32_t nw_off;
} norm_params;
enum { NF_WEIGHT = 1, NF_RESIDUAL = 2, NF_SCALE = 4, NF_IN_PLACE = 8, NF_NEXT = 16 };

static rl_status norm(rl_gpu_engine *e, uint32_t x_buf, uint32_t y_buf, norm_params p, int T, rl_error *err) {
    p.eps = e->m->eps;
    if (p.in_scale == 0) p.in_scale = 1;
    rl_gbind b[4] = {{x_buf ? x_buf : e->b_dummy, 0, 0}, {e->vec_buf, 0, 0}, {y_buf, 0, 0}, {e->b_xn, 0, 0}};
    if (y_buf == e->b_xn) b[3].buffer = e->b_dummy; /* Z unused: never bind one buffer twice writable */
    return rl_gdev_dispatch(e->dev, e->p_norm, &p, b, p.groups, (uint32_t)T, 1, err);
}

/* h = (h + RMSNorm(x; w)) [* layer scale]; then, with next, xn = RMSNorm(h; next). */
static rl_status residual(rl_gpu_engine *e, const gguf_tensor *w, const gguf_tensor *scale, const gguf_tensor *next,
                          int T, rl_error *err) {
    const uint32_t D = (uint32_t)e->m->n_embd;
    norm_params p = {D, 1, 0, D, 0, D, vec_off(e, w), scale ? vec_off(e, scale) : 0,
                     NF_WEIGHT | NF_RESIDUAL | (scale ? NF_SCALE : 0) | (next ? NF_NEXT : 0), 0, 1,
                     next ? vec_off(e, next) : 0};
    return norm(e, e->b_x, e->b_h, p, T, err);
}

typedef struct {
    uint32_t H, kvh, hd, rope_dims, q_stride, kv_stride, kv_cap, rt_stride, rt_col, qn_off, kn_off;
    float eps;
    uint32_t k_off, v_off, pad0, pad1;
} prep_params;

typedef struct {
    uint32_t H, kvh, hd, window, q_stride, q_off, kv_stride, kv_cap, o_stride, n_split, head_chunks, pad0;
} attn_params;

typedef struct {
    uint32_t H, hd, n_split, o_stride;
} combine_params;

/* Attention of layer li for T slots from the donor's cache into b_o, split
 * over the keys until the pass has enough workgroups (then merged). */
static rl_status attention(rl_gpu_engine *e, int li, int T, uint32_t q_stride, rl_error *err) {
    const rl_model *m = e->m;
    const rl_layer *l = &m->layers[li];
    const int donor = l->kv_donor;
    const uint32_t H = (uint32_t)m->n_head, kvh = (uint32_t)l->n_kv_head, hd = (uint32_t)l->head_dim;
    const uint32_t group = H / kvh, hc = group < ATTN_HC ? group : ATTN_HC, chunks = (group + hc - 1) / hc;
    const uint32_t qdim = H * hd, kvdim = kvh * hd;
    (void)qdim;
    /* the longest key range of this pass */
    const int last = e->n_past + T - 1;
    const uint32_t max_keys = l->is_swa && last + 1 > m->window ? (uint32_t)m->window : (uint32_t)last + 1;
    const uint32_t per_pass = (uint32_t)T * kvh * chunks;
    uint32_t n_split = (ATTN_TARGET_WG + per_pass - 1) / per_pass, by_keys = (max_keys + ATTN_KC - 1) / ATTN_KC;
    if (n_split > by_keys) n_split = by_keys;
    if (n_split < 1) n_split = 1;
    char d_hc[32], d_kc[32];
    snprintf(d_hc, sizeof d_hc, "HC=%uu", hc);
    snprintf(d_kc, sizeof d_kc, "KCH=%uu", ATTN_KC);
    /* K/V tile slices as wide as the workgroup memory allows (fewer round trips per chunk) */
    if (hd % 64) return rl_fail(err, RL_ERR_UNSUPPORTED, "head dim %u is not a multiple of 64", hd);
    const char *sd = rl_gdev_caps(e->dev)->max_wg_storage >= 40960 && hd % 128 == 0 ? "SD=128u" : "SD=64u";
    const char *defs[] = {"WG=128u", "MAX_HD=512u", sd, d_hc, d_kc, NULL};
    uint32_t pipe = rl_gdev_pipeline(e->dev, K_ATTENTION, defs, err);
    if (!pipe) return err->code;
    attn_params ap = {H, kvh, hd, l->is_swa ? (uint32_t)m->window : 0, q_stride, 0, kvdim, (uint32_t)e->cap[donor],
                      qdim, n_split, chunks, 0};
    rl_gbind ab[6] = {{e->b_step, 0, 0}, {e->b_q, 0, 0}, {e->kc[donor], 0, 0}, {e->vc[donor], 0, 0}, {e->b_o, 0, 0},
                      {e->b_part, 0, 0}};
    rl_status s = rl_gdev_dispatch(e->dev, pipe, &ap, ab, n_split, kvh * chunks, (uint32_t)T, err);
    if (s || n_split == 1) return s;
    combine_params cp = {H, hd, n_split, qdim};
    rl_gbind cb[2] = {{e->b_part, 0, 0}, {e->b_o, 0, 0}};
    return rl_gdev_dispatch(e->dev, e->p_combine, &cp, cb, H, (uint32_t)T, 1, err);
}

typedef struct {
    uint32_t n, mode, a_off, a_stride, y_off, y_stride, pad0, pad1;
} glu_params;

static rl_status glu(rl_gpu_engine *e, uint32_t a_buf, uint32_t y_buf, glu_params p, int T, rl_error *err) {
    rl_gbind b[2] = {{a_buf ? a_buf : e->b_dummy, 0, 0}, {y_buf, 0, 0}};
    return rl_gdev_dispatch(e->dev, e->p_glu, &p, b, (p.n + SMALL_WG - 1) / SMALL_WG, (uint32_t)T, 1, err);
}

/* The norm that comes after layer li's last residual: the next layer's
 * attention norm, or the output norm after the last layer. */
static const gguf_tensor *next_norm(const rl_gpu_engine *e, int li) {
    return li + 1 < e->m->n_layer ? e->m->layers[li + 1].attn_norm : e->m->output_norm;
}

/* One decoder layer (gemma4.md §4.4) for T slots. On entry b_xn holds
 * RMSNorm(h; attn_norm); on exit it holds the next block's normed input. */
static rl_status layer(rl_gpu_engine *e, int li, int T, rl_error *err) {
    const rl_model *m = e->m;
    const rl_layer *l = &m->layers[li];
    const uint32_t D = (uint32_t)m->n_embd, H = (uint32_t)m->n_head, hd = (uint32_t)l->head_dim;
    const uint32_t kvh = (uint32_t)l->n_kv_head, qdim = H * hd, kvdim = kvh * hd, F = (uint32_t)l->n_ff;
    const uint32_t LP = (uint32_t)(m->n_layer * m->ple_dim), P = (uint32_t)m->ple_dim;
    const uint32_t qs = qdim + 2 * kvdim; /* [q | k | v] per slot */
    const int donor = l->kv_donor;
    const act xn = {e->b_xn, 0, D}, x = {e->b_x, 0, D};
    rl_status s;
    /* attention: q, k, v in as few dispatches as their placement allows */
    if (l->kv_shared) {
        if ((s = matmul(e, l->attn_q, qdim, xn, (act){e->b_q, 0, qs}, T, 0, NULL, err))) return s;
    } else {
        const int qk = adjacent(e, l->attn_q, l->attn_k), qkv = qk && !l->v_from_k && adjacent(e, l->attn_k, l->attn_v);
        const uint32_t first = qkv ? qdim + 2 * kvdim : qk ? qdim + kvdim : qdim;
        if ((s = matmul(e, l->attn_q, first, xn, (act){e->b_q, 0, qs}, T, 0, NULL, err))) return s;
        if (!qk && (s = matmul(e, l->attn_k, kvdim, xn, (act){e->b_q, qdim, qs}, T, 0, NULL, err))) return s;
        if (!qkv && !l->v_from_k &&
            (s = matmul(e, l->attn_v, kvdim, xn, (act){e->b_q, qdim + kvdim, qs}, T, 0, NULL, err)))
            return s;
    }
    prep_params pp = {H, kvh, hd, (uint32_t)l->rope_dims, qs, kvdim, (uint32_t)e->cap[donor], (uint32_t)e->rt_stride,
                      l->is_swa ? 0 : (uint32_t)m->head_dim_swa, vec_off(e, l->attn_q_norm),
                      l->attn_k_norm ? vec_off(e, l->attn_k_norm) : 0, m->eps,
                      qdim, l->v_from_k ? qdim : qdim + kvdim, 0, 0};
    rl_gbind pb[6] = {{e->b_step, 0, 0}, {e->b_q, 0, 0}, {e->vec_buf, 0, 0}, {e->b_rope, 0, 0},
                      {e->kc[donor], 0, 0}, {e->vc[donor], 0, 0}};
    if ((s = rl_gdev_dispatch(e->dev, e->p_prep, &pp, pb, H + (l->kv_shared ? 0 : kvh), (uint32_t)T, 1, err))) return s;
    if ((s = attention(e, li, T, qs, err))) return s;
    if ((s = matmul(e, l->attn_output, D, (act){e->b_o, 0, qdim}, x, T, 0, NULL, err))) return s;
    if ((s = residual(e, l->post_attention_norm, NULL, l->ffn_norm, T, err))) return s;
    /* feed-forward: [gate | up] per slot, GeGLU in place on the up half */
    const act f = {e->b_f, 0, 2 * F};
    if (adjacent(e, l->ffn_gate, l->ffn_up)) {
        if ((s = matmul(e, l->ffn_gate, 2 * F, xn, f, T, 0, NULL, err))) return s;
    } else if ((s = matmul(e, l->ffn_gate, F, xn, f, T, 0, NULL, err)) ||
               (s = matmul(e, l->ffn_up, F, xn, (act){e->b_f, F, 2 * F}, T, 0, NULL, err))) {
        return s;
    }
    glu_params gp = {F, 0, 0, 2 * F, F, 2 * F, 0, 0};
    if ((s = glu(e, 0, e->b_f, gp, T, err))) return s;
    if ((s = matmul(e, l->ffn_down, D, (act){e->b_f, F, 2 * F}, x, T, 0, NULL, err))) return s;
    const int ple = m->ple_dim > 0;
    if ((s = residual(e, l->post_ffw_norm, ple ? NULL : l->layer_output_scale, ple ? NULL : next_norm(e, li), T, err)))
        return s;
    /* per-layer embedding injection, then the layer scalar */
    if (ple) {
        const act pl = {e->b_ple, (uint32_t)li * P, LP}, g = {e->b_f, 0, P};
        if (T <= MATVEC_MAX_TOK) {
            if ((s = matmul(e, l->inp_gate, P, (act){e->b_h, 0, D}, g, T, 0, &pl, err))) return s;
        } else {
            if ((s = matmul(e, l->inp_gate, P, (act){e->b_h, 0, D}, g, T, 0, NULL, err))) return s;
            glu_params pg = {P, 1, (uint32_t)li * P, LP, 0, P, 0, 0};
            if ((s = glu(e, e->b_ple, e->b_f, pg, T, err))) return s;
        }
        if ((s = matmul(e, l->proj, D, g, x, T, 0, NULL, err))) return s;
        if ((s = residual(e, l->post_norm, l->layer_output_scale, next_norm(e, li), T, err))) return s;
    }
    return RL_OK;
}

typedef struct {
    uint32_t n_ids, cols, row_lo, nrows, w_off, ids_off, y_off, y_stride;
    float scale;
    uint32_t pad0, pad1, pad2;
} get_rows_params;

typedef struct {
    uint32_t P, L, rows_per_chunk, w_off;
    float in_scale, table_scale, combine, eps;
} ple_params;

typedef struct {
    uint32_t n, x_off, x_stride, out_off, nb, pass_id, pad0, pad1;
} argmax_params;

/* Host-computed RoPE table for T slots from pos0: per slot, (cos, sin) of every
 * sliding pair, then every full pair (angles in double, with rope_freqs). */
static void rope_table(rl_gpu_engine *e, int pos0, int T) {
    const rl_model *m = e->m;
    const int ns = m->head_dim_swa / 2, nf = m->head_dim_full / 2;
    int swa_dims = m->head_dim_swa, full_dims = m->head_dim_full;
    for (int i = 0; i < m->n_layer; i++) { /* rope dims per type (the same for every layer of a type) */
        if (m->layers[i].is_swa) swa_dims = m->layers[i].rope_dims;
        else full_dims = m->layers[i].rope_dims;
    }
    for (int t = 0; t < T; t++) {
        float *row = e->rope_rows + (size_t)t * e->rt_stride;
        for (int j = 0; j < ns + nf; j++) {
            const int full = j >= ns, jj = full ? j - ns : j, dims = full ? full_dims : swa_dims;
            double theta = 0;
            if (2 * jj < dims) {
                theta = (double)(pos0 + t) * rl_pow(full ? m->rope_base_full : m->rope_base_swa, -2.0 * jj / dims);
                if (full && m->rope_freqs) theta /= m->rope_freqs[jj];
            }
            double sn, cs;
            rl_sincos(theta, &sn, &cs);
            row[2 * j] = (float)cs;
            row[2 * j + 1] = (float)sn;
        }
    }
}

/* Logits (and greedy picks) for slots [t0, t0+n) of this pass: final norm,
 * tied LM head with softcap, argmax; reads land in wasm memory at the flush. */
static rl_status output_rows(rl_gpu_engine *e, int t0, int n, float *logits, int32_t *argmax, rl_error *err) {
    const rl_model *m = e->m;
    const uint32_t D = (uint32_t)m->n_embd, V = (uint32_t)m->n_vocab;
    rl_status s;
    /* b_xn already holds RMSNorm(h; output_norm) for every slot (the last layer's residual) */
    if ((s = matmul(e, m->output, V, (act){e->b_xn, (uint32_t)t0 * D, D}, (act){e->b_logits, 0, V}, n, m->softcap, NULL,
                    err)))
        return s;
    if (argmax) {
        rl_gbind b[3] = {{e->b_logits, 0, 0}, {e->b_argpart, 0, 0}, {e->b_argmax, 0, 0}};
        argmax_params a0 = {V, 0, V, (uint32_t)t0, ARGMAX_SLICES, 0, 0, 0}, a1 = a0;
        a1.pass_id = 1;
        if ((s = rl_gdev_dispatch(e->dev, e->p_argmax, &a0, b, ARGMAX_SLICES, (uint32_t)n, 1, err)) ||
            (s = rl_gdev_dispatch(e->dev, e->p_argmax, &a1, b, 1, (uint32_t)n, 1, err)) ||
            (s = rl_gdev_read(e->dev, e->b_argmax, (uint64_t)t0 * 4, (uint32_t)n * 4, argmax, err)))
            return s;
    }
    if (logits && (s = rl_gdev_read(e->dev, e->b_logits, 0, (uint32_t)n * V * 4, logits, err))) return s;
    return RL_OK;
}

static rl_status eval_ubatch(rl_gpu_engine *e, const int32_t *tokens, int T, float *logits, int all_logits,
                             int32_t *argmax, int last, rl_error *err) {
    const rl_model *m = e->m;
    const uint32_t D = (uint32_t)m->n_embd, V = (uint32_t)m->n_vocab;
    rl_status s;
    gpu_step st = {(uint32_t)e->n_past, (uint32_t)T, 0, 0};
    for (int t = 0; t < T; t++) e->ids_rows[t] = (uint32_t)tokens[t];
    rope_table(e, e->n_past, T);
    if ((s = rl_gdev_write(e->dev, e->b_step, 0, &st, sizeof st, err)) ||
        (s = rl_gdev_write(e->dev, e->b_ids, 0, e->ids_rows, (uint32_t)T * 4, err)) ||
        (s = rl_gdev_write(e->dev, e->b_rope, 0, e->rope_rows, (uint32_t)(T * e->rt_stride * 4), err)))
        return s;
    /* embeddings */
    {
        char type_def[48];
        snprintf(type_def, sizeof type_def, "TYPE_%s", rl_type_get(m->token_embd->type)->name);
        const char *defs[] = {type_def, "WG=64u", NULL};
        uint32_t pipe = rl_gdev_pipeline(e->dev, K_GET_ROWS, defs, err);
        if (!pipe) return err->code;
        get_rows_params gp = {(uint32_t)T, D, 0, (uint32_t)m->n_vocab, 0, 0, 0, D, sqrtf((float)D), 0, 0, 0};
        rl_gbind b[3] = {wbind(e, m->token_embd), {e->b_ids, 0, 0}, {e->b_h, 0, 0}};
        if ((s = rl_gdev_dispatch(e->dev, pipe, &gp, b, (D + 8 * 64 - 1) / (8 * 64), (uint32_t)T, 1, err))) return s;
    }
    if (m->ple_dim) {
        const uint32_t LP = (uint32_t)(m->n_layer * m->ple_dim);
        if ((s = matmul(e, m->per_layer_model_proj, LP, (act){e->b_h, 0, D}, (act){e->b_ple, 0, LP}, T, 0, NULL, err)))
            return s;
        ple_params pp = {(uint32_t)m->ple_dim, (uint32_t)m->n_layer, e->ple_rows_per_chunk,
                         vec_off(e, m->per_layer_proj_norm), 1.0f / sqrtf((float)D), sqrtf((float)m->ple_dim),
                         1.0f / sqrtf(2.0f), m->eps};
        rl_gbind b[7] = {{e->b_ids, 0, 0}, {e->vec_buf, 0, 0}, {e->b_ple, 0, 0}, {e->ple_chunk[0], 0, 0},
                         {e->ple_chunk[1], 0, 0}, {e->ple_chunk[2], 0, 0}, {e->ple_chunk[3], 0, 0}};
        if ((s = rl_gdev_dispatch(e->dev, e->p_ple, &pp, b, (uint32_t)m->n_layer, (uint32_t)T, 1, err))) return s;
    }
    /* the first layer's attention norm; every later pre-norm rides on a residual */
    norm_params np = {D, 1, 0, D, 0, D, vec_off(e, m->layers[0].attn_norm), 0, NF_WEIGHT, 0, 1, 0};
    if ((s = norm(e, e->b_h, e->b_xn, np, T, err))) return s;
    for (int li = 0; li < m->n_layer; li++)
        if ((s = layer(e, li, T, err))) return s;
    /* outputs: every row (in chunks: the logits buffer holds LOGIT_ROWS rows), or the last row of the last pass */
    if (all_logits) {
        for (int t0 = 0; t0 < T; t0 += LOGIT_ROWS) {
            const int n = T - t0 < LOGIT_ROWS ? T - t0 : LOGIT_ROWS;
            if ((s = output_rows(e, t0, n, logits ? logits + (size_t)t0 * V : NULL, argmax ? argmax + t0 : NULL, err)))
                return s;
            if (t0 + n < T && (s = rl_gdev_submit(e->dev, err))) return s; /* reads precede the buffer's reuse */
        }
    } else if (last && (logits || argmax)) {
        if ((s = output_rows(e, T - 1, 1, logits, argmax, err))) return s;
    }
    e->n_past += T;
    return rl_gdev_submit(e->dev, err);
}

rl_status rl_gpu_engine_eval(rl_gpu_engine *e, const int32_t *tokens, int n, float *logits_out, int all_logits,
                             int32_t *argmax_out, rl_error *err) {
    const int V = e->m->n_vocab;
    if (n <= 0) return rl_fail(err, RL_ERR_INVALID, "empty batch");
    if (n > e->n_ctx - e->n_past)
        return rl_fail(err, RL_ERR_LIMIT, "context full: %d positions cached, %d more requested, context size %d",
                       e->n_past, n, e->n_ctx);
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= V)
            return rl_fail(err, RL_ERR_INVALID, "token id %d at position %d is outside the vocabulary (%d tokens)",
                           tokens[i], e->n_past + i, V);
    const int start = e->n_past;
    for (int t0 = 0; t0 < n; t0 += e->ubatch) {
        const int T = n - t0 < e->ubatch ? n - t0 : e->ubatch;
        rl_status s = eval_ubatch(e, tokens + t0, T, logits_out && all_logits ? logits_out + (size_t)t0 * V : logits_out,
                                  all_logits, argmax_out && all_logits ? argmax_out + t0 : argmax_out, t0 + T == n, err);
        if (s) {
            e->n_past = start;
            return s;
        }
    }
    return RL_OK;
}
