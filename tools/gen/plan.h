/* Helpers shared by the plan_*.c files: initialiser recipes for each kind of
 * weight (the scale choices are documented in README.md). */
#ifndef RL_GEN_PLAN_H
#define RL_GEN_PLAN_H

#include <math.h>

#include "gen.h"

/* Linear weight, fan_in inputs: N(0, gain^2 / fan_in). */
static inline gen_init init_linear(const gen_config *c, uint64_t fan_in) {
    return (gen_init){GEN_INIT_NORMAL, 0.0f, c->linear_gain / sqrtf((float)fan_in)};
}
/* Norm weight around mean with relative noise. */
static inline gen_init init_norm_at(const gen_config *c, float mean) {
    return (gen_init){GEN_INIT_NORMAL, mean, c->norm_noise * mean};
}
static inline gen_init init_norm(const gen_config *c) { return init_norm_at(c, 1.0f); }
/* Per-head q/k norm: q.k over hd dims of unit-RMS vectors has std sqrt(hd) * w^2;
 * pick w so that the attention logits (scale 1.0) have std attn_logit_std. */
static inline gen_init init_qk_norm(const gen_config *c, uint32_t hd) {
    return init_norm_at(c, sqrtf(c->attn_logit_std / sqrtf((float)hd)));
}
static inline gen_init init_normal(float mean, float std) { return (gen_init){GEN_INIT_NORMAL, mean, std}; }
static inline gen_init init_clamp(const gen_config *c, int is_max) {
    return (gen_init){GEN_INIT_CLAMP, is_max ? 1.0f : -1.0f, c->clamp_base};
}

/* Add "<prefix><name>" with up to 4 dims (trailing zeros end the list). */
int gen_add(gen_model *m, const char *name, gen_init init, uint64_t d0, uint64_t d1, uint64_t d2, uint64_t d3);
/* Add the four clamp scalars of a clipped linear "<base>.{input,output}_{min,max}". */
int gen_add_clamps(gen_model *m, const char *base);
/* Name of the clamp scalar that element j of v.clamp_data copies (plan_vision.c). */
void gen_clamp_data_name(const gen_config *c, uint64_t j, char *name, size_t cap);

#endif
