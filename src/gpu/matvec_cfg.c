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

/* Tuned on an H100 (132 SMs, docs/PERF.md); harmless on small GPUs.
 * MV_XS_MAX: x tiles up to 32 KiB (8192 columns of one token in one tile). */
enum { MV_MAX_STEPS = 4, MV_MIN_THREADS = 65536, MV_MIN_GROUPS = 256, MV_WG = 256, MV_MIN_WG = 32,
       MV_XS_MAX = 32768 };

void rl_matvec_config(uint32_t type, uint32_t rows, uint32_t cols, uint32_t n_tok, const rl_gpu_caps *caps,
                      rl_matvec_variant *v) {
    const uint32_t nt = rl_matvec_nt(n_tok), t = nt ? nt : 1;
    uint32_t ch = rl_matvec_chunk(type), max_wg = caps && caps->max_invocations ? caps->max_invocations : 256;
    if (max_wg > 256) max_wg = 256;
    uint32_t nch = ch ? (cols + ch - 1) / ch : 1;
    if (!nch) nch = 1;
    if (!rows) rows = 1;
    const uint32_t rpt = t == 1 ? 2 : 1;
    uint32_t tpr = pow2_ceil((nch + MV_MAX_STEPS - 1) / MV_MAX_STEPS);
    /* few rows: more threads per row, down to one chunk per thread */
    while ((uint64_t)(rows + rpt - 1) / rpt * tpr < MV_MIN_THREADS && tpr < nch && tpr < max_wg) tpr <<= 1;
    if (tpr > max_wg) tpr = max_wg;
    uint32_t w = MV_WG > max_wg ? max_wg : MV_WG;
    if (w < tpr) w = tpr;
    /* few rows: fewer rows per workgroup, keeping at least MV_MIN_WG threads */
    while (w > tpr && w > MV_MIN_WG && (rows + w / tpr * rpt - 1) / (w / tpr * rpt) < MV_MIN_GROUPS) w >>= 1;
    v->wg = w;
    v->rpt = rpt;
    v->rows = w / tpr * rpt;
    v->nt = nt;
    /* x tiles: a power of two of at least 256 columns (few distinct variants),
     * up to MV_XS_MAX bytes and next to the reduction array (WG * NT floats) */
    uint32_t mem = caps && caps->max_wg_storage ? caps->max_wg_storage : 16384;
    const uint32_t red = w * t * 4;
    mem = mem > red ? mem - red : 0;
    if (mem > MV_XS_MAX) mem = MV_XS_MAX;
    uint32_t kt = pow2_ceil(cols < 256 ? 256 : cols);
    while (kt > 256 && kt * t * 4 > mem) kt >>= 1;
    if (kt * t * 4 > mem) kt = 0;
    v->xs = kt * t;
}

/* Matmul tiles, best first by arithmetic per workgroup-memory read; EFF: their
 * relative speed per busy SM (H100 measurements, docs/PERF.md). */
enum { MM_SMS = 132 };
static const struct {
    uint8_t tm, tn, eff;
} mm_tiles[] = {{8, 8, 100}, {8, 4, 80}, {4, 8, 80}, {4, 4, 60}};

void rl_matmul_config(uint32_t rows, uint32_t n_tok, const rl_gpu_caps *caps, uint32_t *tm, uint32_t *tn,
                      uint32_t *bk) {
    uint32_t mem = caps && caps->max_wg_storage ? caps->max_wg_storage : 16384;
    if (!rows) rows = 1;
    if (!n_tok) n_tok = 1;
    size_t n = sizeof mm_tiles / sizeof mm_tiles[0], pick = n - 1;
    double best = 0;
    for (size_t i = 0; i < n; i++) {
        const uint32_t bm = 16u * mm_tiles[i].tm, bn = 16u * mm_tiles[i].tn;
        if ((bm + bn) * 8 * 4 > mem) continue;
        /* useful work over work done: partial tiles, and the last partial wave of workgroups */
        const uint64_t gm = (rows + bm - 1) / bm, gn = (n_tok + bn - 1) / bn, groups = gm * gn;
        const uint64_t waves = (groups + MM_SMS - 1) / MM_SMS;
        const double use = (double)rows * n_tok / ((double)gm * bm * gn * bn), fill = (double)groups / (waves * MM_SMS);
        const double score = mm_tiles[i].eff * use * fill;
        if (score > best * 1.02) best = score, pick = i;
    }
    uint32_t t_m = mm_tiles[pick].tm, t_n = mm_tiles[pick].tn, k = 32;
    while (k > 8 && (16u * t_m + 16u * t_n) * k * 4 > mem) k >>= 1;
    *tm = t_m;
    *tn = t_n;
    *bk = k;
}
