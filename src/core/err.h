/* Status codes and error messages. Every fallible call returns rl_status and,
 * on failure, fills an rl_error with a message naming what went wrong and where.
 * Nothing in the core aborts on bad input. */
#ifndef RL_ERR_H
#define RL_ERR_H

#include <stddef.h>

typedef enum {
    RL_OK = 0,
    RL_ERR_IO,          /* host could not open/read/write */
    RL_ERR_FORMAT,      /* malformed input (GGUF, JSON, manifest, ...) */
    RL_ERR_TRUNCATED,   /* input ends before a structure it declares */
    RL_ERR_UNSUPPORTED, /* well-formed but not something we handle (type, version, arch) */
    RL_ERR_NOMEM,       /* allocation failed */
    RL_ERR_NOT_FOUND,   /* model, blob, key or tensor missing */
    RL_ERR_INVALID,     /* bad argument or request from the caller */
    RL_ERR_LIMIT,       /* a sanity limit was exceeded (absurd count, oversized request) */
    RL_NEED_MORE        /* not an error: the parser needs more leading bytes of the file */
} rl_status;

#define RL_ERR_MSG_CAP 512

typedef struct {
    rl_status code;
    char msg[RL_ERR_MSG_CAP];
} rl_error;

/* Record an error (printf-style) and return its code. err may be NULL. */
rl_status rl_fail(rl_error *err, rl_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix an existing message with context: "ctx: old message". Returns err->code. */
rl_status rl_fail_ctx(rl_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void rl_error_clear(rl_error *err);
const char *rl_status_name(rl_status s);

#endif
