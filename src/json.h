/* Small JSON parser (RFC 8259) producing a tree. Used for Ollama manifests,
 * config and params blobs, and server requests. Depth, size and count limits
 * make hostile input fail with a message (line:column) instead of exhausting
 * memory or the stack. Strings are unescaped to UTF-8 (\u surrogate pairs
 * combined; lone surrogates rejected). */
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
