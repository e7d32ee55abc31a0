/* The 32-element "legacy" ggml blocks: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0.
 * Layouts (ggml-common.h): f16 d [, f16 m] [, u32 qh], quants.
 *   Q4_x: element j (0..15) is the low nibble of qs[j], element j+16 the high nibble.
 *   Q5_x: as Q4_x, plus bit k of qh is the 5th bit of element k.
 *   Q8_0: 32 signed bytes.
 * Values: Q4_0 d*(q-8), Q5_0 d*(q-16), Q8_0 d*q, Q4_1/Q5_1 d*q + m; each is
 * computed in f32 exactly as ggml's dequantize_row_* does (d*q is exact,
 * so Q4_1/Q5_1 round once, in the add).
 * Dot products work per block: for the symmetric types the integer quants
 * times x are summed in vector lanes and scaled by d once; Q4_1/Q5_1 form
 * each weight q*d + m in registers (as dequant does) and multiply by x. */
#include "quant.h"
#include "quant_rows.h"
#include "quant_simd.h"

enum { QK = 32 };

/* ---- Q4_0: 18 bytes = d, qs[16] ---------------------------------------- */

void quant_q4_0_dequant(const void *src, float *dst, size_t n) {
    const uint8_t *b = src;
    for (size_t i = 0; i < n / QK; i++, b += 18, dst += QK) {
        float d = rl_f16_to_f32(quant_rd16(b));
        for (int j = 0; j < 16; j++) {
            dst[j] = (float)((b[2 + j] & 0xF) - 8) * d;
            dst[j + 16] = (float)((b[2 + j] >> 4) - 8) * d;
        }
    }
}

float quant_q4_0_dot(const void *row, const float *x, size_t n) {
    const uint8_t *b = row;
    v4f acc = {0};
    for (size_t i = 0; i < n / QK; i++, b += 18, x += QK) {
        v16u8 qs = v16u8_load(b + 2);
        v4f s = dot16_i8((v16i8)(qs & 0xF) - 8, x) + dot16_i8((v16i8)(qs >> 4) - 8, x + 16);
        acc += s * v4f_splat(rl_f16_to_f32(quant_rd16(b)));
    }
    return v4f_hsum(acc);
}

/* ---- Q4_1: 20 bytes = d, m, qs[16] -------------------------------------- */

void quant_q4_1_dequant(const void *src, float *dst, size_t n) {
    const uint8_t *b = src;
    for (size_t i = 0; i < n / QK; i++, b += 20, dst += QK) {
        float d = rl_f16_to_f32(quant_rd16(b)), m = rl_f16_to_f32(quant_rd16(b + 2));
        for (int j = 0; j < 16; j++) {
            dst[j] = (float)(b[4 + j] & 0xF) * d + m;
            dst[j + 16] = (float)(b[4 + j] >> 4) * d + m;
        }
    }
}

float quant_q4_1_dot(const void *row, const float *x, size_t n) {
    const uint8_t *b = row;
    v4f acc = {0};
    for (size_t i = 0; i < n / QK; i++, b += 20, x += QK) {
        v16u8 qs = v16u8_load(b + 4);
        v4f d = v4f_splat(rl_f16_to_f32(quant_rd16(b))), m = v4f_splat(rl_f16_to_f32(quant_rd16(b + 2)));
        acc += dot16_affine(widen_u8(qs & 0xF), x, d, m) + dot16_affine(widen_u8(qs >> 4), x + 16, d, m);
    }
    return v4f_hsum(acc);
}

/* ---- Q5_0: 22 bytes = d, qh (u32), qs[16] ------------------------------- */

