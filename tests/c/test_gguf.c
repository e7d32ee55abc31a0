/* GGUF reader tests. Files are written by an independent writer (gguf_build.h)
 * from random specs; the parse must give back exactly the spec. Malformed files
 * come from corrupting recorded fields of valid ones. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gguf.h"
#include "gguf_build.h"
#include "harness.h"

typedef unsigned long long ull;

/* ---- independent facts from the GGUF / ggml specs ---- */

static int vsize(uint32_t t) { /* bytes of a scalar value type; 0 for string/array */
    static const int s[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return t < 13 ? s[t] : 0;
}
static int vsigned(uint32_t t) { return t == 1 || t == 3 || t == 5 || t == 11; }
static int visint(uint32_t t) { return t <= 5 || t == 10 || t == 11; }

typedef struct {
    uint32_t id, block, bytes;
} ggml_size;
static const ggml_size ggml_sizes[] = {
    {0, 1, 4}, {1, 1, 2}, {2, 32, 18}, {6, 32, 22}, {8, 32, 34}, {12, 256, 144}, {13, 256, 176}, {14, 256, 210}, {30, 1, 2},
};
#define N_GGML_SIZES (sizeof ggml_sizes / sizeof *ggml_sizes)

static const ggml_size *ggml_size_of(uint32_t id) {
    for (size_t i = 0; i < N_GGML_SIZES; i++)
        if (ggml_sizes[i].id == id) return &ggml_sizes[i];
    return NULL;
}

/* ---- random model specs ---- */

#define MAXV 24
#define MAXKV 40
#define MAXT 10

typedef struct {
    char key[64];
    uint32_t type, elem;
    uint64_t count;
    uint64_t raw[MAXV]; /* numeric values as their little-endian bits */
    char strs[MAXV][24];
    size_t slen[MAXV];
    size_t at_key, at_type, at_elem, at_count, at_value; /* where the writer put each field */
} kspec;

typedef struct {
    char name[64];
    uint32_t n_dims, type;
    uint64_t ne[4], offset, nbytes;
    size_t at_name, at_ndims, at_ne0, at_type, at_offset;
} tspec;

typedef struct {
    uint32_t version, alignment;
    int n_kv, n_t;
    kspec kv[MAXKV];
    tspec t[MAXT];
    size_t n_long; /* if nonzero, one more kv "test.long": that many strings from long_str() */
    size_t at_n_tensors, at_n_kv, header_size, data_offset, file_size;
} mspec;

static uint64_t rnd(uint64_t n) { return n ? t_rand_u64() % n : 0; }

static uint64_t rand_value(uint32_t t) {
    if (t == 7) return t_rand_u64() & 1;
    if (t == 6) {
        float f = (float)(t_rand_normal() * 1000.0);
        uint32_t u;
        memcpy(&u, &f, 4);
        return u;
    }
    if (t == 12) {
        double d = t_rand_normal() * 1e6;
        uint64_t u;
        memcpy(&u, &d, 8);
        return u;
    }
    int w = vsize(t);
    uint64_t v = t_rand_u64();
    if (rnd(4) == 0) v = rnd(1000); /* small values too, so u32 coercion succeeds sometimes */
    return w == 8 ? v : v & (((uint64_t)1 << (8 * w)) - 1);
}

static void rand_string(char *s, size_t *len) {
    *len = rnd(24);
    for (size_t i = 0; i < *len; i++) s[i] = (char)(rnd(4) ? 'a' + rnd(26) : rnd(256)); /* any byte, NUL too */
}

static kspec *add_kv(mspec *m, const char *key, uint32_t type, uint32_t elem, uint64_t count) {
    kspec *k = &m->kv[m->n_kv++];
    memset(k, 0, sizeof *k);
    snprintf(k->key, sizeof k->key, "%s", key);
    k->type = type;
    k->elem = elem;
    k->count = count;
    for (uint64_t i = 0; i < count; i++) {
        if (elem == 8) rand_string(k->strs[i], &k->slen[i]);
        else k->raw[i] = rand_value(elem);
    }
    return k;
}

static const char *tname[13] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};

/* A model with one scalar of every type, one array of every element type, and
 * tensors of several ggml types whose data is laid out in shuffled order. */
static void random_model(mspec *m, uint32_t version, uint32_t alignment) {
    memset(m, 0, sizeof *m);
    m->version = version;
    m->alignment = alignment;
    char key[64];
    kspec *arch = add_kv(m, "general.architecture", 8, 8, 1);
    memcpy(arch->strs[0], "testarch", 8);
    arch->slen[0] = 8;
    for (uint32_t t = 0; t < 13; t++) {
        if (t == 9) continue;
        snprintf(key, sizeof key, "test.scalar.%s", tname[t]);
        add_kv(m, key, t, t, 1);
        snprintf(key, sizeof key, "test.array.%s", tname[t]);
        add_kv(m, key, 9, t, t == 2 ? 0 : 1 + rnd(MAXV)); /* one empty array */
    }
    if (alignment != 32 || rnd(2)) {
        kspec *a = add_kv(m, "general.alignment", 4, 4, 1);
        a->raw[0] = alignment;
    }
    m->n_t = 2 + (int)rnd(MAXT - 1);
    for (int i = 0; i < m->n_t; i++) {
        tspec *t = &m->t[i];
        const ggml_size *gs = &ggml_sizes[rnd(N_GGML_SIZES)];
        snprintf(t->name, sizeof t->name, "blk.%d.w%llu.weight", i, (ull)rnd(100));
        t->type = gs->id;
        t->n_dims = 1 + (uint32_t)rnd(4);
        for (int d = 0; d < 4; d++) t->ne[d] = 1;
        t->ne[0] = gs->block * (1 + rnd(gs->block == 1 ? 40 : 2));
        for (uint32_t d = 1; d < t->n_dims; d++) t->ne[d] = 1 + rnd(3);
        t->nbytes = t->ne[0] / gs->block * gs->bytes * t->ne[1] * t->ne[2] * t->ne[3];
    }
    /* data in a random permutation of info order, with random aligned gaps */
    int perm[MAXT];
    for (int i = 0; i < m->n_t; i++) perm[i] = i;
    for (int i = m->n_t - 1; i > 0; i--) {
        int j = (int)rnd((uint64_t)i + 1), x = perm[i];
        perm[i] = perm[j];
        perm[j] = x;
    }
    uint64_t cur = 0;
    for (int i = 0; i < m->n_t; i++) {
        tspec *t = &m->t[perm[i]];
        cur += alignment * rnd(3);
        t->offset = cur;
        cur = (cur + t->nbytes + alignment - 1) / alignment * alignment;
    }
}

static int long_str(char *s, size_t cap, size_t i) { return snprintf(s, cap, "s%zu", i * 7919); }

