#include "gpu/engine_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rmath.h"
#include "quant.h"

/* ---- activations and caches ------------------------------------------------ */

/* DEFAULT_UBATCH, halved while the largest per-slot activation buffer (gate|up,
 * the attention partials, the per-layer inputs, the experts' gate|up) would not
 * fit one binding. */
static int default_ubatch(const rl_model *m, const rl_gpu_caps *caps) {
    uint64_t per = (uint64_t)m->n_layer * m->ple_dim + 1, ff = 0;
    for (int i = 0; i < m->n_layer; i++)
        if ((uint64_t)m->layers[i].n_ff > ff) ff = (uint64_t)m->layers[i].n_ff;
    if (2 * ff > per) per = 2 * ff;
    if ((uint64_t)m->n_expert_used * 2 * m->n_ff_exp + 1 > per) per = (uint64_t)m->n_expert_used * 2 * m->n_ff_exp + 1;
    int u = DEFAULT_UBATCH;
    const uint64_t limit = caps && caps->max_binding ? caps->max_binding : (128u << 20);
    while (u > 32 && (per * 4 * (uint64_t)u > limit ||
                      attn_part_slots((uint64_t)u) * (uint64_t)m->n_head * (MAX_HD + 2) * 4 > limit))
        u /= 2;
    return u;
}

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
        if (l->head_dim > MAX_HD)
            return rl_fail(err, RL_ERR_UNSUPPORTED, "head dim %d exceeds %d", l->head_dim, MAX_HD);
    }
    if ((uint64_t)m->ple_dim > ff) ff = (uint64_t)m->ple_dim;
    const uint64_t wide = D > qdim ? D : qdim;
    const uint32_t st = RL_BUF_STORAGE | RL_BUF_COPY_DST | RL_BUF_COPY_SRC;
    e->rt_stride = m->head_dim_swa / 2 * 2 + m->head_dim_full / 2 * 2; /* cos,sin per pair: sliding then full */
    /* b_step holds the step header, then the pass's RoPE rows from rope_off: one write a pass */
    const uint32_t align = rl_gdev_caps(e->dev)->offset_align;
    e->rope_off = (uint32_t)align_up(sizeof(gpu_step), align > 16 ? align : 16);
    struct {
        uint32_t *id;
        uint64_t bytes;
    } bufs[] = {
        {&e->b_step, e->rope_off + U * (uint64_t)e->rt_stride * 4},
        {&e->b_ids, U * 4},
        {&e->b_h, U * D * 4},
        {&e->b_h_alt, U * D * 4},
        {&e->b_x, U * wide * 4},
        {&e->b_xn, U * D * 4},
        {&e->b_q, U * (qdim + 2 * kvdim) * 4},
        {&e->b_o, U * qdim * 4},
        {&e->b_part, attn_part_slots(U) * (uint64_t)m->n_head * (MAX_HD + 2) * 4},
        {&e->b_f, U * 2 * ff * 4},
        {&e->b_ple, U * (uint64_t)(m->n_layer * m->ple_dim + 1) * 4},
        {&e->b_logits, (uint64_t)LOGIT_ROWS * m->n_vocab * 4},
        {&e->b_argpart, (uint64_t)LOGIT_ROWS * ARGMAX_SLICES * 8},
        {&e->b_argmax, U * 4},
        {&e->b_tkpart, (uint64_t)LOGIT_ROWS * ((m->n_vocab + TOPK_WG * TOPK_EPT - 1) / (TOPK_WG * TOPK_EPT)) * RL_GPU_TOP_K_MAX * 8},
        {&e->b_tkout, (uint64_t)LOGIT_ROWS * RL_GPU_TOP_K_MAX * 8},
        {&e->b_dummy, 256},
        {&e->b_router, U * (uint64_t)(m->n_expert + 1) * 4},
        {&e->b_eids, U * (uint64_t)(m->n_expert_used + 1) * 4},
        {&e->b_ewts, U * (uint64_t)(m->n_expert_used + 1) * 4},
        {&e->b_x2, U * D * 4},
        {&e->b_egu, U * (uint64_t)(m->n_expert_used * 2 * m->n_ff_exp + 1) * 4},
        {&e->b_eout, U * (uint64_t)(m->n_expert_used * m->n_embd + 1) * 4},
        /* one slot's limbs (24 words a 32-column block), its block scales and sums (gpu_dlimbs) */
        {&e->b_dl, ((wide > ff ? wide : ff) / 32 + 1) * 26 * 4},
        {&e->b_dlf, 256},
    };
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        if (!(*bufs[i].id = rl_gdev_buffer(e->dev, bufs[i].bytes, st, err))) return err->code;
    /* the integer tensor-core matmul: the limbs of up to a pass's tokens (rounded up to its 64-token tiles) of
     * the widest input it takes */
    if (e->smx) {
        const uint64_t cols = wide > ff ? wide : ff, tpad = (U + 63) / 64 * 64;
        e->smx_cols = (uint32_t)cols;
        if (!(e->b_xl = rl_gdev_buffer(e->dev, tpad * e->smx_nl * cols, st, err)) ||
            !(e->b_xf = rl_gdev_buffer(e->dev, tpad * 4, st, err)))
            return err->code;
        /* split-K slices: room for the largest product that splits at a full pass (fewer tokens split at
         * most as many ways: a product's slices grow as its workgroups shrink, so check every T's tile) */
        uint64_t room = 0;
        for (uint64_t i = 0; i < e->mf.gguf->n_tensors; i++) {
            const smx_placed *sp = &e->smx_where[i];
            if (!sp->buffer) continue;
            const uint32_t nb = (uint32_t)(e->mf.gguf->tensors[i].ne[0] / 32);
            for (uint32_t T = 64; T <= tpad; T += 64) {
                const uint64_t s = gpu_smx_slices(e, sp->run_rows, nb, T);
                if (s > 1 && s * T * sp->run_rows > room) room = s * T * sp->run_rows;
            }
        }
        e->smx_part_floats = (uint32_t)room;
        if (!(e->b_smx_part = rl_gdev_buffer(e->dev, (room ? room : 64) * 4, st, err))) return err->code;
    }
    e->kc = calloc((size_t)m->n_layer, sizeof *e->kc);
    e->vc = calloc((size_t)m->n_layer, sizeof *e->vc);
    e->cap = calloc((size_t)m->n_layer, sizeof *e->cap);
    e->step_rows = calloc(e->rope_off + U * (uint64_t)e->rt_stride * sizeof(float), 1);
    e->ids_rows = malloc(U * sizeof(uint32_t));
    if (!e->kc || !e->vc || !e->cap || !e->step_rows || !e->ids_rows) return rl_fail(err, RL_ERR_NOMEM, "cache tables");
    for (int i = 0; i < m->n_layer; i++) {
        const rl_layer *l = &m->layers[i];
        if (l->kv_shared) continue;
        e->cap[i] = l->is_swa && m->window + e->ubatch < e->n_ctx ? m->window + e->ubatch : e->n_ctx;
        const uint64_t bytes = (uint64_t)e->cap[i] * (uint64_t)l->n_kv_head * (uint64_t)l->head_dim * 4;
        if (!(e->kc[i] = rl_gdev_buffer(e->dev, bytes, st, err)) ||
            !(e->vc[i] = rl_gdev_buffer(e->dev, bytes, st, err)))
            return rl_fail_ctx(err, "KV cache of layer %d (%d positions)", i, e->cap[i]);
    }
    return RL_OK;
}

