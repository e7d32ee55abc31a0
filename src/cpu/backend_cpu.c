/* The CPU engine as a generation backend. */
#include <stdlib.h>

#include "backend.h"
#include "cpu/forward.h"

static rl_status cpu_eval(rl_backend *b, const int32_t *tokens, int n, float *last_logits, rl_error *err) {
    rl_batch batch = {.tokens = tokens, .n = n};
    return rl_cpu_forward(b->impl, &batch, last_logits, 0, err);
}

static int cpu_n_past(const rl_backend *b) { return rl_cpu_n_past(b->impl); }

static rl_status cpu_truncate(rl_backend *b, int n_keep, rl_error *err) { return rl_cpu_truncate(b->impl, n_keep, err); }

static void cpu_free(rl_backend *b) {
    rl_cpu_free(b->impl);
    free(b);
}

rl_status rl_backend_cpu(const rl_model_file *mf, int n_ctx, rl_backend **out, rl_error *err) {
    rl_backend *b = calloc(1, sizeof *b);
    if (!b) return rl_fail(err, RL_ERR_NOMEM, "backend");
    rl_cpu *c = NULL;
    rl_status s = rl_cpu_new(mf, n_ctx, &c, err);
    if (s) {
        free(b);
        return s;
    }
    *b = (rl_backend){c, mf->model.n_vocab, n_ctx, 0, cpu_eval, cpu_n_past, cpu_truncate, cpu_free, NULL, NULL, 0, NULL, NULL};
    *out = b;
    return RL_OK;
}
