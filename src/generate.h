/* Text generation over any backend (CPU or GPU), as a step machine so the same
 * code serves the synchronous CPU CLI and the async GPU host (which must flush
 * between steps): tokenize the prompt, reuse the cached KV prefix, prefill,
 * then sample token by token with streaming text, stop strings, end-of-
 * generation tokens and, for chats, thinking/tool-call parsing. */
#ifndef RL_GENERATE_H
#define RL_GENERATE_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "chat.h"
#include "core/err.h"
#include "core/host.h"
#include "core/strbuf.h"
#include "sampler.h"
#include "tokenizer.h"

#define RL_GEN_MAX_STOPS 16

typedef struct {
    const char *prompt;            /* the full prompt text (a rendered chat starts with "<bos>") */
    rl_sampler_params sampling;
    const char *stops[RL_GEN_MAX_STOPS]; /* stop strings (NULL-terminated or count below) */
    int n_stops;
    int parse_chat;                /* split output into content / thinking / tool calls */
    int think;                     /* thinking was requested (chat parsing) */
    const json_value *messages;    /* for the chat parser's priming (may be NULL) */
    const json_value *tools;
} rl_gen_request;

enum {
    RL_GEN_FLUSH = 1, /* the host must flush the GPU, then call rl_gen_step again */
    RL_GEN_TEXT = 2,  /* new text: rl_gen_text() */
    RL_GEN_DONE = 4,  /* finished: rl_gen_done_reason() */
};

typedef struct {
    int prompt_tokens;        /* tokens in the prompt */
    int prompt_evaluated;     /* of those, evaluated (the rest came from the cache) */
    int generated;            /* tokens sampled */
    double load_ms, prompt_ms, gen_ms;
} rl_gen_stats;

typedef struct rl_gen rl_gen;

/* The generator borrows the backend and tokenizer. */
rl_status rl_gen_new(rl_backend *b, const rl_tokenizer *tok, rl_host *h, rl_gen **out, rl_error *err);
void rl_gen_free(rl_gen *g);

rl_status rl_gen_begin(rl_gen *g, const rl_gen_request *req, rl_error *err);
/* Advance. Returns RL_GEN_* flags (0 never), or -1 with err set. */
int rl_gen_step(rl_gen *g, rl_error *err);
/* Text produced by the last step (content and, when parsing a chat, thinking). */
const char *rl_gen_text(const rl_gen *g, size_t *len);
const char *rl_gen_thinking(const rl_gen *g, size_t *len);
size_t rl_gen_tool_calls(const rl_gen *g, const rl_tool_call **calls);
const char *rl_gen_done_reason(const rl_gen *g); /* "stop" or "length" */
const rl_gen_stats *rl_gen_get_stats(const rl_gen *g);
/* Tokens now in the backend's cache (prompt + generated), for callers that
 * need the context (Ollama's /api/generate "context"). */
const int32_t *rl_gen_context(const rl_gen *g, int *n);
/* Stop early (client went away): the next step returns DONE. */
void rl_gen_cancel(rl_gen *g);

#endif
