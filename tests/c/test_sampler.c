/* Sampler tests. The reference distribution is re-derived here in double with
 * libm's exp and a full sort: penalties (llama.cpp's formula), top-k, top-p and
 * min-p on the temperature-1 softmax, then the temperature. Draws from the
 * sampler (fixed sampler seed, random logits) are checked against it with a
 * chi-square test whose threshold makes a false failure vanishingly rare, and
 * no draw may land outside the filtered set. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sampler.h"

#define SAMPLER_SEED 0x5EED5A3Dull

static size_t rnd(size_t n) { return (size_t)(t_rand_u64() % n); }

static float *random_logits(size_t n, double scale) {
    float *l = malloc(n * sizeof *l);
    for (size_t i = 0; i < n; i++) l[i] = (float)(t_rand_normal() * scale);
    return l;
}

static rl_sampler_params params(float temp, int32_t top_k, float top_p, float min_p) {
    rl_sampler_params p = rl_sampler_defaults();
    p.temperature = temp;
    p.top_k = top_k;
    p.top_p = top_p;
    p.min_p = min_p;
    p.seed = SAMPLER_SEED;
    return p;
}

/* ---- reference ---- */

typedef struct {
    double logit;
    size_t id;
} ref_cand;

static int ref_cmp(const void *x, const void *y) {
    const ref_cand *a = x, *b = y;
    if (a->logit != b->logit) return a->logit > b->logit ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* llama.cpp's penalty formula over the last `window` tokens of hist (window < 0: all). */
static void ref_penalize(float *l, size_t n, const int32_t *hist, size_t n_hist, long window, float rp, float fp,
                         float pp) {
    if (window == 0) return;
    size_t from = window < 0 || (size_t)window >= n_hist ? 0 : n_hist - (size_t)window;
    int *count = calloc(n, sizeof *count);
    for (size_t i = from; i < n_hist; i++) count[hist[i]]++;
    for (size_t t = 0; t < n; t++) {
        if (!count[t]) continue;
        float x = l[t];
        x = x <= 0 ? x * rp : x / rp;
        l[t] = x - ((float)count[t] * fp + pp);
    }
    free(count);
}

/* Probability of every token under p (logits already penalized). */
static double *ref_probs(const float *l, size_t n, const rl_sampler_params *p) {
    double *prob = calloc(n, sizeof *prob);
    ref_cand *c = malloc(n * sizeof *c);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(l[i])) c[m++] = (ref_cand){l[i], i};
    qsort(c, m, sizeof *c, ref_cmp);
    if (p->temperature <= 0) {
        prob[c[0].id] = 1;
        free(c);
        return prob;
    }
    if (p->top_k > 0 && (size_t)p->top_k < m) m = (size_t)p->top_k;
    double max = c[0].logit;
    if (p->top_p < 1) {
        double z = 0, cum = 0;
        for (size_t i = 0; i < m; i++) z += exp(c[i].logit - max);
        size_t keep = m;
        for (size_t i = 0; i < m; i++) {
            cum += exp(c[i].logit - max) / z;
            if (cum >= p->top_p) {
                keep = i + 1;
                break;
            }
        }
        m = keep;
    }
    if (p->min_p > 0) {
        size_t keep = 0;
        while (keep < m && exp(c[keep].logit - max) >= p->min_p) keep++;
        m = keep;
    }
    double z = 0;
    for (size_t i = 0; i < m; i++) z += exp((c[i].logit - max) / p->temperature);
    for (size_t i = 0; i < m; i++) prob[c[i].id] = exp((c[i].logit - max) / p->temperature) / z;
    free(c);
    return prob;
}

/* Draw `draws` tokens from fresh copies of the logits and compare with prob.
 * Bins with an expected count >= 5 are tested alone, the rest pooled; the
 * threshold df + 8 sqrt(2 df) + 25 puts a false failure below ~1e-9. */
