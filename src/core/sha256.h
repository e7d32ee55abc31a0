/* Streaming SHA-256 (FIPS 180-4). Used to name Ollama blobs (sha256-<hex>) and,
 * optionally, to verify them. Feed any number of update() calls, then final(). */
#ifndef RL_SHA256_H
#define RL_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t total;      /* bytes fed so far */
    uint8_t block[64];   /* pending partial block */
    size_t used;         /* bytes in block */
} rl_sha256;

void rl_sha256_init(rl_sha256 *s);
void rl_sha256_update(rl_sha256 *s, const void *data, size_t len);
/* Writes the 32-byte digest; the context must be re-initialised before reuse. */
void rl_sha256_final(rl_sha256 *s, uint8_t out[32]);
/* 64 lowercase hex digits + NUL. */
void rl_sha256_hex(const uint8_t digest[32], char out[65]);
/* One-shot convenience. */
void rl_sha256_buf(const void *data, size_t len, uint8_t out[32]);

#endif
