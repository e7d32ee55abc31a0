#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

rl_status rl_fail(rl_error *err, rl_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

rl_status rl_fail_ctx(rl_error *err, const char *fmt, ...) {
    if (!err) return RL_ERR_INVALID;
    char prefix[RL_ERR_MSG_CAP], old[RL_ERR_MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t n = strlen(prefix);
    if (n > sizeof err->msg - 3) n = sizeof err->msg - 3;
    memcpy(err->msg, prefix, n);
    err->msg[n] = ':';
    err->msg[n + 1] = ' ';
    size_t room = sizeof err->msg - n - 3, m = strlen(old);
    if (m > room) m = room;
    memcpy(err->msg + n + 2, old, m);
    err->msg[n + 2 + m] = '\0';
    return err->code;
}

void rl_error_clear(rl_error *err) {
    if (err) {
        err->code = RL_OK;
        err->msg[0] = '\0';
    }
}

const char *rl_status_name(rl_status s) {
    switch (s) {
    case RL_OK: return "ok";
    case RL_ERR_IO: return "io error";
    case RL_ERR_FORMAT: return "format error";
    case RL_ERR_TRUNCATED: return "truncated";
    case RL_ERR_UNSUPPORTED: return "unsupported";
    case RL_ERR_NOMEM: return "out of memory";
    case RL_ERR_NOT_FOUND: return "not found";
    case RL_ERR_INVALID: return "invalid argument";
    case RL_ERR_LIMIT: return "limit exceeded";
    case RL_NEED_MORE: return "need more data";
    }
    return "unknown status";
}