static void check_distribution(const char *name, rl_sampler *s, const float *logits, size_t n, const double *prob,
                               size_t draws) {
    long *count = calloc(n, sizeof *count);
    float *work = malloc(n * sizeof *work);
    int outside = 0;
    for (size_t d = 0; d < draws; d++) {
        memcpy(work, logits, n * sizeof *work);
        int32_t t = rl_sampler_sample(s, work, n);
        if (t < 0 || (size_t)t >= n || prob[t] == 0) {
            if (!outside++) CHECK(0, "%s: drew token %d, which the reference gives probability 0", name, (int)t);
            continue;
        }
        count[t]++;
    }
    double chi2 = 0, pooled_e = 0;
    long pooled_o = 0;
    int bins = 0;
    for (size_t i = 0; i < n; i++) {
        double e = prob[i] * (double)draws;
        if (e >= 5) {
            chi2 += (count[i] - e) * (count[i] - e) / e;
            bins++;
        } else {
            pooled_e += e;
            pooled_o += count[i];
        }
    }
    if (pooled_e >= 5) {
        chi2 += (pooled_o - pooled_e) * (pooled_o - pooled_e) / pooled_e;
        bins++;
    }
    int df = bins > 1 ? bins - 1 : 1;
    double limit = df + 8 * sqrt(2.0 * df) + 25;
    CHECK(bins < 2 || chi2 < limit, "%s: chi-square %.1f over %d bins (limit %.1f)", name, chi2, bins, limit);
    free(count);
    free(work);
}

static void distribution_case(const char *name, size_t n, double scale, rl_sampler_params p, size_t draws) {
    float *l = random_logits(n, scale);
    double *prob = ref_probs(l, n, &p);
    rl_sampler *s = rl_sampler_new(&p, n);
    CHECK(s != NULL, "%s: sampler", name);
    if (s) check_distribution(name, s, l, n, prob, draws);
    rl_sampler_free(s);
    free(prob);
    free(l);
}

/* ---- tests ---- */

static void test_distributions(void) {
    distribution_case("temperature 1, no filters", 40, 1.5, params(1.0f, 0, 1.0f, 0), 20000);
    distribution_case("temperature 0.6, no filters", 300, 1.5, params(0.6f, 0, 1.0f, 0), 20000);
    distribution_case("top_k 10, temperature 0.7", 64, 2.0, params(0.7f, 10, 1.0f, 0), 20000);
    distribution_case("top_p 0.8 without top_k (heap path)", 500, 2.0, params(1.3f, 0, 0.8f, 0), 20000);
    distribution_case("top_k 20 + top_p 0.9", 200, 2.0, params(0.9f, 20, 0.9f, 0), 20000);
    distribution_case("min_p 0.05 unsorted", 80, 2.0, params(1.0f, 0, 1.0f, 0.05f), 20000);
    distribution_case("top_k 30 + top_p 0.95 + min_p 0.1", 120, 2.5, params(0.5f, 30, 0.95f, 0.1f), 20000);
    distribution_case("top_k larger than the vocabulary", 30, 1.0, params(1.0f, 1000, 1.0f, 0), 20000);
    rl_sampler_params d = rl_sampler_defaults();
    d.seed = SAMPLER_SEED;
    distribution_case("Ollama defaults", 1000, 3.0, d, 20000);
}

static void test_distribution_with_penalties(void) {
    const size_t n = 60;
    rl_sampler_params p = params(1.0f, 0, 1.0f, 0);
    p.repeat_penalty = 1.4f;
    p.presence_penalty = 0.6f;
    p.frequency_penalty = 0.3f;
    p.repeat_last_n = 16;
    float *l = random_logits(n, 1.5);
    int32_t hist[40];
    for (size_t i = 0; i < 40; i++) hist[i] = (int32_t)rnd(12); /* repeats among the first 12 ids */
    rl_sampler *s = rl_sampler_new(&p, n);
    for (size_t i = 0; i < 40; i++) rl_sampler_accept(s, hist[i]);
    float *pen = malloc(n * sizeof *pen);
    memcpy(pen, l, n * sizeof *pen);
    ref_penalize(pen, n, hist, 40, p.repeat_last_n, p.repeat_penalty, p.frequency_penalty, p.presence_penalty);
    double *prob = ref_probs(pen, n, &p);
    check_distribution("penalties then temperature", s, l, n, prob, 20000);
    free(prob);
    free(pen);
    free(l);
    rl_sampler_free(s);
}

static int32_t ref_argmax(const float *l, size_t n) {
    int32_t best = -1;
    for (size_t i = 0; i < n; i++)
        if (!isnan(l[i]) && l[i] > -INFINITY && (best < 0 || l[i] > l[best])) best = (int32_t)i;
    return best;
}

