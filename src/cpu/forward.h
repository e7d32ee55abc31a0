/* The CPU reference engine: the complete Gemma 4 text forward pass
 * (gemma4.md §4) with a KV cache, batched prefill and single-token decode. It
 * is the oracle every GPU kernel is tested against and the fallback where
 * WebGPU is missing. Where implementations disagree (§4.8) it follows
 * llama.cpp, which is what Ollama runs today. */
#ifndef RL_CPU_FORWARD_H
#define RL_CPU_FORWARD_H

#include <stdint.h>

#include "core/err.h"
#include "model_file.h"

typedef struct rl_cpu rl_cpu;

/* One forward call's inputs: n slots at consecutive positions starting at the
 * number of positions already cached. A slot carries a token id, or — for
 * multimodal soft slots — an embedding row of n_embd floats (embd[i*n_embd])
 * that replaces the scaled token embedding (use_embd[i] != 0). */
typedef struct {
    const int32_t *tokens;
    int n;
    const float *embd;      /* NULL when no slot carries an embedding */
    const uint8_t *use_embd;
} rl_batch;

/* n_ctx: positions the cache holds (full-attention layers); sliding layers keep
 * a ring of window + ubatch positions. The model file must have its text
 * tensors resident (rl_model_file_load_text). */
rl_status rl_cpu_new(const rl_model_file *mf, int n_ctx, rl_cpu **out, rl_error *err);
void rl_cpu_free(rl_cpu *c);

/* Run a batch. logits: NULL, or room for n rows (all_logits) or 1 row (the
 * last slot) of n_vocab floats, final softcap applied. On error the cache is
 * left as it was before the call. */
rl_status rl_cpu_forward(rl_cpu *c, const rl_batch *b, float *logits, int all_logits, rl_error *err);

int rl_cpu_n_past(const rl_cpu *c);
/* Drop cached positions >= n_keep (n_keep <= n_past). Sliding-window layers can
 * only rewind within their ring; rewinding further is an error. */
rl_status rl_cpu_truncate(rl_cpu *c, int n_keep, rl_error *err);

#endif
