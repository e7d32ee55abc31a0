/* The GPU engine as a generation backend (async: logits after the host flush). */
#include <stdlib.h>

#include "backend.h"
#include "gpu/engine.h"

static rl_status gpu_eval(rl_backend *b, const int32_t *tokens, int n, float *last_logits, rl_error *err) {
    return rl_gpu_engine_eval(b->impl, tokens, n, last_logits, 0, NULL, err);
}

static int gpu_n_past(const rl_backend *b) { return rl_gpu_engine_n_past(b->impl); }

static rl_status gpu_truncate(rl_backend *b, int n_keep, rl_error *err) {
    return rl_gpu_engine_truncate(b->impl, n_keep, err);
}

static rl_status gpu_eval_top(rl_backend *b, const int32_t *tokens, int n, int k, float *vals, int32_t *ids,
                              rl_error *err) {
    return rl_gpu_engine_eval_top(b->impl, tokens, n, k, vals, ids, err);
}

static int gpu_take_top(rl_backend *b) { return rl_gpu_engine_take_top(b->impl); }

static rl_status gpu_eval_pick(rl_backend *b, const int32_t *tokens, int n, int32_t *pick, rl_error *err) {
    return rl_gpu_engine_eval(b->impl, tokens, n, NULL, 0, pick, err);
}

static rl_status gpu_eval_chained(rl_backend *b, int32_t *pick, int ahead, rl_error *err) {
    return rl_gpu_engine_eval_chained(b->impl, pick, ahead, err);
}

static void gpu_free(rl_backend *b) {
    rl_gpu_engine_free(b->impl);
    free(b);
}

rl_status rl_backend_gpu(struct rl_gpu_engine *e, rl_backend **out, rl_error *err) {
    rl_backend *b = calloc(1, sizeof *b);
    if (!b) return rl_fail(err, RL_ERR_NOMEM, "backend");
    *b = (rl_backend){e,        rl_gpu_engine_n_vocab(e), rl_gpu_engine_n_ctx(e), 1, gpu_eval, gpu_n_past, gpu_truncate,
                      gpu_free, gpu_eval_top, gpu_take_top,     RL_GPU_TOP_K_MAX,
                      gpu_eval_pick, rl_gpu_engine_ple_on_host(e) ? NULL : gpu_eval_chained};
    *out = b;
    return RL_OK;
}