/* Whether the integer tensor-core matmul runs: on a device that offers it unless
 * RULLAMA_TUNE smx=0, emulated anywhere with smx=2; it takes 30 KiB of workgroup memory
 * (36 with the wider token stride; kernels/matmul_smx.wgsl). */
static void smx_plan(rl_gpu_engine *e) {
    const rl_gpu_caps *c = rl_gdev_caps(e->dev);
    e->smx = e->smx_on && ((c->has_smx_i8 && c->subgroup_max == 32) || e->smx_emu) &&
             c->max_wg_storage >= gpu_smx_stage_bytes(2, 8, 3);
    if (e->smx_nl != 2) e->smx_nl = 3;
    if (!e->smx_ks) e->smx_ks = 2;
    if (!e->smx_st) e->smx_st = gpu_smx_stage_bytes(e->smx_ks, 12, e->smx_nl) <= c->max_wg_storage ? 12 : 8;
}

static rl_status make_pipelines(rl_gpu_engine *e, rl_error *err) {
    const rl_gpu_caps *c = rl_gdev_caps(e->dev);
    const char *sg = c->has_subgroups ? "SUBGROUPS" : "NO_SUBGROUPS";
    char sgmin[32];
    snprintf(sgmin, sizeof sgmin, "SGMIN=%uu", gpu_sgmin(c));
    /* norms: every invocation keeps NV vec4 of its row in registers */
    int max_n = e->m->n_embd > e->m->head_dim_full ? e->m->n_embd : e->m->head_dim_full;
    if (e->m->ple_dim > max_n) max_n = e->m->ple_dim;
    char nv[32];
    snprintf(nv, sizeof nv, "NV=%du", (max_n / 4 + NORM_WG - 1) / NORM_WG);
    const char *norm[] = {"WG=256u", nv, sg, sgmin, NULL},
               *norm_limbs[] = {"WG=256u", nv, sg, sgmin, "LIMBS", e->smx_nl == 2 ? "LIMBS2" : NULL, NULL},
               *norm_dlimbs[] = {"WG=256u", nv, sg, sgmin, "LIMBS", "LIMBS_FLAT", NULL};
    const char *prep[] = {"WG=64u", "MAX_HD=512u", sg, sgmin, NULL};
    char cwg[24], cdw[24];
    snprintf(cwg, sizeof cwg, "WG=%uu", e->combine_wg);
    snprintf(cdw, sizeof cdw, "DW=%uu", e->combine_dw);
    const char *combine[] = {cwg, cdw, "MAXS=256u", sg, sgmin, NULL};
    const char *combine_direct[] = {"WG=128u", "DW=128u", "DIRECT", sg, sgmin, NULL}; /* ATTN_COMBINE_DIRECT_* */
    const char *small[] = {"WG=64u", sg, sgmin, NULL};
    const char *argmax[] = {"WG=256u", sg, NULL};
    char topk_ept[32], topk_maxk[32];
    snprintf(topk_ept, sizeof topk_ept, "EPT=%uu", TOPK_EPT);
    snprintf(topk_maxk, sizeof topk_maxk, "MAXK=%uu", RL_GPU_TOP_K_MAX);
    const char *topk[] = {"WG=256u", topk_ept, topk_maxk, NULL};
    const char *route[] = {"WG=64u", "MAXE=256u", "MAXK=64u", sg, sgmin, NULL};
    const char *moe_combine[] = {"WG=256u", sg, sgmin, NULL};
    const char *split_sum[] = {"WG=256u", NULL};
    if (!(e->p_norm = rl_gdev_pipeline(e->dev, K_NORM, norm, err)) ||
        !(e->p_prep = rl_gdev_pipeline(e->dev, K_ATTN_PREP, prep, err)) ||
        !(e->p_combine = rl_gdev_pipeline(e->dev, K_ATTN_COMBINE, combine, err)) ||
        !(e->p_combine_direct = rl_gdev_pipeline(e->dev, K_ATTN_COMBINE, combine_direct, err)) ||
        !(e->p_glu = rl_gdev_pipeline(e->dev, K_GLU, small, err)) ||
        !(e->p_ple = rl_gdev_pipeline(e->dev, K_PLE, small, err)) ||
        !(e->p_argmax = rl_gdev_pipeline(e->dev, K_ARGMAX, argmax, err)) ||
        !(e->p_topk = rl_gdev_pipeline(e->dev, K_TOPK, topk, err)) ||
        ((e->mv_xl & XL_HEAD) && !(e->p_norm_dlimbs = rl_gdev_pipeline(e->dev, K_NORM_LIMBS, norm_dlimbs, err))) ||
        (e->m->n_expert && (!(e->p_route = rl_gdev_pipeline(e->dev, K_MOE_ROUTE, route, err)) ||
                            !(e->p_moe_combine = rl_gdev_pipeline(e->dev, K_MOE_COMBINE, moe_combine, err)))) ||
        (e->smx && (!(e->p_limbs = gpu_limbs_pipeline(e, 0, NULL, err)) ||
                    !(e->p_limbs_glu = gpu_limbs_pipeline(e, 1, NULL, err)) ||
                    !(e->p_norm_limbs = rl_gdev_pipeline(e->dev, K_NORM_LIMBS, norm_limbs, err)) ||
                    !(e->p_split_sum = rl_gdev_pipeline(e->dev, K_SPLIT_SUM, split_sum, err)))))
        return err->code;
    return RL_OK;
}

