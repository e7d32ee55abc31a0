/* Internals shared by tokenizer.c (tables, lookups, decode), tokenizer_encode.c
 * (special split + BPE) and tokenizer_gguf.c (loading). Not a public header. */
#ifndef RL_TOKENIZER_INTERNAL_H
#define RL_TOKENIZER_INTERNAL_H

#include "tokenizer.h"

/* A read-only list of byte strings given by an accessor, so the builder can take
 * NUL-terminated C strings or GGUF strings without copying them into an array. */
typedef struct {
    const void *ctx;
    size_t n;
    const char *(*at)(const void *ctx, size_t i, size_t *len);
} tok_strlist;

/* Trie over the special strings (token_type 3 or 4), byte by byte. Children are a
 * sibling list; the root's children are indexed by first byte. */
typedef struct {
    int32_t child, sibling;
    int32_t rank; /* index in id order among specials whose string ends here, or -1 */
    uint8_t byte;
} tok_trie_node;

typedef struct {
    int32_t left, right, entry;
} tok_merge_slot;

struct rl_tokenizer {
    size_t n_tokens;
    char *text;      /* every token string, NUL-terminated, back to back */
    size_t *off;     /* n_tokens + 1 offsets into text; length of i = off[i+1] - off[i] - 1 */
    int32_t *types;  /* tokenizer.ggml.token_type (1 where absent) */

    /* token string -> id: open addressing, linear probing. A slot holds the upper
     * 32 hash bits (so most mismatches never touch the strings) and id + 1 (0 =
     * empty). Duplicate strings map to the last id, as Ollama's map does. */
    uint64_t *tok_slots;
    uint32_t tok_mask;

    /* merges, one entry per distinct (left, right) pair whose parts and result are
     * tokens; rank = index in tokenizer.ggml.merges (the last one for repeats).
     * The key lives in the slot so a lookup costs one probe sequence. */
    size_t n_merges;
    tok_merge_slot *m_slots; /* left = -1: empty */
    int32_t *m_left, *m_right, *m_result, *m_rank; /* by entry */
    uint32_t m_mask;

    /* special tokens in id order: sp_id[rank] is the id emitted for a match */
    size_t n_specials;
    int32_t *sp_id;
    tok_trie_node *trie;
    size_t n_trie;
    int32_t trie_root[256];

    int32_t byte_id[256]; /* <0xHH> ids, -1 if absent */
    int32_t *bmp_id;      /* id of each single code point below U+10000, -1 if not a token */
    int32_t bos, eos, unk;
    int32_t eog[16];
    size_t n_eog;
};

/* Build from accessor lists (types may be NULL: all normal). Fills everything
 * except bos/eos/eog, which the caller sets (tok_set_defaults gives the
 * string-based defaults). */
rl_status tok_build(const tok_strlist *tokens, const int32_t *types, const tok_strlist *merges,
                    rl_tokenizer **out, rl_error *err);
void tok_set_defaults(rl_tokenizer *t);
void tok_add_eog(rl_tokenizer *t, int32_t id);
/* Merge entry for the adjacent tokens (l, r), or -1. */
int32_t tok_merge_find(const rl_tokenizer *t, int32_t l, int32_t r);

static inline size_t tok_len(const rl_tokenizer *t, int32_t id) {
    return t->off[id + 1] - t->off[id] - 1;
}
static inline const char *tok_str(const rl_tokenizer *t, int32_t id) { return t->text + t->off[id]; }

#endif
