/* Tokenizer keys (gemma4.md §2.4): a placeholder vocabulary, or the tokenizer.*
 * keys of a vocabulary GGUF (tools/vocab.mjs) copied verbatim. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "gguf_load.h"

struct gen_vocab {
    uint32_t n;
    gguf_file *file;    /* vocabulary GGUF, when loaded from one */
    gguf_str *tokens;   /* synthetic: points into pool */
    char *pool;
    float *scores;
    int32_t *types;
    gguf_str merges[16];
    uint32_t n_merges;
};

/* Gemma's special tokens at their real ids (§7.4); <|think|> has no fixed id. */
static const struct {
    uint32_t id;
    const char *text;
    int32_t type;
} specials[] = {
    {0, "<pad>", 3}, {1, "<eos>", 3}, {2, "<bos>", 3}, {3, "<unk>", 2}, {4, "<mask>", 3},
    {5, "[multimodal]", 1}, {46, "<|tool>", 3}, {47, "<tool|>", 3}, {48, "<|tool_call>", 3},
    {49, "<tool_call|>", 3}, {50, "<|tool_response>", 3}, {51, "<tool_response|>", 3}, {52, "<|\"|>", 3},
    {98, "<|think|>", 3}, {100, "<|channel>", 3}, {101, "<channel|>", 3}, {105, "<|turn>", 3},
    {106, "<turn|>", 3}, {107, "\n", 1}, {108, "\n\n", 1}, {255999, "<|image>", 3}, {256000, "<|audio>", 3},
    {258880, "<|image|>", 3}, {258881, "<|audio|>", 3}, {258882, "<image|>", 3}, {258883, "<audio|>", 3},
    {258884, "<|video|>", 3},
};

/* Types and byte-token ids as in the real vocabulary (tools/vocab.mjs); a few
 * real-looking pieces and merges so a BPE encoder has something to do. */
#define SP "\xe2\x96\x81" /* U+2581, the SentencePiece space */
#define FIRST_BYTE 238u  /* <0x00>..<0xFF> */
#define FIRST_WORD (FIRST_BYTE + 256u)
static const char *const words[] = {SP, "t", "h", "e", "a", "n", "d", "th", "he", "the",
                                    SP "t", SP "th", SP "the", "an", "and", SP "a",
                                    SP "an", SP "and"};
static const char *const merge_list[] = {"t h", "th e", SP " t", SP "t h", SP "th e",
                                         "a n", "an d", SP " a", SP "a n", SP "an d"};

static rl_status synthetic(uint32_t n, gen_vocab *v, rl_error *err) {
    v->n = n;
    v->tokens = calloc(n, sizeof *v->tokens);
    v->scores = malloc(n * sizeof *v->scores);
    v->types = malloc(n * sizeof *v->types);
    v->pool = malloc((size_t)n * 16);
    if (!v->tokens || !v->scores || !v->types || !v->pool) return rl_fail(err, RL_ERR_NOMEM, "vocabulary of %u tokens", n);
    char *p = v->pool;
    for (uint32_t id = 0; id < n; id++) {
        const char *text = NULL;
        int32_t type = 1;
        char buf[16];
        for (size_t k = 0; k < sizeof specials / sizeof *specials; k++)
            if (specials[k].id == id) text = specials[k].text, type = specials[k].type;
        if (!text && id >= FIRST_BYTE && id < FIRST_WORD) {
            snprintf(buf, sizeof buf, "<0x%02X>", id - FIRST_BYTE);
            text = buf, type = 6;
        } else if (!text && id >= FIRST_WORD && id - FIRST_WORD < sizeof words / sizeof *words) {
            text = words[id - FIRST_WORD];
        } else if (!text && id < 109) {
            snprintf(buf, sizeof buf, "<unused%u>", id);
            text = buf, type = 5;
        } else if (!text) {
            snprintf(buf, sizeof buf, "w%u", id);
            text = buf;
        }
        size_t len = strlen(text);
        memcpy(p, text, len);
        v->tokens[id] = (gguf_str){p, len};
        p += len;
        v->scores[id] = (float)id;
        v->types[id] = type;
    }
    if (n >= FIRST_WORD + sizeof words / sizeof *words)
        for (size_t k = 0; k < sizeof merge_list / sizeof *merge_list; k++)
            v->merges[v->n_merges++] = (gguf_str){merge_list[k], strlen(merge_list[k])};
    return RL_OK;
}