void quant_q5_0_dequant(const void *src, float *dst, size_t n) {
    const uint8_t *b = src;
    for (size_t i = 0; i < n / QK; i++, b += 22, dst += QK) {
        float d = rl_f16_to_f32(quant_rd16(b));
        uint32_t qh = quant_rd32(b + 2);
        for (int j = 0; j < 16; j++) {
            int q0 = (b[6 + j] & 0xF) | (int)(((qh >> j) & 1) << 4);
            int q1 = (b[6 + j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
            dst[j] = (float)(q0 - 16) * d;
            dst[j + 16] = (float)(q1 - 16) * d;
        }
    }
}

float quant_q5_0_dot(const void *row, const float *x, size_t n) {
    const uint8_t *b = row;
    v4f acc = {0};
    for (size_t i = 0; i < n / QK; i++, b += 22, x += QK) {
        uint32_t qh = quant_rd32(b + 2);
        v16u8 qs = v16u8_load(b + 6);
        v16i8 lo = (v16i8)((qs & 0xF) | (bits16_u8(qh, 0) << 4)) - 16;
        v16i8 hi = (v16i8)((qs >> 4) | (bits16_u8(qh, 16) << 4)) - 16;
        acc += (dot16_i8(lo, x) + dot16_i8(hi, x + 16)) * v4f_splat(rl_f16_to_f32(quant_rd16(b)));
    }
    return v4f_hsum(acc);
}

/* ---- Q5_1: 24 bytes = d, m, qh (u32), qs[16] ---------------------------- */

void quant_q5_1_dequant(const void *src, float *dst, size_t n) {
    const uint8_t *b = src;
    for (size_t i = 0; i < n / QK; i++, b += 24, dst += QK) {
        float d = rl_f16_to_f32(quant_rd16(b)), m = rl_f16_to_f32(quant_rd16(b + 2));
        uint32_t qh = quant_rd32(b + 4);
        for (int j = 0; j < 16; j++) {
            int q0 = (b[8 + j] & 0xF) | (int)(((qh >> j) & 1) << 4);
            int q1 = (b[8 + j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
            dst[j] = (float)q0 * d + m;
            dst[j + 16] = (float)q1 * d + m;
        }
    }
}

float quant_q5_1_dot(const void *row, const float *x, size_t n) {
    const uint8_t *b = row;
    v4f acc = {0};
    for (size_t i = 0; i < n / QK; i++, b += 24, x += QK) {
        uint32_t qh = quant_rd32(b + 4);
        v16u8 qs = v16u8_load(b + 8);
        v16u8 lo = (qs & 0xF) | (bits16_u8(qh, 0) << 4);
        v16u8 hi = (qs >> 4) | (bits16_u8(qh, 16) << 4);
        v4f d = v4f_splat(rl_f16_to_f32(quant_rd16(b))), m = v4f_splat(rl_f16_to_f32(quant_rd16(b + 2)));
        acc += dot16_affine(widen_u8(lo), x, d, m) + dot16_affine(widen_u8(hi), x + 16, d, m);
    }
    return v4f_hsum(acc);
}

/* ---- Q8_0: 34 bytes = d, qs[32] (int8) ---------------------------------- */

void quant_q8_0_dequant(const void *src, float *dst, size_t n) {
    const uint8_t *b = src;
    for (size_t i = 0; i < n / QK; i++, b += 34, dst += QK) {
        float d = rl_f16_to_f32(quant_rd16(b));
        for (int j = 0; j < QK; j++) dst[j] = (float)(int8_t)b[2 + j] * d;
    }
}

float quant_q8_0_dot(const void *row, const float *x, size_t n) {
    const uint8_t *b = row;
    v4f acc0 = {0}, acc1 = {0};
    for (size_t i = 0; i < n / QK; i++, b += 34, x += QK) {
        v4f d = v4f_splat(rl_f16_to_f32(quant_rd16(b)));
        acc0 += dot16_i8((v16i8)v16u8_load(b + 2), x) * d;
        acc1 += dot16_i8((v16i8)v16u8_load(b + 18), x + 16) * d;
    }
    return v4f_hsum(acc0 + acc1);
}
