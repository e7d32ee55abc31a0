/* Float storage types: F32, F16 (IEEE binary16), BF16 (upper half of an f32),
 * plus the scalar half-precision conversions declared in quant.h. */
#include "quant.h"
#include "quant_rows.h"
#include "quant_simd.h"

static inline float f32_from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* ---- scalar conversions ---------------------------------------------- */

float rl_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
    if (exp == 0x1F) return f32_from_bits(sign | 0x7F800000 | (mant << 13)); /* inf, NaN (payload kept) */
    if (exp != 0) return f32_from_bits(sign | ((exp + 127 - 15) << 23) | (mant << 13));
    /* zero or subnormal: mant * 2^-24, exact in f32 (a normal f32 or zero) */
    float mag = (float)mant * 0x1p-24f;
    return sign ? -mag : mag;
}

/* Round the low `shift` bits of v away, to nearest, ties to even (1 <= shift < 32). */
static uint32_t shift_rne(uint32_t v, unsigned shift) {
    uint32_t q = v >> shift, rem = v & ((1u << shift) - 1), half = 1u << (shift - 1);
    return q + (rem > half || (rem == half && (q & 1)));
}

uint16_t rl_f32_to_f16(float f) {
    uint32_t u = f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    uint32_t a = u & 0x7FFFFFFF;
    if (a > 0x7F800000) /* NaN: keep the top payload bits, force quiet so it stays a NaN */
        return (uint16_t)(sign | 0x7E00 | ((a >> 13) & 0x1FF));
    if (a >= 0x477FF000) return (uint16_t)(sign | 0x7C00); /* >= 65520 rounds to inf (and inf) */
    if (a >= 0x38800000) /* normal f16 (>= 2^-14): rebias, round 13 mantissa bits; a carry bumps the exponent */
        return (uint16_t)(sign | shift_rne(a - ((127u - 15u) << 23), 13));
    if (a <= 0x33000000) return sign; /* <= 2^-25: rounds to zero (2^-25 is a tie, zero is even) */
    /* subnormal f16: value = m * 2^(e-150) with the implicit bit; units of 2^-24 */
    uint32_t e = a >> 23, m = (a & 0x7FFFFF) | 0x800000;
    return (uint16_t)(sign | shift_rne(m, 126 - e)); /* may round up to 0x400, the smallest normal */
}

float rl_bf16_to_f32(uint16_t h) { return f32_from_bits((uint32_t)h << 16); }

uint16_t rl_f32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7FFFFFFF) > 0x7F800000) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN, sign and top payload kept */
    return (uint16_t)((u + 0x7FFF + ((u >> 16) & 1)) >> 16); /* RNE; overflow carries into inf */
}

/* ---- F32 ---------------------------------------------------------------- */

void quant_f32_dequant(const void *src, float *dst, size_t n) { memcpy(dst, src, n * sizeof(float)); }

void quant_f32_quantize(const float *src, void *dst, size_t n) { memcpy(dst, src, n * sizeof(float)); }

float quant_f32_dot(const void *row, const float *x, size_t n) {
    const float *w = row;
    v4f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 += v4f_load(w + i) * v4f_load(x + i);
        a1 += v4f_load(w + i + 4) * v4f_load(x + i + 4);
        a2 += v4f_load(w + i + 8) * v4f_load(x + i + 8);
        a3 += v4f_load(w + i + 12) * v4f_load(x + i + 12);
    }
    float s = v4f_hsum((a0 + a1) + (a2 + a3));
    for (; i < n; i++) s += w[i] * x[i];
    return s;
}

/* ---- F16 ---------------------------------------------------------------- */

void quant_f16_dequant(const void *src, float *dst, size_t n) {
    const uint8_t *p = src;
    for (size_t i = 0; i < n; i++) dst[i] = rl_f16_to_f32(quant_rd16(p + 2 * i));
}

void quant_f16_quantize(const float *src, void *dst, size_t n) {
    uint8_t *p = dst;
    for (size_t i = 0; i < n; i++) quant_wr16(p + 2 * i, rl_f32_to_f16(src[i]));
}

