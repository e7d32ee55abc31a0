#include "gpu/device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "gpu/gpu_host.h"
#include "gpu/wgsl.h"

#define UNIFORM_ARENA (4u << 20) /* per-dispatch Params; append-only so in-flight work never sees a rewrite */
#define MAX_BINDS 12

typedef struct {
    uint64_t hash;
    uint32_t id;
    uint32_t pipeline;
    uint32_t n;
    uint64_t key[2 + 3 * MAX_BINDS];
} bg_entry;

typedef struct {
    rl_kernel_id kernel;
    char *defines; /* joined with '\n' */
    uint64_t hash; /* of kernel and defines: lookups compare strings only on a hash match */
    uint32_t id;
} pipe_entry;

typedef struct {
    uint64_t hash;
    uint32_t offset, size;
} uni_entry;

struct rl_gpu_device {
    const rl_gpu_host *host;
    rl_gpu_caps caps;
    uint32_t next_id;
    uint64_t *buf_sizes; /* by id */
    uint32_t buf_cap;
    /* uniform arena: CPU mirror, the range not yet uploaded, dedup table */
    uint32_t uniform_buffer;
    uint8_t *uni;
    uint32_t uni_used, uni_flushed;
    uni_entry *uni_tab;
    uint32_t uni_tab_cap, uni_tab_n;
    pipe_entry *pipes;
    uint32_t n_pipes, pipes_cap;
    bg_entry *bgs; /* open-addressing table */
    uint32_t bg_cap, bg_n;
    /* the command list being recorded, and bytes of its writes */
    uint32_t *cmd;
    size_t n_cmd, cmd_cap;
    uint8_t **write_data;
    size_t n_writes, writes_cap;
    uint32_t dispatches;
    strbuf key; /* scratch for pipeline lookups */
};

uint64_t rl_gdev_hash(const void *p, size_t n, uint64_t h) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static rl_status push(rl_gpu_device *d, const uint32_t *w, size_t n, rl_error *err) {
    if (d->n_cmd + n > d->cmd_cap) {
        size_t cap = d->cmd_cap ? d->cmd_cap * 2 : 4096;
        while (cap < d->n_cmd + n) cap *= 2;
        uint32_t *c = realloc(d->cmd, cap * sizeof *c);
        if (!c) return rl_fail(err, RL_ERR_NOMEM, "command list");
        d->cmd = c;
        d->cmd_cap = cap;
    }
    memcpy(d->cmd + d->n_cmd, w, n * sizeof *w);
    d->n_cmd += n;
    return RL_OK;
}

rl_status rl_gdev_new(const rl_gpu_caps *caps, rl_gpu_device **out, rl_error *err) {
    const rl_gpu_host *h = rl_gpu_host_get();
    if (!h) return rl_fail(err, RL_ERR_UNSUPPORTED, "no GPU host: the GPU engine runs in the wasm build under a WebGPU host");
    rl_gpu_device *d = calloc(1, sizeof *d);
    if (!d) return rl_fail(err, RL_ERR_NOMEM, "gpu device");
    d->host = h;
    d->caps = *caps;
    if (!d->caps.uniform_align) d->caps.uniform_align = 256;
    if (!d->caps.offset_align) d->caps.offset_align = 256;
    d->next_id = 1;
    d->uni = calloc(1, UNIFORM_ARENA);
    d->uni_tab_cap = 1u << 15;
    d->uni_tab = calloc(d->uni_tab_cap, sizeof *d->uni_tab);
    d->bg_cap = 1u << 14;
    d->bgs = calloc(d->bg_cap, sizeof *d->bgs);
    if (!d->uni || !d->uni_tab || !d->bgs) {
        rl_gdev_free(d);
        return rl_fail(err, RL_ERR_NOMEM, "gpu device tables");
    }
    d->uniform_buffer = rl_gdev_buffer(d, UNIFORM_ARENA, RL_BUF_UNIFORM | RL_BUF_COPY_DST, err);
    if (!d->uniform_buffer) {
        rl_gdev_free(d);
        return err->code;
    }
    *out = d;
    return RL_OK;
}

