/* The WebGPU engine: places a gemma4 model's text weights in GPU buffers (an
 * upload plan the host streams from the file), keeps the KV cache on the GPU,
 * and records prefill/decode work as command lists (gpu_abi.h). Same maths as
 * the CPU reference (src/cpu/forward.c), which its tests compare against. */
#ifndef RL_GPU_ENGINE_H
#define RL_GPU_ENGINE_H

#include <stdint.h>

#include "core/err.h"
#include "core/host.h"
#include "gpu/gpu_abi.h"

typedef struct rl_gpu_engine rl_gpu_engine;

typedef struct {
    int n_ctx;       /* positions held by full-attention layers */
    int ubatch;      /* slots per prefill pass (0 = default) */
    int ple_on_host; /* keep the per-layer-embedding table in the file and upload each
                        step's rows (GPU memory drops by the table's size, 4.7 GB for e2b);
                        also chosen automatically when the table needs more than 4 bindings */
} rl_gpu_opts;

/* Open the model, create buffers and record the upload plan (submitted; the
 * host streams it on its next flush). */
rl_status rl_gpu_engine_open(rl_host *h, const char *path, const rl_gpu_caps *caps, const rl_gpu_opts *opts,
                             rl_gpu_engine **out, rl_error *err);
void rl_gpu_engine_free(rl_gpu_engine *e);

/* Record and submit one forward pass over tokens at the next positions.
 * logits_out (wasm memory, filled when the host's flush completes): NULL, or
 * room for n rows (all_logits) or 1 row of n_vocab floats. argmax_out: NULL or
 * n (all) / 1 ids. */
rl_status rl_gpu_engine_eval(rl_gpu_engine *e, const int32_t *tokens, int n, float *logits_out, int all_logits,
                             int32_t *argmax_out, rl_error *err);

/* The same pass, reading back only the last position's k best logits (value,
 * id), sorted as the C sampler's top-k (higher first, then lower id); k <=
 * RL_GPU_TOP_K_MAX. After the host's flush, rl_gpu_engine_take_top converts
 * them into vals/ids and returns how many there are (fewer when the row has
 * fewer usable logits). */
#define RL_GPU_TOP_K_MAX 64
rl_status rl_gpu_engine_eval_top(rl_gpu_engine *e, const int32_t *tokens, int n, int k, float *vals, int32_t *ids,
                                 rl_error *err);
int rl_gpu_engine_take_top(rl_gpu_engine *e);

/* Greedy decode without a host round trip: one more position whose token is
 * the last pass's greedy pick (an eval with argmax_out), copied on the GPU; its
 * own pick lands in *pick (which must stay valid) at the `ahead`-th flush after
 * the one that submits it (the list runs ahead, gpu_abi.h RL_OP_AHEAD), so the
 * host can queue steps n+1.. before it reads step n's pick. Steps found
 * unwanted (after a stop) are dropped with rl_gpu_engine_truncate. */
#define RL_GPU_AHEAD_MAX 8
rl_status rl_gpu_engine_eval_chained(rl_gpu_engine *e, int32_t *pick, int ahead, rl_error *err);

int rl_gpu_engine_n_past(const rl_gpu_engine *e);
int rl_gpu_engine_n_vocab(const rl_gpu_engine *e);
int rl_gpu_engine_n_ctx(const rl_gpu_engine *e);
/* Decode steps whose recorded commands were replayed instead of recorded again */
uint64_t rl_gpu_engine_replays(const rl_gpu_engine *e);
struct rl_model_file;
const struct rl_model_file *rl_gpu_engine_model_file(const rl_gpu_engine *e);
uint64_t rl_gpu_engine_upload_bytes(const rl_gpu_engine *e);
uint64_t rl_gpu_engine_packed_bytes(const rl_gpu_engine *e);
int rl_gpu_engine_ple_on_host(const rl_gpu_engine *e);
/* Weight bytes a decode step reads (every GPU-resident weight but the
 * per-layer-embedding table, of which a step gathers one row): the roofline. */
uint64_t rl_gpu_engine_decode_bytes(const rl_gpu_engine *e);
/* Drop cached positions >= n_keep (within what the sliding rings still hold). */
rl_status rl_gpu_engine_truncate(rl_gpu_engine *e, int n_keep, rl_error *err);

#endif
