/* CPU engine parity: against the external gemma4-tiny fixture's reference
 * logits (an independent float64 implementation by someone else), against our
 * own independent double-precision reference (ref_gemma4.c) on generated
 * models of every architecture variant, and decode-vs-prefill consistency. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/host.h"
#include "cpu/forward.h"
#include "harness.h"
#include "json.h"
#include "ref_gemma4.h"
#include "gen/gen.h"

/* max |a-b| / max |b| over one row of n */
static double rel_err(const float *a, const double *b, int n) {
    double md = 0, mb = 0;
    for (int i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > md) md = d;
        if (fabs(b[i]) > mb) mb = fabs(b[i]);
    }
    return mb > 0 ? md / mb : md;
}

static int argmax_f(const float *x, int n) {
    int b = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[b]) b = i;
    return b;
}

/* Is the top of ref within `margin` of the runner-up (a near-tie where argmax may legitimately flip)? */
static int near_tie(const double *x, int n, double margin) {
    int b = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[b]) b = i;
    for (int i = 0; i < n; i++)
        if (i != b && x[b] - x[i] < margin) return 1;
    return 0;
}

static int open_model(const char *path, rl_model_file *mf) {
    rl_error err = {0};
    if (rl_model_file_open(rl_host_default(), path, mf, &err) || rl_model_file_load_text(mf, &err)) {
        t_note_failure(__FILE__, __LINE__, "open %s: %s", path, err.msg);
        return -1;
    }
    return 0;
}

static float *run_cpu(rl_model_file *mf, const int32_t *tok, int n, int chunk) {
    rl_error err = {0};
    rl_cpu *c = NULL;
    const int V = mf->model.n_vocab;
    float *logits = malloc((size_t)n * V * sizeof(float));
    if (rl_cpu_new(mf, n, &c, &err)) {
        t_note_failure(__FILE__, __LINE__, "rl_cpu_new: %s", err.msg);
        free(logits);
        return NULL;
    }
    for (int i = 0; i < n; i += chunk) {
        int m = n - i < chunk ? n - i : chunk;
        rl_batch b = {.tokens = tok + i, .n = m};
        if (rl_cpu_forward(c, &b, logits + (size_t)i * V, 1, &err)) {
            t_note_failure(__FILE__, __LINE__, "forward at %d: %s", i, err.msg);
            free(logits);
            logits = NULL;
            break;
        }
    }
    rl_cpu_free(c);
    return logits;
}

static void fixture_reference_logits(void) {
    const char *fx = t_fixtures_dir();
    CHECK(fx != NULL, "fixtures directory not found (set RULLAMA_FIXTURES)");
    if (!fx) return;
    char path[4096], model[4096];
    snprintf(path, sizeof path, "%s/gemma4-tiny/reference.json", fx);
    snprintf(model, sizeof model, "%s/gemma4-tiny/model.gguf", fx);
    char *text = NULL;
    size_t len = 0;
    rl_error err = {0};
    json_value *ref = NULL;
    if (rl_host_read_all(rl_host_default(), path, 64u << 20, &text, &len, &err) ||
        json_parse(text, len, &ref, &err)) {
        CHECK(0, "reference.json: %s", err.msg);
        free(text);
        return;
    }
    const json_value *jt = json_get(ref, "tokens"), *jl = json_get(ref, "logits");
    rl_model_file mf;
    if (!jt || !jl || open_model(model, &mf)) {
        CHECK(jt && jl, "reference.json lacks tokens/logits");
        json_free(ref);
        free(text);
        return;
    }
    const int n = (int)jt->count, V = mf.model.n_vocab;
    int32_t *tok = malloc((size_t)n * sizeof *tok);
    double *want = malloc((size_t)n * V * sizeof *want);
    for (int i = 0; i < n; i++) {
        tok[i] = (int32_t)jt->items[i].number;
        CHECK((int)jl->items[i].count == V, "row %d has %zu logits, model vocab %d", i, jl->items[i].count, V);
        for (int v = 0; v < V && v < (int)jl->items[i].count; v++) want[(size_t)i * V + v] = jl->items[i].items[v].number;
    }
    /* whole prompt in one batch, and token by token (decode path) */
    for (int chunk = n; chunk >= 1; chunk = chunk == n ? 1 : 0) {
        float *got = run_cpu(&mf, tok, n, chunk);
        if (!got) break;
        double worst = 0;
        int worst_row = 0;
        for (int i = 0; i < n; i++) {
            double e = rel_err(got + (size_t)i * V, want + (size_t)i * V, V);
            if (e > worst) worst = e, worst_row = i;
            int a = argmax_f(got + (size_t)i * V, V);
            int wa = 0;
            for (int v = 1; v < V; v++)
                if (want[(size_t)i * V + v] > want[(size_t)i * V + wa]) wa = v;
            CHECK(a == wa || near_tie(want + (size_t)i * V, V, 1e-3), "chunk %d row %d: argmax %d, reference %d", chunk,
                  i, a, wa);
        }
        fprintf(stderr, "    fixture, batch %d: worst relative error %.3g (row %d)\n", chunk, worst, worst_row);
        CHECK(worst < 1e-4, "chunk %d: relative error %.3g at row %d exceeds 1e-4", chunk, worst, worst_row);
        free(got);
    }
    free(tok);
    free(want);
    rl_model_file_close(&mf);
    json_free(ref);
    free(text);
}

