/* Buffered, hashing file writer over rl_host. Errors are sticky: after the first
 * failure every call is a no-op and close() reports it. */
#include <stdlib.h>
#include <string.h>

#include "gen.h"

#define SINK_CAP (4u << 20)

rl_status gen_sink_open(gen_sink *s, rl_host *h, const char *path, int hash, rl_error *err) {
    memset(s, 0, sizeof *s);
    s->host = h, s->err = err, s->fd = -1, s->hashing = hash;
    if (!h->create || !h->write) return s->status = rl_fail(err, RL_ERR_UNSUPPORTED, "this host cannot write files");
    s->buf = malloc(SINK_CAP);
    if (!s->buf) return s->status = rl_fail(err, RL_ERR_NOMEM, "write buffer");
    s->cap = SINK_CAP;
    rl_sha256_init(&s->sha);
    s->fd = h->create(h, path, err);
    if (s->fd < 0) {
        free(s->buf), s->buf = NULL;
        return s->status = err ? err->code : RL_ERR_IO;
    }
    return RL_OK;
}

static void raw_write(gen_sink *s, const void *p, size_t n) {
    if (s->status || !n) return;
    if (s->hashing) rl_sha256_update(&s->sha, p, n);
    if (s->host->write(s->host, s->fd, p, n, s->err) != (int64_t)n) {
        s->status = s->err && s->err->code ? s->err->code : RL_ERR_IO;
        return;
    }
    s->written += n;
}

static void flush(gen_sink *s) {
    raw_write(s, s->buf, s->len);
    s->len = 0;
}

void gen_sink_write(gen_sink *s, const void *p, size_t n) {
    if (s->status) return;
    if (s->len + n > s->cap) flush(s);
    if (n >= s->cap) {
        raw_write(s, p, n);
        return;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
}

void gen_sink_zeros(gen_sink *s, uint64_t n) {
    static const uint8_t zero[256];
    while (n && !s->status) {
        size_t k = n < sizeof zero ? (size_t)n : sizeof zero;
        gen_sink_write(s, zero, k);
        n -= k;
    }
}

rl_status gen_sink_close(gen_sink *s, uint8_t digest[32]) {
    if (s->buf) flush(s);
    if (s->fd >= 0) s->host->close(s->host, s->fd);
    free(s->buf);
    s->buf = NULL, s->fd = -1;
    if (!s->status && digest && s->hashing) rl_sha256_final(&s->sha, digest);
    return s->status;
}