static void test_greedy(void) {
    static const size_t sizes[] = {1, 7, 1000, 262144};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t n = sizes[k];
        for (int rep = 0; rep < (n > 1000 ? 3 : 50); rep++) {
            float *l = random_logits(n, 4.0);
            if (n > 2 && rep % 2) { /* a tie for the maximum: the lower id wins */
                int32_t m = ref_argmax(l, n);
                size_t other = rnd(n);
                l[other] = l[m];
            }
            int32_t want = ref_argmax(l, n);
            rl_sampler_params p = params(0, 40, 0.9f, 0.1f);
            rl_sampler *s = rl_sampler_new(&p, n);
            int32_t got = rl_sampler_sample(s, l, n);
            CHECK(got == want, "greedy n=%zu: %d, want %d", n, (int)got, (int)want);
            rl_sampler_free(s);
            free(l);
        }
    }
}

/* Penalized logits (as left in the array) against the reference formula. */
static void test_penalties_reference(void) {
    static const struct {
        long window;
        float rp, fp, pp;
    } cfg[] = {{5, 1.5f, 0.3f, 0.7f}, {-1, 1.2f, 0, 0},   {1, 1.0f, 0.5f, 0}, {64, 0.8f, -0.2f, 0.1f},
               {0, 2.0f, 1, 1},       {300, 1.1f, 0.1f, 0}, {2147483647, 1.3f, 0, 0.2f}};
    for (size_t c = 0; c < sizeof cfg / sizeof *cfg; c++) {
        for (int rep = 0; rep < 20; rep++) {
            size_t n = 50, n_hist = rnd(700); /* past the ring's first size (256) */
            rl_sampler_params p = params(0, 0, 1, 0);
            p.repeat_last_n = (int32_t)cfg[c].window;
            p.repeat_penalty = cfg[c].rp;
            p.frequency_penalty = cfg[c].fp;
            p.presence_penalty = cfg[c].pp;
            rl_sampler *s = rl_sampler_new(&p, n);
            int32_t *hist = malloc((n_hist + 1) * sizeof *hist);
            for (size_t i = 0; i < n_hist; i++) {
                hist[i] = (int32_t)rnd(15);
                rl_sampler_accept(s, hist[i]);
            }
            rl_sampler_accept(s, -1);        /* ignored */
            rl_sampler_accept(s, (int32_t)n); /* ignored */
            float *l = random_logits(n, 2.0), *want = malloc(n * sizeof *want);
            if (n_hist) l[hist[0]] = 0.0f; /* the <= 0 branch at exactly zero */
            memcpy(want, l, n * sizeof *want);
            ref_penalize(want, n, hist, n_hist, cfg[c].window, cfg[c].rp, cfg[c].fp, cfg[c].pp);
            rl_sampler_sample(s, l, n);
            for (size_t i = 0; i < n; i++)
                CHECK(fabsf(l[i] - want[i]) <= 1e-6f * (1 + fabsf(want[i])), "config %zu token %zu: %g, want %g", c, i,
                      l[i], want[i]);
            free(hist);
            free(l);
            free(want);
            rl_sampler_free(s);
        }
    }
    /* hand-worked: window 3 over [4, 2, 4, 4, 1] keeps [4, 4, 1] */
    rl_sampler_params p = params(0, 0, 1, 0);
    p.repeat_last_n = 3;
    p.repeat_penalty = 2.0f;
    p.frequency_penalty = 0.5f;
    p.presence_penalty = 0.25f;
    rl_sampler *s = rl_sampler_new(&p, 6);
    const int32_t seq[] = {4, 2, 4, 4, 1};
    for (size_t i = 0; i < 5; i++) rl_sampler_accept(s, seq[i]);
    float l[6] = {1, 3, 8, -2, 6, 0.5f};
    rl_sampler_sample(s, l, 6);
    /* token 1: 3/2 - (0.5 + 0.25) = 0.75; token 4: 6/2 - (1.0 + 0.25) = 1.75; token 2 left the window */
    CHECK(l[0] == 1 && l[1] == 0.75f && l[2] == 8 && l[3] == -2 && l[4] == 1.75f && l[5] == 0.5f,
          "hand-worked penalties: %g %g %g %g %g %g", l[0], l[1], l[2], l[3], l[4], l[5]);
    rl_sampler_reset(s);
    float l2[6] = {1, 3, 8, -2, 6, 0.5f};
    rl_sampler_sample(s, l2, 6);
    CHECK(l2[1] == 3 && l2[4] == 6, "reset forgets the window");
    rl_sampler_free(s);
}

