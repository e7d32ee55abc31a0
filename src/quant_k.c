/* ggml K-quants: 256-element super-blocks (ggml-common.h, QK_K = 256).
 *   Q2_K  84 B: scales[16] (lo nibble scale, hi nibble min), qs[64], f16 d, f16 dmin
 *   Q3_K 110 B: hmask[32], qs[64], scales[12] (16 packed 6-bit), f16 d
 *   Q4_K 144 B: f16 d, f16 dmin, scales[12] (8 packed 6-bit scale/min pairs), qs[128]
 *   Q5_K 176 B: f16 d, f16 dmin, scales[12], qh[32], qs[128]
 *   Q6_K 210 B: ql[128], qh[64], int8 scales[16], f16 d
 * Element order inside a block is spelled out at each dequant function.
 * Dequant follows ggml's f32 expressions exactly (d*sc and the products with
 * q are exact in f32, so each value is rounded at most once, in the
 * subtraction of the min term). Dot products: the types with a min
 * (Q2_K, Q4_K, Q5_K) form each weight d*sc*q - dmin*m in registers exactly as
 * dequant does and multiply by x; the symmetric ones (Q3_K, Q6_K) sum q*x per
 * sub-block in vector lanes and apply the scale afterwards. */
#include "quant.h"
#include "quant_rows.h"
#include "quant_simd.h"

enum { QK_K = 256 };

/* Q4_K/Q5_K: 8 (scale, min) pairs of 6 bits packed in 12 bytes. Pairs 0..3
 * sit in the low 6 bits of bytes 0..3 (scale) and 4..7 (min); pairs 4..7
 * take their low 4 bits from the nibbles of bytes 8..11 and their top 2 bits
 * from the spare top bits of bytes 0..3 (scale) and 4..7 (min). */
static void k4_scales(const uint8_t *s, uint8_t sc[8], uint8_t mn[8]) {
    for (int j = 0; j < 4; j++) {
        sc[j] = s[j] & 63;
        mn[j] = s[j + 4] & 63;
        sc[j + 4] = (uint8_t)((s[j + 8] & 0xF) | ((s[j] >> 6) << 4));
        mn[j + 4] = (uint8_t)((s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4));
    }
}

/* Q3_K: 16 signed 6-bit scales (stored +32). Low 4 bits: nibbles of bytes
 * 0..7 (low nibbles for scales 0..7, high nibbles for 8..15); top 2 bits:
 * bit pair j/4 of byte 8 + j%4. */
static void k3_scales(const uint8_t *s, int sc[16]) {
    for (int j = 0; j < 16; j++) {
        int lo = j < 8 ? (s[j] & 0xF) : (s[j - 8] >> 4);
        int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
        sc[j] = (lo | (hi << 4)) - 32;
    }
}

/* ---- Q2_K ----------------------------------------------------------------
 * Element 128h + 32j + l (h 0..1, j 0..3, l 0..31): 2 bits at shift 2j of
 * qs[32h + l]; sub-block 8h + 2j + l/16 with scale byte sc: d*(sc&15)*q - dmin*(sc>>4). */

void quant_q2_k_dequant(const void *src, float *dst, size_t n) {
    const uint8_t *b = src;
    for (size_t i = 0; i < n / QK_K; i++, b += 84) {
        float d = rl_f16_to_f32(quant_rd16(b + 80)), dmin = rl_f16_to_f32(quant_rd16(b + 82));
        for (int h = 0; h < 2; h++)
            for (int j = 0; j < 4; j++)
                for (int l = 0; l < 32; l++) {
                    uint8_t sc = b[8 * h + 2 * j + l / 16];
                    float dl = d * (float)(sc & 0xF), ml = dmin * (float)(sc >> 4);
                    *dst++ = dl * (float)((b[16 + 32 * h + l] >> (2 * j)) & 3) - ml;
                }
    }
}

/* The j loops below are unrolled so byte shifts get constant counts
 * (variable i8x16 shifts are slow in V8). */
