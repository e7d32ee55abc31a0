/* Presets and command-line overrides. One table row per option; presets are
 * rows of values (gemma4.md §3.1 for e2b/e4b; tiny ones modeled on the external
 * fixture's shape, scaled down). */
#include "gen.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "quant.h"

/* Weight scales shared by every preset (see README.md in this folder). */
static void default_scales(gen_config *c) {
    c->embd_rms = 3.5f;
    c->norm_noise = 0.1f;
    c->post_norm = 1.0f;
    c->layer_scale = 0.0f; /* auto: 0.03^(1/L) */
    c->attn_logit_std = 2.0f;
    c->linear_gain = 1.0f;
    c->clamp_base = 4.0f;
}

static void text_common(gen_config *c) {
    c->seed = 1;
    c->rope_base = 1e6f;
    c->rope_base_swa = 1e4f;
    c->partial_rotary = 0.25f;
    c->softcap = 30.0f;
    c->eps = 1e-6f;
    c->mix = GEN_MIX_Q4_K_M;
    c->uniform_type = RL_TYPE_Q4_K;
    c->shared_kv_tensors = 1;
    c->v_patch = 16;
    c->v_channels = 3;
    c->v_pool = 3;
    c->v_eps = 1e-6f;
    c->a_kernel = 5;
    c->a_mel = 128;
    c->a_eps = 1e-6f;
    default_scales(c);
}

/* E2B/E4B vision ("small": clipped linears) and audio towers at full size. */
static void small_towers(gen_config *c) {
    c->v_layers = 16, c->v_embd = 768, c->v_heads = 12, c->v_ff = 3072, c->v_positions = 10240;
    c->v_clamp = 1, c->v_std = 0, c->v_out_scale = 1;
    c->a_layers = 12, c->a_embd = 1024, c->a_heads = 8, c->a_ff = 4096;
    c->a_conv0 = 128, c->a_conv1 = 32, c->a_out = 1536;
}

static void preset_tiny(gen_config *c) {
    text_common(c);
    c->n_vocab = 1024, c->n_embd = 256, c->n_layer = 6, c->n_head = 4, c->n_kv_swa = 1, c->n_kv_full = 1;
    c->hd_swa = 64, c->hd_full = 128, c->n_ff = 512, c->window = 16, c->full_every = 3, c->n_shared = 3;
    c->n_ple = 256, c->n_ctx = 32768, c->double_wide = 1;
    c->v_layers = 2, c->v_embd = 64, c->v_heads = 2, c->v_ff = 128, c->v_positions = 256;
    c->v_clamp = 1, c->v_std = 1, c->v_out_scale = 1; /* std too: every feature once */
    c->a_layers = 2, c->a_embd = 64, c->a_heads = 2, c->a_ff = 256;
    c->a_conv0 = 8, c->a_conv1 = 4, c->a_out = 256;
}

/* 26B-A4B style: MoE with a dense shared expert, K=V full layers with fewer KV
 * heads, no PLE, no audio, "large" vision (standardize, no clamps). Widths are
 * chosen so ne0 % 256 != 0 triggers the same fallbacks as the real 2112/704. */
static void preset_tiny_moe(gen_config *c) {
    text_common(c);
    c->n_vocab = 1024, c->n_embd = 256, c->n_layer = 6, c->n_head = 4, c->n_kv_swa = 2, c->n_kv_full = 1;
    c->hd_swa = 64, c->hd_full = 128, c->n_ff = 320, c->window = 16, c->full_every = 6, c->n_ctx = 32768;
    c->k_eq_v = 1;
    c->n_expert = 16, c->n_expert_used = 4, c->n_ff_expert = 96;
    c->v_layers = 2, c->v_embd = 72, c->v_heads = 2, c->v_ff = 144, c->v_positions = 256;
    c->v_std = 1, c->v_out_scale = 1;
}

/* 31B style: dense, K=V full layers, per-layer KV heads, no PLE, no audio. */
static void preset_tiny_kv(gen_config *c) {
    text_common(c);
    c->n_vocab = 1024, c->n_embd = 256, c->n_layer = 6, c->n_head = 4, c->n_kv_swa = 2, c->n_kv_full = 1;
    c->hd_swa = 64, c->hd_full = 128, c->n_ff = 512, c->window = 16, c->full_every = 6, c->n_ctx = 32768;
    c->k_eq_v = 1;
    c->v_layers = 2, c->v_embd = 72, c->v_heads = 2, c->v_ff = 144, c->v_positions = 256;
    c->v_std = 1, c->v_out_scale = 1;
}

