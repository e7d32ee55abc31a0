/* wasm host: every call is a synchronous JS import (see js/engine.mjs `hostImports`). */
#ifdef __wasm__
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../core/host.h"
#include "wasm.h"

RL_IMPORT(host_open) int32_t js_open(const char *path, uint32_t len, uint64_t *size, char *errbuf, uint32_t errcap);
RL_IMPORT(host_read) int32_t js_read(int32_t fd, double off, void *dst, uint32_t len);
RL_IMPORT(host_close) void js_close(int32_t fd);
RL_IMPORT(host_list_dir) int32_t js_list_dir(const char *path, uint32_t len, char *out, uint32_t cap);
RL_IMPORT(host_create) int32_t js_create(const char *path, uint32_t len);
RL_IMPORT(host_write) int32_t js_write(int32_t fd, const void *src, uint32_t len);
RL_IMPORT(host_mkdirs) int32_t js_mkdirs(const char *path, uint32_t len);
RL_IMPORT(host_rename) int32_t js_rename(const char *from, uint32_t from_len, const char *to, uint32_t to_len);
RL_IMPORT(host_out) void js_out(int32_t stream, const char *s, uint32_t len);
RL_IMPORT(host_read_line) int32_t js_read_line(char *buf, uint32_t cap);
RL_IMPORT(host_getenv) int32_t js_getenv(const char *name, uint32_t len, char *out, uint32_t cap);
RL_IMPORT(host_now_ms) double js_now_ms(void);

static int w_open(rl_host *h, const char *path, uint64_t *size, rl_error *err) {
    (void)h;
    char msg[256] = {0};
    int32_t fd = js_open(path, (uint32_t)strlen(path), size, msg, sizeof msg - 1);
    if (fd < 0) rl_fail(err, fd == -2 ? RL_ERR_NOT_FOUND : RL_ERR_IO, "%s: %s", path, msg[0] ? msg : "cannot open");
    return fd < 0 ? -1 : fd;
}

static int64_t w_read(rl_host *h, int fd, uint64_t off, void *dst, size_t len, rl_error *err) {
    (void)h;
    size_t done = 0;
    while (done < len) {
        uint32_t chunk = len - done > (1u << 30) ? (1u << 30) : (uint32_t)(len - done);
        int32_t n = js_read(fd, (double)(off + done), (char *)dst + done, chunk);
        if (n < 0) {
            rl_fail(err, RL_ERR_IO, "read at offset %llu failed", (unsigned long long)(off + done));
            return -1;
        }
        if (n == 0) break;
        done += (size_t)n;
    }
    return (int64_t)done;
}

static void w_close(rl_host *h, int fd) {
    (void)h;
    js_close(fd);
}

static rl_status w_list_dir(rl_host *h, const char *path, rl_dir_cb cb, void *ctx, rl_error *err) {
    (void)h;
    uint32_t cap = 4096;
    char *buf = NULL;
    for (;;) {
        char *nb = realloc(buf, cap);
        if (!nb) {
            free(buf);
            return rl_fail(err, RL_ERR_NOMEM, "listing %s", path);
        }
        buf = nb;
        int32_t n = js_list_dir(path, (uint32_t)strlen(path), buf, cap);
        if (n == -1) {
            free(buf);
            return rl_fail(err, RL_ERR_NOT_FOUND, "%s: no such directory", path);
        }
        if (n < 0) {
            free(buf);
            return rl_fail(err, RL_ERR_IO, "%s: cannot list directory", path);
        }
        if ((uint32_t)n <= cap) {
            /* entries are "D name\n" or "F name\n" */
            char *p = buf, *end = buf + n;
            while (p < end) {
                char *nl = memchr(p, '\n', (size_t)(end - p));
                if (!nl) break;
                *nl = '\0';
                if (nl - p >= 2) cb(ctx, p + 2, p[0] == 'D');
                p = nl + 1;
            }
            free(buf);
            return RL_OK;
        }
        cap = (uint32_t)n;
    }
}

static int w_create(rl_host *h, const char *path, rl_error *err) {
    (void)h;
    int32_t fd = js_create(path, (uint32_t)strlen(path));
    if (fd < 0) rl_fail(err, RL_ERR_IO, "%s: cannot create file", path);
    return fd;
}

static int64_t w_write(rl_host *h, int fd, const void *src, size_t len, rl_error *err) {
    (void)h;
    size_t done = 0;
    while (done < len) {
        uint32_t chunk = len - done > (1u << 30) ? (1u << 30) : (uint32_t)(len - done);
        int32_t n = js_write(fd, (const char *)src + done, chunk);
        if (n < 0) {
            rl_fail(err, RL_ERR_IO, "write failed");
            return -1;
        }
        done += (size_t)n;
    }
    return (int64_t)done;
}

static rl_status w_mkdirs(rl_host *h, const char *path, rl_error *err) {
    (void)h;
    if (js_mkdirs(path, (uint32_t)strlen(path)) < 0) return rl_fail(err, RL_ERR_IO, "mkdir %s failed", path);
    return RL_OK;
}

static rl_status w_rename(rl_host *h, const char *from, const char *to, rl_error *err) {
    (void)h;
    if (js_rename(from, (uint32_t)strlen(from), to, (uint32_t)strlen(to)) < 0)
        return rl_fail(err, RL_ERR_IO, "rename %s -> %s failed", from, to);
    return RL_OK;
}

static void w_out(rl_host *h, int stream, const char *s, size_t len) {
    (void)h;
    js_out(stream, s, (uint32_t)len);
}

static long w_read_line(rl_host *h, char *buf, size_t cap) {
    (void)h;
    return js_read_line(buf, (uint32_t)cap);
}

static const char *w_getenv(rl_host *h, const char *name) {
    (void)h;
    /* Small cache of looked-up values so returned pointers stay valid. */
    static struct { char name[64]; char value[1024]; int set; } cache[16];
    static int used;
    for (int i = 0; i < used; i++)
        if (!strcmp(cache[i].name, name)) return cache[i].set ? cache[i].value : NULL;
    char value[1024];
    int32_t n = js_getenv(name, (uint32_t)strlen(name), value, sizeof value - 1);
    if (n >= (int32_t)sizeof value) n = -1; /* too long to be a sane path: treat as unset */
    if (used < 16 && strlen(name) < sizeof cache[0].name) {
        strcpy(cache[used].name, name);
        cache[used].set = n >= 0;
        if (n >= 0) {
            memcpy(cache[used].value, value, (size_t)n);
            cache[used].value[n] = '\0';
        }
        return cache[used++].set ? cache[used - 1].value : NULL;
    }
    return NULL;
}

static double w_now_ms(rl_host *h) {
    (void)h;
    return js_now_ms();
}

static rl_host wasm_host = {
    .open = w_open,
    .read = w_read,
    .close = w_close,
    .list_dir = w_list_dir,
    .create = w_create,
    .write = w_write,
    .mkdirs = w_mkdirs,
    .rename = w_rename,
    .out = w_out,
    .read_line = w_read_line,
    .getenv = w_getenv,
    .now_ms = w_now_ms,
};

rl_host *rl_host_default(void) { return &wasm_host; }
#endif