void rl_gdev_free(rl_gpu_device *d) {
    if (!d) return;
    for (uint32_t i = 1; i < d->buf_cap; i++)
        if (d->buf_sizes[i]) d->host->buffer_destroy(i);
    for (uint32_t i = 0; i < d->n_pipes; i++) free(d->pipes[i].defines);
    for (size_t i = 0; i < d->n_writes; i++) free(d->write_data[i]);
    free(d->write_data);
    free(d->pipes);
    free(d->bgs);
    free(d->uni_tab);
    free(d->uni);
    free(d->buf_sizes);
    free(d->cmd);
    sb_free(&d->key);
    free(d);
}

const rl_gpu_caps *rl_gdev_caps(const rl_gpu_device *d) { return &d->caps; }

uint32_t rl_gdev_buffer(rl_gpu_device *d, uint64_t size, uint32_t usage, rl_error *err) {
    size = (size + 255) & ~(uint64_t)255; /* copies and bindings want 4-byte multiples; 256 keeps ranges aligned */
    if (size > d->caps.max_buffer && d->caps.max_buffer) {
        rl_fail(err, RL_ERR_LIMIT, "a %llu-byte GPU buffer exceeds the device limit of %llu bytes",
                (unsigned long long)size, (unsigned long long)d->caps.max_buffer);
        return 0;
    }
    uint32_t id = d->next_id++;
    if (id >= d->buf_cap) {
        uint32_t cap = d->buf_cap ? d->buf_cap * 2 : 256;
        uint64_t *s = realloc(d->buf_sizes, cap * sizeof *s);
        if (!s) {
            rl_fail(err, RL_ERR_NOMEM, "buffer table");
            return 0;
        }
        memset(s + d->buf_cap, 0, (cap - d->buf_cap) * sizeof *s);
        d->buf_sizes = s;
        d->buf_cap = cap;
    }
    if (d->host->buffer(id, (uint32_t)size, (uint32_t)(size >> 32), usage) != 0) {
        rl_fail(err, RL_ERR_NOMEM, "the GPU could not allocate a %llu-byte buffer (out of GPU memory?)",
                (unsigned long long)size);
        return 0;
    }
    d->buf_sizes[id] = size;
    return id;
}

uint64_t rl_gdev_buffer_size(const rl_gpu_device *d, uint32_t id) { return id < d->buf_cap ? d->buf_sizes[id] : 0; }

/* The defines joined with '\n' (the cache key); hash covers the kernel too. */
static void join_defines(rl_kernel_id k, const char *const *defines, strbuf *out, uint64_t *hash) {
    for (const char *const *p = defines; p && *p; p++) {
        sb_puts(out, *p);
        sb_putc(out, '\n');
    }
    *hash = rl_gdev_hash(out->s ? out->s : "", out->len, RL_GDEV_HASH_SEED ^ (uint64_t)k);
}

/* Recording calls this for every dispatch, so a hit must be cheap: one join
 * into a reused buffer, then hash comparisons. */
uint32_t rl_gdev_pipeline(rl_gpu_device *d, rl_kernel_id k, const char *const *defines, rl_error *err) {
    uint64_t hash;
    sb_reset(&d->key);
    join_defines(k, defines, &d->key, &hash);
    const char *key = d->key.s ? d->key.s : "";
    for (uint32_t i = 0; i < d->n_pipes; i++)
        if (d->pipes[i].hash == hash && d->pipes[i].kernel == k && !strcmp(d->pipes[i].defines, key))
            return d->pipes[i].id;
    const rl_kernel *kd = rl_kernel_get(k);
    strbuf src, joined;
    sb_init(&src);
    sb_init(&joined);
    sb_append(&joined, key, d->key.len);
    uint32_t id = 0;
    if (rl_wgsl_build(kd->files, defines, &src, err) != RL_OK) goto done;
    uint32_t shader = d->next_id++, pipe = d->next_id++;
    if (d->host->shader(shader, src.s, (uint32_t)src.len) != 0) {
        rl_fail(err, RL_ERR_FORMAT, "kernel %s: WGSL did not compile", kd->name);
        goto done;
    }
    uint32_t kinds[MAX_BINDS];
    for (uint32_t i = 0; i < kd->n_binds; i++) kinds[i] = kd->binds[i];
    /* label: the kernel and its type define (or a LABEL_ define), for profiles and error messages */
    char label[64];
    const char *type = NULL;
    for (const char *const *p = defines; p && *p; p++)
        if (!strncmp(*p, "TYPE_", 5) || !strncmp(*p, "LABEL_", 6)) type = *p + (**p == 'T' ? 5 : 6);
    snprintf(label, sizeof label, "%s%s%s", kd->name, type ? " " : "", type ? type : "");
    if (d->host->pipeline(pipe, shader, "main", 4, kinds, kd->n_binds, label, (uint32_t)strlen(label)) != 0) {
        rl_fail(err, RL_ERR_FORMAT, "kernel %s: pipeline creation failed", kd->name);
        goto done;
    }
    if (d->n_pipes == d->pipes_cap) {
        uint32_t cap = d->pipes_cap ? d->pipes_cap * 2 : 32;
        pipe_entry *p = realloc(d->pipes, cap * sizeof *p);
        if (!p) {
            rl_fail(err, RL_ERR_NOMEM, "pipeline table");
            goto done;
        }
        d->pipes = p;
        d->pipes_cap = cap;
    }
    d->pipes[d->n_pipes++] = (pipe_entry){k, sb_take(&joined), hash, pipe};
    id = pipe;
done:
    sb_free(&src);
    sb_free(&joined);
    return id;
}

