/* Small JSON parser (RFC 8259) producing a tree. Used for Ollama manifests,
 * config and params blobs, and server requests. Nesting is limited to
 * JSON_MAX_DEPTH and memory use is proportional to the input actually given,
 * so hostile input fails with a message ("line L, column C: what") instead of
 * exhausting memory or the stack. Strings are unescaped to UTF-8 (\u surrogate
 * pairs combined; lone surrogates, invalid UTF-8 and raw control characters
 * rejected). Numbers must match the JSON grammar and fit a double. A leading
 * UTF-8 BOM is ignored (RFC 8259 §8.1). Object keys containing U+0000 are
 * rejected, because keys are NUL-terminated C strings. */
#ifndef RL_JSON_H
#define RL_JSON_H

#include <stddef.h>

#include "core/err.h"
#include "core/strbuf.h"

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json_value json_value;
struct json_value {
    json_type type;
    int boolean;
    double number;
    char *str;          /* JSON_STRING: NUL-terminated UTF-8 (may contain NULs; see str_len) */
    size_t str_len;
    size_t count;       /* array/object element count */
    json_value *items;  /* array elements / object values */
    char **keys;        /* object keys (NUL-terminated), parallel to items */
};

#define JSON_MAX_DEPTH 64

/* Parse exactly one JSON value (surrounding whitespace allowed). */
rl_status json_parse(const char *text, size_t len, json_value **out, rl_error *err);
void json_free(json_value *v);

/* Serialize v as compact JSON (numbers with 17 significant digits, so doubles
 * round-trip). Strings go through sb_json_str. */
void json_write(strbuf *sb, const json_value *v);

/* Object member lookup (first match); NULL if v is not an object or key absent. */
const json_value *json_get(const json_value *v, const char *key);
/* Convenience: string member or NULL; number member or fallback. */
const char *json_get_str(const json_value *v, const char *key);
double json_get_num(const json_value *v, const char *key, double fallback);

#endif