static void preset_e2b(gen_config *c) {
    text_common(c);
    c->n_vocab = 262144, c->n_embd = 1536, c->n_layer = 35, c->n_head = 8, c->n_kv_swa = 1, c->n_kv_full = 1;
    c->hd_swa = 256, c->hd_full = 512, c->n_ff = 6144, c->window = 512, c->full_every = 5, c->n_shared = 20;
    c->n_ple = 256, c->n_ctx = 131072, c->double_wide = 1;
    small_towers(c);
}

static void preset_e4b(gen_config *c) {
    text_common(c);
    c->n_vocab = 262144, c->n_embd = 2560, c->n_layer = 42, c->n_head = 8, c->n_kv_swa = 2, c->n_kv_full = 2;
    c->hd_swa = 256, c->hd_full = 512, c->n_ff = 10240, c->window = 512, c->full_every = 6, c->n_shared = 18;
    c->n_ple = 256, c->n_ctx = 131072;
    small_towers(c);
}

static const struct {
    const char *name;
    void (*fill)(gen_config *);
} presets[] = {
    {"tiny", preset_tiny}, {"tiny-moe", preset_tiny_moe}, {"tiny-kv", preset_tiny_kv},
    {"e2b", preset_e2b},   {"e4b", preset_e4b},
};

rl_status gen_config_preset(gen_config *cfg, const char *preset, rl_error *err) {
    for (size_t i = 0; i < sizeof presets / sizeof *presets; i++)
        if (!strcmp(preset, presets[i].name)) {
            memset(cfg, 0, sizeof *cfg);
            presets[i].fill(cfg);
            strncpy(cfg->preset, preset, sizeof cfg->preset - 1);
            return RL_OK;
        }
    return rl_fail(err, RL_ERR_INVALID, "unknown preset '%s' (tiny, tiny-moe, tiny-kv, e2b, e4b)", preset);
}

/* ---- option table ---- */

typedef enum { OPT_U32, OPT_U64, OPT_F32, OPT_TYPE, OPT_LAYOUT } opt_kind;

static const struct {
    const char *name;
    opt_kind kind;
    size_t off;
    const char *help;
} options[] = {
#define O(n, k, f, h) {n, k, offsetof(gen_config, f), h}
    O("--seed", OPT_U64, seed, "random seed (values derive from seed and tensor name)"),
    O("--layout", OPT_LAYOUT, layout, "ollama (default: Ollama's blob, towers included) or llamacpp (llama.cpp's converter: text only)"),
    O("--type", OPT_TYPE, mix, "Q4_K_M (Ollama's mix, default) or one type for the quantizable set: F32 F16 BF16 Q8_0 Q4_K Q6_K ..."),
    O("--vocab-size", OPT_U32, n_vocab, "tokens in the synthetic vocabulary"),
    O("--embd", OPT_U32, n_embd, "hidden size D"),
    O("--layers", OPT_U32, n_layer, "text layers L"),
    O("--heads", OPT_U32, n_head, "query heads"),
    O("--kv-heads", OPT_U32, n_kv_swa, "KV heads of sliding layers"),
    O("--kv-heads-full", OPT_U32, n_kv_full, "KV heads of full layers (array key when different)"),
    O("--head-dim", OPT_U32, hd_swa, "head dim of sliding layers"),
    O("--head-dim-full", OPT_U32, hd_full, "head dim of full layers"),
    O("--ffn", OPT_U32, n_ff, "dense MLP width"),
    O("--window", OPT_U32, window, "sliding window W"),
    O("--full-every", OPT_U32, full_every, "layer i is full when i % N == N-1 (the last layer is always full)"),
    O("--shared-kv", OPT_U32, n_shared, "KV-shared layers at the end"),
    O("--ple", OPT_U32, n_ple, "per-layer embedding size (0 = none)"),
    O("--ctx", OPT_U32, n_ctx, "context_length"),
    O("--double-wide", OPT_U32, double_wide, "1: KV-shared layers have a 2x MLP"),
    O("--k-eq-v", OPT_U32, k_eq_v, "1: full layers have no attn_v"),
    O("--experts", OPT_U32, n_expert, "MoE experts (0 = dense)"),
    O("--experts-used", OPT_U32, n_expert_used, "MoE top-k"),
    O("--expert-ffn", OPT_U32, n_ff_expert, "expert MLP width"),
    O("--moe-fused", OPT_U32, moe_fused, "1: ffn_gate_up_exps + ffn_down_exps.scale (llama.cpp form)"),
    O("--vision-layers", OPT_U32, v_layers, "vision blocks (0 = no vision tower)"),
    O("--vision-embd", OPT_U32, v_embd, "vision hidden size"),
    O("--vision-heads", OPT_U32, v_heads, "vision heads"),
    O("--vision-ffn", OPT_U32, v_ff, "vision MLP width"),
    O("--vision-positions", OPT_U32, v_positions, "rows of each position table"),
    O("--vision-clamp", OPT_U32, v_clamp, "1: clamp scalars + v.clamp_data (small models)"),
    O("--vision-std", OPT_U32, v_std, "1: v.std_bias/v.std_scale (large models)"),
    O("--vision-out-scale", OPT_U32, v_out_scale, "1: v.blk.N.out_scale.weight"),
    O("--audio-layers", OPT_U32, a_layers, "conformer blocks (0 = no audio tower)"),
    O("--audio-embd", OPT_U32, a_embd, "audio hidden size"),
    O("--audio-heads", OPT_U32, a_heads, "audio heads"),
    O("--audio-ffn", OPT_U32, a_ff, "audio MLP width"),
    O("--audio-out", OPT_U32, a_out, "audio output projection size"),
    O("--shared-kv-tensors", OPT_U32, shared_kv_tensors, "1: attn_k/attn_k_norm/attn_v also on KV-shared layers (default 1)"),
    O("--exact-quant", OPT_U32, exact_quant, "1: quantize with src/quant.c's error-minimising fits (~20x slower)"),
    O("--param-count-key", OPT_U32, param_count_key, "1: also write general.parameter_count"),
    O("--scale-embd", OPT_F32, embd_rms, "RMS of sqrt(D)*token_embd rows = logit std (3.5)"),
    O("--scale-norm-noise", OPT_F32, norm_noise, "relative std of norm weights (0.1)"),
    O("--scale-post-norm", OPT_F32, post_norm, "mean of post-norm weights: residual update size (1.0)"),
    O("--scale-layer", OPT_F32, layer_scale, "mean layer_output_scale (0 = auto: 0.03^(1/layers))"),
    O("--scale-attn", OPT_F32, attn_logit_std, "target std of attention logits (2.0)"),
    O("--scale-linear", OPT_F32, linear_gain, "linear weights N(0, g^2/fan_in) (1.0)"),
    O("--scale-clamp", OPT_F32, clamp_base, "clamp bounds +-(b + U(0,b/2)) (4.0)"),
#undef O
};

