/* Token sampler (see sampler.h for the chain and its semantics).
 *
 * Sized for a 262144-token vocabulary: greedy is one pass; top-k keeps a
 * k-element heap (no full sort); top-p without top-k heapifies the candidates
 * and pops only as many as the probability mass needs; penalties touch only
 * the distinct tokens in the window. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rmath.h"
#include "sampler.h"

typedef struct {
    float logit;
    int32_t id;
} cand;

struct rl_sampler {
    rl_sampler_params p;
    size_t n_vocab;
    uint64_t rng[4];
    int penalize;
    /* penalty window: a ring of the last repeat_last_n tokens (none when the
     * window is the whole context), per-token counts, and the distinct tokens
     * with a nonzero count (active, with each token's index in active_pos) */
    int32_t *ring;
    size_t window, ring_cap, ring_len, ring_head; /* the ring grows up to window */
    int32_t *counts, *active, *active_pos;
    size_t n_active;
    cand *cands;     /* scratch, n_vocab entries each, allocated on first use */
    double *weights;
};

/* ---- deterministic arithmetic ---- */

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void rng_seed(rl_sampler *s) {
    uint64_t x = s->p.seed;
    for (int i = 0; i < 4; i++) s->rng[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256** */
static uint64_t rng_next(rl_sampler *s) {
    uint64_t *r = s->rng;
    uint64_t out = rotl(r[1] * 5, 7) * 9, t = r[1] << 17;
    r[2] ^= r[0];
    r[3] ^= r[1];
    r[1] ^= r[2];
    r[0] ^= r[3];
    r[2] ^= t;
    r[3] = rotl(r[3], 45);
    return out;
}

static double rng_uniform(rl_sampler *s) { return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0); }

/* ---- lifecycle and penalty bookkeeping ---- */

rl_sampler *rl_sampler_new(const rl_sampler_params *p, size_t n_vocab) {
    if (!p || n_vocab == 0 || n_vocab > INT32_MAX) return NULL;
    rl_sampler *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->p = *p;
    s->n_vocab = n_vocab;
    s->penalize = p->repeat_last_n != 0 &&
                  (p->repeat_penalty != 1.0f || p->frequency_penalty != 0.0f || p->presence_penalty != 0.0f);
    if (s->penalize) {
        s->counts = calloc(n_vocab, sizeof *s->counts);
        s->active = malloc(n_vocab * sizeof *s->active);
        s->active_pos = malloc(n_vocab * sizeof *s->active_pos);
        if (p->repeat_last_n > 0) {
            s->window = (size_t)p->repeat_last_n;
            s->ring_cap = s->window < 256 ? s->window : 256;
            s->ring = malloc(s->ring_cap * sizeof *s->ring);
        }
        if (!s->counts || !s->active || !s->active_pos || (s->window && !s->ring)) {
            rl_sampler_free(s);
            return NULL;
        }
    }
    rng_seed(s);
    return s;
}

void rl_sampler_free(rl_sampler *s) {
    if (!s) return;
    free(s->ring);
    free(s->counts);
    free(s->active);
    free(s->active_pos);
    free(s->cands);
    free(s->weights);
    free(s);
}

static void count_add(rl_sampler *s, int32_t t) {
    if (s->counts[t]++ == 0) {
        s->active_pos[t] = (int32_t)s->n_active;
        s->active[s->n_active++] = t;
    }
}

static void count_remove(rl_sampler *s, int32_t t) {
    if (--s->counts[t] == 0) {
        int32_t last = s->active[--s->n_active];
        s->active[s->active_pos[t]] = last;
        s->active_pos[last] = s->active_pos[t];
    }
}

/* Grow a full ring toward the window; 0 if memory is short (the ring then
 * keeps its size, a narrower window than asked). */
static int ring_grow(rl_sampler *s) {
    size_t cap = s->ring_cap * 2 < s->window ? s->ring_cap * 2 : s->window;
    int32_t *r = malloc(cap * sizeof *r);
    if (!r) return 0;
    for (size_t i = 0; i < s->ring_len; i++) r[i] = s->ring[(s->ring_head + i) % s->ring_cap];
    free(s->ring);
    s->ring = r;
    s->ring_cap = cap;
    s->ring_head = 0;
    return 1;
}

void rl_sampler_accept(rl_sampler *s, int32_t token) {
    if (!s || !s->penalize || token < 0 || (size_t)token >= s->n_vocab) return;
    if (s->window) {
        if (s->ring_len == s->ring_cap && s->ring_cap < s->window) ring_grow(s);
        if (s->ring_len == s->ring_cap) {
            count_remove(s, s->ring[s->ring_head]);
            s->ring[s->ring_head] = token;
            s->ring_head = (s->ring_head + 1) % s->ring_cap;
        } else {
            s->ring[(s->ring_head + s->ring_len++) % s->ring_cap] = token;
        }
    }
    count_add(s, token);
}

void rl_sampler_reset(rl_sampler *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n_active; i++) s->counts[s->active[i]] = 0;
    s->n_active = 0;
    s->ring_len = s->ring_head = 0;
    rng_seed(s);
}

