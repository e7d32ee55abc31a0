#include "host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void rl_printf(rl_host *h, int stream, const char *fmt, ...) {
    char small[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        h->out(h, stream, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) return;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    h->out(h, stream, big, (size_t)n);
    free(big);
}

rl_status rl_host_read_all(rl_host *h, const char *path, size_t max, char **out, size_t *len, rl_error *err) {
    uint64_t size = 0;
    *out = NULL;
    int fd = h->open(h, path, &size, err);
    if (fd < 0) return err ? err->code : RL_ERR_IO;
    if (size > max) {
        h->close(h, fd);
        return rl_fail(err, RL_ERR_LIMIT, "%s: %llu bytes is larger than the %zu-byte limit for this kind of file",
                       path, (unsigned long long)size, max);
    }
    char *buf = malloc((size_t)size + 1);
    if (!buf) {
        h->close(h, fd);
        return rl_fail(err, RL_ERR_NOMEM, "%s: cannot allocate %llu bytes", path, (unsigned long long)size);
    }
    int64_t got = size ? h->read(h, fd, 0, buf, (size_t)size, err) : 0;
    h->close(h, fd);
    if (got < 0 || (uint64_t)got != size) {
        free(buf);
        if (got >= 0) rl_fail(err, RL_ERR_IO, "%s: short read (%lld of %llu bytes)", path, (long long)got, (unsigned long long)size);
        return err ? err->code : RL_ERR_IO;
    }
    buf[size] = '\0';
    *out = buf;
    if (len) *len = (size_t)size;
    return RL_OK;
}
