/* Storage types (gemma4.md §2.5): the converter's base type of each tensor,
 * then Ollama's quantizer (server/quantization.go before 9db4bdbad, a port of
 * llama.cpp's rules) for the quantizable set. */
#include "gen.h"

#include <string.h>

#include "quant.h"

static int has(const char *s, const char *sub) { return strstr(s, sub) != NULL; }
static int starts(const char *s, const char *p) { return !strncmp(s, p, strlen(p)); }
static int ends(const char *s, const char *suf) {
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && !strcmp(s + n - m, suf);
}

/* Converter (convert/reader*.go, convert_gemma4.go): F32 for 1-D tensors and the
 * named exceptions, F16 for 2-D+ vision/projector tensors, BF16 for the rest. */
static uint32_t base_type(const gen_tensor *t) {
    const char *n = t->name;
    if (t->n_dims == 1 || ends(n, ".bias") || has(n, "ffn_gate_inp.weight") || starts(n, "a.conv1d.") ||
        has(n, ".conv_dw.") || !strcmp(n, "v.position_embd.weight"))
        return RL_TYPE_F32;
    if (starts(n, "v.") || has(n, "mm.")) return RL_TYPE_F16;
    return RL_TYPE_BF16;
}

/* newType()'s filter: which tensors the quantizer touches at all. */
static int quantizable(const gen_tensor *t) {
    const char *n = t->name;
    return ends(n, "weight") && !starts(n, "v.") && !starts(n, "a.") && !has(n, "mm.") && t->n_dims >= 2 &&
           !has(n, "_norm.weight") && !has(n, "ffn_gate_inp.weight") && !has(n, "per_layer_token_embd.weight");
}

static int use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

static uint32_t block_of(uint32_t type) {
    const rl_type_info *ti = rl_type_get(type);
    return ti ? ti->block_size : 1;
}

/* ne0 % block != 0 fallbacks, as in getTensorNewType's "finalize" step. */
static uint32_t fallback(uint32_t type, uint64_t ne0) {
    if (block_of(type) == 1 || ne0 % block_of(type) == 0) return type;
    switch (type) {
    case RL_TYPE_Q4_K: type = RL_TYPE_Q5_0; break;
    case RL_TYPE_Q5_K: type = RL_TYPE_Q5_1; break;
    case RL_TYPE_Q6_K: type = RL_TYPE_Q8_0; break;
    default: break;
    }
    return ne0 % block_of(type) ? RL_TYPE_F16 : type;
}

typedef struct {
    int n_attn_v, i_attn_v, i_ffn_down, n_layer, n_expert, q4km;
} quant_state;

/* getTensorNewType for the Q4_K_M mix (default type Q4_K). With a Q8_0 default
 * (Ollama's -q8_0 tags) its rules change nothing, so uniform types skip it. */
static uint32_t ollama_type(quant_state *qs, const gen_tensor *t, uint32_t type) {
    const char *n = t->name;
    if (!strcmp(n, "token_embd.weight")) { /* tied output: no output.weight in gemma4 */
        if (t->ne[0] % block_of(type)) type = RL_TYPE_Q8_0;
        else if (type != RL_TYPE_Q8_0) type = RL_TYPE_Q6_K;
    } else if (has(n, "attn_v.weight")) {
        if (type != RL_TYPE_Q8_0 && qs->q4km && use_more_bits(qs->i_attn_v, qs->n_attn_v)) type = RL_TYPE_Q6_K;
        if (qs->n_expert == 8) type = RL_TYPE_Q8_0;
        qs->i_attn_v++;
    } else if (has(n, "attn_k.weight")) {
        if (qs->n_expert == 8) type = RL_TYPE_Q8_0;
    } else if (has(n, "ffn_down")) {
        /* the dense ffn_down sorts before ffn_down_exps and advances the counter */
        int i_layer = has(n, "_exps") ? (qs->i_ffn_down > 0 ? qs->i_ffn_down - 1 : 0) : qs->i_ffn_down++;
        if (type != RL_TYPE_Q8_0 && qs->q4km && use_more_bits(i_layer, qs->n_layer)) type = RL_TYPE_Q6_K;
    } else if (has(n, "attn_output.weight")) {
        if (type != RL_TYPE_Q8_0 && qs->n_expert == 8 && qs->q4km) type = RL_TYPE_Q5_K;
    }
    return fallback(type, t->ne[0]);
}