static void test_determinism(void) {
    const size_t n = 200;
    float *l = random_logits(n, 1.0);
    float *w = malloc(n * sizeof *w);
    rl_sampler_params p = params(1.0f, 0, 1.0f, 0);
    rl_sampler *a = rl_sampler_new(&p, n), *b = rl_sampler_new(&p, n);
    p.seed++;
    rl_sampler *c = rl_sampler_new(&p, n);
    int32_t first[100];
    int same_ab = 1, same_ac = 1;
    for (int i = 0; i < 100; i++) {
        memcpy(w, l, n * sizeof *w);
        first[i] = rl_sampler_sample(a, w, n);
        memcpy(w, l, n * sizeof *w);
        same_ab &= first[i] == rl_sampler_sample(b, w, n);
        memcpy(w, l, n * sizeof *w);
        same_ac &= first[i] == rl_sampler_sample(c, w, n);
    }
    CHECK(same_ab, "same seed, same draws");
    CHECK(!same_ac, "a different seed gives different draws");
    rl_sampler_reset(a);
    int replay = 1;
    for (int i = 0; i < 100; i++) {
        memcpy(w, l, n * sizeof *w);
        replay &= first[i] == rl_sampler_sample(a, w, n);
    }
    CHECK(replay, "reset replays the seed's draws");
    rl_sampler_free(a);
    rl_sampler_free(b);
    rl_sampler_free(c);
    free(l);
    free(w);
}

static void test_edge_cases(void) {
    const size_t n = 100;
    float l[100];
    rl_sampler_params sp = params(1.0f, 0, 1.0f, 0), gp = params(0, 0, 1, 0);
    rl_sampler *s = rl_sampler_new(&sp, n), *g = rl_sampler_new(&gp, n);

    /* all -inf but one */
    size_t only = rnd(n);
    for (int rep = 0; rep < 20; rep++) {
        for (size_t i = 0; i < n; i++) l[i] = -INFINITY;
        l[only] = (float)t_rand_normal();
        CHECK(rl_sampler_sample(s, l, n) == (int32_t)only, "single finite logit (sampling)");
        CHECK(rl_sampler_sample(g, l, n) == (int32_t)only, "single finite logit (greedy)");
    }
    /* nothing usable */
    for (size_t i = 0; i < n; i++) l[i] = i % 2 ? -INFINITY : NAN;
    CHECK(rl_sampler_sample(s, l, n) == -1 && rl_sampler_sample(g, l, n) == -1, "no usable logit gives -1");
    /* NaN is never drawn, even where it would be the largest */
    for (int rep = 0; rep < 200; rep++) {
        for (size_t i = 0; i < n; i++) l[i] = i % 3 == 0 ? NAN : (float)t_rand_normal();
        int32_t t = rl_sampler_sample(s, l, n), u = rl_sampler_sample(g, l, n);
        CHECK(t >= 0 && t % 3 != 0 && u >= 0 && u % 3 != 0, "drew a NaN logit (%d, %d)", (int)t, (int)u);
    }
    /* +inf dominates */
    for (int rep = 0; rep < 50; rep++) {
        for (size_t i = 0; i < n; i++) l[i] = (float)t_rand_normal() * 100;
        l[17] = INFINITY;
        l[42] = INFINITY;
        int32_t t = rl_sampler_sample(s, l, n);
        CHECK(t == 17 || t == 42, "+inf not chosen: %d", (int)t);
        l[17] = INFINITY;
        l[42] = INFINITY;
        CHECK(rl_sampler_sample(g, l, n) == 17, "greedy +inf tie: lowest id");
    }
    /* a larger vocabulary than the sampler was made for */
    float big[101] = {0};
    CHECK(rl_sampler_sample(s, big, 101) == -1, "oversized vocabulary rejected");
    CHECK(rl_sampler_new(&sp, 0) == NULL, "empty vocabulary rejected");
    rl_sampler_free(s);
    rl_sampler_free(g);

    /* top_p 0 and a tiny temperature both reduce to the argmax */
    static const struct {
        float temp, top_p;
    } argmax_cfg[] = {{1.0f, 0.0f}, {1e-30f, 1.0f}, {1e-45f, 1.0f}, {1e-30f, 0.5f}};
    for (size_t c = 0; c < sizeof argmax_cfg / sizeof *argmax_cfg; c++) {
        rl_sampler_params p = params(argmax_cfg[c].temp, 0, argmax_cfg[c].top_p, 0);
        rl_sampler *t = rl_sampler_new(&p, n);
        for (int rep = 0; rep < 50; rep++) {
            for (size_t i = 0; i < n; i++) l[i] = (float)t_rand_normal();
            int32_t want = ref_argmax(l, n);
            int32_t got = rl_sampler_sample(t, l, n);
            CHECK(got == want, "temp %g top_p %g: %d, want argmax %d", argmax_cfg[c].temp, argmax_cfg[c].top_p,
                  (int)got, (int)want);
        }
        rl_sampler_free(t);
    }
}

