/* An independent double-precision Gemma 4 text forward, written literally from
 * gemma4.md §4 for tests: the whole sequence at once, no KV cache, explicit
 * masks, every weight dequantized to double. Deliberately simple and slow; it
 * shares only the GGUF reader and the (separately tested) block dequantizers
 * with the engine. */
#include "ref_gemma4.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant.h"

typedef struct {
    const rl_model_file *mf;
    const rl_model *m;
    int n;
} ref;

/* Whole tensor as doubles, row-major [rows][ne0]. */
static double *tensor_d(const ref *r, rl_tensor_ref t) {
    uint64_t cols = t->ne[0], rows = 1;
    for (uint32_t d = 1; d < t->n_dims; d++) rows *= t->ne[d];
    double *out = malloc(cols * rows * sizeof(double));
    float *tmp = malloc(cols * sizeof(float));
    const rl_type_info *ti = rl_type_get(t->type);
    const uint8_t *base = rl_tensor_data(r->mf, t);
    size_t rb = rl_row_bytes(t->type, cols);
    for (uint64_t i = 0; i < rows; i++) {
        if (base) ti->dequant(base + i * rb, tmp, cols);
        else rl_tensor_row_f32(r->mf, t, i, tmp, NULL);
        for (uint64_t j = 0; j < cols; j++) out[i * cols + j] = tmp[j];
    }
    free(tmp);
    return out;
}

/* y[t][o] = sum_i W[o][i] x[t][i]; W rows from matrix `slice` of a 3-D tensor. */
static double *linear(const ref *r, rl_tensor_ref t, int slice, const double *x, int T) {
    const int in = (int)t->ne[0], out = (int)t->ne[1];
    double *W = tensor_d(r, t);
    const double *Ws = W + (size_t)slice * out * in;
    double *y = calloc((size_t)T * out, sizeof(double));
    for (int s = 0; s < T; s++)
        for (int o = 0; o < out; o++) {
            double acc = 0;
            for (int i = 0; i < in; i++) acc += Ws[(size_t)o * in + i] * x[(size_t)s * in + i];
            y[(size_t)s * out + o] = acc;
        }
    free(W);
    return y;
}

/* RMSNorm of each consecutive group of n values (weight w or none). */
static void rms(double *x, size_t total, int n, const double *w, double eps) {
    for (size_t g = 0; g < total / (size_t)n; g++) {
        double *v = x + g * n, ss = 0;
        for (int i = 0; i < n; i++) ss += v[i] * v[i];
        double k = 1.0 / sqrt(ss / n + eps);
        for (int i = 0; i < n; i++) v[i] = v[i] * k * (w ? w[i] : 1.0);
    }
}

static double gelu(double x) { return 0.5 * x * (1 + tanh(sqrt(2 / 3.14159265358979323846) * (x + 0.044715 * x * x * x))); }

static void rope(double *v, int n_dims, int pos, double base, const float *factors) {
    for (int j = 0; j < n_dims / 2; j++) {
        double th = pos * pow(base, -2.0 * j / n_dims) / (factors ? factors[j] : 1.0);
        double a = v[j], b = v[j + n_dims / 2];
        v[j] = a * cos(th) - b * sin(th);
        v[j + n_dims / 2] = a * sin(th) + b * cos(th);
    }
}

static int visible(const rl_model *m, const rl_layer *l, int q, int k) {
    if (k > q) return 0;
    return !l->is_swa || q - k < m->window;
}

static void add_normed(double *h, double *y, int T, int D, const double *w, double eps) {
    rms(y, (size_t)T * D, D, w, eps);
    for (size_t i = 0; i < (size_t)T * D; i++) h[i] += y[i];
}

static double *vec(const ref *r, rl_tensor_ref t) { return t ? tensor_d(r, t) : NULL; }

static double *mlp(const ref *r, rl_tensor_ref gate, rl_tensor_ref up, rl_tensor_ref down, int slice,
                   const double *x, int T) {
    double *g = linear(r, gate, slice, x, T), *u = linear(r, up, slice, x, T);
    size_t n = (size_t)T * gate->ne[1];
    for (size_t i = 0; i < n; i++) g[i] = gelu(g[i]) * u[i];
    double *y = linear(r, down, slice, g, T);
    free(g);
    free(u);
    return y;
}

