/* ggml type table. Sizes follow ggml-common.h; compute functions are filled in
 * per type (see the row functions below). */
#include "quant.h"

#include <string.h>

static const rl_type_info types[RL_TYPE_COUNT_MAX] = {
    [RL_TYPE_F32] = {"F32", 1, 4, NULL, NULL, NULL},
    [RL_TYPE_F16] = {"F16", 1, 2, NULL, NULL, NULL},
    [RL_TYPE_Q4_0] = {"Q4_0", 32, 18, NULL, NULL, NULL},
    [RL_TYPE_Q4_1] = {"Q4_1", 32, 20, NULL, NULL, NULL},
    [RL_TYPE_Q5_0] = {"Q5_0", 32, 22, NULL, NULL, NULL},
    [RL_TYPE_Q5_1] = {"Q5_1", 32, 24, NULL, NULL, NULL},
    [RL_TYPE_Q8_0] = {"Q8_0", 32, 34, NULL, NULL, NULL},
    [RL_TYPE_Q8_1] = {"Q8_1", 32, 36, NULL, NULL, NULL},
    [RL_TYPE_Q2_K] = {"Q2_K", 256, 84, NULL, NULL, NULL},
    [RL_TYPE_Q3_K] = {"Q3_K", 256, 110, NULL, NULL, NULL},
    [RL_TYPE_Q4_K] = {"Q4_K", 256, 144, NULL, NULL, NULL},
    [RL_TYPE_Q5_K] = {"Q5_K", 256, 176, NULL, NULL, NULL},
    [RL_TYPE_Q6_K] = {"Q6_K", 256, 210, NULL, NULL, NULL},
    [RL_TYPE_Q8_K] = {"Q8_K", 256, 292, NULL, NULL, NULL},
    [RL_TYPE_I8] = {"I8", 1, 1, NULL, NULL, NULL},
    [RL_TYPE_I16] = {"I16", 1, 2, NULL, NULL, NULL},
    [RL_TYPE_I32] = {"I32", 1, 4, NULL, NULL, NULL},
    [RL_TYPE_I64] = {"I64", 1, 8, NULL, NULL, NULL},
    [RL_TYPE_F64] = {"F64", 1, 8, NULL, NULL, NULL},
    [RL_TYPE_BF16] = {"BF16", 1, 2, NULL, NULL, NULL},
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