rl_status gen_config_apply(gen_config *cfg, int argc, char **argv, const char *const *pass_through, rl_error *err) {
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || arg[1] != '-') return rl_fail(err, RL_ERR_INVALID, "unexpected argument '%s'", arg);
        size_t len = strcspn(arg, "=");
        const char *val = arg[len] == '=' ? arg + len + 1 : NULL;
        int passed = 0;
        for (const char *const *p = pass_through; p && *p; p++)
            if (strlen(*p) == len && !strncmp(*p, arg, len)) passed = 1;
        size_t k = 0, n_opt = sizeof options / sizeof *options;
        while (k < n_opt && !(strlen(options[k].name) == len && !strncmp(options[k].name, arg, len))) k++;
        if (k == n_opt && !passed) return rl_fail(err, RL_ERR_INVALID, "unknown option '%.*s' (see --help)", (int)len, arg);
        if (!val) {
            if (i + 1 >= argc) return rl_fail(err, RL_ERR_INVALID, "option %s needs a value", arg);
            val = argv[++i];
        }
        if (k == n_opt) continue;
        char *end = NULL;
        void *field = (char *)cfg + options[k].off;
        switch (options[k].kind) {
        case OPT_U32:
        case OPT_U64: {
            unsigned long long v = strtoull(val, &end, 0);
            if (!*val || *end || val[0] == '-' || (options[k].kind == OPT_U32 && v > 0xffffffffull))
                return rl_fail(err, RL_ERR_INVALID, "%s: '%s' is not a valid unsigned integer", options[k].name, val);
            if (options[k].kind == OPT_U32) *(uint32_t *)field = (uint32_t)v;
            else *(uint64_t *)field = v;
            break;
        }
        case OPT_F32: {
            double v = strtod(val, &end);
            if (!*val || *end || !(v >= 0 && v < 1e6))
                return rl_fail(err, RL_ERR_INVALID, "%s: '%s' is not a valid non-negative number", options[k].name, val);
            *(float *)field = (float)v;
            break;
        }
        case OPT_TYPE: {
            rl_status st = gen_parse_type(val, &cfg->mix, &cfg->uniform_type, err);
            if (st) return st;
            break;
        }
        case OPT_LAYOUT:
            if (!strcmp(val, "ollama")) cfg->layout = GEN_LAYOUT_OLLAMA;
            else if (!strcmp(val, "llamacpp")) cfg->layout = GEN_LAYOUT_LLAMACPP;
            else return rl_fail(err, RL_ERR_INVALID, "--layout '%s': expected ollama or llamacpp", val);
            break;
        }
    }
    return RL_OK;
}

