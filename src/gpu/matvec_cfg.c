#include "gpu/matvec_cfg.h"

#include "quant.h"

uint32_t rl_matvec_chunk(uint32_t type) {
    switch (type) {
    case RL_TYPE_F32: case RL_TYPE_F16: case RL_TYPE_BF16: return 4;
    case RL_TYPE_Q8_0: return 16;
    case RL_TYPE_Q4_0: case RL_TYPE_Q4_1: case RL_TYPE_Q5_0: case RL_TYPE_Q5_1: return 32;
    case RL_TYPE_Q4_K: case RL_TYPE_Q5_K: return 32;
    case RL_TYPE_Q2_K: case RL_TYPE_Q3_K: case RL_TYPE_Q6_K: return 64;
    default: return 0;
    }
}

static uint32_t pow2_ceil(uint32_t v) {
    uint32_t p = 1;
    while (p < v && p < (1u << 31)) p <<= 1;
    return p;
}

uint32_t rl_matvec_nt(uint32_t n_tok) {
    if (n_tok <= 1) return 1;
    if (n_tok <= 2) return 2;
    if (n_tok <= 4) return 4;
    return n_tok <= 8 ? 8 : 0;
}

/* Tuned on an H100/H200 (132 SMs; docs/PERF.md "Weight kernels"); harmless on
 * small GPUs. Threads per row: enough that each does at most MV_MAX_STEPS
 * chunks, more while the grid has few threads. 8 steps measured 1-1.5% faster end
 * to end than 4 on e2b's decode, 1 or 2 steps (more threads) 5-10% slower
 * (RULLAMA_TUNE=steps=, docs/PERF.md, third session); huge matrices (the LM head)
 * and very long rows had taken 8 before: 4 threads of 6 chunks beat 8 of 3 on the
 * H100's 262144-row Q6_K head (177 vs 275 us), 64 threads of 6 chunks beat 128 of 3
 * on 1536x12288 Q4_K (17.7 vs 26.9 us).
 * Tall matrices (MV_TALL up to MV_HUGE rows: e2b's fused gate|up) take two rows
 * per thread in workgroups of MV_WG_TALL (128 measured 60 vs 84 us against 256
 * on 24576x1536): twice the loads in flight per thread; with several tokens they
 * also stage x in workgroup memory (their x reads, 4 bytes per token per
 * weight, dominate). Both lost on shorter matrices (fewer workgroups than
 * SMs) and on the LM head (already 1.2 TB/s; no gain measured). */
/* LC: runs of MV_LC threads per row read MV_LC x 16 bytes of it, and a warp
 * covers 32 / MV_LC rows that share their x loads. 4 measured 2-3% faster
 * end to end than 8 or all threads of a row side by side (docs/PERF.md). */
enum { MV_LC = 4 };
/* STEPS (the unrolled chunk loop) measured 2-3% slower end to end on the H100 in
 * two A/B pairs (docs/PERF.md): off, available to RULLAMA_TUNE=unroll=1. */
enum { MV_UNROLL = 0 };

uint32_t rl_matvec_steps(uint32_t type, uint32_t cols, uint32_t tpr) {
    const uint32_t ch = rl_matvec_chunk(type);
    if (!ch || !tpr) return 0;
    return ((cols + ch - 1) / ch + tpr - 1) / tpr;
}
enum { MV_MAX_STEPS = 8, MV_MIN_THREADS = 65536, MV_MIN_GROUPS = 256, MV_WG = 128, MV_MIN_WG = 32,
       MV_TALL = 8192, MV_HUGE = 65536, MV_WG_TALL = 128, MV_TPR_TALL = 16, MV_XS_MAX = 32768 };

void rl_matvec_config(uint32_t type, uint32_t rows, uint32_t cols, uint32_t n_tok, const rl_gpu_caps *caps,
                      rl_matvec_variant *v) {
    rl_matvec_config_steps(type, rows, cols, n_tok, caps, 0, 0, v);
}

