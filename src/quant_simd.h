/* 128-bit vector helpers for the quant row kernels. Written with GCC/clang
 * vector extensions so one source compiles to SSE2 natively and to wasm
 * simd128 (-msimd128). Only operations that lower well on both are used:
 * loads through memcpy (unaligned), lane-wise arithmetic, interleaving
 * shuffles (punpck* / i8x16.shuffle) and int32 -> f32 conversion. Byte
 * order is little-endian (x86, wasm), as in GGUF. */
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
typedef uint64_t v2u64 __attribute__((vector_size(16)));

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

/* Widen 16 bytes to four vectors of int32 lanes, element order kept.
 * Unsigned: interleave with zero twice (bytes -> u16 -> u32). Signed:
 * interleave so each value lands in the high half of the wider lane, then
 * shift it down arithmetically. (Not simd128's extend_low/high: clang-14
 * folds those plus the int->float conversion into per-lane scalar
 * conversions, 2.5x slower in V8.) */
typedef struct {
    v4i v[4];
} v16x32;

static inline v16x32 widen_u8(v16u8 q) {
    const v16u8 z8 = {0};
    const v8u16 z16 = {0};
    v8u16 lo = (v8u16)__builtin_shufflevector(q, z8, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    v8u16 hi = (v8u16)__builtin_shufflevector(q, z8, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    return (v16x32){{(v4i)__builtin_shufflevector(lo, z16, 0, 8, 1, 9, 2, 10, 3, 11),
                     (v4i)__builtin_shufflevector(lo, z16, 4, 12, 5, 13, 6, 14, 7, 15),
                     (v4i)__builtin_shufflevector(hi, z16, 0, 8, 1, 9, 2, 10, 3, 11),
                     (v4i)__builtin_shufflevector(hi, z16, 4, 12, 5, 13, 6, 14, 7, 15)}};
}

static inline v16x32 widen_i8(v16i8 q) {
    const v16i8 z8 = {0};
    const v8i16 z16 = {0};
    v8i16 lo = (v8i16)__builtin_shufflevector(z8, q, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23) >> 8;
    v8i16 hi = (v8i16)__builtin_shufflevector(z8, q, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31) >> 8;
    return (v16x32){{(v4i)__builtin_shufflevector(z16, lo, 0, 8, 1, 9, 2, 10, 3, 11) >> 16,
                     (v4i)__builtin_shufflevector(z16, lo, 4, 12, 5, 13, 6, 14, 7, 15) >> 16,
                     (v4i)__builtin_shufflevector(z16, hi, 0, 8, 1, 9, 2, 10, 3, 11) >> 16,
                     (v4i)__builtin_shufflevector(z16, hi, 4, 12, 5, 13, 6, 14, 7, 15) >> 16}};
}

/* sum over 16 elements of q*x, as 4 partial sums */
static inline v4f dot16(v16x32 q, const float *x) {
    return (__builtin_convertvector(q.v[0], v4f) * v4f_load(x) + __builtin_convertvector(q.v[1], v4f) * v4f_load(x + 4)) +
           (__builtin_convertvector(q.v[2], v4f) * v4f_load(x + 8) + __builtin_convertvector(q.v[3], v4f) * v4f_load(x + 12));
}

/* sum over 16 elements of (q*d + m)*x: the weight is formed exactly as the
 * dequantizer forms it, then multiplied by x (cheaper in V8 than keeping a
 * separate sum of x for the min term). */
static inline v4f dot16_affine(v16x32 q, const float *x, v4f d, v4f m) {
    return ((__builtin_convertvector(q.v[0], v4f) * d + m) * v4f_load(x) +
            (__builtin_convertvector(q.v[1], v4f) * d + m) * v4f_load(x + 4)) +
           ((__builtin_convertvector(q.v[2], v4f) * d + m) * v4f_load(x + 8) +
            (__builtin_convertvector(q.v[3], v4f) * d + m) * v4f_load(x + 12));
}

static inline v4f dot16_u8(v16u8 q, const float *x) { return dot16(widen_u8(q), x); }
static inline v4f dot16_i8(v16i8 q, const float *x) { return dot16(widen_i8(q), x); }

/* 16 bytes holding bits [first, first+16) of the 32-bit word w, as 0 or 1
 * (first is 0 or 16): each source byte broadcast over 8 lanes, one bit kept
 * per lane, compared with zero. The broadcast is a byte shuffle in wasm
 * (one i8x16.shuffle) but a 64-bit multiply natively, where SSE2 has no
 * byte shuffle (GCC's emulation is 4x slower). */
static inline v16u8 bits16_u8(uint32_t w, int first) {
#ifdef __wasm_simd128__
    v16u8 v = (v16u8)(v4u){w, w, w, w};
    v16u8 bytes = first ? __builtin_shufflevector(v, v, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3)
                        : __builtin_shufflevector(v, v, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
#else
    v16u8 bytes = (v16u8)(v2u64){((w >> first) & 0xFF) * 0x0101010101010101ull,
                                 ((w >> (first + 8)) & 0xFF) * 0x0101010101010101ull};
#endif
    const v16u8 bit = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    return (v16u8)((bytes & bit) != 0) & 1;
}

#endif
