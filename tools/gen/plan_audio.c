/* Audio conformer tower and its projectors (gemma4.md §2.8, Ollama names). */
#include <stdio.h>

#include "plan.h"

static int ablk(gen_model *m, uint32_t i, const char *name, gen_init init, uint64_t d0, uint64_t d1) {
    char full[GEN_NAME_MAX];
    snprintf(full, sizeof full, "a.blk.%u.%s", i, name);
    return gen_add(m, full, init, d0, d1, 0, 0);
}

static int aclamps(gen_model *m, uint32_t i, const char *lin) {
    char base[GEN_NAME_MAX];
    snprintf(base, sizeof base, "a.blk.%u.%s", i, lin);
    return gen_add_clamps(m, base);
}

int gen_plan_audio(gen_model *m) {
    const gen_config *c = &m->cfg;
    if (!c->a_layers) return 1;
    uint64_t Da = c->a_embd, Fa = c->a_ff, ha = c->a_embd / c->a_heads, K = c->a_kernel;
    gen_init post = init_norm_at(c, c->post_norm);
    int ok = 1;
    for (uint32_t i = 0; i < c->a_layers; i++) {
        static const char *const ffn[2][4] = {{"ffn_norm.weight", "ffn_up", "ffn_down", "ffn_post_norm.weight"},
                                              {"ffn_norm_1.weight", "ffn_up_1", "ffn_down_1", "ffn_post_norm_1.weight"}};
        for (int f = 0; f < 2; f++) {
            char up[32], down[32];
            snprintf(up, sizeof up, "%s.weight", ffn[f][1]);
            snprintf(down, sizeof down, "%s.weight", ffn[f][2]);
            ok &= ablk(m, i, ffn[f][0], init_norm(c), Da, 0);
            ok &= ablk(m, i, up, init_linear(c, Da), Da, Fa);
            ok &= ablk(m, i, down, init_linear(c, Fa), Fa, Da);
            ok &= ablk(m, i, ffn[f][3], post, Da, 0);
            ok &= aclamps(m, i, ffn[f][1]) && aclamps(m, i, ffn[f][2]);
        }
        static const char *const attn[4] = {"attn_q", "attn_k", "attn_v", "attn_out"};
        for (int k = 0; k < 4; k++) {
            char w[32];
            snprintf(w, sizeof w, "%s.weight", attn[k]);
            ok &= ablk(m, i, w, init_linear(c, Da), Da, Da) && aclamps(m, i, attn[k]);
        }
        ok &= ablk(m, i, "ln1.weight", init_norm(c), Da, 0);
        ok &= ablk(m, i, "ln2.weight", post, Da, 0);
        ok &= ablk(m, i, "linear_pos.weight", init_linear(c, Da), Da, Da);
        /* stored after softplus, so positive; multiplies q per dim */
        ok &= ablk(m, i, "per_dim_scale.weight", init_norm(c), ha, 0);
        ok &= ablk(m, i, "conv_norm.weight", init_norm(c), Da, 0);
        ok &= ablk(m, i, "conv_pw1.weight", init_linear(c, Da), Da, 2 * Da) && aclamps(m, i, "conv_pw1");
        ok &= ablk(m, i, "conv_dw.weight", init_linear(c, K), K, Da);
        ok &= ablk(m, i, "norm_conv.weight", init_norm(c), Da, 0);
        ok &= ablk(m, i, "conv_pw2.weight", init_linear(c, Da), Da, Da) && aclamps(m, i, "conv_pw2");
        ok &= ablk(m, i, "layer_pre_norm.weight", init_norm(c), Da, 0);
    }
    /* sub-sample convs: 3x3, 1 -> conv0 -> conv1 channels, each followed by a LayerNorm */
    uint64_t c0 = c->a_conv0, c1 = c->a_conv1;
    ok &= gen_add(m, "a.conv1d.0.weight", init_linear(c, 9), 3, 3, 1, c0);
    ok &= gen_add(m, "a.conv1d.0.norm.weight", init_norm(c), c0, 0, 0, 0);
    ok &= gen_add(m, "a.conv1d.1.weight", init_linear(c, 9 * c0), 3, 3, c0, c1);
    ok &= gen_add(m, "a.conv1d.1.norm.weight", init_norm(c), c1, 0, 0, 0);
    /* input: conv1 channels x (mel / 4) frequencies, channel fastest */
    uint64_t in = c1 * (c->a_mel / 4);
    ok &= gen_add(m, "a.pre_encode.out.weight", init_linear(c, in), in, Da, 0, 0);
    ok &= gen_add(m, "mm.a.fc.weight", init_linear(c, Da), Da, c->a_out, 0, 0);
    ok &= gen_add(m, "mm.a.fc.bias", init_normal(0.0f, 0.1f), c->a_out, 0, 0, 0);
    ok &= gen_add(m, "mm.a.input_projection.weight", init_linear(c, c->a_out), c->a_out, c->n_embd, 0, 0);
    return ok;
}