float quant_q2_k_dot(const void *row, const float *x, size_t n) {
    const uint8_t *b = row;
    v4f acc = {0};
    for (size_t i = 0; i < n / QK_K; i++, b += 84) {
        float d = rl_f16_to_f32(quant_rd16(b + 80)), dmin = rl_f16_to_f32(quant_rd16(b + 82));
        for (int h = 0; h < 2; h++)
            _Pragma("GCC unroll 4") for (int j = 0; j < 4; j++)
                for (int g = 0; g < 2; g++, x += 16) {
                    uint8_t sc = b[8 * h + 2 * j + g];
                    v16u8 q = (v16u8_load(b + 16 + 32 * h + 16 * g) >> (2 * j)) & 3;
                    acc += dot16_affine(widen_u8(q), x, v4f_splat(d * (float)(sc & 0xF)), v4f_splat(-(dmin * (float)(sc >> 4))));
                }
    }
    return v4f_hsum(acc);
}

/* ---- Q3_K ----------------------------------------------------------------
 * Element 128h + 32j + l: low 2 bits at shift 2j of qs[32h + l], high bit is
 * bit 4h + j of hmask[l]; q = low - (high ? 0 : 4) in -4..3; sub-block
 * 8h + 2j + l/16; value d*sc*q. */

void quant_q3_k_dequant(const void *src, float *dst, size_t n) {
    const uint8_t *b = src;
    for (size_t i = 0; i < n / QK_K; i++, b += 110) {
        float d = rl_f16_to_f32(quant_rd16(b + 108));
        int sc[16];
        k3_scales(b + 96, sc);
        for (int h = 0; h < 2; h++)
            for (int j = 0; j < 4; j++)
                for (int l = 0; l < 32; l++) {
                    float dl = d * (float)sc[8 * h + 2 * j + l / 16];
                    int low = (b[32 + 32 * h + l] >> (2 * j)) & 3;
                    int high = (b[l] >> (4 * h + j)) & 1;
                    *dst++ = dl * (float)(low - (high ? 0 : 4));
                }
    }
}

float quant_q3_k_dot(const void *row, const float *x, size_t n) {
    const uint8_t *b = row;
    v4f acc = {0};
    for (size_t i = 0; i < n / QK_K; i++, b += 110) {
        float d = rl_f16_to_f32(quant_rd16(b + 108));
        int sc[16];
        k3_scales(b + 96, sc);
        for (int h = 0; h < 2; h++)
            _Pragma("GCC unroll 4") for (int j = 0; j < 4; j++)
                for (int g = 0; g < 2; g++, x += 16) {
                    v16u8 low = (v16u8_load(b + 32 + 32 * h + 16 * g) >> (2 * j)) & 3;
                    v16u8 hm = v16u8_load(b + 16 * g) & (uint8_t)(1u << (4 * h + j));
                    v16u8 high4 = (v16u8)(hm != 0) & 4; /* compare gives all-ones lanes */
                    v16i8 q = (v16i8)(low | high4) - 4;
                    acc += dot16_i8(q, x) * v4f_splat(d * (float)sc[8 * h + 2 * j + g]);
                }
    }
    return v4f_hsum(acc);
}

/* ---- Q4_K ----------------------------------------------------------------
 * Chunk c (0..3) of 64 elements uses qs[32c .. 32c+32): element 64c + l is the
 * low nibble of qs[32c + l] (sub-block 2c), element 64c + 32 + l the high
 * nibble (sub-block 2c+1). Value d*sc*q - dmin*m. */

void quant_q4_k_dequant(const void *src, float *dst, size_t n) {
    const uint8_t *b = src;
    for (size_t i = 0; i < n / QK_K; i++, b += 144) {
        float d = rl_f16_to_f32(quant_rd16(b)), dmin = rl_f16_to_f32(quant_rd16(b + 2));
        uint8_t sc[8], mn[8];
        k4_scales(b + 4, sc, mn);
        const uint8_t *qs = b + 16;
        for (int c = 0; c < 4; c++, qs += 32, dst += 64) {
            float d1 = d * (float)sc[2 * c], m1 = dmin * (float)mn[2 * c];
            float d2 = d * (float)sc[2 * c + 1], m2 = dmin * (float)mn[2 * c + 1];
            for (int l = 0; l < 32; l++) {
                dst[l] = d1 * (float)(qs[l] & 0xF) - m1;
                dst[l + 32] = d2 * (float)(qs[l] >> 4) - m2;
            }
        }
    }
}

