/* Tokenizer tables (gemma4.md §7): token strings, token -> id and (left, right)
 * -> merge hash maps, the special-token trie; plus lookups and decoding.
 * Encoding lives in tokenizer_encode.c, GGUF loading in tokenizer_gguf.c. */
#include "tokenizer_internal.h"

#include <stdlib.h>
#include <string.h>

/* Sanity limits: far above any real vocabulary, low enough to fail fast. */
#define TOK_MAX_TOKENS ((size_t)1 << 24)
#define TOK_MAX_MERGES ((size_t)1 << 25)

static uint64_t mix64(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static uint64_t hash_bytes(const char *p, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)n, w;
    for (; n >= 8; p += 8, n -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    w = 0;
    memcpy(&w, p, n);
    return mix64(h ^ w);
}

static uint32_t table_mask_for(size_t n) { /* power of two >= 2n, at least 16 */
    size_t cap = 16;
    while (cap < 2 * n) cap <<= 1;
    return (uint32_t)(cap - 1);
}

static int32_t find_n(const rl_tokenizer *t, const char *s, size_t len) {
    uint64_t h = hash_bytes(s, len), tag = h >> 32;
    for (uint32_t i = (uint32_t)h & t->tok_mask;; i = (i + 1) & t->tok_mask) {
        uint64_t slot = t->tok_slots[i];
        if (!slot) return -1;
        int32_t id = (int32_t)(uint32_t)slot - 1;
        if (slot >> 32 == tag && tok_len(t, id) == len && !memcmp(tok_str(t, id), s, len)) return id;
    }
}

int32_t rl_tokenizer_find_n(const rl_tokenizer *t, const char *s, size_t len) { return find_n(t, s, len); }
int32_t rl_tokenizer_find(const rl_tokenizer *t, const char *token) { return find_n(t, token, strlen(token)); }

static uint64_t pair_hash(int32_t l, int32_t r) { return mix64(((uint64_t)(uint32_t)l << 32) | (uint32_t)r); }

/* Slot of (l, r): the matching one, or the empty slot where it would go. */
static uint32_t merge_slot(const rl_tokenizer *t, int32_t l, int32_t r) {
    for (uint32_t i = (uint32_t)pair_hash(l, r) & t->m_mask;; i = (i + 1) & t->m_mask) {
        const tok_merge_slot *m = &t->m_slots[i];
        if (m->left < 0 || (m->left == l && m->right == r)) return i;
    }
}

int32_t tok_merge_find(const rl_tokenizer *t, int32_t l, int32_t r) {
    const tok_merge_slot *m = &t->m_slots[merge_slot(t, l, r)];
    return m->left < 0 ? -1 : m->entry;
}

void rl_tokenizer_free(rl_tokenizer *t) {
    if (!t) return;
    free(t->text);
    free(t->off);
    free(t->types);
    free(t->tok_slots);
    free(t->m_left);
    free(t->m_right);
    free(t->m_result);
    free(t->m_rank);
    free(t->m_slots);
    free(t->sp_id);
    free(t->trie);
    free(t->bmp_id);
    free(t);
}

static rl_status build_tokens(rl_tokenizer *t, const tok_strlist *tokens, const int32_t *types, rl_error *err) {
    size_t n = tokens->n, total = 0, len;
    for (size_t i = 0; i < n; i++) {
        tokens->at(tokens->ctx, i, &len);
        total += len + 1;
    }
    t->n_tokens = n;
    t->text = malloc(total ? total : 1);
    t->off = malloc((n + 1) * sizeof *t->off);
    t->types = malloc((n ? n : 1) * sizeof *t->types);
    t->tok_mask = table_mask_for(n);
    t->tok_slots = malloc(((size_t)t->tok_mask + 1) * sizeof *t->tok_slots);
    if (!t->text || !t->off || !t->types || !t->tok_slots)
        return rl_fail(err, RL_ERR_NOMEM, "tokenizer: cannot allocate tables for %zu tokens (%zu bytes of text)", n, total);
    memset(t->tok_slots, 0, ((size_t)t->tok_mask + 1) * sizeof *t->tok_slots);
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = tokens->at(tokens->ctx, i, &len);
        t->off[i] = pos;
        memcpy(t->text + pos, s, len);
        t->text[pos + len] = '\0';
        pos += len + 1;
        t->types[i] = types ? types[i] : 1;
        uint64_t h = hash_bytes(s, len), tag = h >> 32;
        uint32_t k = (uint32_t)h & t->tok_mask;
        for (;; k = (k + 1) & t->tok_mask) {
            uint64_t slot = t->tok_slots[k];
            if (!slot) break;
            int32_t id = (int32_t)(uint32_t)slot - 1;
            if (slot >> 32 == tag && tok_len(t, id) == len && !memcmp(tok_str(t, id), s, len)) break;
        }
        t->tok_slots[k] = tag << 32 | (uint32_t)(i + 1); /* a repeated string now maps to the later id */
    }
    t->off[n] = pos;
    return RL_OK;
}