/* llama.cpp's penalties: repeat first (divide positive logits, multiply the
 * rest), then frequency per occurrence and presence once. */
static void apply_penalties(rl_sampler *s, float *logits, size_t n) {
    const float rp = s->p.repeat_penalty, fp = s->p.frequency_penalty, pp = s->p.presence_penalty;
    for (size_t i = 0; i < s->n_active; i++) {
        int32_t t = s->active[i];
        if ((size_t)t >= n) continue;
        float l = logits[t];
        l = l <= 0.0f ? l * rp : l / rp;
        logits[t] = l - ((float)s->counts[t] * fp + pp);
    }
}

/* ---- candidate ordering: higher logit first, then lower id ---- */

static int better(cand a, cand b) { return a.logit > b.logit || (a.logit == b.logit && a.id < b.id); }

static int cmp_desc(const void *x, const void *y) {
    const cand *a = x, *b = y;
    return better(*a, *b) ? -1 : better(*b, *a) ? 1 : 0;
}

/* Usable value of a logit: NaN and -inf are not candidates (returns 0). */
static int usable(float l, float *out) {
    if (!(l > -INFINITY)) return 0;
    *out = l == INFINITY ? FLT_MAX : l;
    return 1;
}

/* Heap with the "worst" element at the root when worst_root, else the best. */
static void sift_down(cand *h, size_t n, size_t i, int worst_root) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (worst_root) {
            if (l < n && better(h[m], h[l])) m = l;
            if (r < n && better(h[m], h[r])) m = r;
        } else {
            if (l < n && better(h[l], h[m])) m = l;
            if (r < n && better(h[r], h[m])) m = r;
        }
        if (m == i) return;
        cand t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* The k best usable logits, sorted. */
static size_t select_top_k(const float *logits, size_t n, size_t k, cand *out) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        cand c;
        if (!usable(logits[i], &c.logit)) continue;
        c.id = (int32_t)i;
        if (m < k) {
            out[m++] = c;
            if (m == k)
                for (size_t j = k / 2; j-- > 0;) sift_down(out, k, j, 1);
        } else if (better(c, out[0])) {
            out[0] = c;
            sift_down(out, k, 0, 1);
        }
    }
    qsort(out, m, sizeof *out, cmp_desc);
    return m;
}

/* Sort only the most likely prefix of c[0..m) holding probability mass top_p
 * (at temperature 1, relative to the whole set); returns its length. */
static size_t top_p_prefix(cand *c, size_t m, double top_p, int sorted) {
    double max = c[0].logit, z = 0;
    if (!sorted)
        for (size_t i = 1; i < m; i++)
            if (c[i].logit > max) max = c[i].logit;
    for (size_t i = 0; i < m; i++) z += rl_exp((double)c[i].logit - max);
    double target = top_p * z, cum = 0;
    if (sorted) {
        for (size_t i = 0; i < m; i++) {
            cum += rl_exp((double)c[i].logit - max);
            if (cum >= target) return i + 1;
        }
        return m;
    }
    /* max-heap; popped elements collect (ascending) at the end of the array */
    for (size_t j = m / 2; j-- > 0;) sift_down(c, m, j, 0);
    size_t left = m, keep = 0;
    while (left > 0) {
        cand top = c[0];
        c[0] = c[--left];
        c[left] = top;
        sift_down(c, left, 0, 0);
        keep++;
        cum += rl_exp((double)top.logit - max);
        if (cum >= target) break;
    }
    /* c[m-keep..m) holds them in ascending order: reverse to the front */
    for (size_t i = 0; i < keep / 2; i++) {
        cand t = c[m - keep + i];
        c[m - keep + i] = c[m - 1 - i];
        c[m - 1 - i] = t;
    }
    memmove(c, c + (m - keep), keep * sizeof *c);
    return keep;
}