/* The header of a vocabulary GGUF (tools/vocab.mjs writes only tokenizer.* keys). */
static rl_status from_file(rl_host *h, const char *path, gen_vocab *v, rl_error *err) {
    if (gguf_load_header(h, path, &v->file, NULL, err)) return rl_fail_ctx(err, "--vocab");
    const gguf_kv *tok = gguf_find_kv(v->file, "tokenizer.ggml.tokens");
    if (!tok || tok->type != GGUF_ARRAY || tok->elem_type != GGUF_STRING)
        return rl_fail(err, RL_ERR_FORMAT, "--vocab %s: no tokenizer.ggml.tokens string array", path);
    if (tok->count < 8 || tok->count > (1u << 24))
        return rl_fail(err, RL_ERR_FORMAT, "--vocab %s: %llu tokens is out of range 8..2^24", path,
                       (unsigned long long)tok->count);
    v->n = (uint32_t)tok->count;
    return RL_OK;
}

rl_status gen_vocab_load(rl_host *h, const char *spec, uint32_t n_vocab, gen_vocab **out, rl_error *err) {
    *out = NULL;
    gen_vocab *v = calloc(1, sizeof *v);
    if (!v) return rl_fail(err, RL_ERR_NOMEM, "vocabulary");
    rl_status st;
    if (!strcmp(spec, "synthetic")) {
        st = n_vocab >= 8 && n_vocab <= (1u << 24) ? synthetic(n_vocab, v, err)
                                                     : rl_fail(err, RL_ERR_INVALID, "vocabulary size %u is out of range 8..2^24", n_vocab);
    } else {
        st = from_file(h, spec, v, err);
    }
    if (st) {
        gen_vocab_free(v);
        return st;
    }
    *out = v;
    return RL_OK;
}

uint32_t gen_vocab_size(const gen_vocab *v) { return v->n; }

/* Every tokenizer.* key of the vocabulary file, by reference, whatever its type. */
static rl_status file_keys(const gen_vocab *v, gen_kvs *k, rl_error *err) {
    for (uint64_t i = 0; i < v->file->n_kv; i++) {
        const gguf_kv *kv = &v->file->kv[i];
        if (kv->key.len < 10 || memcmp(kv->key.ptr, "tokenizer.", 10) != 0) continue;
        char key[256];
        if (kv->key.len >= sizeof key) return rl_fail(err, RL_ERR_FORMAT, "--vocab: key of %llu bytes", (unsigned long long)kv->key.len);
        memcpy(key, kv->key.ptr, (size_t)kv->key.len);
        key[kv->key.len] = '\0';
        gen_kv_ref(k, key, kv->type, kv->type == GGUF_ARRAY ? kv->elem_type : kv->type, kv->count, kv->data, kv->strs);
    }
    return k->failed ? rl_fail(err, RL_ERR_NOMEM, "tokenizer keys") : RL_OK;
}

rl_status gen_vocab_keys(const gen_vocab *v, gen_kvs *k, rl_error *err) {
    if (v->file) return file_keys(v, k, err);
    static const int32_t eos_ids[] = {1, 106, 50};
    int32_t eos[3];
    uint64_t n_eos = 0;
    for (size_t i = 0; i < 3; i++)
        if ((uint32_t)eos_ids[i] < v->n) eos[n_eos++] = eos_ids[i];
    gen_kv_str(k, "tokenizer.ggml.model", "llama");
    gen_kv_str(k, "tokenizer.ggml.pre", "gemma4");
    gen_kv_strs_ref(k, "tokenizer.ggml.tokens", v->tokens, v->n);
    gen_kv_arr(k, "tokenizer.ggml.scores", GGUF_F32, v->scores, v->n);
    gen_kv_arr(k, "tokenizer.ggml.token_type", GGUF_I32, v->types, v->n);
    gen_kv_strs_ref(k, "tokenizer.ggml.merges", v->merges, v->n_merges);
    gen_kv_bool(k, "tokenizer.ggml.add_bos_token", 1);
    gen_kv_bool(k, "tokenizer.ggml.add_eos_token", 0);
    gen_kv_u32(k, "tokenizer.ggml.bos_token_id", 2);
    gen_kv_u32(k, "tokenizer.ggml.eos_token_id", 1);
    gen_kv_arr(k, "tokenizer.ggml.eos_token_ids", GGUF_I32, eos, n_eos);
    gen_kv_u32(k, "tokenizer.ggml.padding_token_id", 0);
    gen_kv_u32(k, "tokenizer.ggml.unknown_token_id", 3);
    gen_kv_u32(k, "tokenizer.ggml.mask_token_id", 4);
    return k->failed ? rl_fail(err, RL_ERR_NOMEM, "tokenizer keys") : RL_OK;
}

void gen_vocab_free(gen_vocab *v) {
    if (!v) return;
    free(v->tokens), free(v->pool), free(v->scores), free(v->types);
    if (v->file) gguf_free(v->file);
    free(v);
}