int ref_gemma4_logits(const rl_model_file *mf, const int32_t *tokens, int T, double *logits) {
    ref R = {mf, &mf->model, T};
    const ref *r = &R;
    const rl_model *m = &mf->model;
    const int D = m->n_embd, H = m->n_head, L = m->n_layer, P = m->ple_dim, V = m->n_vocab;
    const double eps = m->eps;

    double *E = tensor_d(r, m->token_embd);
    double *h = malloc((size_t)T * D * sizeof(double));
    for (int t = 0; t < T; t++)
        for (int i = 0; i < D; i++) h[(size_t)t * D + i] = E[(size_t)tokens[t] * D + i] * sqrt((double)D);

    /* per-layer embeddings: ple[t][l][p] */
    double *ple = NULL;
    if (P) {
        ple = linear(r, m->per_layer_model_proj, 0, h, T);
        for (size_t i = 0; i < (size_t)T * L * P; i++) ple[i] /= sqrt((double)D);
        double *nw = vec(r, m->per_layer_proj_norm);
        rms(ple, (size_t)T * L * P, P, nw, eps);
        free(nw);
        double *tab = tensor_d(r, m->per_layer_token_embd);
        for (int t = 0; t < T; t++)
            for (int j = 0; j < L * P; j++)
                ple[(size_t)t * L * P + j] =
                    (ple[(size_t)t * L * P + j] + tab[(size_t)tokens[t] * L * P + j] * sqrt((double)P)) / sqrt(2.0);
        free(tab);
    }

    double **Kc = calloc((size_t)L, sizeof *Kc), **Vc = calloc((size_t)L, sizeof *Vc);
    for (int li = 0; li < L; li++) {
        const rl_layer *l = &m->layers[li];
        const int hd = l->head_dim, kv = l->n_kv_head;
        const float *factors = l->is_swa ? NULL : m->rope_freqs;
        double *w;

        double *x = malloc((size_t)T * D * sizeof(double));
        memcpy(x, h, (size_t)T * D * sizeof(double));
        rms(x, (size_t)T * D, D, w = vec(r, l->attn_norm), eps);
        free(w);
        double *q = linear(r, l->attn_q, 0, x, T);
        rms(q, (size_t)T * H * hd, hd, w = vec(r, l->attn_q_norm), eps);
        free(w);
        for (int t = 0; t < T; t++)
            for (int hh = 0; hh < H; hh++) rope(q + ((size_t)t * H + hh) * hd, l->rope_dims, t, l->rope_base, factors);
        if (l->kv_donor == li) {
            double *k = linear(r, l->attn_k, 0, x, T);
            double *v = l->attn_v ? linear(r, l->attn_v, 0, x, T) : NULL;
            if (!v) { /* K=V: V is the raw K projection */
                v = malloc((size_t)T * kv * hd * sizeof(double));
                memcpy(v, k, (size_t)T * kv * hd * sizeof(double));
            }
            rms(k, (size_t)T * kv * hd, hd, w = vec(r, l->attn_k_norm), eps);
            free(w);
            rms(v, (size_t)T * kv * hd, hd, NULL, eps);
            for (int t = 0; t < T; t++)
                for (int g = 0; g < kv; g++) rope(k + ((size_t)t * kv + g) * hd, l->rope_dims, t, l->rope_base, factors);
            Kc[li] = k;
            Vc[li] = v;
        }
        const double *K = Kc[l->kv_donor], *Vv = Vc[l->kv_donor];
        double *o = calloc((size_t)T * H * hd, sizeof(double));
        double *sc = malloc((size_t)T * sizeof(double));
        for (int t = 0; t < T; t++)
            for (int hh = 0; hh < H; hh++) {
                const int g = hh * kv / H;
                double mx = -INFINITY, sum = 0;
                for (int s = 0; s < T; s++) {
                    sc[s] = -INFINITY;
                    if (!visible(m, l, t, s)) continue;
                    double d = 0;
                    for (int i = 0; i < hd; i++) d += q[((size_t)t * H + hh) * hd + i] * K[((size_t)s * kv + g) * hd + i];
                    sc[s] = d; /* attention scale 1.0 */
                    if (d > mx) mx = d;
                }
                for (int s = 0; s < T; s++) sum += sc[s] == -INFINITY ? 0 : exp(sc[s] - mx);
                for (int s = 0; s < T; s++) {
                    if (sc[s] == -INFINITY) continue;
                    double a = exp(sc[s] - mx) / sum;
                    for (int i = 0; i < hd; i++) o[((size_t)t * H + hh) * hd + i] += a * Vv[((size_t)s * kv + g) * hd + i];
                }
            }
        free(sc);
        double *ao = linear(r, l->attn_output, 0, o, T);
        add_normed(h, ao, T, D, w = vec(r, l->post_attention_norm), eps);
        free(w);
        free(ao);
        free(o);
        free(q);

        /* feed-forward */
        memcpy(x, h, (size_t)T * D * sizeof(double));
        rms(x, (size_t)T * D, D, w = vec(r, l->ffn_norm), eps);
        free(w);
        double *d = mlp(r, l->ffn_gate, l->ffn_up, l->ffn_down, 0, x, T);
        if (l->is_moe) {
            const int E_ = m->n_expert, K_ = m->n_expert_used;
            rms(d, (size_t)T * D, D, w = vec(r, l->post_ffw_norm_1), eps);
            free(w);
            double *rs = vec(r, l->ffn_gate_inp_scale), *es = vec(r, l->ffn_down_exps_scale);
            double *n2 = vec(r, l->pre_ffw_norm_2), *p2 = vec(r, l->post_ffw_norm_2);
            for (int t = 0; t < T; t++) {
                double *z = malloc((size_t)D * sizeof(double)), *x2 = malloc((size_t)D * sizeof(double));
                memcpy(z, h + (size_t)t * D, (size_t)D * sizeof(double));
                memcpy(x2, z, (size_t)D * sizeof(double));
                rms(z, (size_t)D, D, NULL, eps);
                for (int i = 0; i < D; i++) z[i] = z[i] / sqrt((double)D) * rs[i];
                double *logit = linear(r, l->ffn_gate_inp, 0, z, 1), mx = -INFINITY, sum = 0;
                for (int e = 0; e < E_; e++) mx = logit[e] > mx ? logit[e] : mx;
                for (int e = 0; e < E_; e++) sum += (logit[e] = exp(logit[e] - mx));
                for (int e = 0; e < E_; e++) logit[e] /= sum;
                int *used = calloc((size_t)E_, sizeof(int));
                int sel[64];
                double wsum = 0;
                for (int k = 0; k < K_; k++) {
                    int b = -1;
                    for (int e = 0; e < E_; e++)
                        if (!used[e] && (b < 0 || logit[e] > logit[b])) b = e;
                    used[b] = 1;
                    sel[k] = b;
                    wsum += logit[b];
                }
                rms(x2, (size_t)D, D, n2, eps);
                double *y = calloc((size_t)D, sizeof(double));
                for (int k = 0; k < K_; k++) {
                    const int e = sel[k];
                    double *ye;
                    if (l->ffn_gate_up_exps) {
                        const int Fe = m->n_ff_exp;
                        double *gu = linear(r, l->ffn_gate_up_exps, e, x2, 1);
                        for (int i = 0; i < Fe; i++) gu[i] = gelu(gu[i]) * gu[Fe + i];
                        ye = linear(r, l->ffn_down_exps, e, gu, 1);
                        free(gu);
                    } else {
                        ye = mlp(r, l->ffn_gate_exps, l->ffn_up_exps, l->ffn_down_exps, e, x2, 1);
                    }
                    for (int i = 0; i < D; i++) y[i] += logit[e] / wsum * es[e] * ye[i];
                    free(ye);
                }
                rms(y, (size_t)D, D, p2, eps);
                for (int i = 0; i < D; i++) d[(size_t)t * D + i] += y[i];
                free(y);
                free(used);
                free(logit);
                free(z);
                free(x2);
            }
            free(rs);
            free(es);
            free(n2);
            free(p2);
        }
        add_normed(h, d, T, D, w = vec(r, l->post_ffw_norm), eps);
        free(w);
        free(d);

        if (P) {
            double *g = linear(r, l->inp_gate, 0, h, T);
            for (int t = 0; t < T; t++)
                for (int j = 0; j < P; j++)
                    g[(size_t)t * P + j] = gelu(g[(size_t)t * P + j]) * ple[((size_t)t * L + li) * P + j];
            double *y = linear(r, l->proj, 0, g, T);
            add_normed(h, y, T, D, w = vec(r, l->post_norm), eps);
            free(w);
            free(y);
            free(g);
        }
        if (l->layer_output_scale) {
            double *s = vec(r, l->layer_output_scale);
            for (size_t i = 0; i < (size_t)T * D; i++) h[i] *= s[0];
            free(s);
        }
        free(x);
    }
    double *w = vec(r, m->output_norm);
    rms(h, (size_t)T * D, D, w, eps);
    free(w);
    const double *Wo = m->output == m->token_embd ? E : NULL;
    double *own = Wo ? NULL : tensor_d(r, m->output);
    if (!Wo) Wo = own;
    for (int t = 0; t < T; t++)
        for (int v = 0; v < V; v++) {
            double acc = 0;
            for (int i = 0; i < D; i++) acc += Wo[(size_t)v * D + i] * h[(size_t)t * D + i];
            logits[(size_t)t * V + v] = m->softcap > 0 ? m->softcap * tanh(acc / m->softcap) : acc;
        }
    free(own);
    for (int li = 0; li < L; li++) {
        free(Kc[li]);
        free(Vc[li]);
    }
    free(Kc);
    free(Vc);
    free(ple);
    free(h);
    free(E);
    return 0;
}
