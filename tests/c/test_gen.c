/* The synthetic model generator (tools/gen) against gemma4.md §1-§2, checked
 * with the project's GGUF reader and Ollama-store resolver. The expected keys,
 * tensors, shapes and types are re-derived here from the spec and the preset
 * shapes written out literally below, not taken from the generator's tables.
 * Also: determinism, values, weight conditioning (logit statistics from the
 * independent double reference), and a structural comparison with the external
 * gemma4-tiny fixture. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/host.h"
#include "cpu/forward.h"
#include "gen/gen.h"
#include "gguf.h"
#include "harness.h"
#include "model_file.h"
#include "ollama.h"
#include "quant.h"
#include "ref_gemma4.h"
#include "sha256.h"

const char *T_SUITE = "gen";

/* ---- the presets, written out from the fixture README / gemma4.md §3.1 ---- */

typedef struct {
    const char *preset;
    unsigned L, D, H, kv_swa, kv_full, hd_swa, hd_full, F, F_shared, W, S, P, V, ctx;
    const char *pattern; /* S = sliding, F = full */
    int k_eq_v;
    unsigned E, E_used, Fe;
    unsigned Lv, Dv, Hv, Fv, npos, clamp, std, out_scale; /* vision */
    unsigned La, Da, Ha, Fa, K, c0, c1, a_out;             /* audio */
} spec;

static const spec TINY = {"tiny", 6, 256, 4, 1, 1, 64, 128, 512, 1024, 16, 3, 256, 1024, 32768, "SSFSSF", 0, 0, 0, 0,
                          2, 64, 2, 128, 256, 1, 1, 1, 2, 64, 2, 256, 5, 8, 4, 256};
static const spec TINY_MOE = {"tiny-moe", 6, 256, 4, 2, 1, 64, 128, 320, 320, 16, 0, 0, 1024, 32768, "SSSSSF", 1, 16, 4,
                              96, 2, 72, 2, 144, 256, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0};
static const spec TINY_KV = {"tiny-kv", 6, 256, 4, 2, 1, 64, 128, 512, 512, 16, 0, 0, 1024, 32768, "SSSSSF", 1, 0, 0, 0,
                             2, 72, 2, 144, 256, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0};

/* ---- helpers ---- */

static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) free(b), b = NULL;
    fclose(f);
    *len = (size_t)n;
    return b;
}

typedef struct {
    uint8_t *bytes;
    size_t len;
    gguf_file *g;
} gfile;

static int gopen(const char *path, gfile *f) {
    memset(f, 0, sizeof *f);
    f->bytes = slurp(path, &f->len);
    if (!f->bytes) {
        t_note_failure(__FILE__, __LINE__, "cannot read %s", path);
        return -1;
    }
    rl_error err = {0};
    uint64_t need = 0;
    if (gguf_parse(f->bytes, f->len, f->len, &f->g, &need, &err)) {
        t_note_failure(__FILE__, __LINE__, "%s: %s", path, err.msg);
        free(f->bytes);
        return -1;
    }
    return 0;
}

static void gclose(gfile *f) {
    if (f->g) gguf_free(f->g);
    free(f->bytes);
}

static const uint8_t *tdata(const gfile *f, const gguf_tensor *t) { return f->bytes + f->g->data_offset + t->offset; }

static char *tmp_path(const char *name) {
    static char buf[8][512];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 512, "%s/%s", t_tmp_dir(), name);
    return p;
}

/* Generate preset + "--opt value" pairs (NULL-terminated) into path. */
static int generate(const char *path, const char *preset, const char *const *opts) {
    char *argv[64] = {"gen"};
    int argc = 1;
    for (const char *const *o = opts; o && *o && argc < 63; o++) argv[argc++] = (char *)*o;
    rl_error err = {0};
    gen_config cfg;
    gen_vocab *v = NULL;
    gen_model m;
    if (gen_config_preset(&cfg, preset, &err) || gen_config_apply(&cfg, argc, argv, NULL, &err) ||
        gen_vocab_load(rl_host_default(), "synthetic", cfg.n_vocab, &v, &err) || gen_model_build(&m, &cfg, v, &err)) {
        t_note_failure(__FILE__, __LINE__, "generate %s: %s", preset, err.msg);
        gen_vocab_free(v);
        return -1;
    }
    gen_write_opts o = {0};
    rl_status st = gen_write_file(&m, rl_host_default(), path, &o, NULL, &err);
    CHECK(!st, "write %s: %s", path, err.msg);
    gen_model_free(&m);
    gen_vocab_free(v);
    return st ? -1 : 0;
}

/* Generate once per run for each (preset, options): several tests read the same file. */
static const char *cached(const char *preset, const char *const *opts) {
    static struct {
        char key[256], path[512];
    } done[16];
    static int n;
    char key[256];
    snprintf(key, sizeof key, "%s", preset);
    for (const char *const *o = opts; o && *o; o++) snprintf(key + strlen(key), sizeof key - strlen(key), " %s", *o);
    for (int i = 0; i < n; i++)
        if (!strcmp(done[i].key, key)) return done[i].path;
    if (n == 16) return NULL;
    snprintf(done[n].key, sizeof done[n].key, "%s", key);
    snprintf(done[n].path, sizeof done[n].path, "%s/cached%d.gguf", t_tmp_dir(), n);
    if (generate(done[n].path, preset, opts)) return NULL;
    return done[n++].path;
}

static char *kstr(gguf_str s) {
    static char buf[4][256];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 256, "%.*s", (int)s.len, s.ptr);
    return p;
}

/* ---- expected tensors (gemma4.md §2.6-§2.8) ---- */

typedef struct {
    char name[64];
    unsigned nd;
    uint64_t ne[4];
} etensor;

typedef struct {
    etensor *t;
    size_t n;
} elist;

