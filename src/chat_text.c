/* Text helpers for the chat format: UTF-8, Go's notion of whitespace, Go's
 * number formatting and Go's way of reading JSON objects. The prompt must
 * match Ollama's byte for byte, so these follow Go's library behaviour rather
 * than C's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat_internal.h"

/* ---- UTF-8 ---- */

/* Valid range of the second byte for a lead byte (Go's utf8 acceptRanges). */
static int utf8_second_ok(unsigned char lead, unsigned char b) {
    switch (lead) {
    case 0xE0: return b >= 0xA0 && b <= 0xBF;
    case 0xED: return b >= 0x80 && b <= 0x9F;
    case 0xF0: return b >= 0x90 && b <= 0xBF;
    case 0xF4: return b >= 0x80 && b <= 0x8F;
    default: return b >= 0x80 && b <= 0xBF;
    }
}

static size_t utf8_seq_len(unsigned char lead) {
    if (lead < 0x80) return 1;
    if (lead >= 0xC2 && lead <= 0xDF) return 2;
    if (lead >= 0xE0 && lead <= 0xEF) return 3;
    if (lead >= 0xF0 && lead <= 0xF4) return 4;
    return 0;
}

size_t chat_utf8_decode(const char *s, size_t n, uint32_t *cp) {
    const unsigned char *u = (const unsigned char *)s;
    size_t len = n ? utf8_seq_len(u[0]) : 0;
    if (len == 1) {
        *cp = u[0];
        return 1;
    }
    if (len == 0 || len > n || !utf8_second_ok(u[0], u[1])) goto bad;
    for (size_t i = 2; i < len; i++)
        if (u[i] < 0x80 || u[i] > 0xBF) goto bad;
    {
        static const unsigned char lead_mask[5] = {0, 0, 0x1F, 0x0F, 0x07};
        uint32_t c = u[0] & lead_mask[len];
        for (size_t i = 1; i < len; i++) c = (c << 6) | (u[i] & 0x3F);
        *cp = c;
        return len;
    }
bad:
    *cp = 0xFFFD;
    return 1;
}

size_t chat_utf8_incomplete_tail(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    for (size_t k = 1; k <= 3 && k <= n; k++) {
        unsigned char b = u[n - k];
        if (b >= 0x80 && b <= 0xBF) continue; /* continuation byte: look further back */
        size_t need = utf8_seq_len(b);
        if (need <= k) return 0;
        if (k >= 2 && !utf8_second_ok(b, u[n - k + 1])) return 0;
        return k;
    }
    return 0;
}

/* Decode the code point ending at s[end) (utf8.DecodeLastRuneInString). */
static size_t utf8_decode_last(const char *s, size_t end, uint32_t *cp) {
    size_t start = end;
    while (start > 0 && end - start < 4) {
        start--;
        unsigned char b = (unsigned char)s[start];
        if (b < 0x80 || b > 0xBF) break;
    }
    if (start < end) {
        size_t len = chat_utf8_decode(s + start, end - start, cp);
        if (start + len == end) return len;
    }
    *cp = 0xFFFD;
    return 1;
}

