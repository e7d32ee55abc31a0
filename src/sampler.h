/* Token sampling: greedy, temperature, top-k, top-p, min-p, repetition /
 * presence / frequency penalties, seeded RNG (deterministic across native and
 * wasm). Defaults follow Ollama; a model's params blob overrides them.
 *
 * The chain is llama.cpp's default one, which current Ollama runs (it hands
 * these options to llama-server): penalties -> top-k -> top-p -> min-p ->
 * temperature -> draw. top-p and min-p look at the softmax of the penalized
 * logits at temperature 1; the temperature only shapes the final draw.
 * Determinism: the arithmetic is IEEE double with a fixed summation order and
 * rl_exp (core/rmath.h), and the RNG is integer-only, so native and wasm builds draw
 * the same tokens from the same logits and seed. */
#ifndef RL_SAMPLER_H
#define RL_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "json.h"

/* seed value meaning "pick one": Ollama's seed -1. The core has no entropy
 * source, so a host that wants random draws replaces it before
 * rl_sampler_new; used as is, it is just another fixed seed. */
#define RL_SAMPLER_SEED_RANDOM UINT64_MAX

typedef struct {
    float temperature;      /* <= 0 = greedy (argmax after penalties; ties: lowest id) */
    int32_t top_k;          /* <= 0: off */
    float top_p;            /* >= 1: off; 0 keeps only the most likely token */
    float min_p;            /* <= 0: off */
    float repeat_penalty;   /* 1: off; logits > 0 are divided by it, others multiplied */
    int32_t repeat_last_n;  /* window for penalties; -1 = whole context, 0 = penalties off */
    float presence_penalty; /* subtracted once from a token seen in the window */
    float frequency_penalty;/* subtracted per occurrence in the window */
    uint64_t seed;
    int32_t num_predict;    /* max new tokens; -1 = until EOG or context end (-2 accepted, same) */
} rl_sampler_params;

/* temperature 0.8, top_k 40, top_p 0.9, min_p 0, repeat_penalty 1.0, repeat_last_n 64,
 * presence/frequency 0, seed RL_SAMPLER_SEED_RANDOM, num_predict -1 (Ollama's DefaultOptions). */
rl_sampler_params rl_sampler_defaults(void);
/* Apply Ollama option keys present in obj (temperature, top_k, top_p, min_p, repeat_penalty,
 * repeat_last_n, presence_penalty, frequency_penalty, seed, num_predict); others ignored,
 * null values too. Wrong types or out-of-range values are errors naming the key, and then
 * *p is left unchanged. Ranges: temperature >= 0; top_p, min_p in [0, 1];
 * repeat_penalty > 0; repeat_last_n >= -1; num_predict >= -2; integers must be
 * integral and fit int32 (seed: int64 or uint64, -1 = RL_SAMPLER_SEED_RANDOM). */
rl_status rl_sampler_params_apply_json(rl_sampler_params *p, const json_value *obj, rl_error *err);

typedef struct rl_sampler rl_sampler;
/* NULL on allocation failure or n_vocab == 0 / > INT32_MAX. */
rl_sampler *rl_sampler_new(const rl_sampler_params *p, size_t n_vocab);
void rl_sampler_free(rl_sampler *s);
/* Pick a token; logits may be modified in place (penalties are applied there).
 * NaN logits are never picked, +inf counts as the largest finite value.
 * Returns -1 when no logit is usable (all NaN or -inf), when n_vocab exceeds
 * the size the sampler was made for, or when scratch memory cannot be had. */
int32_t rl_sampler_sample(rl_sampler *s, float *logits, size_t n_vocab);
/* Sampling from an engine's top-k candidates: when this returns k > 0, the
 * token rl_sampler_sample would pick depends only on the k best logits (higher
 * first, ties to the lower id), so an engine may hand over just those:
 * rl_sampler_sample_top(ids, logits sorted that way, m <= k) then picks exactly
 * as rl_sampler_sample would from the whole row. 0 when penalties are on (they
 * change logits before top-k) or top-k is off; 1 for greedy. */
int rl_sampler_candidates_k(const rl_sampler *s);
int32_t rl_sampler_sample_top(rl_sampler *s, const int32_t *ids, const float *logits, size_t m);
/* Record a token of context (prompt or generated) for the penalties. */
void rl_sampler_accept(rl_sampler *s, int32_t token);
/* Forget the recorded tokens and restart the RNG from the seed. */
void rl_sampler_reset(rl_sampler *s);

#endif
