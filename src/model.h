/* Model binding: checks a gemma4 GGUF against gemma4.md (hyperparameters,
 * per-layer arrays, expected tensors with shapes and types for each layer
 * kind, KV sharing, PLE, rope_freqs, MoE, towers) and exposes the result as
 * plain structs the engines read. Binding reads only the header. */
#ifndef RL_MODEL_H
#define RL_MODEL_H

#include <stdint.h>

#include "core/err.h"
#include "core/strbuf.h"
#include "gguf.h"

typedef const gguf_tensor *rl_tensor_ref; /* NULL = absent (optional tensors) */

typedef struct {
    int is_swa;           /* sliding-window layer (else full attention) */
    int head_dim;         /* key_length_swa or key_length */
    int n_kv_head;
    int n_ff;             /* dense MLP width (0 = none) */
    int kv_donor;         /* layer whose KV cache this layer reads (itself if it computes K/V) */
    int kv_shared;        /* 1 when kv_donor != own index */
    int v_from_k;         /* K=V layer: no attn_v, V is the raw K projection */
    int rope_dims;        /* rotated dims n (NeoX pairs j, j+n/2) */
    float rope_base;
    int is_moe;

    rl_tensor_ref attn_norm, attn_q, attn_q_norm, attn_k, attn_k_norm, attn_v, attn_output, post_attention_norm;
    rl_tensor_ref ffn_norm, ffn_gate, ffn_up, ffn_down, post_ffw_norm, layer_output_scale;
    rl_tensor_ref inp_gate, proj, post_norm; /* PLE */
    /* MoE (26B): router, experts (split or fused gate/up), per-expert scale, extra norms */
    rl_tensor_ref ffn_gate_inp, ffn_gate_inp_scale, ffn_gate_exps, ffn_up_exps, ffn_gate_up_exps, ffn_down_exps,
        ffn_down_exps_scale, pre_ffw_norm_2, post_ffw_norm_1, post_ffw_norm_2;
} rl_layer;

typedef struct {
    int n_layer, n_embd, n_head, n_vocab;
    int n_ctx_train;
    int head_dim_swa, head_dim_full;
    int window;           /* sliding window W (keys visible: 0 <= q - k < W) */
    int n_shared_kv;      /* the last S layers reuse earlier layers' KV */
    int ple_dim;          /* per-layer embedding size P (0 = none) */
    int n_expert, n_expert_used, n_ff_exp;
    int n_rot_full;       /* pairs rotated on full layers (rope_freqs entries == 1) */
    float eps, softcap;   /* softcap 0 = off */
    float rope_base_full, rope_base_swa;
    const float *rope_freqs; /* NULL or n = head_dim_full/2 factors, copied from the file */

    rl_tensor_ref token_embd, output, output_norm, rope_freqs_t;
    rl_tensor_ref per_layer_token_embd, per_layer_model_proj, per_layer_proj_norm;
    rl_layer *layers;

    /* Towers present in the file (bound in detail by their own modules later). */
    int has_vision, has_audio, has_projector;
    int n_vision_tensors, n_audio_tensors, n_mm_tensors;
    uint64_t n_params_text, n_params_vision, n_params_audio; /* element counts */

    const gguf_file *gguf;
    float *owned_rope_freqs;
} rl_model;

/* Bind a parsed GGUF. rope_freqs_data: the rope_freqs.weight bytes if the file
 * has that tensor (the host reads them: it is tiny), else NULL. Errors name the
 * key or tensor and what was expected versus found; "not gemma4" names the
 * architecture found. */
rl_status rl_model_bind(const gguf_file *g, const void *rope_freqs_data, rl_model *m, rl_error *err);
void rl_model_free(rl_model *m);

/* Human-readable and JSON summaries for `rullama inspect`. */
void rl_model_describe(const rl_model *m, uint64_t file_size, strbuf *out);
void rl_model_describe_json(const rl_model *m, uint64_t file_size, strbuf *out);

#endif