static void write_model(mspec *m, bb *b) {
    b->n = 0;
    bb_put(b, "GGUF", 4);
    bb_le(b, m->version, 4);
    m->at_n_tensors = b->n;
    bb_le(b, (uint64_t)m->n_t, 8);
    m->at_n_kv = b->n;
    bb_le(b, (uint64_t)m->n_kv + (m->n_long ? 1 : 0), 8);
    if (m->n_long) {
        char s[32];
        bb_str(b, "test.long", 9);
        bb_le(b, 9, 4);
        bb_le(b, 8, 4);
        bb_le(b, m->n_long, 8);
        for (size_t i = 0; i < m->n_long; i++) bb_str(b, s, (size_t)long_str(s, sizeof s, i));
    }
    for (int i = 0; i < m->n_kv; i++) {
        kspec *k = &m->kv[i];
        k->at_key = b->n;
        bb_str(b, k->key, strlen(k->key));
        k->at_type = b->n;
        bb_le(b, k->type, 4);
        if (k->type == 9) {
            k->at_elem = b->n;
            bb_le(b, k->elem, 4);
            k->at_count = b->n;
            bb_le(b, k->count, 8);
        }
        k->at_value = b->n;
        for (uint64_t j = 0; j < k->count; j++) {
            if (k->elem == 8) bb_str(b, k->strs[j], k->slen[j]);
            else bb_le(b, k->raw[j], vsize(k->elem));
        }
    }
    for (int i = 0; i < m->n_t; i++) {
        tspec *t = &m->t[i];
        t->at_name = b->n;
        bb_str(b, t->name, strlen(t->name));
        t->at_ndims = b->n;
        bb_le(b, t->n_dims, 4);
        t->at_ne0 = b->n;
        for (uint32_t d = 0; d < t->n_dims; d++) bb_le(b, t->ne[d], 8);
        t->at_type = b->n;
        bb_le(b, t->type, 4);
        t->at_offset = b->n;
        bb_le(b, t->offset, 8);
    }
    m->header_size = b->n;
    bb_pad(b, m->alignment);
    m->data_offset = b->n;
    uint64_t end = 0;
    for (int i = 0; i < m->n_t; i++)
        if (m->t[i].offset + m->t[i].nbytes > end) end = m->t[i].offset + m->t[i].nbytes;
    while (b->n < m->data_offset + end) {
        uint8_t x = (uint8_t)t_rand_u64();
        bb_put(b, &x, 1);
    }
    m->file_size = b->n;
}

/* ---- checking a parse against its spec ---- */

static int64_t expected_int(uint32_t t, uint64_t raw) {
    int w = vsize(t);
    if (vsigned(t) && w < 8 && (raw >> (8 * w - 1)) & 1) return (int64_t)(raw | ~(((uint64_t)1 << (8 * w)) - 1));
    if (t == 10 && raw > (uint64_t)INT64_MAX) return INT64_MAX;
    return (int64_t)raw;
}

static double expected_f64(uint32_t t, uint64_t raw) {
    if (t == 6) {
        float f;
        uint32_t u = (uint32_t)raw;
        memcpy(&f, &u, 4);
        return f;
    }
    if (t == 12) {
        double d;
        memcpy(&d, &raw, 8);
        return d;
    }
    if (t == 10) return (double)raw;
    return (double)expected_int(t, raw);
}

static void check_model(const mspec *m, const gguf_file *g) {
    CHECK(g->version == m->version, "version %u", g->version);
    CHECK(g->n_kv == (uint64_t)m->n_kv, "n_kv %llu vs %d", (ull)g->n_kv, m->n_kv);
    CHECK(g->n_tensors == (uint64_t)m->n_t, "n_tensors %llu vs %d", (ull)g->n_tensors, m->n_t);
    CHECK(g->alignment == m->alignment, "alignment %u vs %u", g->alignment, m->alignment);
    CHECK(g->header_size == m->header_size, "header_size %llu vs %zu", (ull)g->header_size, m->header_size);
    CHECK(g->data_offset == m->data_offset, "data_offset %llu vs %zu", (ull)g->data_offset, m->data_offset);
    for (int i = 0; i < m->n_kv; i++) {
        const kspec *k = &m->kv[i];
        const gguf_kv *kv = gguf_find_kv(g, k->key);
        CHECK(kv != NULL, "key %s missing", k->key);
        if (!kv) continue;
        CHECK(kv == &g->kv[i], "key %s found at the wrong index", k->key);
        CHECK(gguf_str_eq(kv->key, k->key), "key text %s", k->key);
        CHECK(kv->type == (gguf_vtype)k->type && kv->elem_type == (gguf_vtype)k->elem && kv->count == k->count,
              "%s: type %u/%u count %llu, want %u/%u %llu", k->key, kv->type, kv->elem_type, (ull)kv->count, k->type,
              k->elem, (ull)k->count);
        for (uint64_t j = 0; j < k->count && j < kv->count; j++) {
            if (k->elem == 8) {
                gguf_str s = gguf_arr_str(kv, j);
                CHECK(s.len == k->slen[j] && (s.len == 0 || !memcmp(s.ptr, k->strs[j], s.len)), "%s[%llu] string differs",
                      k->key, (ull)j);
                continue;
            }
            int w = vsize(k->elem);
            uint64_t raw = 0;
            for (int bi = 0; bi < w; bi++) raw |= (uint64_t)kv->data[j * (uint64_t)w + (uint64_t)bi] << (8 * bi);
            CHECK(raw == k->raw[j], "%s[%llu] raw %llx want %llx", k->key, (ull)j, (ull)raw, (ull)k->raw[j]);
            if (visint(k->elem) || k->elem == 7)
                CHECK(gguf_arr_int(kv, j) == expected_int(k->elem, k->raw[j]), "%s[%llu] arr_int %lld", k->key, (ull)j,
                      (long long)gguf_arr_int(kv, j));
            else
                CHECK(gguf_arr_int(kv, j) == 0, "%s: arr_int of a float must be 0", k->key);
            double want = expected_f64(k->elem, k->raw[j]);
            CHECK(gguf_arr_f64(kv, j) == want, "%s[%llu] arr_f64 %.17g want %.17g", k->key, (ull)j, gguf_arr_f64(kv, j), want);
        }
        /* out-of-range and wrong-kind element access is harmless */
        CHECK(gguf_arr_int(kv, kv->count) == 0 && gguf_arr_f64(kv, kv->count) == 0, "%s: index past end", k->key);
        CHECK(gguf_arr_str(kv, kv->count).len == 0, "%s: string past end", k->key);
    }
    CHECK(gguf_find_kv(g, "test.not.there") == NULL, "absent key found");
    for (int i = 0; i < m->n_t; i++) {
        const tspec *t = &m->t[i];
        const gguf_tensor *gt = gguf_find_tensor(g, t->name);
        CHECK(gt == &g->tensors[i], "tensor %s not found at %d", t->name, i);
        if (!gt) continue;
        CHECK(gguf_str_eq(gt->name, t->name), "name");
        CHECK(gt->n_dims == t->n_dims && gt->type == t->type && gt->offset == t->offset && gt->nbytes == t->nbytes,
              "%s: n_dims %u type %u offset %llu nbytes %llu; want %u %u %llu %llu", t->name, gt->n_dims, gt->type,
              (ull)gt->offset, (ull)gt->nbytes, t->n_dims, t->type, (ull)t->offset, (ull)t->nbytes);
        for (int d = 0; d < 4; d++) CHECK(gt->ne[d] == t->ne[d], "%s ne[%d] %llu want %llu", t->name, d, (ull)gt->ne[d], (ull)t->ne[d]);
    }
    CHECK(gguf_find_tensor(g, "blk.0") == NULL, "absent tensor found");
}

