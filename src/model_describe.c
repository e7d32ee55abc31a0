/* Summaries of a bound model for `rullama inspect` (text and JSON). */
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "quant.h"

typedef struct {
    uint32_t type;
    uint64_t bytes, count;
} type_total;

/* Bytes and tensor counts per ggml type, in type-id order. */
static int totals_by_type(const gguf_file *g, type_total *out, int cap) {
    int n = 0;
    for (uint32_t t = 0; t < RL_TYPE_COUNT_MAX && n < cap; t++) {
        type_total tt = {t, 0, 0};
        for (uint64_t i = 0; i < g->n_tensors; i++)
            if (g->tensors[i].type == t) {
                tt.bytes += g->tensors[i].nbytes;
                tt.count++;
            }
        if (tt.count) out[n++] = tt;
    }
    return n;
}

static void human_bytes(uint64_t b, char *buf, size_t cap) {
    if (b >= 1000000000ull) snprintf(buf, cap, "%.2f GB", (double)b / 1e9);
    else if (b >= 1000000ull) snprintf(buf, cap, "%.2f MB", (double)b / 1e6);
    else if (b >= 1000ull) snprintf(buf, cap, "%.1f kB", (double)b / 1e3);
    else snprintf(buf, cap, "%llu B", (unsigned long long)b);
}

static void human_count(uint64_t n, char *buf, size_t cap) {
    if (n >= 1000000000ull) snprintf(buf, cap, "%.2fB", (double)n / 1e9);
    else if (n >= 1000000ull) snprintf(buf, cap, "%.2fM", (double)n / 1e6);
    else if (n >= 1000ull) snprintf(buf, cap, "%.1fK", (double)n / 1e3);
    else snprintf(buf, cap, "%llu", (unsigned long long)n);
}

/* "S S F S S F" compressed as "4×(3 SWA + 1 full)"-style runs would be clever;
 * a plain string of S/F per layer is exact and easy to read for 35-60 layers. */
static void layer_pattern(const rl_model *m, strbuf *out) {
    for (int i = 0; i < m->n_layer; i++) sb_putc(out, m->layers[i].is_swa ? 'S' : 'F');
}

void rl_model_describe(const rl_model *m, uint64_t file_size, strbuf *out) {
    const gguf_file *g = m->gguf;
    char a[32], b[32], c[32];
    human_bytes(file_size, a, sizeof a);
    sb_printf(out, "architecture      gemma4\n");
    sb_printf(out, "file size         %s (%llu bytes), GGUF v%u, %llu tensors, %llu metadata keys\n", a,
              (unsigned long long)file_size, g->version, (unsigned long long)g->n_tensors,
              (unsigned long long)g->n_kv);
    human_count(m->n_params_text, a, sizeof a);
    human_count(m->n_params_vision, b, sizeof b);
    human_count(m->n_params_audio, c, sizeof c);
    sb_printf(out, "parameters        text %s, vision %s, audio %s\n", a, b, c);
    sb_printf(out, "layers            %d (%d KV-shared)  pattern ", m->n_layer, m->n_shared_kv);
    layer_pattern(m, out);
    sb_printf(out, "  (S = sliding window %d, F = full)\n", m->window);
    sb_printf(out, "embedding         %d, vocab %d, context %d\n", m->n_embd, m->n_vocab, m->n_ctx_train);
    int kv_swa = -1, kv_full = -1, ff_min = 1 << 30, ff_max = 0;
    for (int i = 0; i < m->n_layer; i++) {
        const rl_layer *l = &m->layers[i];
        if (l->is_swa) kv_swa = l->n_kv_head;
        else kv_full = l->n_kv_head;
        if (l->n_ff < ff_min) ff_min = l->n_ff;
        if (l->n_ff > ff_max) ff_max = l->n_ff;
    }
    sb_printf(out, "attention         %d query heads; KV heads %d (sliding) / %d (full); head dim %d / %d\n",
              m->n_head, kv_swa, kv_full, m->head_dim_swa, m->head_dim_full);
    if (ff_min == ff_max) sb_printf(out, "feed-forward      %d\n", ff_min);
    else sb_printf(out, "feed-forward      %d to %d (per layer)\n", ff_min, ff_max);
    sb_printf(out, "rope              sliding base %g; full base %g, %d of %d pairs rotated\n", m->rope_base_swa,
              m->rope_base_full, m->n_rot_full, m->head_dim_full / 2);
    sb_printf(out, "norm eps          %g; final logit softcap %g\n", m->eps, m->softcap);
    if (m->ple_dim) sb_printf(out, "per-layer embed   %d per layer\n", m->ple_dim);
    if (m->n_expert)
        sb_printf(out, "experts           %d, %d used per token, width %d\n", m->n_expert, m->n_expert_used,
                  m->n_ff_exp);
    sb_printf(out, "towers            vision %s (%d tensors), audio %s (%d tensors), projector %s (%d tensors)\n",
              m->has_vision ? "yes" : "no", m->n_vision_tensors, m->has_audio ? "yes" : "no", m->n_audio_tensors,
              m->has_projector ? "yes" : "no", m->n_mm_tensors);
    type_total tt[RL_TYPE_COUNT_MAX];
    int n = totals_by_type(g, tt, RL_TYPE_COUNT_MAX);
    sb_printf(out, "bytes by type    ");
    for (int i = 0; i < n; i++) {
        human_bytes(tt[i].bytes, a, sizeof a);
        sb_printf(out, " %s %s (%llu)%s", rl_type_get(tt[i].type)->name, a, (unsigned long long)tt[i].count,
                  i + 1 < n ? "," : "");
    }
    sb_putc(out, '\n');
}