static int32_t greedy(const float *logits, size_t n) {
    int32_t best = -1;
    float bl = 0;
    for (size_t i = 0; i < n; i++) {
        float l;
        if (usable(logits[i], &l) && (best < 0 || l > bl)) {
            best = (int32_t)i;
            bl = l;
        }
    }
    return best;
}

/* The chain after top-k: top-p, min-p, temperature, draw (c[0..m), m >= 1). */
static int32_t sample_from(rl_sampler *s, cand *c, size_t m, int sorted) {
    if (s->p.top_p < 1.0f) {
        m = top_p_prefix(c, m, s->p.top_p, sorted);
        sorted = 1;
    }
    double max = c[0].logit;
    if (!sorted)
        for (size_t i = 1; i < m; i++)
            if (c[i].logit > max) max = c[i].logit;
    if (s->p.min_p > 0.0f) {
        /* keep p_i >= min_p * p_max (llama.cpp: logit >= max + log(min_p)) */
        double thr = s->p.min_p < 1.0f ? s->p.min_p : 1.0; /* the top token always stays */
        size_t k = 0;
        for (size_t i = 0; i < m; i++)
            if (rl_exp((double)c[i].logit - max) >= thr) c[k++] = c[i];
        m = k;
    }

    const double t = s->p.temperature;
    double *w = s->weights, z = 0;
    for (size_t i = 0; i < m; i++) z += w[i] = rl_exp(((double)c[i].logit - max) / t);
    double target = rng_uniform(s) * z, cum = 0;
    for (size_t i = 0; i < m; i++) {
        cum += w[i];
        if (target < cum) return c[i].id;
    }
    for (size_t i = m; i-- > 0;) /* rounding left target at the very top */
        if (w[i] > 0) return c[i].id;
    return c[0].id;
}

/* The candidate and weight arrays, allocated on the first sampled token. */
static int have_scratch(rl_sampler *s) {
    if (s->cands) return 1;
    s->cands = malloc(s->n_vocab * sizeof *s->cands);
    s->weights = malloc(s->n_vocab * sizeof *s->weights);
    if (s->cands && s->weights) return 1;
    free(s->cands);
    free(s->weights);
    s->cands = NULL;
    s->weights = NULL;
    return 0;
}

int32_t rl_sampler_sample(rl_sampler *s, float *logits, size_t n) {
    if (!s || !logits || n == 0 || n > s->n_vocab) return -1;
    if (s->penalize) apply_penalties(s, logits, n);
    if (!(s->p.temperature > 0.0f)) return greedy(logits, n);

    if (!have_scratch(s)) return -1;
    cand *c = s->cands;
    size_t m;
    int sorted = 0;
    if (s->p.top_k > 0 && (size_t)s->p.top_k < n) {
        m = select_top_k(logits, n, (size_t)s->p.top_k, c);
        sorted = 1;
    } else {
        m = 0;
        for (size_t i = 0; i < n; i++)
            if (usable(logits[i], &c[m].logit)) c[m++].id = (int32_t)i;
    }
    if (m == 0) return -1;

    return sample_from(s, c, m, sorted);
}

int rl_sampler_candidates_k(const rl_sampler *s) {
    if (!s || s->penalize) return 0; /* penalties must see every logit before top-k */
    if (!(s->p.temperature > 0.0f)) return 1;
    return s->p.top_k > 0 ? s->p.top_k : 0;
}

int32_t rl_sampler_sample_top(rl_sampler *s, const int32_t *ids, const float *logits, size_t m) {
    if (!s || m == 0 || m > s->n_vocab) return -1;
    if (!(s->p.temperature > 0.0f)) return ids[0];
    if (!have_scratch(s)) return -1;
    for (size_t i = 0; i < m; i++) {
        s->cands[i].id = ids[i];
        s->cands[i].logit = logits[i];
    }
    return sample_from(s, s->cands, m, 1);
}