/* A 262144-token vocabulary: draws stay inside the reference's filtered set. */
static void test_large_vocabulary(void) {
    const size_t n = 262144;
    float *l = random_logits(n, 3.0), *w = malloc(n * sizeof *w);
    static const struct {
        int32_t top_k;
        float top_p, min_p;
    } cfg[] = {{40, 0.9f, 0}, {0, 0.3f, 0}, {0, 1.0f, 0.5f}, {1, 1.0f, 0}};
    for (size_t c = 0; c < sizeof cfg / sizeof *cfg; c++) {
        rl_sampler_params p = params(0.8f, cfg[c].top_k, cfg[c].top_p, cfg[c].min_p);
        double *prob = ref_probs(l, n, &p);
        rl_sampler *s = rl_sampler_new(&p, n);
        for (int d = 0; d < 10; d++) {
            memcpy(w, l, n * sizeof *w);
            int32_t t = rl_sampler_sample(s, w, n);
            CHECK(t >= 0 && prob[t] > 0, "config %zu: token %d outside the filtered set", c, (int)t);
        }
        rl_sampler_free(s);
        free(prob);
    }
    free(l);
    free(w);
}

/* ---- options ---- */

static json_value *J(const char *text) {
    json_value *v = NULL;
    rl_error err = {0};
    if (json_parse(text, strlen(text), &v, &err) != RL_OK) CHECK(0, "test JSON: %s", err.msg);
    return v;
}

static void test_defaults(void) {
    rl_sampler_params d = rl_sampler_defaults();
    /* Ollama api.DefaultOptions */
    CHECK(d.temperature == 0.8f && d.top_k == 40 && d.top_p == 0.9f && d.min_p == 0 && d.repeat_penalty == 1.0f &&
              d.repeat_last_n == 64 && d.presence_penalty == 0 && d.frequency_penalty == 0 &&
              d.seed == RL_SAMPLER_SEED_RANDOM && d.num_predict == -1,
          "defaults");
}

static void test_apply_json(void) {
    rl_sampler_params p = rl_sampler_defaults();
    json_value *o = J("{\"temperature\":0.2,\"top_k\":5,\"top_p\":0.5,\"min_p\":0.1,\"repeat_penalty\":1.1,"
                      "\"repeat_last_n\":-1,\"presence_penalty\":-0.5,\"frequency_penalty\":0.25,\"seed\":42,"
                      "\"num_predict\":128,\"stop\":[\"<turn|>\"],\"num_ctx\":4096,\"top_k\":7,\"min_p\":null}");
    rl_error err = {0};
    CHECK(rl_sampler_params_apply_json(&p, o, &err) == RL_OK, "%s", err.msg);
    CHECK(p.temperature == 0.2f && p.top_k == 7 && p.top_p == 0.5f && p.min_p == 0.1f && p.repeat_penalty == 1.1f &&
              p.repeat_last_n == -1 && p.presence_penalty == -0.5f && p.frequency_penalty == 0.25f && p.seed == 42 &&
              p.num_predict == 128,
          "applied values");
    json_free(o);

    static const struct {
        const char *json;
        uint64_t seed;
    } seeds[] = {{"{\"seed\":-1}", RL_SAMPLER_SEED_RANDOM},
                 {"{\"seed\":-2}", UINT64_MAX - 1},
                 {"{\"seed\":0}", 0},
                 {"{\"seed\":9007199254740993}", 9007199254740992ull},
                 {"{\"seed\":18446744073709551615}", UINT64_MAX}};
    for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++) {
        o = J(seeds[i].json);
        CHECK(rl_sampler_params_apply_json(&p, o, &err) == RL_OK && p.seed == seeds[i].seed, "%s -> %llu",
              seeds[i].json, (unsigned long long)p.seed);
        json_free(o);
    }

    static const struct {
        const char *json, *key;
    } bad[] = {
        {"{\"top_k\":1.5}", "top_k"},           {"{\"temperature\":-0.1}", "temperature"},
        {"{\"top_p\":1.5}", "top_p"},           {"{\"min_p\":-1}", "min_p"},
        {"{\"repeat_penalty\":0}", "repeat_penalty"}, {"{\"repeat_last_n\":-2}", "repeat_last_n"},
        {"{\"seed\":\"7\"}", "seed"},           {"{\"seed\":1.5}", "seed"},
        {"{\"num_predict\":-3}", "num_predict"}, {"{\"top_k\":3000000000}", "top_k"},
        {"{\"temperature\":true}", "temperature"}, {"{\"temperature\":1e39}", "temperature"},
        {"{\"top_p\":0.5,\"top_k\":\"x\"}", "top_k"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rl_sampler_params q = rl_sampler_defaults(), before = q;
        o = J(bad[i].json);
        rl_status st = rl_sampler_params_apply_json(&q, o, &err);
        CHECK(st == RL_ERR_INVALID && strstr(err.msg, bad[i].key), "%s: status %d, message %s", bad[i].json, (int)st,
              err.msg);
        CHECK(memcmp(&q, &before, sizeof q) == 0, "%s: parameters changed despite the error", bad[i].json);
        json_free(o);
    }
    o = J("[1]");
    CHECK(rl_sampler_params_apply_json(&p, o, &err) == RL_ERR_INVALID, "non-object rejected");
    json_free(o);
    CHECK(rl_sampler_params_apply_json(&p, NULL, &err) == RL_OK, "NULL is no options");
}

