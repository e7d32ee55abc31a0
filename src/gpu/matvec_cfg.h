/* Variant choice for the weight kernels (kernels/matvec.wgsl, kernels/matmul.wgsl):
 * the compile-time defines that suit a matrix shape on a device. Pure
 * functions of their arguments; the planner turns the results into defines
 * ("WG=128", "ROWS=8", "NT=1", ...) and dispatch grids (see the kernel files). */
#ifndef RL_GPU_MATVEC_CFG_H
#define RL_GPU_MATVEC_CFG_H

#include <stdint.h>

#include "gpu/gpu_abi.h"

/* Elements one mat-vec thread dequantizes per step (CH in kernels/quant_chunk.wgsl);
 * 0 for types the kernels do not handle. */
uint32_t rl_matvec_chunk(uint32_t type);

/* WG (threads per workgroup) and ROWS (rows per workgroup) for a rows x cols
 * mat-vec of `type`. WG / ROWS threads share a row, enough that each does at
 * most 4 chunks, more while the whole grid has few threads. */
void rl_matvec_config(uint32_t type, uint32_t rows, uint32_t cols, uint32_t n_tok, const rl_gpu_caps *caps,
                      uint32_t *wg, uint32_t *rows_per_wg);

/* NT define for n_tok tokens: 1, 2, 4 or 8; 0 when n_tok > 8 (use the matmul). */
uint32_t rl_matvec_nt(uint32_t n_tok);

/* TM, TN (per-thread tile, workgroup tile 16*TM x 16*TN) and BK for the
 * prefill matmul: the largest tile (not much wider than n_tok) that still gives
 * the grid about one workgroup per SM of a large GPU, else the smallest, and
 * the largest K step whose tiles fit the workgroup memory. */
void rl_matmul_config(uint32_t rows, uint32_t n_tok, const rl_gpu_caps *caps, uint32_t *tm, uint32_t *tn,
                      uint32_t *bk);

#endif