static void roundtrip(uint32_t version) {
    static const uint32_t aligns[] = {32, 32, 1, 8, 64, 256};
    for (int it = 0; it < 30; it++) {
        mspec *m = calloc(1, sizeof *m);
        bb b = {0};
        random_model(m, version, aligns[rnd(6)]);
        write_model(m, &b);
        gguf_file *g = NULL;
        uint64_t need = 1;
        rl_error err = {0};
        /* with the exact size, unknown size, and with trailing bytes beyond the file */
        uint64_t sizes[3] = {b.n, 0, 0};
        for (int s = 0; s < 3; s++) {
            size_t len = b.n;
            if (s == 2) { /* the caller read past a stated end: those bytes must be ignored */
                bb_put(&b, "GGUFGGUF", 8);
                sizes[2] = len;
                len = b.n;
            }
            rl_status st = gguf_parse(b.p, len, sizes[s], &g, &need, &err);
            CHECK(st == RL_OK, "v%u parse (size mode %d): %s", version, s, err.msg);
            if (st != RL_OK) break;
            CHECK(g->file_size == sizes[s], "file_size");
            check_model(m, g);
            gguf_free(g);
        }
        /* values point into an owned copy: clobber the input and check again */
        b.n = m->file_size;
        if (gguf_parse(b.p, b.n, b.n, &g, &need, &err) == RL_OK) {
            memset(b.p, 0xA5, b.n);
            check_model(m, g);
            gguf_free(g);
        }
        bb_free(&b);
        free(m);
    }
}

static void test_roundtrip_v3(void) { roundtrip(3); }
static void test_roundtrip_v2(void) { roundtrip(2); }

/* Typed getters: lossless coercion, and messages that name the key and the type found. */
static void test_getters(void) {
    for (int it = 0; it < 20; it++) {
        mspec *m = calloc(1, sizeof *m);
        bb b = {0};
        random_model(m, 3, 32);
        write_model(m, &b);
        gguf_file *g = NULL;
        rl_error err = {0};
        CHECK(gguf_parse(b.p, b.n, b.n, &g, NULL, &err) == RL_OK, "parse: %s", err.msg);
        if (!g) {
            free(m);
            bb_free(&b);
            return;
        }
        for (int i = 0; i < m->n_kv; i++) {
            const kspec *k = &m->kv[i];
            uint32_t u = 0;
            float f = 0;
            int bo = 0;
            gguf_str s;
            rl_status st = gguf_get_u32(g, k->key, &u, &err);
            if (k->type == 9) {
                CHECK(st == RL_ERR_FORMAT && strstr(err.msg, "found array of") && strstr(err.msg, k->key), "%s: %s", k->key, err.msg);
                continue;
            }
            /* u32: any integer type whose value lies in [0, 2^32) */
            int fits_u32 = 0;
            if (visint(k->type)) {
                if (k->type == 10) fits_u32 = k->raw[0] <= 0xFFFFFFFFull;
                else {
                    int64_t v = expected_int(k->type, k->raw[0]);
                    fits_u32 = v >= 0 && v <= 0xFFFFFFFFll;
                }
            }
            CHECK((st == RL_OK) == fits_u32, "%s: u32 status %d: %s", k->key, st, err.msg);
            if (st == RL_OK) CHECK(u == (uint32_t)k->raw[0], "%s: u32 %u", k->key, u);
            else if (!visint(k->type)) {
                char want[96];
                snprintf(want, sizeof want, "%s: expected an integer, found %s", k->key, tname[k->type]);
                CHECK(strstr(err.msg, want) != NULL, "message '%s' lacks '%s'", err.msg, want);
            }
            /* f32: f32 exactly, f64 rounded, integers only when exact */
            st = gguf_get_f32(g, k->key, &f, &err);
            if (k->type == 6 || k->type == 12) {
                CHECK(st == RL_OK && f == (float)expected_f64(k->type, k->raw[0]), "%s: f32 %g: %s", k->key, f, err.msg);
            } else if (visint(k->type)) {
                double v = expected_f64(k->type, k->raw[0]);
                int exact = fabs(v) <= 16777216.0;
                CHECK((st == RL_OK) == exact, "%s: f32 from integer %g: status %d", k->key, v, st);
                if (st == RL_OK) CHECK((double)f == v, "%s: f32 %g want %g", k->key, f, v);
            } else {
                CHECK(st == RL_ERR_FORMAT && strstr(err.msg, "expected a float, found"), "%s: %s", k->key, err.msg);
            }
            st = gguf_get_bool(g, k->key, &bo, &err);
            CHECK((st == RL_OK) == (k->type == 7), "%s: bool status %d", k->key, st);
            if (st == RL_OK) CHECK(bo == (int)k->raw[0], "%s: bool", k->key);
            st = gguf_get_str(g, k->key, &s, &err);
            CHECK((st == RL_OK) == (k->type == 8), "%s: str status %d", k->key, st);
            if (st == RL_OK) CHECK(s.len == k->slen[0] && (!s.len || !memcmp(s.ptr, k->strs[0], s.len)), "%s: str", k->key);
            else CHECK(strstr(err.msg, "expected a string, found") != NULL, "%s: %s", k->key, err.msg);
        }
        uint32_t u;
        CHECK(gguf_get_u32(g, "no.such.key", &u, &err) == RL_ERR_NOT_FOUND && strstr(err.msg, "no.such.key"), "not found: %s",
              err.msg);
        gguf_free(g);
        bb_free(&b);
        free(m);
    }
}

/* Hand-picked coercion edges that random values rarely hit. */
static void test_getter_edges(void) {
    bb b = {0};
    struct {
        const char *key;
        uint32_t type;
        uint64_t raw;
        int u32_ok;
        int f32_ok;
    } cases[] = {
        {"u64.max32", 10, 0xFFFFFFFFull, 1, 0},  {"u64.big", 10, 0x100000000ull, 0, 0},
        {"i64.neg", 11, (uint64_t)-1, 0, 1},     {"i32.min", 5, 0x80000000ull, 0, 0},
        {"i8.neg", 1, 0x80, 0, 1},               {"u8.max", 0, 0xFF, 1, 1},
        {"i16.pos", 3, 0x7FFF, 1, 1},            {"u32.2p24", 4, 16777216, 1, 1},
        {"u32.2p24p1", 4, 16777217, 1, 0},
    };
    int n = (int)(sizeof cases / sizeof *cases);
    double big = 1e300;
    uint64_t big_raw;
    memcpy(&big_raw, &big, 8);
    bb_put(&b, "GGUF", 4);
    bb_le(&b, 3, 4);
    bb_le(&b, 0, 8);
    bb_le(&b, (uint64_t)n + 2, 8);
    bb_str(&b, "str.empty", 9); /* the only string value: an empty array (no string storage at all) */
    bb_le(&b, 9, 4);
    bb_le(&b, 8, 4);
    bb_le(&b, 0, 8);
    for (int i = 0; i < n; i++) {
        bb_str(&b, cases[i].key, strlen(cases[i].key));
        bb_le(&b, cases[i].type, 4);
        bb_le(&b, cases[i].raw, vsize(cases[i].type));
    }
    bb_str(&b, "f64.huge", 8);
    bb_le(&b, 12, 4);
    bb_le(&b, big_raw, 8);
    gguf_file *g = NULL;
    rl_error err = {0};
    CHECK(gguf_parse(b.p, b.n, b.n, &g, NULL, &err) == RL_OK, "parse: %s", err.msg);
    for (int i = 0; g && i < n; i++) {
        uint32_t u;
        float f;
        CHECK((gguf_get_u32(g, cases[i].key, &u, &err) == RL_OK) == cases[i].u32_ok, "%s u32: %s", cases[i].key, err.msg);
        CHECK((gguf_get_f32(g, cases[i].key, &f, &err) == RL_OK) == cases[i].f32_ok, "%s f32: %s", cases[i].key, err.msg);
    }
    float f;
    if (g) CHECK(gguf_get_f32(g, "f64.huge", &f, &err) == RL_ERR_FORMAT && strstr(err.msg, "f64.huge"), "huge f64: %s", err.msg);
    const gguf_kv *kv = g ? gguf_find_kv(g, "i64.neg") : NULL;
    CHECK(kv && gguf_arr_int(kv, 0) == -1 && gguf_arr_f64(kv, 0) == -1.0, "i64 -1 as array element");
    kv = g ? gguf_find_kv(g, "str.empty") : NULL;
    CHECK(kv && kv->elem_type == GGUF_STRING && kv->count == 0 && gguf_arr_str(kv, 0).len == 0, "empty string array");
    kv = g ? gguf_find_kv(g, "i32.min") : NULL;
    CHECK(kv && gguf_arr_int(kv, 0) == INT32_MIN, "i32 min");
    gguf_free(g);
    bb_free(&b);
}