void gen_config_usage(rl_host *h, int stream) {
    for (size_t k = 0; k < sizeof options / sizeof *options; k++)
        rl_printf(h, stream, "  %-22s %s\n", options[k].name, options[k].help);
}

/* ---- layer geometry ---- */

int gen_layer_is_swa(const gen_config *c, uint32_t i) {
    if (i + 1 == c->n_layer) return 0; /* HF forces the last layer to be full */
    return c->full_every == 0 || i % c->full_every != c->full_every - 1;
}
int gen_layer_is_shared(const gen_config *c, uint32_t i) { return i >= c->n_layer - c->n_shared; }
uint32_t gen_layer_ff(const gen_config *c, uint32_t i) {
    return c->double_wide && gen_layer_is_shared(c, i) ? 2 * c->n_ff : c->n_ff;
}
uint32_t gen_layer_kv(const gen_config *c, uint32_t i) { return gen_layer_is_swa(c, i) ? c->n_kv_swa : c->n_kv_full; }
uint32_t gen_layer_hd(const gen_config *c, uint32_t i) { return gen_layer_is_swa(c, i) ? c->hd_swa : c->hd_full; }

rl_status gen_config_validate(const gen_config *c, rl_error *err) {
#define NEED(cond, ...) \
    do {                \
        if (!(cond)) return rl_fail(err, RL_ERR_INVALID, __VA_ARGS__); \
    } while (0)
    NEED(c->n_layer >= 1 && c->n_layer <= 1024, "--layers must be 1..1024 (got %u)", c->n_layer);
    NEED(c->n_embd >= 1 && c->n_head >= 1 && c->n_ff >= 1, "--embd, --heads and --ffn must be positive");
    NEED(c->n_vocab >= 8, "the vocabulary needs at least 8 tokens (got %u)", c->n_vocab);
    NEED(c->n_kv_swa >= 1 && c->n_kv_full >= 1, "KV head counts must be positive");
    NEED(c->n_head % c->n_kv_swa == 0 && c->n_head % c->n_kv_full == 0,
         "--heads (%u) must be a multiple of the KV head counts (%u, %u)", c->n_head, c->n_kv_swa, c->n_kv_full);
    NEED(c->hd_swa >= 2 && c->hd_swa % 2 == 0 && c->hd_full >= 2 && c->hd_full % 2 == 0, "head dims must be even");
    NEED(c->n_shared < c->n_layer, "--shared-kv (%u) must be below --layers (%u)", c->n_shared, c->n_layer);
    if (c->n_shared) {
        /* every shared layer needs a donor: an earlier non-shared layer of its type */
        uint32_t first = c->n_layer - c->n_shared;
        int have_swa = 0, have_full = 0;
        for (uint32_t i = 0; i < first; i++) gen_layer_is_swa(c, i) ? (have_swa = 1) : (have_full = 1);
        for (uint32_t i = first; i < c->n_layer; i++)
            NEED(gen_layer_is_swa(c, i) ? have_swa : have_full,
                 "KV-shared layer %u has no earlier non-shared layer of its type to share with", i);
    }
    NEED(!c->n_expert || (c->n_expert_used >= 1 && c->n_expert_used <= c->n_expert && c->n_ff_expert >= 1),
         "MoE needs 1 <= --experts-used <= --experts and --expert-ffn > 0");
    NEED(c->partial_rotary > 0 && c->partial_rotary <= 1, "partial rotary factor must be in (0, 1]");
    if (c->v_layers) {
        NEED(c->v_heads >= 1 && c->v_embd % c->v_heads == 0, "--vision-embd must be a multiple of --vision-heads");
        NEED((c->v_embd / c->v_heads) % 4 == 0, "the vision head dim must be a multiple of 4 (2D RoPE)");
        NEED(c->v_ff >= 1 && c->v_positions >= 1, "--vision-ffn and --vision-positions must be positive");
    }
    if (c->a_layers) {
        NEED(c->a_heads >= 1 && c->a_embd % c->a_heads == 0, "--audio-embd must be a multiple of --audio-heads");
        NEED(c->a_ff >= 1 && c->a_out >= 1 && c->a_conv0 >= 1 && c->a_conv1 >= 1, "audio sizes must be positive");
        NEED(c->a_mel % 4 == 0, "mel bins must be a multiple of 4");
    }
    NEED(c->embd_rms > 0 && c->linear_gain > 0 && c->attn_logit_std > 0, "scales must be positive");
#undef NEED
    return RL_OK;
}
