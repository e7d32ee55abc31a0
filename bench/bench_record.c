/* The C side of decode, natively: the GPU engine records a prefill and then
 * chained greedy steps against a mock GPU host (every WebGPU call succeeds
 * and does nothing), and this prints the recording time per step, split into
 * replayed steps and steps recorded afresh. No GPU work runs, so the numbers
 * are the host cost C adds to each token (run it under `perf record` to see
 * where). The device caps are an H100's as Dawn reports them.
 *   build/native/bench_record MODEL.gguf [steps] [prompt] */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli/caps_json.h"
#include "core/host.h"
#include "gpu/engine.h"
#include "gpu/gpu_host.h"

static long words_submitted;

static int32_t mock_buffer(uint32_t id, uint32_t lo, uint32_t hi, uint32_t usage) {
    (void)id, (void)lo, (void)hi, (void)usage;
    return 0;
}
static void mock_buffer_destroy(uint32_t id) { (void)id; }
static int32_t mock_shader(uint32_t id, const char *src, uint32_t len) {
    (void)id, (void)src, (void)len;
    return 0;
}
static int32_t mock_pipeline(uint32_t id, uint32_t shader, const char *entry, uint32_t entry_len,
                             const uint32_t *kinds, uint32_t n, const char *label, uint32_t label_len) {
    (void)id, (void)shader, (void)entry, (void)entry_len, (void)kinds, (void)n, (void)label, (void)label_len;
    return 0;
}
static int32_t mock_bind_group(uint32_t id, uint32_t pipeline, const uint32_t *entries, uint32_t n) {
    (void)id, (void)pipeline, (void)entries, (void)n;
    return 0;
}
static int32_t mock_submit(const uint32_t *words, uint32_t n) {
    (void)words;
    words_submitted += n;
    return 0;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static const char *H100_CAPS =
    "{\"hasSubgroups\":1,\"hasF16\":1,\"hasTimestamps\":1,\"hasSmxI8\":1,\"subgroupMin\":32,\"subgroupMax\":32,"
    "\"maxBuffer\":4294967296,\"maxBinding\":4294967292,\"offsetAlign\":256,\"uniformAlign\":256,"
    "\"maxInvocations\":1024,\"maxWgStorage\":49152,\"maxStorageBuffers\":10,\"maxWorkgroups\":65535}";

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.gguf [steps=1000] [prompt=512]\n", argv[0]);
        return 2;
    }
    static const rl_gpu_host mock = {mock_buffer, mock_buffer_destroy, mock_shader,
                                     mock_pipeline, mock_bind_group, mock_submit};
    rl_gpu_host_set(&mock);
    const int steps = argc > 2 ? atoi(argv[2]) : 1000, prompt = argc > 3 ? atoi(argv[3]) : 512;
    rl_error err = {0};
    rl_gpu_caps caps;
    rl_gpu_engine *e = NULL;
    rl_gpu_opts opts = {.n_ctx = prompt + steps + 1};
    if (steps < 1 || prompt < 1 || rl_caps_from_json(H100_CAPS, &caps, &err) ||
        rl_gpu_engine_open(rl_host_default(), argv[1], &caps, &opts, &e, &err)) {
        fprintf(stderr, "bench_record: %s\n", steps < 1 || prompt < 1 ? "steps and prompt must be positive" : err.msg);
        return 1;
    }
    int32_t *tokens = malloc((size_t)prompt * sizeof *tokens), picks[8];
    if (!tokens) return 1;
    for (int i = 0; i < prompt; i++) tokens[i] = i ? 3 + (i * 7919) % 1000 : 2;
    double t = now();
    if (rl_gpu_engine_eval(e, tokens, prompt, NULL, 0, picks, &err)) {
        fprintf(stderr, "bench_record: prefill: %s\n", err.msg);
        return 1;
    }
    printf("prefill of %d tokens: %.2f ms of C, %ld words\n", prompt, (now() - t) * 1e3, words_submitted);
    /* a step slower than this was recorded afresh (a replay copies words: a few us) */
    const double fresh_s = 100e-6;
    int n_fresh = 0;
    double t_fresh = 0, t_replay = 0;
    words_submitted = 0;
    for (int i = 0; i < steps; i++) {
        t = now();
        if (rl_gpu_engine_eval_chained(e, &picks[i % 8], 4, &err)) {
            fprintf(stderr, "bench_record: step %d: %s\n", i, err.msg);
            return 1;
        }
        const double dt = now() - t;
        if (dt > fresh_s) n_fresh++, t_fresh += dt;
        else t_replay += dt;
    }
    printf("%d chained steps: %.1f us each; %d replayed at %.1f us, %d recorded afresh at %.1f us; %.0f words a step\n",
           steps, (t_fresh + t_replay) / steps * 1e6, steps - n_fresh, t_replay / (steps - n_fresh ? steps - n_fresh : 1) * 1e6,
           n_fresh, t_fresh / (n_fresh ? n_fresh : 1) * 1e6, (double)words_submitted / steps);
    free(tokens);
    rl_gpu_engine_free(e);
    return 0;
}
