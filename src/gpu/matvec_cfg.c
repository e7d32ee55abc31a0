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

/* Tuned for a large discrete GPU (H100: 132 SMs); harmless on small ones. */
enum { MV_MAX_STEPS = 4, MV_MIN_THREADS = 65536, MV_MIN_GROUPS = 256, MV_WG = 128, MV_MIN_WG = 32 };

void rl_matvec_config(uint32_t type, uint32_t rows, uint32_t cols, uint32_t n_tok, const rl_gpu_caps *caps,
                      uint32_t *wg, uint32_t *rows_per_wg) {
    (void)n_tok;
    uint32_t ch = rl_matvec_chunk(type), max_wg = caps && caps->max_invocations ? caps->max_invocations : 256;
    if (max_wg > 256) max_wg = 256;
    uint32_t nch = ch ? (cols + ch - 1) / ch : 1;
    if (!nch) nch = 1;
    uint32_t tpr = pow2_ceil((nch + MV_MAX_STEPS - 1) / MV_MAX_STEPS);
    /* few rows: more threads per row, down to one chunk per thread */
    while ((uint64_t)rows * tpr < MV_MIN_THREADS && tpr < nch && tpr < max_wg) tpr <<= 1;
    if (tpr > max_wg) tpr = max_wg;
    uint32_t w = MV_WG > max_wg ? max_wg : MV_WG;
    if (w < tpr) w = tpr;
    /* few rows: fewer rows per workgroup, keeping at least MV_MIN_WG threads */
    while (w > tpr && w > MV_MIN_WG && (rows + w / tpr - 1) / (w / tpr) < MV_MIN_GROUPS) w >>= 1;
    *wg = w;
    *rows_per_wg = w / tpr;
}

uint32_t rl_matvec_nt(uint32_t n_tok) {
    if (n_tok <= 1) return 1;
    if (n_tok <= 2) return 2;
    if (n_tok <= 4) return 4;
    return n_tok <= 8 ? 8 : 0;
}

enum { MM_MIN_GROUPS = 132 }; /* about one workgroup per SM of an H100: to be tuned */

void rl_matmul_config(uint32_t rows, uint32_t n_tok, const rl_gpu_caps *caps, uint32_t *tm, uint32_t *tn,
                      uint32_t *bk) {
    /* largest tiles first; 2 x 1 is the floor (1 x 1 is load-bound) */
    static const uint8_t tiles[][2] = {{8, 8}, {8, 4}, {4, 4}, {4, 2}, {2, 2}, {2, 1}};
    uint32_t mem = caps && caps->max_wg_storage ? caps->max_wg_storage : 16384;
    size_t n = sizeof tiles / sizeof tiles[0], pick = n - 1;
    for (size_t i = 0; i < n; i++) {
        uint32_t bm = 16u * tiles[i][0], bn = 16u * tiles[i][1];
        uint64_t groups = (uint64_t)((rows + bm - 1) / bm) * ((n_tok + bn - 1) / bn);
        if (bn / 2 >= n_tok && tiles[i][1] > 1) continue; /* half the tile would hold every token */
        if ((bm + bn) * (8 + 4) * 4 > mem) continue;
        pick = i;
        if (groups >= MM_MIN_GROUPS) break;
    }
    uint32_t t_m = tiles[pick][0], t_n = tiles[pick][1], k = 32;
    while (k > 8 && (16u * t_m + 16u * t_n) * (k + 4) * 4 > mem) k >>= 1;
    *tm = t_m;
    *tn = t_n;
    *bk = k;
}
