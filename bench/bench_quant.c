/* Micro-benchmark of the quant dot kernels: a mat-vec (rows x cols) per
 * type, once with ~64 MiB of weights (streamed from memory) and once with
 * ~512 KiB (cache-resident). Prints GB/s of weight bytes and Gelem/s.
 *   build/native/bench_quant [cols] [type-name ...]     (default 1536, all) */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quant.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* best of reps timings of rows dot products, seconds */
static double time_matvec(const rl_type_info *t, const uint8_t *w, size_t rb, size_t rows, const float *x, size_t cols,
                          float *y, int reps) {
    double best = 1e30;
    for (int rep = 0; rep < reps; rep++) {
        double t0 = now();
        for (size_t r = 0; r < rows; r++) y[r] = t->dot(w + r * rb, x, cols);
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    return best;
}

static void bench(uint32_t type, size_t cols) {
    const rl_type_info *t = rl_type_get(type);
    size_t rb = rl_row_bytes(type, cols);
    if (!t || !t->dot || !rb) return;
    size_t rows = ((size_t)64 << 20) / rb, crows = ((size_t)512 << 10) / rb;
    uint8_t *w = malloc(rows * rb);
    float *src = malloc(cols * sizeof *src), *x = malloc(cols * sizeof *x), *y = malloc(rows * sizeof *y);
    if (!w || !src || !x || !y) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    unsigned seed = 1;
    for (size_t i = 0; i < cols; i++) x[i] = (float)rand_r(&seed) / (float)RAND_MAX - 0.5f;
    /* 16 distinct realistic rows (quantized uniform noise), repeated */
    for (size_t r = 0; r < 16 && r < rows; r++) {
        for (size_t i = 0; i < cols; i++) src[i] = (float)rand_r(&seed) / (float)RAND_MAX - 0.5f;
        t->quantize(src, w + r * rb, cols);
    }
    for (size_t r = 16; r < rows; r++) memcpy(w + r * rb, w + (r % 16) * rb, rb);
    time_matvec(t, w, rb, rows, x, cols, y, 2); /* warm up */
    double ts = time_matvec(t, w, rb, rows, x, cols, y, 5);
    double tc = time_matvec(t, w, rb, crows, x, cols, y, 50);
    printf("%-5s %7.2f GB/s %6.2f Gelem/s streaming   %7.2f GB/s %6.2f Gelem/s in-cache\n", t->name,
           (double)(rows * rb) / ts / 1e9, (double)(rows * cols) / ts / 1e9, (double)(crows * rb) / tc / 1e9,
           (double)(crows * cols) / tc / 1e9);
    free(w), free(src), free(x), free(y);
}

int main(int argc, char **argv) {
    size_t cols = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 1536;
    for (uint32_t type = 0; type < RL_TYPE_COUNT_MAX; type++) {
        const rl_type_info *t = rl_type_get(type);
        if (!t) continue;
        int wanted = argc <= 2;
        for (int a = 2; a < argc; a++) wanted |= strcmp(argv[a], t->name) == 0;
        if (wanted) bench(type, cols);
    }
    return 0;
}