/* Split "left right" at the first space whose two sides are both tokens. */
static int split_merge(const rl_tokenizer *t, const char *s, size_t len, int32_t *l, int32_t *r) {
    for (const char *sp = memchr(s, ' ', len); sp; sp = memchr(sp + 1, ' ', len - (size_t)(sp + 1 - s))) {
        size_t a = (size_t)(sp - s);
        *l = find_n(t, s, a);
        *r = find_n(t, sp + 1, len - a - 1);
        if (*l >= 0 && *r >= 0) return 1;
        if (a + 1 >= len) break;
    }
    return 0;
}

static rl_status build_merges(rl_tokenizer *t, const tok_strlist *merges, rl_error *err) {
    size_t n = merges ? merges->n : 0;
    t->m_mask = table_mask_for(n);
    t->m_slots = malloc(((size_t)t->m_mask + 1) * sizeof *t->m_slots);
    size_t cap = n ? n : 1;
    t->m_left = malloc(cap * sizeof(int32_t));
    t->m_right = malloc(cap * sizeof(int32_t));
    t->m_result = malloc(cap * sizeof(int32_t));
    t->m_rank = malloc(cap * sizeof(int32_t));
    char *cat = malloc(256);
    size_t cat_cap = 256;
    if (!t->m_slots || !t->m_left || !t->m_right || !t->m_result || !t->m_rank || !cat) {
        free(cat);
        return rl_fail(err, RL_ERR_NOMEM, "tokenizer: cannot allocate tables for %zu merges", n);
    }
    for (size_t i = 0; i <= t->m_mask; i++) t->m_slots[i].left = -1;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *s = merges->at(merges->ctx, i, &len);
        int32_t l, r;
        /* A merge whose parts are not both tokens can never apply to our symbols
         * (they are always tokens once merged); one whose result is not a token is
         * never taken (gemma4.md §7.2 c). Both are dropped here. */
        if (!split_merge(t, s, len, &l, &r)) continue;
        size_t ll = tok_len(t, l), rl = tok_len(t, r);
        if (ll + rl > cat_cap) {
            char *nc = realloc(cat, ll + rl);
            if (!nc) {
                free(cat);
                return rl_fail(err, RL_ERR_NOMEM, "tokenizer: merge %zu: out of memory", i);
            }
            cat = nc;
            cat_cap = ll + rl;
        }
        memcpy(cat, tok_str(t, l), ll);
        memcpy(cat + ll, tok_str(t, r), rl);
        int32_t res = find_n(t, cat, ll + rl);
        if (res < 0) continue;
        tok_merge_slot *slot = &t->m_slots[merge_slot(t, l, r)];
        int32_t m = slot->entry;
        if (slot->left < 0) {
            m = (int32_t)t->n_merges++;
            t->m_left[m] = l;
            t->m_right[m] = r;
            t->m_result[m] = res;
            *slot = (tok_merge_slot){l, r, m};
        }
        t->m_rank[m] = (int32_t)i; /* repeats: the later rank wins, as in Ollama's map */
    }
    free(cat);
    return RL_OK;
}

static rl_status trie_grow(rl_tokenizer *t, size_t *cap, rl_error *err) {
    if (t->n_trie < *cap) return RL_OK;
    size_t nc = *cap ? *cap * 2 : 256;
    tok_trie_node *nt = realloc(t->trie, nc * sizeof *nt);
    if (!nt) return rl_fail(err, RL_ERR_NOMEM, "tokenizer: cannot grow the special-token trie to %zu nodes", nc);
    t->trie = nt;
    *cap = nc;
    return RL_OK;
}

