/* Variant choice for the weight kernels (kernels/matvec.wgsl, kernels/matmul.wgsl):
 * the compile-time defines that suit a matrix shape on a device. Pure
 * functions of their arguments; the planner turns the results into defines
 * ("WG=256", "ROWS=32", "RPT=2", "XS=1536", "NT=1", ...) and dispatch grids
 * (see the kernel files). */
#ifndef RL_GPU_MATVEC_CFG_H
#define RL_GPU_MATVEC_CFG_H

#include <stdint.h>

#include "gpu/gpu_abi.h"

/* Elements one mat-vec thread dequantizes per step (CH in kernels/quant_chunk.wgsl);
 * 0 for types the kernels do not handle. */
uint32_t rl_matvec_chunk(uint32_t type);

/* STEPS for cols of `type` with tpr threads per row: the chunks one thread takes. */
uint32_t rl_matvec_steps(uint32_t type, uint32_t cols, uint32_t tpr);

/* A mat-vec variant: the defines of kernels/matvec.wgsl. */
typedef struct {
    uint32_t wg;   /* WG: threads per workgroup */
    uint32_t rows; /* ROWS: rows per workgroup (grid: ceil(rows / ROWS) workgroups) */
    uint32_t rpt;  /* RPT: rows per thread */
    uint32_t xs;   /* XS: floats of x staged in workgroup memory; 0 = none */
    uint32_t nt;   /* NT: tokens (1, 2, 4, 8) */
    uint32_t lc;   /* LC: threads of a row side by side (divides the threads per row) */
    uint32_t steps; /* STEPS: chunks per thread, unrolled (0: a plain loop; always with XS tiles) */
    uint32_t wvec; /* WVEC: 16-byte weight loads (the binding must be whole 16-byte words) */
} rl_matvec_variant;

/* The variant for a rows x cols mat-vec of `type` over n_tok (1..8) tokens:
 * WG * RPT / ROWS threads per row (enough that each does a few chunks of its
 * rows, more while the grid is small); tall matrices take two rows per thread
 * and, for several tokens, stage x in workgroup memory. v->nt = 0 when n_tok > 8. */
void rl_matvec_config(uint32_t type, uint32_t rows, uint32_t cols, uint32_t n_tok, const rl_gpu_caps *caps,
                      rl_matvec_variant *v);

/* The same with the most chunks per thread and the fewest threads a matrix gets set (0: the
 * planner's, MV_MAX_STEPS and MV_MIN_THREADS; for A/B runs). */
void rl_matvec_config_steps(uint32_t type, uint32_t rows, uint32_t cols, uint32_t n_tok, const rl_gpu_caps *caps,
                            uint32_t max_steps, uint32_t min_threads, rl_matvec_variant *v);

/* NT define for n_tok tokens: 1, 2, 4 or 8; 0 when n_tok > 8 (use the matmul). */
uint32_t rl_matvec_nt(uint32_t n_tok);

/* TM, TN (per-thread tile, workgroup tile 16*TM x 16*TN) and BK for the
 * prefill matmul (kernels/matmul.wgsl): the preferred tile (4 x 8) unless the
 * tokens fill less than half of it or the grid gets small, and the largest
 * K step whose tiles fit the workgroup memory. */
void rl_matmul_config(uint32_t rows, uint32_t n_tok, const rl_gpu_caps *caps, uint32_t min_groups, uint32_t *tm,
                      uint32_t *tn, uint32_t *bk); /* min_groups: 0 = MM_MIN_GROUPS */

#endif