/* Place params in the uniform arena, reusing an identical earlier copy. */
static rl_status uniform_slot(rl_gpu_device *d, const void *params, uint32_t size, uint32_t *offset, rl_error *err) {
    uint64_t h = rl_gdev_hash(params, size, RL_GDEV_HASH_SEED) | 1;
    uint32_t mask = d->uni_tab_cap - 1, i = (uint32_t)h & mask;
    for (; d->uni_tab[i].hash; i = (i + 1) & mask)
        if (d->uni_tab[i].hash == h && d->uni_tab[i].size == size && !memcmp(d->uni + d->uni_tab[i].offset, params, size)) {
            *offset = d->uni_tab[i].offset;
            return RL_OK;
        }
    const uint32_t align = d->caps.uniform_align;
    uint32_t off = (d->uni_used + align - 1) / align * align;
    if (off + size > UNIFORM_ARENA || d->uni_tab_n * 2 >= d->uni_tab_cap)
        return rl_fail(err, RL_ERR_LIMIT, "uniform arena full (%u distinct dispatch parameter sets)", d->uni_tab_n);
    memcpy(d->uni + off, params, size);
    d->uni_used = off + size;
    d->uni_tab[i] = (uni_entry){h, off, size};
    d->uni_tab_n++;
    *offset = off;
    return RL_OK;
}

static rl_status bind_group(rl_gpu_device *d, uint32_t pipeline, const rl_kernel *kd, uint32_t uni_off,
                            const rl_gbind *binds, uint32_t *out, rl_error *err) {
    bg_entry e = {0};
    e.pipeline = pipeline;
    e.n = kd->n_binds;
    e.key[0] = pipeline;
    e.key[1] = uni_off;
    for (uint32_t i = 1; i < kd->n_binds; i++) {
        const rl_gbind *b = &binds[i - 1];
        uint64_t size = b->size ? b->size : rl_gdev_buffer_size(d, b->buffer) - b->offset;
        if (!b->buffer || b->offset + size > rl_gdev_buffer_size(d, b->buffer))
            return rl_fail(err, RL_ERR_INVALID, "kernel %s binding %u: range [%llu, +%llu) outside buffer %u", kd->name,
                           i, (unsigned long long)b->offset, (unsigned long long)size, b->buffer);
        if (b->offset % d->caps.offset_align)
            return rl_fail(err, RL_ERR_INVALID, "kernel %s binding %u: offset %llu is not aligned", kd->name, i,
                           (unsigned long long)b->offset);
        if (size > d->caps.max_binding && d->caps.max_binding)
            return rl_fail(err, RL_ERR_LIMIT, "kernel %s binding %u: %llu bytes exceed the binding limit", kd->name, i,
                           (unsigned long long)size);
        e.key[2 + 3 * i] = b->buffer;
        e.key[3 + 3 * i] = b->offset;
        e.key[4 + 3 * i] = size;
    }
    e.hash = rl_gdev_hash(e.key, sizeof e.key, RL_GDEV_HASH_SEED) | 1;
    uint32_t mask = d->bg_cap - 1, i = (uint32_t)e.hash & mask;
    for (; d->bgs[i].hash; i = (i + 1) & mask)
        if (d->bgs[i].hash == e.hash && !memcmp(d->bgs[i].key, e.key, sizeof e.key)) {
            *out = d->bgs[i].id;
            return RL_OK;
        }
    if (d->bg_n * 2 >= d->bg_cap) return rl_fail(err, RL_ERR_LIMIT, "bind group cache full");
    uint32_t entries[4 * MAX_BINDS];
    entries[0] = 0;
    entries[1] = d->uniform_buffer;
    entries[2] = uni_off;
    entries[3] = kd->params_size;
    for (uint32_t b = 1; b < kd->n_binds; b++) {
        entries[4 * b] = b;
        entries[4 * b + 1] = (uint32_t)e.key[2 + 3 * b];
        entries[4 * b + 2] = (uint32_t)e.key[3 + 3 * b];
        entries[4 * b + 3] = (uint32_t)e.key[4 + 3 * b];
    }
    e.id = d->next_id++;
    if (d->host->bind_group(e.id, pipeline, entries, kd->n_binds) != 0)
        return rl_fail(err, RL_ERR_INVALID, "kernel %s: bind group creation failed", kd->name);
    d->bgs[i] = e;
    d->bg_n++;
    *out = e.id;
    return RL_OK;
}

