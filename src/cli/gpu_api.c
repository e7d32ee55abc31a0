/* wasm exports that let the JS driver run the GPU engine with the step
 * protocol: C records and submits, JS flushes (awaits) and calls C again. */
#include <stdlib.h>
#include <string.h>

#include "cli/caps_json.h"
#include "core/host.h"
#include "gpu/engine.h"
#include "ollama.h"
#include "platform/wasm.h"

/* Last error of any export here, for the JS driver to read (the API boundary's
 * only state; the engine itself keeps none). */
static rl_error last_err;

RL_EXPORT(rl_api_error) const char *rl_api_error(void) { return last_err.msg; }

/* Resolve an Ollama name or path to the model blob path; malloc'd, or NULL. */
RL_EXPORT(rl_api_resolve) char *rl_api_resolve(const char *spec) {
    rl_host *h = rl_host_default();
    char root[4096];
    rl_model_ref ref;
    rl_error_clear(&last_err);
    if (rl_ollama_root(h, root, sizeof root, &last_err) != RL_OK) root[0] = '\0';
    if (rl_model_resolve(h, root, spec, &ref, &last_err) != RL_OK) return NULL;
    char *path = strdup(ref.model_path);
    rl_model_ref_free(&ref);
    return path;
}

/* caps_json: {"hasSubgroups":1,"maxBinding":...} as js/gpu.mjs caps() returns. */
/* flags: bit 0 = keep the per-layer-embedding table in the file (rl_gpu_opts.ple_on_host). */
RL_EXPORT(rl_api_gpu_open)
rl_gpu_engine *rl_api_gpu_open(const char *path, const char *caps_json, int n_ctx, int ubatch, int flags) {
    rl_error_clear(&last_err);
    rl_gpu_caps caps;
    if (rl_caps_from_json(caps_json, &caps, &last_err) != RL_OK) return NULL;
    rl_gpu_opts opts = {.n_ctx = n_ctx, .ubatch = ubatch, .ple_on_host = flags & 1};
    rl_gpu_engine *e = NULL;
    if (rl_gpu_engine_open(rl_host_default(), path, &caps, &opts, &e, &last_err) != RL_OK) return NULL;
    return e;
}

RL_EXPORT(rl_api_gpu_close) void rl_api_gpu_close(rl_gpu_engine *e) { rl_gpu_engine_free(e); }
RL_EXPORT(rl_api_gpu_n_vocab) int rl_api_gpu_n_vocab(rl_gpu_engine *e) { return rl_gpu_engine_n_vocab(e); }
RL_EXPORT(rl_api_gpu_n_past) int rl_api_gpu_n_past(rl_gpu_engine *e) { return rl_gpu_engine_n_past(e); }
RL_EXPORT(rl_api_gpu_n_ctx) int rl_api_gpu_n_ctx(rl_gpu_engine *e) { return rl_gpu_engine_n_ctx(e); }
RL_EXPORT(rl_api_gpu_replays) double rl_api_gpu_replays(rl_gpu_engine *e) { return (double)rl_gpu_engine_replays(e); }
RL_EXPORT(rl_api_gpu_upload_bytes) double rl_api_gpu_upload_bytes(rl_gpu_engine *e) {
    return (double)rl_gpu_engine_upload_bytes(e);
}
RL_EXPORT(rl_api_gpu_packed_bytes) double rl_api_gpu_packed_bytes(rl_gpu_engine *e) {
    return (double)rl_gpu_engine_packed_bytes(e);
}

/* Returns 0, or -1 with rl_api_error() set. */
RL_EXPORT(rl_api_gpu_decode_bytes) double rl_api_gpu_decode_bytes(rl_gpu_engine *e) {
    return (double)rl_gpu_engine_decode_bytes(e);
}

RL_EXPORT(rl_api_gpu_eval)
int rl_api_gpu_eval(rl_gpu_engine *e, const int32_t *tokens, int n, float *logits, int all_logits, int32_t *argmax) {
    rl_error_clear(&last_err);
    return rl_gpu_engine_eval(e, tokens, n, logits, all_logits, argmax, &last_err) == RL_OK ? 0 : -1;
}

RL_EXPORT(rl_api_gpu_eval_chained) int rl_api_gpu_eval_chained(rl_gpu_engine *e, int32_t *pick, int ahead) {
    rl_error_clear(&last_err);
    return rl_gpu_engine_eval_chained(e, pick, ahead, &last_err) == RL_OK ? 0 : -1;
}

RL_EXPORT(rl_api_gpu_truncate) int rl_api_gpu_truncate(rl_gpu_engine *e, int n_keep) {
    rl_error_clear(&last_err);
    return rl_gpu_engine_truncate(e, n_keep, &last_err) == RL_OK ? 0 : -1;
}