/* Specials: token_type 3 (control) or 4 (user-defined), in id order (gemma4.md §7.2). */
static rl_status build_specials(rl_tokenizer *t, rl_error *err) {
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < t->n_tokens; i++)
        if ((t->types[i] == 3 || t->types[i] == 4) && tok_len(t, (int32_t)i) > 0) n++;
    t->sp_id = malloc((n ? n : 1) * sizeof *t->sp_id);
    if (!t->sp_id) return rl_fail(err, RL_ERR_NOMEM, "tokenizer: cannot allocate %zu special tokens", n);
    for (int b = 0; b < 256; b++) t->trie_root[b] = -1;
    for (size_t i = 0; i < t->n_tokens; i++) {
        size_t len = tok_len(t, (int32_t)i);
        if ((t->types[i] != 3 && t->types[i] != 4) || len == 0) continue; /* an empty special matches nothing */
        const uint8_t *s = (const uint8_t *)tok_str(t, (int32_t)i);
        int32_t *link = &t->trie_root[s[0]];
        int32_t node = -1;
        for (size_t k = 0; k < len; k++) {
            if (k > 0) link = &t->trie[node].child;
            int32_t c = *link;
            while (c >= 0 && t->trie[c].byte != s[k]) c = t->trie[c].sibling;
            if (c < 0) {
                rl_status st = trie_grow(t, &cap, err);
                if (st) return st;
                if (k > 0) link = &t->trie[node].child; /* the realloc may have moved it */
                else link = &t->trie_root[s[0]];
                c = (int32_t)t->n_trie++;
                t->trie[c] = (tok_trie_node){.child = -1, .sibling = *link, .rank = -1, .byte = s[k]};
                *link = c;
            }
            node = c;
        }
        /* A repeated special string keeps its first rank: the later copy never finds
         * anything left to split. The id emitted is the string's id (its last copy). */
        if (t->trie[node].rank < 0) {
            t->trie[node].rank = (int32_t)t->n_specials;
            t->sp_id[t->n_specials++] = find_n(t, (const char *)s, len);
        }
    }
    return RL_OK;
}

rl_status tok_build(const tok_strlist *tokens, const int32_t *types, const tok_strlist *merges, rl_tokenizer **out,
                    rl_error *err) {
    *out = NULL;
    if (tokens->n == 0) return rl_fail(err, RL_ERR_FORMAT, "tokenizer: the vocabulary is empty");
    if (tokens->n > TOK_MAX_TOKENS)
        return rl_fail(err, RL_ERR_LIMIT, "tokenizer: %zu tokens exceeds the limit of %zu", tokens->n, TOK_MAX_TOKENS);
    if (merges && merges->n > TOK_MAX_MERGES)
        return rl_fail(err, RL_ERR_LIMIT, "tokenizer: %zu merges exceeds the limit of %zu", merges->n, TOK_MAX_MERGES);
    rl_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return rl_fail(err, RL_ERR_NOMEM, "tokenizer: out of memory");
    rl_status st = build_tokens(t, tokens, types, err);
    if (!st) st = build_merges(t, merges, err);
    if (!st) st = build_specials(t, err);
    if (st) {
        rl_tokenizer_free(t);
        return st;
    }
    for (int b = 0; b < 256; b++) {
        static const char hex[] = "0123456789ABCDEF";
        char name[7] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>', 0};
        t->byte_id[b] = find_n(t, name, 6);
    }
    /* Most BPE symbols are single code points: a direct table skips hashing them. */
    t->bmp_id = malloc(0x10000 * sizeof *t->bmp_id);
    if (!t->bmp_id) {
        rl_tokenizer_free(t);
        return rl_fail(err, RL_ERR_NOMEM, "tokenizer: out of memory");
    }
    for (uint32_t cp = 0; cp < 0x10000; cp++) {
        char u[3];
        size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3;
        if (n == 1) u[0] = (char)cp;
        else if (n == 2) u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F));
        else u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[2] = (char)(0x80 | (cp & 0x3F));
        t->bmp_id[cp] = cp >= 0xD800 && cp < 0xE000 ? -1 : find_n(t, u, n); /* surrogates are never symbols */
    }
    t->bos = t->eos = t->unk = -1;
    *out = t;
    return RL_OK;
}

