/* Where the weights go: arenas no larger than a binding, 1-D vectors packed
 * together, the per-layer-embedding table in row chunks, adjacent runs of
 * matrices that can share a dispatch; the upload plan that streams them. */
#include "gpu/engine_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant.h"

/* ---- GPU layout -------------------------------------------------------------- */

/* Q6_K's 210-byte blocks sit at 2-byte alignment, so every word a kernel reads
 * is a funnel shift of two; padded to 224 bytes they are whole 16-byte words
 * (kernels/quant.wgsl Q6K_PAD), for 6.7% more bytes. */
enum { Q6K_FILE_BLOCK = 210, Q6K_GPU_BLOCK = 224 };
/* file bytes staged per repack list at most (a model with fewer Q6_K bytes stages
 * them all, in one list): every list ends with the GPU's copies drained, and a
 * stage of 64 MiB made e2b's upload 0.45 -> 1.2 s on an H100, 1 GiB 0.48 s */
#define REPACK_STAGE (1024u << 20)

static int padded(const rl_gpu_engine *e, uint32_t type) { return !e->q6_raw && type == RL_TYPE_Q6_K; }

uint64_t gpu_row_bytes(const rl_gpu_engine *e, uint32_t type, uint64_t cols) {
    return padded(e, type) ? cols / 256 * Q6K_GPU_BLOCK : rl_row_bytes(type, cols);
}

uint64_t gpu_tensor_bytes(const rl_gpu_engine *e, const gguf_tensor *t) {
    return padded(e, t->type) ? t->nbytes / Q6K_FILE_BLOCK * Q6K_GPU_BLOCK : t->nbytes;
}

const char *gpu_layout_def(const rl_gpu_engine *e, uint32_t type) { return padded(e, type) ? "Q6K_PAD" : "NO_PAD"; }

/* Staging for the repack: file bytes go into `buf` at `used`, a repack pass
 * writes them padded into place; a full stage ends the command list (uploads
 * run before a list's commands, so the next ones may reuse it). */
typedef struct {
    uint32_t buf, pipe;
    uint64_t size, used;
    uint64_t cap; /* the largest buffer to bind */
} repack_stage;

typedef struct {
    uint32_t n_blocks, src_off, dst_off, grid_x;
} repack_params;

static rl_status upload_padded(rl_gpu_engine *e, repack_stage *st, const gguf_tensor *t, uint32_t arena,
                               uint64_t offset, rl_error *err) {
    const gguf_file *g = e->mf.gguf;
    const uint64_t blocks = t->nbytes / Q6K_FILE_BLOCK;
    rl_status s;
    if (!st->buf) {
        uint64_t total = 0; /* the stage need not outgrow the model's own Q6_K bytes */
        for (uint64_t i = 0; i < g->n_tensors; i++)
            if (padded(e, g->tensors[i].type)) total += align_up(g->tensors[i].nbytes, 4);
        uint64_t cap = e->repack_stage ? e->repack_stage : REPACK_STAGE;
        if (cap > st->cap - 256) cap = st->cap - 256;
        st->size = (total < cap ? total : cap) + 4; /* the last funnel shift reads 4 bytes on */
        const char *defs[] = {NULL};
        if (!(st->buf = rl_gdev_buffer(e->dev, align_up(st->size, 4), RL_BUF_STORAGE | RL_BUF_COPY_DST, err)) ||
            !(st->pipe = rl_gdev_pipeline(e->dev, K_REPACK_Q6K, defs, err)))
            return err->code;
    }
    const uint64_t per = (st->size - 4) / Q6K_FILE_BLOCK;
    if (!per) return rl_fail(err, RL_ERR_LIMIT, "Q6_K repack: a %llu-byte stage holds no block", (unsigned long long)st->size);
    const uint32_t maxg = rl_gdev_caps(e->dev)->max_workgroups ? rl_gdev_caps(e->dev)->max_workgroups : 65535;
    for (uint64_t b0 = 0; b0 < blocks;) {
        uint64_t n = blocks - b0 < per ? blocks - b0 : per;
        if (st->used + n * Q6K_FILE_BLOCK + 4 > st->size) {
            if (st->used && (s = rl_gdev_submit(e->dev, err))) return s;
            st->used = 0;
        }
        const uint64_t room = (st->size - 4 - st->used) / Q6K_FILE_BLOCK;
        if (n > room) n = room;
        if ((s = rl_gdev_upload(e->dev, e->mf.fd, g->data_offset + t->offset + b0 * Q6K_FILE_BLOCK,
                                (uint32_t)(n * Q6K_FILE_BLOCK), st->buf, st->used, err)))
            return s;
        const uint64_t groups = (n * (Q6K_GPU_BLOCK / 4) + 255) / 256;
        const uint32_t gx = (uint32_t)(groups < maxg ? groups : maxg), gy = (uint32_t)((groups + gx - 1) / gx);
        repack_params rp = {(uint32_t)n, (uint32_t)st->used, (uint32_t)(offset + b0 * Q6K_GPU_BLOCK), gx};
        rl_gbind b[2] = {{st->buf, 0, 0}, {arena, 0, 0}};
        if ((s = rl_gdev_dispatch(e->dev, st->pipe, &rp, b, gx, gy, 1, err))) return s;
        st->used = align_up(st->used + n * Q6K_FILE_BLOCK, 4);
        b0 += n;
    }
    return RL_OK;
}

