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

void rl_sincos(double x, double *s, double *c) {
    /* reduce by pi/2 with a three-part constant (Cody-Waite); fine for |x| < 1e9 */
    static const double P1 = 1.5707963267341256e+00, P2 = 6.0771005065061922e-11, P3 = 2.0222662487959506e-21;
    double k = floor(x / 1.5707963267948966 + 0.5);
    double r = ((x - k * P1) - k * P2) - k * P3;
    double r2 = r * r;
    double sn = r, cs = 1, ts = r, tc = 1;
    for (int i = 1; i <= 11; i++) {
        ts *= -r2 / ((2 * i) * (2 * i + 1));
        tc *= -r2 / ((2 * i - 1) * (2 * i));
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