/* ---- open/close ------------------------------------------------------------ */

static rl_status rope_freq_table(rl_gpu_engine *e, rl_error *err);

/* RULLAMA_TUNE="lc=N,wvec=0|1,...": a developer knob for A/B runs of kernel and
 * recording variants without a rebuild (bench; README lists every knob): the
 * mat-vec's row layout, load width, unrolled chunk loop, workgroup size and most
 * chunks per thread (kernels/matvec.wgsl LC, WVEC, STEPS, WG); decode attention's
 * most key splits, query heads per workgroup, keys per block and PREP
 * (attn_decode.wgsl); decode step replay; prefill's combine variant, command
 * lists, matmul tile, K step and fewest workgroups (kernels/matmul.wgsl TM, TN,
 * BK). Unknown or malformed items are ignored. */
static void tune_overrides(rl_host *h, rl_gpu_engine *e) {
    e->mv_lc = 0;
    e->smx_on = 1; /* where the device offers int8 subgroup matrices */
    e->smx_groups = SMX_SPLIT_GROUPS;
    e->smx_split_below = SMX_SPLIT_BELOW;
    e->mv_wvec = -1;
    e->mv_unroll = -1;
    e->mv_idot = 1;
    e->mv_pro_wg = MV_PRO_WG;
    e->mv_attn_wg = MV_ATTN_WG;
    e->combine_wg = ATTN_COMBINE_WG;
    e->combine_dw = ATTN_COMBINE_DW;
    e->attn_npv = 0; /* ATTN_FUSE_NPV, or ATTN_DEC_NPV with fuse=0 (below) */
    e->attn_fuse = ATTN_FUSE_SPLITS;
    e->attn_fuse_blocks = ATTN_FUSE_BLOCKS;
    e->mv_xl = 0; /* opt-in: neither consumer measured faster on an H100/H200 (docs/PERF.md, tenth session) */
    const char *v = h && h->getenv ? h->getenv(h, "RULLAMA_TUNE") : NULL;
    for (; v && *v; v += strcspn(v, ",") + (v[strcspn(v, ",")] == ',')) {
        unsigned n, n2, n3;
        if (sscanf(v, "lc=%u", &n) == 1 && n && !(n & (n - 1))) e->mv_lc = (int)n;
        else if (sscanf(v, "wvec=%u", &n) == 1) e->mv_wvec = n ? 1 : 0;
        else if (sscanf(v, "unroll=%u", &n) == 1) e->mv_unroll = n ? 1 : 0;
        else if (sscanf(v, "idot=%u", &n) == 1) e->mv_idot = n != 0;
        else if (sscanf(v, "xl=%u", &n) == 1) e->mv_xl = (int)(n & (XL_HEAD | XL_DOWN));
        else if (sscanf(v, "wg=%u", &n) == 1 && n >= 32 && n <= 1024 && !(n & (n - 1))) e->mv_wg = (int)n;
        else if (sscanf(v, "awg=%u", &n) == 1 && (!n || (n >= 32 && n <= 1024 && !(n & (n - 1))))) e->mv_attn_wg = (int)n;
        else if (sscanf(v, "pwg=%u", &n) == 1 && (!n || (n >= 32 && n <= 1024 && !(n & (n - 1))))) e->mv_pro_wg = (int)n;
        else if (sscanf(v, "head=%ux%ux%u", &n, &n2, &n3) == 3 && n >= 32 && n <= 1024 && !(n & (n - 1)) && n2 &&
                 n2 <= n && !(n2 & (n2 - 1)) && (n3 == 1 || n3 == 2))
            e->head_wg = (int)n, e->head_tpr = (int)n2, e->head_rpt = (int)n3;
        else if (sscanf(v, "headu=%u", &n) == 1) e->head_unroll = n != 0;
        else if (sscanf(v, "mvt=%u", &n) == 1 && n >= 1024 && n <= (1u << 22)) e->mv_threads = (int)n;
        else if (sscanf(v, "steps=%u", &n) == 1 && n >= 1 && n <= 64) e->mv_steps = (int)n;
        else if (sscanf(v, "splits=%u", &n) == 1 && n >= 1 && n <= 1024) e->attn_splits = (int)n;
        else if (sscanf(v, "hc=%u", &n) == 1 && n >= 1 && n <= ATTN_HC) e->attn_hc = (int)n;
        else if (sscanf(v, "kb=%u", &n) == 1 && n >= 2 && n <= 64 && !(n & (n - 1))) e->attn_kb = (int)n;
        else if (sscanf(v, "prep=%u", &n) == 1) e->attn_noprep = !n;
        else if (sscanf(v, "npv=%u", &n) == 1 && n >= 2 && n <= 32 && !(n & (n - 1))) e->attn_npv = (int)n;
        else if (sscanf(v, "fuse=%u", &n) == 1 && n <= 64) e->attn_fuse = n > 1 ? (int)n : 0;
        else if (sscanf(v, "fuseb=%u", &n) == 1 && n >= 1 && n <= 64) e->attn_fuse_blocks = (int)n;
        else if (sscanf(v, "cwg=%u", &n) == 1 && (n == 64 || n == 128 || n == 256)) e->combine_wg = n;
        else if (sscanf(v, "cdw=%u", &n) == 1 && (n == 8 || n == 16 || n == 32 || n == 64)) e->combine_dw = n;
        else if (sscanf(v, "replay=%u", &n) == 1) e->no_replay = !n;
        else if (sscanf(v, "q6pad=%u", &n) == 1) e->q6_raw = !n;
        else if (sscanf(v, "two=%u", &n) == 1) e->no_two_types = !n;
        else if (sscanf(v, "q6stage=%u", &n) == 1 && n >= 1 && n <= (1u << 20)) e->repack_stage = n << 10;
        else if (sscanf(v, "combine=%u", &n) == 1) e->combine_grouped = n == 0;
        else if (sscanf(v, "lists=%u", &n) == 1 && n >= 1 && n <= 64) e->prefill_lists = (int)n;
        else if (sscanf(v, "mmt=%ux%u", &n, &n2) == 2 && n >= 1 && n <= 8 && n2 >= 1 && n2 <= 8 && !(n & (n - 1)) &&
                 !(n2 & (n2 - 1)) && n * n2 < 64)
            e->mm_tm = (int)n, e->mm_tn = (int)n2;
        else if (sscanf(v, "mmbk=%u", &n) == 1 && (n == 8 || n == 16 || n == 32)) e->mm_bk = (int)n;
        else if (sscanf(v, "mmg=%u", &n) == 1 && n >= 1 && n <= 65536) e->mm_min_groups = (int)n;
        else if (sscanf(v, "smx=%u", &n) == 1) e->smx_on = n, e->smx_emu = n == 2;
        else if (sscanf(v, "smxr=%u", &n) == 1) e->smx_min_rows = n;
        else if (sscanf(v, "smxk=%u", &n) == 1) e->smx_groups = n;
        else if (sscanf(v, "smxkb=%u", &n) == 1) e->smx_split_below = n;
        else if (sscanf(v, "smxlimbs=%u", &n) == 1) e->smx_nl = n;
        else if (sscanf(v, "smxlabel=%u", &n) == 1) e->smx_label = n == 1;
        else if (sscanf(v, "smxks=%u", &n) == 1) e->smx_ks = n >= 1 && n <= 4 ? n : 0;
        else if (sscanf(v, "smxst=%u", &n) == 1) e->smx_st = n == 8 || n == 12 ? n : 0;
        else if (sscanf(v, "smxmax=%u", &n) == 1) e->smx_budget = (uint64_t)n << 20, e->smx_budget_set = 1;
    }
    if (!e->attn_npv) e->attn_npv = e->attn_fuse ? ATTN_FUSE_NPV : ATTN_DEC_NPV;
}

