/* ggml type table: one row per type. Sizes follow ggml-common.h; the row
 * functions live in quant_float.c (F32/F16/BF16), quant_legacy.c (Q4_0..Q8_0),
 * quant_k.c (K-quants) and quant_make*.c (quantizers). Q8_1/Q8_K are only
 * activation formats in ggml and never weights here, so they are sized only. */
#include "quant.h"
#include "quant_rows.h"

#include <string.h>

#define ROW(t) quant_##t##_dequant, quant_##t##_dot, quant_##t##_quantize

static const rl_type_info types[RL_TYPE_COUNT_MAX] = {
    [RL_TYPE_F32] = {"F32", 1, 4, ROW(f32)},
    [RL_TYPE_F16] = {"F16", 1, 2, ROW(f16)},
    [RL_TYPE_Q4_0] = {"Q4_0", 32, 18, ROW(q4_0)},
    [RL_TYPE_Q4_1] = {"Q4_1", 32, 20, ROW(q4_1)},
    [RL_TYPE_Q5_0] = {"Q5_0", 32, 22, ROW(q5_0)},
    [RL_TYPE_Q5_1] = {"Q5_1", 32, 24, ROW(q5_1)},
    [RL_TYPE_Q8_0] = {"Q8_0", 32, 34, ROW(q8_0)},
    [RL_TYPE_Q8_1] = {"Q8_1", 32, 36, NULL, NULL, NULL},
    [RL_TYPE_Q2_K] = {"Q2_K", 256, 84, ROW(q2_k)},
    [RL_TYPE_Q3_K] = {"Q3_K", 256, 110, ROW(q3_k)},
    [RL_TYPE_Q4_K] = {"Q4_K", 256, 144, ROW(q4_k)},
    [RL_TYPE_Q5_K] = {"Q5_K", 256, 176, ROW(q5_k)},
    [RL_TYPE_Q6_K] = {"Q6_K", 256, 210, ROW(q6_k)},
    [RL_TYPE_Q8_K] = {"Q8_K", 256, 292, NULL, NULL, NULL},
    [RL_TYPE_I8] = {"I8", 1, 1, NULL, NULL, NULL},
    [RL_TYPE_I16] = {"I16", 1, 2, NULL, NULL, NULL},
    [RL_TYPE_I32] = {"I32", 1, 4, NULL, NULL, NULL},
    [RL_TYPE_I64] = {"I64", 1, 8, NULL, NULL, NULL},
    [RL_TYPE_F64] = {"F64", 1, 8, NULL, NULL, NULL},
    [RL_TYPE_BF16] = {"BF16", 1, 2, ROW(bf16)},
};

const rl_type_info *rl_type_get(uint32_t type) {
    if (type >= RL_TYPE_COUNT_MAX || !types[type].name) return NULL;
    return &types[type];
}

size_t rl_row_bytes(uint32_t type, uint64_t n) {
    const rl_type_info *t = rl_type_get(type);
    if (!t || n % t->block_size) return 0;
    return (size_t)(n / t->block_size * t->type_size);
}
