#include "ops.h"

#include <math.h>
#include <string.h>

#include "core/rmath.h"

typedef float v4f __attribute__((vector_size(16)));

float rl_dot_f32(const float *a, const float *b, size_t n) {
    v4f acc0 = {0, 0, 0, 0}, acc1 = {0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v4f a0, a1, b0, b1;
        memcpy(&a0, a + i, 16);
        memcpy(&a1, a + i + 4, 16);
        memcpy(&b0, b + i, 16);
        memcpy(&b1, b + i + 4, 16);
        acc0 += a0 * b0;
        acc1 += a1 * b1;
    }
    v4f acc = acc0 + acc1;
    float s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

void rl_rmsnorm(float *y, const float *x, const float *w, size_t n, float eps) {
    double ss = 0; /* the sum of squares in double: cheap and removes one source of drift */
    for (size_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    float inv = (float)(1.0 / sqrt(ss / (double)n + (double)eps));
    if (w)
        for (size_t i = 0; i < n; i++) y[i] = x[i] * inv * w[i];
    else
        for (size_t i = 0; i < n; i++) y[i] = x[i] * inv;
}

void rl_rope_neox(float *x, int n_dims, int pos, float base, const float *factors) {
    const int half = n_dims / 2;
    for (int j = 0; j < half; j++) {
        /* angle in double: pos * base^(-2j/n) loses precision in f32 at large positions */
        double theta = (double)pos * rl_pow((double)base, -2.0 * j / n_dims);
        if (factors) theta /= factors[j];
        double sd, cd;
        rl_sincos(theta, &sd, &cd);
        float c = (float)cd, s = (float)sd;
        float a = x[j], b = x[j + half];
        x[j] = a * c - b * s;
        x[j + half] = a * s + b * c;
    }
}

float rl_gelu(float x) {
    const float k = 0.7978845608028654f; /* sqrt(2/pi) */
    return 0.5f * x * (1.0f + rl_tanhf(k * (x + 0.044715f * x * x * x)));
}

void rl_geglu(float *out, const float *g, const float *u, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = rl_gelu(g[i]) * u[i];
}

void rl_softmax(float *x, size_t n) {
    float mx = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (x[i] > mx) mx = x[i];
    if (mx == -INFINITY) {
        memset(x, 0, n * sizeof *x);
        return;
    }
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        x[i] = rl_expf(x[i] - mx);
        sum += x[i];
    }
    float inv = (float)(1.0 / sum);
    for (size_t i = 0; i < n; i++) x[i] *= inv;
}

void rl_scale(float *x, float s, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] *= s;
}

void rl_add(float *y, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] += x[i];
}
