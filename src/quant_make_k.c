/* Quantizers for the K-quant super-blocks (Q2_K .. Q6_K). Each sub-block gets
 * its own fitted scale (and min), those are quantized against the f16
 * super-block scale(s) d (and dmin), and finally every value is rounded to
 * the nearest level under the stored effective scale. Not bit-identical to
 * ggml's quantizers; layouts are described in quant_k.c. */
#include "quant.h"
#include "quant_fit.h"
#include "quant_rows.h"

#include <math.h>
#include <string.h>

enum { QK_K = 256 };

/* Affine sub-blocks (value = d*sc*L - dmin*m): nsub groups of len values,
 * levels 0..nmax, scales and mins 0..smax. */
static void k_affine(const float *x, int nsub, int len, int nmax, int smax, uint8_t sc[], uint8_t mn[],
                     uint16_t *dh, uint16_t *mh, int L[QK_K]) {
    float s[16], m[16], max_s = 0, max_m = 0;
    for (int j = 0; j < nsub; j++) {
        float b;
        s[j] = quant_fit_affine(x + len * j, len, nmax, 1, &b);
        m[j] = -b;
        if (s[j] > max_s) max_s = s[j];
        if (m[j] > max_m) max_m = m[j];
    }
    *dh = quant_f16_scale(max_s / (float)smax);
    *mh = quant_f16_scale(max_m / (float)smax);
    float d = rl_f16_to_f32(*dh), dmin = rl_f16_to_f32(*mh);
    for (int j = 0; j < nsub; j++) {
        sc[j] = (uint8_t)(d > 0 ? quant_round_clamp(s[j] / d, 0, smax) : 0);
        mn[j] = (uint8_t)(dmin > 0 ? quant_round_clamp(m[j] / dmin, 0, smax) : 0);
        float ds = d * (float)sc[j], dm = dmin * (float)mn[j];
        for (int l = 0; l < len; l++)
            L[len * j + l] = ds > 0 ? quant_round_clamp((x[len * j + l] + dm) / ds, 0, nmax) : 0;
    }
}

/* Symmetric sub-blocks of 16 (value = d*sc*L): levels lo..hi, signed scales
 * slo..shi (slo < 0). Returns L - lo (0..hi-lo) in u. */
static void k_sym(const float *x, int lo, int hi, int slo, int shi, int sc[16], uint16_t *dh, int u[QK_K]) {
    float s[16], smax = 0;
    for (int j = 0; j < 16; j++) {
        s[j] = quant_fit_sym(x + 16 * j, 16, lo, hi);
        if (fabsf(s[j]) > fabsf(smax)) smax = s[j];
    }
    *dh = quant_f16_scale(smax / (float)slo); /* the largest scale uses the longer negative end */
    float d = rl_f16_to_f32(*dh);
    for (int j = 0; j < 16; j++) {
        sc[j] = d != 0 ? quant_round_clamp(s[j] / d, slo, shi) : 0;
        float ds = d * (float)sc[j];
        for (int l = 0; l < 16; l++) u[16 * j + l] = (ds != 0 ? quant_round_clamp(x[16 * j + l] / ds, lo, hi) : 0) - lo;
    }
}

void quant_q2_k_quantize(const float *src, void *dst, size_t n) {
    uint8_t *b = dst;
    for (size_t i = 0; i < n / QK_K; i++, b += 84, src += QK_K) {
        uint8_t sc[16], mn[16];
        uint16_t dh, mh;
        int L[QK_K];
        k_affine(src, 16, 16, 3, 15, sc, mn, &dh, &mh, L);
        memset(b, 0, 84);
        for (int j = 0; j < 16; j++) b[j] = (uint8_t)(sc[j] | (mn[j] << 4));
        /* element 128h + 32j + l -> bits 2j of qs[32h + l] */
        for (int e = 0; e < QK_K; e++) b[16 + 32 * (e / 128) + e % 32] |= (uint8_t)(L[e] << (2 * ((e % 128) / 32)));
        quant_wr16(b + 80, dh);
        quant_wr16(b + 82, mh);
    }
}

