/* Gemma 4 chat format (gemma4.md §8): render a conversation the way Ollama's
 * gemma4 renderer does, and parse model output back into content, thinking and
 * tool calls. Messages and tools use Ollama's /api/chat JSON shapes, so the
 * server and the CLI feed them straight through. */
#ifndef RL_CHAT_H
#define RL_CHAT_H

#include <stddef.h>

#include "core/err.h"
#include "core/strbuf.h"
#include "json.h"

typedef struct {
    int think;          /* thinking enabled */
    int large;          /* gemma4-large renderer (12b/26b/31b); else gemma4-small */
    int add_generation_prompt; /* normally 1; 0 leaves out "<|turn>model\n" (and what follows it) */
} rl_chat_opts;

/* messages: JSON array of {role, content, thinking?, tool_calls?: [{id?, function:{name, arguments}}],
 * tool_name?, tool_call_id?, images?}; tools: JSON array of {type:"function", function:{name,
 * description, parameters}} or NULL. Output (appended to out) is the prompt text beginning with
 * "<bos>", byte for byte what Ollama's gemma4 renderer produces; images only count, each becomes
 * an "[img-N]" tag (gemma4.md §5.8). Fields of the wrong JSON type are RL_ERR_INVALID naming the
 * path (e.g. "messages[2].content"), as Ollama's decoder would reject them; nothing is written then. */
rl_status rl_chat_render(const json_value *messages, const json_value *tools, const rl_chat_opts *opts,
                         strbuf *out, rl_error *err);

/* Which renderer a model uses: from the model name/size (gemma4.md §8.1). */
int rl_chat_is_large(const char *model_name, double n_params);

/* Incremental output parser. Feed decoded text pieces as they stream; events are
 * appended to the parser's buffers. Thinking is "<|channel>thought\n...<channel|>",
 * tool calls "<|tool_call>call:NAME{...}<tool_call|>" (arguments converted to JSON). */
typedef struct rl_chat_parser rl_chat_parser;
typedef struct {
    char *name;
    char *arguments_json; /* JSON object text */
} rl_tool_call;

/* think: thinking was requested; thought text is reported only then (a stray
 * channel block is dropped otherwise). */
rl_chat_parser *rl_chat_parser_new(int think);
void rl_chat_parser_free(rl_chat_parser *p);
/* Optional, before the first feed (Ollama's parser Init): keep what the tool
 * schemas say about string arguments (used to repair a call whose string value
 * lacks its <|"|> delimiters), and start inside the thought channel when
 * thinking is on and the last message is a tool result (the rendered prompt
 * then ends with "<|channel>thought\n"). Either argument may be NULL; nothing
 * is kept pointing into them. */
rl_status rl_chat_parser_prime(rl_chat_parser *p, const json_value *messages, const json_value *tools,
                               rl_error *err);
/* Feed text; newly available content/thinking are appended to content/thinking
 * (either may be NULL to drop). Completed tool calls are queued. */
rl_status rl_chat_parser_feed(rl_chat_parser *p, const char *text, size_t len, strbuf *content, strbuf *thinking,
                              rl_error *err);
/* Flush at end of generation: held-back text is decided (an unterminated thought
 * is emitted as thinking, an unterminated tool call is parsed as it stands).
 * The combined result of feed+finish does not depend on how the text was split:
 * text a later piece could change (a partial tag, whitespace before a possible
 * tag, an incomplete UTF-8 sequence) is held back until decided. */
rl_status rl_chat_parser_finish(rl_chat_parser *p, strbuf *content, strbuf *thinking, rl_error *err);
/* Tool calls parsed so far, in order (the index of a call is its position).
 * A call whose arguments cannot be read even after Ollama's repairs is dropped,
 * as Ollama does. arguments_json is compact: keys in the model's order at the
 * top level, sorted below, numbers as Go prints float64. */
size_t rl_chat_parser_tool_calls(const rl_chat_parser *p, const rl_tool_call **calls);

#endif