static void ex(elist *l, uint64_t d0, uint64_t d1, uint64_t d2, uint64_t d3, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void ex(elist *l, uint64_t d0, uint64_t d1, uint64_t d2, uint64_t d3, const char *fmt, ...) {
    l->t = realloc(l->t, (l->n + 1) * sizeof *l->t);
    etensor *e = &l->t[l->n++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->name, sizeof e->name, fmt, ap);
    va_end(ap);
    uint64_t d[4] = {d0, d1, d2, d3};
    e->nd = d3 ? 4 : d2 ? 3 : d1 ? 2 : 1;
    for (int i = 0; i < 4; i++) e->ne[i] = d[i] ? d[i] : 1;
}

static int swa(const spec *s, unsigned i) { return s->pattern[i] == 'S'; }

static elist expected_tensors(const spec *s, int shared_kv_tensors, int fused) {
    elist l = {0};
    unsigned D = s->D;
    for (unsigned i = 0; i < s->L; i++) {
        unsigned hd = swa(s, i) ? s->hd_swa : s->hd_full, kv = swa(s, i) ? s->kv_swa : s->kv_full;
        int shared = i >= s->L - s->S;
        unsigned F = shared ? s->F_shared : s->F;
        ex(&l, D, 0, 0, 0, "blk.%u.attn_norm.weight", i);
        ex(&l, D, s->H * hd, 0, 0, "blk.%u.attn_q.weight", i);
        ex(&l, hd, 0, 0, 0, "blk.%u.attn_q_norm.weight", i);
        if (!shared || shared_kv_tensors) {
            ex(&l, D, kv * hd, 0, 0, "blk.%u.attn_k.weight", i);
            ex(&l, hd, 0, 0, 0, "blk.%u.attn_k_norm.weight", i);
            if (!(s->k_eq_v && !swa(s, i))) ex(&l, D, kv * hd, 0, 0, "blk.%u.attn_v.weight", i);
        }
        ex(&l, s->H * hd, D, 0, 0, "blk.%u.attn_output.weight", i);
        ex(&l, D, 0, 0, 0, "blk.%u.post_attention_norm.weight", i);
        ex(&l, D, 0, 0, 0, "blk.%u.ffn_norm.weight", i);
        ex(&l, D, F, 0, 0, "blk.%u.ffn_gate.weight", i);
        ex(&l, D, F, 0, 0, "blk.%u.ffn_up.weight", i);
        ex(&l, F, D, 0, 0, "blk.%u.ffn_down.weight", i);
        ex(&l, D, 0, 0, 0, "blk.%u.post_ffw_norm.weight", i);
        ex(&l, 1, 0, 0, 0, "blk.%u.layer_output_scale.weight", i);
        if (s->P) {
            ex(&l, D, s->P, 0, 0, "blk.%u.inp_gate.weight", i);
            ex(&l, s->P, D, 0, 0, "blk.%u.proj.weight", i);
            ex(&l, D, 0, 0, 0, "blk.%u.post_norm.weight", i);
        }
        if (s->E) {
            ex(&l, D, s->E, 0, 0, "blk.%u.ffn_gate_inp.weight", i);
            ex(&l, D, 0, 0, 0, "blk.%u.ffn_gate_inp.scale", i);
            if (fused) {
                ex(&l, D, 2 * s->Fe, s->E, 0, "blk.%u.ffn_gate_up_exps.weight", i);
                ex(&l, s->E, 0, 0, 0, "blk.%u.ffn_down_exps.scale", i);
            } else {
                ex(&l, D, s->Fe, s->E, 0, "blk.%u.ffn_gate_exps.weight", i);
                ex(&l, D, s->Fe, s->E, 0, "blk.%u.ffn_up_exps.weight", i);
                ex(&l, s->E, 0, 0, 0, "blk.%u.ffn_gate_inp.per_expert_scale", i);
            }
            ex(&l, s->Fe, D, s->E, 0, "blk.%u.ffn_down_exps.weight", i);
            ex(&l, D, 0, 0, 0, "blk.%u.pre_ffw_norm_2.weight", i);
            ex(&l, D, 0, 0, 0, "blk.%u.post_ffw_norm_1.weight", i);
            ex(&l, D, 0, 0, 0, "blk.%u.post_ffw_norm_2.weight", i);
        }
    }
    ex(&l, D, s->V, 0, 0, "token_embd.weight");
    ex(&l, D, 0, 0, 0, "output_norm.weight");
    ex(&l, s->hd_full / 2, 0, 0, 0, "rope_freqs.weight");
    if (s->P) {
        ex(&l, s->L * s->P, s->V, 0, 0, "per_layer_token_embd.weight");
        ex(&l, D, s->L * s->P, 0, 0, "per_layer_model_proj.weight");
        ex(&l, s->P, 0, 0, 0, "per_layer_proj_norm.weight");
    }
    static const char *const sfx[4] = {"input_min", "input_max", "output_min", "output_max"};
    if (s->Lv) {
        static const char *const lin[7] = {"attn_q", "attn_k", "attn_v", "attn_out", "ffn_gate", "ffn_up", "ffn_down"};
        unsigned Dv = s->Dv, hv = s->Dv / s->Hv;
        for (unsigned i = 0; i < s->Lv; i++) {
            ex(&l, Dv, 0, 0, 0, "v.blk.%u.ln1.weight", i);
            ex(&l, Dv, 0, 0, 0, "v.blk.%u.ln2.weight", i);
            for (int k = 0; k < 4; k++) ex(&l, Dv, Dv, 0, 0, "v.blk.%u.%s.weight", i, lin[k]);
            ex(&l, hv, 0, 0, 0, "v.blk.%u.attn_q_norm.weight", i);
            ex(&l, hv, 0, 0, 0, "v.blk.%u.attn_k_norm.weight", i);
            ex(&l, Dv, 0, 0, 0, "v.blk.%u.attn_post_norm.weight", i);
            ex(&l, Dv, s->Fv, 0, 0, "v.blk.%u.ffn_gate.weight", i);
            ex(&l, Dv, s->Fv, 0, 0, "v.blk.%u.ffn_up.weight", i);
            ex(&l, s->Fv, Dv, 0, 0, "v.blk.%u.ffn_down.weight", i);
            ex(&l, Dv, 0, 0, 0, "v.blk.%u.ffn_post_norm.weight", i);
            if (s->out_scale) ex(&l, 1, 0, 0, 0, "v.blk.%u.out_scale.weight", i);
            if (s->clamp)
                for (int k = 0; k < 7; k++)
                    for (int j = 0; j < 4; j++) ex(&l, 1, 0, 0, 0, "v.blk.%u.%s.%s", i, lin[k], sfx[j]);
        }
        ex(&l, 16, 16, 3, Dv, "v.patch_embd.weight");
        ex(&l, Dv, s->npos, 2, 0, "v.position_embd.weight");
        if (s->std) {
            ex(&l, Dv, 0, 0, 0, "v.std_bias");
            ex(&l, Dv, 0, 0, 0, "v.std_scale");
        }
        if (s->clamp) {
            ex(&l, (s->Lv * 7 + 1) * 4, 0, 0, 0, "v.clamp_data");
            for (int j = 0; j < 4; j++) ex(&l, 1, 0, 0, 0, "mm.input_projection.%s", sfx[j]);
        }
        ex(&l, Dv, D, 0, 0, "mm.input_projection.weight");
    }
    if (s->La) {
        static const char *const lin[10] = {"attn_q", "attn_k", "attn_v", "attn_out", "ffn_up",
                                            "ffn_down", "ffn_up_1", "ffn_down_1", "conv_pw1", "conv_pw2"};
        unsigned Da = s->Da;
        for (unsigned i = 0; i < s->La; i++) {
            for (int k = 0; k < 4; k++) ex(&l, Da, Da, 0, 0, "a.blk.%u.%s.weight", i, lin[k]);
            ex(&l, Da, s->Fa, 0, 0, "a.blk.%u.ffn_up.weight", i);
            ex(&l, s->Fa, Da, 0, 0, "a.blk.%u.ffn_down.weight", i);
            ex(&l, Da, s->Fa, 0, 0, "a.blk.%u.ffn_up_1.weight", i);
            ex(&l, s->Fa, Da, 0, 0, "a.blk.%u.ffn_down_1.weight", i);
            ex(&l, Da, 2 * Da, 0, 0, "a.blk.%u.conv_pw1.weight", i);
            ex(&l, Da, Da, 0, 0, "a.blk.%u.conv_pw2.weight", i);
            ex(&l, s->K, Da, 0, 0, "a.blk.%u.conv_dw.weight", i);
            ex(&l, Da, Da, 0, 0, "a.blk.%u.linear_pos.weight", i);
            ex(&l, Da / s->Ha, 0, 0, 0, "a.blk.%u.per_dim_scale.weight", i);
            static const char *const norms[10] = {"ffn_norm", "ffn_post_norm", "ffn_norm_1", "ffn_post_norm_1", "ln1",
                                                  "ln2", "conv_norm", "norm_conv", "layer_pre_norm", NULL};
            for (int k = 0; norms[k]; k++) ex(&l, Da, 0, 0, 0, "a.blk.%u.%s.weight", i, norms[k]);
            for (int k = 0; k < 10; k++)
                for (int j = 0; j < 4; j++) ex(&l, 1, 0, 0, 0, "a.blk.%u.%s.%s", i, lin[k], sfx[j]);
        }
        ex(&l, 3, 3, 1, s->c0, "a.conv1d.0.weight");
        ex(&l, s->c0, 0, 0, 0, "a.conv1d.0.norm.weight");
        ex(&l, 3, 3, s->c0, s->c1, "a.conv1d.1.weight");
        ex(&l, s->c1, 0, 0, 0, "a.conv1d.1.norm.weight");
        ex(&l, s->c1 * 32, Da, 0, 0, "a.pre_encode.out.weight"); /* 128 mel bins / 4 = 32 frequencies */
        ex(&l, Da, s->a_out, 0, 0, "mm.a.fc.weight");
        ex(&l, s->a_out, 0, 0, 0, "mm.a.fc.bias");
        ex(&l, s->a_out, D, 0, 0, "mm.a.input_projection.weight");
    }
    return l;
}

/* ---- expected types for the Q4_K_M mix (gemma4.md §2.5, read literally) ---- */

static int more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

static int ends_with(const char *s, const char *t) {
    size_t a = strlen(s), b = strlen(t);
    return a >= b && !strcmp(s + a - b, t);
}

/* Type of tensor k of file g (in file order), following the converter then the quantizer. */
static uint32_t expected_type(const gguf_file *g, uint64_t k, unsigned L) {
    const gguf_tensor *t = &g->tensors[k];
    const char *n = kstr(t->name);
    int is_v = !strncmp(n, "v.", 2), is_a = !strncmp(n, "a.", 2), is_mm = strstr(n, "mm.") != NULL;
    if (t->n_dims == 1) return RL_TYPE_F32;
    if (!strcmp(n, "v.position_embd.weight") || strstr(n, "ffn_gate_inp.weight") || !strncmp(n, "a.conv1d.", 9) ||
        strstr(n, ".conv_dw."))
        return RL_TYPE_F32;
    if (is_v || is_mm) return RL_TYPE_F16;
    if (is_a || !strcmp(n, "per_layer_token_embd.weight")) return RL_TYPE_BF16;
    uint32_t want = RL_TYPE_Q4_K;
    if (!strcmp(n, "token_embd.weight")) want = RL_TYPE_Q6_K;
    if (ends_with(n, "attn_v.weight")) {
        int i = 0, total = 0; /* i: text attn_v tensors before this one; total: every *attn_v.weight */
        for (uint64_t j = 0; j < g->n_tensors; j++) {
            const char *m = kstr(g->tensors[j].name);
            if (ends_with(m, "attn_v.weight")) total++;
            if (j < k && !strncmp(m, "blk.", 4) && ends_with(m, "attn_v.weight")) i++;
        }
        if (more_bits(i, total)) want = RL_TYPE_Q6_K;
    }
    if (strstr(n, "ffn_down")) {
        int blk = atoi(n + 4);
        if (more_bits(blk, (int)L)) want = RL_TYPE_Q6_K;
    }
    if (t->ne[0] % 256) want = want == RL_TYPE_Q6_K ? RL_TYPE_Q8_0 : RL_TYPE_Q5_0; /* both need ne0 % 32 */
    return want;
}

/* ---- key checks (gemma4.md §2.3/§2.4) ---- */

typedef struct {
    const char *key;
    gguf_vtype type, elem;
    double value; /* scalars; arrays: count */
} ekey;

static void check_key(const gguf_file *g, const ekey *e, const char *what) {
    const gguf_kv *kv = gguf_find_kv(g, e->key);
    if (!kv) {
        CHECK(0, "%s: missing key %s", what, e->key);
        return;
    }
    CHECK(kv->type == e->type, "%s: %s has type %s, want %s", what, e->key, gguf_vtype_name(kv->type),
          gguf_vtype_name(e->type));
    if (kv->type != e->type) return;
    if (e->type == GGUF_ARRAY) {
        CHECK(kv->elem_type == e->elem, "%s: %s elements are %s, want %s", what, e->key, gguf_vtype_name(kv->elem_type),
              gguf_vtype_name(e->elem));
        CHECK(kv->count == (uint64_t)e->value, "%s: %s has %llu elements, want %.0f", what, e->key,
              (unsigned long long)kv->count, e->value);
    } else if (e->type != GGUF_STRING) {
        double v = gguf_arr_f64(kv, 0);
        CHECK(fabs(v - e->value) <= 1e-6 * fabs(e->value), "%s: %s = %g, want %g", what, e->key, v, e->value);
    }
}

static void check_keys(const gguf_file *g, const spec *s, const char *what, unsigned file_type) {
    int kv_array = s->kv_swa != s->kv_full, ff_array = s->F_shared != s->F && s->S;
    ekey keys[64] = {
        {"gemma4.block_count", GGUF_U32, 0, s->L},
        {"gemma4.embedding_length", GGUF_U32, 0, s->D},
        {"gemma4.feed_forward_length", ff_array ? GGUF_ARRAY : GGUF_U32, GGUF_I32, ff_array ? s->L : s->F},
        {"gemma4.context_length", GGUF_U32, 0, s->ctx},
        {"gemma4.attention.head_count", GGUF_U32, 0, s->H},
        {"gemma4.attention.head_count_kv", kv_array ? GGUF_ARRAY : GGUF_U32, GGUF_I32, kv_array ? s->L : s->kv_swa},
        {"gemma4.attention.key_length", GGUF_U32, 0, s->hd_full},
        {"gemma4.attention.value_length", GGUF_U32, 0, s->hd_full},
        {"gemma4.attention.key_length_swa", GGUF_U32, 0, s->hd_swa},
        {"gemma4.attention.value_length_swa", GGUF_U32, 0, s->hd_swa},
        {"gemma4.attention.layer_norm_rms_epsilon", GGUF_F32, 0, 1e-6},
        {"gemma4.attention.sliding_window", GGUF_U32, 0, s->W},
        {"gemma4.attention.sliding_window_pattern", GGUF_ARRAY, GGUF_BOOL, s->L},
        {"gemma4.attention.shared_kv_layers", GGUF_U32, 0, s->S},
        {"gemma4.rope.freq_base", GGUF_F32, 0, 1e6},
        {"gemma4.rope.freq_base_swa", GGUF_F32, 0, 1e4},
        {"gemma4.rope.dimension_count", GGUF_U32, 0, s->hd_full},
        {"gemma4.rope.dimension_count_swa", GGUF_U32, 0, s->hd_swa},
        {"gemma4.final_logit_softcapping", GGUF_F32, 0, 30},
        {"gemma4.embedding_length_per_layer_input", GGUF_U32, 0, s->P},
        {"general.architecture", GGUF_STRING, 0, 0},
        {"general.file_type", GGUF_U32, 0, file_type},
        {"general.quantization_version", GGUF_U32, 0, 2},
        {"tokenizer.ggml.model", GGUF_STRING, 0, 0},
        {"tokenizer.ggml.pre", GGUF_STRING, 0, 0},
        {"tokenizer.ggml.tokens", GGUF_ARRAY, GGUF_STRING, s->V},
        {"tokenizer.ggml.scores", GGUF_ARRAY, GGUF_F32, s->V},
        {"tokenizer.ggml.token_type", GGUF_ARRAY, GGUF_I32, s->V},
        {"tokenizer.ggml.merges", GGUF_ARRAY, GGUF_STRING, 10},
        {"tokenizer.ggml.bos_token_id", GGUF_U32, 0, 2},
        {"tokenizer.ggml.eos_token_id", GGUF_U32, 0, 1},
        {"tokenizer.ggml.eos_token_ids", GGUF_ARRAY, GGUF_I32, 3},
        {"tokenizer.ggml.padding_token_id", GGUF_U32, 0, 0},
        {"tokenizer.ggml.unknown_token_id", GGUF_U32, 0, 3},
        {"tokenizer.ggml.mask_token_id", GGUF_U32, 0, 4},
        {"tokenizer.ggml.add_bos_token", GGUF_BOOL, 0, 1},
        {"tokenizer.ggml.add_eos_token", GGUF_BOOL, 0, 0},
    };
    size_t n = 0;
    while (keys[n].key) n++;
    if (s->E) {
        keys[n++] = (ekey){"gemma4.expert_count", GGUF_U32, 0, s->E};
        keys[n++] = (ekey){"gemma4.expert_used_count", GGUF_U32, 0, s->E_used};
        keys[n++] = (ekey){"gemma4.expert_feed_forward_length", GGUF_U32, 0, s->Fe};
    }
    if (s->Lv) {
        keys[n++] = (ekey){"gemma4.vision.block_count", GGUF_U32, 0, s->Lv};
        keys[n++] = (ekey){"gemma4.vision.embedding_length", GGUF_U32, 0, s->Dv};
        keys[n++] = (ekey){"gemma4.vision.attention.head_count", GGUF_U32, 0, s->Hv};
        keys[n++] = (ekey){"gemma4.vision.feed_forward_length", GGUF_U32, 0, s->Fv};
        keys[n++] = (ekey){"gemma4.vision.patch_size", GGUF_U32, 0, 16};
        keys[n++] = (ekey){"gemma4.vision.num_channels", GGUF_U32, 0, 3};
        keys[n++] = (ekey){"gemma4.vision.projector.scale_factor", GGUF_U32, 0, 3};
        keys[n++] = (ekey){"gemma4.vision.attention.layer_norm_epsilon", GGUF_F32, 0, 1e-6};
    }
    if (s->La) {
        keys[n++] = (ekey){"gemma4.audio.block_count", GGUF_U32, 0, s->La};
        keys[n++] = (ekey){"gemma4.audio.embedding_length", GGUF_U32, 0, s->Da};
        keys[n++] = (ekey){"gemma4.audio.feed_forward_length", GGUF_U32, 0, s->Fa};
        keys[n++] = (ekey){"gemma4.audio.attention.head_count", GGUF_U32, 0, s->Ha};
        keys[n++] = (ekey){"gemma4.audio.attention.layer_norm_epsilon", GGUF_F32, 0, 1e-6};
        keys[n++] = (ekey){"gemma4.audio.conv_kernel_size", GGUF_U32, 0, s->K};
    }
    for (size_t i = 0; i < n; i++) check_key(g, &keys[i], what);
    CHECK(g->n_kv == n, "%s: %llu keys, the spec lists %zu", what, (unsigned long long)g->n_kv, n);
    for (uint64_t i = 0; i < g->n_kv; i++) {
        int known = 0;
        for (size_t j = 0; j < n; j++) known |= gguf_str_eq(g->kv[i].key, keys[j].key);
        CHECK(known, "%s: unexpected key %s", what, kstr(g->kv[i].key));
    }
    CHECK(!gguf_find_kv(g, "general.alignment"), "%s: Ollama writes no general.alignment", what);
    /* values of the array keys */
    const gguf_kv *pat = gguf_find_kv(g, "gemma4.attention.sliding_window_pattern");
    for (unsigned i = 0; pat && i < s->L && i < pat->count; i++)
        CHECK(gguf_arr_int(pat, i) == swa(s, i), "%s: sliding_window_pattern[%u]", what, i);
    const gguf_kv *hkv = gguf_find_kv(g, "gemma4.attention.head_count_kv");
    for (unsigned i = 0; kv_array && hkv && i < s->L && i < hkv->count; i++)
        CHECK(gguf_arr_int(hkv, i) == (swa(s, i) ? s->kv_swa : s->kv_full), "%s: head_count_kv[%u]", what, i);
    const gguf_kv *ff = gguf_find_kv(g, "gemma4.feed_forward_length");
    for (unsigned i = 0; ff_array && ff && i < s->L && i < ff->count; i++)
        CHECK(gguf_arr_int(ff, i) == (i >= s->L - s->S ? s->F_shared : s->F), "%s: feed_forward_length[%u]", what, i);
    gguf_str arch;
    CHECK(!gguf_get_str(g, "general.architecture", &arch, NULL) && gguf_str_eq(arch, "gemma4"), "%s: architecture", what);
    CHECK(!gguf_get_str(g, "tokenizer.ggml.model", &arch, NULL) && gguf_str_eq(arch, "llama"), "%s: tokenizer model", what);
    CHECK(!gguf_get_str(g, "tokenizer.ggml.pre", &arch, NULL) && gguf_str_eq(arch, "gemma4"), "%s: tokenizer pre", what);
}

/* ---- order, layout, names, shapes, types ---- */

static long block_no(const char *n) {
    int b, used = 0;
    return sscanf(n, "blk.%d.%n", &b, &used) == 1 && used > 0 ? b : 1L << 30;
}

static void check_layout(const gfile *f, const char *what) {
    const gguf_file *g = f->g;
    CHECK(g->version == 3, "%s: GGUF v%u", what, g->version);
    CHECK(g->data_offset % 32 == 0 && g->data_offset - g->header_size < 32, "%s: data section at %llu after a %llu-byte header",
          what, (unsigned long long)g->data_offset, (unsigned long long)g->header_size);
    for (uint64_t i = 1; i < g->n_kv; i++)
        CHECK(strcmp(kstr(g->kv[i - 1].key), kstr(g->kv[i].key)) < 0, "%s: key %s before %s", what,
              kstr(g->kv[i - 1].key), kstr(g->kv[i].key));
    uint64_t expect_off = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        CHECK(t->offset == expect_off, "%s: %s at offset %llu, packed layout puts it at %llu", what, kstr(t->name),
              (unsigned long long)t->offset, (unsigned long long)expect_off);
        expect_off = (t->offset + t->nbytes + 31) / 32 * 32;
        if (i) {
            const char *a = kstr(g->tensors[i - 1].name), *b = kstr(t->name);
            long ba = block_no(a), bb = block_no(b);
            CHECK(ba < bb || (ba == bb && strcmp(a, b) < 0), "%s: tensor %s before %s", what, a, b);
        }
    }
    const gguf_tensor *last = &g->tensors[g->n_tensors - 1];
    CHECK(f->len == g->data_offset + last->offset + last->nbytes, "%s: file is %zu bytes, last tensor ends at %llu", what,
          f->len, (unsigned long long)(g->data_offset + last->offset + last->nbytes));
}

