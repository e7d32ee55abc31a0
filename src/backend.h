/* What text generation needs from an engine: run tokens at the next positions
 * and produce the last position's logits, rewind the cache. The CPU engine
 * finishes synchronously; the GPU engine records work and its logits are valid
 * only after the host flushes (async). */
#ifndef RL_BACKEND_H
#define RL_BACKEND_H

#include <stdint.h>

#include "core/err.h"

typedef struct rl_backend rl_backend;
struct rl_backend {
    void *impl;
    int n_vocab;
    int n_ctx;
    int async; /* logits are valid only after the host's flush */
    rl_status (*eval)(rl_backend *b, const int32_t *tokens, int n, float *last_logits, rl_error *err);
    int (*n_past)(const rl_backend *b);
    rl_status (*truncate)(rl_backend *b, int n_keep, rl_error *err);
    void (*free)(rl_backend *b);
    /* Optional (NULL when absent): the same pass, handing back only the last
     * position's k best logits (k <= top_k_max), sorted as the sampler's top-k;
     * take_top returns how many landed in vals/ids (after the flush when async). */
    rl_status (*eval_top)(rl_backend *b, const int32_t *tokens, int n, int k, float *vals, int32_t *ids, rl_error *err);
    int (*take_top)(rl_backend *b);
    int top_k_max;
    /* Optional greedy chaining (NULL when absent). eval_pick: the same pass,
     * handing back only the last position's greedy pick (after the flush when
     * async). eval_chained: one more position whose token is the last pass's
     * pick, still on the device, so the host queues it before reading that pick;
     * its own pick lands `ahead` flushes after the one that submits it (when
     * async). Chained steps found unwanted are dropped with truncate. */
    rl_status (*eval_pick)(rl_backend *b, const int32_t *tokens, int n, int32_t *pick, rl_error *err);
    rl_status (*eval_chained)(rl_backend *b, int32_t *pick, int ahead, rl_error *err);
};

/* Constructors (cpu/backend_cpu.c, gpu/backend_gpu.c). The CPU one needs the
 * model file's text tensors resident; the GPU one wraps an open engine (which
 * the backend then owns). */
struct rl_gpu_engine;
struct rl_model_file;
rl_status rl_backend_cpu(const struct rl_model_file *mf, int n_ctx, rl_backend **out, rl_error *err);
rl_status rl_backend_gpu(struct rl_gpu_engine *e, rl_backend **out, rl_error *err);

#endif
