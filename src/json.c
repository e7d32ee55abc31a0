/* RFC 8259 JSON parser producing a tree (see json.h).
 *
 * Safety properties:
 * - Recursion is bounded by JSON_MAX_DEPTH (arrays/objects), so hostile nesting
 *   fails with a message instead of exhausting the (4 MiB wasm) stack.
 * - Every allocation is proportional to bytes actually present in the input:
 *   a string's buffer is sized from its raw span, arrays grow by doubling as
 *   elements are parsed. No count or size read from the text is trusted.
 * - Numbers are validated against the JSON grammar before strtod sees them, so
 *   strtod's extensions (hex, inf, nan, leading '+', whitespace) never apply;
 *   the decimal point is translated if the C locale was changed.
 * - Strings must be valid UTF-8 (no overlong forms, no encoded surrogates, no
 *   code points above U+10FFFF); \u escapes must pair surrogates correctly. */
#include "json.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t len, pos;
    rl_error *err;
} json_parser;

/* Report an error at byte offset `at`, as "line L, column C: what" (1-based,
 * columns counted in bytes). Computed only on failure, so parsing stays O(n). */
static rl_status json_fail_at(json_parser *p, size_t at, rl_status code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static rl_status json_fail_at(json_parser *p, size_t at, rl_status code, const char *fmt, ...) {
    size_t line = 1, col = 1;
    if (at > p->len) at = p->len;
    for (size_t i = 0; i < at; i++) {
        if (p->s[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    char what[RL_ERR_MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return rl_fail(p->err, code, "line %zu, column %zu: %s", line, col, what);
}

/* Describe the byte at pos for messages ("end of input", "'x'", "byte 0x01"). */
static void json_describe(const json_parser *p, size_t pos, char *out, size_t cap) {
    if (pos >= p->len) {
        snprintf(out, cap, "end of input");
        return;
    }
    unsigned char c = (unsigned char)p->s[pos];
    if (c >= 0x20 && c < 0x7f)
        snprintf(out, cap, "'%c'", c);
    else
        snprintf(out, cap, "byte 0x%02x", c);
}

static rl_status json_unexpected(json_parser *p, const char *expected) {
    char got[32];
    json_describe(p, p->pos, got, sizeof got);
    return json_fail_at(p, p->pos, p->pos >= p->len ? RL_ERR_TRUNCATED : RL_ERR_FORMAT, "expected %s, found %s",
                        expected, got);
}

static void json_skip_ws(json_parser *p) {
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static void json_free_contents(json_value *v) {
    switch (v->type) {
    case JSON_STRING: free(v->str); break;
    case JSON_ARRAY:
    case JSON_OBJECT:
        for (size_t i = 0; i < v->count; i++) {
            json_free_contents(&v->items[i]);
            if (v->keys) free(v->keys[i]);
        }
        free(v->items);
        free(v->keys);
        break;
    default: break;
    }
    memset(v, 0, sizeof *v);
}

/* ---- literals and numbers ---- */

static rl_status json_parse_literal(json_parser *p, json_value *out) {
    static const struct {
        const char *word;
        json_type type;
        int boolean;
    } words[] = {{"true", JSON_BOOL, 1}, {"false", JSON_BOOL, 0}, {"null", JSON_NULL, 0}};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        size_t n = strlen(words[i].word);
        if (p->s[p->pos] != words[i].word[0]) continue;
        for (size_t k = 0; k < n; k++) {
            if (p->pos + k >= p->len || p->s[p->pos + k] != words[i].word[k]) {
                p->pos += k;
                char what[40];
                snprintf(what, sizeof what, "'%s'", words[i].word);
                return json_unexpected(p, what);
            }
        }
        p->pos += n;
        out->type = words[i].type;
        out->boolean = words[i].boolean;
        return RL_OK;
    }
    return json_unexpected(p, "a value");
}

static int json_is_digit(json_parser *p, size_t at) { return at < p->len && p->s[at] >= '0' && p->s[at] <= '9'; }

static rl_status json_parse_number(json_parser *p, json_value *out) {
    size_t start = p->pos, i = p->pos;
    if (i < p->len && p->s[i] == '-') i++;
    if (!json_is_digit(p, i)) {
        p->pos = i;
        return json_unexpected(p, "a digit");
    }
    if (p->s[i] == '0') {
        i++;
        if (json_is_digit(p, i)) return json_fail_at(p, start, RL_ERR_FORMAT, "number with a leading zero");
    } else {
        while (json_is_digit(p, i)) i++;
    }
    if (i < p->len && p->s[i] == '.') {
        i++;
        if (!json_is_digit(p, i)) {
            p->pos = i;
            return json_unexpected(p, "a digit after the decimal point");
        }
        while (json_is_digit(p, i)) i++;
    }
    if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
        i++;
        if (i < p->len && (p->s[i] == '+' || p->s[i] == '-')) i++;
        if (!json_is_digit(p, i)) {
            p->pos = i;
            return json_unexpected(p, "a digit in the exponent");
        }
        while (json_is_digit(p, i)) i++;
    }
    /* The text is now known to match the JSON number grammar; copy it so strtod
     * stops exactly at its end, and honour a non-'.' locale decimal point. */
    size_t n = i - start;
    char small[128], *buf = small;
    if (n >= sizeof small) {
        buf = malloc(n + 1);
        if (!buf) return json_fail_at(p, start, RL_ERR_NOMEM, "cannot allocate a %zu-byte number", n);
    }
    memcpy(buf, p->s + start, n);
    buf[n] = '\0';
    const char *dp = localeconv()->decimal_point;
    if (dp && dp[0] && dp[0] != '.' && !dp[1]) {
        char *dot = strchr(buf, '.');
        if (dot) *dot = dp[0];
    }
    char *end = NULL;
    double d = strtod(buf, &end);
    int consumed_all = end == buf + n;
    if (buf != small) free(buf);
    if (!consumed_all) return json_fail_at(p, start, RL_ERR_FORMAT, "number could not be converted");
    if (isinf(d) || isnan(d)) return json_fail_at(p, start, RL_ERR_FORMAT, "number is out of the double range");
    out->type = JSON_NUMBER;
    out->number = d;
    p->pos = i;
    return RL_OK;
}

/* ---- strings ---- */

static int json_hex4(const char *s, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

static size_t json_put_utf8(char *dst, unsigned cp) {
    if (cp < 0x80) {
        dst[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        dst[0] = (char)(0xC0 | (cp >> 6));
        dst[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        dst[0] = (char)(0xE0 | (cp >> 12));
        dst[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        dst[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    dst[0] = (char)(0xF0 | (cp >> 18));
    dst[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    dst[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    dst[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the well-formed UTF-8 sequence at s[0..avail), or 0 if it is not
 * one (Unicode table 3-7: no overlongs, no surrogates, nothing above U+10FFFF). */
static size_t json_utf8_len(const unsigned char *s, size_t avail) {
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (avail < n) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return n;
}

/* Parse a string starting at the opening quote into a malloc'd UTF-8 buffer. */
static rl_status json_parse_string(json_parser *p, char **out, size_t *out_len) {
    size_t start = p->pos; /* at '"' */
    /* Find the closing quote first: the decoded text is never longer than the
     * raw span, so that bounds the allocation by real input. */
    size_t end = start + 1;
    while (end < p->len && p->s[end] != '"') end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->len) return json_fail_at(p, start, RL_ERR_TRUNCATED, "unterminated string");
    char *buf = malloc(end - start);
    if (!buf) return json_fail_at(p, start, RL_ERR_NOMEM, "cannot allocate a %zu-byte string", end - start);
    size_t n = 0, i = start + 1;
    const unsigned char *u = (const unsigned char *)p->s;
    while (i < end) {
        unsigned char c = u[i];
        if (c < 0x20) {
            free(buf);
            return json_fail_at(p, i, RL_ERR_FORMAT, "control character 0x%02x in a string (must be escaped)", c);
        }
        if (c != '\\') {
            size_t k = json_utf8_len(u + i, end - i);
            if (!k) {
                free(buf);
                return json_fail_at(p, i, RL_ERR_FORMAT, "invalid UTF-8 byte 0x%02x in a string", c);
            }
            memcpy(buf + n, u + i, k);
            n += k;
            i += k;
            continue;
        }
        char e = p->s[i + 1]; /* i + 1 < end by construction of end */
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char decoded[] = "\"\\/\b\f\n\r\t";
            buf[n++] = decoded[simple - "\"\\/bfnrt"];
            i += 2;
            continue;
        }
        if (e != 'u') {
            free(buf);
            char got[32];
            json_describe(p, i + 1, got, sizeof got);
            return json_fail_at(p, i, RL_ERR_FORMAT, "invalid escape '\\' followed by %s", got);
        }
        unsigned cp;
        if (end - i < 6 || !json_hex4(p->s + i + 2, &cp)) {
            free(buf);
            return json_fail_at(p, i, RL_ERR_FORMAT, "\\u must be followed by 4 hex digits");
        }
        size_t esc_at = i;
        i += 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
            free(buf);
            return json_fail_at(p, esc_at, RL_ERR_FORMAT, "lone low surrogate \\u%04X", cp);
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned lo;
            if (end - i < 6 || p->s[i] != '\\' || p->s[i + 1] != 'u' || !json_hex4(p->s + i + 2, &lo) || lo < 0xDC00 ||
                lo > 0xDFFF) {
                free(buf);
                return json_fail_at(p, esc_at, RL_ERR_FORMAT, "high surrogate \\u%04X not followed by a low surrogate", cp);
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
        }
        /* Decoded form is at most 4 bytes for 6 (or 12) raw bytes: fits. */
        n += json_put_utf8(buf + n, cp);
    }
    buf[n] = '\0';
    p->pos = end + 1;
    *out = buf;
    *out_len = n;
    return RL_OK;
}

/* ---- containers ---- */

static rl_status json_parse_value(json_parser *p, json_value *out, int depth);

/* Append a parsed child to a container, doubling capacity as needed. */
static rl_status json_push(json_parser *p, json_value *c, size_t *cap, json_value *item, char *key) {
    if (c->count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        json_value *items = realloc(c->items, ncap * sizeof *items);
        if (!items) return json_fail_at(p, p->pos, RL_ERR_NOMEM, "cannot grow a container to %zu elements", ncap);
        c->items = items;
        if (c->type == JSON_OBJECT) {
            char **keys = realloc(c->keys, ncap * sizeof *keys);
            if (!keys) return json_fail_at(p, p->pos, RL_ERR_NOMEM, "cannot grow an object to %zu members", ncap);
            c->keys = keys;
        }
        *cap = ncap;
    }
    c->items[c->count] = *item;
    if (c->type == JSON_OBJECT) c->keys[c->count] = key;
    c->count++;
    return RL_OK;
}

static rl_status json_parse_container(json_parser *p, json_value *out, int depth) {
    int is_obj = p->s[p->pos] == '{';
    size_t open_at = p->pos;
    if (depth >= JSON_MAX_DEPTH)
        return json_fail_at(p, p->pos, RL_ERR_LIMIT, "nesting deeper than %d levels", JSON_MAX_DEPTH);
    out->type = is_obj ? JSON_OBJECT : JSON_ARRAY;
    size_t cap = 0;
    p->pos++;
    json_skip_ws(p);
    char close = is_obj ? '}' : ']';
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        return RL_OK;
    }
    for (;;) {
        char *key = NULL;
        json_skip_ws(p);
        if (is_obj) {
            if (p->pos >= p->len || p->s[p->pos] != '"') return json_unexpected(p, "a string key");
            size_t key_at = p->pos, key_len;
            rl_status st = json_parse_string(p, &key, &key_len);
            if (st) return st;
            if (strlen(key) != key_len) {
                free(key);
                return json_fail_at(p, key_at, RL_ERR_UNSUPPORTED, "object key contains U+0000 (not supported)");
            }
            json_skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') {
                free(key);
                return json_unexpected(p, "':' after an object key");
            }
            p->pos++;
        }
        json_value item;
        memset(&item, 0, sizeof item);
        rl_status st = json_parse_value(p, &item, depth + 1);
        if (st == RL_OK) st = json_push(p, out, &cap, &item, key);
        if (st) {
            json_free_contents(&item);
            free(key);
            return st;
        }
        json_skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == close) {
            p->pos++;
            return RL_OK;
        }
        if (p->pos >= p->len)
            return json_fail_at(p, p->pos, RL_ERR_TRUNCATED, "unterminated %s (opened at byte %zu)",
                                is_obj ? "object" : "array", open_at);
        return json_unexpected(p, is_obj ? "',' or '}'" : "',' or ']'");
    }
}

static rl_status json_parse_value(json_parser *p, json_value *out, int depth) {
    json_skip_ws(p);
    if (p->pos >= p->len) return json_unexpected(p, "a value");
    char c = p->s[p->pos];
    if (c == '{' || c == '[') return json_parse_container(p, out, depth);
    if (c == '"') {
        out->type = JSON_STRING;
        return json_parse_string(p, &out->str, &out->str_len);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return json_parse_number(p, out);
    return json_parse_literal(p, out);
}

rl_status json_parse(const char *text, size_t len, json_value **out, rl_error *err) {
    *out = NULL;
    json_parser p = {text, len, 0, err};
    /* RFC 8259 §8.1: a parser may ignore a leading byte order mark. */
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) p.pos = 3;
    json_value *root = calloc(1, sizeof *root);
    if (!root) return rl_fail(err, RL_ERR_NOMEM, "cannot allocate a JSON value");
    rl_status st = json_parse_value(&p, root, 0);
    if (st == RL_OK) {
        json_skip_ws(&p);
        if (p.pos < p.len) st = json_unexpected(&p, "end of input after the value");
    }
    if (st) {
        json_free(root);
        return st;
    }
    *out = root;
    return RL_OK;
}

void json_free(json_value *v) {
    if (!v) return;
    json_free_contents(v);
    free(v);
}

const json_value *json_get(const json_value *v, const char *key) {
    if (!v || v->type != JSON_OBJECT) return NULL;
    for (size_t i = 0; i < v->count; i++)
        if (!strcmp(v->keys[i], key)) return &v->items[i];
    return NULL;
}

const char *json_get_str(const json_value *v, const char *key) {
    const json_value *m = json_get(v, key);
    return m && m->type == JSON_STRING ? m->str : NULL;
}

double json_get_num(const json_value *v, const char *key, double fallback) {
    const json_value *m = json_get(v, key);
    return m && m->type == JSON_NUMBER ? m->number : fallback;
}

/* Depth is bounded by the parser's JSON_MAX_DEPTH for parsed trees. */
void json_write(strbuf *sb, const json_value *v) {
    switch (v->type) {
    case JSON_NULL: sb_puts(sb, "null"); break;
    case JSON_BOOL: sb_puts(sb, v->boolean ? "true" : "false"); break;
    case JSON_NUMBER: {
        char num[40];
        if (!isfinite(v->number)) {
            sb_puts(sb, "null"); /* JSON has no inf/nan */
            break;
        }
        snprintf(num, sizeof num, "%.17g", v->number);
        const char *dp = localeconv()->decimal_point;
        if (dp && dp[0] && dp[0] != '.' && !dp[1]) {
            char *d = strchr(num, dp[0]);
            if (d) *d = '.';
        }
        sb_puts(sb, num);
        break;
    }
    case JSON_STRING: sb_json_str(sb, v->str, v->str_len); break;
    case JSON_ARRAY:
    case JSON_OBJECT:
        sb_putc(sb, v->type == JSON_ARRAY ? '[' : '{');
        for (size_t i = 0; i < v->count; i++) {
            if (i) sb_putc(sb, ',');
            if (v->type == JSON_OBJECT) {
                sb_json_str(sb, v->keys[i], strlen(v->keys[i]));
                sb_putc(sb, ':');
            }
            json_write(sb, &v->items[i]);
        }
        sb_putc(sb, v->type == JSON_ARRAY ? ']' : '}');
        break;
    }
}
