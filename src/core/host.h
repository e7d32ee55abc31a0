/* The host boundary. The core never calls fopen/getenv/printf directly: it goes
 * through an rl_host, implemented natively with POSIX (src/platform/host_posix.c)
 * and in wasm by JS imports (src/platform/host_wasm.c -> js/engine.mjs).
 * All calls are synchronous: Node uses fs.*Sync, the browser worker uses
 * FileSystemSyncAccessHandle / FileReaderSync. */
#ifndef RL_HOST_H
#define RL_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct rl_host rl_host;

/* Callback for directory listings: one call per entry ("." and ".." excluded). */
typedef void (*rl_dir_cb)(void *ctx, const char *name, int is_dir);

struct rl_host {
    void *user;
    /* Open a file for reading; returns a handle >= 0 and its size, or -1 with err set. */
    int (*open)(rl_host *h, const char *path, uint64_t *size, rl_error *err);
    /* Read exactly len bytes at off (short only at EOF); returns bytes read or -1. */
    int64_t (*read)(rl_host *h, int fd, uint64_t off, void *dst, size_t len, rl_error *err);
    void (*close)(rl_host *h, int fd);
    /* List a directory. Returns RL_ERR_NOT_FOUND if it does not exist. */
    rl_status (*list_dir)(rl_host *h, const char *path, rl_dir_cb cb, void *ctx, rl_error *err);
    /* Create/truncate a file for writing (tools only; may be NULL in the browser). */
    int (*create)(rl_host *h, const char *path, rl_error *err);
    int64_t (*write)(rl_host *h, int fd, const void *src, size_t len, rl_error *err);
    /* Make a directory and its parents (tools only; may be NULL). */
    rl_status (*mkdirs)(rl_host *h, const char *path, rl_error *err);
    /* Rename a file, replacing the target (tools only; may be NULL). */
    rl_status (*rename)(rl_host *h, const char *from, const char *to, rl_error *err);
    /* Text output: stream 1 = stdout, 2 = stderr. */
    void (*out)(rl_host *h, int stream, const char *s, size_t len);
    /* Read a line from stdin into buf (without the newline); returns length or -1 at EOF. */
    long (*read_line)(rl_host *h, char *buf, size_t cap);
    /* Environment lookup (NULL if unset); the browser host returns NULL. */
    const char *(*getenv)(rl_host *h, const char *name);
    double (*now_ms)(rl_host *h);
    /* Optional: map [off, off+len) of an open file read-only (native mmap); NULL
     * where unavailable (wasm), in which case callers read into memory instead. */
    const void *(*map)(rl_host *h, int fd, uint64_t off, uint64_t len, rl_error *err);
    void (*unmap)(rl_host *h, const void *p, uint64_t len);
};

/* The host for this build (POSIX natively, JS imports in wasm). */
rl_host *rl_host_default(void);

/* printf to a host stream. */
void rl_printf(rl_host *h, int stream, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Read a whole (small) file into a NUL-terminated malloc'd buffer. max caps the size. */
rl_status rl_host_read_all(rl_host *h, const char *path, size_t max, char **out, size_t *len, rl_error *err);

#endif
