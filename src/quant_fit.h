/* Scale fitting for the quantizers (quant_make*.c): choose the scale (and
 * offset) of a group of values for a given integer level range. Used by the
 * synthetic model generator and tests, so quality matters more than speed,
 * but it stays a handful of passes over each group. */
#ifndef RL_QUANT_FIT_H
#define RL_QUANT_FIT_H

#include <stdint.h>

/* Nearest integer to v, clamped to [lo, hi]; NaN gives lo. */
int quant_round_clamp(float v, int lo, int hi);

/* Symmetric: value = d * L with integer L in [lo, hi] (lo < 0 < hi). Returns
 * the d minimizing the squared error over a few candidate level mappings
 * (each refined by least squares); 0 for an all-zero group. d may be
 * negative (so the largest magnitude can use the longer negative range). */
float quant_fit_sym(const float *x, int n, int lo, int hi);

/* Affine: value = s * L + b with L in [0, nmax], s >= 0. With b_le_zero the
 * offset is kept <= 0 (K-quants store it as a subtracted, unsigned min).
 * Returns s, stores b. Alternates rounding and least-squares refits from a
 * few starting scales and keeps the best. */
float quant_fit_affine(const float *x, int n, int nmax, int b_le_zero, float *b);

/* f16 bits of a scale, clamped to the finite f16 range (never inf/NaN). */
uint16_t quant_f16_scale(float d);

#endif
