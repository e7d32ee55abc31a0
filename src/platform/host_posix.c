/* Native host: POSIX files, stdio. Not compiled into the wasm build. */
#ifndef __wasm__
#define _POSIX_C_SOURCE 200809L
#include "../core/host.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int posix_open(rl_host *h, const char *path, uint64_t *size, rl_error *err) {
    (void)h;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        rl_fail(err, errno == ENOENT ? RL_ERR_NOT_FOUND : RL_ERR_IO, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        rl_fail(err, RL_ERR_IO, "%s: not a regular file", path);
        return -1;
    }
    *size = (uint64_t)st.st_size;
    return fd;
}

static int64_t posix_read(rl_host *h, int fd, uint64_t off, void *dst, size_t len, rl_error *err) {
    (void)h;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, (char *)dst + done, len - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            rl_fail(err, RL_ERR_IO, "read at offset %llu: %s", (unsigned long long)(off + done), strerror(errno));
            return -1;
        }
        if (n == 0) break;
        done += (size_t)n;
    }
    return (int64_t)done;
}

static void posix_close(rl_host *h, int fd) {
    (void)h;
    close(fd);
}

static rl_status posix_list_dir(rl_host *h, const char *path, rl_dir_cb cb, void *ctx, rl_error *err) {
    (void)h;
    DIR *d = opendir(path);
    if (!d) return rl_fail(err, errno == ENOENT ? RL_ERR_NOT_FOUND : RL_ERR_IO, "%s: %s", path, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        struct stat st;
        int is_dir = stat(full, &st) == 0 && S_ISDIR(st.st_mode);
        cb(ctx, e->d_name, is_dir);
    }
    closedir(d);
    return RL_OK;
}

static int posix_create(rl_host *h, const char *path, rl_error *err) {
    (void)h;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) rl_fail(err, RL_ERR_IO, "%s: %s", path, strerror(errno));
    return fd;
}

static int64_t posix_write(rl_host *h, int fd, const void *src, size_t len, rl_error *err) {
    (void)h;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, (const char *)src + done, len - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            rl_fail(err, RL_ERR_IO, "write: %s", strerror(errno));
            return -1;
        }
        done += (size_t)n;
    }
    return (int64_t)done;
}

static rl_status posix_mkdirs(rl_host *h, const char *path, rl_error *err) {
    (void)h;
    char buf[4096];
    size_t n = strlen(path);
    if (n >= sizeof buf) return rl_fail(err, RL_ERR_INVALID, "path too long: %s", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return rl_fail(err, RL_ERR_IO, "mkdir %s: %s", buf, strerror(errno));
            buf[i] = c;
        }
    }
    return RL_OK;
}

static rl_status posix_rename(rl_host *h, const char *from, const char *to, rl_error *err) {
    (void)h;
    if (rename(from, to) != 0) return rl_fail(err, RL_ERR_IO, "rename %s -> %s: %s", from, to, strerror(errno));
    return RL_OK;
}

static void posix_out(rl_host *h, int stream, const char *s, size_t len) {
    (void)h;
    FILE *f = stream == 2 ? stderr : stdout;
    fwrite(s, 1, len, f);
    fflush(f);
}

static long posix_read_line(rl_host *h, char *buf, size_t cap) {
    (void)h;
    if (!fgets(buf, (int)cap, stdin)) return -1;
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '\n') buf[--n] = '\0';
    return (long)n;
}

static const char *posix_getenv(rl_host *h, const char *name) {
    (void)h;
    return getenv(name);
}

static double posix_now_ms(rl_host *h) {
    (void)h;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const void *posix_map(rl_host *h, int fd, uint64_t off, uint64_t len, rl_error *err) {
    (void)h;
    /* mmap needs a page-aligned offset: map from the page start and return the inner pointer. */
    long page = sysconf(_SC_PAGESIZE);
    uint64_t start = off - off % (uint64_t)page;
    void *p = mmap(NULL, (size_t)(len + (off - start)), PROT_READ, MAP_PRIVATE, fd, (off_t)start);
    if (p == MAP_FAILED) {
        rl_fail(err, RL_ERR_IO, "mmap of %llu bytes failed: %s", (unsigned long long)len, strerror(errno));
        return NULL;
    }
    return (const char *)p + (off - start);
}

static void posix_unmap(rl_host *h, const void *p, uint64_t len) {
    (void)h;
    long page = sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)p, start = a - a % (uintptr_t)page;
    munmap((void *)start, (size_t)(len + (a - start)));
}

static rl_host posix_host = {
    .user = NULL,
    .open = posix_open,
    .read = posix_read,
    .close = posix_close,
    .list_dir = posix_list_dir,
    .create = posix_create,
    .write = posix_write,
    .mkdirs = posix_mkdirs,
    .rename = posix_rename,
    .out = posix_out,
    .read_line = posix_read_line,
    .getenv = posix_getenv,
    .now_ms = posix_now_ms,
    .map = posix_map,
    .unmap = posix_unmap,
};

rl_host *rl_host_default(void) { return &posix_host; }
#endif
