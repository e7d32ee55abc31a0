/* Gemma 4 tokenizer (gemma4.md §7): special/control tokens split first, then
 * BPE over code points with "▁" for spaces, merge ranks from the vocabulary's
 * merges, byte fallback <0xHH>. Built from a GGUF's tokenizer.* keys. */
#ifndef RL_TOKENIZER_H
#define RL_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/strbuf.h"
#include "gguf.h"

typedef struct rl_tokenizer rl_tokenizer;

rl_status rl_tokenizer_from_gguf(const gguf_file *g, rl_tokenizer **out, rl_error *err);
/* Build from plain arrays (tests, tools). tokens[i] is NUL-terminated UTF-8;
 * types[i] as in tokenizer.ggml.token_type; merges[r] = "left right". */
rl_status rl_tokenizer_create(const char *const *tokens, const int32_t *types, size_t n_tokens,
                              const char *const *merges, size_t n_merges, rl_tokenizer **out, rl_error *err);
void rl_tokenizer_free(rl_tokenizer *t);

/* Encode UTF-8 text (special token strings become their ids; no BOS added).
 * *ids is malloc'd. Invalid UTF-8 bytes go through byte fallback. */
rl_status rl_tokenizer_encode(const rl_tokenizer *t, const char *text, size_t len, int32_t **ids, size_t *n_ids,
                              rl_error *err);
/* Append the bytes of one token: <0xHH> -> raw byte, "▁" -> space, specials verbatim. */
void rl_tokenizer_decode_token(const rl_tokenizer *t, int32_t id, strbuf *out);
/* Token text as stored, or NULL if out of range. */
const char *rl_tokenizer_token(const rl_tokenizer *t, int32_t id);
/* Id of an exact token string, or -1 (a string present twice maps to its last id). */
int32_t rl_tokenizer_find(const rl_tokenizer *t, const char *token);
int32_t rl_tokenizer_find_n(const rl_tokenizer *t, const char *token, size_t len);
size_t rl_tokenizer_vocab_size(const rl_tokenizer *t);
/* tokenizer.ggml.token_type of id (1 normal, 2 unknown, 3 control, 4 user-defined,
 * 5 unused, 6 byte), or 0 if out of range. */
int rl_tokenizer_type(const rl_tokenizer *t, int32_t id);
/* End-of-generation ids: eos, eos_token_ids (and eot_token_id if present), and
 * <turn|> (106) / <|tool_response> (50) when present (looked up by string). */
int rl_tokenizer_is_eog(const rl_tokenizer *t, int32_t id);
/* tokenizer.ggml.bos/eos_token_id (from create: the ids of "<bos>"/"<eos>"), -1 if none. */
int32_t rl_tokenizer_bos(const rl_tokenizer *t);
int32_t rl_tokenizer_eos(const rl_tokenizer *t);

#endif
