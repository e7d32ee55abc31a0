/* Text tensors (gemma4.md §2.6): names, GGUF ne shapes and initialisers. */
#include <stdio.h>

#include "plan.h"

/* "blk.<i>.<name>" */
static int blk(gen_model *m, uint32_t i, const char *name, gen_init init, uint64_t d0, uint64_t d1, uint64_t d2) {
    char full[GEN_NAME_MAX];
    snprintf(full, sizeof full, "blk.%u.%s", i, name);
    return gen_add(m, full, init, d0, d1, d2, 0);
}

/* Default layer_output_scale: s with s^L = 0.03, so 3% of the embedding survives
 * the direct residual path whatever the depth. With the tied LM head a larger
 * share makes the model echo its input token (s = 0.9 on 6 layers: near one-hot
 * logits on the input token); a smaller one makes deep models more sensitive to
 * input noise (s = 0.8 on 35 layers: 5x the output change of s = 0.92).
 * Bisection with plain multiplications: no libm, same float natively and in wasm. */
static float auto_layer_scale(uint32_t L) {
    double lo = 0.0, hi = 1.0;
    for (int it = 0; it < 60; it++) {
        double mid = 0.5 * (lo + hi), p = 1.0;
        for (uint32_t k = 0; k < L; k++) p *= mid;
        if (p < 0.03) lo = mid;
        else hi = mid;
    }
    return (float)lo;
}

static int text_block(gen_model *m, uint32_t i) {
    const gen_config *c = &m->cfg;
    uint64_t D = c->n_embd, H = c->n_head, hd = gen_layer_hd(c, i), kv = gen_layer_kv(c, i);
    uint64_t F = gen_layer_ff(c, i), P = c->n_ple, E = c->n_expert, Fe = c->n_ff_expert;
    gen_init post = init_norm_at(c, c->post_norm);
    float scale = c->layer_scale > 0 ? c->layer_scale : auto_layer_scale(c->n_layer);
    int ok = 1;
    ok &= blk(m, i, "attn_norm.weight", init_norm(c), D, 0, 0);
    ok &= blk(m, i, "attn_q.weight", init_linear(c, D), D, H * hd, 0);
    ok &= blk(m, i, "attn_q_norm.weight", init_qk_norm(c, (uint32_t)hd), hd, 0, 0);
    /* KV-shared layers never use their own K/V; the original checkpoints carry them */
    if (!gen_layer_is_shared(c, i) || c->shared_kv_tensors) {
        ok &= blk(m, i, "attn_k.weight", init_linear(c, D), D, kv * hd, 0);
        ok &= blk(m, i, "attn_k_norm.weight", init_qk_norm(c, (uint32_t)hd), hd, 0, 0);
        if (!(c->k_eq_v && !gen_layer_is_swa(c, i))) ok &= blk(m, i, "attn_v.weight", init_linear(c, D), D, kv * hd, 0);
    }
    ok &= blk(m, i, "attn_output.weight", init_linear(c, H * hd), H * hd, D, 0);
    ok &= blk(m, i, "post_attention_norm.weight", post, D, 0, 0);
    ok &= blk(m, i, "ffn_norm.weight", init_norm(c), D, 0, 0);
    ok &= blk(m, i, "ffn_gate.weight", init_linear(c, D), D, F, 0);
    ok &= blk(m, i, "ffn_up.weight", init_linear(c, D), D, F, 0);
    ok &= blk(m, i, "ffn_down.weight", init_linear(c, F), F, D, 0);
    ok &= blk(m, i, "post_ffw_norm.weight", post, D, 0, 0);
    if (E) {
        /* router logits = W . (rmsnorm(r)/sqrt(D) * scale): std ~ std(W), so W ~ N(0,1) */
        ok &= blk(m, i, "ffn_gate_inp.weight", init_normal(0.0f, 1.0f), D, E, 0);
        ok &= blk(m, i, "ffn_gate_inp.scale", init_norm(c), D, 0, 0);
        if (c->moe_fused) {
            ok &= blk(m, i, "ffn_gate_up_exps.weight", init_linear(c, D), D, 2 * Fe, E);
            ok &= blk(m, i, "ffn_down_exps.scale", init_norm(c), E, 0, 0);
        } else { /* the published form; llama/compat fuses and renames at load time */
            ok &= blk(m, i, "ffn_gate_exps.weight", init_linear(c, D), D, Fe, E);
            ok &= blk(m, i, "ffn_up_exps.weight", init_linear(c, D), D, Fe, E);
            ok &= blk(m, i, "ffn_gate_inp.per_expert_scale", init_norm(c), E, 0, 0);
        }
        ok &= blk(m, i, "ffn_down_exps.weight", init_linear(c, Fe), Fe, D, E);
        ok &= blk(m, i, "pre_ffw_norm_2.weight", init_norm(c), D, 0, 0);
        ok &= blk(m, i, "post_ffw_norm_1.weight", post, D, 0, 0);
        ok &= blk(m, i, "post_ffw_norm_2.weight", post, D, 0, 0);
    }
    if (P) {
        ok &= blk(m, i, "inp_gate.weight", init_linear(c, D), D, P, 0);
        ok &= blk(m, i, "proj.weight", init_linear(c, P), P, D, 0);
        ok &= blk(m, i, "post_norm.weight", post, D, 0, 0);
    }
    ok &= blk(m, i, "layer_output_scale.weight", init_normal(scale, 0.05f * scale), 1, 0, 0);
    return ok;
}

int gen_plan_text(gen_model *m) {
    const gen_config *c = &m->cfg;
    uint64_t D = c->n_embd, V = c->n_vocab, L = c->n_layer, P = c->n_ple;
    int ok = 1;
    for (uint32_t i = 0; i < c->n_layer; i++) ok &= text_block(m, i);
    /* h0 = row * sqrt(D) has RMS embd_rms; the tied head then gives logits of std ~embd_rms */
    ok &= gen_add(m, "token_embd.weight", init_normal(0.0f, c->embd_rms / sqrtf((float)D)), D, V, 0, 0);
    ok &= gen_add(m, "output_norm.weight", init_norm(c), D, 0, 0, 0);
    /* converter: n_rot = int(global_head_dim * partial_rotary_factor / 2) pairs rotate */
    gen_init rope = {GEN_INIT_ROPE_FREQS, (float)(int)((float)c->hd_full * c->partial_rotary / 2.0f), 0.0f};
    ok &= gen_add(m, "rope_freqs.weight", rope, c->hd_full / 2, 0, 0, 0);
    if (P) {
        /* row * sqrt(P) should be ~unit RMS, like the normed projection it is added to */
        ok &= gen_add(m, "per_layer_token_embd.weight", init_normal(0.0f, 1.0f / sqrtf((float)P)), L * P, V, 0, 0);
        ok &= gen_add(m, "per_layer_model_proj.weight", init_linear(c, D), D, L * P, 0, 0);
        ok &= gen_add(m, "per_layer_proj_norm.weight", init_norm(c), P, 0, 0, 0);
    }
    return ok;
}