static void check_tensors(const gguf_file *g, const elist *e, int check_types, unsigned L, const char *what) {
    CHECK(g->n_tensors == e->n, "%s: %llu tensors, the spec lists %zu", what, (unsigned long long)g->n_tensors, e->n);
    for (size_t i = 0; i < e->n; i++) {
        const gguf_tensor *t = gguf_find_tensor(g, e->t[i].name);
        if (!t) {
            CHECK(0, "%s: missing tensor %s", what, e->t[i].name);
            continue;
        }
        int same = t->n_dims == e->t[i].nd;
        for (int d = 0; d < 4; d++) same &= t->ne[d] == e->t[i].ne[d];
        CHECK(same, "%s: %s has ne [%llu %llu %llu %llu] (%u dims), want [%llu %llu %llu %llu] (%u)", what, e->t[i].name,
              (unsigned long long)t->ne[0], (unsigned long long)t->ne[1], (unsigned long long)t->ne[2],
              (unsigned long long)t->ne[3], t->n_dims, (unsigned long long)e->t[i].ne[0],
              (unsigned long long)e->t[i].ne[1], (unsigned long long)e->t[i].ne[2], (unsigned long long)e->t[i].ne[3],
              e->t[i].nd);
    }
    for (uint64_t k = 0; check_types && k < g->n_tensors; k++) {
        uint32_t want = expected_type(g, k, L);
        CHECK(g->tensors[k].type == want, "%s: %s is %s, want %s", what, kstr(g->tensors[k].name),
              rl_type_get(g->tensors[k].type)->name, rl_type_get(want)->name);
    }
}