rl_status rl_gpu_engine_open(rl_host *h, const char *path, const rl_gpu_caps *caps, const rl_gpu_opts *opts,
                             rl_gpu_engine **out, rl_error *err) {
    rl_gpu_engine *e = calloc(1, sizeof *e);
    if (!e) return rl_fail(err, RL_ERR_NOMEM, "gpu engine");
    rl_status s;
    e->mf.fd = -1;
    if ((s = rl_model_file_open(h, path, &e->mf, err))) goto fail;
    e->m = &e->mf.model;
    e->n_ctx = opts && opts->n_ctx > 0 ? opts->n_ctx : 4096;
    if (e->n_ctx > e->m->n_ctx_train) e->n_ctx = e->m->n_ctx_train;
    e->ubatch = opts && opts->ubatch > 0 ? opts->ubatch : default_ubatch(e->m, caps);
    e->ple_on_host = opts && opts->ple_on_host;
    e->prefill_lists = PREFILL_LISTS;
    tune_overrides(h, e);
    if ((s = rl_gdev_new(caps, &e->dev, err))) goto fail;
    smx_plan(e); /* before the pipelines and buffers it needs */
    if ((s = make_pipelines(e, err)) || (s = gpu_place_weights(e, err)) || (e->smx && (s = gpu_pack_smx(e, err))) || (s = alloc_activations(e, err)) ||
        (s = rope_freq_table(e, err)) || (s = rl_gdev_submit(e->dev, err)))
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
    free(e->smx_where);
    free(e->vec_at);
    free(e->kc);
    free(e->vc);
    free(e->cap);
    free(e->step_rows);
    free(e->rope_freq);
    free(e->ids_rows);
    for (uint32_t i = 0; i < e->n_bodies; i++) free(e->bodies[i].words);
    if (e->mf.gguf || e->mf.fd >= 0) rl_model_file_close(&e->mf);
    free(e);
}