rl_status rl_gdev_dispatch(rl_gpu_device *d, uint32_t pipeline, const void *params, const rl_gbind *binds,
                           uint32_t gx, uint32_t gy, uint32_t gz, rl_error *err) {
    const rl_kernel *kd = NULL;
    for (uint32_t i = 0; i < d->n_pipes; i++)
        if (d->pipes[i].id == pipeline) kd = rl_kernel_get(d->pipes[i].kernel);
    if (!kd) return rl_fail(err, RL_ERR_INVALID, "unknown pipeline %u", pipeline);
    if (!gx || !gy || !gz) return RL_OK; /* nothing to do */
    const uint32_t maxg = d->caps.max_workgroups ? d->caps.max_workgroups : 65535;
    if (gx > maxg || gy > maxg || gz > maxg)
        return rl_fail(err, RL_ERR_LIMIT, "kernel %s: grid %ux%ux%u exceeds %u workgroups per dimension", kd->name, gx,
                       gy, gz, maxg);
    uint32_t uni_off = 0, bg = 0;
    rl_status s;
    if ((s = uniform_slot(d, params, kd->params_size, &uni_off, err))) return s;
    if ((s = bind_group(d, pipeline, kd, uni_off, binds, &bg, err))) return s;
    const uint32_t w[RL_OP_LEN_DISPATCH] = {RL_OP_DISPATCH, pipeline, bg, gx, gy, gz};
    d->dispatches++;
    return push(d, w, RL_OP_LEN_DISPATCH, err);
}

