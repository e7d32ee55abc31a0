/* GGUF v3 serialisation: the header from the plan, then every tensor generated
 * and converted in row chunks (memory stays bounded whatever the model size). */
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "quant.h"

#define CHUNK_ELEMS ((size_t)1 << 20)

static void put_u32(gen_sink *s, uint32_t v) { gen_sink_write(s, &v, 4); } /* little-endian hosts */
static void put_u64(gen_sink *s, uint64_t v) { gen_sink_write(s, &v, 8); }
static void put_str(gen_sink *s, const char *p, uint64_t n) {
    put_u64(s, n);
    gen_sink_write(s, p, (size_t)n);
}

static size_t elem_bytes(gguf_vtype t) {
    switch (t) {
    case GGUF_U8: case GGUF_I8: case GGUF_BOOL: return 1;
    case GGUF_U16: case GGUF_I16: return 2;
    case GGUF_U64: case GGUF_I64: case GGUF_F64: return 8;
    default: return 4;
    }
}

static void put_kv(gen_sink *s, const gen_kv *kv) {
    put_str(s, kv->key, strlen(kv->key));
    put_u32(s, kv->type);
    if (kv->type == GGUF_ARRAY) {
        put_u32(s, kv->elem_type);
        put_u64(s, kv->count);
    }
    if (kv->elem_type == GGUF_STRING)
        for (uint64_t i = 0; i < kv->count; i++) put_str(s, kv->strs[i].ptr, kv->strs[i].len);
    else
        gen_sink_write(s, kv->data, (size_t)(kv->count * elem_bytes(kv->elem_type)));
}

typedef struct {
    rl_host *h;
    int on;
    uint64_t total, done;
    double t0, last;
} progress;

static void report(progress *p, int final) {
    if (!p->on) return;
    double now = p->h->now_ms(p->h);
    if (!final && now - p->last < 1000) return;
    p->last = now;
    rl_printf(p->h, 2, "\rrullama-gen: %3d%%  %llu / %llu MB  %.0f s%s", (int)(100.0 * (double)p->done / (double)p->total),
              (unsigned long long)(p->done >> 20), (unsigned long long)(p->total >> 20), (now - p->t0) / 1000, final ? "\n" : "");
}

static rl_status write_tensor(const gen_model *m, const gen_tensor *t, gen_sink *s, float *vals, uint8_t *out,
                              progress *p) {
    uint64_t ne0 = t->ne[0], rows = t->ne[1] * t->ne[2] * t->ne[3];
    uint64_t per = CHUNK_ELEMS / ne0 ? CHUNK_ELEMS / ne0 : 1;
    size_t row_bytes = rl_row_bytes(t->type, ne0);
    for (uint64_t r = 0; r < rows && !s->status; r += per) {
        uint64_t k = rows - r < per ? rows - r : per;
        size_t n = (size_t)(k * ne0);
        gen_values(m, t, r * ne0, n, vals);
        rl_status st = gen_convert(t->type, vals, out, n, !m->cfg.exact_quant, s->err);
        if (st) return rl_fail_ctx(s->err, "%s", t->name);
        gen_sink_write(s, out, (size_t)k * row_bytes);
        p->done += (uint64_t)k * row_bytes;
        report(p, 0);
    }
    return s->status;
}

rl_status gen_write(const gen_model *m, gen_sink *s, const gen_write_opts *o) {
    put_u32(s, 0x46554747u); /* "GGUF" */
    put_u32(s, 3);
    put_u64(s, m->n_t);
    put_u64(s, m->kv.n);
    for (size_t i = 0; i < m->kv.n; i++) put_kv(s, &m->kv.kv[i]);
    for (size_t i = 0; i < m->n_t; i++) {
        const gen_tensor *t = &m->t[i];
        put_str(s, t->name, strlen(t->name));
        put_u32(s, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) put_u64(s, t->ne[d]);
        put_u32(s, t->type);
        put_u64(s, t->offset);
    }
    if (!s->status && s->written + s->len != m->header_bytes)
        return rl_fail(s->err, RL_ERR_INVALID, "internal: header is %llu bytes, planned %llu",
                       (unsigned long long)(s->written + s->len), (unsigned long long)m->header_bytes);
    gen_sink_zeros(s, m->data_offset - m->header_bytes);

    uint64_t max_ne0 = 1;
    for (size_t i = 0; i < m->n_t; i++) max_ne0 = m->t[i].ne[0] > max_ne0 ? m->t[i].ne[0] : max_ne0;
    size_t cap = CHUNK_ELEMS > max_ne0 ? CHUNK_ELEMS : (size_t)max_ne0;
    float *vals = malloc(cap * sizeof *vals);
    uint8_t *out = malloc(cap * sizeof(float));
    if (!vals || !out) {
        free(vals), free(out);
        return rl_fail(s->err, RL_ERR_NOMEM, "tensor buffers");
    }
    progress p = {s->host, o && o->progress, m->file_bytes, m->data_offset, 0, 0};
    if (p.on) p.t0 = p.last = s->host->now_ms(s->host);
    uint64_t pos = 0; /* relative to the data section */
    rl_status st = s->status;
    for (size_t i = 0; i < m->n_t && !st; i++) {
        gen_sink_zeros(s, m->t[i].offset - pos);
        st = write_tensor(m, &m->t[i], s, vals, out, &p);
        pos = m->t[i].offset + m->t[i].nbytes;
    }
    free(vals), free(out);
    if (!st && s->written + s->len != m->file_bytes)
        st = rl_fail(s->err, RL_ERR_INVALID, "internal: wrote %llu bytes, planned %llu",
                     (unsigned long long)(s->written + s->len), (unsigned long long)m->file_bytes);
    p.done = p.total;
    if (!st) report(&p, 1);
    return st ? st : s->status;
}

rl_status gen_write_file(const gen_model *m, rl_host *h, const char *path, const gen_write_opts *o, uint8_t digest[32],
                         rl_error *err) {
    gen_sink s;
    rl_status st = gen_sink_open(&s, h, path, digest != NULL, err);
    if (st) return st;
    st = gen_write(m, &s, o);
    rl_status cst = gen_sink_close(&s, digest);
    return st ? st : cst;
}