/* Q4_K_M files get their types checked; other options are given with --type BF16 (fast). */
static void structure(const spec *s, const char *const *opts, int shared_kv_tensors, int fused) {
    const char *path = cached(s->preset, opts);
    gfile f;
    if (!path || gopen(path, &f)) return;
    int q4km = !opts || !opts[0];
    check_layout(&f, s->preset);
    check_keys(f.g, s, s->preset, q4km ? 15 : 32);
    elist e = expected_tensors(s, shared_kv_tensors, fused);
    check_tensors(f.g, &e, q4km, s->L, s->preset);
    free(e.t);
    gclose(&f);
}

static void tiny_structure(void) {
    structure(&TINY, NULL, 1, 0);
    static const char *const no_shared[] = {"--type", "BF16", "--shared-kv-tensors", "0", NULL};
    structure(&TINY, no_shared, 0, 0);
}
static void tiny_moe_structure(void) {
    structure(&TINY_MOE, NULL, 1, 0);
    static const char *const fused[] = {"--type", "BF16", "--moe-fused", "1", NULL};
    structure(&TINY_MOE, fused, 1, 1);
}
static void tiny_kv_structure(void) { structure(&TINY_KV, NULL, 1, 0); }

/* ---- values ---- */

static double f32_at(const uint8_t *p, uint64_t i) {
    float v;
    memcpy(&v, p + 4 * i, 4);
    return v;
}

/* mean and std of a tensor, dequantized with the project's row decoders */
static void stats(const gfile *f, const char *name, double *mean, double *std) {
    const gguf_tensor *t = gguf_find_tensor(f->g, name);
    *mean = *std = NAN;
    if (!t) return;
    uint64_t n = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
    float *x = malloc(n * sizeof *x);
    rl_type_get(t->type)->dequant(tdata(f, t), x, (size_t)n);
    double s = 0, s2 = 0;
    for (uint64_t i = 0; i < n; i++) s += x[i], s2 += (double)x[i] * x[i];
    *mean = s / (double)n;
    *std = sqrt(s2 / (double)n - *mean * *mean);
    free(x);
}

