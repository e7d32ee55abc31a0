/* Tensor values and their conversion to storage types. Values come from a
 * counter-based generator: element i of a tensor is a function of (seed, name, i)
 * only, so chunking and write order cannot change a byte, and only integer and
 * IEEE +,-,*,/,sqrt operations are used (identical natively and in wasm). */
#include <string.h>

#include "plan.h"
#include "quant.h"

static inline uint64_t mix64(uint64_t z) { /* splitmix64 finaliser */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t gen_tensor_key(uint64_t seed, const char *name) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) h = (h ^ *p) * 0x100000001b3ull;
    return mix64(mix64(seed) ^ h);
}

static inline uint64_t rnd(uint64_t key, uint64_t i) { return mix64(key + (i + 1) * 0x9e3779b97f4a7c15ull); }

/* Irwin-Hall with four 16-bit uniforms, rescaled to unit variance: a smooth
 * bell on [-3.46, 3.46]. Cheap, and no libm call whose rounding could differ. */
static inline float normal(uint64_t r) {
    uint32_t s = (uint32_t)(r & 0xffff) + (uint32_t)((r >> 16) & 0xffff) + (uint32_t)((r >> 32) & 0xffff) +
                 (uint32_t)(r >> 48);
    return ((float)s - 131070.0f) * (1.7320508f / 65535.0f);
}

static inline float uniform(uint64_t r) { return (float)(r >> 40) * (1.0f / 16777216.0f); }

static float clamp_value(uint64_t key, float sign, float base) { return sign * (base + 0.5f * base * uniform(rnd(key, 0))); }

void gen_values(const gen_model *m, const gen_tensor *t, uint64_t start, size_t n, float *out) {
    uint64_t key = gen_tensor_key(m->cfg.seed, t->name);
    const gen_init *in = &t->init;
    switch (in->kind) {
    case GEN_INIT_NORMAL:
        for (size_t i = 0; i < n; i++) out[i] = in->a + in->b * normal(rnd(key, start + i));
        break;
    case GEN_INIT_ROPE_FREQS:
        for (size_t i = 0; i < n; i++) out[i] = (float)(start + i) < in->a ? 1.0f : 1e30f;
        break;
    case GEN_INIT_CLAMP:
        for (size_t i = 0; i < n; i++) out[i] = clamp_value(key, in->a, in->b);
        break;
    case GEN_INIT_CLAMP_DATA:
        for (size_t i = 0; i < n; i++) {
            char name[GEN_NAME_MAX];
            gen_clamp_data_name(&m->cfg, start + i, name, sizeof name);
            const gen_tensor *s = gen_model_find(m, name);
            out[i] = s ? clamp_value(gen_tensor_key(m->cfg.seed, name), s->init.a, s->init.b) : 0.0f;
        }
        break;
    }
}

/* Round to nearest even; overflow to infinity; subnormals exact. */
static uint16_t to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    x &= 0x7fffffffu;
    if (x >= 0x47800000u) return sign | (x > 0x7f800000u ? 0x7e00 : 0x7c00);
    if (x < 0x38800000u) { /* below 2^-14: adding 0.5 rounds to a multiple of 2^-24 */
        float v;
        memcpy(&v, &x, 4);
        v += 0.5f;
        uint32_t b;
        memcpy(&b, &v, 4);
        return sign | (uint16_t)(b - 0x3f000000u);
    }
    x += 0xc8000fffu + ((x >> 13) & 1); /* rebias the exponent by -112 and round */
    return sign | (uint16_t)(x >> 13);
}

static uint16_t to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40);
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1)) >> 16);
}

rl_status gen_convert(uint32_t type, const float *src, void *dst, size_t n, rl_error *err) {
    uint16_t *h = dst;
    switch (type) {
    case RL_TYPE_F32: memcpy(dst, src, n * sizeof *src); return RL_OK;
    case RL_TYPE_F16: for (size_t i = 0; i < n; i++) h[i] = to_f16(src[i]); return RL_OK;
    case RL_TYPE_BF16: for (size_t i = 0; i < n; i++) h[i] = to_bf16(src[i]); return RL_OK;
    default: break;
    }
    const rl_type_info *ti = rl_type_get(type);
    if (!ti || !ti->quantize)
        return rl_fail(err, RL_ERR_UNSUPPORTED, "no quantizer for %s in this build (src/quant.c)", ti ? ti->name : "?");
    if (n % ti->block_size) return rl_fail(err, RL_ERR_INVALID, "%zu values are not whole %s blocks", n, ti->name);
    ti->quantize(src, dst, n);
    return RL_OK;
}
