/* CPU reference ops on f32 vectors. Plain, SIMD-friendly loops (GCC/clang
 * vector extensions compile to SSE natively and simd128 in wasm). */
#ifndef RL_CPU_OPS_H
#define RL_CPU_OPS_H

#include <stddef.h>
#include <stdint.h>

float rl_dot_f32(const float *a, const float *b, size_t n);
/* y = x / sqrt(mean(x^2) + eps) * w (w may be NULL: unweighted). In place allowed. */
void rl_rmsnorm(float *y, const float *x, const float *w, size_t n, float eps);
/* NeoX RoPE on one head vector: pairs (j, j + n_dims/2) for j < n_dims/2 rotate by
 * pos * base^(-2j/n_dims) / factors[j] (factors may be NULL). Dims >= n_dims pass. */
void rl_rope_neox(float *x, int n_dims, int pos, float base, const float *factors);
/* GELU, tanh approximation, computed exactly in f32. */
float rl_gelu(float x);
/* x[i] = gelu(g[i]) * u[i] */
void rl_geglu(float *out, const float *g, const float *u, size_t n);
/* In-place softmax; returns nothing, handles -inf entries (all -inf -> zeros). */
void rl_softmax(float *x, size_t n);
void rl_scale(float *x, float s, size_t n);
void rl_add(float *y, const float *x, size_t n); /* y += x */

#endif