void rl_matvec_config_steps(uint32_t type, uint32_t rows, uint32_t cols, uint32_t n_tok, const rl_gpu_caps *caps,
                            uint32_t max_steps, uint32_t min_threads, rl_matvec_variant *v) {
    const uint32_t nt = rl_matvec_nt(n_tok), t = nt ? nt : 1;
    uint32_t ch = rl_matvec_chunk(type), max_wg = caps && caps->max_invocations ? caps->max_invocations : 256;
    if (max_wg > 256) max_wg = 256;
    uint32_t nch = ch ? (cols + ch - 1) / ch : 1;
    if (!nch) nch = 1;
    if (!rows) rows = 1;
    const uint32_t steps = max_steps ? max_steps : MV_MAX_STEPS;
    uint32_t tpr = pow2_ceil((nch + steps - 1) / steps);
    /* few rows: more threads per row, down to one chunk per thread */
    const uint64_t few = min_threads ? min_threads : MV_MIN_THREADS;
    while ((uint64_t)rows * tpr < few && tpr < nch && tpr < max_wg) tpr <<= 1;
    if (tpr > max_wg) tpr = max_wg;
    const int tall = rows >= MV_TALL && rows < MV_HUGE && max_wg >= MV_WG_TALL;
    uint32_t rpt = 1, w = MV_WG > max_wg ? max_wg : MV_WG;
    if (tall) {
        rpt = 2, w = MV_WG_TALL;
        if (tpr > MV_TPR_TALL) tpr = MV_TPR_TALL;
    }
    if (w < tpr) w = tpr;
    /* few rows: fewer rows per workgroup, keeping at least MV_MIN_WG threads */
    while (w > tpr && w > MV_MIN_WG && (rows + w / tpr * rpt - 1) / (w / tpr * rpt) < MV_MIN_GROUPS) w >>= 1;
    v->wg = w;
    v->rpt = rpt;
    v->rows = w / tpr * rpt;
    v->nt = nt;
    v->lc = tpr < MV_LC ? tpr : MV_LC;
    v->steps = MV_UNROLL ? rl_matvec_steps(type, cols, tpr) : 0;
    v->wvec = 1;
    v->xs = 0;
    if (!tall || t == 1) return;
    /* x tiles: a power of two of at least 256 columns (few distinct variants),
     * up to MV_XS_MAX bytes and next to the reduction array (WG * NT floats) */
    uint32_t mem = caps && caps->max_wg_storage ? caps->max_wg_storage : 16384;
    const uint32_t red = w * t * 4;
    mem = mem > red ? mem - red : 0;
    if (mem > MV_XS_MAX) mem = MV_XS_MAX;
    uint32_t kt = pow2_ceil(cols < 256 ? 256 : cols);
    while (kt > 256 && kt * t * 4 > mem) kt >>= 1;
    v->xs = kt * t * 4 <= mem ? kt * t : 0;
    if (v->xs) v->steps = 0; /* tiles walk their own chunk loop */
}

/* Matmul tiles (kernels/matmul.wgsl), in order of preference: 4 x 8 (64 rows x
 * 128 tokens) measured fastest on an H100/H200 for every e2b shape, with K steps
 * of 32 (half the barriers of 16: a 512-token e2b prefill 103.9 → 96-99 ms on an
 * H100, Q6_K matmuls 17.4 → 13.6 ms; 16 where the 27.6 KB do not fit); 8 x 8
 * keeps its 64 accumulators in an array the driver's compiler leaves in local
 * memory (1-2 TFLOP/s), so it is never chosen. A tile is skipped while half of
 * it would hold every token; the first one whose grid has MM_MIN_GROUPS
 * workgroups wins, else the last one not skipped. */
enum { MM_MIN_GROUPS = 96 };
static const uint8_t mm_tiles[][3] = {{4, 8, 32}, {8, 4, 16}, {4, 4, 32}, {4, 2, 32}, {2, 2, 32}, {2, 1, 32}};

void rl_matmul_config(uint32_t rows, uint32_t n_tok, const rl_gpu_caps *caps, uint32_t min_groups, uint32_t *tm,
                      uint32_t *tn, uint32_t *bk) {
    if (!min_groups) min_groups = MM_MIN_GROUPS;
    uint32_t mem = caps && caps->max_wg_storage ? caps->max_wg_storage : 16384;
    if (!rows) rows = 1;
    if (!n_tok) n_tok = 1;
    size_t n = sizeof mm_tiles / sizeof mm_tiles[0], pick = n - 1;
    for (size_t i = 0; i < n; i++) {
        const uint32_t bm = 16u * mm_tiles[i][0], bn = 16u * mm_tiles[i][1];
        const uint64_t groups = (uint64_t)((rows + bm - 1) / bm) * ((n_tok + bn - 1) / bn);
        if (bn / 2 >= n_tok && mm_tiles[i][1] > 1) continue; /* half the tile would hold every token */
        if ((bm + bn) * (8 + 4) * 4 > mem) continue;
        pick = i;
        if (groups >= min_groups) break;
    }
    uint32_t t_m = mm_tiles[pick][0], t_n = mm_tiles[pick][1], k = mm_tiles[pick][2];
    while (k > 8 && (16u * t_m + 16u * t_n) * (k + 4) * 4 > mem) k >>= 1;
    *tm = t_m;
    *tn = t_n;
    *bk = k;
}