/* ---- placement ------------------------------------------------------------- */

static int is_text(const gguf_tensor *t) {
    const char *p = t->name.ptr;
    return !((t->name.len >= 2 && (!memcmp(p, "v.", 2) || !memcmp(p, "a.", 2))) ||
             (t->name.len >= 3 && !memcmp(p, "mm.", 3)));
}

static int is_vec(const gguf_tensor *t) { return t->n_dims == 1 && t->type == RL_TYPE_F32; }

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

/* The largest weight arena: one binding, at most 1 GiB (moderate buffers allocate
 * more reliably), 256-byte granular. */
static uint64_t arena_cap_of(const rl_gpu_caps *caps) {
    const uint64_t cap = (caps->max_binding < caps->max_buffer ? caps->max_binding : caps->max_buffer) / 256 * 256;
    return cap < (1ull << 30) ? cap : 1ull << 30;
}

/* Weights go into arenas no larger than one binding; 1-D F32 tensors (norms,
 * scales) are packed into one small buffer addressed by float offsets; the
 * per-layer-embedding table is split by rows into at most four chunks. */
rl_status gpu_place_weights(rl_gpu_engine *e, rl_error *err) {
    const gguf_file *g = e->mf.gguf;
    const rl_gpu_caps *caps = rl_gdev_caps(e->dev);
    const uint64_t arena_cap = arena_cap_of(caps);
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
        if (is_text(t) && !is_vec(t) && t != ple) remaining += align_up(gpu_tensor_bytes(e, t), 256);
    }
    repack_stage stage = {0, 0, 0, 0, arena_cap};
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
        for (int k = 0; k < n; k++)
            bytes += gpu_tensor_bytes(e, grp[k]);
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
            const uint64_t gb = gpu_tensor_bytes(e, u);
            e->where[u - g->tensors] = (placed){arena, used, gb};
            if (padded(e, u->type)) {
                if ((s = upload_padded(e, &stage, u, arena, used, err))) return s;
            } else {
                for (uint64_t done = 0; done < u->nbytes;) { /* OP_UPLOAD lengths are 32-bit */
                    uint64_t len = u->nbytes - done > (1u << 30) ? (1u << 30) : u->nbytes - done;
                    if ((s = rl_gdev_upload(e->dev, fd, g->data_offset + u->offset + done, (uint32_t)len, arena,
                                            used + done, err)))
                        return s;
                    done += len;
                }
            }
            used += gb;
            remaining -= align_up(gb, 256) < remaining ? align_up(gb, 256) : remaining;
            e->upload_bytes += u->nbytes;
        }
    }

    if (stage.buf && (s = rl_gdev_free_buffer(e->dev, stage.buf, err))) return s; /* after the last repack */

    /* per-layer-embedding table (BF16 rows of L*P) */
    if (ple) {
        const uint64_t row = rl_row_bytes(ple->type, ple->ne[0]), rows = ple->ne[1];
        if (ple->type != RL_TYPE_BF16)
            return rl_fail(err, RL_ERR_UNSUPPORTED, "per_layer_token_embd must be BF16 on the GPU");
        /* the table may use whole bindings (2 GiB on big GPUs), unlike the 1 GiB arenas */
        const uint64_t bind_cap =
            (caps->max_binding < caps->max_buffer ? caps->max_binding : caps->max_buffer) / 256 * 256;
        uint64_t per = bind_cap / row;
        if (per * 4 < rows) e->ple_on_host = 1; /* more than four bindings: gather rows from the file instead */
        if (e->ple_on_host) {
            /* each step uploads its slots' rows into b_ple_rows; the kernel reads row t for slot t */
            const uint32_t U = (uint32_t)e->ubatch;
            e->ple_rows_per_chunk = U;
            if (!(e->b_ple_rows = rl_gdev_buffer(e->dev, U * row, RL_BUF_STORAGE | RL_BUF_COPY_DST, err)) ||
                !(e->b_ple_rowids = rl_gdev_buffer(e->dev, U * 4, RL_BUF_STORAGE | RL_BUF_COPY_DST, err)))
                return err->code;
            uint32_t *ids = malloc(U * sizeof *ids);
            if (!ids) return rl_fail(err, RL_ERR_NOMEM, "row ids");
            for (uint32_t t = 0; t < U; t++) ids[t] = t;
            s = rl_gdev_write(e->dev, e->b_ple_rowids, 0, ids, U * 4, err);
            free(ids);
            if (s) return s;
            for (int c = 0; c < 4; c++) e->ple_chunk[c] = e->b_ple_rows;
            return RL_OK;
        }
        e->ple_rows_per_chunk = (uint32_t)(per < rows ? per : rows);
        for (uint64_t r0 = 0, c = 0; r0 < rows && c < 4; r0 += e->ple_rows_per_chunk, c++) {
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

rl_gbind gpu_wbind(const rl_gpu_engine *e, const gguf_tensor *t) {
    const placed *p = &e->where[t - e->mf.gguf->tensors];
    return (rl_gbind){p->buffer, p->offset, align_up(p->size, 4)};
}

uint32_t gpu_vec_off(const rl_gpu_engine *e, const gguf_tensor *t) { return e->vec_at[t - e->mf.gguf->tensors]; }

/* Are a and b back to back in one buffer (one dispatch can cover both)? */
int gpu_adjacent(const rl_gpu_engine *e, const gguf_tensor *a, const gguf_tensor *b) {
    if (!a || !b) return 0;
    const placed *pa = &e->where[a - e->mf.gguf->tensors], *pb = &e->where[b - e->mf.gguf->tensors];
    return pa->buffer && pa->buffer == pb->buffer && pa->offset + pa->size == pb->offset && a->type == b->type &&
           a->ne[0] == b->ne[0];
}

/* ---- weights packed for the integer matmul ---------------------------------- */

typedef struct {
    uint32_t rows, cols, w_off, tile_off, scale_off, grid_x, pad0, pad1;
} pack_params;

/* Block types only: their rows are 4-8 bit values with block scales, which a
 * per-row 16-bit integer holds to 2^-16 of the row's largest (smx_pack.wgsl);
 * float matrices keep the f32 matmul. Rows of at most 65536 columns keep the
 * kernel's i32 sums from overflowing (matmul_smx.wgsl). */
static int packable(const rl_gpu_engine *e, const gguf_tensor *t) {
    if (!t || t->n_dims != 2 || !e->where[t - e->mf.gguf->tensors].buffer) return 0;
    switch (t->type) {
    case RL_TYPE_Q4_0: case RL_TYPE_Q4_1: case RL_TYPE_Q5_0: case RL_TYPE_Q5_1: case RL_TYPE_Q8_0:
    case RL_TYPE_Q2_K: case RL_TYPE_Q3_K: case RL_TYPE_Q4_K: case RL_TYPE_Q5_K: case RL_TYPE_Q6_K: break;
    default: return 0;
    }
    return t->ne[0] % 32 == 0 && t->ne[0] <= 65536 && t->ne[1] % 16 == 0 && t->ne[1] >= e->smx_min_rows;
}

/* The runs to pack, in order: each a list of matrices back to back in their
 * quantized arena (gpu_adjacent), so that a product over several of them finds
 * their packed tiles back to back too. */
#define PACK_RUN_MAX 3
typedef struct {
    const gguf_tensor *t[PACK_RUN_MAX];
    int n;
    uint64_t tiles, rows; /* the run's tile bytes and rows (then rows * 4 bytes of scales) */
} pack_run;

static int pack_runs(const rl_gpu_engine *e, pack_run *out) {
    const rl_model *m = e->m;
    int n = 0;
    for (int i = 0; i <= m->n_layer; i++) {
        const rl_layer *l = i < m->n_layer ? &m->layers[i] : NULL;
        const gguf_tensor *seq[] = {l ? l->attn_q : m->per_layer_model_proj, l ? l->attn_k : NULL,
                                    l ? l->attn_v : NULL, l ? l->attn_output : NULL, l ? l->ffn_gate : NULL,
                                    l ? l->ffn_up : NULL, l ? l->ffn_down : NULL, l ? l->inp_gate : NULL,
                                    l ? l->proj : NULL};
        pack_run cur = {{0}, 0, 0, 0};
        for (size_t k = 0; k <= sizeof seq / sizeof *seq; k++) {
            const gguf_tensor *t = k < sizeof seq / sizeof *seq && packable(e, seq[k]) ? seq[k] : NULL;
            if (cur.n && (!t || cur.n == PACK_RUN_MAX || !gpu_adjacent(e, cur.t[cur.n - 1], t))) {
                if (out) out[n] = cur;
                n++;
                cur = (pack_run){{0}, 0, 0, 0};
            }
            if (t) cur.t[cur.n++] = t, cur.tiles += t->ne[1] * t->ne[0] * 2, cur.rows += t->ne[1];
        }
    }
    return n;
}

rl_status gpu_pack_smx(rl_gpu_engine *e, rl_error *err) {
    const gguf_file *g = e->mf.gguf;
    const rl_gpu_caps *caps = rl_gdev_caps(e->dev);
    rl_status s;
    if (!(e->smx_where = calloc(g->n_tensors, sizeof *e->smx_where))) return rl_fail(err, RL_ERR_NOMEM, "pack table");
    const int n = pack_runs(e, NULL);
    pack_run *runs = calloc(n ? (size_t)n : 1, sizeof *runs);
    if (!runs) return rl_fail(err, RL_ERR_NOMEM, "pack runs");
    pack_runs(e, runs);
    const uint64_t arena_cap = arena_cap_of(caps);
    /* which runs are packed: those that fit a binding, in order, while the budget lasts (by default the
     * packed copies may take as much GPU memory as the model's own weights, so turning the feature on
     * never more than doubles a model's footprint; RULLAMA_TUNE smxmax=MiB sets it, 0: no limit); the
     * others stay on the f32 matmul */
    const uint64_t budget = e->smx_budget_set ? e->smx_budget : e->upload_bytes;
    uint64_t remaining = 0, taken = 0;
    for (int r = 0; r < n; r++) {
        const uint64_t bytes = runs[r].tiles + runs[r].rows * 4;
        if (bytes > arena_cap || (budget && taken + bytes > budget)) {
            runs[r].n = 0;
            continue;
        }
        taken += bytes;
        remaining += bytes + 256;
    }
    const uint32_t maxg = caps->max_workgroups ? caps->max_workgroups : 65535;
    char sgmin[32];
    snprintf(sgmin, sizeof sgmin, "SGMIN=%uu", gpu_sgmin(caps));
    uint32_t arena = 0, pipe = 0;
    uint64_t used = 0, arena_size = 0;
    s = RL_OK;
    for (int r = 0; r < n && !s; r++) {
        const pack_run *run = &runs[r];
        if (!run->n) continue;
        const uint64_t tiles = run->tiles, rows = run->rows, bytes = tiles + rows * 4;
        if (!arena || align_up(used, 256) + bytes > arena_size) {
            arena_size = remaining < arena_cap ? remaining + 256 : arena_cap;
            if (arena_size < bytes) arena_size = bytes;
            if (!(arena = rl_gdev_buffer(e->dev, arena_size, RL_BUF_STORAGE, err))) {
                s = err->code;
                break;
            }
            used = 0;
        }
        used = align_up(used, 256);
        uint64_t tile_at = used, scale_at = used + tiles, rows_left = rows;
        for (int k = 0; k < run->n && !s; k++) {
            const gguf_tensor *t = run->t[k];
            const uint32_t tr = (uint32_t)t->ne[1], tc = (uint32_t)t->ne[0];
            smx_placed *sp = &e->smx_where[t - g->tensors];
            *sp = (smx_placed){arena, (uint32_t)(tile_at / 4), (uint32_t)(scale_at / 4), (uint32_t)rows_left};
            char type_def[32];
            snprintf(type_def, sizeof type_def, "TYPE_%s", rl_type_get(t->type)->name);
            const char *defs[] = {type_def, gpu_layout_def(e, t->type), "WG=256u",
                                  caps->has_subgroups ? "SUBGROUPS" : "NO_SUBGROUPS", sgmin, NULL};
            if (!(pipe = rl_gdev_pipeline(e->dev, K_SMX_PACK, defs, err))) {
                s = err->code;
                break;
            }
            const uint32_t gx = tr < maxg ? tr : maxg, gy = (tr + gx - 1) / gx;
            /* a tensor packed back to back with its neighbour (q|k|v, gate|up) may start off the
             * device's binding alignment (256 bytes on NVIDIA): bind from below it, start at w_off */
            rl_gbind w = gpu_wbind(e, t);
            const uint32_t w_off = caps->offset_align ? (uint32_t)(w.offset % caps->offset_align) : 0;
            w.offset -= w_off;
            w.size += w_off;
            pack_params pp = {tr, tc, w_off, sp->tile_word, sp->scale_word, gx, 0, 0};
            rl_gbind b[2] = {w, {arena, 0, 0}};
            s = rl_gdev_dispatch(e->dev, pipe, &pp, b, gx, gy, 1, err);
            tile_at += (uint64_t)tr * tc * 2;
            scale_at += (uint64_t)tr * 4;
            rows_left -= tr;
        }
        used += bytes;
        e->smx_bytes += bytes;
        remaining -= bytes + 256 < remaining ? bytes + 256 : remaining;
    }
    free(runs);
    return s;
}