/* ---- malformed input ---- */

static rl_status parse_status(const uint8_t *p, size_t len, uint64_t file_size, rl_error *err, uint64_t *need) {
    gguf_file *g = NULL;
    uint64_t nd = 0;
    err->msg[0] = '\0';
    rl_status st = gguf_parse(p, len, file_size, &g, &nd, err);
    if (need) *need = nd;
    if (st == RL_OK) CHECK(g != NULL, "OK without a file");
    else CHECK(g == NULL, "a file returned with status %d", st);
    if (st != RL_NEED_MORE) CHECK(nd == 0, "need %llu set with status %d", (ull)nd, st);
    gguf_free(g);
    return st;
}

static void test_bad_magic_and_version(void) {
    mspec *m = calloc(1, sizeof *m);
    bb b = {0};
    random_model(m, 3, 32);
    write_model(m, &b);
    rl_error err;
    uint8_t *copy = malloc(b.n);
    struct {
        size_t at;
        uint64_t v;
        int bytes;
        rl_status want;
        const char *msg;
    } cases[] = {
        {0, 0x47475546, 4, RL_ERR_FORMAT, "magic"},        /* "GGUF" byte-reversed */
        {0, 0, 4, RL_ERR_FORMAT, "magic"},
        {4, 1, 4, RL_ERR_UNSUPPORTED, "version 1"},
        {4, 0, 4, RL_ERR_UNSUPPORTED, "version 0"},
        {4, 4, 4, RL_ERR_UNSUPPORTED, "version 4"},
        {4, 0x03000000, 4, RL_ERR_UNSUPPORTED, "big-endian"},
        {4, 0xFFFFFFFF, 4, RL_ERR_UNSUPPORTED, "version"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        memcpy(copy, b.p, b.n);
        bb_poke(copy, cases[i].at, cases[i].v, cases[i].bytes);
        rl_status st = parse_status(copy, b.n, b.n, &err, NULL);
        CHECK(st == cases[i].want && strstr(err.msg, cases[i].msg), "case %zu: status %d '%s'", i, st, err.msg);
    }
    CHECK(parse_status((const uint8_t *)"GGU", 3, 3, &err, NULL) == RL_ERR_TRUNCATED, "3-byte file: %s", err.msg);
    uint64_t need = 0;
    CHECK(parse_status(NULL, 0, 0, &err, &need) == RL_NEED_MORE && need >= 24, "empty prefix: need %llu", (ull)need);
    CHECK(parse_status(NULL, 0, 100, &err, &need) == RL_NEED_MORE && need >= 24 && need <= 100, "empty prefix of 100: need %llu",
          (ull)need);
    free(copy);
    bb_free(&b);
    free(m);
}

/* Every truncation point of the header: TRUNCATED when the file really ends
 * there, NEED_MORE (with a usable need) when only the prefix does. */
static void test_truncate_every_offset(void) {
    for (int it = 0; it < 3; it++) {
        mspec *m = calloc(1, sizeof *m);
        bb b = {0};
        random_model(m, it == 1 ? 2 : 3, it == 2 ? 64 : 32);
        write_model(m, &b);
        rl_error err;
        uint64_t need;
        int bad = 0;
        for (size_t t = 0; t < m->file_size && bad < 5; t = t < m->header_size ? t + 1 : t + 1 + rnd(m->file_size / 50 + 1)) {
            /* a copy of exactly t bytes, so ASan sees any read past the prefix */
            uint8_t *p = malloc(t ? t : 1);
            memcpy(p, b.p, t);
            rl_status st = parse_status(p, t, t, &err, NULL);
            if ((st != RL_ERR_TRUNCATED && t > 0) || !err.msg[0]) { /* size 0 means unknown */
                bad++;
                CHECK(0, "file cut at %zu (header %zu): status %d '%s'", t, m->header_size, st, err.msg);
            }
            if (t < m->header_size) {
                st = parse_status(p, t, m->file_size, &err, &need);
                if (st != RL_NEED_MORE || need <= t || need > m->file_size) {
                    bad++;
                    CHECK(0, "prefix %zu of %zu: status %d need %llu '%s'", t, m->file_size, st, (ull)need, err.msg);
                }
                st = parse_status(p, t, 0, &err, &need);
                if (st != RL_NEED_MORE || need <= t) {
                    bad++;
                    CHECK(0, "prefix %zu, size unknown: status %d need %llu", t, st, (ull)need);
                }
            } else {
                /* the header is complete: parses when the size is unknown or larger */
                st = parse_status(p, t, m->file_size, &err, NULL);
                if (st != RL_OK) {
                    bad++;
                    CHECK(0, "header-complete prefix %zu: status %d '%s'", t, st, err.msg);
                }
            }
            free(p);
        }
        bb_free(&b);
        free(m);
    }
}

/* A host loop: read `need` bytes and retry until the header parses. */
static int parse_incrementally(const uint8_t *file, size_t size, size_t first, gguf_file **g, rl_error *err) {
    uint64_t len = first, need = 0;
    int rounds = 0;
    for (;;) {
        rounds++;
        uint8_t *p = malloc(len ? len : 1);
        memcpy(p, file, len);
        rl_status st = gguf_parse(p, len, size, g, &need, err);
        free(p);
        if (st == RL_OK) return rounds;
        if (st != RL_NEED_MORE || need <= len || need > size || rounds > 64) {
            CHECK(0, "incremental parse at %llu: status %d need %llu '%s'", (ull)len, st, (ull)need, err->msg);
            return -1;
        }
        len = need;
    }
}

static void test_incremental(void) {
    mspec *m = calloc(1, sizeof *m);
    bb b = {0};
    random_model(m, 3, 32);
    m->n_long = 20000; /* a long string array so the header spans several doubling rounds */
    write_model(m, &b);
    gguf_file *g = NULL;
    rl_error err;
    char s[32];
    int rounds = parse_incrementally(b.p, b.n, 16, &g, &err);
    fprintf(stderr, "    %zu-byte header parsed from a 16-byte prefix in %d rounds\n", m->header_size, rounds);
    CHECK(rounds > 2 && rounds < 20, "rounds %d", rounds);
    if (g) {
        CHECK(g->header_size == m->header_size && g->data_offset == m->data_offset, "header size %llu vs %zu",
              (ull)g->header_size, m->header_size);
        const gguf_kv *kv = gguf_find_kv(g, "test.long");
        CHECK(kv && kv->count == m->n_long, "long array");
        for (int j = 0; kv && j < 50; j++) {
            size_t i = rnd(m->n_long);
            int n = long_str(s, sizeof s, i);
            gguf_str e = gguf_arr_str(kv, i);
            CHECK(e.len == (uint64_t)n && !memcmp(e.ptr, s, (size_t)n), "long[%zu]", i);
        }
        for (int i = 0; i < m->n_kv; i++) CHECK(gguf_find_kv(g, m->kv[i].key) == &g->kv[i + 1], "key %s", m->kv[i].key);
        for (int i = 0; i < m->n_t; i++) {
            const gguf_tensor *t = gguf_find_tensor(g, m->t[i].name);
            CHECK(t && t->offset == m->t[i].offset && t->nbytes == m->t[i].nbytes, "tensor %s", m->t[i].name);
        }
        gguf_free(g);
    }
    bb_free(&b);
    free(m);
}

/* Set one recorded field of a valid file to an absurd value: the parse must fail with a message. */
typedef struct {
    size_t at;
    uint64_t v;
    int bytes;
    rl_status want; /* 0: any error */
    const char *what;
} mutation;

/* needs_size: the error is only detectable when the file size is known. */
static void expect_failure(const bb *b, mutation mu, int needs_size) {
    uint8_t *p = malloc(b->n);
    memcpy(p, b->p, b->n);
    bb_poke(p, mu.at, mu.v, mu.bytes);
    rl_error err;
    rl_status st = parse_status(p, b->n, b->n, &err, NULL);
    CHECK(st != RL_OK && st != RL_NEED_MORE && err.msg[0], "%s = %llu at %zu: status %d '%s'", mu.what, (ull)mu.v, mu.at, st, err.msg);
    if (mu.want) CHECK(st == mu.want, "%s = %llu: status %d (want %d) '%s'", mu.what, (ull)mu.v, st, mu.want, err.msg);
    /* the same bytes as a prefix of a bigger file, or of unknown size: no crash, sane need */
    uint64_t need;
    st = parse_status(p, b->n, 0, &err, &need);
    CHECK(st != RL_OK || needs_size, "%s (size unknown): parsed", mu.what);
    if (st == RL_NEED_MORE) CHECK(need > b->n, "%s: need %llu", mu.what, (ull)need);
    st = parse_status(p, b->n, (uint64_t)b->n * 4, &err, &need);
    CHECK(st != RL_OK || needs_size, "%s (larger file): parsed", mu.what);
    if (st == RL_NEED_MORE) CHECK(need > b->n && need <= (uint64_t)b->n * 4, "%s: need %llu", mu.what, (ull)need);
    free(p);
}

static uint32_t bad_ggml_type(void) {
    for (;;) {
        uint32_t t = (uint32_t)rnd(256);
        if (t == 4 || t == 5 || (t >= 16 && t <= 23) || t == 29 || t > 30) return t;
    }
}

static void test_absurd_fields(void) {
    for (int it = 0; it < 4; it++) {
        mspec *m = calloc(1, sizeof *m);
        bb b = {0};
        random_model(m, 3, 32);
        write_model(m, &b);
        const uint64_t huge[] = {UINT64_MAX, (uint64_t)1 << 63, (uint64_t)1 << 40, 0xFFFFFFFFull};
        for (int h = 0; h < 4; h++) {
            expect_failure(&b, (mutation){m->at_n_kv, huge[h], 8, RL_ERR_LIMIT, "n_kv"}, 0);
            expect_failure(&b, (mutation){m->at_n_tensors, huge[h], 8, RL_ERR_LIMIT, "n_tensors"}, 0);
        }
        expect_failure(&b, (mutation){m->at_n_kv, (1u << 20) + 1, 8, RL_ERR_LIMIT, "n_kv over limit"}, 0);
        expect_failure(&b, (mutation){m->at_n_kv, 1u << 20, 8, RL_ERR_TRUNCATED, "n_kv at limit, past the file"}, 0);
        expect_failure(&b, (mutation){m->at_n_tensors, (1u << 20) + 1, 8, RL_ERR_LIMIT, "n_tensors over limit"}, 0);
        expect_failure(&b, (mutation){m->at_n_tensors, 100000, 8, RL_ERR_TRUNCATED, "n_tensors past the file"}, 0);
        for (int i = 0; i < m->n_kv; i++) {
            const kspec *k = &m->kv[i];
            for (int h = 0; h < 4; h++)
                expect_failure(&b, (mutation){k->at_key, huge[h], 8, RL_ERR_LIMIT, "key length"}, 0);
            expect_failure(&b, (mutation){k->at_key, (1u << 26) + 1, 8, RL_ERR_LIMIT, "key length over limit"}, 0);
            expect_failure(&b, (mutation){k->at_key, 0, 8, 0, "empty key"}, 0);
            expect_failure(&b, (mutation){k->at_type, 13 + rnd(243), 4, RL_ERR_FORMAT, "value type"}, 0);
            expect_failure(&b, (mutation){k->at_type, 0xFFFFFFFF, 4, RL_ERR_FORMAT, "value type"}, 0);
            if (k->type == 9) {
                expect_failure(&b, (mutation){k->at_elem, 13 + rnd(243), 4, RL_ERR_FORMAT, "array elem type"}, 0);
                expect_failure(&b, (mutation){k->at_elem, 9, 4, RL_ERR_UNSUPPORTED, "array of arrays"}, 0);
                for (int h = 0; h < 4; h++)
                    expect_failure(&b, (mutation){k->at_count, huge[h], 8, RL_ERR_LIMIT, "array count"}, 0);
                expect_failure(&b, (mutation){k->at_count, (1u << 28) + 1, 8, RL_ERR_LIMIT, "array count over limit"}, 0);
                expect_failure(&b, (mutation){k->at_count, 10000000, 8, RL_ERR_TRUNCATED, "array count past the file"}, 0);
                if (vsize(k->elem) >= 4) /* within the count limit, but 2^28 elements would pass the 1 GiB header limit */
                    expect_failure(&b, (mutation){k->at_count, 1u << 28, 8, RL_ERR_LIMIT, "array bytes over the header limit"}, 0);
            }
            if (k->elem == 8 && k->count > 0) {
                for (int h = 0; h < 4; h++)
                    expect_failure(&b, (mutation){k->at_value, huge[h], 8, RL_ERR_LIMIT, "string length"}, 0);
                expect_failure(&b, (mutation){k->at_value, b.n, 8, RL_ERR_TRUNCATED, "string length past the file"}, 0);
            }
            if (k->elem == 7 && k->count > 0) {
                size_t j = rnd(k->count);
                expect_failure(&b, (mutation){k->at_value + j, 2 + rnd(254), 1, RL_ERR_FORMAT, "bool value"}, 0);
            }
        }
        for (int i = 0; i < m->n_t; i++) {
            const tspec *t = &m->t[i];
            const ggml_size *gs = ggml_size_of(t->type);
            expect_failure(&b, (mutation){t->at_name, UINT64_MAX, 8, RL_ERR_LIMIT, "tensor name length"}, 0);
            expect_failure(&b, (mutation){t->at_name, 0, 8, 0, "empty tensor name"}, 0);
            expect_failure(&b, (mutation){t->at_ndims, 0, 4, RL_ERR_FORMAT, "n_dims 0"}, 0);
            expect_failure(&b, (mutation){t->at_ndims, 5, 4, RL_ERR_FORMAT, "n_dims 5"}, 0);
            expect_failure(&b, (mutation){t->at_ndims, 0xFFFFFFFF, 4, RL_ERR_FORMAT, "n_dims max"}, 0);
            expect_failure(&b, (mutation){t->at_ne0, 0, 8, RL_ERR_FORMAT, "ne[0] zero"}, 0);
            if (t->n_dims > 1) expect_failure(&b, (mutation){t->at_ne0 + 8, 0, 8, RL_ERR_FORMAT, "ne[1] zero"}, 0);
            expect_failure(&b, (mutation){t->at_ne0, UINT64_MAX / gs->block * gs->block, 8, 0, "ne[0] overflow"}, 0);
            if (t->n_dims > 1)
                expect_failure(&b, (mutation){t->at_ne0 + 8, (uint64_t)1 << 62, 8, 0, "ne[1] overflow"}, 0);
            if (gs->block > 1) expect_failure(&b, (mutation){t->at_ne0, gs->block + 1, 8, RL_ERR_FORMAT, "ne[0] not whole blocks"}, 0);
            /* 1000x the data: past the end of the file, or else over the next tensor (gaps are < 1000 bytes) */
            int past = t->offset + t->nbytes * 1000 > m->file_size - m->data_offset;
            expect_failure(&b, (mutation){t->at_ne0, t->ne[0] * 1000, 8, past ? RL_ERR_TRUNCATED : RL_ERR_FORMAT, "data grows"}, 1);
            expect_failure(&b, (mutation){t->at_type, bad_ggml_type(), 4, RL_ERR_UNSUPPORTED, "ggml type"}, 0);
            expect_failure(&b, (mutation){t->at_offset, t->offset + 1 + rnd(31), 8, RL_ERR_FORMAT, "unaligned offset"}, 0);
            expect_failure(&b, (mutation){t->at_offset, UINT64_MAX - 31, 8, 0, "offset overflow"}, 0);
            expect_failure(&b, (mutation){t->at_offset, (uint64_t)1 << 40, 8, RL_ERR_TRUNCATED, "offset past the file"}, 1);
            const tspec *o = &m->t[(i + 1) % m->n_t];
            int fits = o->offset + t->nbytes <= m->file_size - m->data_offset; /* else it is also past the end */
            expect_failure(&b, (mutation){t->at_offset, o->offset, 8, fits ? RL_ERR_FORMAT : 0, "overlapping offset"}, !fits);
        }
        bb_free(&b);
        free(m);
    }
}

static void test_duplicates_and_alignment(void) {
    mspec *m = calloc(1, sizeof *m);
    bb b = {0};
    rl_error err;
    random_model(m, 3, 32);
    memcpy(m->kv[5].key, m->kv[3].key, sizeof m->kv[3].key);
    write_model(m, &b);
    CHECK(parse_status(b.p, b.n, b.n, &err, NULL) == RL_ERR_FORMAT && strstr(err.msg, "duplicate") && strstr(err.msg, m->kv[3].key),
          "duplicate key: %s", err.msg);
    random_model(m, 3, 32);
    memcpy(m->t[1].name, m->t[0].name, sizeof m->t[0].name);
    write_model(m, &b);
    CHECK(parse_status(b.p, b.n, b.n, &err, NULL) == RL_ERR_FORMAT && strstr(err.msg, "duplicate") && strstr(err.msg, m->t[0].name),
          "duplicate tensor: %s", err.msg);
    /* general.alignment: zero, not a power of two, wrong type */
    random_model(m, 3, 64);
    write_model(m, &b);
    const kspec *a = NULL;
    for (int i = 0; i < m->n_kv; i++)
        if (!strcmp(m->kv[i].key, "general.alignment")) a = &m->kv[i];
    CHECK(a != NULL, "alignment key written");
    if (a) {
        uint32_t bad[] = {0, 3, 48, 0x80000001u};
        for (int i = 0; i < 4; i++) {
            uint8_t *p = malloc(b.n);
            memcpy(p, b.p, b.n);
            bb_poke(p, a->at_value, bad[i], 4);
            CHECK(parse_status(p, b.n, b.n, &err, NULL) == RL_ERR_FORMAT && strstr(err.msg, "general.alignment") &&
                      strstr(err.msg, "byte offset"),
                  "alignment %u: %s", bad[i], err.msg);
            bb_poke(p, a->at_value, 32, 4);
            bb_poke(p, a->at_type, 6, 4); /* f32 */
            CHECK(parse_status(p, b.n, b.n, &err, NULL) == RL_ERR_FORMAT && strstr(err.msg, "expected an integer, found f32"),
                  "alignment as f32: %s", err.msg);
            free(p);
        }
        /* 128 when offsets are only 64-aligned: some offset must be misaligned */
        int misaligned = 0;
        for (int i = 0; i < m->n_t; i++) misaligned |= (m->t[i].offset % 128) != 0;
        if (misaligned) {
            uint8_t *p = malloc(b.n);
            memcpy(p, b.p, b.n);
            bb_poke(p, a->at_value, 128, 4);
            CHECK(parse_status(p, b.n, b.n, &err, NULL) == RL_ERR_FORMAT && strstr(err.msg, "alignment"), "alignment 128: %s", err.msg);
            free(p);
        }
    }
    bb_free(&b);
    free(m);
}

/* Random byte flips in the header: any status is fine, but errors carry a
 * message and successes satisfy the invariants the parser promises. */
static void test_random_flips(void) {
    mspec *m = calloc(1, sizeof *m);
    bb b = {0};
    int ok = 0, failed = 0;
    for (int it = 0; it < 3000; it++) {
        if (it % 100 == 0) {
            random_model(m, 2 + (uint32_t)rnd(2), 32);
            write_model(m, &b);
        }
        uint8_t *p = malloc(b.n);
        memcpy(p, b.p, b.n);
        int flips = 1 + (int)rnd(4);
        for (int f = 0; f < flips; f++) {
            size_t at = rnd(m->header_size);
            if (rnd(2)) p[at] ^= (uint8_t)(1u << rnd(8));
            else p[at] = (uint8_t)rnd(256);
        }
        gguf_file *g = NULL;
        rl_error err = {0};
        uint64_t need = 0;
        size_t len = rnd(4) ? b.n : rnd(b.n);
        rl_status st = gguf_parse(p, len, rnd(2) ? len : b.n, &g, &need, &err);
        if (st == RL_OK) {
            ok++;
            CHECK(g->data_offset % g->alignment == 0 && g->data_offset >= g->header_size, "data offset");
            for (uint64_t i = 0; i < g->n_tensors; i++) {
                const gguf_tensor *t = &g->tensors[i];
                CHECK(t->offset % g->alignment == 0, "offset alignment");
                CHECK(g->data_offset + t->offset + t->nbytes <= g->file_size, "tensor in file");
                for (uint64_t j = 0; j < i; j++) {
                    const gguf_tensor *u = &g->tensors[j];
                    CHECK(t->offset >= u->offset + u->nbytes || u->offset >= t->offset + t->nbytes, "overlap %llu %llu",
                          (ull)i, (ull)j);
                }
            }
            for (uint64_t i = 0; i < g->n_kv; i++) {
                const gguf_kv *kv = &g->kv[i];
                CHECK((const uint8_t *)kv->key.ptr >= g->buf && (const uint8_t *)kv->key.ptr + kv->key.len <= g->buf + g->header_size,
                      "key inside the copy");
                for (uint64_t j = 0; kv->elem_type == GGUF_STRING && j < kv->count; j++) {
                    gguf_str s = gguf_arr_str(kv, j);
                    CHECK((const uint8_t *)s.ptr >= g->buf && (const uint8_t *)s.ptr + s.len <= g->buf + g->header_size,
                          "string inside the copy");
                }
                (void)gguf_arr_int(kv, 0);
                (void)gguf_arr_f64(kv, kv->count ? kv->count - 1 : 0);
            }
            gguf_free(g);
        } else {
            failed++;
            CHECK(err.msg[0] != '\0', "status %d without a message", st);
            CHECK(g == NULL, "file returned on failure");
        }
        free(p);
    }
    fprintf(stderr, "    %d corrupted headers parsed, %d rejected\n", ok, failed);
    bb_free(&b);
    free(m);
}

/* ---- the external fixture ---- */

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = n > 0 ? malloc((size_t)n) : NULL;
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *len = p ? (size_t)n : 0;
    return p;
}

