/* rullama-gen: synthetic random-weight Gemma 4 GGUFs laid out exactly as Ollama
 * writes its published gemma4 blobs (gemma4.md §2), optionally inside a fake
 * Ollama store (§1). Every tensor's values derive from (seed, tensor name) only,
 * so output is byte-identical natively and in wasm, whatever the write order.
 *
 * Pipeline: gen_config (preset + options) -> gen_model (KV list + tensor plan,
 * sorted, typed, with offsets) -> gen_write (header, then each tensor generated
 * and converted in row chunks: bounded memory for a 7 GB e2b). */
#ifndef RL_GEN_H
#define RL_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/host.h"
#include "gguf.h"
#include "sha256.h"

/* ---- configuration -------------------------------------------------------- */

/* Storage choice for the quantizable tensors: Ollama's Q4_K_M mix, or one
 * uniform type (plus the ne0 % block fallbacks that keep a file valid). */
typedef enum { GEN_MIX_Q4_K_M = 0, GEN_MIX_UNIFORM = 1 } gen_mix;

/* Whose file layout to write: Ollama's published blobs (text + towers in one
 * file), or what llama.cpp's convert_hf_to_gguf.py makes of the same checkpoint
 * (text only, llama.cpp's names and tokenizer keys; layout.c, README.md). The
 * text tensors hold the same bytes in both. */
typedef enum { GEN_LAYOUT_OLLAMA = 0, GEN_LAYOUT_LLAMACPP = 1 } gen_layout;

typedef struct {
    char preset[16];
    uint64_t seed;
    /* text model */
    uint32_t n_vocab, n_embd, n_layer, n_head, n_kv_swa, n_kv_full, hd_swa, hd_full;
    uint32_t n_ff, window, full_every, n_shared, n_ple, n_ctx;
    uint32_t double_wide;       /* KV-shared layers get 2 * n_ff (E2B) */
    uint32_t k_eq_v;            /* full layers have no attn_v (26B/31B) */
    float rope_base, rope_base_swa, partial_rotary, softcap, eps;
    /* MoE (26B style); n_expert = 0 means dense */
    uint32_t n_expert, n_expert_used, n_ff_expert, moe_fused;
    /* vision tower; v_layers = 0 means none */
    uint32_t v_layers, v_embd, v_heads, v_ff, v_patch, v_channels, v_pool, v_positions;
    uint32_t v_clamp, v_std, v_out_scale;
    float v_eps;
    /* audio tower; a_layers = 0 means none */
    uint32_t a_layers, a_embd, a_heads, a_ff, a_kernel, a_conv0, a_conv1, a_out, a_mel;
    float a_eps;
    /* file layout */
    uint32_t layout;            /* gen_layout */
    gen_mix mix;
    uint32_t uniform_type;      /* ggml type when mix == GEN_MIX_UNIFORM */
    uint32_t shared_kv_tensors; /* attn_k/attn_k_norm/attn_v on KV-shared layers */
    uint32_t param_count_key;   /* also write general.parameter_count (u64) */
    uint32_t exact_quant;       /* quantize with src/quant.c (error-minimising, ~20x slower) */
    /* weight scales (see tools/gen/README.md for the reasoning) */
    float embd_rms;       /* RMS of token_embd rows * sqrt(D): also the logit std */
    float norm_noise;     /* relative std of every norm weight around its mean */
    float post_norm;      /* mean of the sandwich post-norm weights (residual update size) */
    float layer_scale;    /* mean layer_output_scale; 0 = auto, 0.03^(1/n_layer) */
    float attn_logit_std; /* target std of q.k at scale 1.0, sets q/k norm weights */
    float linear_gain;    /* linear weights ~ N(0, gain^2 / fan_in) */
    float clamp_base;     /* clamp bounds are +-(base + U(0, base/2)) */
} gen_config;

/* Fill cfg from a preset name ("tiny", "tiny-moe", "tiny-kv", "e2b", "e4b"). */
rl_status gen_config_preset(gen_config *cfg, const char *preset, rl_error *err);
/* Apply "--option value" overrides (the option table in config.c). Unknown
 * options are an error unless listed in pass_through (NULL-terminated). */
rl_status gen_config_apply(gen_config *cfg, int argc, char **argv, const char *const *pass_through, rl_error *err);
rl_status gen_config_validate(const gen_config *cfg, rl_error *err);
/* Usage text for the options (one line per table row). */
void gen_config_usage(rl_host *h, int stream);

int gen_layer_is_swa(const gen_config *cfg, uint32_t i);
int gen_layer_is_shared(const gen_config *cfg, uint32_t i);
uint32_t gen_layer_ff(const gen_config *cfg, uint32_t i);
uint32_t gen_layer_kv(const gen_config *cfg, uint32_t i);
uint32_t gen_layer_hd(const gen_config *cfg, uint32_t i);