float quant_q4_k_dot(const void *row, const float *x, size_t n) {
    const uint8_t *b = row;
    v4f acc = {0};
    for (size_t i = 0; i < n / QK_K; i++, b += 144) {
        float d = rl_f16_to_f32(quant_rd16(b)), dmin = rl_f16_to_f32(quant_rd16(b + 2));
        uint8_t sc[8], mn[8];
        k4_scales(b + 4, sc, mn);
        const uint8_t *qs = b + 16;
        for (int c = 0; c < 4; c++, qs += 32, x += 64) {
            v4f d1 = v4f_splat(d * (float)sc[2 * c]), m1 = v4f_splat(-(dmin * (float)mn[2 * c]));
            v4f d2 = v4f_splat(d * (float)sc[2 * c + 1]), m2 = v4f_splat(-(dmin * (float)mn[2 * c + 1]));
            v16u8 q0 = v16u8_load(qs), q1 = v16u8_load(qs + 16);
            acc += (dot16_affine(widen_u8(q0 & 0xF), x, d1, m1) + dot16_affine(widen_u8(q1 & 0xF), x + 16, d1, m1)) +
                   (dot16_affine(widen_u8(q0 >> 4), x + 32, d2, m2) + dot16_affine(widen_u8(q1 >> 4), x + 48, d2, m2));
        }
    }
    return v4f_hsum(acc);
}

/* ---- Q5_K ----------------------------------------------------------------
 * As Q4_K, plus a 5th bit: bit 2c of qh[l] for element 64c + l, bit 2c+1 of
 * qh[l] for element 64c + 32 + l. */

void quant_q5_k_dequant(const void *src, float *dst, size_t n) {
    const uint8_t *b = src;
    for (size_t i = 0; i < n / QK_K; i++, b += 176) {
        float d = rl_f16_to_f32(quant_rd16(b)), dmin = rl_f16_to_f32(quant_rd16(b + 2));
        uint8_t sc[8], mn[8];
        k4_scales(b + 4, sc, mn);
        const uint8_t *qh = b + 16, *qs = b + 48;
        for (int c = 0; c < 4; c++, qs += 32, dst += 64) {
            float d1 = d * (float)sc[2 * c], m1 = dmin * (float)mn[2 * c];
            float d2 = d * (float)sc[2 * c + 1], m2 = dmin * (float)mn[2 * c + 1];
            for (int l = 0; l < 32; l++) {
                int q1 = (qs[l] & 0xF) | (((qh[l] >> (2 * c)) & 1) << 4);
                int q2 = (qs[l] >> 4) | (((qh[l] >> (2 * c + 1)) & 1) << 4);
                dst[l] = d1 * (float)q1 - m1;
                dst[l + 32] = d2 * (float)q2 - m2;
            }
        }
    }
}

float quant_q5_k_dot(const void *row, const float *x, size_t n) {
    const uint8_t *b = row;
    v4f acc = {0};
    for (size_t i = 0; i < n / QK_K; i++, b += 176) {
        float d = rl_f16_to_f32(quant_rd16(b)), dmin = rl_f16_to_f32(quant_rd16(b + 2));
        uint8_t sc[8], mn[8];
        k4_scales(b + 4, sc, mn);
        v16u8 h0 = v16u8_load(b + 16), h1 = v16u8_load(b + 32);
        const uint8_t *qs = b + 48;
        for (int c = 0; c < 4; c++, qs += 32, x += 64) {
            v4f d1 = v4f_splat(d * (float)sc[2 * c]), m1 = v4f_splat(-(dmin * (float)mn[2 * c]));
            v4f d2 = v4f_splat(d * (float)sc[2 * c + 1]), m2 = v4f_splat(-(dmin * (float)mn[2 * c + 1]));
            v16u8 q0 = v16u8_load(qs), q1 = v16u8_load(qs + 16);
            v16u8 lo0 = (q0 & 0xF) | (((h0 >> (2 * c)) & 1) << 4), lo1 = (q1 & 0xF) | (((h1 >> (2 * c)) & 1) << 4);
            v16u8 hi0 = (q0 >> 4) | (((h0 >> (2 * c + 1)) & 1) << 4), hi1 = (q1 >> 4) | (((h1 >> (2 * c + 1)) & 1) << 4);
            acc += (dot16_affine(widen_u8(lo0), x, d1, m1) + dot16_affine(widen_u8(lo1), x + 16, d1, m1)) +
                   (dot16_affine(widen_u8(hi0), x + 32, d2, m2) + dot16_affine(widen_u8(hi1), x + 48, d2, m2));
        }
    }
    return v4f_hsum(acc);
}

