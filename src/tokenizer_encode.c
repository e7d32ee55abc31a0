/* Encoding (gemma4.md §7.2): split out special tokens, then BPE each remaining
 * fragment over code points with merge ranks, byte fallback for the rest. */
#include "tokenizer_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int32_t id;          /* token id; -1 = not a token (byte fallback); -2 = merged away */
    int32_t prev, next;  /* neighbours in the live list, -1 at the ends */
    uint32_t start, len; /* bytes in the normalized fragment */
} bpe_sym;

typedef struct {
    int32_t rank, left, right, merge; /* merge of symbols left and right (adjacent when pushed) */
} bpe_cand;

typedef struct {
    const rl_tokenizer *t;
    int32_t *ids;
    size_t n_ids, cap_ids;
    char *norm;
    size_t cap_norm;
    bpe_sym *syms;
    size_t cap_syms;
    bpe_cand *heap;
    size_t n_heap, cap_heap;
    int oom;
} enc_ctx;

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 1;
    size_t nc = *cap ? *cap : 64;
    while (nc < need) nc *= 2;
    void *np = realloc(*p, nc * elem);
    if (!np) return 0;
    *p = np;
    *cap = nc;
    return 1;
}

static void emit(enc_ctx *c, int32_t id) {
    if (c->oom) return;
    if (!grow((void **)&c->ids, &c->cap_ids, c->n_ids + 1, sizeof *c->ids)) {
        c->oom = 1;
        return;
    }
    c->ids[c->n_ids++] = id;
}

/* Length of the valid UTF-8 sequence starting at s (1..4), or 0 if s[0] does not start one. */
static size_t utf8_len(const uint8_t *s, size_t n) {
    uint8_t c = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) need = 2;
    else if (c == 0xE0) need = 3, lo = 0xA0;          /* no overlong forms */
    else if (c == 0xED) need = 3, hi = 0x9F;          /* no surrogates */
    else if (c >= 0xE1 && c <= 0xEF) need = 3;
    else if (c == 0xF0) need = 4, lo = 0x90;
    else if (c == 0xF4) need = 4, hi = 0x8F;          /* nothing above U+10FFFF */
    else if (c >= 0xF1 && c <= 0xF3) need = 4;
    else return 0;
    if (n < need || s[1] < lo || s[1] > hi) return 0;
    for (size_t k = 2; k < need; k++)
        if ((s[k] & 0xC0) != 0x80) return 0;
    return need;
}

/* The code point of a valid 1-3 byte sequence. */
static uint32_t bmp_value(const uint8_t *s, size_t len) {
    if (len == 1) return s[0];
    if (len == 2) return (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
    return (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
}

/* ---- min-heap of merge candidates, ordered by (rank, left position) as HF's BPE does ---- */

static int cand_less(const bpe_cand *a, const bpe_cand *b) {
    return a->rank != b->rank ? a->rank < b->rank : a->left < b->left;
}

static void heap_push(enc_ctx *c, bpe_cand x) {
    if (!grow((void **)&c->heap, &c->cap_heap, c->n_heap + 1, sizeof *c->heap)) {
        c->oom = 1;
        return;
    }
    size_t i = c->n_heap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!cand_less(&x, &c->heap[p])) break;
        c->heap[i] = c->heap[p];
        i = p;
    }
    c->heap[i] = x;
}

static bpe_cand heap_pop(enc_ctx *c) {
    bpe_cand top = c->heap[0], x = c->heap[--c->n_heap];
    size_t i = 0, n = c->n_heap;
    for (;;) {
        size_t k = 2 * i + 1;
        if (k >= n) break;
        if (k + 1 < n && cand_less(&c->heap[k + 1], &c->heap[k])) k++;
        if (!cand_less(&c->heap[k], &x)) break;
        c->heap[i] = c->heap[k];
        i = k;
    }
    if (n) c->heap[i] = x;
    return top;
}