int rl_gpu_engine_n_past(const rl_gpu_engine *e) { return e->n_past; }
int rl_gpu_engine_n_vocab(const rl_gpu_engine *e) { return e->m->n_vocab; }
int rl_gpu_engine_n_ctx(const rl_gpu_engine *e) { return e->n_ctx; }
uint64_t rl_gpu_engine_replays(const rl_gpu_engine *e) { return e->replays; }
const rl_model_file *rl_gpu_engine_model_file(const rl_gpu_engine *e) { return &e->mf; }
uint64_t rl_gpu_engine_upload_bytes(const rl_gpu_engine *e) { return e->upload_bytes; }
uint64_t rl_gpu_engine_packed_bytes(const rl_gpu_engine *e) { return e->smx_bytes; }
int rl_gpu_engine_ple_on_host(const rl_gpu_engine *e) { return e->ple_on_host; }

uint64_t rl_gpu_engine_decode_bytes(const rl_gpu_engine *e) {
    const gguf_file *g = e->mf.gguf;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (e->where[i].buffer && &g->tensors[i] != e->m->per_layer_token_embd) sum += e->where[i].size;
    return sum;
}

rl_status rl_gpu_engine_truncate(rl_gpu_engine *e, int n_keep, rl_error *err) {
    if (n_keep < 0 || n_keep > e->n_past)
        return rl_fail(err, RL_ERR_INVALID, "cannot keep %d of %d positions", n_keep, e->n_past);
    const int need_from = n_keep - e->m->window + 1 > 0 ? n_keep - e->m->window + 1 : 0;
    for (int i = 0; i < e->m->n_layer; i++)
        if (e->kc[i] && e->cap[i] < e->n_ctx && n_keep > 0 && need_from < e->kv_hi - e->cap[i])
            return rl_fail(err, RL_ERR_INVALID, "cannot rewind to %d: sliding-window layers no longer hold it", n_keep);
    e->n_past = n_keep;
    e->has_pick = 0; /* the last pick belonged to a dropped position */
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
    uint32_t n, x_off, x_stride, out_off, nb, pass_id, ids_t, ids_on;
} argmax_params;

/* Per pair of the RoPE table (sliding pairs, then full): the angle per
 * position, base^(-2j/dims) (0 past the rotated dims), and the rope_freqs
 * divisor (1 where none). Computed once: rl_pow for every pair of every slot
 * was most of a prefill's host time (~12 ms of the ~19 for 512 slots). */
static rl_status rope_freq_table(rl_gpu_engine *e, rl_error *err) {
    const rl_model *m = e->m;
    const int ns = m->head_dim_swa / 2, nf = m->head_dim_full / 2;
    int swa_dims = m->head_dim_swa, full_dims = m->head_dim_full;
    for (int i = 0; i < m->n_layer; i++) { /* rope dims per type (the same for every layer of a type) */
        if (m->layers[i].is_swa)
            swa_dims = m->layers[i].rope_dims;
        else
            full_dims = m->layers[i].rope_dims;
    }
    e->rope_freq = malloc((size_t)(ns + nf) * 2 * sizeof *e->rope_freq);
    if (!e->rope_freq) return rl_fail(err, RL_ERR_NOMEM, "rope table");
    for (int j = 0; j < ns + nf; j++) {
        const int full = j >= ns, jj = full ? j - ns : j, dims = full ? full_dims : swa_dims;
        double f = 0, div = 1;
        if (2 * jj < dims) {
            f = rl_pow(full ? m->rope_base_full : m->rope_base_swa, -2.0 * jj / dims);
            if (full && m->rope_freqs) div = m->rope_freqs[jj];
        }
        e->rope_freq[2 * j] = f;
        e->rope_freq[2 * j + 1] = div;
    }
    return RL_OK;
}

/* Host-computed RoPE table for T slots from pos0: per slot, (cos, sin) of every
 * sliding pair, then every full pair (angles in double). A direct sincos every
 * ROPE_RESEED slots, rotations between (rl_sincos_run): a 512-slot table took
 * ~20 ms of host time with a pow and a sincos per entry, ~1 ms now. */
#define ROPE_RESEED 32
static void rope_table(rl_gpu_engine *e, int pos0, int T) {
    float *rows = (float *)(e->step_rows + e->rope_off);
    for (int j = 0; j < e->rt_stride / 2; j++)
        rl_sincos_run(e->rope_freq[2 * j], e->rope_freq[2 * j + 1], pos0, T, ROPE_RESEED, rows + 2 * j, e->rt_stride);
}