rl_status rl_gdev_write(rl_gpu_device *d, uint32_t buffer, uint64_t offset, const void *src, uint32_t len,
                        rl_error *err) {
    if (len % 4 || offset % 4) return rl_fail(err, RL_ERR_INVALID, "buffer writes need 4-byte multiples");
    if (d->n_writes == d->writes_cap) {
        size_t cap = d->writes_cap ? d->writes_cap * 2 : 16;
        uint8_t **w = realloc(d->write_data, cap * sizeof *w);
        if (!w) return rl_fail(err, RL_ERR_NOMEM, "write list");
        d->write_data = w;
        d->writes_cap = cap;
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return rl_fail(err, RL_ERR_NOMEM, "write data");
    memcpy(copy, src, len);
    d->write_data[d->n_writes++] = copy;
    const uint32_t w[RL_OP_LEN_WRITE] = {RL_OP_WRITE, buffer, (uint32_t)offset, (uint32_t)(uintptr_t)copy, len};
    return push(d, w, RL_OP_LEN_WRITE, err);
}

rl_status rl_gdev_read(rl_gpu_device *d, uint32_t buffer, uint64_t offset, uint32_t len, void *dst, rl_error *err) {
    const uint32_t w[RL_OP_LEN_READ] = {RL_OP_READ, buffer, (uint32_t)offset, len, (uint32_t)(uintptr_t)dst};
    return push(d, w, RL_OP_LEN_READ, err);
}

rl_status rl_gdev_copy(rl_gpu_device *d, uint32_t src, uint64_t src_off, uint32_t dst, uint64_t dst_off, uint32_t len,
                       rl_error *err) {
    if (len % 4 || src_off % 4 || dst_off % 4) return rl_fail(err, RL_ERR_INVALID, "buffer copies need 4-byte multiples");
    const uint32_t w[RL_OP_LEN_COPY] = {RL_OP_COPY, src, (uint32_t)src_off, dst, (uint32_t)dst_off, len};
    return push(d, w, RL_OP_LEN_COPY, err);
}

rl_status rl_gdev_ahead(rl_gpu_device *d, uint32_t flushes, rl_error *err) {
    const uint32_t w[RL_OP_LEN_AHEAD] = {RL_OP_AHEAD, flushes};
    return push(d, w, RL_OP_LEN_AHEAD, err);
}

rl_status rl_gdev_free_buffer(rl_gpu_device *d, uint32_t buffer, rl_error *err) {
    const uint32_t w[RL_OP_LEN_FREE] = {RL_OP_FREE, buffer};
    rl_status s = push(d, w, RL_OP_LEN_FREE, err);
    if (!s && buffer < d->buf_cap) d->buf_sizes[buffer] = 0; /* not destroyed again when the device goes */
    return s;
}

rl_status rl_gdev_upload(rl_gpu_device *d, int file, uint64_t file_off, uint32_t len, uint32_t buffer,
                         uint64_t buf_off, rl_error *err) {
    const uint32_t w[RL_OP_LEN_UPLOAD] = {RL_OP_UPLOAD, (uint32_t)file, (uint32_t)file_off, (uint32_t)(file_off >> 32),
                                          len, buffer, (uint32_t)buf_off};
    return push(d, w, RL_OP_LEN_UPLOAD, err);
}

rl_status rl_gdev_submit(rl_gpu_device *d, rl_error *err) {
    rl_status s = RL_OK;
    if (d->uni_used > d->uni_flushed) {
        /* prepend the new uniform bytes: writes are applied before a list's commands anyway */
        uint32_t from = d->uni_flushed & ~3u, len = ((d->uni_used + 3) & ~3u) - from;
        const uint32_t w[RL_OP_LEN_WRITE] = {RL_OP_WRITE, d->uniform_buffer, from, (uint32_t)(uintptr_t)(d->uni + from),
                                             len};
        if ((s = push(d, w, RL_OP_LEN_WRITE, err))) return s;
        d->uni_flushed = d->uni_used;
    }
    if (d->n_cmd && d->host->submit(d->cmd, (uint32_t)d->n_cmd) != 0)
        s = rl_fail(err, RL_ERR_INVALID, "the host rejected a command list");
    d->n_cmd = 0;
    for (size_t i = 0; i < d->n_writes; i++) free(d->write_data[i]);
    d->n_writes = 0;
    return s;
}

size_t rl_gdev_pending_words(const rl_gpu_device *d) { return d->n_cmd; }

void rl_gdev_discard(rl_gpu_device *d) {
    d->n_cmd = 0;
    for (size_t i = 0; i < d->n_writes; i++) free(d->write_data[i]);
    d->n_writes = 0;
}

uint32_t *rl_gdev_span_copy(const rl_gpu_device *d, size_t from, size_t *n_words, uint32_t *n_dispatch, rl_error *err) {
    uint32_t dispatches = 0;
    for (size_t i = from; i < d->n_cmd;) {
        const uint32_t op = d->cmd[i];
        if (op == RL_OP_DISPATCH) {
            dispatches++;
            i += RL_OP_LEN_DISPATCH;
        } else if (op == RL_OP_COPY) {
            i += RL_OP_LEN_COPY;
        } else {
            return NULL;
        }
    }
    const size_t n = d->n_cmd - from;
    uint32_t *w = malloc((n ? n : 1) * sizeof *w);
    if (!w) {
        rl_fail(err, RL_ERR_NOMEM, "replay copy");
        return NULL;
    }
    memcpy(w, d->cmd + from, n * sizeof *w);
    *n_words = n;
    *n_dispatch = dispatches;
    return w;
}

rl_status rl_gdev_replay(rl_gpu_device *d, const uint32_t *words, size_t n_words, uint32_t n_dispatch, rl_error *err) {
    rl_status s = push(d, words, n_words, err);
    if (!s) d->dispatches += n_dispatch;
    return s;
}
uint32_t rl_gdev_dispatch_count(const rl_gpu_device *d) { return d->dispatches; }
