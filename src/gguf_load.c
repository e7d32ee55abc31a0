#include "gguf_load.h"

#include <stdlib.h>

#define FIRST_READ ((uint64_t)1 << 20)

rl_status gguf_read_header(rl_host *h, int fd, uint64_t size, const char *path, gguf_file **out,
                           uint64_t *header_bytes, rl_error *err) {
    uint64_t have = 0;
    *out = NULL;
    uint64_t want = size < FIRST_READ ? size : FIRST_READ;
    uint8_t *buf = NULL;
    rl_status st;
    for (;;) {
        uint8_t *nb = realloc(buf, want ? (size_t)want : 1);
        if (!nb) {
            st = rl_fail(err, RL_ERR_NOMEM, "%s: cannot allocate %llu bytes for the GGUF header", path,
                         (unsigned long long)want);
            break;
        }
        buf = nb;
        int64_t got = want > have ? h->read(h, fd, have, buf + have, (size_t)(want - have), err) : 0;
        if (got < 0) {
            st = err && err->code ? err->code : RL_ERR_IO;
            break;
        }
        have += (uint64_t)got;
        uint64_t need = 0;
        st = gguf_parse(buf, (size_t)have, size, out, &need, err);
        if (st != RL_NEED_MORE) {
            if (st) rl_fail_ctx(err, "%s", path);
            break;
        }
        if (need <= have || need > size || need > GGUF_MAX_HEADER_BYTES || (uint64_t)(size_t)need != need) {
            st = rl_fail(err, RL_ERR_FORMAT, "%s: the GGUF header does not fit in the file (%llu bytes)", path,
                         (unsigned long long)size);
            break;
        }
        want = need;
    }
    free(buf);
    if (header_bytes) *header_bytes = have;
    return st;
}

rl_status gguf_load_header(rl_host *h, const char *path, gguf_file **out, uint64_t *header_bytes, rl_error *err) {
    uint64_t size = 0;
    *out = NULL;
    int fd = h->open(h, path, &size, err);
    if (fd < 0) return err && err->code ? err->code : RL_ERR_IO;
    rl_status st = gguf_read_header(h, fd, size, path, out, header_bytes, err);
    h->close(h, fd);
    return st;
}
