/* --layout llamacpp: the same model as llama.cpp's own converter
 * (convert_hf_to_gguf.py, class Gemma4Model) lays it out, derived from the
 * typed Ollama plan so every text tensor keeps its type and bytes. The
 * differences are listed in README.md ("llama.cpp layout"); the test in
 * tests/c/test_gen.c checks that they are exactly those. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

static int starts(const char *s, const char *p) { return !strncmp(s, p, strlen(p)); }

/* Vision, audio and projector tensors live in a separate mmproj file there. */
static int is_tower(const char *name) { return starts(name, "v.") || starts(name, "a.") || starts(name, "mm."); }

/* "blk.N.<from>" -> "blk.N.<to>" when name ends with from after the block prefix. */
static int swap_suffix(const char *name, const char *from, const char *to, char *out, size_t cap) {
    size_t n = strlen(name), f = strlen(from);
    if (!starts(name, "blk.") || n < f || strcmp(name + n - f, from)) return 0;
    return snprintf(out, cap, "%.*s%s", (int)(n - f), name, to) < (int)cap;
}

static int tensor_cmp(const void *a, const void *b) {
    return gen_tensor_cmp(((const gen_tensor *)a)->name, ((const gen_tensor *)b)->name);
}

rl_status gen_layout_llamacpp_tensors(gen_model *m, rl_error *err) {
    gen_tensor *out = malloc((m->n_t ? m->n_t : 1) * sizeof *out);
    if (!out) return rl_fail(err, RL_ERR_NOMEM, "tensor list");
    size_t w = 0;
    for (size_t i = 0; i < m->n_t; i++) {
        gen_tensor t = m->t[i];
        char other[GEN_NAME_MAX];
        const gen_tensor *o;
        if (is_tower(t.name)) continue;
        if (swap_suffix(t.name, ".ffn_up_exps.weight", ".ffn_gate_exps.weight", other, sizeof other)) {
            if (gen_model_find(m, other)) continue; /* folded into ffn_gate_up_exps with its gate partner */
            free(out);
            return rl_fail(err, RL_ERR_INVALID, "%s has no %s to fuse with", t.name, other);
        }
        if (swap_suffix(t.name, ".ffn_gate_exps.weight", ".ffn_up_exps.weight", other, sizeof other)) {
            /* the published split form -> llama.cpp's fused tensor, rows per expert: gate then up */
            if (!(o = gen_model_find(m, other)) || o->type != t.type || o->ne[0] != t.ne[0] || o->ne[1] != t.ne[1] ||
                o->ne[2] != t.ne[2] || t.init.kind != GEN_INIT_NORMAL || o->init.kind != GEN_INIT_NORMAL ||
                o->init.a != t.init.a || o->init.b != t.init.b) {
                free(out);
                return rl_fail(err, RL_ERR_INVALID, "%s has no matching %s to fuse with", t.name, other);
            }
            swap_suffix(m->t[i].name, ".ffn_gate_exps.weight", ".ffn_gate_up_exps.weight", t.name, sizeof t.name);
            t.ne[1] *= 2;
            t.init.kind = GEN_INIT_GATE_UP;
        } else if (swap_suffix(t.name, ".ffn_gate_inp.per_expert_scale", ".ffn_down_exps.scale", other, sizeof other)) {
            snprintf(t.src, sizeof t.src, "%s", t.name); /* same values under llama.cpp's name */
            snprintf(t.name, sizeof t.name, "%s", other);
        }
        out[w++] = t;
    }
    free(m->t);
    m->t = out, m->n_t = w, m->cap_t = m->n_t ? m->n_t : 1;
    qsort(m->t, m->n_t, sizeof *m->t, tensor_cmp);
    return RL_OK;
}

/* Tokens llama.cpp's converter types USER_DEFINED (4) instead of CONTROL, so
 * that they are rendered in the output for its chat parser. */
static const char *const visible_tokens[] = {"<|channel>",       "<channel|>",       "<|tool_call>", "<tool_call|>",
                                             "<|tool_response>", "<tool_response|>", "<|\"|>"};

static int retype_visible(gen_kvs *k) {
    const gen_kv *tok = gen_kvs_find(k, "tokenizer.ggml.tokens");
    const gen_kv *typ = gen_kvs_find(k, "tokenizer.ggml.token_type");
    if (!tok || !typ || !tok->strs || typ->type != GGUF_ARRAY || typ->elem_type != GGUF_I32 || typ->count != tok->count)
        return 1; /* nothing to retype */
    int32_t *types = malloc((size_t)typ->count * sizeof *types + 1);
    if (!gen_kvs_own(k, types)) return 0;
    memcpy(types, typ->data, (size_t)typ->count * sizeof *types);
    for (uint64_t i = 0; i < tok->count; i++)
        for (size_t v = 0; v < sizeof visible_tokens / sizeof *visible_tokens; v++)
            if (tok->strs[i].len == strlen(visible_tokens[v]) && !memcmp(tok->strs[i].ptr, visible_tokens[v], tok->strs[i].len))
                types[i] = 4;
    ((gen_kv *)typ)->data = types; /* the entry is ours; find() hands it out const */
    return 1;
}

rl_status gen_layout_llamacpp_keys(gen_model *m, rl_error *err) {
    gen_kvs *k = &m->kv;
    /* towers: their keys go to the mmproj file (as clip.vision.* / clip.audio.*) */
    for (size_t i = k->n; i-- > 0;)
        if (starts(k->kv[i].key, "gemma4.vision.") || starts(k->kv[i].key, "gemma4.audio.")) gen_kvs_remove(k, k->kv[i].key);
    /* Ollama-only tokenizer keys: the pre-tokenizer follows from model = "gemma4" there,
     * and the extra EOS ids come from generation_config in Ollama's converter only */
    gen_kvs_remove(k, "tokenizer.ggml.pre");
    gen_kvs_remove(k, "tokenizer.ggml.eos_token_ids");
    gen_kvs_remove(k, "tokenizer.ggml.model");
    gen_kvs_remove(k, "tokenizer.ggml.add_bos_token");
    gen_kv_str(k, "tokenizer.ggml.model", "gemma4");
    gen_kv_bool(k, "tokenizer.ggml.add_bos_token", 1);
    gen_kv_bool(k, "tokenizer.ggml.add_space_prefix", 0);
    if (!retype_visible(k)) return rl_fail(err, RL_ERR_NOMEM, "token types");
    /* general metadata the converter writes (sampling defaults from generation_config) */
    char name[64];
    snprintf(name, sizeof name, "rullama-gen %s", m->cfg.preset);
    gen_kv_str(k, "general.type", "model");
    gen_kv_str(k, "general.name", name);
    gen_kv_f32(k, "general.sampling.temp", 1.0f);
    gen_kv_i32(k, "general.sampling.top_k", 64);
    gen_kv_f32(k, "general.sampling.top_p", 0.95f);
    return k->failed ? rl_fail(err, RL_ERR_NOMEM, "llama.cpp keys") : RL_OK;
}
