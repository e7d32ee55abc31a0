/* Sampling options: Ollama's defaults and its option keys read from JSON
 * (a request's "options" or a model's params blob). One table row per key. */
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "sampler.h"

rl_sampler_params rl_sampler_defaults(void) {
    return (rl_sampler_params){
        .temperature = 0.8f,
        .top_k = 40,
        .top_p = 0.9f,
        .min_p = 0.0f,
        .repeat_penalty = 1.0f,
        .repeat_last_n = 64,
        .presence_penalty = 0.0f,
        .frequency_penalty = 0.0f,
        .seed = RL_SAMPLER_SEED_RANDOM,
        .num_predict = -1,
    };
}

typedef enum { OPT_F32, OPT_I32, OPT_SEED } opt_kind;

typedef struct {
    const char *key;
    opt_kind kind;
    size_t offset;
    double min, max;  /* inclusive bounds */
    int min_exclusive;
} opt_row;

#define F(name, lo, hi, excl) {#name, OPT_F32, offsetof(rl_sampler_params, name), lo, hi, excl}
#define I(name, lo) {#name, OPT_I32, offsetof(rl_sampler_params, name), lo, INT32_MAX, 0}

static const opt_row rows[] = {
    F(temperature, 0, FLT_MAX, 0),
    I(top_k, INT32_MIN),
    F(top_p, 0, 1, 0),
    F(min_p, 0, 1, 0),
    F(repeat_penalty, 0, FLT_MAX, 1),
    I(repeat_last_n, -1),
    F(presence_penalty, -FLT_MAX, FLT_MAX, 0),
    F(frequency_penalty, -FLT_MAX, FLT_MAX, 0),
    {"seed", OPT_SEED, offsetof(rl_sampler_params, seed), -9223372036854775808.0, 18446744073709551615.0, 0},
    I(num_predict, -2),
};

static rl_status apply_row(rl_sampler_params *p, const opt_row *r, const json_value *v, rl_error *err) {
    if (v->type != JSON_NUMBER) return rl_fail(err, RL_ERR_INVALID, "option %s: expected a number", r->key);
    double x = v->number;
    if (r->kind != OPT_F32 && (x != floor(x) || !isfinite(x)))
        return rl_fail(err, RL_ERR_INVALID, "option %s: expected an integer, got %g", r->key, x);
    if (!(x >= r->min && x <= r->max) || (r->min_exclusive && x == r->min)) {
        if (r->min_exclusive)
            return rl_fail(err, RL_ERR_INVALID, "option %s: %g is out of range (must be > %g)", r->key, x, r->min);
        return rl_fail(err, RL_ERR_INVALID, "option %s: %g is out of range [%g, %g]", r->key, x, r->min, r->max);
    }
    char *field = (char *)p + r->offset;
    switch (r->kind) {
    case OPT_F32: {
        float f = (float)x;
        memcpy(field, &f, sizeof f);
        break;
    }
    case OPT_I32: {
        int32_t i = (int32_t)x;
        memcpy(field, &i, sizeof i);
        break;
    }
    case OPT_SEED: {
        /* negative seeds wrap as two's complement (-1 = RL_SAMPLER_SEED_RANDOM) */
        uint64_t u = x < 0 ? (uint64_t)(int64_t)x : x >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)x;
        memcpy(field, &u, sizeof u);
        break;
    }
    }
    return RL_OK;
}

rl_status rl_sampler_params_apply_json(rl_sampler_params *p, const json_value *obj, rl_error *err) {
    if (!p) return rl_fail(err, RL_ERR_INVALID, "sampler options: no parameters to fill");
    if (!obj || obj->type == JSON_NULL) return RL_OK;
    if (obj->type != JSON_OBJECT) return rl_fail(err, RL_ERR_INVALID, "sampler options: expected an object");
    rl_sampler_params next = *p; /* all or nothing */
    for (size_t i = 0; i < obj->count; i++) {
        const json_value *v = &obj->items[i];
        if (v->type == JSON_NULL) continue;
        for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) {
            if (strcmp(obj->keys[i], rows[r].key) != 0) continue;
            rl_status st = apply_row(&next, &rows[r], v, err);
            if (st) return st;
        }
    }
    *p = next;
    return RL_OK;
}