void quant_q3_k_quantize(const float *src, void *dst, size_t n) {
    uint8_t *b = dst;
    for (size_t i = 0; i < n / QK_K; i++, b += 110, src += QK_K) {
        int sc[16], u[QK_K];
        uint16_t dh;
        k_sym(src, -4, 3, -32, 31, sc, &dh, u);
        memset(b, 0, 110);
        for (int e = 0; e < QK_K; e++) { /* element 128h + 32j + l */
            int h = e / 128, j = (e % 128) / 32, l = e % 32;
            b[32 + 32 * h + l] |= (uint8_t)((u[e] & 3) << (2 * j));
            b[l] |= (uint8_t)((u[e] >> 2) << (4 * h + j));
        }
        uint8_t *s = b + 96;
        for (int j = 0; j < 16; j++) {
            int v = sc[j] + 32;
            if (j < 8) s[j] |= (uint8_t)(v & 0xF);
            else s[j - 8] |= (uint8_t)((v & 0xF) << 4);
            s[8 + j % 4] |= (uint8_t)((v >> 4) << (2 * (j / 4)));
        }
        quant_wr16(b + 108, dh);
    }
}

/* Q4_K/Q5_K 12-byte scale/min packing (inverse of k4_scales in quant_k.c). */
static void k4_pack(const uint8_t sc[8], const uint8_t mn[8], uint8_t *s) {
    for (int j = 0; j < 4; j++) {
        s[j] = (uint8_t)(sc[j] | ((sc[j + 4] >> 4) << 6));
        s[j + 4] = (uint8_t)(mn[j] | ((mn[j + 4] >> 4) << 6));
        s[j + 8] = (uint8_t)((sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4));
    }
}

void quant_q4_k_quantize(const float *src, void *dst, size_t n) {
    uint8_t *b = dst;
    for (size_t i = 0; i < n / QK_K; i++, b += 144, src += QK_K) {
        uint8_t sc[8], mn[8];
        uint16_t dh, mh;
        int L[QK_K];
        k_affine(src, 8, 32, 15, 63, sc, mn, &dh, &mh, L);
        quant_wr16(b, dh);
        quant_wr16(b + 2, mh);
        k4_pack(sc, mn, b + 4);
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) b[16 + 32 * c + l] = (uint8_t)(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
    }
}

void quant_q5_k_quantize(const float *src, void *dst, size_t n) {
    uint8_t *b = dst;
    for (size_t i = 0; i < n / QK_K; i++, b += 176, src += QK_K) {
        uint8_t sc[8], mn[8];
        uint16_t dh, mh;
        int L[QK_K];
        k_affine(src, 8, 32, 31, 63, sc, mn, &dh, &mh, L);
        quant_wr16(b, dh);
        quant_wr16(b + 2, mh);
        k4_pack(sc, mn, b + 4);
        memset(b + 16, 0, 32);
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) {
                int lo = L[64 * c + l], hi = L[64 * c + 32 + l];
                b[48 + 32 * c + l] = (uint8_t)((lo & 0xF) | ((hi & 0xF) << 4));
                b[16 + l] |= (uint8_t)(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
            }
    }
}

void quant_q6_k_quantize(const float *src, void *dst, size_t n) {
    uint8_t *b = dst;
    for (size_t i = 0; i < n / QK_K; i++, b += 210, src += QK_K) {
        int sc[16], u[QK_K];
        uint16_t dh;
        k_sym(src, -32, 31, -128, 127, sc, &dh, u);
        for (int h = 0; h < 2; h++)
            for (int l = 0; l < 32; l++) {
                const int *v = u + 128 * h + l; /* v[32k] is element 128h + l + 32k */
                b[64 * h + l] = (uint8_t)((v[0] & 0xF) | ((v[64] & 0xF) << 4));
                b[64 * h + l + 32] = (uint8_t)((v[32] & 0xF) | ((v[96] & 0xF) << 4));
                b[128 + 32 * h + l] = (uint8_t)((v[0] >> 4) | ((v[32] >> 4) << 2) | ((v[64] >> 4) << 4) | ((v[96] >> 4) << 6));
            }
        for (int j = 0; j < 16; j++) b[192 + j] = (uint8_t)(int8_t)sc[j];
        quant_wr16(b + 208, dh);
    }
}
