/* JSON parser: a hand-written conformance set (RFC 8259 grammar, escapes,
 * surrogates, UTF-8 validity, limits), error positions, and randomized round
 * trips checked against references written here (an independent UTF-8
 * validator, an independent \u escaper, an independent serializer and tree
 * comparison). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "harness.h"
#include "json.h"

/* ---- conformance set ---- */

typedef struct {
    const char *text;
    size_t len; /* 0: strlen(text) */
    int ok;
} json_case;

#define C_OK(s) {s, 0, 1}
#define C_BAD(s) {s, 0, 0}
#define C_BAD_N(s) {s, sizeof s - 1, 0} /* contains NUL bytes */

static const json_case conformance[] = {
    /* scalars at top level (RFC 8259 allows any value) */
    C_OK("null"), C_OK("true"), C_OK("false"), C_OK("0"), C_OK("-0"), C_OK("\"\""), C_OK(" \t\r\n 1 \n"),
    /* numbers */
    C_OK("123"), C_OK("-123"), C_OK("1.5"), C_OK("-0.0"), C_OK("1e5"), C_OK("1E5"), C_OK("1e+5"), C_OK("1e-5"),
    C_OK("0e0"), C_OK("0.000001"), C_OK("1.7976931348623157e308"), C_OK("4.9e-324"), C_OK("1e-400"), /* underflow to 0 */
    C_OK("123456789012345678901234567890"),
    C_BAD("01"), C_BAD("-01"), C_BAD("00"), C_BAD("1."), C_BAD(".5"), C_BAD("+1"), C_BAD("1e"), C_BAD("1e+"),
    C_BAD("1E-"), C_BAD("-"), C_BAD("--1"), C_BAD("0x10"), C_BAD("Infinity"), C_BAD("-Infinity"), C_BAD("NaN"),
    C_BAD("1e400"), C_BAD("-1e400"), C_BAD("1.0.0"), C_BAD("1 2"), C_BAD("1,"), C_BAD("- 1"), C_BAD("1.e5"),
    C_BAD("0.e1"), C_BAD("1_000"),
    /* literals */
    C_BAD("tru"), C_BAD("True"), C_BAD("nul"), C_BAD("nulll"), C_BAD("undefined"), C_BAD("falsey"),
    /* strings and escapes */
    C_OK("\"abc\""), C_OK("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""), C_OK("\"\\u0041\\u00e9\\u20AC\""),
    C_OK("\"\\uD83D\\uDE00\""), C_OK("\"\\udbff\\udfff\""), C_OK("\"\\u0000\""), C_OK("\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\""),
    C_OK("\"\x7F\""), /* DEL is not a control character in JSON's sense */
    C_BAD("\"abc"), C_BAD("\"abc\\\""), C_BAD("\"\\x41\""), C_BAD("\"\\a\""), C_BAD("\"\\'\""), C_BAD("\"\\U0041\""),
    C_BAD("\"\\u12\""), C_BAD("\"\\u12G4\""), C_BAD("\"\\u\""), C_BAD("'abc'"), C_BAD("\"\\"),
    C_BAD("\"\\uD800\""), C_BAD("\"\\uDC00\""), C_BAD("\"\\uD800\\u0041\""), C_BAD("\"\\uD800x\""),
    C_BAD("\"\\uDBFF\\uDBFF\""), C_BAD("\"\\uD800\\uE000\""), C_BAD("\"\\uDE00\\uD83D\""), C_BAD("\"\\uD800\\\""),
    C_BAD("\"a\tb\""), C_BAD("\"a\nb\""), C_BAD("\"\x01\""), C_BAD("\"\x1F\""), C_BAD_N("\"a\0b\""),
    /* invalid UTF-8 inside strings */
    C_BAD("\"\xC0\x80\""), C_BAD("\"\xC1\xBF\""), C_BAD("\"\xE0\x80\x80\""), C_BAD("\"\xED\xA0\x80\""),
    C_BAD("\"\xF4\x90\x80\x80\""), C_BAD("\"\xF5\x80\x80\x80\""), C_BAD("\"\xFF\""), C_BAD("\"\x80\""),
    C_BAD("\"\xC3\""), C_BAD("\"\xE2\x82\""), C_BAD("\"\xF0\x9F\x98\""),
    /* arrays */
    C_OK("[]"), C_OK("[ ]"), C_OK("[1,2,3]"), C_OK("[[],[[]],{}]"), C_OK("[ 1 , \"a\" , null ]"),
    C_BAD("["), C_BAD("]"), C_BAD("[1,]"), C_BAD("[,1]"), C_BAD("[1 2]"), C_BAD("[1,,2]"), C_BAD("[]]"), C_BAD("[[]"),
    C_BAD("[1:2]"),
    /* objects */
    C_OK("{}"), C_OK("{\"a\":1}"), C_OK("{ \"a\" : [ ] , \"b\" : { } }"), C_OK("{\"a\":1,\"a\":2}"), C_OK("{\"\":0}"),
    C_BAD("{"), C_BAD("}"), C_BAD("{\"a\"}"), C_BAD("{\"a\":}"), C_BAD("{\"a\" 1}"), C_BAD("{\"a\":1,}"),
    C_BAD("{,}"), C_BAD("{1:2}"), C_BAD("{a:1}"), C_BAD("{'a':1}"), C_BAD("{\"a\":1 \"b\":2}"), C_BAD("{\"a\"::1}"),
    C_BAD("{\"\\u0000\":1}"), /* keys are NUL-terminated C strings: rejected, not truncated */
    /* whole-document rules */
    C_BAD(""), C_BAD(" "), C_BAD("[] x"), C_BAD("{} {}"), C_BAD("1 /* c */"), C_BAD("// c\n1"), C_BAD_N("[1]\0"),
    C_BAD_N("\0"), C_BAD("\v1"), C_BAD("\f1"), C_BAD("\xC2\xA0" "1"), /* only the 4 JSON whitespace chars */
    C_OK("\xEF\xBB\xBF{}"), /* RFC 8259 §8.1: a parser may ignore a BOM */
};

