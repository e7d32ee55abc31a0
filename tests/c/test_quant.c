/* Tests for the ggml block formats (src/quant*.c).
 *
 * The references here are written independently of the code under test,
 * straight from the layout descriptions (ggml-common.h / ggml-quants.c, and
 * docs/gemma4.md 9.2): every field is pulled out bit by bit with bits() at an
 * explicit bit position computed from the element index, and the value is
 * computed in double. All the products involved are exact in f32 (at most
 * 11+7+6 significant bits), so the double result rounded once to f32 must
 * equal ggml's f32 expression bit for bit. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "quant.h"

/* ---- literal helpers ------------------------------------------------------ */

/* n bits (LSB first) starting at absolute bit position pos of p. */
static unsigned bits(const uint8_t *p, int pos, int n) {
    unsigned v = 0;
    for (int t = 0; t < n; t++) v |= (unsigned)((p[(pos + t) / 8] >> ((pos + t) % 8)) & 1) << t;
    return v;
}

static double ref_f16(uint16_t h) {
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v;
    if (e == 31) v = m ? NAN : INFINITY;
    else if (e == 0) v = ldexp(m, -24);
    else v = ldexp(1024 + m, e - 25);
    return s ? -v : v;
}

static double f16_at(const uint8_t *p, int byte) { return ref_f16((uint16_t)bits(p, 8 * byte, 16)); }

static int sbyte(unsigned v) { return v >= 128 ? (int)v - 256 : (int)v; }

