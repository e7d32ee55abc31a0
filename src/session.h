/* A loaded model ready to chat: the resolved Ollama model (params, system
 * prompt, renderer), its tokenizer, an engine backend (CPU or GPU) and a
 * generator. Requests use Ollama's /api/chat and /api/generate JSON bodies, so
 * the CLI, the server and the browser app all drive the same code. */
#ifndef RL_SESSION_H
#define RL_SESSION_H

#include "backend.h"
#include "core/host.h"
#include "generate.h"
#include "gpu/gpu_abi.h"
#include "json.h"
#include "model_file.h"
#include "ollama.h"
#include "tokenizer.h"

typedef struct rl_session rl_session;

typedef struct {
    int n_ctx;                  /* 0 = default (min(8192, model context)) */
    int gpu;                    /* run on the GPU (caps required) */
    const rl_gpu_caps *caps;
    int ple_on_host;            /* GPU: per-layer-embedding rows from the file each step */
} rl_session_opts;

rl_status rl_session_open(rl_host *h, const char *spec, const rl_session_opts *opts, rl_session **out, rl_error *err);
void rl_session_free(rl_session *s);

/* Begin a chat (body of POST /api/chat: messages, tools, options, think) or a
 * completion (body of POST /api/generate: prompt, system, raw, options). */
rl_status rl_session_chat(rl_session *s, const json_value *body, rl_error *err);
rl_status rl_session_generate(rl_session *s, const json_value *body, rl_error *err);

rl_gen *rl_session_gen(rl_session *s);
const rl_model_file *rl_session_model_file(const rl_session *s);
const rl_tokenizer *rl_session_tokenizer(const rl_session *s);
const rl_model_ref *rl_session_ref(const rl_session *s);
rl_backend *rl_session_backend(rl_session *s);
/* Bytes the GPU engine streams from the file at load (0 for the CPU engine). */
uint64_t rl_session_upload_bytes(const rl_session *s);
/* GPU bytes of the weights' copies for the integer prefill matmul (0: none) */
uint64_t rl_session_packed_bytes(const rl_session *s);

/* The request's final result as JSON: {"done_reason", "content", "thinking",
 * "tool_calls":[{"function":{"name","arguments":{...}}}], "prompt_tokens" (the
 * whole prompt), "prompt_eval_count" (those evaluated: the rest was a cached
 * prefix), "prompt_eval_duration", "eval_count", "eval_duration"} (durations in ns). */
void rl_session_result_json(rl_session *s, const char *content, const char *thinking, strbuf *out);

#endif