/* Four halves, each in the high half of a u32 lane (h << 16), to f32 for
 * finite h: moving the 15 magnitude bits down to f32 bit 13 gives 2^-112
 * times the value for normals and subnormals alike, so one multiply by 2^112
 * rebiases (the sign rides along). Exponent 31 (inf/NaN) needs the general
 * conversion. */
static inline v4f f16x4_finite_to_f32(v4u hi) {
    v4u f = ((hi >> 3) & 0x0FFFE000) | (hi & 0x80000000);
    return (v4f)f * v4f_splat(0x1p112f);
}

float quant_f16_dot(const void *row, const float *x, size_t n) {
    const uint8_t *p = row;
    const v8u16 z = {0};
    v4f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    float s = 0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        v8u16 h0 = v8u16_load(p + 2 * i), h1 = v8u16_load(p + 2 * i + 16);
        v2u64 special = (v2u64)(((h0 & 0x7C00) == 0x7C00) | ((h1 & 0x7C00) == 0x7C00));
        if (special[0] | special[1]) { /* inf or NaN among these 16: exact scalar path */
            for (size_t k = i; k < i + 16; k++) s += rl_f16_to_f32(quant_rd16(p + 2 * k)) * x[k];
            continue;
        }
        a0 += f16x4_finite_to_f32((v4u)__builtin_shufflevector(z, h0, 0, 8, 1, 9, 2, 10, 3, 11)) * v4f_load(x + i);
        a1 += f16x4_finite_to_f32((v4u)__builtin_shufflevector(z, h0, 4, 12, 5, 13, 6, 14, 7, 15)) * v4f_load(x + i + 4);
        a2 += f16x4_finite_to_f32((v4u)__builtin_shufflevector(z, h1, 0, 8, 1, 9, 2, 10, 3, 11)) * v4f_load(x + i + 8);
        a3 += f16x4_finite_to_f32((v4u)__builtin_shufflevector(z, h1, 4, 12, 5, 13, 6, 14, 7, 15)) * v4f_load(x + i + 12);
    }
    s += v4f_hsum((a0 + a1) + (a2 + a3));
    for (; i < n; i++) s += rl_f16_to_f32(quant_rd16(p + 2 * i)) * x[i];
    return s;
}

/* ---- BF16 --------------------------------------------------------------- */

void quant_bf16_dequant(const void *src, float *dst, size_t n) {
    const uint8_t *p = src;
    for (size_t i = 0; i < n; i++) dst[i] = rl_bf16_to_f32(quant_rd16(p + 2 * i));
}

void quant_bf16_quantize(const float *src, void *dst, size_t n) {
    uint8_t *p = dst;
    for (size_t i = 0; i < n; i++) quant_wr16(p + 2 * i, rl_f32_to_bf16(src[i]));
}

float quant_bf16_dot(const void *row, const float *x, size_t n) {
    const uint8_t *p = row;
    const v8u16 z = {0};
    v4f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        /* interleave zero below each half: the u32 lane is then exactly the f32 */
        v8u16 h0 = v8u16_load(p + 2 * i), h1 = v8u16_load(p + 2 * i + 16);
        a0 += (v4f)__builtin_shufflevector(z, h0, 0, 8, 1, 9, 2, 10, 3, 11) * v4f_load(x + i);
        a1 += (v4f)__builtin_shufflevector(z, h0, 4, 12, 5, 13, 6, 14, 7, 15) * v4f_load(x + i + 4);
        a2 += (v4f)__builtin_shufflevector(z, h1, 0, 8, 1, 9, 2, 10, 3, 11) * v4f_load(x + i + 8);
        a3 += (v4f)__builtin_shufflevector(z, h1, 4, 12, 5, 13, 6, 14, 7, 15) * v4f_load(x + i + 12);
    }
    float s = v4f_hsum((a0 + a1) + (a2 + a3));
    for (; i < n; i++) s += rl_bf16_to_f32(quant_rd16(p + 2 * i)) * x[i];
    return s;
}