static void values(void) {
    const char *path = cached("tiny", NULL);
    gfile f;
    if (!path || gopen(path, &f)) return;
    /* rope_freqs: 1 for j < int(128 * 0.25 / 2) = 16 pairs, 1e30 after */
    const gguf_tensor *rf = gguf_find_tensor(f.g, "rope_freqs.weight");
    for (uint64_t j = 0; rf && j < rf->ne[0]; j++)
        CHECK(f32_at(tdata(&f, rf), j) == (j < 16 ? 1.0 : (double)1e30f), "rope_freqs[%llu] = %g", (unsigned long long)j,
              f32_at(tdata(&f, rf), j));
    /* v.clamp_data: per layer q,k,v,out,gate,up,down x (in_min, in_max, out_min, out_max), then the projector */
    static const char *const lin[7] = {"attn_q", "attn_k", "attn_v", "attn_out", "ffn_gate", "ffn_up", "ffn_down"};
    static const char *const sfx[4] = {"input_min", "input_max", "output_min", "output_max"};
    const gguf_tensor *cd = gguf_find_tensor(f.g, "v.clamp_data");
    for (unsigned j = 0; cd && j < (2 * 7 + 1) * 4; j++) {
        char name[64];
        if (j < 2 * 7 * 4) snprintf(name, sizeof name, "v.blk.%u.%s.%s", j / 28, lin[j / 4 % 7], sfx[j % 4]);
        else snprintf(name, sizeof name, "mm.input_projection.%s", sfx[j % 4]);
        const gguf_tensor *sc = gguf_find_tensor(f.g, name);
        CHECK(sc && f32_at(tdata(&f, cd), j) == f32_at(tdata(&f, sc), 0), "v.clamp_data[%u] differs from %s", j, name);
        CHECK(sc && (j % 2 ? f32_at(tdata(&f, sc), 0) > 0 : f32_at(tdata(&f, sc), 0) < 0), "%s has the wrong sign", name);
    }
    /* scales (README): linear N(0, 1/fan_in), norms ~1, embedding rows * sqrt(D) of RMS 3.5 */
    double m, sd;
    stats(&f, "blk.1.ffn_gate.weight", &m, &sd);
    CHECK(fabs(m) < 0.01 && fabs(sd - 1 / sqrt(256.0)) < 0.1 / sqrt(256.0), "ffn_gate mean %g std %g", m, sd);
    stats(&f, "blk.1.ffn_down.weight", &m, &sd);
    CHECK(fabs(sd - 1 / sqrt(512.0)) < 0.1 / sqrt(512.0), "ffn_down std %g", sd);
    stats(&f, "token_embd.weight", &m, &sd);
    CHECK(fabs(sd * 16 - 3.5) < 0.2, "token_embd * sqrt(D) has std %g", sd * 16);
    stats(&f, "per_layer_token_embd.weight", &m, &sd);
    CHECK(fabs(sd * 16 - 1) < 0.05, "PLE table * sqrt(P) has std %g", sd * 16);
    stats(&f, "blk.2.ffn_norm.weight", &m, &sd);
    CHECK(fabs(m - 1) < 0.03 && sd > 0.05 && sd < 0.15, "norm weights mean %g std %g", m, sd);
    stats(&f, "blk.2.attn_q_norm.weight", &m, &sd);
    CHECK(fabs(m - sqrt(2 / sqrt(128.0))) < 0.05, "q_norm mean %g (full layer, hd 128)", m);
    stats(&f, "blk.0.layer_output_scale.weight", &m, &sd);
    CHECK(fabs(pow(m, 6) - 0.03) < 0.015, "layer_output_scale %g: 6 layers should keep ~3%% of the embedding", m);
    stats(&f, "v.patch_embd.weight", &m, &sd);
    CHECK(fabs(sd - 1 / sqrt(768.0)) < 0.1 / sqrt(768.0), "patch_embd std %g", sd);
    gclose(&f);
}

/* Same seed: identical bytes. Another seed: the same header, different data.
 * A tensor's bytes depend on (seed, name) and its recipe only: a 7-layer model
 * shares them (except layer_output_scale, whose mean follows the depth). */
static void determinism(void) {
    char *a = tmp_path("det_a.gguf"), *b = tmp_path("det_b.gguf"), *c = tmp_path("det_c.gguf"), *d = tmp_path("det_d.gguf");
    static const char *const bf16[] = {"--type", "BF16", NULL};
    static const char *const seed2[] = {"--type", "BF16", "--seed", "2", NULL};
    static const char *const seven[] = {"--type", "BF16", "--layers", "7", "--shared-kv", "4", NULL};
    if (generate(a, "tiny", bf16) || generate(b, "tiny", bf16) || generate(c, "tiny", seed2) || generate(d, "tiny", seven))
        return;
    gfile fa, fb, fc, fd;
    if (gopen(a, &fa)) return;
    if (gopen(b, &fb) || gopen(c, &fc) || gopen(d, &fd)) return;
    CHECK(fa.len == fb.len && !memcmp(fa.bytes, fb.bytes, fa.len), "two runs with the same seed differ");
    CHECK(fa.len == fc.len && !memcmp(fa.bytes, fc.bytes, fa.g->data_offset), "another seed changed the header");
    size_t same = 0;
    for (size_t i = fa.g->data_offset; i < fa.len && i < fc.len; i++) same += fa.bytes[i] == fc.bytes[i];
    CHECK(same < (fa.len - fa.g->data_offset) / 4, "seeds 1 and 2 share %zu of %zu data bytes", same,
          fa.len - fa.g->data_offset);
    int compared = 0;
    for (uint64_t i = 0; i < fa.g->n_tensors; i++) {
        const gguf_tensor *t = &fa.g->tensors[i], *u = gguf_find_tensor(fd.g, kstr(t->name));
        if (!u || u->type != t->type || u->nbytes != t->nbytes || strstr(kstr(t->name), "layer_output_scale")) continue;
        int dims = 1;
        for (int k = 0; k < 4; k++) dims &= t->ne[k] == u->ne[k];
        if (!dims) continue;
        compared++;
        CHECK(!memcmp(tdata(&fa, t), tdata(&fd, u), (size_t)t->nbytes), "%s differs between 6 and 7 layers", kstr(t->name));
    }
    CHECK(compared > 100, "only %d tensors compared", compared);
    gclose(&fa), gclose(&fb), gclose(&fc), gclose(&fd);
}

/* ---- conditioning: logits from the independent double reference ---- */

static void conditioning(const char *preset, int T) {
    const char *path = cached(preset, NULL);
    if (!path) return;
    rl_model_file mf;
    rl_error err = {0};
    if (rl_model_file_open(rl_host_default(), path, &mf, &err) || rl_model_file_load_text(&mf, &err)) {
        CHECK(0, "%s: %s", preset, err.msg);
        return;
    }
    const int V = mf.model.n_vocab;
    int32_t tok[64];
    tok[0] = 2;
    for (int i = 1; i < T; i++) tok[i] = 500 + (int32_t)(t_rand_u64() % (uint64_t)(V - 500));
    double *lg = malloc((size_t)T * V * sizeof *lg);
    ref_gemma4_logits(&mf, tok, T, lg);
    double sd_sum = 0, ent_sum = 0, maxabs = 0;
    int echo = 0, distinct = 0, prev = -1;
    for (int t = 0; t < T; t++) {
        const double *r = lg + (size_t)t * V;
        double s = 0, s2 = 0, mx = -1e300, z = 0, ent = 0;
        int am = 0;
        for (int v = 0; v < V; v++) {
            s += r[v], s2 += r[v] * r[v];
            if (r[v] > mx) mx = r[v], am = v;
            if (fabs(r[v]) > maxabs) maxabs = fabs(r[v]);
        }
        for (int v = 0; v < V; v++) z += exp(r[v] - mx);
        for (int v = 0; v < V; v++) {
            double p = exp(r[v] - mx) / z;
            if (p > 0) ent -= p * log(p);
        }
        sd_sum += sqrt(s2 / V - (s / V) * (s / V));
        ent_sum += ent;
        echo += am == tok[t];
        distinct += am != prev;
        prev = am;
    }
    double sd = sd_sum / T, ent = ent_sum / T;
    fprintf(stderr, "    %s: logit std %.2f, max |logit| %.1f, entropy %.2f nats (uniform %.2f), echo %d/%d\n", preset, sd,
            maxabs, ent, log((double)V), echo, T);
    CHECK(sd > 2 && sd < 5, "%s: logit std %.2f is outside 2..5", preset, sd);
    CHECK(maxabs < 25, "%s: logits reach %.1f (softcap 30 saturating)", preset, maxabs);
    CHECK(ent > 0.5 && ent < log((double)V) - 1, "%s: mean entropy %.2f is near one-hot or uniform", preset, ent);
    /* a random tied-embedding model favours its input token; it must not be the rule */
    CHECK(echo <= 6 * T / 10, "%s: the argmax repeats the input token at %d of %d positions", preset, echo, T);
    CHECK(distinct > T / 2, "%s: only %d argmax changes over %d positions", preset, distinct, T);
    free(lg);
    rl_model_file_close(&mf);
}

static void conditioning_tiny(void) { conditioning("tiny", 24); }
static void conditioning_moe(void) { conditioning("tiny-moe", 10); } /* the reference's MoE is slow */
static void conditioning_kv(void) { conditioning("tiny-kv", 24); }

/* ---- --vocab FILE: the tokenizer.* keys of another GGUF, copied verbatim ---- */

static int same_kv(const gguf_kv *x, const gguf_kv *y) {
    if (x->type != y->type || x->elem_type != y->elem_type || x->count != y->count) return 0;
    for (uint64_t i = 0; i < x->count; i++) {
        if (x->elem_type == GGUF_STRING) {
            gguf_str a = gguf_arr_str(x, i), b = gguf_arr_str(y, i);
            if (a.len != b.len || memcmp(a.ptr, b.ptr, a.len)) return 0;
        } else if (gguf_arr_f64(x, i) != gguf_arr_f64(y, i)) {
            return 0;
        }
    }
    return 1;
}