int chat_is_space(uint32_t c) {
    if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Blocks of punctuation and symbols that are neither letters nor digits in Go
 * (Latin-1 punctuation keeps its three letters: ª µ º, listed as holes). */
static const uint32_t non_word_ranges[][2] = {
    {0x80, 0xA9},       {0xAB, 0xB4},       {0xB6, 0xB9},       {0xBB, 0xBF},       {0xD7, 0xD7},
    {0xF7, 0xF7},       {0x2000, 0x206F},   {0x20A0, 0x20CF},   {0x2190, 0x2BFF},   {0x2E00, 0x2E7F},
    {0x3000, 0x3004},   {0x3008, 0x3020},   {0xFE30, 0xFE4F},   {0xFF00, 0xFF0F},   {0xFF1A, 0xFF20},
    {0xFF3B, 0xFF40},   {0xFF5B, 0xFF65},   {0xFFF0, 0xFFFF},   {0x1F000, 0x1FAFF},
};

int chat_is_word(uint32_t c) {
    if (c < 0x80) return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (chat_is_space(c)) return 0;
    for (size_t i = 0; i < sizeof non_word_ranges / sizeof *non_word_ranges; i++)
        if (c >= non_word_ranges[i][0] && c <= non_word_ranges[i][1]) return 0;
    return 1;
}

size_t chat_skip_space(const char *s, size_t n, size_t i) {
    while (i < n) {
        uint32_t cp;
        size_t len = chat_utf8_decode(s + i, n - i, &cp);
        if (!chat_is_space(cp)) break;
        i += len;
    }
    return i;
}

size_t chat_trim_right_index(const char *s, size_t n) {
    size_t i = n;
    while (i > 0) {
        uint32_t cp;
        size_t len = utf8_decode_last(s, i, &cp);
        if (!chat_is_space(cp)) break;
        i -= len;
    }
    return i;
}

void chat_trim(const char **s, size_t *n) {
    size_t start = chat_skip_space(*s, *n, 0);
    size_t end = chat_trim_right_index(*s, *n);
    if (end < start) end = start;
    *s += start;
    *n = end - start;
}

size_t chat_find(const char *s, size_t n, const char *needle, size_t from) {
    size_t m = strlen(needle);
    if (m == 0) return from <= n ? from : n;
    for (size_t i = from; i + m <= n; i++) {
        const char *hit = memchr(s + i, needle[0], n - m + 1 - i);
        if (!hit) break;
        i = (size_t)(hit - s);
        if (memcmp(s + i, needle, m) == 0) return i;
    }
    return n;
}

int chat_has_prefix(const char *s, size_t n, const char *prefix) {
    size_t m = strlen(prefix);
    return n >= m && memcmp(s, prefix, m) == 0;
}

size_t chat_overlap(const char *s, size_t n, const char *tag) {
    size_t m = strlen(tag);
    size_t k = m < n ? m : n;
    for (; k > 0; k--)
        if (memcmp(s + n - k, tag, k) == 0) return k;
    return 0;
}

/* ---- Go number formatting ---- */

/* Shortest decimal digits that read back as v (v finite, > 0): the correctly
 * rounded p-digit form for the smallest p that round-trips, which is what
 * Go's shortest formatting yields. Returns the digit count; *dp is the
 * position of the decimal point (value = 0.d1d2... × 10^dp). */
static int shortest_digits(double v, char digits[20], int *dp) {
    char buf[40];
    int p = 1;
    for (; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, v);
        if (strtod(buf, NULL) == v) break;
    }
    if (p > 17) p = 17;
    int nd = 0;
    const char *c = buf;
    for (; *c && *c != 'e'; c++)
        if (*c >= '0' && *c <= '9') digits[nd++] = *c;
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    *dp = atoi(c + 1) + 1;
    return nd;
}