/* Logits (and greedy picks) for slots [t0, t0+n) of this pass: final norm,
 * tied LM head with softcap, argmax; reads land in wasm memory at the flush. */
typedef struct {
    uint32_t n, x_off, x_stride, K, nb, pass_id, pad0, pad1;
} topk_params;

/* The K best (value, index) pairs of the logit rows in b_logits, sorted (kernels/topk.wgsl). */
static rl_status top_k(rl_gpu_engine *e, int n, uint32_t k, uint32_t *pairs, rl_error *err) {
    const uint32_t V = (uint32_t)e->m->n_vocab, nb = (V + TOPK_WG * TOPK_EPT - 1) / (TOPK_WG * TOPK_EPT);
    topk_params p0 = {V, 0, V, k, nb, 0, 0, 0}, p1 = p0;
    p1.pass_id = 1;
    rl_gbind b[3] = {{e->b_logits, 0, 0}, {e->b_tkpart, 0, 0}, {e->b_tkout, 0, 0}};
    rl_status s;
    if ((s = rl_gdev_dispatch(e->dev, e->p_topk, &p0, b, nb, (uint32_t)n, 1, err)) ||
        (s = rl_gdev_dispatch(e->dev, e->p_topk, &p1, b, 1, (uint32_t)n, 1, err)))
        return s;
    return rl_gdev_read(e->dev, e->b_tkout, 0, (uint32_t)n * k * 8, pairs, err);
}

/* The LM head over slots [t0, t0+n) and, with argmax, the greedy picks' passes (no reads). */
static rl_status output_passes(rl_gpu_engine *e, int t0, int n, int argmax, rl_error *err) {
    const rl_model *m = e->m;
    const uint32_t D = (uint32_t)m->n_embd, V = (uint32_t)m->n_vocab;
    rl_status s;
    /* b_xn already holds RMSNorm(h; output_norm) for every slot (the last layer's residual) */
    if ((s = gpu_matmul(e, m->output, V, (act){e->b_xn, (uint32_t)t0 * D, D}, (act){e->b_logits, 0, V}, n, m->softcap,
                        NULL, err)))
        return s;
    if (!argmax) return RL_OK;
    /* the last row's pick also lands in b_ids[0]: a chained step after this pass reads its
     * token there (nothing reads b_ids between passes; a pass reads its own ids first) */
    rl_gbind b[4] = {{e->b_logits, 0, 0}, {e->b_argpart, 0, 0}, {e->b_argmax, 0, 0}, {e->b_ids, 0, 0}};
    argmax_params a0 = {V, 0, V, (uint32_t)t0, ARGMAX_SLICES, 0, 0, 0}, a1 = a0;
    a1.pass_id = 1;
    a1.ids_t = (uint32_t)n - 1;
    a1.ids_on = 1;
    if ((s = rl_gdev_dispatch(e->dev, e->p_argmax, &a0, b, ARGMAX_SLICES, (uint32_t)n, 1, err))) return s;
    return rl_gdev_dispatch(e->dev, e->p_argmax, &a1, b, 1, (uint32_t)n, 1, err);
}

static rl_status read_picks(rl_gpu_engine *e, int t0, int n, int32_t *argmax, rl_error *err) {
    e->has_pick = 1;
    return rl_gdev_read(e->dev, e->b_argmax, (uint64_t)t0 * 4, (uint32_t)n * 4, argmax, err);
}

static rl_status output_rows(rl_gpu_engine *e, int t0, int n, float *logits, int32_t *argmax, rl_error *err) {
    rl_status s;
    if ((s = output_passes(e, t0, n, argmax != NULL, err))) return s;
    if (argmax && (s = read_picks(e, t0, n, argmax, err))) return s;
    if (e->top_pairs && (s = top_k(e, n, e->top_k, e->top_pairs, err))) return s;
    if (logits && (s = rl_gdev_read(e->dev, e->b_logits, 0, (uint32_t)n * (uint32_t)e->m->n_vocab * 4, logits, err))) return s;
    return RL_OK;
}

/* Embeddings through the last layer for T slots (greedy: through the LM head
 * and the argmax passes): recorded, or for a decode step (one slot) whose
 * attention plans and greedy flag match an earlier step's, that step's
 * commands again. Everything else in the body depends only on the engine and
 * reads the position from b_step, so replay skips the per-dispatch work of
 * recording (variant choice, pipeline, uniform and bind group lookups) that
 * the host would otherwise repeat every token. */