static void vocab_from_gguf(void) {
    char *src = tmp_path("vocab_src.gguf"), *out = tmp_path("vocab_out.gguf");
    static const char *const small[] = {"--vocab-size", "700", "--type", "BF16", NULL};
    if (generate(src, "tiny", small)) return;
    rl_error err = {0};
    gen_config cfg;
    gen_vocab *v = NULL;
    gen_model m;
    if (gen_config_preset(&cfg, "tiny-kv", &err) || gen_vocab_load(rl_host_default(), src, 5, &v, &err) ||
        gen_model_build(&m, &cfg, v, &err)) {
        CHECK(0, "%s", err.msg);
        gen_vocab_free(v);
        return;
    }
    gen_write_opts o = {0};
    CHECK(!gen_write_file(&m, rl_host_default(), out, &o, NULL, &err), "%s", err.msg);
    gen_model_free(&m);
    gen_vocab_free(v);
    gfile a, b;
    if (gopen(src, &a)) return;
    if (gopen(out, &b)) {
        gclose(&a);
        return;
    }
    int n = 0;
    for (uint64_t i = 0; i < a.g->n_kv; i++) {
        const gguf_kv *x = &a.g->kv[i];
        if (strncmp(kstr(x->key), "tokenizer.", 10)) continue;
        n++;
        const gguf_kv *y = gguf_find_kv(b.g, kstr(x->key));
        CHECK(y && same_kv(x, y), "%s was not copied verbatim", kstr(x->key));
    }
    CHECK(n == 14, "%d tokenizer keys in the source", n);
    const gguf_tensor *te = gguf_find_tensor(b.g, "token_embd.weight");
    CHECK(te && te->ne[1] == 700, "token_embd has %llu rows; the vocabulary file has 700 tokens",
          te ? (unsigned long long)te->ne[1] : 0ull);
    check_layout(&b, "tiny-kv with a vocabulary file");
    gclose(&a), gclose(&b);
    /* a file without tokens is refused with a message */
    CHECK(gen_vocab_load(rl_host_default(), "/nonexistent/vocab.gguf", 0, &v, &err) != RL_OK && !strncmp(err.msg, "--vocab", 7),
          "missing vocabulary file: %s", err.msg);
}

/* ---- --layout llamacpp: the same text weights in llama.cpp's converter layout ---- */

/* The documented differences (tools/gen/README.md, "llama.cpp layout"), written
 * out here from llama.cpp's convert_hf_to_gguf.py (Gemma4Model) and gemma4.md
 * §2.9, not from tools/gen/layout.c. */
static int tower_key(const char *k) { return !strncmp(k, "gemma4.vision.", 14) || !strncmp(k, "gemma4.audio.", 13); }
static const char *const only_ollama_keys[] = {"tokenizer.ggml.pre", "tokenizer.ggml.eos_token_ids"};
static const struct {
    const char *key;
    gguf_vtype type;
    double num;      /* numeric value; strings: see str */
    const char *str; /* NULL: any string */
} only_llamacpp_keys[] = {
    {"tokenizer.ggml.add_space_prefix", GGUF_BOOL, 0, NULL},
    {"general.type", GGUF_STRING, 0, "model"},
    {"general.name", GGUF_STRING, 0, NULL},
    {"general.sampling.temp", GGUF_F32, 1.0, NULL},
    {"general.sampling.top_k", GGUF_I32, 64, NULL},
    {"general.sampling.top_p", GGUF_F32, 0.95f, NULL},
};
static const char *const user_defined_tokens[] = {"<|channel>",       "<channel|>",       "<|tool_call>", "<tool_call|>",
                                                  "<|tool_response>", "<tool_response|>", "<|\"|>"};

static int is_tower_tensor(const char *n) { return !strncmp(n, "v.", 2) || !strncmp(n, "a.", 2) || !strncmp(n, "mm.", 3); }

/* "blk.N.<a>" with a replaced by b, or NULL if name does not end in a. */
static const char *renamed(const char *name, const char *a, const char *b) {
    static char buf[128];
    size_t n = strlen(name), k = strlen(a);
    if (n < k || strcmp(name + n - k, a)) return NULL;
    snprintf(buf, sizeof buf, "%.*s%s", (int)(n - k), name, b);
    return buf;
}

static int same_shape_type(const gguf_tensor *x, const gguf_tensor *y) {
    int same = x->type == y->type && x->n_dims == y->n_dims && x->nbytes == y->nbytes;
    for (int d = 0; d < 4; d++) same &= x->ne[d] == y->ne[d];
    return same;
}