/* strconv's %e layout: d.ddd e±XX (at least two exponent digits). */
static void put_e(strbuf *sb, const char *d, int nd, int dp) {
    sb_putc(sb, d[0]);
    if (nd > 1) {
        sb_putc(sb, '.');
        sb_append(sb, d + 1, (size_t)nd - 1);
    }
    int e = dp - 1;
    sb_printf(sb, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
}

/* strconv's %f layout with exactly the digits needed. */
static void put_f(strbuf *sb, const char *d, int nd, int dp) {
    if (dp > 0) {
        for (int i = 0; i < dp; i++) sb_putc(sb, i < nd ? d[i] : '0');
    } else {
        sb_putc(sb, '0');
    }
    int frac = nd - dp > 0 ? nd - dp : 0;
    if (frac > 0) {
        sb_putc(sb, '.');
        for (int i = 0; i < frac; i++) {
            int j = dp + i;
            sb_putc(sb, j >= 0 && j < nd ? d[j] : '0');
        }
    }
}

/* Handles sign, zero and non-finite values; returns 0 when v was fully written. */
static int go_float_prologue(strbuf *sb, double v, double *mag) {
    if (isnan(v)) {
        sb_puts(sb, "NaN");
        return 0;
    }
    if (signbit(v)) sb_putc(sb, '-');
    if (isinf(v)) {
        if (!signbit(v)) sb_putc(sb, '+');
        sb_puts(sb, "Inf");
        return 0;
    }
    if (v == 0) {
        sb_putc(sb, '0');
        return 0;
    }
    *mag = fabs(v);
    return 1;
}

void chat_go_float_v(strbuf *sb, double v) {
    double mag;
    if (!go_float_prologue(sb, v, &mag)) return;
    char d[20];
    int dp, nd = shortest_digits(mag, d, &dp);
    int e = dp - 1;
    if (e < -4 || e >= 6)
        put_e(sb, d, nd, dp);
    else
        put_f(sb, d, nd, dp);
}

void chat_go_number(strbuf *sb, double v) {
    /* v == float64(int64(v)), without the undefined conversion out of range */
    if (v >= -9223372036854775808.0 && v < 9223372036854775808.0 && v == (double)(long long)v) {
        sb_printf(sb, "%lld", (long long)v);
        return;
    }
    chat_go_float_v(sb, v);
}

void chat_go_json_number(strbuf *sb, double v) {
    double mag;
    if (!go_float_prologue(sb, v, &mag)) return;
    char d[20];
    int dp, nd = shortest_digits(mag, d, &dp);
    if (mag < 1e-6 || mag >= 1e21) {
        /* 'e' form; encoding/json trims "e-07" to "e-7" */
        int e = dp - 1;
        sb_putc(sb, d[0]);
        if (nd > 1) {
            sb_putc(sb, '.');
            sb_append(sb, d + 1, (size_t)nd - 1);
        }
        sb_printf(sb, "e%c%d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    } else {
        put_f(sb, d, nd, dp);
    }
}

void chat_json_str(strbuf *sb, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    sb_putc(sb, '"');
    size_t run = 0; /* start of the pending run of bytes copied verbatim */
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[6];
        size_t elen = 2, len = 1;
        if (c == '"') esc = "\\\"";
        else if (c == '\\') esc = "\\\\";
        else if (c == '\n') esc = "\\n";
        else if (c == '\r') esc = "\\r";
        else if (c == '\t') esc = "\\t";
        else if (c < 0x20) {
            u[0] = '\\', u[1] = 'u', u[2] = '0', u[3] = '0', u[4] = hex[c >> 4], u[5] = hex[c & 15];
            esc = u, elen = 6;
        } else if (c >= 0x80) {
            uint32_t cp;
            len = chat_utf8_decode(s + i, n - i, &cp);
            if (cp == 0xFFFD && len == 1) esc = "\\ufffd", elen = 6;
        }
        if (esc) {
            sb_append(sb, s + run, i - run);
            sb_append(sb, esc, elen);
            run = i + len;
        }
        i += len;
    }
    sb_append(sb, s + run, n - run);
    sb_putc(sb, '"');
}

/* ---- JSON objects as Go reads them ---- */

const json_value *chat_get(const json_value *obj, const char *key) {
    if (!obj || obj->type != JSON_OBJECT) return NULL;
    for (size_t i = obj->count; i-- > 0;)
        if (strcmp(obj->keys[i], key) == 0) return &obj->items[i];
    return NULL;
}

const json_value *chat_get_str(const json_value *obj, const char *key, int *bad) {
    const json_value *v = chat_get(obj, key);
    if (!v || v->type == JSON_NULL) return NULL;
    if (v->type != JSON_STRING) {
        *bad = 1;
        return NULL;
    }
    return v;
}

typedef struct {
    const char *key;
    size_t first, last; /* positions of the first and last member with this key */
} member_run;

static int cmp_key_index(const void *a, const void *b) {
    const member_run *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c) return c;
    return x->first < y->first ? -1 : x->first > y->first;
}

static int cmp_first(const void *a, const void *b) {
    const member_run *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

static size_t collect_members(const json_value *obj, chat_member **out, int by_key) {
    *out = NULL;
    if (!obj || obj->type != JSON_OBJECT || obj->count == 0) return 0;
    size_t n = obj->count;
    member_run *runs = malloc(n * sizeof *runs);
    chat_member *m = malloc(n * sizeof *m);
    if (!runs || !m) {
        free(runs);
        free(m);
        return (size_t)-1;
    }
    for (size_t i = 0; i < n; i++) runs[i] = (member_run){obj->keys[i], i, i};
    qsort(runs, n, sizeof *runs, cmp_key_index);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && strcmp(runs[k - 1].key, runs[i].key) == 0) {
            runs[k - 1].last = runs[i].first;
        } else {
            runs[k++] = runs[i];
        }
    }
    if (!by_key) qsort(runs, k, sizeof *runs, cmp_first);
    for (size_t i = 0; i < k; i++) m[i] = (chat_member){runs[i].key, &obj->items[runs[i].last]};
    free(runs);
    *out = m;
    return k;
}

size_t chat_sorted_members(const json_value *obj, chat_member **out) { return collect_members(obj, out, 1); }

size_t chat_ordered_members(const json_value *obj, chat_member **out) { return collect_members(obj, out, 0); }
