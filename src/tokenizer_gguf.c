/* Loading the tokenizer from a GGUF header's tokenizer.ggml.* keys (gemma4.md §2.4). */
#include "tokenizer_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *gguf_str_at(const void *ctx, size_t i, size_t *len) {
    gguf_str s = gguf_arr_str((const gguf_kv *)ctx, i);
    *len = (size_t)s.len;
    return s.ptr;
}

static int is_int_type(gguf_vtype t) {
    return t == GGUF_U8 || t == GGUF_I8 || t == GGUF_U16 || t == GGUF_I16 || t == GGUF_U32 || t == GGUF_I32 ||
           t == GGUF_U64 || t == GGUF_I64;
}

/* An array key of the given element kind (strings, or any integer type); NULL if absent. */
static rl_status array_kv(const gguf_file *g, const char *key, int want_strings, const gguf_kv **out, rl_error *err) {
    const gguf_kv *kv = gguf_find_kv(g, key);
    *out = NULL;
    if (!kv) return RL_OK;
    int ok = kv->type == GGUF_ARRAY && (want_strings ? kv->elem_type == GGUF_STRING : is_int_type(kv->elem_type));
    if (!ok)
        return rl_fail(err, RL_ERR_FORMAT, "tokenizer: %s is %s%s%s, expected an array of %s", key,
                       gguf_vtype_name(kv->type), kv->type == GGUF_ARRAY ? " of " : "",
                       kv->type == GGUF_ARRAY ? gguf_vtype_name(kv->elem_type) : "",
                       want_strings ? "strings" : "integers");
    *out = kv;
    return RL_OK;
}

/* An optional token id key: *id stays as is when absent; out of range is an error. */
static rl_status id_key(const gguf_file *g, const char *key, size_t n_tokens, int32_t *id, rl_error *err) {
    uint32_t v;
    rl_status st = gguf_get_u32(g, key, &v, err);
    if (st == RL_ERR_NOT_FOUND) {
        rl_error_clear(err);
        return RL_OK;
    }
    if (st) return st;
    if (v >= n_tokens) return rl_fail(err, RL_ERR_FORMAT, "tokenizer: %s = %u is not below the vocabulary size %zu",
                                      key, v, n_tokens);
    *id = (int32_t)v;
    return RL_OK;
}

rl_status rl_tokenizer_from_gguf(const gguf_file *g, rl_tokenizer **out, rl_error *err) {
    *out = NULL;
    gguf_str model;
    rl_status st = gguf_get_str(g, "tokenizer.ggml.model", &model, err);
    if (st == RL_OK) {
        /* Ollama writes "llama" for gemma4 (a misnomer for this BPE), llama.cpp "gemma4". A
         * byte-level ("gpt2") or other vocabulary would silently tokenize wrong here. */
        if (!gguf_str_eq(model, "llama") && !gguf_str_eq(model, "gemma4"))
            return rl_fail(err, RL_ERR_UNSUPPORTED, "tokenizer: tokenizer.ggml.model \"%.*s\" is not supported "
                           "(expected \"llama\" or \"gemma4\")", (int)(model.len > 64 ? 64 : model.len), model.ptr);
    } else if (st != RL_ERR_NOT_FOUND) {
        return st;
    }
    rl_error_clear(err);

    const gguf_kv *tokens, *types, *merges, *eos_ids;
    if ((st = array_kv(g, "tokenizer.ggml.tokens", 1, &tokens, err)) ||
        (st = array_kv(g, "tokenizer.ggml.token_type", 0, &types, err)) ||
        (st = array_kv(g, "tokenizer.ggml.merges", 1, &merges, err)) ||
        (st = array_kv(g, "tokenizer.ggml.eos_token_ids", 0, &eos_ids, err)))
        return st;
    if (!tokens) return rl_fail(err, RL_ERR_NOT_FOUND, "tokenizer: the GGUF has no tokenizer.ggml.tokens");
    size_t n = (size_t)tokens->count;
    if ((uint64_t)n != tokens->count) return rl_fail(err, RL_ERR_LIMIT, "tokenizer: too many tokens");
    if (types && types->count != tokens->count)
        return rl_fail(err, RL_ERR_FORMAT, "tokenizer: tokenizer.ggml.token_type has %llu entries for %zu tokens",
                       (unsigned long long)types->count, n);

    int32_t *type_arr = NULL;
    if (types) {
        type_arr = malloc((n ? n : 1) * sizeof *type_arr);
        if (!type_arr) return rl_fail(err, RL_ERR_NOMEM, "tokenizer: cannot allocate %zu token types", n);
        for (size_t i = 0; i < n; i++) {
            int64_t v = gguf_arr_int(types, i);
            type_arr[i] = v < 0 || v > 255 ? 0 : (int32_t)v; /* unknown kinds: neither special nor byte */
        }
    }
    tok_strlist tl = {tokens, n, gguf_str_at};
    tok_strlist ml = {merges, merges ? (size_t)merges->count : 0, gguf_str_at};
    rl_tokenizer *t = NULL;
    st = tok_build(&tl, type_arr, merges ? &ml : NULL, &t, err);
    free(type_arr);
    if (st) return st;

    tok_set_defaults(t);
    if ((st = id_key(g, "tokenizer.ggml.bos_token_id", n, &t->bos, err)) ||
        (st = id_key(g, "tokenizer.ggml.eos_token_id", n, &t->eos, err)) ||
        (st = id_key(g, "tokenizer.ggml.unknown_token_id", n, &t->unk, err))) {
        rl_tokenizer_free(t);
        return st;
    }
    /* EOG (gemma4.md §7.4): eos, eos_token_ids, eot if written, <turn|>, <|tool_response>. */
    int32_t eot = -1;
    if ((st = id_key(g, "tokenizer.ggml.eot_token_id", n, &eot, err))) {
        rl_tokenizer_free(t);
        return st;
    }
    t->n_eog = 0;
    tok_add_eog(t, t->eos);
    for (uint64_t i = 0; eos_ids && i < eos_ids->count; i++) {
        int64_t id = gguf_arr_int(eos_ids, i);
        if (id < 0 || (uint64_t)id >= n) {
            rl_tokenizer_free(t);
            return rl_fail(err, RL_ERR_FORMAT, "tokenizer: tokenizer.ggml.eos_token_ids[%llu] = %lld is not a token id",
                           (unsigned long long)i, (long long)id);
        }
        tok_add_eog(t, (int32_t)id);
    }
    tok_add_eog(t, eot);
    tok_add_eog(t, rl_tokenizer_find(t, "<turn|>"));
    tok_add_eog(t, rl_tokenizer_find(t, "<|tool_response>"));
    *out = t;
    return RL_OK;
}