/* ---- Q6_K ----------------------------------------------------------------
 * Two halves of 128 (h 0..1) use ql[64h ..], qh[32h ..], scales[8h ..]. For
 * l in 0..31, s = l/16, element 128h + l + 32k (k 0..3) has low 4 bits
 * (k=0) ql[l] lo, (k=1) ql[l+32] lo, (k=2) ql[l] hi, (k=3) ql[l+32] hi, top 2
 * bits at shift 2k of qh[l], scale scales[s + 2k]; value d*sc*(q-32). */

void quant_q6_k_dequant(const void *src, float *dst, size_t n) {
    const uint8_t *b = src;
    for (size_t i = 0; i < n / QK_K; i++, b += 210) {
        float d = rl_f16_to_f32(quant_rd16(b + 208));
        for (int h = 0; h < 2; h++, dst += 128) {
            const uint8_t *ql = b + 64 * h, *qh = b + 128 + 32 * h;
            const int8_t *sc = (const int8_t *)(b + 192 + 8 * h);
            for (int l = 0; l < 32; l++) {
                int s = l / 16;
                int q0 = (ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4);
                int q1 = (ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4);
                int q2 = (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4);
                int q3 = (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4);
                dst[l] = d * (float)sc[s] * (float)(q0 - 32);
                dst[l + 32] = d * (float)sc[s + 2] * (float)(q1 - 32);
                dst[l + 64] = d * (float)sc[s + 4] * (float)(q2 - 32);
                dst[l + 96] = d * (float)sc[s + 6] * (float)(q3 - 32);
            }
        }
    }
}

float quant_q6_k_dot(const void *row, const float *x, size_t n) {
    const uint8_t *b = row;
    v4f acc = {0};
    for (size_t i = 0; i < n / QK_K; i++, b += 210) {
        v4f ab = {0}; /* this block, before the factor d */
        for (int h = 0; h < 2; h++, x += 128) {
            const uint8_t *ql = b + 64 * h, *qh = b + 128 + 32 * h;
            const int8_t *sc = (const int8_t *)(b + 192 + 8 * h);
            for (int s = 0; s < 2; s++) { /* l = 16s .. 16s+15 */
                v16u8 l0 = v16u8_load(ql + 16 * s), l1 = v16u8_load(ql + 32 + 16 * s);
                v16u8 hb = v16u8_load(qh + 16 * s);
                v16i8 q0 = (v16i8)((l0 & 0xF) | ((hb & 0x03) << 4)) - 32;
                v16i8 q1 = (v16i8)((l1 & 0xF) | ((hb & 0x0C) << 2)) - 32;
                v16i8 q2 = (v16i8)((l0 >> 4) | (hb & 0x30)) - 32;
                v16i8 q3 = (v16i8)((l1 >> 4) | ((hb >> 2) & 0x30)) - 32;
                const float *xs = x + 16 * s;
                ab += (dot16_i8(q0, xs) * v4f_splat((float)sc[s]) + dot16_i8(q1, xs + 32) * v4f_splat((float)sc[s + 2])) +
                       (dot16_i8(q2, xs + 64) * v4f_splat((float)sc[s + 4]) + dot16_i8(q3, xs + 96) * v4f_splat((float)sc[s + 6]));
            }
        }
        acc += ab * v4f_splat(rl_f16_to_f32(quant_rd16(b + 208)));
    }
    return v4f_hsum(acc);
}
