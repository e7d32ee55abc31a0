/* Scale fitting helpers; see quant_fit.h. */
#include "quant_fit.h"

#include <math.h>

#include "quant.h"

int quant_round_clamp(float v, int lo, int hi) {
    if (!(v > (float)lo)) return lo; /* also NaN */
    if (v >= (float)hi) return hi;
    return (int)floorf(v + 0.5f);
}

uint16_t quant_f16_scale(float d) {
    if (!(d == d)) return 0;
    if (d > 65504.0f) d = 65504.0f;
    if (d < -65504.0f) d = -65504.0f;
    return rl_f32_to_f16(d);
}

float quant_fit_sym(const float *x, int n, int lo, int hi) {
    float amax = 0, vmax = 0;
    for (int i = 0; i < n; i++)
        if (fabsf(x[i]) > amax) amax = fabsf(x[i]), vmax = x[i];
    if (!(amax > 0)) return 0;
    /* Map the largest magnitude to (about) either end of the range, try
     * nearby mappings, and refit d = sum(xL)/sum(L^2) for each rounding. */
    float best_d = vmax / (float)(vmax < 0 ? lo : hi), best_score = -1;
    for (int end = 0; end < 2; end++)
        for (int k = -4; k <= 4; k++) {
            float target = (float)(end ? hi : lo) + 0.25f * (float)k;
            if (target == 0) continue;
            float iscale = target / vmax;
            double sxl = 0, sll = 0;
            for (int i = 0; i < n; i++) {
                int l = quant_round_clamp(x[i] * iscale, lo, hi);
                sxl += (double)x[i] * l;
                sll += (double)l * l;
            }
            if (sll <= 0) continue;
            double score = sxl * sxl / sll; /* error = sum x^2 - score at the optimal d */
            if (score > best_score) best_score = (float)score, best_d = (float)(sxl / sll);
        }
    return best_d;
}

/* Squared error of s*L + b with L rounded for (s, b); also returns the sums
 * needed for the least-squares refit. */
static double affine_pass(const float *x, int n, int nmax, float s, float b, double sums[4]) {
    double err = 0, sl = 0, sll = 0, sx = 0, sxl = 0;
    for (int i = 0; i < n; i++) {
        int l = quant_round_clamp((x[i] - b) / s, 0, nmax);
        double e = (double)s * l + b - x[i];
        err += e * e;
        sl += l, sll += (double)l * l, sx += x[i], sxl += (double)x[i] * l;
    }
    sums[0] = sl, sums[1] = sll, sums[2] = sx, sums[3] = sxl;
    return err;
}

float quant_fit_affine(const float *x, int n, int nmax, int b_le_zero, float *b) {
    float xmin = x[0], xmax = x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < xmin) xmin = x[i];
        if (x[i] > xmax) xmax = x[i];
    }
    if (b_le_zero && xmin > 0) xmin = 0;
    if (!(xmax > xmin)) { /* constant group (or NaN): all of it in the offset */
        *b = xmin == xmin ? xmin : 0;
        return 0;
    }
    float best_s = (xmax - xmin) / (float)nmax, best_b = xmin;
    double best_err = INFINITY;
    for (int k = -2; k <= 2; k++) {
        float s = (xmax - xmin) / ((float)nmax + 0.25f * (float)k), off = xmin;
        for (int it = 0; it < 4; it++) {
            double sums[4];
            double err = affine_pass(x, n, nmax, s, off, sums);
            if (err < best_err) best_err = err, best_s = s, best_b = off;
            double det = n * sums[1] - sums[0] * sums[0];
            if (!(det > 0)) break;
            double s2 = (n * sums[3] - sums[0] * sums[2]) / det, b2 = (sums[2] - s2 * sums[0]) / n;
            if (b_le_zero && b2 > 0) b2 = 0, s2 = sums[3] / sums[1];
            if (!(s2 > 0)) break;
            s = (float)s2, off = (float)b2;
        }
    }
    *b = best_b;
    return best_s;
}
