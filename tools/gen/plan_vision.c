/* Vision tower and its projector (gemma4.md §2.7), embedded in the model GGUF. */
#include <stdio.h>

#include "plan.h"

static const char *const clipped[7] = {"attn_q", "attn_k", "attn_v", "attn_out", "ffn_gate", "ffn_up", "ffn_down"};

static int vblk(gen_model *m, uint32_t i, const char *name, gen_init init, uint64_t d0, uint64_t d1) {
    char full[GEN_NAME_MAX];
    snprintf(full, sizeof full, "v.blk.%u.%s", i, name);
    return gen_add(m, full, init, d0, d1, 0, 0);
}

int gen_plan_vision(gen_model *m) {
    const gen_config *c = &m->cfg;
    if (!c->v_layers) return 1;
    uint64_t Dv = c->v_embd, Fv = c->v_ff, hv = c->v_embd / c->v_heads, p = c->v_patch;
    gen_init post = init_norm_at(c, c->post_norm);
    int ok = 1;
    for (uint32_t i = 0; i < c->v_layers; i++) {
        ok &= vblk(m, i, "ln1.weight", init_norm(c), Dv, 0);
        ok &= vblk(m, i, "attn_q.weight", init_linear(c, Dv), Dv, Dv);
        ok &= vblk(m, i, "attn_k.weight", init_linear(c, Dv), Dv, Dv);
        ok &= vblk(m, i, "attn_v.weight", init_linear(c, Dv), Dv, Dv);
        ok &= vblk(m, i, "attn_q_norm.weight", init_qk_norm(c, (uint32_t)hv), hv, 0);
        ok &= vblk(m, i, "attn_k_norm.weight", init_qk_norm(c, (uint32_t)hv), hv, 0);
        ok &= vblk(m, i, "attn_out.weight", init_linear(c, Dv), Dv, Dv);
        ok &= vblk(m, i, "attn_post_norm.weight", post, Dv, 0);
        ok &= vblk(m, i, "ln2.weight", init_norm(c), Dv, 0);
        ok &= vblk(m, i, "ffn_gate.weight", init_linear(c, Dv), Dv, Fv);
        ok &= vblk(m, i, "ffn_up.weight", init_linear(c, Dv), Dv, Fv);
        ok &= vblk(m, i, "ffn_down.weight", init_linear(c, Fv), Fv, Dv);
        ok &= vblk(m, i, "ffn_post_norm.weight", post, Dv, 0);
        if (c->v_out_scale) ok &= vblk(m, i, "out_scale.weight", init_normal(0.9f, 0.045f), 1, 0);
        if (c->v_clamp)
            for (int k = 0; k < 7; k++) {
                char base[GEN_NAME_MAX];
                snprintf(base, sizeof base, "v.blk.%u.%s", i, clipped[k]);
                ok &= gen_add_clamps(m, base);
            }
    }
    /* Conv2D kernel [KW, KH, Cin, Cout]; pixels are in [-1, 1] */
    ok &= gen_add(m, "v.patch_embd.weight", init_linear(c, p * p * c->v_channels), p, p, c->v_channels, Dv);
    /* slab 0 = x table, slab 1 = y table; comparable to the patch embedding's size */
    ok &= gen_add(m, "v.position_embd.weight", init_normal(0.0f, 0.5f), Dv, c->v_positions, 2, 0);
    if (c->v_std) {
        ok &= gen_add(m, "v.std_bias", init_normal(0.0f, 1.0f), Dv, 0, 0, 0);
        ok &= gen_add(m, "v.std_scale", init_norm(c), Dv, 0, 0, 0);
    }
    if (c->v_clamp) {
        gen_init packed = {GEN_INIT_CLAMP_DATA, 0.0f, 0.0f};
        ok &= gen_add(m, "v.clamp_data", packed, ((uint64_t)c->v_layers * 7 + 1) * 4, 0, 0, 0);
        ok &= gen_add_clamps(m, "mm.input_projection");
    }
    ok &= gen_add(m, "mm.input_projection.weight", init_linear(c, Dv), Dv, c->n_embd, 0, 0);
    return ok;
}

/* The packed copy of the clamp scalars: per layer q,k,v,out,gate,up,down x
 * (in_min, in_max, out_min, out_max), then the projector's four. Element j is the
 * value of the scalar it copies, so both stay identical by construction. */
void gen_clamp_data_name(const gen_config *c, uint64_t j, char *name, size_t cap) {
    static const char *const sfx[4] = {"input_min", "input_max", "output_min", "output_max"};
    uint64_t lin = j / 4;
    if (lin < (uint64_t)c->v_layers * 7)
        snprintf(name, cap, "v.blk.%u.%s.%s", (unsigned)(lin / 7), clipped[lin % 7], sfx[j % 4]);
    else
        snprintf(name, cap, "mm.input_projection.%s", sfx[j % 4]);
}
