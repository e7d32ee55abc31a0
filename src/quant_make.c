/* Quantizers for the 32-element legacy blocks (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0).
 * They fit each block's scale (quant_fit.c), store it as f16, and then round
 * every value to the nearest level under the stored (f16-rounded) scale, so
 * the blocks decode as close to the input as that scale allows. Not
 * bit-identical to ggml's quantizers; layouts are described in quant_legacy.c. */
#include "quant.h"
#include "quant_fit.h"
#include "quant_rows.h"

#include <string.h>

enum { QK = 32 };

/* Symmetric block: stores d (f16) at dst, returns levels L - lo (0..hi-lo) in u. */
static void sym_block(const float *x, int lo, int hi, uint8_t *dst, int u[QK]) {
    uint16_t dh = quant_f16_scale(quant_fit_sym(x, QK, lo, hi));
    quant_wr16(dst, dh);
    float d = rl_f16_to_f32(dh);
    for (int j = 0; j < QK; j++) u[j] = d != 0 ? quant_round_clamp(x[j] / d, lo, hi) - lo : -lo;
}

/* Affine block: stores d, m (f16) at dst, returns levels 0..nmax in u. */
static void affine_block(const float *x, int nmax, uint8_t *dst, int u[QK]) {
    float off, s = quant_fit_affine(x, QK, nmax, 0, &off);
    uint16_t dh = quant_f16_scale(s), mh = quant_f16_scale(off);
    quant_wr16(dst, dh);
    quant_wr16(dst + 2, mh);
    float d = rl_f16_to_f32(dh), m = rl_f16_to_f32(mh);
    for (int j = 0; j < QK; j++) u[j] = d != 0 ? quant_round_clamp((x[j] - m) / d, 0, nmax) : 0;
}

static void pack_nibbles(const int u[QK], uint8_t *qs) {
    for (int j = 0; j < 16; j++) qs[j] = (uint8_t)((u[j] & 0xF) | ((u[j + 16] & 0xF) << 4));
}

static uint32_t fifth_bits(const int u[QK]) {
    uint32_t qh = 0;
    for (int j = 0; j < QK; j++) qh |= (uint32_t)((u[j] >> 4) & 1) << j;
    return qh;
}

void quant_q4_0_quantize(const float *src, void *dst, size_t n) {
    uint8_t *b = dst;
    int u[QK];
    for (size_t i = 0; i < n / QK; i++, b += 18, src += QK) {
        sym_block(src, -8, 7, b, u);
        pack_nibbles(u, b + 2);
    }
}

void quant_q4_1_quantize(const float *src, void *dst, size_t n) {
    uint8_t *b = dst;
    int u[QK];
    for (size_t i = 0; i < n / QK; i++, b += 20, src += QK) {
        affine_block(src, 15, b, u);
        pack_nibbles(u, b + 4);
    }
}

void quant_q5_0_quantize(const float *src, void *dst, size_t n) {
    uint8_t *b = dst;
    int u[QK];
    for (size_t i = 0; i < n / QK; i++, b += 22, src += QK) {
        sym_block(src, -16, 15, b, u);
        quant_wr32(b + 2, fifth_bits(u));
        pack_nibbles(u, b + 6);
    }
}

void quant_q5_1_quantize(const float *src, void *dst, size_t n) {
    uint8_t *b = dst;
    int u[QK];
    for (size_t i = 0; i < n / QK; i++, b += 24, src += QK) {
        affine_block(src, 31, b, u);
        quant_wr32(b + 4, fifth_bits(u));
        pack_nibbles(u, b + 8);
    }
}

void quant_q8_0_quantize(const float *src, void *dst, size_t n) {
    uint8_t *b = dst;
    int u[QK];
    for (size_t i = 0; i < n / QK; i++, b += 34, src += QK) {
        sym_block(src, -127, 127, b, u);
        for (int j = 0; j < QK; j++) b[2 + j] = (uint8_t)(int8_t)(u[j] - 127);
    }
}
