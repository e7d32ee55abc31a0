/* Tensor values and their conversion to storage types. Values come from a
 * counter-based generator: element i of a tensor is a function of (seed, name, i)
 * only, so chunking and write order cannot change a byte, and only integer and
 * IEEE +,-,*,/,sqrt operations are used (identical natively and in wasm). */
#include <stdio.h>
#include <string.h>

#include "fastquant.h"
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
    uint64_t key = gen_tensor_key(m->cfg.seed, t->src[0] ? t->src : t->name);
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
    case GEN_INIT_GATE_UP: {
        /* ne [D, 2 Fe, E]: row r of expert e is gate row r (r < Fe) or up row r - Fe */
        char gate[GEN_NAME_MAX], up[GEN_NAME_MAX];
        size_t stem = strlen(t->name) - strlen("gate_up_exps.weight");
        snprintf(gate, sizeof gate, "%.*sgate_exps.weight", (int)stem, t->name);
        snprintf(up, sizeof up, "%.*sup_exps.weight", (int)stem, t->name);
        uint64_t kg = gen_tensor_key(m->cfg.seed, gate), ku = gen_tensor_key(m->cfg.seed, up);
        uint64_t D = t->ne[0], Fe = t->ne[1] / 2;
        for (size_t i = 0; i < n; i++) {
            uint64_t g = start + i, row = g / D, e = row / (2 * Fe), j = row % (2 * Fe);
            uint64_t src = (e * Fe + (j < Fe ? j : j - Fe)) * D + g % D;
            out[i] = in->a + in->b * normal(rnd(j < Fe ? kg : ku, src));
        }
        break;
    }
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

/* fast_quant: use fastquant.c where it covers the type (the default). */
rl_status gen_convert(uint32_t type, const float *src, void *dst, size_t n, int fast_quant, rl_error *err) {
    uint16_t *h = dst; /* little-endian hosts */
    switch (type) {
    case RL_TYPE_F32: memcpy(dst, src, n * sizeof *src); return RL_OK;
    case RL_TYPE_F16: for (size_t i = 0; i < n; i++) h[i] = rl_f32_to_f16(src[i]); return RL_OK;
    case RL_TYPE_BF16: for (size_t i = 0; i < n; i++) h[i] = rl_f32_to_bf16(src[i]); return RL_OK;
    default: break;
    }
    if (fast_quant && gen_fast_quantize(type, src, dst, n)) return RL_OK;
    const rl_type_info *ti = rl_type_get(type);
    if (!ti || !ti->quantize)
        return rl_fail(err, RL_ERR_UNSUPPORTED, "no quantizer for %s in this build (src/quant.c)", ti ? ti->name : "?");
    if (n % ti->block_size) return rl_fail(err, RL_ERR_INVALID, "%zu values are not whole %s blocks", n, ti->name);
    ti->quantize(src, dst, n);
    return RL_OK;
}