static void push_pair(enc_ctx *c, int32_t a, int32_t b) {
    if (a < 0 || b < 0) return;
    int32_t la = c->syms[a].id, lb = c->syms[b].id;
    if (la < 0 || lb < 0) return;
    int32_t m = tok_merge_find(c->t, la, lb);
    if (m >= 0) heap_push(c, (bpe_cand){c->t->m_rank[m], a, b, m});
}

/* One fragment with no special tokens in it (§7.2 steps a-d). */
static void bpe_fragment(enc_ctx *c, const char *s, size_t n) {
    const rl_tokenizer *t = c->t;
    size_t spaces = 0, m = 0;
    for (size_t i = 0; i < n; i++) spaces += s[i] == ' ';
    if (!grow((void **)&c->norm, &c->cap_norm, n + 2 * spaces + 1, 1)) {
        c->oom = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) { /* a. " " -> "▁" (U+2581) */
        if (s[i] == ' ') {
            memcpy(c->norm + m, "\xE2\x96\x81", 3);
            m += 3;
        } else {
            c->norm[m++] = s[i];
        }
    }
    if (m == 0) return;
    int32_t whole = rl_tokenizer_find_n(t, c->norm, m); /* b. the whole fragment is a token */
    if (whole >= 0) {
        emit(c, whole);
        return;
    }
    /* c. one symbol per code point; each byte of invalid UTF-8 is a symbol of its own
     *    that is never a token, so it reaches byte fallback unchanged. */
    if (!grow((void **)&c->syms, &c->cap_syms, m, sizeof *c->syms)) {
        c->oom = 1;
        return;
    }
    const uint8_t *u = (const uint8_t *)c->norm;
    int32_t ns = 0;
    for (size_t i = 0; i < m;) {
        size_t len = utf8_len(u + i, m - i);
        bpe_sym *y = &c->syms[ns];
        y->start = (uint32_t)i;
        y->len = len ? (uint32_t)len : 1;
        y->id = len == 0 ? -1 : len == 4 ? rl_tokenizer_find_n(t, c->norm + i, 4) : t->bmp_id[bmp_value(u + i, len)];
        y->prev = ns - 1;
        y->next = i + y->len < m ? ns + 1 : -1;
        i += y->len;
        ns++;
    }
    c->n_heap = 0;
    for (int32_t k = 0; k + 1 < ns; k++) push_pair(c, k, k + 1);
    while (c->n_heap && !c->oom) {
        bpe_cand x = heap_pop(c);
        bpe_sym *a = &c->syms[x.left], *b = &c->syms[x.right];
        /* Lazy invalidation: the pair is current iff both sides still hold the tokens
         * it was made from and are still neighbours (a symbol's token only grows). */
        if (a->id != t->m_left[x.merge] || b->id != t->m_right[x.merge] || a->next != x.right) continue;
        a->id = t->m_result[x.merge];
        a->len += b->len;
        a->next = b->next;
        if (b->next >= 0) c->syms[b->next].prev = x.left;
        b->id = -2;
        push_pair(c, a->prev, x.left);
        push_pair(c, x.left, a->next);
    }
    for (int32_t k = 0; k >= 0; k = c->syms[k].next) { /* d. emit; byte fallback */
        const bpe_sym *y = &c->syms[k];
        if (y->id >= 0) {
            emit(c, y->id);
            continue;
        }
        for (uint32_t j = 0; j < y->len; j++) {
            int32_t b = t->byte_id[u[y->start + j]];
            /* A vocabulary without this byte token (only truncated test vocabularies):
             * emit <unk> rather than silently dropping the byte as Ollama does. */
            if (b < 0) b = t->unk;
            if (b >= 0) emit(c, b);
        }
    }
}

/* ---- special-token split (§7.2 step 1) ----
 * Ollama lets each special, in id order, split every remaining text fragment at all
 * of its leftmost non-overlapping occurrences. Equivalent in one pass: find every
 * occurrence with the trie, then take them by (rank, position); an occurrence is
 * taken iff its bytes are all still free and it does not overlap the previous one
 * taken for the same special. At one position a special is skipped when a shorter
 * special of lower rank also matches there: that one (or an earlier copy of it
 * overlapping this position) always claims a byte of it first. */