static void compare_layouts(const char *preset, const char *const *extra) {
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", t_rand_u64() % 100000);
    const char *o_opts[16] = {"--seed", seed}, *l_opts[16] = {"--seed", seed, "--layout", "llamacpp"};
    int no = 2, nl = 4;
    for (const char *const *e = extra; e && *e && nl < 15; e++) o_opts[no++] = *e, l_opts[nl++] = *e;
    char *po = tmp_path("layout_ollama.gguf"), *pl = tmp_path("layout_llamacpp.gguf");
    if (generate(po, preset, o_opts) || generate(pl, preset, l_opts)) return;
    gfile fo, fl;
    if (gopen(po, &fo)) return;
    if (gopen(pl, &fl)) {
        gclose(&fo);
        return;
    }
    const gguf_file *go = fo.g, *gl = fl.g;
    uint8_t *used = calloc(gl->n_tensors + 1, 1);
    /* tensors: every text tensor of the Ollama file, with the same bytes */
    int n_text = 0, n_fused = 0, n_renamed = 0;
    for (uint64_t i = 0; i < go->n_tensors; i++) {
        const gguf_tensor *t = &go->tensors[i];
        const char *name = kstr(t->name), *r;
        if (is_tower_tensor(name)) continue;
        n_text++;
        if ((r = renamed(name, ".ffn_up_exps.weight", ".ffn_gate_up_exps.weight"))) continue; /* with its gate */
        if ((r = renamed(name, ".ffn_gate_exps.weight", ".ffn_gate_up_exps.weight"))) {
            /* llama/compat's fusion: per expert, the gate rows then the up rows */
            char fused[128];
            snprintf(fused, sizeof fused, "%s", r);
            const gguf_tensor *up = gguf_find_tensor(go, renamed(name, ".ffn_gate_exps.weight", ".ffn_up_exps.weight"));
            const gguf_tensor *f = gguf_find_tensor(gl, fused);
            CHECK(up && f, "%s: %s or its up partner missing", preset, fused);
            if (!up || !f) continue;
            used[f - gl->tensors] = 1;
            n_fused++;
            CHECK(f->type == t->type && f->ne[0] == t->ne[0] && f->ne[1] == 2 * t->ne[1] && f->ne[2] == t->ne[2] &&
                      f->nbytes == 2 * t->nbytes,
                  "%s: %s has the wrong type or shape", preset, fused);
            size_t half = (size_t)(t->nbytes / t->ne[2]);
            for (uint64_t e = 0; e < t->ne[2] && f->nbytes == 2 * t->nbytes; e++) {
                CHECK(!memcmp(tdata(&fl, f) + 2 * e * half, tdata(&fo, t) + e * half, half), "%s: %s expert %llu gate rows differ",
                      preset, fused, (unsigned long long)e);
                CHECK(!memcmp(tdata(&fl, f) + (2 * e + 1) * half, tdata(&fo, up) + e * half, half),
                      "%s: %s expert %llu up rows differ", preset, fused, (unsigned long long)e);
            }
            continue;
        }
        const char *lname = name;
        if ((r = renamed(name, ".ffn_gate_inp.per_expert_scale", ".ffn_down_exps.scale"))) lname = r, n_renamed++;
        const gguf_tensor *u = gguf_find_tensor(gl, lname);
        CHECK(u != NULL, "%s: %s is missing from the llama.cpp layout", preset, lname);
        if (!u) continue;
        used[u - gl->tensors] = 1;
        CHECK(same_shape_type(t, u) && !memcmp(tdata(&fo, t), tdata(&fl, u), (size_t)t->nbytes),
              "%s: %s differs between the layouts", preset, lname);
    }
    for (uint64_t i = 0; i < gl->n_tensors; i++)
        CHECK(used[i], "%s: %s is in the llama.cpp layout only", preset, kstr(gl->tensors[i].name));
    CHECK(n_text > 50, "%s: only %d text tensors", preset, n_text);
    free(used);
    /* keys: the documented differences and nothing else */
    int n_tower_keys = 0;
    for (uint64_t i = 0; i < go->n_kv; i++) {
        const gguf_kv *x = &go->kv[i];
        const char *key = kstr(x->key);
        const gguf_kv *y = gguf_find_kv(gl, key);
        int dropped = tower_key(key);
        for (size_t k = 0; k < sizeof only_ollama_keys / sizeof *only_ollama_keys; k++) dropped |= !strcmp(key, only_ollama_keys[k]);
        n_tower_keys += tower_key(key);
        if (dropped) {
            CHECK(!y, "%s: %s should not be in the llama.cpp layout", preset, key);
        } else if (!strcmp(key, "tokenizer.ggml.model")) {
            gguf_str a = gguf_arr_str(x, 0), b = y ? gguf_arr_str(y, 0) : (gguf_str){"", 0};
            CHECK(a.len == 5 && !memcmp(a.ptr, "llama", 5) && b.len == 6 && !memcmp(b.ptr, "gemma4", 6),
                  "%s: tokenizer.ggml.model is '%.*s' / '%.*s', expected llama / gemma4", preset, (int)a.len, a.ptr, (int)b.len, b.ptr);
        } else if (!strcmp(key, "tokenizer.ggml.token_type")) {
            const gguf_kv *tok = gguf_find_kv(go, "tokenizer.ggml.tokens");
            CHECK(y && tok && y->count == x->count && y->elem_type == x->elem_type, "%s: token_type changed shape", preset);
            int changed = 0;
            for (uint64_t t = 0; y && tok && t < x->count && t < y->count; t++) {
                gguf_str text = gguf_arr_str(tok, t);
                int visible = 0;
                for (size_t v = 0; v < sizeof user_defined_tokens / sizeof *user_defined_tokens; v++)
                    visible |= text.len == strlen(user_defined_tokens[v]) && !memcmp(text.ptr, user_defined_tokens[v], text.len);
                double want = visible ? 4 : gguf_arr_f64(x, t);
                CHECK(gguf_arr_f64(y, t) == want, "%s: token %llu '%.*s' has type %g, expected %g", preset, (unsigned long long)t,
                      (int)text.len, text.ptr, gguf_arr_f64(y, t), want);
                changed += gguf_arr_f64(y, t) != gguf_arr_f64(x, t);
            }
            CHECK(changed == 7, "%s: %d token types changed, expected the 7 USER_DEFINED ones", preset, changed);
        } else {
            CHECK(y && same_kv(x, y), "%s: %s differs between the layouts", preset, key);
        }
    }
    CHECK(n_tower_keys == (!strcmp(preset, "tiny") ? 14 : 8), "%s: %d tower keys in the Ollama layout", preset, n_tower_keys);
    for (uint64_t i = 0; i < gl->n_kv; i++) {
        const gguf_kv *y = &gl->kv[i];
        const char *key = kstr(y->key);
        if (gguf_find_kv(go, key)) continue;
        size_t k = 0, n = sizeof only_llamacpp_keys / sizeof *only_llamacpp_keys;
        while (k < n && strcmp(key, only_llamacpp_keys[k].key)) k++;
        CHECK(k < n, "%s: %s is in the llama.cpp layout only and not documented", preset, key);
        if (k == n) continue;
        CHECK(y->type == only_llamacpp_keys[k].type && y->count == 1, "%s: %s has GGUF type %d", preset, key, (int)y->type);
        if (y->type == GGUF_STRING) {
            gguf_str v = gguf_arr_str(y, 0);
            CHECK(v.len > 0 && (!only_llamacpp_keys[k].str || (v.len == strlen(only_llamacpp_keys[k].str) &&
                                                                 !memcmp(v.ptr, only_llamacpp_keys[k].str, v.len))),
                  "%s: %s = '%.*s'", preset, key, (int)v.len, v.ptr);
        } else {
            CHECK(gguf_arr_f64(y, 0) == only_llamacpp_keys[k].num, "%s: %s = %g", preset, key, gguf_arr_f64(y, 0));
        }
    }
    check_layout(&fl, preset);
    gclose(&fo), gclose(&fl);
    /* our engine reads both naming sets: the two files are one model, bit for bit */
    rl_model_file mo, ml;
    rl_error err = {0};
    if (rl_model_file_open(rl_host_default(), po, &mo, &err) || rl_model_file_load_text(&mo, &err)) {
        CHECK(0, "%s: %s", po, err.msg);
        return;
    }
    if (rl_model_file_open(rl_host_default(), pl, &ml, &err) || rl_model_file_load_text(&ml, &err)) {
        CHECK(0, "%s: %s", pl, err.msg);
        rl_model_file_close(&mo);
        return;
    }
    enum { T = 20 }; /* beyond the window of 16 */
    int32_t tok[T] = {2};
    const int V = mo.model.n_vocab;
    for (int i = 1; i < T; i++) tok[i] = 500 + (int32_t)(t_rand_u64() % (uint64_t)(V - 500));
    float *lo = malloc((size_t)T * V * sizeof *lo), *ll = malloc((size_t)T * V * sizeof *ll);
    rl_cpu *co = NULL, *cl = NULL;
    rl_batch b = {.tokens = tok, .n = T};
    if (rl_cpu_new(&mo, T, &co, &err) || rl_cpu_forward(co, &b, lo, 1, &err) || rl_cpu_new(&ml, T, &cl, &err) ||
        rl_cpu_forward(cl, &b, ll, 1, &err))
        CHECK(0, "%s: forward: %s", preset, err.msg);
    else
        CHECK(!memcmp(lo, ll, (size_t)T * V * sizeof *lo), "%s: the layouts give different logits", preset);
    fprintf(stderr, "    %s (seed %s): %d text tensors (%d fused, %d renamed), %d tower keys dropped\n", preset, seed, n_text,
            n_fused, n_renamed, n_tower_keys);
    rl_cpu_free(co), rl_cpu_free(cl);
    free(lo), free(ll);
    rl_model_file_close(&mo), rl_model_file_close(&ml);
}

static void llamacpp_layout(void) {
    static const char *const moe_split[] = {"--type", "Q8_0", NULL};
    compare_layouts("tiny", NULL);
    compare_layouts("tiny-kv", NULL);
    compare_layouts("tiny-moe", moe_split);
    /* a store needs Ollama's layout */
    rl_error err = {0};
    gen_config cfg;
    char *argv[] = {"gen", "--layout", "lamacpp"};
    CHECK(!gen_config_preset(&cfg, "tiny", &err) && gen_config_apply(&cfg, 3, argv, NULL, &err) == RL_ERR_INVALID &&
              strstr(err.msg, "--layout"),
          "a misspelt --layout is refused: %s", err.msg);
}

/* ---- the fast quantizers (tools/gen/fastquant.c), decoded by src/quant.c ---- */

static void fast_quant(void) {
    static const struct {
        uint32_t type;
        double max_rel_rms; /* per-block RMS error / RMS value, outliers included */
    } types[] = {{RL_TYPE_Q8_0, 0.02}, {RL_TYPE_Q6_K, 0.04}, {RL_TYPE_Q5_0, 0.1}, {RL_TYPE_Q4_K, 0.15}};
    enum { N = 256 * 64 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y), *z = malloc(N * sizeof *z);
    uint8_t *q = malloc(N * 2);
    for (int i = 0; i < N; i++) {
        double scale = pow(10.0, (double)(i / 256 % 7) - 3); /* blocks from 1e-3 to 1e3 */
        x[i] = (float)(t_rand_normal() * scale);
        if (i % 997 == 5) x[i] *= 8; /* outliers */
    }
    for (int i = 256; i < 512; i++) x[i] = 0;       /* an all-zero block */
    for (int i = 512; i < 768; i++) x[i] = 0.125f; /* a constant positive block */
    for (size_t k = 0; k < sizeof types / sizeof *types; k++) {
        const rl_type_info *ti = rl_type_get(types[k].type);
        rl_error err = {0};
        CHECK(!gen_convert(types[k].type, x, q, N, 1, &err), "%s: %s", ti->name, err.msg);
        ti->dequant(q, y, N);
        CHECK(!gen_convert(types[k].type, x, q, N, 0, &err), "%s: %s", ti->name, err.msg);
        ti->dequant(q, z, N);
        double worst = 0, ours = 0, theirs = 0, ref = 0;
        for (int b = 0; b < N / 256; b++) {
            double e2 = 0, f2 = 0, x2 = 0;
            for (int i = 256 * b; i < 256 * (b + 1); i++) {
                e2 += (double)(y[i] - x[i]) * (y[i] - x[i]);
                f2 += (double)(z[i] - x[i]) * (z[i] - x[i]);
                x2 += (double)x[i] * x[i];
            }
            if (x2 > 0) {
                worst = fmax(worst, sqrt(e2 / x2));
                ours += e2 / x2, theirs += f2 / x2, ref += 1;
            } else {
                CHECK(e2 <= 1e-12 * (x2 + 1), "%s: the all-zero block %d decodes with error %g", ti->name, b, e2);
            }
        }
        fprintf(stderr, "    %s: worst block relative RMS error %.4f; mean %.4f (src/quant.c: %.4f)\n", ti->name, worst,
                sqrt(ours / ref), sqrt(theirs / ref));
        CHECK(worst < types[k].max_rel_rms, "%s: relative RMS error %.4f over %.2f", ti->name, worst, types[k].max_rel_rms);
        CHECK(sqrt(ours / ref) < 1.6 * sqrt(theirs / ref), "%s: error %.4f vs src/quant.c %.4f", ti->name, sqrt(ours / ref),
              sqrt(theirs / ref));
    }
    free(x), free(y), free(z), free(q);
}

