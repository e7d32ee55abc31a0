#include "rmath.h"

#include <math.h> /* ldexp, frexp, floor: exact operations */

static const double LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10;

double rl_exp(double x) {
    if (x != x) return x;
    if (x > 709.0) return INFINITY;
    if (x < -745.0) return 0.0;
    /* x = k ln2 + r, |r| <= ln2/2; exp(r) by its Taylor series (error < 1e-17 at 14 terms) */
    double k = floor(x / 0.6931471805599453 + 0.5);
    double r = (x - k * LN2_HI) - k * LN2_LO;
    double term = 1.0, sum = 1.0;
    for (int i = 1; i <= 14; i++) {
        term *= r / i;
        sum += term;
    }
    return ldexp(sum, (int)k);
}

double rl_log(double x) {
    if (!(x > 0)) return x == 0 ? -INFINITY : NAN;
    if (x == INFINITY) return x;
    int e;
    double m = frexp(x, &e); /* x = m 2^e, m in [0.5, 1) */
    if (m < 0.70710678118654752) {
        m *= 2;
        e--;
    }
    /* log(m) = 2 atanh(z), z = (m-1)/(m+1), |z| < 0.172: odd series */
    double z = (m - 1) / (m + 1), z2 = z * z, term = z, sum = 0;
    for (int i = 1; i <= 39; i += 2) {
        sum += term / i;
        term *= z2;
    }
    return e * LN2_HI + (e * LN2_LO + 2 * sum);
}

double rl_pow(double base, double e) { return rl_exp(e * rl_log(base)); }

double rl_tanh(double x) {
    double a = fabs(x);
    double t;
    if (a < 0.125) { /* series avoids cancellation near 0 */
        double x2 = x * x;
        t = x * (1 + x2 * (-1.0 / 3 + x2 * (2.0 / 15 + x2 * (-17.0 / 315 + x2 * (62.0 / 2835 + x2 * (-1382.0 / 155925))))));
        return t;
    }
    if (a > 20) return x > 0 ? 1.0 : -1.0;
    double e2 = rl_exp(2 * a);
    t = 1 - 2 / (e2 + 1);
    return x < 0 ? -t : t;
}

/* Taylor terms' ratios 1/((2i)(2i+1)) and 1/((2i-1)(2i)): multiplications in the
 * loop instead of 22 divisions (RoPE tables call this for every pair of every slot) */
static const double SIN_STEP[11] = {1.0 / 6,    1.0 / 20,   1.0 / 42,   1.0 / 72,   1.0 / 110, 1.0 / 156,
                                    1.0 / 210,  1.0 / 272,  1.0 / 342,  1.0 / 420,  1.0 / 506};
static const double COS_STEP[11] = {1.0 / 2,    1.0 / 12,   1.0 / 30,   1.0 / 56,   1.0 / 90,  1.0 / 132,
                                    1.0 / 182,  1.0 / 240,  1.0 / 306,  1.0 / 380,  1.0 / 462};

void rl_sincos(double x, double *s, double *c) {
    /* reduce by pi/2 with a three-part constant (Cody-Waite); fine for |x| < 1e9 */
    static const double P1 = 1.5707963267341256e+00, P2 = 6.0771005065061922e-11, P3 = 2.0222662487959506e-21;
    double k = floor(x / 1.5707963267948966 + 0.5);
    double r = ((x - k * P1) - k * P2) - k * P3;
    double r2 = -(r * r);
    double sn = r, cs = 1, ts = r, tc = 1;
    for (int i = 0; i < 11; i++) {
        ts *= r2 * SIN_STEP[i];
        tc *= r2 * COS_STEP[i];
        sn += ts;
        cs += tc;
    }
    long q = (long)fmod(k, 4.0);
    if (q < 0) q += 4;
    switch (q) {
    case 0: *s = sn; *c = cs; break;
    case 1: *s = cs; *c = -sn; break;
    case 2: *s = -sn; *c = -cs; break;
    default: *s = -cs; *c = sn; break;
    }
}

float rl_expf(float x) { return (float)rl_exp(x); }
float rl_tanhf(float x) { return (float)rl_tanh(x); }

void rl_sincos_run(double f, double div, int pos0, int n, int reseed, float *out, long stride) {
    double step_s = 0, step_c = 1, cs = 1, sn = 0;
    if (n > 1) rl_sincos(f / div, &step_s, &step_c); /* a single angle needs no rotation */
    for (int t = 0; t < n; t++) {
        if (t % reseed == 0) {
            rl_sincos((double)(pos0 + t) * f / div, &sn, &cs);
        } else {
            const double c2 = cs * step_c - sn * step_s;
            sn = sn * step_c + cs * step_s;
            cs = c2;
        }
        out[t * stride] = (float)cs;
        out[t * stride + 1] = (float)sn;
    }
}