/* ---- metadata (KV pairs) -------------------------------------------------- */

typedef struct {
    char *key;              /* owned */
    gguf_vtype type;        /* GGUF_ARRAY for arrays */
    gguf_vtype elem_type;   /* element type of arrays; == type for scalars */
    uint64_t count;         /* 1 for scalars */
    const void *data;       /* little-endian payload of numeric/bool values */
    const gguf_str *strs;   /* string values (count of them) */
} gen_kv;

typedef struct {
    gen_kv *kv;
    size_t n, cap;
    /* storage the entries point into */
    void **owned;
    size_t n_owned, cap_owned;
    int failed;             /* allocation failure (sticky) */
} gen_kvs;

void gen_kvs_free(gen_kvs *k);
/* Add entries; payloads are copied. Return 0 on allocation failure (sticky). */
int gen_kv_u32(gen_kvs *k, const char *key, uint32_t v);
int gen_kv_u64(gen_kvs *k, const char *key, uint64_t v);
int gen_kv_f32(gen_kvs *k, const char *key, float v);
int gen_kv_i32(gen_kvs *k, const char *key, int32_t v);
int gen_kv_bool(gen_kvs *k, const char *key, int v);
int gen_kv_str(gen_kvs *k, const char *key, const char *s);
int gen_kv_arr(gen_kvs *k, const char *key, gguf_vtype elem, const void *data, uint64_t count);
/* Array of strings; the gguf_str array and the bytes it points to are NOT copied
 * (the caller keeps them alive, e.g. a vocabulary pool or a parsed GGUF). */
int gen_kv_strs_ref(gen_kvs *k, const char *key, const gguf_str *strs, uint64_t count);
/* Any value by reference (nothing copied but the key): for keys taken from a
 * parsed GGUF that outlives the list. */
int gen_kv_ref(gen_kvs *k, const char *key, gguf_vtype type, gguf_vtype elem, uint64_t count, const void *data,
               const gguf_str *strs);
/* Take ownership of a malloc'd block so it lives as long as the KV list. */
int gen_kvs_own(gen_kvs *k, void *p);
void gen_kvs_sort(gen_kvs *k);   /* by key, byte order (Ollama's writer) */
const gen_kv *gen_kvs_find(const gen_kvs *k, const char *key);
/* Drop an entry (its payload stays owned until the list is freed). */
void gen_kvs_remove(gen_kvs *k, const char *key);
/* Serialized size of one KV pair in GGUF v3. */
uint64_t gen_kv_size(const gen_kv *kv);

/* The gemma4.* and general.* keys for cfg (§2.3); file_type from the mix. */
rl_status gen_model_keys(const gen_config *cfg, gen_kvs *out, rl_error *err);

/* Tokenizer keys (§2.4). "synthetic" builds a placeholder vocabulary of
 * cfg->n_vocab tokens; otherwise path names a GGUF holding tokenizer.* keys
 * (tools/vocab.mjs) which are copied, and *n_vocab is set to its token count. */
typedef struct gen_vocab gen_vocab;
rl_status gen_vocab_load(rl_host *h, const char *spec, uint32_t n_vocab, gen_vocab **out, rl_error *err);
uint32_t gen_vocab_size(const gen_vocab *v);
rl_status gen_vocab_keys(const gen_vocab *v, gen_kvs *out, rl_error *err);
void gen_vocab_free(gen_vocab *v);

/* ---- tensor plan ---------------------------------------------------------- */

#define GEN_NAME_MAX 64

/* How a tensor's values are made (values.c). */
typedef enum {
    GEN_INIT_NORMAL,      /* mean + std * N(0,1) */
    GEN_INIT_ROPE_FREQS,  /* 1.0 for j < a (n_rot), 1e30 after */
    GEN_INIT_CLAMP,       /* a * (b + U(0, b/2)): a = -1 for *_min, +1 for *_max */
    GEN_INIT_CLAMP_DATA,  /* v.clamp_data: the vision clamp scalars, packed (§2.7) */
    GEN_INIT_GATE_UP,     /* blk.N.ffn_gate_up_exps: per expert, the rows of the split
                             ffn_gate_exps then ffn_up_exps (NORMAL a, b), so the
                             fused tensor repeats their values (llama/compat's fusion) */
} gen_init_kind;

typedef struct {
    gen_init_kind kind;
    float a, b;           /* NORMAL: mean, std. ROPE_FREQS: n_rot. CLAMP: sign, base */
} gen_init;

typedef struct {
    char name[GEN_NAME_MAX];
    uint32_t n_dims;
    uint64_t ne[4];
    uint32_t type;        /* ggml type id (quant.h) */
    uint64_t offset;      /* relative to the data section */
    uint64_t nbytes;
    gen_init init;
    char src[GEN_NAME_MAX]; /* values keyed by this name instead ("" = own name): renames */
} gen_tensor;

