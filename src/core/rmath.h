/* Deterministic elementary functions. libm differs between glibc (native) and
 * wasi-libc (wasm) in the last ulp, which made native and wasm logits differ;
 * these use only IEEE +,-,*,/ and exact scaling in double, so every build
 * computes bit-identical results. Accuracy: a few ulp of double, far below
 * float rounding. */
#ifndef RL_RMATH_H
#define RL_RMATH_H

double rl_exp(double x);
double rl_log(double x);  /* x > 0 */
double rl_tanh(double x);
void rl_sincos(double x, double *s, double *c);
double rl_pow(double base, double e); /* base > 0 */
/* cos and sin of the angles (pos0 + t) * f / div for t in [0, n), as floats at
 * out[t * stride] (cos) and out[t * stride + 1] (sin): every reseed-th angle by
 * rl_sincos, the others by rotating the previous pair by the angle step (a RoPE
 * table's column; in double the rotations drift far less than float rounding) */
void rl_sincos_run(double f, double div, int pos0, int n, int reseed, float *out, long stride);
float rl_expf(float x);
float rl_tanhf(float x);

#endif