static rl_status step_body_fresh(rl_gpu_engine *e, const int32_t *tokens, int T, int greedy, rl_error *err) {
    const rl_model *m = e->m;
    const uint32_t D = (uint32_t)m->n_embd;
    rl_status s;
    /* embeddings */
    {
        char type_def[48];
        snprintf(type_def, sizeof type_def, "TYPE_%s", rl_type_get(m->token_embd->type)->name);
        const char *defs[] = {type_def, gpu_layout_def(e, m->token_embd->type), "WG=64u", NULL};
        uint32_t pipe = rl_gdev_pipeline(e->dev, K_GET_ROWS, defs, err);
        if (!pipe) return err->code;
        get_rows_params gp = {(uint32_t)T, D, 0, (uint32_t)m->n_vocab, 0, 0, 0, D, sqrtf((float)D), 0, 0, 0};
        rl_gbind b[3] = {gpu_wbind(e, m->token_embd), {e->b_ids, 0, 0}, {e->b_h, 0, 0}};
        if ((s = rl_gdev_dispatch(e->dev, pipe, &gp, b, (D + 8 * 64 - 1) / (8 * 64), (uint32_t)T, 1, err))) return s;
    }
    if (m->ple_dim) {
        const uint32_t LP = (uint32_t)(m->n_layer * m->ple_dim);
        const gguf_tensor *tab = m->per_layer_token_embd;
        if (e->ple_on_host) { /* this step's table rows, straight from the file */
            const uint64_t row = rl_row_bytes(tab->type, tab->ne[0]);
            for (int t = 0; t < T; t++)
                if ((s = rl_gdev_upload(e->dev, e->mf.fd, e->mf.gguf->data_offset + tab->offset + (uint64_t)tokens[t] * row,
                                        (uint32_t)row, e->b_ple_rows, (uint64_t)t * row, err)))
                    return s;
        }
        if ((s = gpu_matmul(e, m->per_layer_model_proj, LP, (act){e->b_h, 0, D}, (act){e->b_ple, 0, LP}, T, 0, NULL,
                            err)))
            return s;
        ple_params pp = {(uint32_t)m->ple_dim,   (uint32_t)m->n_layer,
                         e->ple_rows_per_chunk,  gpu_vec_off(e, m->per_layer_proj_norm),
                         1.0f / sqrtf((float)D), sqrtf((float)m->ple_dim),
                         1.0f / sqrtf(2.0f),     m->eps};
        rl_gbind b[7] = {{e->ple_on_host ? e->b_ple_rowids : e->b_ids, 0, 0},
                         {e->vec_buf, 0, 0},
                         {e->b_ple, 0, 0},
                         {e->ple_chunk[0], 0, 0}, {e->ple_chunk[1], 0, 0}, {e->ple_chunk[2], 0, 0},
                         {e->ple_chunk[3], 0, 0}};
        if ((s = rl_gdev_dispatch(e->dev, e->p_ple, &pp, b, (uint32_t)m->n_layer, (uint32_t)T, 1, err))) return s;
    }
    /* the first layer's attention norm: the prologue of its first mat-vec (one slot), else a pass
     * of its own; every later pre-norm rides on a residual */
    if (gpu_can_fuse_residual(e, T)) {
        e->pend = (gpu_prologue){NULL, NULL, m->layers[0].attn_norm};
    } else {
        norm_params np = {D, 1, 0, D, 0, D, gpu_vec_off(e, m->layers[0].attn_norm), 0, NF_WEIGHT, 0, 1, 0};
        if ((s = gpu_norm(e, e->b_h, e->b_xn, np, T, err))) return s;
    }
    for (int li = 0; li < m->n_layer; li++) {
        if ((s = gpu_layer(e, li, T, err))) return s;
        /* a prefill pass goes to the host in pieces, each submitted as it is handed over (js/gpu.mjs
         * eagerLists): the GPU runs the first layers while C records and the host encodes the rest. The
         * first piece is one layer, so the GPU starts early. (A decode step stays whole: replay copies it.) */
        if (T > 1 && e->prefill_lists > 1 && li + 1 < m->n_layer &&
            (li == 0 || (li + 1) % ((m->n_layer + e->prefill_lists - 1) / e->prefill_lists) == 0) &&
            (s = rl_gdev_submit(e->dev, err)))
            return s;
    }
    /* greedy: on through the LM head and the argmax passes (a greedy decode step's whole
     * recording but the pick's read, which lands at another address each step) */
    return greedy ? output_passes(e, T - 1, 1, 1, err) : RL_OK;
}

static rl_status step_body_record(rl_gpu_engine *e, const int32_t *tokens, int T, int greedy, rl_error *err) {
    const int cacheable = T == 1 && !e->ple_on_host && !e->no_replay; /* host-side PLE uploads depend on the token */
    if (!cacheable) return step_body_fresh(e, tokens, T, greedy, err);
    const uint64_t key = rl_gdev_hash(&greedy, sizeof greedy, gpu_attention_key(e, T));
    for (uint32_t i = 0; i < e->n_bodies; i++)
        if (e->bodies[i].key == key && e->bodies[i].h_in == e->b_h) {
            const step_body *b = &e->bodies[i];
            e->replays++;
            e->b_h = b->h_out; /* the swaps its fused residual steps made */
            e->b_h_alt = b->h_alt_out;
            e->dl = b->dl_out;
            return rl_gdev_replay(e->dev, b->words, b->n_words, b->n_dispatch, err);
        }
    const size_t from = rl_gdev_pending_words(e->dev);
    const uint32_t h_in = e->b_h;
    rl_status s = step_body_fresh(e, tokens, T, greedy, err);
    if (s) return s;
    step_body b = {key, h_in, e->b_h, e->b_h_alt, e->dl, NULL, 0, 0};
    err->code = RL_OK;
    b.words = rl_gdev_span_copy(e->dev, from, &b.n_words, &b.n_dispatch, err);
    if (!b.words) return err->code; /* not replayable: recorded fresh every time (RL_OK) */
    step_body *slot = &e->bodies[e->n_bodies < STEP_CACHE ? e->n_bodies++ : e->next_body++ % STEP_CACHE];
    free(slot->words);
    *slot = b;
    return RL_OK;
}

