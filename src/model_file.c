#include "model_file.h"

#include <stdlib.h>
#include <string.h>

#include "gguf_load.h"
#include "quant.h"

rl_status rl_model_file_open(rl_host *h, const char *path, rl_model_file *mf, rl_error *err) {
    memset(mf, 0, sizeof *mf);
    mf->host = h;
    mf->fd = -1;
    mf->path = strdup(path);
    if (!mf->path) return rl_fail(err, RL_ERR_NOMEM, "path");
    rl_status s;
    mf->fd = h->open(h, path, &mf->size, err);
    if (mf->fd < 0) {
        s = err->code;
        goto fail;
    }
    if ((s = gguf_read_header(h, mf->fd, mf->size, path, &mf->gguf, NULL, err)) != RL_OK) goto fail;
    /* rope_freqs is tiny and needed for binding; read it straight from the file. */
    const gguf_tensor *rf = gguf_find_tensor(mf->gguf, "rope_freqs.weight");
    void *rf_data = NULL;
    if (rf && rf->nbytes <= (1u << 20)) {
        rf_data = malloc((size_t)rf->nbytes);
        if (!rf_data) {
            s = rl_fail(err, RL_ERR_NOMEM, "rope_freqs");
            goto fail;
        }
        int64_t got = h->read(h, mf->fd, mf->gguf->data_offset + rf->offset, rf_data, (size_t)rf->nbytes, err);
        if (got != (int64_t)rf->nbytes) {
            free(rf_data);
            s = got < 0 ? err->code : rl_fail(err, RL_ERR_TRUNCATED, "%s: rope_freqs.weight lies past the end", path);
            goto fail;
        }
    }
    s = rl_model_bind(mf->gguf, rf_data, &mf->model, err);
    free(rf_data);
    if (s != RL_OK) {
        rl_fail_ctx(err, "%s", path);
        goto fail;
    }
    return RL_OK;
fail:
    rl_model_file_close(mf);
    return s;
}

void rl_model_file_close(rl_model_file *mf) {
    if (mf->loaded && mf->gguf) {
        for (uint64_t i = 0; i < mf->gguf->n_tensors; i++) free(mf->loaded[i]);
    }
    free(mf->loaded);
    if (mf->mapped && mf->host->unmap) mf->host->unmap(mf->host, mf->mapped, mf->mapped_len);
    rl_model_free(&mf->model);
    if (mf->gguf) gguf_free(mf->gguf);
    if (mf->fd >= 0) mf->host->close(mf->host, mf->fd);
    free(mf->path);
    memset(mf, 0, sizeof *mf);
    mf->fd = -1;
}

static int is_text_tensor(const gguf_tensor *t) {
    const char *p = t->name.ptr;
    size_t n = t->name.len;
    return !((n >= 2 && !memcmp(p, "v.", 2)) || (n >= 2 && !memcmp(p, "a.", 2)) || (n >= 3 && !memcmp(p, "mm.", 3)));
}

static int is_row_gathered(const gguf_tensor *t) { return gguf_str_eq(t->name, "per_layer_token_embd.weight"); }

rl_status rl_model_file_load_text(rl_model_file *mf, rl_error *err) {
    const gguf_file *g = mf->gguf;
    if (mf->mapped || mf->loaded) return RL_OK;
    if (mf->size < g->data_offset) return rl_fail(err, RL_ERR_TRUNCATED, "%s: no tensor data", mf->path);
    if (mf->host->map) {
        rl_error merr;
        mf->mapped_len = mf->size - g->data_offset;
        mf->mapped = mf->host->map(mf->host, mf->fd, g->data_offset, mf->mapped_len, &merr);
        if (mf->mapped) return RL_OK;
    }
    mf->loaded = calloc(g->n_tensors ? (size_t)g->n_tensors : 1, sizeof *mf->loaded);
    if (!mf->loaded) return rl_fail(err, RL_ERR_NOMEM, "tensor table");
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        if (!is_text_tensor(t) || is_row_gathered(t)) continue;
        if (t->nbytes > ((uint64_t)1 << 31))
            return rl_fail(err, RL_ERR_LIMIT, "%s: tensor %.*s (%llu bytes) is too large to hold in memory", mf->path,
                           (int)t->name.len, t->name.ptr, (unsigned long long)t->nbytes);
        mf->loaded[i] = malloc(t->nbytes ? (size_t)t->nbytes : 1);
        if (!mf->loaded[i])
            return rl_fail(err, RL_ERR_NOMEM, "%s: cannot allocate %llu bytes for %.*s", mf->path,
                           (unsigned long long)t->nbytes, (int)t->name.len, t->name.ptr);
        int64_t got = mf->host->read(mf->host, mf->fd, g->data_offset + t->offset, mf->loaded[i], (size_t)t->nbytes, err);
        if (got != (int64_t)t->nbytes)
            return got < 0 ? err->code
                           : rl_fail(err, RL_ERR_TRUNCATED, "%s: tensor %.*s lies past the end of the file", mf->path,
                                     (int)t->name.len, t->name.ptr);
    }
    return RL_OK;
}

const uint8_t *rl_tensor_data(const rl_model_file *mf, const gguf_tensor *t) {
    if (mf->mapped) return mf->mapped + t->offset;
    if (mf->loaded) return mf->loaded[t - mf->gguf->tensors];
    return NULL;
}

rl_status rl_tensor_row_f32(const rl_model_file *mf, const gguf_tensor *t, uint64_t row, float *dst, rl_error *err) {
    const rl_type_info *ti = rl_type_get(t->type);
    if (!ti || !ti->dequant) return rl_fail(err, RL_ERR_UNSUPPORTED, "tensor type %s has no CPU support", ti ? ti->name : "?");
    uint64_t rows = t->n_dims > 1 ? t->nbytes / rl_row_bytes(t->type, t->ne[0]) : 1;
    if (row >= rows) return rl_fail(err, RL_ERR_INVALID, "row %llu out of range for %.*s", (unsigned long long)row,
                                    (int)t->name.len, t->name.ptr);
    size_t rb = rl_row_bytes(t->type, t->ne[0]);
    const uint8_t *base = rl_tensor_data(mf, t);
    if (base) {
        ti->dequant(base + row * rb, dst, (size_t)t->ne[0]);
        return RL_OK;
    }
    uint8_t stackbuf[8192];
    uint8_t *buf = rb <= sizeof stackbuf ? stackbuf : malloc(rb);
    if (!buf) return rl_fail(err, RL_ERR_NOMEM, "row buffer");
    int64_t got = mf->host->read(mf->host, mf->fd, mf->gguf->data_offset + t->offset + row * rb, buf, rb, err);
    rl_status s = RL_OK;
    if (got != (int64_t)rb)
        s = got < 0 ? err->code : rl_fail(err, RL_ERR_TRUNCATED, "%.*s: row %llu lies past the end of the file",
                                          (int)t->name.len, t->name.ptr, (unsigned long long)row);
    else
        ti->dequant(buf, dst, (size_t)t->ne[0]);
    if (buf != stackbuf) free(buf);
    return s;
}
