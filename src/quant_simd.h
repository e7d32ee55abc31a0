/* 128-bit vector helpers for the quant row kernels. Written with GCC/clang
 * vector extensions so one source compiles to SSE2 natively and to wasm
 * simd128 (-msimd128). Only operations that lower well on both are used:
 * loads through memcpy (unaligned), lane-wise arithmetic, interleaving
 * shuffles (punpck* / i8x16.shuffle) and int32 -> f32 conversion. */
#ifndef RL_QUANT_SIMD_H
#define RL_QUANT_SIMD_H

#include <stdint.h>
#include <string.h>

typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
typedef uint32_t v4u __attribute__((vector_size(16)));
typedef int16_t v8i16 __attribute__((vector_size(16)));
typedef uint16_t v8u16 __attribute__((vector_size(16)));
typedef int8_t v16i8 __attribute__((vector_size(16)));
typedef uint8_t v16u8 __attribute__((vector_size(16)));

static inline v4f v4f_load(const float *p) {
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline v16u8 v16u8_load(const void *p) {
    v16u8 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline v8u16 v8u16_load(const void *p) {
    v8u16 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline v4f v4f_splat(float f) { return (v4f){f, f, f, f}; }

/* Fixed pairwise order so results do not depend on the compiler. */
static inline float v4f_hsum(v4f v) { return (v[0] + v[1]) + (v[2] + v[3]); }

/* Sum of 16 consecutive floats, as a vector of 4 partial sums. */
static inline v4f sum16(const float *x) {
    return (v4f_load(x) + v4f_load(x + 4)) + (v4f_load(x + 8) + v4f_load(x + 12));
}

/* 16 unsigned bytes (element order kept) times x[0..15], as 4 partial sums.
 * Zero-extension: interleave with zero twice (bytes -> u16 -> u32). */
static inline v4f dot16_u8(v16u8 q, const float *x) {
    const v16u8 z8 = {0};
    const v8u16 z16 = {0};
    v8u16 lo = (v8u16)__builtin_shufflevector(q, z8, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    v8u16 hi = (v8u16)__builtin_shufflevector(q, z8, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    v4i a = (v4i)__builtin_shufflevector(lo, z16, 0, 8, 1, 9, 2, 10, 3, 11);
    v4i b = (v4i)__builtin_shufflevector(lo, z16, 4, 12, 5, 13, 6, 14, 7, 15);
    v4i c = (v4i)__builtin_shufflevector(hi, z16, 0, 8, 1, 9, 2, 10, 3, 11);
    v4i d = (v4i)__builtin_shufflevector(hi, z16, 4, 12, 5, 13, 6, 14, 7, 15);
    return (__builtin_convertvector(a, v4f) * v4f_load(x) + __builtin_convertvector(b, v4f) * v4f_load(x + 4)) +
           (__builtin_convertvector(c, v4f) * v4f_load(x + 8) + __builtin_convertvector(d, v4f) * v4f_load(x + 12));
}

/* Same for 16 signed bytes. Sign extension: interleave so the value lands in
 * the high half of each wider lane, then shift it down arithmetically. */
static inline v4f dot16_i8(v16i8 q, const float *x) {
    const v16i8 z8 = {0};
    const v8i16 z16 = {0};
    v8i16 lo = (v8i16)__builtin_shufflevector(z8, q, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23) >> 8;
    v8i16 hi = (v8i16)__builtin_shufflevector(z8, q, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31) >> 8;
    v4i a = (v4i)__builtin_shufflevector(z16, lo, 0, 8, 1, 9, 2, 10, 3, 11) >> 16;
    v4i b = (v4i)__builtin_shufflevector(z16, lo, 4, 12, 5, 13, 6, 14, 7, 15) >> 16;
    v4i c = (v4i)__builtin_shufflevector(z16, hi, 0, 8, 1, 9, 2, 10, 3, 11) >> 16;
    v4i d = (v4i)__builtin_shufflevector(z16, hi, 4, 12, 5, 13, 6, 14, 7, 15) >> 16;
    return (__builtin_convertvector(a, v4f) * v4f_load(x) + __builtin_convertvector(b, v4f) * v4f_load(x + 4)) +
           (__builtin_convertvector(c, v4f) * v4f_load(x + 8) + __builtin_convertvector(d, v4f) * v4f_load(x + 12));
}

/* Spread 8 bits into 8 bytes: byte k of the result is bit k of b (0 or 1). */
static inline uint64_t spread_bits8(uint32_t b) {
    uint64_t r = ((uint64_t)(b & 0xFF) * 0x0101010101010101ull) & 0x8040201008040201ull;
    return ((r + 0x7F7F7F7F7F7F7F7Full) >> 7) & 0x0101010101010101ull;
}

/* 16 bytes holding bits [first, first+16) of the 32-bit word w, as 0 or 1. */
static inline v16u8 bits16_u8(uint32_t w, int first) {
    uint64_t lo = spread_bits8(w >> first), hi = spread_bits8(w >> (first + 8));
    v16u8 r;
    memcpy(&r, &lo, 8);
    memcpy((uint8_t *)&r + 8, &hi, 8);
    return r;
}

#endif
