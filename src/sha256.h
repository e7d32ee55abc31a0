/* SHA-256 (FIPS 180-4). Used for the manifest digest `ollama list` shows as a
 * model's ID, and available for optional blob verification. Streaming API so
 * large blobs can be hashed in chunks. */
#ifndef RL_SHA256_H
#define RL_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t total;      /* bytes hashed so far */
    uint8_t block[64];
    size_t fill;         /* bytes waiting in block */
} rl_sha256;

void rl_sha256_init(rl_sha256 *s);
void rl_sha256_update(rl_sha256 *s, const void *data, size_t len);
void rl_sha256_final(rl_sha256 *s, uint8_t out[32]);
/* One-shot digest as 64 lowercase hex characters plus NUL. */
void rl_sha256_hex(const void *data, size_t len, char out[65]);

#endif
