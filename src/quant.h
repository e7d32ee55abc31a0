/* ggml tensor types: block layouts, dequantization, fused dot products and
 * quantizers. Dequantization is bit-exact with ggml's definitions. Dot products
 * multiply exactly dequantized weights by f32 activations (no activation
 * quantization), accumulating in f32. One table row per type. */
#ifndef RL_QUANT_H
#define RL_QUANT_H

#include <stddef.h>
#include <stdint.h>

/* ggml type ids as stored in GGUF tensor infos. */
typedef enum {
    RL_TYPE_F32 = 0, RL_TYPE_F16 = 1, RL_TYPE_Q4_0 = 2, RL_TYPE_Q4_1 = 3,
    RL_TYPE_Q5_0 = 6, RL_TYPE_Q5_1 = 7, RL_TYPE_Q8_0 = 8, RL_TYPE_Q8_1 = 9,
    RL_TYPE_Q2_K = 10, RL_TYPE_Q3_K = 11, RL_TYPE_Q4_K = 12, RL_TYPE_Q5_K = 13,
    RL_TYPE_Q6_K = 14, RL_TYPE_Q8_K = 15, RL_TYPE_I8 = 24, RL_TYPE_I16 = 25,
    RL_TYPE_I32 = 26, RL_TYPE_I64 = 27, RL_TYPE_F64 = 28, RL_TYPE_BF16 = 30,
    RL_TYPE_COUNT_MAX = 64
} rl_type;

typedef struct {
    const char *name;     /* "Q4_K" */
    uint32_t block_size;  /* elements per block */
    uint32_t type_size;   /* bytes per block */
    /* Row operations; NULL where the engine does not support the type for compute. */
    void (*dequant)(const void *src, float *dst, size_t n);                 /* n % block_size == 0 */
    float (*dot)(const void *row, const float *x, size_t n);                /* sum_i w_i * x_i */
    void (*quantize)(const float *src, void *dst, size_t n);                /* inverse (for tools/tests) */
} rl_type_info;

/* NULL for ids that are not a known ggml type (the GGUF reader uses only
 * name/block_size/type_size to size tensors; compute needs dequant/dot). */
const rl_type_info *rl_type_get(uint32_t type);

/* Bytes for a row of n elements, or 0 if n is not a multiple of the block size. */
size_t rl_row_bytes(uint32_t type, uint64_t n);

/* Half-precision helpers (exact, round-to-nearest-even on the way down). */
float rl_f16_to_f32(uint16_t h);
uint16_t rl_f32_to_f16(float f);
float rl_bf16_to_f32(uint16_t h);
uint16_t rl_f32_to_bf16(float f); /* round to nearest even, NaN preserved */

#endif