typedef struct {
    gen_config cfg;
    gen_kvs kv;           /* sorted */
    gen_tensor *t;        /* sorted: Ollama's order (§2.1) */
    size_t n_t, cap_t;
    uint64_t header_bytes; /* before padding */
    uint64_t data_offset;  /* absolute, 32-aligned */
    uint64_t file_bytes;
    uint64_t n_params;     /* elements over all tensors */
} gen_model;

/* Build the full plan: tensors (text, vision, audio), types, keys (model keys
 * plus the vocabulary's), sorting, offsets. The vocabulary must stay alive until
 * the model is freed (its strings are referenced). */
rl_status gen_model_build(gen_model *m, const gen_config *cfg, const gen_vocab *vocab, rl_error *err);
void gen_model_free(gen_model *m);
const gen_tensor *gen_model_find(const gen_model *m, const char *name);

/* Append tensors for each part (plan_*.c); used by gen_model_build. */
int gen_add_tensor(gen_model *m, const char *name, uint32_t n_dims, const uint64_t *ne, gen_init init);
int gen_plan_text(gen_model *m);
int gen_plan_vision(gen_model *m);
int gen_plan_audio(gen_model *m);

/* --layout llamacpp: turn the typed Ollama plan into llama.cpp's converter
 * layout (towers dropped, MoE gate/up fused, per-expert scale renamed; types
 * and values unchanged), and edit the key list to match (layout.c). */
rl_status gen_layout_llamacpp_tensors(gen_model *m, rl_error *err);
rl_status gen_layout_llamacpp_keys(gen_model *m, rl_error *err);

/* Ollama's tensor order: text block number, then name; non-block tensors last. */
int gen_tensor_cmp(const char *a, const char *b);
/* Assign storage types (converter base types + quantizer rules, types.c). */
rl_status gen_assign_types(gen_model *m, rl_error *err);
/* The general.file_type value and Ollama's name for it ("Q4_K_M", "F16", ...). */
uint32_t gen_file_type(const gen_config *cfg);
const char *gen_file_type_name(const gen_config *cfg);
/* Parse a --type value: "Q4_K_M" or a ggml type name. */
rl_status gen_parse_type(const char *s, gen_mix *mix, uint32_t *type, rl_error *err);

/* ---- values --------------------------------------------------------------- */

/* Per-tensor stream key from (seed, name). */
uint64_t gen_tensor_key(uint64_t seed, const char *name);
/* Values [start, start + n) of tensor t, in GGUF element order. */
void gen_values(const gen_model *m, const gen_tensor *t, uint64_t start, size_t n, float *out);
/* Convert n floats (whole rows) to type; fast_quant picks tools/gen/fastquant.c
 * over src/quant.c's (slower, more accurate) quantizers where it has the type. */
rl_status gen_convert(uint32_t type, const float *src, void *dst, size_t n, int fast_quant, rl_error *err);

/* ---- output --------------------------------------------------------------- */

/* Buffered writer to a host file that can hash what it writes. Errors are sticky. */
typedef struct {
    rl_host *host;
    int fd;
    uint8_t *buf;
    size_t len, cap;
    uint64_t written;
    rl_sha256 sha;
    int hashing;
    rl_status status;
    rl_error *err;
} gen_sink;

rl_status gen_sink_open(gen_sink *s, rl_host *h, const char *path, int hash, rl_error *err);
void gen_sink_write(gen_sink *s, const void *p, size_t n);
void gen_sink_zeros(gen_sink *s, uint64_t n);
/* Flush and close; *digest (if not NULL, and opened with hash) gets the SHA-256
 * of everything written. */
rl_status gen_sink_close(gen_sink *s, uint8_t digest[32]);

typedef struct {
    int progress;          /* print percent and MB to stderr */
} gen_write_opts;

/* Stream the whole GGUF (header + data) into an open sink. */
rl_status gen_write(const gen_model *m, gen_sink *s, const gen_write_opts *o);
/* Write to a plain file; the SHA-256 is computed only when digest is not NULL. */
rl_status gen_write_file(const gen_model *m, rl_host *h, const char *path, const gen_write_opts *o,
                         uint8_t digest[32], rl_error *err);

/* Lay out a fake Ollama store: blobs (model streamed to a temp name and renamed
 * to its digest, params, template, license, config) and the manifest. */
rl_status gen_write_store(const gen_model *m, rl_host *h, const char *root, const char *name,
                          const gen_write_opts *o, rl_error *err);

/* The command line shared by main() and the wasm export rl_gen. */
int gen_main(rl_host *h, int argc, char **argv);

#endif