static void t_conformance(void) {
    for (size_t i = 0; i < sizeof conformance / sizeof *conformance; i++) {
        const json_case *c = &conformance[i];
        size_t len = c->len ? c->len : strlen(c->text);
        json_value *v = NULL;
        rl_error err = {0};
        rl_status st = json_parse(c->text, len, &v, &err);
        CHECK((st == RL_OK) == c->ok, "case %zu (%.*s): expected %s, got %s (%s)", i, (int)len, c->text,
              c->ok ? "accept" : "reject", rl_status_name(st), st ? err.msg : "");
        if (st == RL_OK) CHECK(v != NULL, "case %zu: no tree", i);
        if (st != RL_OK) {
            CHECK(v == NULL, "case %zu: tree returned on error", i);
            CHECK(!strncmp(err.msg, "line ", 5), "case %zu: message lacks a position: %s", i, err.msg);
        }
        json_free(v);
    }
}

/* Decoded values of specific escapes, compared with bytes written out by hand. */
static void t_escape_values(void) {
    static const struct {
        const char *json, *want;
        size_t want_len;
    } cases[] = {
        {"\"\\u0041\\u00e9\\u20AC\"", "A\xC3\xA9\xE2\x82\xAC", 6},
        {"\"\\uD83D\\uDE00\"", "\xF0\x9F\x98\x80", 4},
        {"\"\\uD800\\uDC00\"", "\xF0\x90\x80\x80", 4},
        {"\"\\uDBFF\\uDFFF\"", "\xF4\x8F\xBF\xBF", 4},
        {"\"\\u07FF\\u0800\\uFFFF\"", "\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF", 8},
        {"\"a\\u0000b\"", "a\0b", 3},
        {"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_value *v = NULL;
        rl_error err = {0};
        rl_status st = json_parse(cases[i].json, strlen(cases[i].json), &v, &err);
        CHECK(st == RL_OK, "escape case %zu: %s", i, err.msg);
        if (st) continue;
        CHECK(v->type == JSON_STRING && v->str_len == cases[i].want_len &&
                  !memcmp(v->str, cases[i].want, cases[i].want_len) && v->str[v->str_len] == '\0',
              "escape case %zu decoded wrongly", i);
        json_free(v);
    }
}

static void t_values_and_lookup(void) {
    const char *text = "{\"n\": -12.5e1, \"s\": \"x\", \"b\": true, \"z\": null, \"a\": [1, [2]], \"n\": 7}";
    json_value *v = NULL;
    rl_error err = {0};
    CHECK(json_parse(text, strlen(text), &v, &err) == RL_OK, "%s", err.msg);
    if (!v) return;
    CHECK(v->type == JSON_OBJECT && v->count == 6, "object with 6 members");
    CHECK(json_get_num(v, "n", 0) == -125.0, "first duplicate wins, value -125");
    CHECK(json_get_num(v, "s", 42) == 42, "fallback for a non-number");
    CHECK(json_get_num(v, "missing", 3) == 3, "fallback for absent key");
    CHECK(json_get_str(v, "s") && !strcmp(json_get_str(v, "s"), "x"), "string member");
    CHECK(json_get_str(v, "n") == NULL, "not a string");
    const json_value *b = json_get(v, "b");
    CHECK(b && b->type == JSON_BOOL && b->boolean == 1, "bool");
    const json_value *z = json_get(v, "z");
    CHECK(z && z->type == JSON_NULL, "null");
    const json_value *a = json_get(v, "a");
    CHECK(a && a->type == JSON_ARRAY && a->count == 2 && a->items[1].type == JSON_ARRAY && a->items[1].count == 1 &&
              a->items[1].items[0].number == 2,
          "nested array");
    CHECK(json_get(a, "x") == NULL, "json_get on an array");
    CHECK(json_get(NULL, "x") == NULL, "json_get on NULL");
    json_free(v);
}

/* Error positions: "line L, column C" (1-based, bytes). */
static void t_error_positions(void) {
    static const struct {
        const char *text, *where;
    } cases[] = {
        {"[1,\n  2,\n  x]", "line 3, column 3:"},
        {"{\"a\": 01}", "line 1, column 7:"},
        {"\n\n\"ab\\q\"", "line 3, column 4:"},
        {"[1,2", "line 1, column 5:"},
        {"[] ]", "line 1, column 4:"},
        {"\"\\uD800\"", "line 1, column 2:"},
        {"\"\xC3\x28\"", "line 1, column 2:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_value *v = NULL;
        rl_error err = {0};
        CHECK(json_parse(cases[i].text, strlen(cases[i].text), &v, &err) != RL_OK, "case %zu should fail", i);
        CHECK(!strncmp(err.msg, cases[i].where, strlen(cases[i].where)), "case %zu: want '%s', got '%s'", i,
              cases[i].where, err.msg);
        json_free(v);
    }
}

/* Nesting: exactly JSON_MAX_DEPTH levels parse, one more is a limit error, and
 * hostile depths (far beyond the stack) fail cleanly. */
static void t_depth_limit(void) {
    size_t big = 1000000;
    char *buf = malloc(7 * big + 16); /* worst case: big * (5 open + 1 close) */
    if (!buf) return;
    const size_t depths[] = {JSON_MAX_DEPTH, JSON_MAX_DEPTH + 1, big};
    for (int kind = 0; kind < 2; kind++) {
        for (size_t d = 0; d < sizeof depths / sizeof *depths; d++) {
            size_t n = 0, depth = depths[d];
            for (size_t i = 0; i < depth; i++) {
                if (kind == 0) {
                    buf[n++] = '[';
                } else {
                    memcpy(buf + n, "{\"k\":", 5);
                    n += 5;
                }
            }
            size_t opened = depth;
            buf[n++] = '1';
            for (size_t i = 0; i < opened; i++) buf[n++] = kind == 0 ? ']' : '}';
            json_value *v = NULL;
            rl_error err = {0};
            rl_status st = json_parse(buf, n, &v, &err);
            if (opened <= JSON_MAX_DEPTH)
                CHECK(st == RL_OK, "depth %zu should parse: %s", opened, err.msg);
            else
                CHECK(st == RL_ERR_LIMIT && strstr(err.msg, "nesting"), "depth %zu: %s %s", opened, rl_status_name(st),
                      err.msg);
            json_free(v);
        }
    }
    free(buf);
}

/* ---- independent references ---- */

/* Decode one UTF-8 sequence the slow, arithmetic way; returns its length or 0.
 * Validity: the code point must need exactly that many bytes, not be a
 * surrogate, and be <= U+10FFFF. */
static size_t ref_utf8_decode(const unsigned char *s, size_t avail, unsigned *cp_out) {
    unsigned c = s[0], cp;
    size_t n;
    if (c < 0x80) n = 1, cp = c;
    else if ((c & 0xE0) == 0xC0) n = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) n = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) n = 4, cp = c & 0x07;
    else return 0;
    if (avail < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    size_t need = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (need != n || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return 0;
    *cp_out = cp;
    return n;
}

static size_t ref_utf8_encode(unsigned cp, unsigned char *out) {
    if (cp < 0x80) return out[0] = (unsigned char)cp, 1;
    if (cp < 0x800) return out[0] = (unsigned char)(0xC0 | cp >> 6), out[1] = (unsigned char)(0x80 | (cp & 63)), 2;
    if (cp < 0x10000)
        return out[0] = (unsigned char)(0xE0 | cp >> 12), out[1] = (unsigned char)(0x80 | ((cp >> 6) & 63)),
               out[2] = (unsigned char)(0x80 | (cp & 63)), 3;
    out[0] = (unsigned char)(0xF0 | cp >> 18);
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 63));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 63));
    out[3] = (unsigned char)(0x80 | (cp & 63));
    return 4;
}