typedef struct {
    uint32_t start;
    int32_t rank;
} sp_occ;

static int occ_by_rank(const void *a, const void *b) {
    const sp_occ *x = a, *y = b;
    if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int occ_by_start(const void *a, const void *b) {
    const sp_occ *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static rl_status find_specials(const rl_tokenizer *t, const uint8_t *s, size_t n, sp_occ **out, size_t *n_out,
                               rl_error *err) {
    sp_occ *occ = NULL;
    size_t n_occ = 0, cap = 0;
    *out = NULL;
    *n_out = 0;
    for (size_t p = 0; p < n; p++) {
        int32_t best = INT32_MAX;
        size_t q = p;
        for (int32_t node = t->trie_root[s[p]]; node >= 0;) {
            const tok_trie_node *d = &t->trie[node]; /* matches s[p..q] */
            if (d->rank >= 0 && d->rank < best) {
                if (!grow((void **)&occ, &cap, n_occ + 1, sizeof *occ)) {
                    free(occ);
                    return rl_fail(err, RL_ERR_NOMEM, "tokenizer: out of memory listing special tokens");
                }
                occ[n_occ++] = (sp_occ){(uint32_t)p, d->rank};
                best = d->rank;
            }
            if (++q >= n) break;
            for (node = d->child; node >= 0 && t->trie[node].byte != s[q]; node = t->trie[node].sibling) {
            }
        }
    }
    if (!n_occ) return RL_OK;
    qsort(occ, n_occ, sizeof *occ, occ_by_rank);
    uint8_t *taken = calloc(n, 1);
    if (!taken) {
        free(occ);
        return rl_fail(err, RL_ERR_NOMEM, "tokenizer: out of memory splitting special tokens");
    }
    size_t kept = 0, own_end = 0;
    for (size_t i = 0; i < n_occ; i++) {
        if (i == 0 || occ[i].rank != occ[i - 1].rank) own_end = 0;
        size_t a = occ[i].start, len = tok_len(t, t->sp_id[occ[i].rank]);
        if (a < own_end) continue;
        size_t k = 0;
        while (k < len && !taken[a + k]) k++;
        if (k < len) continue;
        memset(taken + a, 1, len);
        own_end = a + len;
        occ[kept++] = occ[i];
    }
    free(taken);
    qsort(occ, kept, sizeof *occ, occ_by_start);
    *out = occ;
    *n_out = kept;
    return RL_OK;
}

rl_status rl_tokenizer_encode(const rl_tokenizer *t, const char *text, size_t len, int32_t **ids, size_t *n_ids,
                              rl_error *err) {
    *ids = NULL;
    *n_ids = 0;
    if (!text && len) return rl_fail(err, RL_ERR_INVALID, "tokenizer: NULL text of length %zu", len);
    if (len > (size_t)UINT32_MAX / 4)
        return rl_fail(err, RL_ERR_LIMIT, "tokenizer: %zu bytes of text is more than one encode call takes", len);
    enc_ctx c = {.t = t};
    sp_occ *occ = NULL;
    size_t n_occ = 0, pos = 0;
    rl_status st = t->n_specials ? find_specials(t, (const uint8_t *)text, len, &occ, &n_occ, err) : RL_OK;
    if (st) return st;
    for (size_t i = 0; i <= n_occ && !c.oom; i++) {
        size_t end = i < n_occ ? occ[i].start : len;
        if (end > pos) bpe_fragment(&c, text + pos, end - pos);
        if (i < n_occ) {
            emit(&c, t->sp_id[occ[i].rank]);
            pos = end + tok_len(t, t->sp_id[occ[i].rank]);
        }
    }
    free(occ);
    free(c.norm);
    free(c.syms);
    free(c.heap);
    if (c.oom) {
        free(c.ids);
        return rl_fail(err, RL_ERR_NOMEM, "tokenizer: out of memory encoding %zu bytes", len);
    }
    *ids = c.ids;
    *n_ids = c.n_ids;
    return RL_OK;
}