void tok_add_eog(rl_tokenizer *t, int32_t id) {
    if (id < 0 || (size_t)id >= t->n_tokens || rl_tokenizer_is_eog(t, id)) return;
    if (t->n_eog < sizeof t->eog / sizeof *t->eog) t->eog[t->n_eog++] = id;
}

/* Defaults by string: <bos>, <eos>, the first unknown-typed token (else <unk>),
 * and the EOG set {eos, <turn|>, <|tool_response>} (gemma4.md §7.4). */
void tok_set_defaults(rl_tokenizer *t) {
    t->bos = rl_tokenizer_find(t, "<bos>");
    t->eos = rl_tokenizer_find(t, "<eos>");
    t->unk = -1;
    for (size_t i = 0; i < t->n_tokens && t->unk < 0; i++)
        if (t->types[i] == 2) t->unk = (int32_t)i;
    if (t->unk < 0) t->unk = rl_tokenizer_find(t, "<unk>");
    t->n_eog = 0;
    tok_add_eog(t, t->eos);
    tok_add_eog(t, rl_tokenizer_find(t, "<turn|>"));
    tok_add_eog(t, rl_tokenizer_find(t, "<|tool_response>"));
}

static const char *cstr_at(const void *ctx, size_t i, size_t *len) {
    const char *s = ((const char *const *)ctx)[i];
    *len = strlen(s);
    return s;
}

rl_status rl_tokenizer_create(const char *const *tokens, const int32_t *types, size_t n_tokens,
                              const char *const *merges, size_t n_merges, rl_tokenizer **out, rl_error *err) {
    if (!tokens || (n_merges && !merges)) return rl_fail(err, RL_ERR_INVALID, "tokenizer: NULL token or merge list");
    for (size_t i = 0; i < n_tokens; i++)
        if (!tokens[i]) return rl_fail(err, RL_ERR_INVALID, "tokenizer: token %zu is NULL", i);
    for (size_t i = 0; i < n_merges; i++)
        if (!merges[i]) return rl_fail(err, RL_ERR_INVALID, "tokenizer: merge %zu is NULL", i);
    tok_strlist tl = {tokens, n_tokens, cstr_at}, ml = {merges, n_merges, cstr_at};
    rl_status st = tok_build(&tl, types, &ml, out, err);
    if (st) return st;
    tok_set_defaults(*out);
    return RL_OK;
}

const char *rl_tokenizer_token(const rl_tokenizer *t, int32_t id) {
    return id >= 0 && (size_t)id < t->n_tokens ? tok_str(t, id) : NULL;
}

int rl_tokenizer_type(const rl_tokenizer *t, int32_t id) {
    return id >= 0 && (size_t)id < t->n_tokens ? t->types[id] : 0;
}

size_t rl_tokenizer_vocab_size(const rl_tokenizer *t) { return t->n_tokens; }
int32_t rl_tokenizer_bos(const rl_tokenizer *t) { return t->bos; }
int32_t rl_tokenizer_eos(const rl_tokenizer *t) { return t->eos; }

int rl_tokenizer_is_eog(const rl_tokenizer *t, int32_t id) {
    for (size_t i = 0; i < t->n_eog; i++)
        if (t->eog[i] == id) return 1;
    return 0;
}

static int hex_val(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* gemma4.md §7.3: "<0xHH>" -> that byte; otherwise the text with "▁" -> " ". */
void rl_tokenizer_decode_token(const rl_tokenizer *t, int32_t id, strbuf *out) {
    if (id < 0 || (size_t)id >= t->n_tokens) return;
    const char *s = tok_str(t, id);
    size_t len = tok_len(t, id);
    if (len == 6 && s[0] == '<' && s[1] == '0' && s[2] == 'x' && s[5] == '>') {
        int hi = hex_val(s[3]), lo = hex_val(s[4]);
        if (hi >= 0 && lo >= 0) {
            sb_putc(out, (char)(hi << 4 | lo));
            return;
        }
    }
    size_t run = 0; /* bytes since the last "▁" not yet copied */
    for (size_t i = 0; i < len; i++) {
        if (i + 2 < len && (uint8_t)s[i] == 0xE2 && (uint8_t)s[i + 1] == 0x96 && (uint8_t)s[i + 2] == 0x81) {
            sb_append(out, s + i - run, run);
            sb_putc(out, ' ');
            run = 0;
            i += 2;
        } else {
            run++;
        }
    }
    sb_append(out, s + len - run, run);
}
