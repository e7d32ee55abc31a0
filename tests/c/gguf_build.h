/* A small GGUF writer for tests only, written from the format description
 * (gemma4.md §2.1), independent of src/gguf.c. It records where each field
 * lands so tests can corrupt exactly that field. */
#ifndef RL_TEST_GGUF_BUILD_H
#define RL_TEST_GGUF_BUILD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t *p;
    size_t n, cap;
} bb;

static void bb_put(bb *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n) cap *= 2;
        uint8_t *grown = realloc(b->p, cap);
        if (!grown) abort(); /* test-only code: out of memory ends the run */
        b->p = grown;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, src, n);
    b->n += n;
}

/* Little-endian integer of `bytes` bytes, written byte by byte. */
static void bb_le(bb *b, uint64_t v, int bytes) {
    uint8_t tmp[8];
    for (int i = 0; i < bytes; i++) tmp[i] = (uint8_t)(v >> (8 * i));
    bb_put(b, tmp, (size_t)bytes);
}

static void bb_str(bb *b, const char *s, size_t n) {
    bb_le(b, n, 8);
    bb_put(b, s, n);
}

static void bb_pad(bb *b, size_t align) {
    static const uint8_t zero[1] = {0};
    while (b->n % align) bb_put(b, zero, 1);
}

/* Overwrite a field in place (for corrupting a valid file). */
static void bb_poke(uint8_t *p, size_t at, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) p[at + (size_t)i] = (uint8_t)(v >> (8 * i));
}

static void bb_free(bb *b) {
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

#endif
