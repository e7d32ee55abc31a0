/* TEMPORARY: a minimal JSON parser with json.h's interface, for the chat and
 * sampler tests until src/json.c lands on main. Delete this file and its
 * #include once it has (the definitions would clash with json.c). */
#ifndef RL_JSON_SHIM_TMP_H
#define RL_JSON_SHIM_TMP_H

#include <stdlib.h>
#include <string.h>

#include "json.h"

typedef struct {
    const char *s;
    size_t n, i;
} shim_p;

static void shim_ws(shim_p *p) {
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
        p->i++;
}

static int shim_hex4(shim_p *p, unsigned *out) {
    if (p->i + 4 > p->n) return 0;
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p->s[p->i++];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

static int shim_str(shim_p *p, char **out, size_t *len) {
    if (p->i >= p->n || p->s[p->i] != '"') return 0;
    p->i++;
    char *b = malloc(p->n - p->i + 1);
    size_t k = 0;
    while (p->i < p->n && p->s[p->i] != '"') {
        unsigned char c = (unsigned char)p->s[p->i++];
        if (c < 0x20) goto fail;
        if (c != '\\') {
            b[k++] = (char)c;
            continue;
        }
        if (p->i >= p->n) goto fail;
        char e = p->s[p->i++];
        unsigned cp;
        switch (e) {
        case '"': b[k++] = '"'; break;
        case '\\': b[k++] = '\\'; break;
        case '/': b[k++] = '/'; break;
        case 'b': b[k++] = '\b'; break;
        case 'f': b[k++] = '\f'; break;
        case 'n': b[k++] = '\n'; break;
        case 'r': b[k++] = '\r'; break;
        case 't': b[k++] = '\t'; break;
        case 'u':
            if (!shim_hex4(p, &cp)) goto fail;
            if (cp >= 0xD800 && cp < 0xDC00) {
                unsigned lo;
                if (p->i + 6 > p->n || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u') goto fail;
                p->i += 2;
                if (!shim_hex4(p, &lo) || lo < 0xDC00 || lo > 0xDFFF) goto fail;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp < 0xE000) {
                goto fail;
            }
            if (cp < 0x80) b[k++] = (char)cp;
            else if (cp < 0x800) b[k++] = (char)(0xC0 | (cp >> 6)), b[k++] = (char)(0x80 | (cp & 63));
            else if (cp < 0x10000)
                b[k++] = (char)(0xE0 | (cp >> 12)), b[k++] = (char)(0x80 | ((cp >> 6) & 63)),
                b[k++] = (char)(0x80 | (cp & 63));
            else
                b[k++] = (char)(0xF0 | (cp >> 18)), b[k++] = (char)(0x80 | ((cp >> 12) & 63)),
                b[k++] = (char)(0x80 | ((cp >> 6) & 63)), b[k++] = (char)(0x80 | (cp & 63));
            break;
        default: goto fail;
        }
    }
    if (p->i >= p->n) goto fail;
    p->i++;
    b[k] = '\0';
    *out = b;
    *len = k;
    return 1;
fail:
    free(b);
    return 0;
}

static void shim_free_contents(json_value *v) {
    if (v->type == JSON_STRING) free(v->str);
    if (v->type == JSON_ARRAY || v->type == JSON_OBJECT) {
        for (size_t i = 0; i < v->count; i++) {
            shim_free_contents(&v->items[i]);
            if (v->keys) free(v->keys[i]);
        }
        free(v->items);
        free(v->keys);
    }
}

static int shim_value(shim_p *p, json_value *v, int depth) {
    memset(v, 0, sizeof *v);
    shim_ws(p);
    if (p->i >= p->n || depth > JSON_MAX_DEPTH) return 0;
    char c = p->s[p->i];
    if (c == '"') {
        v->type = JSON_STRING;
        return shim_str(p, &v->str, &v->str_len);
    }
    if (c == '{' || c == '[') {
        int obj = c == '{';
        v->type = obj ? JSON_OBJECT : JSON_ARRAY;
        p->i++;
        size_t cap = 0;
        shim_ws(p);
        if (p->i < p->n && p->s[p->i] == (obj ? '}' : ']')) {
            p->i++;
            return 1;
        }
        for (;;) {
            if (v->count == cap) {
                cap = cap ? cap * 2 : 4;
                v->items = realloc(v->items, cap * sizeof *v->items);
                if (obj) v->keys = realloc(v->keys, cap * sizeof *v->keys);
            }
            char *key = NULL;
            if (obj) {
                size_t kl;
                shim_ws(p);
                if (!shim_str(p, &key, &kl)) return 0;
                shim_ws(p);
                if (p->i >= p->n || p->s[p->i++] != ':') {
                    free(key);
                    return 0;
                }
                v->keys[v->count] = key;
            }
            int ok = shim_value(p, &v->items[v->count], depth + 1);
            v->count++;
            if (!ok) return 0;
            shim_ws(p);
            if (p->i >= p->n) return 0;
            char d = p->s[p->i++];
            if (d == ',') continue;
            return d == (obj ? '}' : ']');
        }
    }
    static const char *const lits[] = {"null", "true", "false"};
    for (int k = 0; k < 3; k++) {
        size_t l = strlen(lits[k]);
        if (p->n - p->i >= l && memcmp(p->s + p->i, lits[k], l) == 0) {
            p->i += l;
            v->type = k == 0 ? JSON_NULL : JSON_BOOL;
            v->boolean = k == 1;
            return 1;
        }
    }
    /* number: validate the RFC 8259 grammar, then strtod */
    size_t st = p->i;
    if (p->i < p->n && p->s[p->i] == '-') p->i++;
    if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9') return 0;
    if (p->s[p->i] == '0') p->i++;
    else while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
    if (p->i < p->n && p->s[p->i] == '.') {
        p->i++;
        if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9') return 0;
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
    }
    if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        p->i++;
        if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-')) p->i++;
        if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9') return 0;
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
    }
    char tmp[400];
    size_t l = p->i - st < sizeof tmp - 1 ? p->i - st : sizeof tmp - 1;
    memcpy(tmp, p->s + st, l);
    tmp[l] = '\0';
    v->type = JSON_NUMBER;
    v->number = strtod(tmp, NULL);
    return 1;
}

rl_status json_parse(const char *text, size_t len, json_value **out, rl_error *err) {
    shim_p p = {text, len, 0};
    json_value *v = calloc(1, sizeof *v);
    int ok = shim_value(&p, v, 0);
    shim_ws(&p);
    if (!ok || p.i != len) {
        shim_free_contents(v);
        free(v);
        *out = NULL;
        return rl_fail(err, RL_ERR_FORMAT, "json: invalid at byte %zu", p.i);
    }
    *out = v;
    return RL_OK;
}

void json_free(json_value *v) {
    if (!v) return;
    shim_free_contents(v);
    free(v);
}

#endif
