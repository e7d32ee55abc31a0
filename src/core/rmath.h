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
float rl_expf(float x);
float rl_tanhf(float x);

#endif
