/* Token sampling: greedy, temperature, top-k, top-p, min-p, repetition /
 * presence / frequency penalties, seeded RNG (deterministic across native and
 * wasm). Defaults follow Ollama; a model's params blob overrides them. */
#ifndef RL_SAMPLER_H
#define RL_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "json.h"

typedef struct {
    float temperature;      /* 0 = greedy */
    int32_t top_k;          /* <= 0: off */
    float top_p;            /* >= 1: off */
    float min_p;            /* <= 0: off */
    float repeat_penalty;   /* 1: off */
    int32_t repeat_last_n;  /* window for penalties; -1 = whole context */
    float presence_penalty;
    float frequency_penalty;
    uint64_t seed;
    int32_t num_predict;    /* max new tokens; -1 = until EOG or context end */
} rl_sampler_params;

rl_sampler_params rl_sampler_defaults(void); /* temperature 0.8, top_k 40, top_p 0.9, min_p 0, repeat 1.0/64 */
/* Apply Ollama option keys present in obj (temperature, top_k, top_p, min_p, repeat_penalty,
 * repeat_last_n, presence_penalty, frequency_penalty, seed, num_predict); others ignored.
 * Wrong types or out-of-range values are errors naming the key. */
rl_status rl_sampler_params_apply_json(rl_sampler_params *p, const json_value *obj, rl_error *err);

typedef struct rl_sampler rl_sampler;
rl_sampler *rl_sampler_new(const rl_sampler_params *p, size_t n_vocab);
void rl_sampler_free(rl_sampler *s);
/* Pick a token; logits may be modified in place. */
int32_t rl_sampler_sample(rl_sampler *s, float *logits, size_t n_vocab);
/* Record a token of context (prompt or generated) for the penalties. */
void rl_sampler_accept(rl_sampler *s, int32_t token);
void rl_sampler_reset(rl_sampler *s);

#endif
