/* The kernel table: one row per WGSL kernel. Variants (types, workgroup sizes,
 * subgroups) are defines passed with a row, never copies of it. */
#include "gpu/device.h"

#define U RL_BIND_UNIFORM
#define R RL_BIND_STORAGE_RO
#define W RL_BIND_STORAGE_RW

static const rl_kernel kernels[K_COUNT] = {
    [K_NORM] = {"norm", {"common.wgsl", "reduce.wgsl", "norm.wgsl"}, {U, R, R, W, W}, 5, 48},
    /* ... also writing its output's limbs for the integer matmul (LIMBS): XL, XF */
    [K_NORM_LIMBS] = {"norm", {"common.wgsl", "reduce.wgsl", "limbs.wgsl", "limbs_put.wgsl", "norm.wgsl"}, {U, R, R, W, W, W, W}, 7, 48},
    [K_ATTN_PREP] = {"attn_prep", {"common.wgsl", "reduce.wgsl", "attn_prep.wgsl"}, {U, R, W, R, R, W, W}, 7, 64},
    /* prefill: a block of query tokens per workgroup, each K/V block loaded once for all of them */
    [K_ATTENTION_TILED] = {"attention_tiled", {"common.wgsl", "attn_io.wgsl", "attention_tiled.wgsl"}, {U, R, R, R, R, W, W}, 7, 80},
    [K_ATTN_DECODE] = {"attn_decode", {"common.wgsl", "attn_io.wgsl", "attn_decode.wgsl"}, {U, R, R, R, R, W, W}, 7, 80},
    /* ... preparing q, k, v itself (PREP): the caches written, norm weights and RoPE table read */
    [K_ATTN_DECODE_PREP] = {"attn_decode", {"common.wgsl", "attn_io.wgsl", "attn_decode.wgsl"}, {U, R, R, W, W, W, W, R, R}, 9, 80},
    [K_ATTN_COMBINE] = {"attn_combine", {"common.wgsl", "reduce.wgsl", "attn_combine.wgsl"}, {U, R, W}, 3, 16},
    [K_GLU] = {"glu", {"common.wgsl", "glu.wgsl"}, {U, R, W}, 3, 32},
    [K_PLE] = {"ple", {"common.wgsl", "reduce.wgsl", "ple.wgsl"}, {U, R, R, W, R, R, R, R}, 8, 32},
    [K_ARGMAX] = {"argmax", {"common.wgsl", "argmax.wgsl"}, {U, R, W, W, W}, 5, 32},
    /* quant*.wgsl@2: a second weight type's functions, with TYPE2_<T> (TWO_TYPES) */
    [K_MATVEC] = {"matvec", {"common.wgsl", "quant.wgsl", "quant_chunk.wgsl", "weight_op.wgsl", "matvec.wgsl", "quant.wgsl@2", "quant_chunk.wgsl@2"}, {U, R, R, W}, 4, 64},
    /* the same mat-vec with a GeGLU epilogue: Y = gelu(W x) * B (the per-layer-embedding gate) */
    [K_MATVEC_GEGLU] = {"matvec", {"common.wgsl", "quant.wgsl", "quant_chunk.wgsl", "weight_op.wgsl", "matvec.wgsl"}, {U, R, R, W, R}, 5, 64},
    /* ... with the residual step before it as its prologue (PRO_RES): B (GeGLU or unused), HIN, PV, HOUT, UOUT */
    [K_MATVEC_RES] = {"matvec", {"common.wgsl", "quant.wgsl", "quant_chunk.wgsl", "weight_op.wgsl", "limbs.wgsl", "matvec.wgsl", "quant.wgsl@2", "quant_chunk.wgsl@2"}, {U, R, R, W, R, R, R, W, W}, 9, 64},
    /* ... with x as int8 limbs its producer wrote (IDOT XLIMBS): XL, XF */
    [K_MATVEC_XL] = {"matvec", {"common.wgsl", "quant.wgsl", "quant_chunk.wgsl", "weight_op.wgsl", "limbs.wgsl", "matvec.wgsl"}, {U, R, R, W, R, R}, 6, 64},
    [K_MATMUL] = {"matmul", {"quant.wgsl", "weight_op.wgsl", "tile_fetch.wgsl", "matmul.wgsl"}, {U, R, R, W}, 4, 64},
    /* prefill on integer tensor cores: activations as three int8 limbs, then the product */
    [K_ACT_LIMBS] = {"act_limbs", {"common.wgsl", "reduce.wgsl", "limbs.wgsl", "limbs_put.wgsl", "act_limbs.wgsl"}, {U, R, W, W}, 4, 32},
    /* ... of a GeGLU's output, made on the way (GLU): gelu(gate) * B */
    [K_ACT_LIMBS_GLU] = {"act_limbs", {"common.wgsl", "reduce.wgsl", "limbs.wgsl", "limbs_put.wgsl", "act_limbs.wgsl"}, {U, R, W, W, R}, 5, 32},
    [K_MATMUL_SMX] = {"matmul_smx", {"matmul_smx.wgsl", "limbs.wgsl"}, {U, R, R, R, W}, 5, 48},
    /* load: quantized matrices as 16-bit integer rows in int8 fragment tiles, for matmul_smx */
    [K_SPLIT_SUM] = {"split_sum", {"split_sum.wgsl"}, {U, R, W}, 3, 32},
    [K_SMX_PACK] = {"smx_pack", {"common.wgsl", "reduce.wgsl", "quant.wgsl", "smx_pack.wgsl"}, {U, R, W}, 3, 32},
    [K_GET_ROWS] = {"get_rows", {"quant.wgsl", "get_rows.wgsl"}, {U, R, R, W}, 4, 48},
    [K_MOE_ROUTE] = {"moe_route", {"common.wgsl", "reduce.wgsl", "moe_route.wgsl"}, {U, R, R, W, W}, 5, 32},
    [K_MOE_MATVEC] = {"moe_matvec", {"quant.wgsl", "moe_matvec.wgsl"}, {U, R, R, W, R}, 5, 48},
    [K_MOE_COMBINE] = {"moe_combine", {"common.wgsl", "reduce.wgsl", "moe_combine.wgsl"}, {U, R, R, R, W}, 5, 32},
    [K_TOPK] = {"topk", {"common.wgsl", "topk.wgsl"}, {U, R, W, W}, 4, 32},
    /* load: Q6_K blocks padded to 224 bytes (quant.wgsl Q6K_PAD) */
    [K_REPACK_Q6K] = {"repack_q6k", {"repack.wgsl"}, {U, R, W}, 3, 16},
};

const rl_kernel *rl_kernel_get(rl_kernel_id id) { return id < K_COUNT ? &kernels[id] : 0; }