static int span_cmp(const void *a, const void *b) {
    const uint64_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

static void test_fixture(void) {
    const char *dir = t_fixtures_dir();
    char path[4096];
    snprintf(path, sizeof path, "%s/gemma4-tiny/model.gguf", dir ? dir : ".");
    size_t len;
    uint8_t *file = dir ? read_file(path, &len) : NULL;
    CHECK(file != NULL, "fixture %s not readable", path);
    if (!file) return;
    gguf_file *g = NULL;
    rl_error err;
    uint64_t need;
    /* as a host would: a 64 KiB prefix first, then what the parser asks for */
    int rounds = parse_incrementally(file, len, 65536, &g, &err);
    CHECK(g != NULL && rounds >= 2, "fixture parse: rounds %d '%s'", rounds, err.msg);
    if (!g) {
        free(file);
        return;
    }
    gguf_free(g);
    CHECK(gguf_parse(file, len, len, &g, &need, &err) == RL_OK, "whole fixture: %s", err.msg);
    CHECK(g->version == 3 && g->alignment == 32 && g->data_offset % 32 == 0 && g->data_offset >= g->header_size,
          "version %u alignment %u data offset %llu", g->version, g->alignment, (ull)g->data_offset);
    gguf_str s;
    CHECK(gguf_get_str(g, "general.architecture", &s, &err) == RL_OK && gguf_str_eq(s, "gemma4"), "architecture");
    /* facts from the fixture's README */
    struct {
        const char *key;
        uint32_t v;
    } u32s[] = {{"gemma4.block_count", 6},
                {"gemma4.embedding_length", 256},
                {"gemma4.attention.head_count", 4},
                {"gemma4.attention.head_count_kv", 1},
                {"gemma4.attention.key_length", 128},
                {"gemma4.attention.key_length_swa", 64},
                {"gemma4.attention.sliding_window", 16},
                {"gemma4.attention.shared_kv_layers", 3},
                {"gemma4.embedding_length_per_layer_input", 256},
                {"tokenizer.ggml.bos_token_id", 2}};
    for (size_t i = 0; i < sizeof u32s / sizeof *u32s; i++) {
        uint32_t v = 0;
        CHECK(gguf_get_u32(g, u32s[i].key, &v, &err) == RL_OK && v == u32s[i].v, "%s = %u (%s)", u32s[i].key, v, err.msg);
    }
    float f = 0;
    CHECK(gguf_get_f32(g, "gemma4.final_logit_softcapping", &f, &err) == RL_OK && f == 30.0f, "softcap %g", f);
    CHECK(gguf_get_f32(g, "gemma4.rope.freq_base", &f, &err) == RL_OK && f == 1e6f, "rope base %g", f);
    CHECK(gguf_get_f32(g, "gemma4.rope.freq_base_swa", &f, &err) == RL_OK && f == 1e4f, "rope base swa %g", f);
    CHECK(gguf_get_f32(g, "gemma4.attention.layer_norm_rms_epsilon", &f, &err) == RL_OK && f == 1e-6f, "eps %g", f);
    const gguf_kv *kv = gguf_find_kv(g, "gemma4.attention.sliding_window_pattern");
    static const int pattern[6] = {1, 1, 0, 1, 1, 0};
    CHECK(kv && kv->type == GGUF_ARRAY && kv->elem_type == GGUF_BOOL && kv->count == 6, "sliding pattern");
    for (int i = 0; kv && i < 6; i++) CHECK(gguf_arr_int(kv, (uint64_t)i) == pattern[i], "pattern[%d]", i);
    kv = gguf_find_kv(g, "tokenizer.ggml.tokens");
    CHECK(kv && kv->elem_type == GGUF_STRING && kv->count == 1024, "vocabulary of 1024");
    if (kv) CHECK(gguf_str_eq(gguf_arr_str(kv, 2), "<bos>") && gguf_str_eq(gguf_arr_str(kv, 1), "<eos>"), "bos/eos text");
    uint32_t L = 0;
    gguf_get_u32(g, "gemma4.block_count", &L, &err);
    kv = gguf_find_kv(g, "gemma4.feed_forward_length");
    CHECK(kv && (kv->type != GGUF_ARRAY || kv->count == L), "feed_forward_length scalar or [L]");
    const struct {
        const char *name;
        uint32_t type;
        uint64_t ne0, ne1;
    } tensors[] = {
        {"token_embd.weight", 14, 256, 1024}, /* Q6_K: gemma4.md §2.5 */
        {"output_norm.weight", 0, 256, 1},
        {"blk.0.attn_norm.weight", 0, 256, 1},
        {"blk.5.attn_q.weight", 0xFFFFFFFF, 256, 0},
        {"rope_freqs.weight", 0, 0, 1},
        {"mm.input_projection.weight", 1, 0, 0}, /* F16 projector */
        {"per_layer_token_embd.weight", 30, 0, 1024}, /* BF16, never quantized */
    };
    for (size_t i = 0; i < sizeof tensors / sizeof *tensors; i++) {
        const gguf_tensor *t = gguf_find_tensor(g, tensors[i].name);
        CHECK(t != NULL, "tensor %s missing", tensors[i].name);
        if (!t) continue;
        if (tensors[i].type != 0xFFFFFFFF) CHECK(t->type == tensors[i].type, "%s type %u", tensors[i].name, t->type);
        if (tensors[i].ne0) CHECK(t->ne[0] == tensors[i].ne0, "%s ne0 %llu", tensors[i].name, (ull)t->ne[0]);
        if (tensors[i].ne1) CHECK(t->ne[1] == tensors[i].ne1, "%s ne1 %llu", tensors[i].name, (ull)t->ne[1]);
    }
    CHECK(gguf_find_tensor(g, "output.weight") == NULL, "no output.weight (tied)");
    /* independent data checks: inside the file, aligned, no two overlapping */
    uint64_t (*sp)[2] = malloc(g->n_tensors * sizeof *sp);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        const ggml_size *gs = ggml_size_of(t->type);
        CHECK(gs != NULL, "tensor %llu: type %u outside the expected Q4_K_M mix", (ull)i, t->type);
        if (gs) CHECK(t->nbytes == t->ne[0] / gs->block * gs->bytes * t->ne[1] * t->ne[2] * t->ne[3], "nbytes of %llu", (ull)i);
        CHECK(t->offset % 32 == 0 && g->data_offset + t->offset + t->nbytes <= len, "tensor %llu placement", (ull)i);
        sp[i][0] = t->offset;
        sp[i][1] = t->offset + t->nbytes;
    }
    qsort(sp, g->n_tensors, sizeof *sp, span_cmp);
    for (uint64_t i = 1; i < g->n_tensors; i++) CHECK(sp[i][0] >= sp[i - 1][1], "overlap at %llu", (ull)sp[i][0]);
    fprintf(stderr, "    fixture: %llu kv, %llu tensors, header %llu bytes, %d rounds from 64 KiB\n", (ull)g->n_kv,
            (ull)g->n_tensors, (ull)g->header_size, rounds);
    free(sp);
    gguf_free(g);
    /* the fixture cut short at random points: truncated, never a crash */
    for (int i = 0; i < 200; i++) {
        size_t t = rnd(len);
        rl_status st = parse_status(file, t, t, &err, NULL);
        CHECK(st == RL_ERR_TRUNCATED, "fixture cut at %zu: status %d '%s'", t, st, err.msg);
    }
    free(file);
}

