/* Deterministic math vs libm (an independent implementation) on random inputs. */
#include <math.h>

#include "core/rmath.h"
#include "harness.h"

static double rel(double a, double b) { return fabs(a - b) / (fabs(b) > 1e-300 ? fabs(b) : 1e-300); }

static void exp_log_pow(void) {
    double worst = 0;
    for (int i = 0; i < 200000; i++) {
        double x = (t_rand_uniform() - 0.5) * 1400;
        double e = rel(rl_exp(x), exp(x));
        if (e > worst) worst = e;
        double y = exp((t_rand_uniform() - 0.5) * 1400);
        double l = fabs(rl_log(y) - log(y)) / (fabs(log(y)) + 1);
        if (l > worst) worst = l;
    }
    CHECK(worst < 4e-15, "exp/log worst relative error %.3g", worst);
    for (int i = 0; i < 10000; i++) {
        double b = 1 + t_rand_uniform() * 1e6, e = -t_rand_uniform();
        CHECK(rel(rl_pow(b, e), pow(b, e)) < 1e-13, "pow(%g, %g)", b, e);
    }
    CHECK(rl_exp(-1000) == 0 && isinf(rl_exp(1000)) && rl_exp(0) == 1, "exp edge cases");
}

static void tanh_sincos(void) {
    double worst = 0;
    for (int i = 0; i < 200000; i++) {
        double x = (t_rand_uniform() - 0.5) * (i % 2 ? 0.5 : 60);
        double e = fabs(rl_tanh(x) - tanh(x)) / (fabs(tanh(x)) + 1e-300);
        if (e > worst) worst = e;
    }
    CHECK(worst < 1e-13, "tanh worst relative error %.3g", worst);
    worst = 0;
    for (int i = 0; i < 200000; i++) {
        double x = (t_rand_uniform() - 0.5) * (i % 2 ? 10 : 4e5); /* RoPE angles reach pos ~ 1e5 */
        double s, c;
        rl_sincos(x, &s, &c);
        double e = fmax(fabs(s - sin(x)), fabs(c - cos(x)));
        if (e > worst) worst = e;
    }
    CHECK(worst < 1e-12, "sincos worst absolute error %.3g", worst);
}

/* RoPE columns by rotation: within a float ulp or two of direct sincos, for
 * random frequencies (up to 1 rad a position), divisors and far positions */
static void sincos_run(void) {
    enum { N = 600 };
    static float got[2 * N];
    double worst = 0;
    for (int k = 0; k < 300; k++) {
        const double f = k % 3 ? pow(10000.0, -t_rand_uniform()) : t_rand_uniform();
        const double div = k % 4 ? 1.0 : 1.0 + 40 * t_rand_uniform();
        const int pos0 = (int)(t_rand_uniform() * 131072), n = 1 + (int)(t_rand_uniform() * N), reseed = k % 2 ? 32 : 7;
        rl_sincos_run(f, div, pos0, n, reseed, got, 2);
        for (int t = 0; t < n; t++) {
            double s, c;
            rl_sincos((double)(pos0 + t) * f / div, &s, &c);
            worst = fmax(worst, fmax(fabs(got[2 * t] - c), fabs(got[2 * t + 1] - s)));
        }
    }
    CHECK(worst < 1.2e-7, "rotated RoPE angles: worst absolute error %.3g", worst);
}

const char *T_SUITE = "rmath";
const t_case T_CASES[] = {
    {"exp_log_pow", exp_log_pow},
    {"tanh_sincos", tanh_sincos},
    {"sincos_run", sincos_run},
    {0},
};