/* Our engine vs our independent double reference on the same file. */
static void against_double_reference(const char *path, int n, const char *what) {
    rl_model_file mf;
    if (open_model(path, &mf)) return;
    const int V = mf.model.n_vocab;
    int32_t *tok = malloc((size_t)n * sizeof *tok);
    tok[0] = 2;
    for (int i = 1; i < n; i++) tok[i] = (int32_t)(t_rand_u64() % (uint64_t)V);
    double *want = malloc((size_t)n * V * sizeof *want);
    ref_gemma4_logits(&mf, tok, n, want);
    for (int chunk = n; chunk >= 1; chunk = chunk == n ? 7 : chunk == 7 ? 1 : 0) {
        float *got = run_cpu(&mf, tok, n, chunk);
        if (!got) break;
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double e = rel_err(got + (size_t)i * V, want + (size_t)i * V, V);
            if (e > worst) worst = e;
            int wa = 0;
            for (int v = 1; v < V; v++)
                if (want[(size_t)i * V + v] > want[(size_t)i * V + wa]) wa = v;
            CHECK(argmax_f(got + (size_t)i * V, V) == wa || near_tie(want + (size_t)i * V, V, 1e-3),
                  "%s chunk %d row %d: argmax differs", what, chunk, i);
        }
        fprintf(stderr, "    %s, batch %d: worst relative error %.3g over %d positions\n", what, chunk, worst, n);
        CHECK(worst < 1e-4, "%s chunk %d: relative error %.3g exceeds 1e-4", what, chunk, worst);
        free(got);
    }
    free(want);
    free(tok);
    rl_model_file_close(&mf);
}

static void fixture_double_reference(void) {
    const char *fx = t_fixtures_dir();
    if (!fx) return;
    char model[4096];
    snprintf(model, sizeof model, "%s/gemma4-tiny/model.gguf", fx);
    /* 50 positions: more than three sliding windows of 16 */
    against_double_reference(model, 50, "fixture vs double reference");
}

/* Generate a model with our generator (tools/gen) into the scratch directory. */
static int generate(const char *path, const char *preset, const char *type, const char *extra) {
    char *argv[32] = {"rullama-gen", "--preset", (char *)preset, "--out", (char *)path, "--type", (char *)type, "--quiet",
                      "--seed", NULL};
    char seed[32], extra_buf[256];
    snprintf(seed, sizeof seed, "%llu", t_rand_u64() % 100000);
    int argc = 9;
    argv[argc++] = seed;
    if (extra) { /* space-separated extra options */
        snprintf(extra_buf, sizeof extra_buf, "%s", extra);
        for (char *t = strtok(extra_buf, " "); t && argc < 30; t = strtok(NULL, " ")) argv[argc++] = t;
    }
    int rc = gen_main(rl_host_default(), argc, argv);
    CHECK(rc == 0, "generator failed for %s %s", preset, type);
    return rc;
}

/* Every architecture variant the engine supports (E2B-style with PLE, KV sharing
 * and proportional RoPE; 26B-style MoE with K=V full layers, split and fused
 * experts; 31B-style dense K=V) against the double reference, for 40 positions
 * (more than two sliding windows of 16). */
static void generated_variants(void) {
    static const struct {
        const char *preset, *type, *extra;
    } cases[] = {
        {"tiny", "Q4_K_M", NULL},
        {"tiny-moe", "Q4_K_M", NULL},
        {"tiny-moe", "Q8_0", "--moe-fused 1"},
        {"tiny-kv", "Q4_K_M", NULL},
        {"tiny", "Q4_K_M", "--shared-kv-tensors 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char path[512], what[128];
        snprintf(path, sizeof path, "%s/variant%zu.gguf", t_tmp_dir(), i);
        snprintf(what, sizeof what, "%s %s%s%s", cases[i].preset, cases[i].type, cases[i].extra ? " " : "",
                 cases[i].extra ? cases[i].extra : "");
        if (generate(path, cases[i].preset, cases[i].type, cases[i].extra)) continue;
        against_double_reference(path, 40, what);
    }
}

/* Every weight type the CPU engine supports, as the type of the whole quantizable set. */
static void generated_types(void) {
    static const char *types[] = {"F32", "F16", "BF16", "Q8_0", "Q6_K", "Q5_K", "Q4_K", "Q5_0", "Q5_1",
                                  "Q4_0", "Q4_1", "Q3_K", "Q2_K"};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        char path[512], what[64];
        snprintf(path, sizeof path, "%s/type_%s.gguf", t_tmp_dir(), types[i]);
        snprintf(what, sizeof what, "tiny %s", types[i]);
        if (generate(path, "tiny", types[i], "--layers 4 --shared-kv 1 --vision-layers 0 --audio-layers 0")) continue;
        against_double_reference(path, 24, what);
    }
}

const char *T_SUITE = "forward";
const t_case T_CASES[] = {
    {"fixture_reference_logits", fixture_reference_logits},
    {"fixture_double_reference", fixture_double_reference},
    {"generated_variants", generated_variants},
    {"generated_types", generated_types},
    {0},
};