/* The fuzz seeds come from a second independent writer (fuzz/make_gguf_seeds.py). */
static void test_fuzz_seeds(void) {
    static const char *seeds[] = {"empty_v3", "empty_v2", "scalars_v2", "arrays_align64", "gemma4_like"};
    const char *dirs[] = {"fuzz/corpus/gguf", "../fuzz/corpus/gguf", "../../fuzz/corpus/gguf"};
    const char *dir = NULL;
    char path[512];
    for (size_t d = 0; d < 3 && !dir; d++) {
        snprintf(path, sizeof path, "%s/empty_v3.gguf", dirs[d]);
        FILE *f = fopen(path, "rb");
        if (f) fclose(f), dir = dirs[d];
    }
    CHECK(dir != NULL, "fuzz/corpus/gguf not found (run from the repository root)");
    for (size_t i = 0; dir && i < sizeof seeds / sizeof *seeds; i++) {
        snprintf(path, sizeof path, "%s/%s.gguf", dir, seeds[i]);
        size_t len;
        uint8_t *p = read_file(path, &len);
        CHECK(p != NULL, "%s missing", path);
        if (!p) continue;
        gguf_file *g = NULL;
        rl_error err;
        CHECK(gguf_parse(p, len, len, &g, NULL, &err) == RL_OK, "%s: %s", path, err.msg);
        if (g && i == 3) { /* arrays_align64: spot checks against the script */
            const gguf_kv *kv = gguf_find_kv(g, "arr.str");
            CHECK(g->alignment == 64 && g->n_tensors == 4 && kv && kv->count == 3 && gguf_str_eq(gguf_arr_str(kv, 2), "bc"),
                  "arrays_align64 contents");
            kv = gguf_find_kv(g, "arr.i32");
            CHECK(kv && gguf_arr_int(kv, 0) == -1 && gguf_arr_f64(gguf_find_kv(g, "arr.f32"), 1) == -2.0, "arrays_align64 numbers");
        }
        if (g && i == 4) {
            uint32_t u = 0;
            CHECK(gguf_get_u32(g, "gemma4.block_count", &u, &err) == RL_OK && u == 2, "gemma4_like block_count");
            const gguf_tensor *t = gguf_find_tensor(g, "token_embd.weight");
            CHECK(t && t->type == 14 && t->nbytes == 7 * 210, "gemma4_like token_embd");
        }
        gguf_free(g);
        free(p);
    }
}