static uint32_t fbits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float ffrom(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Same float, bit for bit; any NaN matches any NaN. */
static int same_f32(float a, float b) { return (isnan(a) && isnan(b)) || fbits(a) == fbits(b); }

static uint16_t rand_finite_f16(void) {
    for (;;) {
        uint16_t h = (uint16_t)t_rand_u64();
        if (((h >> 10) & 31) != 31) return h;
    }
}

/* ---- reference element decoders (element i of one block) --------------- */

static double ref_q4_0(const uint8_t *b, int i) { /* d; qs[16]: i<16 low nibble of qs[i], else high of qs[i-16] */
    int q = (int)bits(b, i < 16 ? 8 * (2 + i) : 8 * (2 + i - 16) + 4, 4);
    return f16_at(b, 0) * (q - 8);
}

static double ref_q4_1(const uint8_t *b, int i) {
    int q = (int)bits(b, i < 16 ? 8 * (4 + i) : 8 * (4 + i - 16) + 4, 4);
    return f16_at(b, 0) * q + f16_at(b, 2);
}

static double ref_q5_0(const uint8_t *b, int i) { /* d; qh: bit i = 5th bit of element i; qs */
    int q = (int)bits(b, i < 16 ? 8 * (6 + i) : 8 * (6 + i - 16) + 4, 4) | (int)bits(b, 8 * 2 + i, 1) << 4;
    return f16_at(b, 0) * (q - 16);
}

static double ref_q5_1(const uint8_t *b, int i) {
    int q = (int)bits(b, i < 16 ? 8 * (8 + i) : 8 * (8 + i - 16) + 4, 4) | (int)bits(b, 8 * 4 + i, 1) << 4;
    return f16_at(b, 0) * q + f16_at(b, 2);
}

static double ref_q8_0(const uint8_t *b, int i) { return f16_at(b, 0) * sbyte(bits(b, 8 * (2 + i), 8)); }

static double ref_q2_k(const uint8_t *b, int i) {
    /* scales[16] @0, qs[64] @16, d @80, dmin @82. i = 128h + 32j + l:
     * q = 2 bits at shift 2j of qs[32h + l]; sub-block 8h + 2j + l/16 */
    int h = i / 128, j = (i % 128) / 32, l = i % 32, sub = 8 * h + 2 * j + l / 16;
    int q = (int)bits(b, 8 * (16 + 32 * h + l) + 2 * j, 2);
    int sc = (int)bits(b, 8 * sub, 4), mn = (int)bits(b, 8 * sub + 4, 4);
    return f16_at(b, 80) * sc * q - f16_at(b, 82) * mn;
}

static double ref_q3_k(const uint8_t *b, int i) {
    /* hmask[32] @0, qs[64] @32, scales[12] @96, d @108. i = 128h + 32j + l */
    int h = i / 128, j = (i % 128) / 32, l = i % 32, s = i / 16;
    int low = (int)bits(b, 8 * (32 + 32 * h + l) + 2 * j, 2);
    int high = (int)bits(b, 8 * l + 4 * h + j, 1);
    int sc_lo = (int)(s < 8 ? bits(b, 8 * (96 + s), 4) : bits(b, 8 * (96 + s - 8) + 4, 4));
    int sc_hi = (int)bits(b, 8 * (96 + 8 + s % 4) + 2 * (s / 4), 2);
    int sc = (sc_lo | sc_hi << 4) - 32;
    return f16_at(b, 108) * sc * (low - (high ? 0 : 4));
}

/* Q4_K/Q5_K scale and min of sub-block s from the 12 bytes at byte offset 4. */
static void ref_k4_scale(const uint8_t *b, int s, int *sc, int *mn) {
    const int S = 8 * 4; /* bit position of scales[0] */
    if (s < 4) {
        *sc = (int)bits(b, S + 8 * s, 6);
        *mn = (int)bits(b, S + 8 * (s + 4), 6);
    } else {
        *sc = (int)(bits(b, S + 8 * (s + 4), 4) | bits(b, S + 8 * (s - 4) + 6, 2) << 4);
        *mn = (int)(bits(b, S + 8 * (s + 4) + 4, 4) | bits(b, S + 8 * s + 6, 2) << 4);
    }
}

static double ref_q4_k(const uint8_t *b, int i) {
    /* d @0, dmin @2, scales @4, qs[128] @16. chunk c = i/64; within w = i%64:
     * w < 32 low nibble of qs[32c + w], else high nibble of qs[32c + w - 32] */
    int c = i / 64, w = i % 64, sc, mn;
    int q = (int)bits(b, 8 * (16 + 32 * c + w % 32) + (w < 32 ? 0 : 4), 4);
    ref_k4_scale(b, i / 32, &sc, &mn);
    return f16_at(b, 0) * sc * q - f16_at(b, 2) * mn;
}

static double ref_q5_k(const uint8_t *b, int i) {
    /* d @0, dmin @2, scales @4, qh[32] @16, qs[128] @48; 5th bit: bit 2c (+1 for
     * the high-nibble half) of qh[w % 32] */
    int c = i / 64, w = i % 64, sc, mn;
    int q = (int)bits(b, 8 * (48 + 32 * c + w % 32) + (w < 32 ? 0 : 4), 4);
    q |= (int)bits(b, 8 * (16 + w % 32) + 2 * c + (w < 32 ? 0 : 1), 1) << 4;
    ref_k4_scale(b, i / 32, &sc, &mn);
    return f16_at(b, 0) * sc * q - f16_at(b, 2) * mn;
}

static double ref_q6_k(const uint8_t *b, int i) {
    /* ql[128] @0, qh[64] @128, int8 scales[16] @192, d @208 (gemma4.md 9.2).
     * half h = i/128, r = i%128 = 32k + l: k selects the ql byte (l or l+32),
     * nibble (k<2 low) and qh bit pair 2k; scale index 8h + l/16 + 2k */
    int h = i / 128, r = i % 128, k = r / 32, l = r % 32;
    int ql_byte = 64 * h + l + (k % 2 ? 32 : 0);
    int q = (int)bits(b, 8 * ql_byte + (k < 2 ? 0 : 4), 4) | (int)bits(b, 8 * (128 + 32 * h + l) + 2 * k, 2) << 4;
    int sc = sbyte(bits(b, 8 * (192 + 8 * h + l / 16 + 2 * k), 8));
    return f16_at(b, 208) * sc * (q - 32);
}

static double ref_f32(const uint8_t *b, int i) { return ffrom((uint32_t)bits(b, 32 * i, 32)); }
static double ref_f16e(const uint8_t *b, int i) { return ref_f16((uint16_t)bits(b, 16 * i, 16)); }
static double ref_bf16(const uint8_t *b, int i) { return ffrom((uint32_t)bits(b, 16 * i, 16) << 16); }

typedef struct {
    rl_type type;
    double (*ref)(const uint8_t *block, int i);
    int scale_at[2]; /* byte offsets of f16 scale fields (-1: none) */
    double rmse_normal, rmse_outliers; /* verified round-trip bounds (relative RMSE) */
} tcase;

/* Round-trip bounds: relative RMSE sqrt(sum (x-y)^2 / sum x^2) over 4096
 * values. Worst case seen over 40 seeds (normal / with 1% outliers x20):
 * Q8_0 0.0052/0.012, Q4_0 0.084/0.159, Q4_1 0.072/0.102, Q5_0 0.042/0.093,
 * Q5_1 0.034/0.051, Q2_K 0.270/0.266, Q3_K 0.147/0.166, Q4_K 0.073/0.105,
 * Q5_K 0.037/0.055, Q6_K 0.017/0.035. Bounds below leave ~20% headroom.
 * (Symmetric types lose more to outliers: the outlier fixes the step for the
 * whole block and half the levels sit on the other side.) F16/BF16 are
 * checked per element instead (half an ulp). */
static const tcase cases[] = {
    {RL_TYPE_F32, ref_f32, {-1, -1}, 0, 0},
    {RL_TYPE_F16, ref_f16e, {-1, -1}, 0, 0},
    {RL_TYPE_BF16, ref_bf16, {-1, -1}, 0, 0},
    {RL_TYPE_Q4_0, ref_q4_0, {0, -1}, 0.1, 0.19},
    {RL_TYPE_Q4_1, ref_q4_1, {0, 2}, 0.085, 0.12},
    {RL_TYPE_Q5_0, ref_q5_0, {0, -1}, 0.05, 0.11},
    {RL_TYPE_Q5_1, ref_q5_1, {0, 2}, 0.042, 0.062},
    {RL_TYPE_Q8_0, ref_q8_0, {0, -1}, 0.0062, 0.015},
    {RL_TYPE_Q2_K, ref_q2_k, {80, 82}, 0.32, 0.32},
    {RL_TYPE_Q3_K, ref_q3_k, {108, -1}, 0.175, 0.2},
    {RL_TYPE_Q4_K, ref_q4_k, {0, 2}, 0.087, 0.125},
    {RL_TYPE_Q5_K, ref_q5_k, {0, 2}, 0.045, 0.066},
    {RL_TYPE_Q6_K, ref_q6_k, {208, -1}, 0.021, 0.042},
};
enum { NCASES = sizeof cases / sizeof cases[0] };

/* Random row of nblk blocks: random bytes, f16 scale fields finite. For the
 * float types each element is random finite (f16/bf16 bits) or normal (f32). */
static uint8_t *random_row(const tcase *c, size_t nblk) {
    const rl_type_info *t = rl_type_get(c->type);
    size_t bytes = nblk * t->type_size;
    uint8_t *p = malloc(bytes);
    for (size_t k = 0; k < bytes; k++) p[k] = (uint8_t)t_rand_u64();
    for (size_t k = 0; k < nblk; k++) {
        uint8_t *b = p + k * t->type_size;
        for (int f = 0; f < 2; f++)
            if (c->scale_at[f] >= 0) {
                uint16_t h = rand_finite_f16();
                memcpy(b + c->scale_at[f], &h, 2); /* little-endian host (x86, wasm) */
            }
        if (c->type == RL_TYPE_F16) {
            uint16_t h = rand_finite_f16();
            memcpy(b, &h, 2);
        } else if (c->type == RL_TYPE_BF16) {
            /* random sign and mantissa, exponent 2^-60 .. 2^60 (no f32 overflow in sums) */
            uint16_t h = (uint16_t)((t_rand_u64() & 0x807F) | ((67 + t_rand_u64() % 121) << 7));
            memcpy(b, &h, 2);
        } else if (c->type == RL_TYPE_F32) {
            float f = (float)t_rand_normal();
            memcpy(b, &f, 4);
        }
    }
    return p;
}

/* ---- dequant vs reference ------------------------------------------------- */

static void check_dequant(const tcase *c, const uint8_t *row, size_t nblk, const char *what) {
    const rl_type_info *t = rl_type_get(c->type);
    size_t n = nblk * t->block_size;
    float *y = malloc(n * sizeof *y);
    t->dequant(row, y, n);
    int bad = 0;
    for (size_t k = 0; k < nblk && bad < 5; k++)
        for (uint32_t i = 0; i < t->block_size && bad < 5; i++) {
            float want = (float)c->ref(row + k * t->type_size, (int)i), got = y[k * t->block_size + i];
            if (!same_f32(want, got)) {
                bad++;
                CHECK(0, "%s %s: block %zu elem %u: got %.9g (0x%08x) want %.9g (0x%08x)", t->name, what, k, i, got,
                      fbits(got), want, fbits(want));
            }
        }
    free(y);
}

static void test_dequant_random(void) {
    for (int ci = 0; ci < NCASES; ci++) {
        const tcase *c = &cases[ci];
        size_t nblk = rl_type_get(c->type)->block_size == 1 ? 4096 : 64;
        for (int rep = 0; rep < 4; rep++) {
            uint8_t *row = random_row(c, nblk);
            check_dequant(c, row, nblk, "random");
            free(row);
        }
    }
}

/* d (and dmin) set to +-inf / NaN: NaN where the reference is NaN, equal elsewhere. */
static void test_dequant_nonfinite_scales(void) {
    static const uint16_t specials[] = {0x7C00, 0xFC00, 0x7E00, 0x7D01, 0xFE00};
    for (int ci = 0; ci < NCASES; ci++) {
        const tcase *c = &cases[ci];
        if (c->scale_at[0] < 0) continue;
        size_t nblk = 4;
        for (size_t s = 0; s < sizeof specials / sizeof *specials; s++)
            for (int f = 0; f < 2; f++) {
                if (c->scale_at[f] < 0) continue;
                uint8_t *row = random_row(c, nblk);
                for (size_t k = 0; k < nblk; k++)
                    memcpy(row + k * rl_type_get(c->type)->type_size + c->scale_at[f], &specials[s], 2);
                check_dequant(c, row, nblk, "non-finite scale");
                free(row);
            }
    }
}

/* ---- hand-built blocks ----------------------------------------------------- */

static void expect_elems(rl_type type, const uint8_t *blk, const int *idx, const double *want, int count) {
    const rl_type_info *t = rl_type_get(type);
    float y[256];
    t->dequant(blk, y, t->block_size);
    for (int k = 0; k < count; k++)
        CHECK(y[idx[k]] == (float)want[k], "%s hand block: elem %d = %.9g, want %.9g", t->name, idx[k], y[idx[k]], want[k]);
}

static void test_hand_q4_k(void) {
    /* d = 0.5 (0x3800), dmin = 0.25 (0x3400).
     * sub-block scales sc = {1,2,3,4,17,18,33,63}, mins m = {0,1,2,3,16,5,48,63}.
     * bytes 0..3: sc[j] | (sc[j+4]>>4)<<6  -> 0x41 0x42 0x83 0xC4
     * bytes 4..7: m[j]  | (m[j+4]>>4)<<6   -> 0x40 0x01 0xC2 0xC3
     * bytes 8..11: (sc[j+4]&15) | (m[j+4]&15)<<4 -> 0x01 0x52 0x01 0xFF
     * qs[k] = k, so low nibble k&15, high nibble k>>4. */
    uint8_t b[144] = {0x00, 0x38, 0x00, 0x34, 0x41, 0x42, 0x83, 0xC4, 0x40, 0x01, 0xC2, 0xC3, 0x01, 0x52, 0x01, 0xFF};
    for (int k = 0; k < 128; k++) b[16 + k] = (uint8_t)k;
    static const int idx[] = {0, 5, 40, 63, 71, 130, 160, 200, 255};
    static const double want[] = {
        0,      /* sub 0: q = qs[0]&15 = 0 -> 0.5*1*0 - 0.25*0 */
        2.5,    /* sub 0: q = 5 -> 0.5*1*5 */
        -0.25,  /* sub 1: high nibble of qs[8] = 0 -> 0.5*2*0 - 0.25*1 */
        0.75,   /* sub 1: high nibble of qs[31] = 1 -> 1 - 0.25 */
        10,     /* sub 2: low nibble of qs[39] = 7 -> 0.5*3*7 - 0.25*2 */
        13,     /* sub 4: low nibble of qs[66] = 2 -> 0.5*17*2 - 0.25*16 */
        34.75,  /* sub 5: high nibble of qs[64] = 4 -> 0.5*18*4 - 0.25*5 */
        120,    /* sub 6: low nibble of qs[104] = 8 -> 0.5*33*8 - 0.25*48 */
        204.75, /* sub 7: high nibble of qs[127] = 7 -> 0.5*63*7 - 0.25*63 */
    };
    expect_elems(RL_TYPE_Q4_K, b, idx, want, 9);

    /* Q5_K with the same d/dmin/scales, qs[k] = k, qh all zero except
     * qh[8] = 0x42: bit 1 (elem 40, the high-nibble half of chunk 0) and
     * bit 6 (elem 200, low-nibble half of chunk 3) add 16. */
    uint8_t b5[176] = {0x00, 0x38, 0x00, 0x34, 0x41, 0x42, 0x83, 0xC4, 0x40, 0x01, 0xC2, 0xC3, 0x01, 0x52, 0x01, 0xFF};
    b5[16 + 8] = 0x42;
    for (int k = 0; k < 128; k++) b5[48 + k] = (uint8_t)k;
    static const int idx5[] = {5, 40, 200, 255};
    static const double want5[] = {
        2.5,    /* as Q4_K */
        15.75,  /* q = 0 + 16 -> 0.5*2*16 - 0.25*1 */
        384,    /* q = 8 + 16 -> 0.5*33*24 - 0.25*48 */
        204.75, /* as Q4_K */
    };
    expect_elems(RL_TYPE_Q5_K, b5, idx5, want5, 4);
}

static void test_hand_q6_k(void) {
    /* d = 2 (0x4000); scales[j] = j - 8; ql[k] = k; qh[k] = 0xE4 (bit pair k = k). */
    uint8_t b[210] = {0};
    for (int k = 0; k < 128; k++) b[k] = (uint8_t)k;
    for (int k = 0; k < 64; k++) b[128 + k] = 0xE4;
    for (int j = 0; j < 16; j++) b[192 + j] = (uint8_t)(int8_t)(j - 8);
    b[208] = 0x00, b[209] = 0x40;
    static const int idx[] = {0, 17, 40, 100, 200, 255};
    static const double want[] = {
        512,  /* l=0,k=0: q = (ql[0]&15) | 0<<4 = 0, sc[0] = -8: 2*-8*(0-32) */
        434,  /* l=17,k=0: q = 1, sc[1] = -7: 2*-7*(1-32) */
        96,   /* l=8,k=1: q = (ql[40]&15)=8 | 1<<4 = 24, sc[2] = -6: 2*-6*(24-32) */
        -72,  /* l=4,k=3: q = (ql[36]>>4)=2 | 3<<4 = 50, sc[6] = -2: 2*-2*18 */
        32,   /* h=1,l=8,k=2: q = (ql[72]>>4)=4 | 2<<4 = 36, sc[12] = 4: 2*4*4 */
        322,  /* h=1,l=31,k=3: q = (ql[127]>>4)=7 | 48 = 55, sc[15] = 7: 2*7*23 */
    };
    expect_elems(RL_TYPE_Q6_K, b, idx, want, 6);
}

static void test_hand_q3_k_q2_k(void) {
    /* Q3_K, d = 1 (0x3C00). scales bytes: s[0] = 0x21 (scale 0 low4 = 1,
     * scale 8 low4 = 2), s[8] = 0xE4 (top-2 pairs: scale 0 -> 0, 4 -> 1,
     * 8 -> 2, 12 -> 3), rest 0. So scale0 = 1-32 = -31, scale1 = -32,
     * scale2 = -32, scale4 = 16-32 = -16, scale8 = 34-32 = 2, scale12 = 48-32 = 16.
     * hmask[0] = 0x01 (element 0's high bit), qs[0] = 0x03. */
    uint8_t b[110] = {0};
    b[0] = 0x01, b[32] = 0x03, b[96] = 0x21, b[96 + 8] = 0xE4, b[108] = 0x00, b[109] = 0x3C;
    static const int idx[] = {0, 16, 32, 64, 128, 192};
    static const double want[] = {
        -93, /* low 3, high 1 -> q = 3; scale0 -31 */
        128, /* sub 1 (-32): low 0, high 0 -> q = -4 */
        128, /* j=1: low = (qs[0]>>2)&3 = 0, hmask bit 1 = 0 -> -4; sub 2 (-32) */
        64,  /* j=2: q = -4; sub 4 (-16) */
        -8,  /* h=1: qs[32] = 0, hmask bit 4 = 0 -> -4; sub 8 (2) */
        -64, /* h=1, j=2: -4; sub 12 (16) */
    };
    expect_elems(RL_TYPE_Q3_K, b, idx, want, 6);

    /* Q2_K: d = 1 (0x3C00), dmin = 0.5 (0x3800). scales[0] = 0x21 (sc 1, m 2),
     * scales[2] = 0x13 (sc 3, m 1), scales[4] = 0xF5 (sc 5, m 15),
     * scales[6] = 0x0F (sc 15, m 0). qs[0] = 0xE4: 2-bit fields 0,1,2,3. */
    uint8_t c[84] = {0};
    c[0] = 0x21, c[2] = 0x13, c[4] = 0xF5, c[6] = 0x0F, c[16] = 0xE4;
    c[80] = 0x00, c[81] = 0x3C, c[82] = 0x00, c[83] = 0x38;
    static const int idx2[] = {0, 32, 64, 96, 1};
    static const double want2[] = {
        -1,  /* q 0: 1*1*0 - 0.5*2 */
        2.5, /* q 1, sub 2: 1*3*1 - 0.5*1 */
        2.5, /* q 2, sub 4: 1*5*2 - 0.5*15 */
        45,  /* q 3, sub 6: 1*15*3 - 0 */
        -1,  /* qs[1] = 0, sub 0 */
    };
    expect_elems(RL_TYPE_Q2_K, c, idx2, want2, 5);
}

static void test_hand_legacy(void) {
    /* Q8_0: d = 0.5, qs[i] = i - 16 -> 0.5*(i-16). */
    uint8_t q8[34] = {0x00, 0x38};
    for (int i = 0; i < 32; i++) q8[2 + i] = (uint8_t)(int8_t)(i - 16);
    static const int i8[] = {0, 16, 31};
    static const double w8[] = {-8, 0, 7.5};
    expect_elems(RL_TYPE_Q8_0, q8, i8, w8, 3);

    /* Q5_0: d = 1, qh = 0x80000001 (bits 0 and 31), qs[15] = 0xF0. */
    uint8_t q5[22] = {0x00, 0x3C, 0x01, 0x00, 0x00, 0x80};
    q5[6 + 15] = 0xF0;
    static const int i5[] = {0, 1, 15, 31, 16};
    static const double w5[] = {
        0,   /* nibble 0 | 16 -> 16 - 16 */
        -16, /* 0 - 16 */
        -16, /* low nibble of qs[15] = 0, bit 15 clear */
        15,  /* high nibble of qs[15] = 15 | bit 31 -> 31 - 16 */
        -16, /* high nibble of qs[0] = 0, bit 16 clear */
    };
    expect_elems(RL_TYPE_Q5_0, q5, i5, w5, 5);

    /* Q4_1: d = 2, m = -1 (0xBC00), qs[3] = 0x5A: elem 3 = 2*10-1, elem 19 = 2*5-1. */
    uint8_t q41[20] = {0x00, 0x40, 0x00, 0xBC};
    q41[4 + 3] = 0x5A;
    static const int i41[] = {3, 19, 0};
    static const double w41[] = {19, 9, -1};
    expect_elems(RL_TYPE_Q4_1, q41, i41, w41, 3);

    /* Q4_0: d = -0.25 (0xB400), qs[0] = 0xF0: elem 0 = -0.25*(0-8), elem 16 = -0.25*(15-8). */
    uint8_t q40[18] = {0x00, 0xB4, 0xF0};
    static const int i40[] = {0, 16};
    static const double w40[] = {2, -1.75};
    expect_elems(RL_TYPE_Q4_0, q40, i40, w40, 2);
}

/* ---- dot vs double-precision reference ------------------------------------ */

static void check_dot(const tcase *c, const uint8_t *row, size_t n, const float *x) {
    const rl_type_info *t = rl_type_get(c->type);
    double ref = 0, mag = 0;
    for (size_t i = 0; i < n; i++) {
        double w = (float)c->ref(row + (i / t->block_size) * t->type_size, (int)(i % t->block_size));
        ref += w * x[i];
        mag += fabs(w * x[i]);
    }
    float got = t->dot(row, x, n);
    CHECK(fabs(got - ref) <= 1e-5 * mag + 1e-30, "%s dot n=%zu: got %.9g want %.9g (sum|wx| %.3g, rel err %.3g)", t->name,
          n, got, ref, mag, fabs(got - ref) / mag);
}

static void test_dot_random(void) {
    for (int ci = 0; ci < NCASES; ci++) {
        const tcase *c = &cases[ci];
        const rl_type_info *t = rl_type_get(c->type);
        /* whole rows like the engine's (1536 = 6 super-blocks), plus for the
         * element-wise types every length 1..40 to cover the scalar tails */
        size_t lens[48], nl = 0;
        lens[nl++] = 1536;
        lens[nl++] = t->block_size == 1 ? 6144 : 8 * t->block_size;
        if (t->block_size == 1)
            for (size_t k = 1; k <= 40; k++) lens[nl++] = k;
        for (size_t li = 0; li < nl; li++) {
            size_t n = lens[li];
            uint8_t *row = random_row(c, n / t->block_size);
            float *x = malloc(n * sizeof *x);
            for (size_t i = 0; i < n; i++) x[i] = (float)t_rand_normal();
            check_dot(c, row, n, x);
            free(row);
            free(x);
        }
    }
}

/* Lane-by-lane check of the vector f16 path: a row of 16 equal halves dotted
 * with ones is 16*h exactly (every partial sum k*h is exact), for every f16. */
static void test_f16_dot_all_values(void) {
    const rl_type_info *t = rl_type_get(RL_TYPE_F16);
    float ones[16];
    for (int i = 0; i < 16; i++) ones[i] = 1;
    int bad = 0;
    for (uint32_t h = 0; h < 65536 && bad < 5; h++) {
        uint16_t row[16];
        for (int i = 0; i < 16; i++) row[i] = (uint16_t)h;
        float got = t->dot(row, ones, 16), want = (float)(16 * ref_f16((uint16_t)h));
        if (!(got == want || (isnan(got) && isnan(want)))) {
            bad++;
            CHECK(0, "f16 dot of 16 x 0x%04x: got %.9g want %.9g", h, got, want);
        }
    }
}

/* ---- quantize round trips ------------------------------------------------- */

static double rel_rmse(const float *x, const float *y, size_t n) {
    double e = 0, s = 0;
    for (size_t i = 0; i < n; i++) e += ((double)x[i] - y[i]) * ((double)x[i] - y[i]), s += (double)x[i] * x[i];
    return sqrt(e / s);
}

static void quant_dequant(rl_type type, const float *x, float *y, size_t n) {
    const rl_type_info *t = rl_type_get(type);
    uint8_t *q = malloc(rl_row_bytes(type, n));
    t->quantize(x, q, n);
    t->dequant(q, y, n);
    free(q);
}

static void test_quantize_roundtrip(void) {
    enum { N = 4096 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    for (int data = 0; data < 2; data++) {
        /* data 0: N(0, s) with a random scale per row; data 1: the same with
         * 1% outliers 20x larger */
        double s = exp(t_rand_uniform() * 8 - 4);
        for (int i = 0; i < N; i++) {
            x[i] = (float)(t_rand_normal() * s);
            if (data == 1 && t_rand_uniform() < 0.01) x[i] *= 20;
        }
        for (int ci = 0; ci < NCASES; ci++) {
            const tcase *c = &cases[ci];
            const rl_type_info *t = rl_type_get(c->type);
            quant_dequant(c->type, x, y, N);
            if (c->type == RL_TYPE_F32) {
                CHECK(memcmp(x, y, sizeof(float) * N) == 0, "F32 round trip not exact");
            } else if (c->type == RL_TYPE_F16 || c->type == RL_TYPE_BF16) {
                /* nearest rounding: |y - x| <= half an ulp = 2^-11 (f16) / 2^-8 (bf16) of |x| */
                double rel = c->type == RL_TYPE_F16 ? ldexp(1, -11) : ldexp(1, -8);
                int bad = 0;
                for (int i = 0; i < N && bad < 3; i++)
                    if (fabs((double)y[i] - x[i]) > rel * fabs(x[i]) + (c->type == RL_TYPE_F16 ? ldexp(1, -25) : 0))
                        { bad++; CHECK(0, "%s: %.9g -> %.9g", t->name, x[i], y[i]); }
            } else {
                double r = rel_rmse(x, y, N), bound = data ? c->rmse_outliers : c->rmse_normal;
                CHECK(r <= bound, "%s %s: relative RMSE %.5f > %.5f", t->name, data ? "outliers" : "normal", r, bound);
            }
        }
    }
    free(x);
    free(y);
}

/* Degenerate blocks: all zero -> exactly zero; all equal -> close; tiny and
 * large magnitudes -> finite, never NaN. */
static void test_quantize_degenerate(void) {
    enum { N = 512 };
    float x[N], y[N];
    static const float consts[] = {0.0f, 3.7f, -2.1f, 1e-30f, -1e-30f, 3e4f, -1e6f};
    for (int ci = 0; ci < NCASES; ci++) {
        const tcase *c = &cases[ci];
        const rl_type_info *t = rl_type_get(c->type);
        for (size_t k = 0; k < sizeof consts / sizeof *consts; k++) {
            for (int i = 0; i < N; i++) x[i] = consts[k];
            quant_dequant(c->type, x, y, N);
            int bad = 0;
            for (int i = 0; i < N && bad < 2; i++) {
                int ok = isfinite(y[i]);
                if (fabsf(consts[k]) > 65504) /* beyond f16: F16 is inf, scales saturate but stay finite */
                    ok = c->type == RL_TYPE_F16 ? isinf(y[i]) : ok;
                else if (consts[k] == 0) ok = ok && y[i] == 0;
                else if (fabsf(consts[k]) > 1e-3f) ok = ok && fabsf(y[i] - consts[k]) <= 0.01f * fabsf(consts[k]);
                else ok = ok && fabsf(y[i]) <= 1e-29f;
                if (!ok) { bad++; CHECK(0, "%s constant %g: elem %d -> %g", t->name, consts[k], i, y[i]); }
            }
        }
        /* half zeros, half a large value: finite, zeros stay small */
        for (int i = 0; i < N; i++) x[i] = (i / 8) % 2 ? 0.0f : 1000.0f;
        quant_dequant(c->type, x, y, N);
        for (int i = 0; i < N; i++)
            if (!isfinite(y[i])) {
                CHECK(0, "%s: non-finite output on mixed block", t->name);
                break;
            }
    }
}

/* ---- f16 / bf16 conversions ----------------------------------------------- */

static void test_f16_exhaustive(void) {
    int bad = 0;
    for (uint32_t h = 0; h < 65536 && bad < 5; h++) {
        float f = rl_f16_to_f32((uint16_t)h);
        double want = ref_f16((uint16_t)h);
        uint16_t back = rl_f32_to_f16(f);
        if (isnan(want)) {
            /* NaN stays NaN with its sign; quiet NaNs round-trip exactly,
             * signalling ones come back quieted */
            int ok = isnan(f) && (back & 0x7C00) == 0x7C00 && (back & 0x3FF) && (back & 0x8000) == (h & 0x8000) &&
                     (back == h || back == (h | 0x200));
            if (!ok) { bad++; CHECK(0, "f16 NaN 0x%04x -> %08x -> 0x%04x", h, fbits(f), back); }
        } else if (!(f == want && !signbit(f) == !signbit(want) && back == h)) {
            bad++;
            CHECK(0, "f16 0x%04x: f32 %.9g (want %.9g), back 0x%04x", h, f, want, back);
        }
    }
    /* the F16 dequant row agrees with the scalar conversion */
    uint16_t all[1024];
    float y[1024];
    for (uint32_t base = 0; base < 65536; base += 1024) {
        for (int i = 0; i < 1024; i++) all[i] = (uint16_t)(base + i);
        rl_type_get(RL_TYPE_F16)->dequant(all, y, 1024);
        for (int i = 0; i < 1024; i++)
            if (!same_f32(y[i], rl_f16_to_f32(all[i]))) {
                CHECK(0, "F16 dequant 0x%04x", all[i]);
                break;
            }
    }
}

static void test_f16_rounding(void) {
    /* Midpoints between neighbouring finite f16 values (exact in f32): ties go
     * to the even code, one f32 ulp either side goes to the nearer one. */
    int bad = 0;
    for (uint32_t h = 0; h < 0x7BFF && bad < 5; h++)
        for (int sign = 0; sign < 2; sign++) {
            uint16_t s = (uint16_t)(sign ? 0x8000 : 0);
            double mid = (ref_f16((uint16_t)h) + ref_f16((uint16_t)(h + 1))) / 2;
            float m = (float)(sign ? -mid : mid);
            uint16_t even = (uint16_t)((h & 1) ? h + 1 : h);
            uint16_t r0 = rl_f32_to_f16(m);
            uint16_t up = rl_f32_to_f16(nextafterf(m, sign ? -INFINITY : INFINITY));
            uint16_t dn = rl_f32_to_f16(nextafterf(m, 0));
            if (r0 != (s | even) || up != (s | (h + 1)) || dn != (s | h)) {
                bad++;
                CHECK(0, "f16 rounding around 0x%04x/0x%04x (sign %d): tie 0x%04x up 0x%04x down 0x%04x", h, h + 1, sign,
                      r0, up, dn);
            }
        }
    /* overflow: 65520 is the tie between 65504 (odd code 0x7BFF) and 2^16 -> inf */
    CHECK(rl_f32_to_f16(65520.0f) == 0x7C00, "65520 -> 0x%04x", rl_f32_to_f16(65520.0f));
    CHECK(rl_f32_to_f16(nextafterf(65520.0f, 0)) == 0x7BFF, "just below 65520");
    CHECK(rl_f32_to_f16(-1e10f) == 0xFC00, "-1e10 -> -inf");
    CHECK(rl_f32_to_f16(INFINITY) == 0x7C00 && rl_f32_to_f16(-INFINITY) == 0xFC00, "inf");
    /* underflow: 2^-25 is the tie between 0 and the smallest subnormal */
    CHECK(rl_f32_to_f16(0x1p-25f) == 0x0000, "2^-25 -> 0");
    CHECK(rl_f32_to_f16(nextafterf(0x1p-25f, 1)) == 0x0001, "just above 2^-25");
    CHECK(rl_f32_to_f16(-0x1p-26f) == 0x8000, "-2^-26 -> -0");
    CHECK(rl_f32_to_f16(ffrom(1)) == 0 && rl_f32_to_f16(-0.0f) == 0x8000, "f32 subnormal / -0");
    float qn = ffrom(0x7FC00000), sn = ffrom(0xFF800001);
    CHECK((rl_f32_to_f16(qn) & 0x7E00) == 0x7E00, "quiet NaN stays quiet NaN");
    CHECK((rl_f32_to_f16(sn) & 0xFE00) == 0xFE00, "signalling NaN (payload only in low bits) -> quiet NaN, sign kept");

    /* Random f32 over the whole f16 range against a nearest-value search. */
    for (int k = 0; k < 20000 && bad < 10; k++) {
        uint32_t u = (uint32_t)t_rand_u64();
        uint32_t e = 100 + (uint32_t)(t_rand_u64() % 45); /* 2^-27 .. 2^17 */
        float f = ffrom((u & 0x807FFFFF) | (e << 23));
        double a = fabs((double)f);
        uint16_t want;
        if (a >= 65520) want = 0x7C00;
        else {
            uint32_t lo = 0, hi = 0x7BFF; /* largest code with value <= a */
            while (lo < hi) {
                uint32_t mid = (lo + hi + 1) / 2;
                if (ref_f16((uint16_t)mid) <= a) lo = mid;
                else hi = mid - 1;
            }
            want = (uint16_t)lo;
            if (lo < 0x7BFF) {
                double d0 = a - ref_f16((uint16_t)lo), d1 = ref_f16((uint16_t)(lo + 1)) - a;
                if (d1 < d0 || (d1 == d0 && (lo & 1))) want = (uint16_t)(lo + 1);
            }
        }
        want |= (uint16_t)(signbit(f) ? 0x8000 : 0);
        uint16_t got = rl_f32_to_f16(f);
        if (got != want) { bad++; CHECK(0, "f32 %.9g (0x%08x) -> f16 0x%04x, want 0x%04x", f, fbits(f), got, want); }
    }
}

static void test_bf16(void) {
    int bad = 0;
    for (uint32_t h = 0; h < 65536 && bad < 5; h++) {
        float f = rl_bf16_to_f32((uint16_t)h);
        uint16_t back = rl_f32_to_bf16(f);
        int is_nan = ((h >> 7) & 0xFF) == 0xFF && (h & 0x7F);
        if (fbits(f) != h << 16) { bad++; CHECK(0, "bf16 0x%04x -> 0x%08x", h, fbits(f)); }
        if (is_nan ? !(back == h || back == (h | 0x40)) || !(back & 0x40) : back != h)
            { bad++; CHECK(0, "bf16 0x%04x round trip -> 0x%04x", h, back); }
    }
    /* ties to even and neighbours, on random finite codes */
    for (int k = 0; k < 20000 && bad < 10; k++) {
        uint16_t h = (uint16_t)t_rand_u64();
        if (((h >> 7) & 0xFF) >= 0xFE) continue;
        uint32_t mid = ((uint32_t)h << 16) | 0x8000;
        uint16_t even = (uint16_t)((h & 1) ? h + 1 : h);
        uint16_t r0 = rl_f32_to_bf16(ffrom(mid)), up = rl_f32_to_bf16(ffrom(mid + 1)), dn = rl_f32_to_bf16(ffrom(mid - 1));
        if (r0 != even || up != (uint16_t)(h + 1) || dn != h)
            { bad++; CHECK(0, "bf16 rounding at 0x%04x: tie 0x%04x up 0x%04x down 0x%04x", h, r0, up, dn); }
    }
    CHECK(rl_f32_to_bf16(ffrom(0x7F7F8000)) == 0x7F80, "bf16 overflow tie -> inf");
    CHECK(rl_f32_to_bf16(ffrom(0x7F7F7FFF)) == 0x7F7F, "just below -> max finite");
    CHECK(rl_f32_to_bf16(ffrom(0x7F800001)) == 0x7FC0, "sNaN with low payload -> quiet NaN");
    CHECK(rl_f32_to_bf16(ffrom(0xFFC00000)) == 0xFFC0, "negative quiet NaN kept");
}

static void test_table(void) {
    static const struct {
        uint32_t type;
        uint32_t bs, ts;
    } sizes[] = {{0, 1, 4},      {1, 1, 2},      {2, 32, 18},    {3, 32, 20},    {6, 32, 22},
                 {7, 32, 24},    {8, 32, 34},    {10, 256, 84},  {11, 256, 110}, {12, 256, 144},
                 {13, 256, 176}, {14, 256, 210}, {15, 256, 292}, {30, 1, 2}};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        const rl_type_info *t = rl_type_get(sizes[k].type);
        CHECK(t && t->block_size == sizes[k].bs && t->type_size == sizes[k].ts, "type %u sizes", sizes[k].type);
    }
    for (int ci = 0; ci < NCASES; ci++) {
        const rl_type_info *t = rl_type_get(cases[ci].type);
        CHECK(t->dequant && t->dot && t->quantize, "%s has all row functions", t->name);
    }
    CHECK(rl_type_get(4) == NULL && rl_type_get(64) == NULL && rl_type_get(0xFFFFFFFFu) == NULL, "unknown ids");
    CHECK(rl_row_bytes(RL_TYPE_Q4_K, 1536) == 6 * 144 && rl_row_bytes(RL_TYPE_Q4_K, 100) == 0, "row bytes");
}

const char *T_SUITE = "quant";
const t_case T_CASES[] = {
    {"table", test_table},
    {"f16_exhaustive", test_f16_exhaustive},
    {"f16_rounding", test_f16_rounding},
    {"bf16", test_bf16},
    {"dequant_random", test_dequant_random},
    {"dequant_nonfinite_scales", test_dequant_nonfinite_scales},
    {"hand_q4_k_q5_k", test_hand_q4_k},
    {"hand_q6_k", test_hand_q6_k},
    {"hand_q3_k_q2_k", test_hand_q3_k_q2_k},
    {"hand_legacy", test_hand_legacy},
    {"dot_random", test_dot_random},
    {"f16_dot_all_values", test_f16_dot_all_values},
    {"quantize_roundtrip", test_quantize_roundtrip},
    {"quantize_degenerate", test_quantize_degenerate},
    {0, 0},
};