void rl_model_describe_json(const rl_model *m, uint64_t file_size, strbuf *out) {
    const gguf_file *g = m->gguf;
    sb_printf(out, "{\"architecture\":\"gemma4\",\"file_size\":%llu,\"gguf_version\":%u,\"tensor_count\":%llu,"
                   "\"kv_count\":%llu,",
              (unsigned long long)file_size, g->version, (unsigned long long)g->n_tensors,
              (unsigned long long)g->n_kv);
    sb_printf(out, "\"parameters\":{\"text\":%llu,\"vision\":%llu,\"audio\":%llu},",
              (unsigned long long)m->n_params_text, (unsigned long long)m->n_params_vision,
              (unsigned long long)m->n_params_audio);
    sb_printf(out, "\"hparams\":{\"block_count\":%d,\"embedding_length\":%d,\"vocab_size\":%d,\"context_length\":%d,"
                   "\"head_count\":%d,\"key_length\":%d,\"key_length_swa\":%d,\"sliding_window\":%d,"
                   "\"shared_kv_layers\":%d,\"embedding_length_per_layer_input\":%d,\"expert_count\":%d,"
                   "\"expert_used_count\":%d,\"expert_feed_forward_length\":%d,\"rms_epsilon\":%g,"
                   "\"final_logit_softcapping\":%g,\"rope_freq_base\":%g,\"rope_freq_base_swa\":%g,"
                   "\"rope_rotated_pairs_full\":%d},",
              m->n_layer, m->n_embd, m->n_vocab, m->n_ctx_train, m->n_head, m->head_dim_full, m->head_dim_swa,
              m->window, m->n_shared_kv, m->ple_dim, m->n_expert, m->n_expert_used, m->n_ff_exp, m->eps, m->softcap,
              m->rope_base_full, m->rope_base_swa, m->n_rot_full);
    sb_puts(out, "\"layers\":[");
    for (int i = 0; i < m->n_layer; i++) {
        const rl_layer *l = &m->layers[i];
        sb_printf(out, "%s{\"type\":\"%s\",\"head_dim\":%d,\"kv_heads\":%d,\"feed_forward_length\":%d,"
                       "\"kv_donor\":%d,\"v_from_k\":%s,\"moe\":%s}",
                  i ? "," : "", l->is_swa ? "sliding" : "full", l->head_dim, l->n_kv_head, l->n_ff, l->kv_donor,
                  l->v_from_k ? "true" : "false", l->is_moe ? "true" : "false");
    }
    sb_printf(out, "],\"towers\":{\"vision\":%s,\"audio\":%s,\"projector\":%s,\"vision_tensors\":%d,"
                   "\"audio_tensors\":%d,\"projector_tensors\":%d},",
              m->has_vision ? "true" : "false", m->has_audio ? "true" : "false", m->has_projector ? "true" : "false",
              m->n_vision_tensors, m->n_audio_tensors, m->n_mm_tensors);
    type_total tt[RL_TYPE_COUNT_MAX];
    int n = totals_by_type(g, tt, RL_TYPE_COUNT_MAX);
    sb_puts(out, "\"bytes_by_type\":{");
    for (int i = 0; i < n; i++)
        sb_printf(out, "%s\"%s\":{\"bytes\":%llu,\"tensors\":%llu}", i ? "," : "", rl_type_get(tt[i].type)->name,
                  (unsigned long long)tt[i].bytes, (unsigned long long)tt[i].count);
    sb_puts(out, "}}\n");
}
