/* Reading a GGUF header from a file through the host: open, read a leading
 * prefix, and grow it as gguf_parse asks (RL_NEED_MORE) until the header parses.
 * Only the header is read; tensor data is never touched. */
#ifndef RL_GGUF_LOAD_H
#define RL_GGUF_LOAD_H

#include "core/host.h"
#include "gguf.h"

/* From an open file of `size` bytes (path only names it in messages). On
 * success *out is the parsed header; *header_bytes (may be NULL) is how many
 * leading bytes of the file were read. Errors name the path. */
rl_status gguf_read_header(rl_host *h, int fd, uint64_t size, const char *path, gguf_file **out,
                           uint64_t *header_bytes, rl_error *err);
/* The same, opening and closing the file by path. */
rl_status gguf_load_header(rl_host *h, const char *path, gguf_file **out, uint64_t *header_bytes, rl_error *err);

#endif