static rl_status eval_ubatch(rl_gpu_engine *e, const int32_t *tokens, int T, float *logits, int all_logits,
                             int32_t *argmax, int last, rl_error *err) {
    const rl_model *m = e->m;
    const uint32_t V = (uint32_t)m->n_vocab;
    rl_status s;
    const gpu_step st = {(uint32_t)e->n_past, (uint32_t)T, 0, 0};
    memcpy(e->step_rows, &st, sizeof st);
    rope_table(e, e->n_past, T);
    if ((s = rl_gdev_write(e->dev, e->b_step, 0, e->step_rows, e->rope_off + (uint32_t)(T * e->rt_stride * 4), err)))
        return s;
    if (tokens) {
        for (int t = 0; t < T; t++)
            e->ids_rows[t] = (uint32_t)tokens[t];
        if ((s = rl_gdev_write(e->dev, e->b_ids, 0, e->ids_rows, (uint32_t)T * 4, err))) return s;
    } /* else chained: the token is the previous pass's pick, which its argmax left in b_ids[0] */
    e->has_pick = 0;
    /* a greedy pass of one slot (decode) records its LM head and argmax with the body, for replay */
    const int greedy = T == 1 && last && argmax && !logits && !all_logits && !e->top_pairs;
    if ((s = step_body_record(e, tokens, T, greedy, err))) return s;
    /* outputs: every row (in chunks: the logits buffer holds LOGIT_ROWS rows), or the last row of the last pass */
    if (greedy) {
        if ((s = read_picks(e, 0, 1, argmax, err))) return s;
    } else if (all_logits) {
        for (int t0 = 0; t0 < T; t0 += LOGIT_ROWS) {
            const int n = T - t0 < LOGIT_ROWS ? T - t0 : LOGIT_ROWS;
            if ((s = output_rows(e, t0, n, logits ? logits + (size_t)t0 * V : NULL, argmax ? argmax + t0 : NULL, err)))
                return s;
            if (t0 + n < T && (s = rl_gdev_submit(e->dev, err))) return s; /* reads precede the buffer's reuse */
        }
    } else if (last && (logits || argmax || e->top_pairs)) {
        if ((s = output_rows(e, T - 1, 1, logits, argmax, err))) return s;
    }
    e->n_past += T;
    if (e->n_past > e->kv_hi) e->kv_hi = e->n_past;
    return rl_gdev_submit(e->dev, err);
}

/* After a pass failed midway: the cache ends where it began, and what was
 * recorded but not handed to the host is dropped (its reads point at the
 * caller's buffers; a half-recorded layer may have left a prologue pending). */
static void discard_pass(rl_gpu_engine *e, int start) {
    e->n_past = start;
    e->pend = (gpu_prologue){NULL, NULL, NULL};
    e->dl.buf = 0;
    rl_gdev_discard(e->dev);
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
        rl_status s =
            eval_ubatch(e, tokens + t0, T, logits_out && all_logits ? logits_out + (size_t)t0 * V : logits_out,
                        all_logits, argmax_out && all_logits ? argmax_out + t0 : argmax_out, t0 + T == n, err);
        if (s) {
            discard_pass(e, start);
            return s;
        }
    }
    return RL_OK;
}

rl_status rl_gpu_engine_eval_chained(rl_gpu_engine *e, int32_t *pick, int ahead, rl_error *err) {
    if (ahead < 1 || ahead > RL_GPU_AHEAD_MAX)
        return rl_fail(err, RL_ERR_INVALID, "chained decode: %d flushes ahead is outside [1, %d]", ahead, RL_GPU_AHEAD_MAX);
    if (e->ple_on_host) return rl_fail(err, RL_ERR_UNSUPPORTED, "chained decode needs the per-layer table on the GPU");
    if (!e->has_pick) return rl_fail(err, RL_ERR_INVALID, "chained decode: the last pass made no greedy pick");
    if (e->n_past + 1 > e->n_ctx)
        return rl_fail(err, RL_ERR_LIMIT, "context full: %d positions cached, context size %d", e->n_past, e->n_ctx);
    const int start = e->n_past;
    rl_status s;
    if ((s = rl_gdev_ahead(e->dev, (uint32_t)ahead, err)) || (s = eval_ubatch(e, NULL, 1, NULL, 0, pick, 1, err)))
        discard_pass(e, start);
    return s;
}

rl_status rl_gpu_engine_eval_top(rl_gpu_engine *e, const int32_t *tokens, int n, int k, float *vals, int32_t *ids,
                                 rl_error *err) {
    if (k < 1 || k > RL_GPU_TOP_K_MAX) return rl_fail(err, RL_ERR_INVALID, "top-k of %d is outside [1, %d]", k, RL_GPU_TOP_K_MAX);
    e->top_k = (uint32_t)k;
    e->top_pairs = e->top_buf;
    e->top_vals = vals;
    e->top_ids = ids;
    rl_status s = rl_gpu_engine_eval(e, tokens, n, NULL, 0, NULL, err);
    e->top_pairs = NULL;
    return s;
}

int rl_gpu_engine_take_top(rl_gpu_engine *e) {
    int m = 0;
    for (uint32_t i = 0; i < e->top_k; i++) {
        if (e->top_buf[2 * i + 1] == 0xffffffffu) break;
        memcpy(&e->top_vals[m], &e->top_buf[2 * i], sizeof(float));
        e->top_ids[m++] = (int32_t)e->top_buf[2 * i + 1];
    }
    return m;
}