rl_status gen_assign_types(gen_model *m, rl_error *err) {
    const gen_config *c = &m->cfg;
    quant_state qs = {0};
    qs.n_layer = (int)c->n_layer;
    qs.n_expert = (int)c->n_expert;
    qs.q4km = c->mix == GEN_MIX_Q4_K_M;
    /* n counts every tensor named *attn_v.weight, vision and audio ones included */
    for (size_t i = 0; i < m->n_t; i++) qs.n_attn_v += has(m->t[i].name, "attn_v.weight");
    uint32_t deflt = qs.q4km ? RL_TYPE_Q4_K : c->uniform_type;
    for (size_t i = 0; i < m->n_t; i++) { /* file order: the counters depend on it */
        gen_tensor *t = &m->t[i];
        t->type = base_type(t);
        if (quantizable(t)) t->type = qs.q4km ? ollama_type(&qs, t, deflt) : fallback(deflt, t->ne[0]);
        if (!rl_type_get(t->type))
            return rl_fail(err, RL_ERR_UNSUPPORTED, "%s: ggml type %u is unknown", t->name, t->type);
    }
    return RL_OK;
}

/* ---- file types (llama_ftype numbers, as Ollama's FileType enum) ---- */

static const struct {
    uint32_t type, ftype;
    const char *name;
} ftypes[] = {
    {RL_TYPE_F32, 0, "F32"},     {RL_TYPE_F16, 1, "F16"},     {RL_TYPE_Q4_0, 2, "Q4_0"},
    {RL_TYPE_Q4_1, 3, "Q4_1"},   {RL_TYPE_Q8_0, 7, "Q8_0"},   {RL_TYPE_Q5_0, 8, "Q5_0"},
    {RL_TYPE_Q5_1, 9, "Q5_1"},   {RL_TYPE_Q2_K, 10, "Q2_K"},  {RL_TYPE_Q3_K, 11, "Q3_K_S"},
    {RL_TYPE_Q4_K, 14, "Q4_K_S"}, {RL_TYPE_Q5_K, 16, "Q5_K_S"}, {RL_TYPE_Q6_K, 18, "Q6_K"},
    {RL_TYPE_BF16, 32, "BF16"},
};

uint32_t gen_file_type(const gen_config *c) {
    if (c->mix == GEN_MIX_Q4_K_M) return 15;
    for (size_t i = 0; i < sizeof ftypes / sizeof *ftypes; i++)
        if (ftypes[i].type == c->uniform_type) return ftypes[i].ftype;
    return 1024; /* FileTypeUnknown */
}

const char *gen_file_type_name(const gen_config *c) {
    if (c->mix == GEN_MIX_Q4_K_M) return "Q4_K_M";
    for (size_t i = 0; i < sizeof ftypes / sizeof *ftypes; i++)
        if (ftypes[i].type == c->uniform_type) return ftypes[i].name;
    return "unknown";
}

rl_status gen_parse_type(const char *s, gen_mix *mix, uint32_t *type, rl_error *err) {
    if (!strcmp(s, "Q4_K_M")) {
        *mix = GEN_MIX_Q4_K_M;
        return RL_OK;
    }
    for (size_t i = 0; i < sizeof ftypes / sizeof *ftypes; i++) {
        const rl_type_info *ti = rl_type_get(ftypes[i].type);
        if (ti && !strcmp(s, ti->name)) {
            *mix = GEN_MIX_UNIFORM;
            *type = ftypes[i].type;
            return RL_OK;
        }
    }
    return rl_fail(err, RL_ERR_INVALID,
                   "--type '%s': expected Q4_K_M or one of F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K Q4_K Q5_K Q6_K", s);
}
