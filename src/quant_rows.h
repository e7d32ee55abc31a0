/* Row functions behind the rl_type_info table (src/quant.c). One set per ggml
 * type: dequant (bit-exact with ggml), dot (fused, f32 accumulation) and
 * quantize. Internal to the quant module; callers go through rl_type_get(). */
#ifndef RL_QUANT_ROWS_H
#define RL_QUANT_ROWS_H

#include <stddef.h>
#include <stdint.h>

#define QUANT_ROW_DECL(t)                                              \
    void quant_##t##_dequant(const void *src, float *dst, size_t n);   \
    float quant_##t##_dot(const void *row, const float *x, size_t n);  \
    void quant_##t##_quantize(const float *src, void *dst, size_t n);

QUANT_ROW_DECL(f32)
QUANT_ROW_DECL(f16)
QUANT_ROW_DECL(bf16)
QUANT_ROW_DECL(q4_0)
QUANT_ROW_DECL(q4_1)
QUANT_ROW_DECL(q5_0)
QUANT_ROW_DECL(q5_1)
QUANT_ROW_DECL(q8_0)
QUANT_ROW_DECL(q2_k)
QUANT_ROW_DECL(q3_k)
QUANT_ROW_DECL(q4_k)
QUANT_ROW_DECL(q5_k)
QUANT_ROW_DECL(q6_k)

#undef QUANT_ROW_DECL

/* Little-endian field readers (GGUF data is little-endian). */
static inline uint16_t quant_rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t quant_rd32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline void quant_wr16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void quant_wr32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

#endif