/* ---- scale: a Gemma-sized tokenizer header ---- */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void test_big_vocab(void) {
    const size_t n_tok = 262144, n_merge = 500000;
    bb b = {0};
    char s[48];
    bb_put(&b, "GGUF", 4);
    bb_le(&b, 3, 4);
    bb_le(&b, 0, 8);
    bb_le(&b, 4, 8);
    bb_str(&b, "tokenizer.ggml.tokens", 21);
    bb_le(&b, 9, 4);
    bb_le(&b, 8, 4);
    bb_le(&b, n_tok, 8);
    for (size_t i = 0; i < n_tok; i++) bb_str(&b, s, (size_t)snprintf(s, sizeof s, "tok_%zx", i * 2654435761u));
    bb_str(&b, "tokenizer.ggml.merges", 21);
    bb_le(&b, 9, 4);
    bb_le(&b, 8, 4);
    bb_le(&b, n_merge, 8);
    for (size_t i = 0; i < n_merge; i++) bb_str(&b, s, (size_t)snprintf(s, sizeof s, "m%zu r%zu", i, i % 977));
    bb_str(&b, "tokenizer.ggml.scores", 21);
    bb_le(&b, 9, 4);
    bb_le(&b, 6, 4);
    bb_le(&b, n_tok, 8);
    for (size_t i = 0; i < n_tok; i++) {
        float f = (float)i;
        uint32_t u;
        memcpy(&u, &f, 4);
        bb_le(&b, u, 4);
    }
    bb_str(&b, "tokenizer.ggml.token_type", 25);
    bb_le(&b, 9, 4);
    bb_le(&b, 5, 4);
    bb_le(&b, n_tok, 8);
    for (size_t i = 0; i < n_tok; i++) bb_le(&b, 1 + i % 6, 4);

    gguf_file *g = NULL;
    rl_error err;
    double t0 = now_s();
    CHECK(gguf_parse(b.p, b.n, b.n, &g, NULL, &err) == RL_OK, "big header: %s", err.msg);
    double t1 = now_s();
    gguf_free(g);
    int rounds = parse_incrementally(b.p, b.n, 1 << 20, &g, &err);
    double t2 = now_s();
    fprintf(stderr, "    %.1f MB header: one parse %.0f ms; from a 1 MiB prefix %d rounds, %.0f ms total (sanitized build)\n",
            b.n / 1e6, (t1 - t0) * 1e3, rounds, (t2 - t1) * 1e3);
    CHECK(g != NULL, "incremental big header");
    if (g) {
        const gguf_kv *tok = gguf_find_kv(g, "tokenizer.ggml.tokens"), *mer = gguf_find_kv(g, "tokenizer.ggml.merges");
        const gguf_kv *sc = gguf_find_kv(g, "tokenizer.ggml.scores"), *ty = gguf_find_kv(g, "tokenizer.ggml.token_type");
        CHECK(tok && tok->count == n_tok && mer && mer->count == n_merge && sc && ty, "arrays");
        for (int j = 0; tok && mer && sc && ty && j < 200; j++) {
            size_t i = rnd(n_tok);
            int n = snprintf(s, sizeof s, "tok_%zx", i * 2654435761u);
            gguf_str e = gguf_arr_str(tok, i);
            CHECK(e.len == (uint64_t)n && !memcmp(e.ptr, s, (size_t)n), "token %zu", i);
            CHECK(gguf_arr_f64(sc, i) == (double)i && gguf_arr_int(ty, i) == (int64_t)(1 + i % 6), "score/type %zu", i);
            i = rnd(n_merge);
            n = snprintf(s, sizeof s, "m%zu r%zu", i, i % 977);
            e = gguf_arr_str(mer, i);
            CHECK(e.len == (uint64_t)n && !memcmp(e.ptr, s, (size_t)n), "merge %zu", i);
        }
        gguf_free(g);
    }
    bb_free(&b);
}

const t_case T_CASES[] = {
    {"roundtrip_v3", test_roundtrip_v3},
    {"roundtrip_v2", test_roundtrip_v2},
    {"getters", test_getters},
    {"getter_edges", test_getter_edges},
    {"bad_magic_and_version", test_bad_magic_and_version},
    {"truncate_every_offset", test_truncate_every_offset},
    {"incremental", test_incremental},
    {"absurd_fields", test_absurd_fields},
    {"duplicates_and_alignment", test_duplicates_and_alignment},
    {"random_flips", test_random_flips},
    {"fixture", test_fixture},
    {"fuzz_seeds", test_fuzz_seeds},
    {"big_vocab", test_big_vocab},
    {0},
};
const char *T_SUITE = "gguf";