/* ---- the fake Ollama store, read back with the project's resolver ---- */

static void store(void) {
    char root[512];
    snprintf(root, sizeof root, "%s/store", t_tmp_dir());
    rl_error err = {0};
    gen_config cfg;
    gen_vocab *v = NULL;
    gen_model m;
    if (gen_config_preset(&cfg, "tiny", &err) || gen_parse_type("BF16", &cfg.mix, &cfg.uniform_type, &err) ||
        gen_vocab_load(rl_host_default(), "synthetic", cfg.n_vocab, &v, &err) ||
        gen_model_build(&m, &cfg, v, &err)) {
        CHECK(0, "%s", err.msg);
        gen_vocab_free(v);
        return;
    }
    gen_write_opts o = {0};
    CHECK(!gen_write_store(&m, rl_host_default(), root, "gemma4:tiny", &o, &err), "store: %s", err.msg);
    rl_model_ref ref;
    if (rl_model_resolve(rl_host_default(), root, "gemma4:tiny", &ref, &err)) {
        CHECK(0, "resolve: %s", err.msg);
    } else {
        size_t len = 0;
        uint8_t *blob = slurp(ref.model_path, &len);
        char hex[65];
        if (blob) rl_sha256_hex(blob, len, hex);
        CHECK(blob && len == m.file_bytes && ref.model_size == len, "model blob size");
        CHECK(blob && ref.model_digest && !strcmp(ref.model_digest + 7, hex), "model digest %s, content %s",
              ref.model_digest ? ref.model_digest : "-", blob ? hex : "-");
        CHECK(blob && len > 4 && !memcmp(blob, "GGUF", 4), "model blob is not a GGUF");
        CHECK(ref.renderer && !strcmp(ref.renderer, "gemma4") && ref.parser && !strcmp(ref.parser, "gemma4"), "renderer/parser");
        CHECK(ref.model_family && !strcmp(ref.model_family, "gemma4"), "model_family");
        CHECK(ref.file_type && !strcmp(ref.file_type, "BF16"), "file_type %s", ref.file_type ? ref.file_type : "-");
        CHECK(ref.params_json && strstr(ref.params_json, "\"stop\":[\"<turn|>\"]"), "params %s",
              ref.params_json ? ref.params_json : "-");
        CHECK(ref.template_text && ref.license_text, "template and license layers");
        CHECK(ref.config_json && strstr(ref.config_json, "\"model_format\":\"gguf\"") &&
                  strstr(ref.config_json, "\"diff_ids\":[\"sha256:"),
              "config %s", ref.config_json ? ref.config_json : "-");
        free(blob);
        rl_model_ref_free(&ref);
    }
    /* every blob's name is the SHA-256 of its content; no temporary file is left */
    char cmd[700];
    snprintf(cmd, sizeof cmd, "cd '%s/blobs' && ls | wc -l && for f in sha256-*; do echo \"${f#sha256-}  $f\"; done | sha256sum -c --quiet && echo verified", root);
    FILE *p = popen(cmd, "r");
    char line[256] = "", last[256] = "";
    int count = -1;
    if (p && fgets(line, sizeof line, p)) count = atoi(line);
    while (p && fgets(line, sizeof line, p)) snprintf(last, sizeof last, "%s", line);
    if (p) pclose(p);
    CHECK(count == 5, "%d files in blobs/, want 5 (model, template, license, params, config)", count);
    CHECK(!strncmp(last, "verified", 8), "sha256sum disagrees with a blob name: %s", last);
    gen_model_free(&m);
    gen_vocab_free(v);
}

/* ---- against the external fixture (written by someone else's writer) ---- */

static void fixture_structure(void) {
    const char *fx = t_fixtures_dir();
    if (!fx) {
        fprintf(stderr, "    no fixtures: skipped\n");
        return;
    }
    char fixture[4096];
    snprintf(fixture, sizeof fixture, "%s/gemma4-tiny/model.gguf", fx);
    /* the fixture leaves out the unused K/V of shared layers (our default keeps them, like the
       original checkpoints) and has 64 vision positions (we keep 256) */
    static const char *const like[] = {"--shared-kv-tensors", "0", "--vision-positions", "64", NULL};
    const char *path = cached("tiny", like);
    gfile a, b;
    if (!path || gopen(fixture, &a)) return;
    if (gopen(path, &b)) {
        gclose(&a);
        return;
    }
    CHECK(a.g->n_kv == b.g->n_kv, "fixture has %llu keys, ours %llu", (unsigned long long)a.g->n_kv,
          (unsigned long long)b.g->n_kv);
    for (uint64_t i = 0; i < a.g->n_kv && i < b.g->n_kv; i++) {
        const gguf_kv *x = &a.g->kv[i], *y = &b.g->kv[i];
        CHECK(x->key.len == y->key.len && !memcmp(x->key.ptr, y->key.ptr, x->key.len), "key %llu: fixture %s, ours %s",
              (unsigned long long)i, kstr(x->key), kstr(y->key));
        CHECK(x->type == y->type && x->elem_type == y->elem_type, "%s: fixture %s/%s, ours %s/%s", kstr(x->key),
              gguf_vtype_name(x->type), gguf_vtype_name(x->elem_type), gguf_vtype_name(y->type),
              gguf_vtype_name(y->elem_type));
        int vocab = !strncmp(kstr(x->key), "tokenizer.ggml.", 15);
        if (!vocab && x->type != GGUF_STRING && x->type == y->type && x->count == y->count && x->elem_type != GGUF_STRING) {
            int same = 1;
            for (uint64_t k = 0; k < x->count; k++) same &= gguf_arr_f64(x, k) == gguf_arr_f64(y, k);
            CHECK(same, "%s: values differ from the fixture", kstr(x->key));
        }
    }
    CHECK(a.g->n_tensors == b.g->n_tensors, "fixture has %llu tensors, ours %llu", (unsigned long long)a.g->n_tensors,
          (unsigned long long)b.g->n_tensors);
    for (uint64_t i = 0; i < a.g->n_tensors && i < b.g->n_tensors; i++) {
        const gguf_tensor *x = &a.g->tensors[i], *y = &b.g->tensors[i];
        int same = x->name.len == y->name.len && !memcmp(x->name.ptr, y->name.ptr, x->name.len) && x->n_dims == y->n_dims &&
                   x->type == y->type;
        for (int d = 0; d < 4; d++) same &= x->ne[d] == y->ne[d];
        CHECK(same, "tensor %llu: fixture %s %s, ours %s %s", (unsigned long long)i, kstr(x->name),
              rl_type_get(x->type)->name, kstr(y->name), rl_type_get(y->type)->name);
        CHECK(x->offset - a.g->tensors[0].offset == y->offset - b.g->tensors[0].offset, "%s: offset differs", kstr(x->name));
    }
    gclose(&a), gclose(&b);
}

const t_case T_CASES[] = {
    {"tiny_structure", tiny_structure},
    {"tiny_moe_structure", tiny_moe_structure},
    {"tiny_kv_structure", tiny_kv_structure},
    {"values", values},
    {"determinism", determinism},
    {"fast_quant", fast_quant},
    {"vocab_from_gguf", vocab_from_gguf},
    {"llamacpp_layout", llamacpp_layout},
    {"conditioning_tiny", conditioning_tiny},
    {"conditioning_moe", conditioning_moe},
    {"conditioning_kv", conditioning_kv},
    {"store", store},
    {"fixture_structure", fixture_structure},
    {0},
};
