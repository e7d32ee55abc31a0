/* GGUF header reader. One pass over the caller's bytes. Every read is checked
 * against the bytes given (RL_NEED_MORE), the file size (RL_ERR_TRUNCATED) and
 * the sanity limits (RL_ERR_LIMIT) before anything is allocated from a count:
 * a count is only trusted once the bytes it declares are known to be present.
 * Strings and payloads are first recorded as pointers into the caller's buffer
 * and moved into the owned copy once the header is complete. */
#include "gguf.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quant.h"

typedef unsigned long long ull;

/* Bytes of one scalar value; 0 for string/array (variable size). */
static const uint8_t scalar_size[GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

/* Smallest possible encodings, used to check counts against the bytes left. */
#define MIN_KV_BYTES 14     /* key len u64 + 1 key byte + type u32 + 1 value byte */
#define MIN_TENSOR_BYTES 33 /* name len u64 + 1 byte + n_dims u32 + one ne u64 + type u32 + offset u64 */
#define MIN_NEED_GUESS 4096 /* smallest retry size suggested with RL_NEED_MORE */

static const char *const vtype_names[GGUF_TYPE_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};

const char *gguf_vtype_name(gguf_vtype t) {
    return (unsigned)t < GGUF_TYPE_COUNT ? vtype_names[t] : "invalid type";
}

static uint64_t rd_le(const uint8_t *p, unsigned n) {
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* A name from the file made safe for a message: printable ASCII, bounded. */
typedef struct {
    char s[72];
} shown;

static shown show(gguf_str n) {
    shown out;
    size_t k = 0, max = sizeof out.s - 4;
    for (uint64_t i = 0; i < n.len && k < max; i++) {
        unsigned char ch = (unsigned char)n.ptr[i];
        out.s[k++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    if (n.len > max) memcpy(out.s + k, "...", 3), k += 3;
    out.s[k] = '\0';
    return out;
}

/* ---- bounded reader over the caller's bytes ---- */

typedef struct {
    const uint8_t *b;
    uint64_t len;       /* usable bytes: min(len, file_size) */
    uint64_t pos;       /* invariant: pos <= len */
    uint64_t file_size; /* 0 = unknown */
    uint64_t *need;
    rl_error *err;
} reader;

/* Ensures n more bytes are available at pos; otherwise says why not. */
static rl_status want(reader *r, uint64_t n, const char *what) {
    if (n <= r->len - r->pos) return RL_OK;
    if (n > GGUF_MAX_HEADER_BYTES || r->pos + n > GGUF_MAX_HEADER_BYTES)
        return rl_fail(r->err, RL_ERR_LIMIT,
                       "%s at byte offset %llu: %llu bytes would take the header past the %llu-byte limit",
                       what, (ull)r->pos, (ull)n, (ull)GGUF_MAX_HEADER_BYTES);
    uint64_t end = r->pos + n;
    if (r->file_size && end > r->file_size)
        return rl_fail(r->err, RL_ERR_TRUNCATED,
                       "%s at byte offset %llu needs %llu bytes, but the file ends at byte %llu", what,
                       (ull)r->pos, (ull)n, (ull)r->file_size);
    /* Suggest at least double what we have so a host re-reading prefixes does O(log n) rounds. */
    uint64_t cap = GGUF_MAX_HEADER_BYTES;
    if (r->file_size && r->file_size < cap) cap = r->file_size;
    uint64_t guess = r->len >= cap / 2 ? cap : r->len * 2;
    if (guess < MIN_NEED_GUESS) guess = MIN_NEED_GUESS < cap ? MIN_NEED_GUESS : cap;
    *r->need = end > guess ? end : guess;
    return rl_fail(r->err, RL_NEED_MORE, "%s at byte offset %llu: need %llu bytes of the file, have %llu",
                   what, (ull)r->pos, (ull)end, (ull)r->len);
}

static rl_status rd_u32(reader *r, uint32_t *v, const char *what) {
    rl_status st = want(r, 4, what);
    if (st) return st;
    *v = (uint32_t)rd_le(r->b + r->pos, 4);
    r->pos += 4;
    return RL_OK;
}

static rl_status rd_u64(reader *r, uint64_t *v, const char *what) {
    rl_status st = want(r, 8, what);
    if (st) return st;
    *v = rd_le(r->b + r->pos, 8);
    r->pos += 8;
    return RL_OK;
}

static rl_status rd_str(reader *r, gguf_str *s, const char *what) {
    uint64_t at = r->pos, n;
    rl_status st = rd_u64(r, &n, what);
    if (st) return st;
    if (n > GGUF_MAX_STRING)
        return rl_fail(r->err, RL_ERR_LIMIT, "%s at byte offset %llu: length %llu exceeds the %llu-byte limit",
                       what, (ull)at, (ull)n, (ull)GGUF_MAX_STRING);
    if ((st = want(r, n, what))) return st;
    s->ptr = (const char *)(r->b + r->pos);
    s->len = n;
    r->pos += n;
    return RL_OK;
}

/* Checks that count items of at least min_bytes each can follow pos before
 * anything is allocated for them. */
static rl_status want_items(reader *r, uint64_t count, uint64_t limit, uint64_t min_bytes, const char *what) {
    if (count > limit)
        return rl_fail(r->err, RL_ERR_LIMIT, "%s: count %llu at byte offset %llu exceeds the limit %llu", what,
                       (ull)count, (ull)r->pos, (ull)limit);
    return want(r, count * min_bytes, what); /* limit * min_bytes fits easily in 64 bits */
}

/* ---- name index (duplicate detection and lookups) ---- */

static uint64_t hash_bytes(const char *p, uint64_t n) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (uint64_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
    return h;
}

static int str_same(gguf_str a, const char *p, uint64_t n) { return a.len == n && (n == 0 || !memcmp(a.ptr, p, n)); }

/* Entry i's name lives at base + i*stride + off (kv keys, tensor names). */
typedef struct {
    const uint8_t *base;
    size_t stride, off;
} name_table;

static gguf_str name_at(name_table t, uint64_t i) {
    gguf_str s;
    memcpy(&s, t.base + i * t.stride + t.off, sizeof s);
    return s;
}

static rl_status index_alloc(uint64_t n, uint32_t **slots, uint64_t *mask, rl_error *err) {
    uint64_t cap = 16;
    while (cap < 2 * n) cap *= 2; /* n <= 2^20: load factor <= 1/2 */
    *slots = calloc((size_t)cap, sizeof **slots);
    if (!*slots) return rl_fail(err, RL_ERR_NOMEM, "out of memory for a name index of %llu entries", (ull)n);
    *mask = cap - 1;
    return RL_OK;
}

/* Probe for name; returns the slot holding it or the empty slot where it would go. */
static uint64_t index_probe(const uint32_t *slots, uint64_t mask, name_table t, const char *p, uint64_t n) {
    uint64_t h = hash_bytes(p, n) & mask;
    while (slots[h] && !str_same(name_at(t, slots[h] - 1), p, n)) h = (h + 1) & mask;
    return h;
}

/* Inserts entry i; returns the index of an earlier entry with the same name, or -1. */
static int64_t index_insert(uint32_t *slots, uint64_t mask, name_table t, uint64_t i) {
    gguf_str s = name_at(t, i);
    uint64_t h = index_probe(slots, mask, t, s.ptr, s.len);
    if (slots[h]) return (int64_t)slots[h] - 1;
    slots[h] = (uint32_t)(i + 1);
    return -1;
}

/* ---- parser state ---- */

typedef struct {
    reader r;
    gguf_file *g;
    uint64_t n_pool, cap_pool; /* strings recorded so far in g->str_pool */
} parser;

static rl_status pool_push(parser *p, gguf_str s) {
    if (p->n_pool == p->cap_pool) {
        /* Every string consumed >= 8 validated input bytes, so the pool stays O(input). */
        uint64_t cap = p->cap_pool ? p->cap_pool * 2 : 64;
        if (cap > SIZE_MAX / sizeof(gguf_str)) return rl_fail(p->r.err, RL_ERR_NOMEM, "string pool too large");
        gguf_str *grown = realloc(p->g->str_pool, (size_t)cap * sizeof(gguf_str));
        if (!grown) return rl_fail(p->r.err, RL_ERR_NOMEM, "out of memory for %llu strings", (ull)cap);
        p->g->str_pool = grown;
        p->cap_pool = cap;
    }
    p->g->str_pool[p->n_pool++] = s;
    return RL_OK;
}

static rl_status check_bools(reader *r, const uint8_t *v, uint64_t n) {
    for (uint64_t i = 0; i < n; i++)
        if (v[i] > 1)
            return rl_fail(r->err, RL_ERR_FORMAT, "bool value %u at byte offset %llu is neither 0 nor 1",
                           v[i], (ull)(v + i - r->b));
    return RL_OK;
}

/* Reads count values of element type t (not array) at the current position. */
static rl_status parse_values(parser *p, gguf_kv *kv, uint32_t t, uint64_t count) {
    reader *r = &p->r;
    kv->data = r->b + r->pos;
    if (t == GGUF_STRING) {
        rl_status st = want_items(r, count, GGUF_MAX_ARRAY, 8, "string array");
        for (uint64_t i = 0; !st && i < count; i++) {
            gguf_str s;
            st = rd_str(r, &s, "string");
            if (!st) st = pool_push(p, s);
        }
        return st;
    }
    uint64_t size = scalar_size[t];
    rl_status st = want_items(r, count, GGUF_MAX_ARRAY, size, "array");
    if (st) return st;
    if (t == GGUF_BOOL && (st = check_bools(r, r->b + r->pos, count))) return st;
    r->pos += count * size;
    return RL_OK;
}

static rl_status parse_kv(parser *p, gguf_kv *kv) {
    reader *r = &p->r;
    uint32_t type;
    uint64_t at;
    rl_status st = rd_str(r, &kv->key, "key");
    if (st) return st;
    if (kv->key.len == 0) return rl_fail(r->err, RL_ERR_FORMAT, "empty key at byte offset %llu", (ull)(r->pos - 8));
    at = r->pos;
    if ((st = rd_u32(r, &type, "value type"))) return st;
    if (type >= GGUF_TYPE_COUNT)
        return rl_fail(r->err, RL_ERR_FORMAT, "invalid value type %u at byte offset %llu", type, (ull)at);
    kv->type = kv->elem_type = (gguf_vtype)type;
    kv->count = 1;
    if (type != GGUF_ARRAY) return parse_values(p, kv, type, 1);
    at = r->pos;
    if ((st = rd_u32(r, &type, "array element type")) || (st = rd_u64(r, &kv->count, "array count"))) return st;
    if (type >= GGUF_TYPE_COUNT)
        return rl_fail(r->err, RL_ERR_FORMAT, "invalid array element type %u at byte offset %llu", type, (ull)at);
    if (type == GGUF_ARRAY)
        return rl_fail(r->err, RL_ERR_UNSUPPORTED, "array of arrays at byte offset %llu is not supported", (ull)at);
    kv->elem_type = (gguf_vtype)type;
    return parse_values(p, kv, type, kv->count);
}

static rl_status parse_tensor(parser *p, gguf_tensor *t, uint32_t alignment) {
    reader *r = &p->r;
    uint64_t at;
    rl_status st = rd_str(r, &t->name, "name");
    if (st) return st;
    if (t->name.len == 0) return rl_fail(r->err, RL_ERR_FORMAT, "empty name at byte offset %llu", (ull)(r->pos - 8));
    at = r->pos;
    if ((st = rd_u32(r, &t->n_dims, "n_dims"))) return st;
    if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
        return rl_fail(r->err, RL_ERR_FORMAT, "n_dims %u at byte offset %llu is not in 1..%d", t->n_dims, (ull)at,
                       GGUF_MAX_DIMS);
    for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
        t->ne[d] = 1;
        if (d >= t->n_dims) continue;
        at = r->pos;
        if ((st = rd_u64(r, &t->ne[d], "dimension"))) return st;
        if (t->ne[d] == 0)
            return rl_fail(r->err, RL_ERR_FORMAT, "dimension %u at byte offset %llu is zero", d, (ull)at);
    }
    uint64_t type_at = r->pos, off_at = r->pos + 4;
    if ((st = rd_u32(r, &t->type, "type")) || (st = rd_u64(r, &t->offset, "offset"))) return st;

    const rl_type_info *ti = rl_type_get(t->type);
    if (!ti)
        return rl_fail(r->err, RL_ERR_UNSUPPORTED, "unknown ggml type id %u at byte offset %llu", t->type,
                       (ull)type_at);
    if (t->ne[0] % ti->block_size)
        return rl_fail(r->err, RL_ERR_FORMAT, "ne[0] = %llu is not a multiple of the %s block size %u",
                       (ull)t->ne[0], ti->name, ti->block_size);
    /* nbytes = blocks per row * block bytes * rows, each step overflow-checked. */
    uint64_t nbytes = t->ne[0] / ti->block_size;
    if (nbytes > UINT64_MAX / ti->type_size) goto overflow;
    nbytes *= ti->type_size;
    for (uint32_t d = 1; d < GGUF_MAX_DIMS; d++) {
        if (nbytes > UINT64_MAX / t->ne[d]) goto overflow;
        nbytes *= t->ne[d];
    }
    if (nbytes > INT64_MAX) goto overflow;
    t->nbytes = nbytes;
    if (t->offset % alignment)
        return rl_fail(r->err, RL_ERR_FORMAT, "data offset %llu at byte offset %llu is not a multiple of the alignment %u",
                       (ull)t->offset, (ull)off_at, alignment);
    if (t->offset > (uint64_t)INT64_MAX - nbytes) /* no file is 2^63 bytes; keeps end sums overflow-free */
        return rl_fail(r->err, RL_ERR_FORMAT, "data offset %llu + size %llu at byte offset %llu is beyond any file",
                       (ull)t->offset, (ull)nbytes, (ull)off_at);
    return RL_OK;
overflow:
    return rl_fail(r->err, RL_ERR_FORMAT, "shape [%llu, %llu, %llu, %llu] of type %s overflows the byte size",
                   (ull)t->ne[0], (ull)t->ne[1], (ull)t->ne[2], (ull)t->ne[3], ti->name);
}

/* Integer value of element i of a scalar-or-array kv: 1 with (neg, mag) set, or 0 if not an integer type. */
static int elem_int(const gguf_kv *kv, uint64_t i, int *neg, uint64_t *mag) {
    gguf_vtype t = kv->elem_type;
    if (i >= kv->count || !kv->data || (unsigned)t >= GGUF_TYPE_COUNT) return 0;
    unsigned size = scalar_size[t];
    if (!size || t == GGUF_F32 || t == GGUF_F64 || t == GGUF_BOOL) return 0;
    uint64_t v = rd_le(kv->data + i * size, size);
    int is_signed = t == GGUF_I8 || t == GGUF_I16 || t == GGUF_I32 || t == GGUF_I64;
    uint64_t sign_bit = (uint64_t)1 << (8 * size - 1);
    *neg = is_signed && (v & sign_bit);
    /* two's complement magnitude of a negative value of width size */
    *mag = *neg ? ((~v + 1) & (size == 8 ? UINT64_MAX : (sign_bit << 1) - 1)) : v;
    return 1;
}

static double elem_float(const gguf_kv *kv, uint64_t i, int *ok) {
    *ok = 0;
    if (i >= kv->count || !kv->data) return 0;
    if (kv->elem_type == GGUF_F32) {
        uint32_t u = (uint32_t)rd_le(kv->data + i * 4, 4);
        float f;
        memcpy(&f, &u, 4);
        *ok = 1;
        return f;
    }
    if (kv->elem_type == GGUF_F64) {
        uint64_t u = rd_le(kv->data + i * 8, 8);
        double d;
        memcpy(&d, &u, 8);
        *ok = 1;
        return d;
    }
    return 0;
}

static rl_status read_alignment(gguf_file *g, const uint8_t *base, rl_error *err) {
    g->alignment = 32;
    const gguf_kv *kv = gguf_find_kv(g, "general.alignment");
    if (!kv) return RL_OK;
    uint32_t a;
    rl_status st = gguf_get_u32(g, "general.alignment", &a, err);
    if (!st && (a == 0 || (a & (a - 1))))
        st = rl_fail(err, RL_ERR_FORMAT, "general.alignment: %u is not a nonzero power of two", a);
    if (st) return rl_fail_ctx(err, "value at byte offset %llu", (ull)(kv->data - base));
    g->alignment = a;
    return RL_OK;
}

typedef struct {
    uint64_t start, end, idx;
} span;

static int span_cmp(const void *a, const void *b) {
    const span *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Tensor data must lie inside the file (when its size is known) and must not overlap. */
static rl_status check_data(gguf_file *g, rl_error *err) {
    if (!g->n_tensors) return RL_OK;
    span *sp = malloc((size_t)g->n_tensors * sizeof *sp);
    if (!sp) return rl_fail(err, RL_ERR_NOMEM, "out of memory sorting %llu tensors", (ull)g->n_tensors);
    rl_status st = RL_OK;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        sp[i] = (span){t->offset, t->offset + t->nbytes, i};
        if (g->file_size && (t->offset > g->file_size || t->nbytes > g->file_size - t->offset ||
                             g->data_offset > g->file_size - t->offset - t->nbytes)) {
            st = rl_fail(err, RL_ERR_TRUNCATED,
                         "tensor #%llu '%s': data at file bytes [%llu, +%llu) extends past the end of the file (%llu bytes)",
                         (ull)i, show(t->name).s, (ull)(g->data_offset + t->offset), (ull)t->nbytes,
                         (ull)g->file_size);
            goto done;
        }
    }
    qsort(sp, (size_t)g->n_tensors, sizeof *sp, span_cmp);
    for (uint64_t i = 1; i < g->n_tensors; i++) {
        if (sp[i].start < sp[i - 1].end) {
            const gguf_tensor *a = &g->tensors[sp[i - 1].idx], *b = &g->tensors[sp[i].idx];
            st = rl_fail(err, RL_ERR_FORMAT,
                         "tensor #%llu '%s' data [%llu, %llu) overlaps tensor #%llu '%s' data [%llu, %llu) "
                         "(offsets relative to the data section at byte %llu)",
                         (ull)sp[i].idx, show(b->name).s, (ull)sp[i].start, (ull)sp[i].end, (ull)sp[i - 1].idx,
                         show(a->name).s, (ull)sp[i - 1].start, (ull)sp[i - 1].end, (ull)g->data_offset);
            goto done;
        }
    }
done:
    free(sp);
    return st;
}

/* Moves every pointer from the caller's buffer into the owned copy. */
static rl_status take_copy(parser *p) {
    gguf_file *g = p->g;
    const uint8_t *in = p->r.b;
    g->buf = malloc((size_t)g->header_size);
    if (!g->buf) return rl_fail(p->r.err, RL_ERR_NOMEM, "out of memory copying a %llu-byte header", (ull)g->header_size);
    memcpy(g->buf, in, (size_t)g->header_size);
#define MOVE(ptr_, T) ((ptr_) = (T)(const void *)(g->buf + ((const uint8_t *)(const void *)(ptr_) - in)))
    for (uint64_t i = 0; i < p->n_pool; i++) MOVE(g->str_pool[i].ptr, const char *);
    uint64_t next_str = 0;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        gguf_kv *kv = &g->kv[i];
        MOVE(kv->key.ptr, const char *);
        MOVE(kv->data, const uint8_t *);
        if (kv->elem_type == GGUF_STRING && kv->count) { /* strings were pooled in kv order */
            kv->strs = g->str_pool + next_str;
            next_str += kv->count;
        }
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) MOVE(g->tensors[i].name.ptr, const char *);
#undef MOVE
    return RL_OK;
}

static rl_status parse_header(parser *p) {
    reader *r = &p->r;
    gguf_file *g = p->g;
    rl_error *err = r->err;
    rl_status st;
    uint32_t magic;

    if ((st = rd_u32(r, &magic, "magic"))) return st;
    if (memcmp(r->b, "GGUF", 4))
        return rl_fail(err, RL_ERR_FORMAT, "not a GGUF file: bad magic %02x %02x %02x %02x at byte offset 0", r->b[0],
                       r->b[1], r->b[2], r->b[3]);
    if ((st = rd_u32(r, &g->version, "version"))) return st;
    if (g->version != 2 && g->version != 3)
        return rl_fail(err, RL_ERR_UNSUPPORTED, "unsupported GGUF version %u at byte offset 4 (only 2 and 3 are read)%s",
                       g->version,
                       g->version == 1 ? "" : (g->version & 0xffff) == 0 ? " - a big-endian file?" : "");
    if ((st = rd_u64(r, &g->n_tensors, "tensor count")) || (st = rd_u64(r, &g->n_kv, "metadata count"))) return st;

    if ((st = want_items(r, g->n_kv, GGUF_MAX_KV, MIN_KV_BYTES, "metadata count"))) return st;
    if (g->n_kv) {
        if (!(g->kv = calloc((size_t)g->n_kv, sizeof *g->kv)))
            return rl_fail(err, RL_ERR_NOMEM, "out of memory for %llu metadata entries", (ull)g->n_kv);
    }
    if ((st = index_alloc(g->n_kv, &g->kv_slots, &g->kv_mask, err))) return st;
    name_table keys = {(const uint8_t *)g->kv, sizeof(gguf_kv), offsetof(gguf_kv, key)};
    for (uint64_t i = 0; i < g->n_kv; i++) {
        uint64_t at = r->pos;
        if ((st = parse_kv(p, &g->kv[i]))) {
            if (g->kv[i].key.ptr)
                return rl_fail_ctx(err, "metadata #%llu '%s' (entry at byte offset %llu)", (ull)i, show(g->kv[i].key).s,
                                   (ull)at);
            return rl_fail_ctx(err, "metadata #%llu (entry at byte offset %llu)", (ull)i, (ull)at);
        }
        int64_t dup = index_insert(g->kv_slots, g->kv_mask, keys, i);
        if (dup >= 0)
            return rl_fail(err, RL_ERR_FORMAT, "metadata #%llu '%s' at byte offset %llu: duplicate of metadata #%lld",
                           (ull)i, show(g->kv[i].key).s, (ull)at, (long long)dup);
    }
    /* The data section's alignment is needed to check tensor offsets below. */
    if ((st = read_alignment(g, r->b, err))) return st;

    if ((st = want_items(r, g->n_tensors, GGUF_MAX_TENSORS, MIN_TENSOR_BYTES, "tensor count"))) return st;
    if (g->n_tensors) {
        if (!(g->tensors = calloc((size_t)g->n_tensors, sizeof *g->tensors)))
            return rl_fail(err, RL_ERR_NOMEM, "out of memory for %llu tensor infos", (ull)g->n_tensors);
    }
    if ((st = index_alloc(g->n_tensors, &g->tensor_slots, &g->tensor_mask, err))) return st;
    name_table names = {(const uint8_t *)g->tensors, sizeof(gguf_tensor), offsetof(gguf_tensor, name)};
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        uint64_t at = r->pos;
        if ((st = parse_tensor(p, &g->tensors[i], g->alignment))) {
            if (g->tensors[i].name.ptr)
                return rl_fail_ctx(err, "tensor #%llu '%s' (info at byte offset %llu)", (ull)i,
                                   show(g->tensors[i].name).s, (ull)at);
            return rl_fail_ctx(err, "tensor #%llu (info at byte offset %llu)", (ull)i, (ull)at);
        }
        int64_t dup = index_insert(g->tensor_slots, g->tensor_mask, names, i);
        if (dup >= 0)
            return rl_fail(err, RL_ERR_FORMAT, "tensor #%llu '%s' at byte offset %llu: duplicate of tensor #%lld",
                           (ull)i, show(g->tensors[i].name).s, (ull)at, (long long)dup);
    }
    g->header_size = r->pos;
    g->data_offset = (g->header_size + g->alignment - 1) / g->alignment * g->alignment;
    if ((st = check_data(g, err))) return st;
    return take_copy(p);
}

rl_status gguf_parse(const uint8_t *buf, size_t len, uint64_t file_size, gguf_file **out, uint64_t *need,
                     rl_error *err) {
    rl_error local_err;
    uint64_t local_need;
    if (!err) err = &local_err;
    if (!need) need = &local_need;
    *need = 0;
    if (!out) return rl_fail(err, RL_ERR_INVALID, "gguf_parse: no output pointer");
    *out = NULL;
    if (!buf && len) return rl_fail(err, RL_ERR_INVALID, "gguf_parse: NULL buffer with length %llu", (ull)len);
    if (!buf) buf = (const uint8_t *)"";
    parser p = {{buf, len, 0, file_size, need, err}, NULL, 0, 0};
    if (file_size && p.r.len > file_size) p.r.len = file_size; /* bytes past the stated end are not the file's */
    if (!(p.g = calloc(1, sizeof *p.g))) return rl_fail(err, RL_ERR_NOMEM, "out of memory");
    p.g->file_size = file_size;
    rl_status st = parse_header(&p);
    if (st) {
        gguf_free(p.g);
        if (st != RL_NEED_MORE) *need = 0;
        return st;
    }
    *out = p.g;
    return RL_OK;
}

void gguf_free(gguf_file *g) {
    if (!g) return;
    free(g->kv);
    free(g->tensors);
    free(g->buf);
    free(g->str_pool);
    free(g->kv_slots);
    free(g->tensor_slots);
    free(g);
}

/* ---- lookups ---- */

int gguf_str_eq(gguf_str s, const char *c) { return c && str_same(s, c, strlen(c)); }

const gguf_kv *gguf_find_kv(const gguf_file *g, const char *key) {
    if (!g || !key || !g->kv_slots) return NULL;
    name_table t = {(const uint8_t *)g->kv, sizeof(gguf_kv), offsetof(gguf_kv, key)};
    uint64_t h = index_probe(g->kv_slots, g->kv_mask, t, key, strlen(key));
    return g->kv_slots[h] ? &g->kv[g->kv_slots[h] - 1] : NULL;
}

const gguf_tensor *gguf_find_tensor(const gguf_file *g, const char *name) {
    if (!g || !name || !g->tensor_slots) return NULL;
    name_table t = {(const uint8_t *)g->tensors, sizeof(gguf_tensor), offsetof(gguf_tensor, name)};
    uint64_t h = index_probe(g->tensor_slots, g->tensor_mask, t, name, strlen(name));
    return g->tensor_slots[h] ? &g->tensors[g->tensor_slots[h] - 1] : NULL;
}

/* Finds key for a typed getter; fails NOT_FOUND, or FORMAT for arrays. */
static rl_status find_scalar(const gguf_file *g, const char *key, const char *expected, const gguf_kv **kv,
                             rl_error *err) {
    *kv = gguf_find_kv(g, key);
    if (!*kv) return rl_fail(err, RL_ERR_NOT_FOUND, "%s: key not found", key);
    if ((*kv)->type == GGUF_ARRAY)
        return rl_fail(err, RL_ERR_FORMAT, "%s: expected %s, found array of %s", key, expected,
                       gguf_vtype_name((*kv)->elem_type));
    return RL_OK;
}

rl_status gguf_get_u32(const gguf_file *g, const char *key, uint32_t *out, rl_error *err) {
    const gguf_kv *kv;
    rl_status st = find_scalar(g, key, "an integer", &kv, err);
    if (st) return st;
    int neg;
    uint64_t mag;
    if (!elem_int(kv, 0, &neg, &mag))
        return rl_fail(err, RL_ERR_FORMAT, "%s: expected an integer, found %s", key, gguf_vtype_name(kv->type));
    if (neg || mag > UINT32_MAX)
        return rl_fail(err, RL_ERR_FORMAT, "%s: value %s%llu does not fit in u32", key, neg ? "-" : "", (ull)mag);
    *out = (uint32_t)mag;
    return RL_OK;
}

rl_status gguf_get_f32(const gguf_file *g, const char *key, float *out, rl_error *err) {
    const gguf_kv *kv;
    rl_status st = find_scalar(g, key, "a float", &kv, err);
    if (st) return st;
    int ok, neg;
    uint64_t mag;
    double v = elem_float(kv, 0, &ok);
    if (ok) {
        if (isfinite(v) && (v > FLT_MAX || v < -FLT_MAX))
            return rl_fail(err, RL_ERR_FORMAT, "%s: value %g does not fit in f32", key, v);
        *out = (float)v;
        return RL_OK;
    }
    if (elem_int(kv, 0, &neg, &mag)) { /* integers only where f32 holds them exactly */
        if (mag <= ((uint64_t)1 << 24)) {
            *out = neg ? -(float)mag : (float)mag;
            return RL_OK;
        }
        return rl_fail(err, RL_ERR_FORMAT, "%s: integer %s%llu is not exactly representable as f32", key,
                       neg ? "-" : "", (ull)mag);
    }
    return rl_fail(err, RL_ERR_FORMAT, "%s: expected a float, found %s", key, gguf_vtype_name(kv->type));
}

rl_status gguf_get_bool(const gguf_file *g, const char *key, int *out, rl_error *err) {
    const gguf_kv *kv;
    rl_status st = find_scalar(g, key, "a bool", &kv, err);
    if (st) return st;
    if (kv->type != GGUF_BOOL)
        return rl_fail(err, RL_ERR_FORMAT, "%s: expected a bool, found %s", key, gguf_vtype_name(kv->type));
    *out = kv->data[0] != 0;
    return RL_OK;
}

rl_status gguf_get_str(const gguf_file *g, const char *key, gguf_str *out, rl_error *err) {
    const gguf_kv *kv;
    rl_status st = find_scalar(g, key, "a string", &kv, err);
    if (st) return st;
    if (kv->type != GGUF_STRING)
        return rl_fail(err, RL_ERR_FORMAT, "%s: expected a string, found %s", key, gguf_vtype_name(kv->type));
    *out = kv->strs[0];
    return RL_OK;
}

/* ---- array elements ---- */

int64_t gguf_arr_int(const gguf_kv *kv, uint64_t i) {
    int neg;
    uint64_t mag;
    if (!kv) return 0;
    if (kv->elem_type == GGUF_BOOL) return i < kv->count && kv->data ? kv->data[i] != 0 : 0;
    if (!elem_int(kv, i, &neg, &mag)) return 0;
    if (neg) return mag > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)mag;
    return mag > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)mag;
}

double gguf_arr_f64(const gguf_kv *kv, uint64_t i) {
    int ok, neg;
    uint64_t mag;
    if (!kv) return 0;
    double v = elem_float(kv, i, &ok);
    if (ok) return v;
    if (kv->elem_type == GGUF_BOOL) return i < kv->count && kv->data ? kv->data[i] != 0 : 0;
    if (elem_int(kv, i, &neg, &mag)) return neg ? -(double)mag : (double)mag;
    return 0;
}

gguf_str gguf_arr_str(const gguf_kv *kv, uint64_t i) {
    gguf_str none = {"", 0};
    if (!kv || kv->elem_type != GGUF_STRING || i >= kv->count || !kv->strs) return none;
    return kv->strs[i];
}
