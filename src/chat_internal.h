/* Helpers shared by the chat renderer, the output parser and their tests.
 * Not part of the public API. Behaviour notes name the Go function in Ollama
 * (model/renderers/gemma4.go, model/parsers/gemma4.go) whose result a helper
 * reproduces, because the prompt text has to match Ollama's byte for byte. */
#ifndef RL_CHAT_INTERNAL_H
#define RL_CHAT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "chat.h"

#define CHAT_Q "<|\"|>" /* string delimiter of the tool DSL */
#define CHAT_Q_LEN 5

/* ---- UTF-8 and Go's unicode.IsSpace ---- */

/* Decode the code point at s (n bytes available). Returns its byte length
 * (>= 1); *cp is 0xFFFD for an invalid or incomplete sequence (length 1), as
 * Go's utf8.DecodeRuneInString does. */
size_t chat_utf8_decode(const char *s, size_t n, uint32_t *cp);
/* Length of an incomplete (but so far valid) UTF-8 sequence at the end of s:
 * bytes that a later piece of streamed text may complete. 0..3. */
size_t chat_utf8_incomplete_tail(const char *s, size_t n);
int chat_is_space(uint32_t cp);        /* unicode.IsSpace */
/* unicode.IsLetter || unicode.IsDigit || '_' (bare-key characters). Exact for
 * ASCII; other code points count as letters unless they are spaces,
 * punctuation or symbols from the common blocks (an approximation of Go's
 * tables, see chat_text.c). */
int chat_is_word(uint32_t cp);
size_t chat_skip_space(const char *s, size_t n, size_t i);   /* gemma4SkipSpace */
size_t chat_trim_right_index(const char *s, size_t n);       /* gemma4TrimRightSpaceIndex */
/* strings.TrimSpace on (s, n), in place. */
void chat_trim(const char **s, size_t *n);
/* strings.Index; returns n when absent. */
size_t chat_find(const char *s, size_t n, const char *needle, size_t from);
int chat_has_prefix(const char *s, size_t n, const char *prefix);
/* Longest suffix of s that is a proper prefix of tag (the Go parser's overlap). */
size_t chat_overlap(const char *s, size_t n, const char *tag);

/* ---- Go number formatting ---- */

/* fmt's %v of a float64: strconv 'g' with shortest digits, so an exponent
 * form when the decimal exponent is < -4 or >= 6 ("1e+06", "1.5e-05"). */
void chat_go_float_v(strbuf *sb, double v);
/* The renderer's numbers: integral values that fit int64 print as integers,
 * the rest as %v (formatArgValue / formatSchemaValue). */
void chat_go_number(strbuf *sb, double v);
/* encoding/json's float64 encoding (shortest digits, 'e' below 1e-6 / from 1e21). */
void chat_go_json_number(strbuf *sb, double v);
/* JSON string literal as Go's json.Marshal gives it for the value: invalid
 * UTF-8 becomes U+FFFD. */
void chat_json_str(strbuf *sb, const char *s, size_t n);

/* ---- JSON trees the way Go decodes them ---- */

/* Object member: last match wins, as when Go decodes into a struct or map. */
const json_value *chat_get(const json_value *obj, const char *key);
/* String member; NULL when absent or null. Sets *bad when present with another type. */
const json_value *chat_get_str(const json_value *obj, const char *key, int *bad);
/* Members with distinct keys (last value wins), sorted by key bytes like Go's
 * sort.Strings. Returns the count, or (size_t)-1 on allocation failure; *out is
 * malloc'd (NULL when empty). */
typedef struct {
    const char *key;
    const json_value *val;
} chat_member;
size_t chat_sorted_members(const json_value *obj, chat_member **out);
/* Members with distinct keys in first-appearance order, each with its last
 * value (an insertion-ordered map decoded from JSON). Same conventions. */
size_t chat_ordered_members(const json_value *obj, chat_member **out);

/* ---- renderer pieces ---- */

/* Tool declarations "<|tool>declaration:...<tool|>" for every tool (renderToolDeclaration). */
rl_status chat_render_tools(strbuf *sb, const json_value *tools, rl_error *err);
/* A JSON value in one of the format's styles (chat_value.c): tool-call arguments
 * (formatArgValue), schema values (formatSchemaValue: object keys quoted too), or
 * fmt's %v (enum entries). */
typedef struct chat_value_style chat_value_style;
extern const chat_value_style CHAT_STYLE_ARG, CHAT_STYLE_SCHEMA, CHAT_STYLE_GO_V;
void chat_format_value(strbuf *sb, const json_value *v, const chat_value_style *style);
/* <|"|>s<|"|> */
void chat_put_quoted(strbuf *sb, const char *s, size_t n);

/* ---- tool-call argument conversion (parser) ---- */

/* gemma4ArgsToJSON: <|"|>...<|"|> strings become JSON strings, bare keys are quoted. */
void chat_args_to_json(const char *s, size_t n, strbuf *out);
/* The individual repairs tried when the converted text is not valid JSON. */
void chat_repair_single_quoted(const char *s, size_t n, strbuf *out);
void chat_repair_missing_delimiter(const char *s, size_t n, strbuf *out);
void chat_repair_missing_object_close(const char *s, size_t n, strbuf *out);

/* What the repair of a raw (unquoted) string value needs from the tool list:
 * per tool, its property names in declaration order and whether each accepts a
 * string. */
typedef struct {
    char *name;
    int accepts_string;
} chat_prop_info;
typedef struct {
    char *name;
    int has_props;
    chat_prop_info *props;
    size_t n_props;
} chat_tool_info;
typedef struct {
    chat_tool_info *tools;
    size_t n_tools;
} chat_tool_schemas;

rl_status chat_tool_schemas_init(chat_tool_schemas *ts, const json_value *tools, rl_error *err);
void chat_tool_schemas_free(chat_tool_schemas *ts);
/* repairGemma4RawTerminalStringValue; returns 1 and fills out when it applies. */
int chat_repair_raw_terminal_string(const char *s, size_t n, const char *tool_name, const chat_tool_schemas *ts,
                                    strbuf *out);
/* parseGemma4ToolCall on the text between <|tool_call> and <tool_call|>.
 * Returns RL_OK with *name and *args_json (compact JSON object, malloc'd) set,
 * RL_ERR_FORMAT when the call cannot be understood (Ollama drops it), or
 * RL_ERR_NOMEM. */
rl_status chat_parse_tool_call(const char *s, size_t n, const chat_tool_schemas *ts, char **name, char **args_json);

#endif