/* A random code point, biased towards the interesting ranges (controls,
 * escapable ASCII, each UTF-8 length boundary, astral planes). */
static unsigned rand_code_point(void) {
    for (;;) {
        unsigned cp;
        switch (t_rand_u64() % 6) {
        case 0: cp = (unsigned)(t_rand_u64() % 0x20); break;
        case 1: cp = (unsigned)(t_rand_u64() % 0x80); break;
        case 2: cp = "\"\\/\b\f\n\r\t"[t_rand_u64() % 8]; break;
        case 3: cp = 0x80 + (unsigned)(t_rand_u64() % 0x780); break;
        case 4: cp = 0x800 + (unsigned)(t_rand_u64() % 0xF800); break;
        default: cp = 0x10000 + (unsigned)(t_rand_u64() % 0x100000); break;
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        return cp;
    }
}

/* Random valid UTF-8 (including NUL and other control characters). */
static size_t rand_utf8(unsigned char *out, size_t max_cps) {
    size_t n = 0, cps = (size_t)(t_rand_u64() % (max_cps + 1));
    for (size_t i = 0; i < cps; i++) n += ref_utf8_encode(rand_code_point(), out + n);
    return n;
}

/* An independent escaper: every code point as \uXXXX (astral ones as a
 * surrogate pair), upper or lower hex at random. */
static void ref_escape_all(strbuf *sb, const unsigned char *s, size_t n) {
    sb_putc(sb, '"');
    for (size_t i = 0; i < n;) {
        unsigned cp = 0;
        size_t k = ref_utf8_decode(s + i, n - i, &cp);
        if (!k) return; /* caller passes valid UTF-8 */
        i += k;
        const char *fmt = t_rand_u64() & 1 ? "\\u%04X" : "\\u%04x";
        if (cp >= 0x10000) {
            sb_printf(sb, fmt, 0xD800 + ((cp - 0x10000) >> 10));
            sb_printf(sb, fmt, 0xDC00 + ((cp - 0x10000) & 0x3FF));
        } else {
            sb_printf(sb, fmt, cp);
        }
    }
    sb_putc(sb, '"');
}

static void t_random_strings_round_trip(void) {
    unsigned char raw[64 * 4];
    for (int iter = 0; iter < 3000; iter++) {
        size_t n = rand_utf8(raw, 64);
        for (int way = 0; way < 2; way++) {
            strbuf sb;
            sb_init(&sb);
            if (way == 0)
                sb_json_str(&sb, (const char *)raw, n);
            else
                ref_escape_all(&sb, raw, n);
            json_value *v = NULL;
            rl_error err = {0};
            rl_status st = json_parse(sb.s, sb.len, &v, &err);
            CHECK(st == RL_OK, "iter %d way %d: %s", iter, way, err.msg);
            if (st == RL_OK)
                CHECK(v->type == JSON_STRING && v->str_len == n && !memcmp(v->str, raw, n),
                      "iter %d way %d: string did not round-trip", iter, way);
            json_free(v);
            sb_free(&sb);
            if (t_current_failed) return;
        }
    }
}

/* Random bytes inside quotes: accepted exactly when the reference says the
 * content is valid UTF-8 without raw control characters, quotes or
 * backslashes (those are left out of the byte pool to keep the reference
 * simple). */
static void t_random_bytes_validity(void) {
    static const unsigned char pool[] = {0x00, 0x01, 0x1F, 0x20, 'a', 0x7F, 0x80, 0x8F, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1,
                                         0xC2, 0xDF, 0xE0, 0xE1, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5, 0xFF};
    int accepted = 0, rejected = 0;
    for (int iter = 0; iter < 20000; iter++) {
        unsigned char buf[16];
        size_t n = 1 + (size_t)(t_rand_u64() % 6);
        buf[0] = '"';
        for (size_t i = 1; i <= n; i++) buf[i] = pool[t_rand_u64() % sizeof pool];
        buf[n + 1] = '"';
        int want = 1;
        for (size_t i = 1; i <= n && want;) {
            unsigned cp;
            size_t k = ref_utf8_decode(buf + i, n + 1 - i, &cp);
            if (!k || cp < 0x20) want = 0;
            i += k;
        }
        json_value *v = NULL;
        rl_error err = {0};
        rl_status st = json_parse((const char *)buf, n + 2, &v, &err);
        CHECK((st == RL_OK) == want, "iter %d: bytes of length %zu: want %d got %s", iter, n, want, err.msg);
        if (st == RL_OK) {
            accepted++;
            CHECK(v->str_len == n && !memcmp(v->str, buf + 1, n), "iter %d: content changed", iter);
        } else {
            rejected++;
        }
        json_free(v);
        if (t_current_failed) return;
    }
    CHECK(accepted > 100 && rejected > 100, "both outcomes exercised (%d accepted, %d rejected)", accepted, rejected);
}

/* ---- random trees ---- */

typedef struct tnode tnode;
struct tnode {
    json_type type;
    int boolean;
    double number;
    unsigned char *str; /* strings and (for members) keys */
    size_t str_len;
    size_t count;
    tnode *kids;
    unsigned char **keys;
    size_t *key_lens;
};

static double rand_number(void) {
    switch (t_rand_u64() % 5) {
    case 0: return (double)(long long)(t_rand_u64() % 2000001) - 1000000.0;
    case 1: return t_rand_normal();
    case 2: return ldexp(t_rand_uniform() - 0.5, (int)(t_rand_u64() % 2000) - 1000);
    case 3: return (double)(t_rand_u64() >> 11); /* up to 2^53 */
    default: {
        /* any finite double bit pattern */
        for (;;) {
            unsigned long long bits = t_rand_u64();
            double d;
            memcpy(&d, &bits, sizeof d);
            if (isfinite(d)) return d;
        }
    }
    }
}

static void tree_gen(tnode *t, int depth) {
    memset(t, 0, sizeof *t);
    int kind = (int)(t_rand_u64() % (depth > 0 ? 6 : 4));
    switch (kind) {
    case 0:
        t->type = t_rand_u64() & 1 ? JSON_NULL : JSON_BOOL;
        t->boolean = (int)(t_rand_u64() & 1);
        break;
    case 1:
        t->type = JSON_NUMBER;
        t->number = rand_number();
        break;
    case 2:
    case 3: {
        unsigned char tmp[12 * 4];
        t->type = JSON_STRING;
        t->str_len = rand_utf8(tmp, 12);
        t->str = malloc(t->str_len + 1);
        memcpy(t->str, tmp, t->str_len);
        break;
    }
    default:
        t->type = kind == 4 ? JSON_ARRAY : JSON_OBJECT;
        t->count = (size_t)(t_rand_u64() % 5);
        t->kids = calloc(t->count ? t->count : 1, sizeof *t->kids);
        t->keys = calloc(t->count ? t->count : 1, sizeof *t->keys);
        t->key_lens = calloc(t->count ? t->count : 1, sizeof *t->key_lens);
        for (size_t i = 0; i < t->count; i++) {
            tree_gen(&t->kids[i], depth - 1);
            if (t->type == JSON_OBJECT) {
                /* keys: valid UTF-8 without NUL (NUL keys are rejected by design) */
                unsigned char tmp[8 * 4];
                size_t n;
                do n = rand_utf8(tmp, 8);
                while (memchr(tmp, 0, n));
                t->keys[i] = malloc(n + 1);
                memcpy(t->keys[i], tmp, n);
                t->keys[i][n] = 0;
                t->key_lens[i] = n;
            }
        }
    }
}

static void tree_free(tnode *t) {
    free(t->str);
    for (size_t i = 0; i < t->count; i++) {
        tree_free(&t->kids[i]);
        free(t->keys[i]);
    }
    free(t->kids);
    free(t->keys);
    free(t->key_lens);
}

static void rand_ws(strbuf *sb) {
    static const char ws[] = " \t\r\n";
    while (t_rand_u64() % 3 == 0) sb_putc(sb, ws[t_rand_u64() % 4]);
}

/* The test's own serializer: random whitespace, strings through either escaper. */
static void tree_write(strbuf *sb, const tnode *t) {
    rand_ws(sb);
    switch (t->type) {
    case JSON_NULL: sb_puts(sb, "null"); break;
    case JSON_BOOL: sb_puts(sb, t->boolean ? "true" : "false"); break;
    case JSON_NUMBER: sb_printf(sb, t_rand_u64() & 1 ? "%.17g" : "%.17e", t->number); break;
    case JSON_STRING:
        if (t_rand_u64() & 1) sb_json_str(sb, (const char *)t->str, t->str_len);
        else ref_escape_all(sb, t->str, t->str_len);
        break;
    case JSON_ARRAY:
    case JSON_OBJECT:
        sb_putc(sb, t->type == JSON_ARRAY ? '[' : '{');
        for (size_t i = 0; i < t->count; i++) {
            if (i) sb_putc(sb, ',');
            if (t->type == JSON_OBJECT) {
                rand_ws(sb);
                ref_escape_all(sb, t->keys[i], t->key_lens[i]);
                rand_ws(sb);
                sb_putc(sb, ':');
            }
            tree_write(sb, &t->kids[i]);
        }
        rand_ws(sb);
        sb_putc(sb, t->type == JSON_ARRAY ? ']' : '}');
        break;
    }
    rand_ws(sb);
}

static int tree_equal(const tnode *t, const json_value *v) {
    if (t->type != v->type) return 0;
    switch (t->type) {
    case JSON_NULL: return 1;
    case JSON_BOOL: return t->boolean == v->boolean;
    case JSON_NUMBER: return t->number == v->number && signbit(t->number) == signbit(v->number);
    case JSON_STRING: return t->str_len == v->str_len && !memcmp(t->str, v->str, t->str_len);
    default:
        if (t->count != v->count) return 0;
        for (size_t i = 0; i < t->count; i++) {
            if (t->type == JSON_OBJECT &&
                (strlen(v->keys[i]) != t->key_lens[i] || memcmp(v->keys[i], t->keys[i], t->key_lens[i])))
                return 0;
            if (!tree_equal(&t->kids[i], &v->items[i])) return 0;
        }
        return 1;
    }
}

static void t_random_trees(void) {
    for (int iter = 0; iter < 1500; iter++) {
        tnode t;
        tree_gen(&t, 1 + (int)(t_rand_u64() % 6));
        strbuf sb;
        sb_init(&sb);
        tree_write(&sb, &t);
        json_value *v = NULL;
        rl_error err = {0};
        rl_status st = json_parse(sb.s, sb.len, &v, &err);
        CHECK(st == RL_OK, "iter %d: %s\n%s", iter, err.msg, sb.s);
        if (st == RL_OK) {
            CHECK(tree_equal(&t, v), "iter %d: tree differs after parse:\n%s", iter, sb.s);
            /* json_write -> parse must give the same tree again */
            strbuf out;
            sb_init(&out);
            json_write(&out, v);
            json_value *v2 = NULL;
            st = json_parse(out.s, out.len, &v2, &err);
            CHECK(st == RL_OK && tree_equal(&t, v2), "iter %d: json_write round trip failed: %s\n%s", iter, err.msg,
                  out.s);
            json_free(v2);
            sb_free(&out);
        }
        json_free(v);
        sb_free(&sb);
        tree_free(&t);
        if (t_current_failed) return;
    }
}

/* Truncating a valid document anywhere (except where a prefix is itself a
 * complete value) must fail cleanly, never crash or over-read. */
static void t_truncations(void) {
    for (int iter = 0; iter < 200; iter++) {
        tnode t;
        tree_gen(&t, 3);
        strbuf sb;
        sb_init(&sb);
        tree_write(&sb, &t);
        for (size_t cut = 0; cut < sb.len; cut++) {
            char *copy = malloc(cut ? cut : 1); /* exact size so ASan catches over-reads */
            memcpy(copy, sb.s, cut);
            json_value *v = NULL;
            rl_error err = {0};
            rl_status st = json_parse(copy, cut, &v, &err);
            if (st != RL_OK) CHECK(err.msg[0] != '\0', "iter %d cut %zu: empty message", iter, cut);
            json_free(v);
            free(copy);
        }
        sb_free(&sb);
        tree_free(&t);
    }
}

const t_case T_CASES[] = {
    {"conformance", t_conformance},
    {"escape_values", t_escape_values},
    {"values_and_lookup", t_values_and_lookup},
    {"error_positions", t_error_positions},
    {"depth_limit", t_depth_limit},
    {"random_strings_round_trip", t_random_strings_round_trip},
    {"random_bytes_validity", t_random_bytes_validity},
    {"random_trees", t_random_trees},
    {"truncations", t_truncations},
    {0},
};
const char *T_SUITE = "json";