const char *T_SUITE = "sampler";
/* Sampling from an engine's top-k candidates (the GPU path) picks exactly what
 * sampling from the whole row picks, draw for draw, for the same seed. */
static int cmp_pair_desc(const void *a, const void *b) {
    const float *x = a, *y = b; /* (value, id) as floats; ids are exact */
    if (x[0] != y[0]) return x[0] > y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

static void test_candidates_equivalence(void) {
    const size_t n = 5000;
    float *logits = malloc(n * sizeof *logits), *copy = malloc(n * sizeof *copy), *pairs = malloc(2 * n * sizeof *pairs);
    const struct { float temp; int k; float top_p, min_p; } cases[] = {
        {0.8f, 40, 0.9f, 0}, {1.0f, 64, 1.0f, 0.05f}, {0.0f, 1, 1.0f, 0}, {1.5f, 7, 0.5f, 0}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        rl_sampler_params p = rl_sampler_defaults();
        p.temperature = cases[c].temp;
        p.top_k = cases[c].k;
        p.top_p = cases[c].top_p;
        p.min_p = cases[c].min_p;
        p.seed = t_rand_u64() >> 1;
        rl_sampler *full = rl_sampler_new(&p, n), *top = rl_sampler_new(&p, n);
        int k = rl_sampler_candidates_k(top);
        CHECK(k == (cases[c].temp > 0 ? cases[c].k : 1), "case %zu: candidates_k %d", c, k);
        for (int draw = 0; draw < 300; draw++) {
            for (size_t i = 0; i < n; i++) logits[i] = (float)(round(t_rand_normal() * 64) / 16); /* ties */
            memcpy(copy, logits, n * sizeof *logits);
            for (size_t i = 0; i < n; i++) {
                pairs[2 * i] = logits[i];
                pairs[2 * i + 1] = (float)i;
            }
            qsort(pairs, n, 2 * sizeof(float), cmp_pair_desc);
            int32_t ids[64];
            float vals[64];
            for (int i = 0; i < k; i++) {
                vals[i] = pairs[2 * i];
                ids[i] = (int32_t)pairs[2 * i + 1];
            }
            int32_t a = rl_sampler_sample(full, copy, n), b = rl_sampler_sample_top(top, ids, vals, (size_t)k);
            CHECK(a == b, "case %zu draw %d: whole row picked %d, candidates %d", c, draw, a, b);
        }
        rl_sampler_free(full);
        rl_sampler_free(top);
    }
    rl_sampler_params pen = rl_sampler_defaults();
    pen.repeat_penalty = 1.1f;
    rl_sampler *s = rl_sampler_new(&pen, n);
    CHECK(rl_sampler_candidates_k(s) == 0, "penalties need the whole row");
    rl_sampler_free(s);
    free(logits);
    free(copy);
    free(pairs);
}

const t_case T_CASES[] = {
    {"distributions", test_distributions},
    {"distribution_with_penalties", test_distribution_with_penalties},
    {"greedy", test_greedy},
    {"penalties_reference", test_penalties_reference},
    {"determinism", test_determinism},
    {"edge_cases", test_edge_cases},
    {"large_vocabulary", test_large_vocabulary},
    {"defaults", test_defaults},
    {"apply_json", test_apply_json},
    {"candidates_equivalence", test_candidates_equivalence},
    {0},
};
