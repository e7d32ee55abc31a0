#include "session.h"

#include <stdlib.h>
#include <string.h>

#include "gpu/engine.h"

#define DEFAULT_CTX 8192

struct rl_session {
    rl_host *host;
    rl_model_ref ref;
    rl_model_file mf;          /* CPU engine's file (the GPU engine owns its own) */
    rl_gpu_engine *gpu;        /* owned by the backend when set */
    rl_tokenizer *tok;
    rl_backend *b;
    rl_gen *gen;
    rl_sampler_params defaults; /* Ollama's defaults, then the model's params blob */
    json_value *params;         /* the params blob (for "stop") */
    int large;                  /* gemma4-large renderer */
    strbuf prompt;
};

static const gguf_file *session_gguf(const rl_session *s);

rl_status rl_session_open(rl_host *h, const char *spec, const rl_session_opts *opts, rl_session **out, rl_error *err) {
    rl_session *s = calloc(1, sizeof *s);
    if (!s) return rl_fail(err, RL_ERR_NOMEM, "session");
    s->host = h;
    s->mf.fd = -1;
    sb_init(&s->prompt);
    rl_status st;
    char root[4096];
    if (rl_ollama_root(h, root, sizeof root, err) != RL_OK) root[0] = '\0';
    if ((st = rl_model_resolve(h, root, spec, &s->ref, err))) goto fail;
    s->defaults = rl_sampler_defaults();
    if (s->ref.params_json) {
        if ((st = json_parse(s->ref.params_json, strlen(s->ref.params_json), &s->params, err)) ||
            (st = rl_sampler_params_apply_json(&s->defaults, s->params, err))) {
            rl_fail_ctx(err, "model params");
            goto fail;
        }
    }
    int n_ctx = opts && opts->n_ctx > 0 ? opts->n_ctx : DEFAULT_CTX;
    if (opts && opts->gpu) {
        rl_gpu_opts go = {.n_ctx = n_ctx, .ple_on_host = opts->ple_on_host};
        if ((st = rl_gpu_engine_open(h, s->ref.model_path, opts->caps, &go, &s->gpu, err))) goto fail;
        if ((st = rl_backend_gpu(s->gpu, &s->b, err))) {
            rl_gpu_engine_free(s->gpu);
            s->gpu = NULL;
            goto fail;
        }
    } else {
        if ((st = rl_model_file_open(h, s->ref.model_path, &s->mf, err)) || (st = rl_model_file_load_text(&s->mf, err)))
            goto fail;
        if (n_ctx > s->mf.model.n_ctx_train) n_ctx = s->mf.model.n_ctx_train;
        if ((st = rl_backend_cpu(&s->mf, n_ctx, &s->b, err))) goto fail;
    }
    if ((st = rl_tokenizer_from_gguf(session_gguf(s), &s->tok, err))) goto fail;
    if ((st = rl_gen_new(s->b, s->tok, h, &s->gen, err))) goto fail;
    {
        const rl_model *m = &rl_session_model_file(s)->model;
        s->large = rl_chat_is_large(s->ref.name ? s->ref.name : "", (double)m->n_params_text);
    }
    *out = s;
    return RL_OK;
fail:
    rl_session_free(s);
    return st;
}

void rl_session_free(rl_session *s) {
    if (!s) return;
    rl_gen_free(s->gen);
    if (s->b) s->b->free(s->b); /* frees the GPU engine too */
    rl_tokenizer_free(s->tok);
    if (s->mf.gguf || s->mf.fd >= 0) rl_model_file_close(&s->mf);
    rl_model_ref_free(&s->ref);
    json_free(s->params);
    sb_free(&s->prompt);
    free(s);
}

const rl_model_file *rl_session_model_file(const rl_session *s) {
    return s->gpu ? rl_gpu_engine_model_file(s->gpu) : &s->mf;
}
static const gguf_file *session_gguf(const rl_session *s) { return rl_session_model_file(s)->gguf; }
rl_gen *rl_session_gen(rl_session *s) { return s->gen; }
const rl_tokenizer *rl_session_tokenizer(const rl_session *s) { return s->tok; }
const rl_model_ref *rl_session_ref(const rl_session *s) { return &s->ref; }
rl_backend *rl_session_backend(rl_session *s) { return s->b; }
uint64_t rl_session_upload_bytes(const rl_session *s) { return s->gpu ? rl_gpu_engine_upload_bytes(s->gpu) : 0; }
uint64_t rl_session_packed_bytes(const rl_session *s) { return s->gpu ? rl_gpu_engine_packed_bytes(s->gpu) : 0; }

/* Sampling: defaults <- model params <- request options; stop strings from the
 * request, else the model's params (Ollama adds "<turn|>" at creation). */
static rl_status request_setup(rl_session *s, const json_value *body, rl_gen_request *req, rl_error *err) {
    memset(req, 0, sizeof *req);
    req->sampling = s->defaults;
    const json_value *opts = json_get(body, "options");
    if (opts && opts->type != JSON_OBJECT) return rl_fail(err, RL_ERR_INVALID, "options must be an object");
    rl_status st;
    if (opts && (st = rl_sampler_params_apply_json(&req->sampling, opts, err))) return st;
    const json_value *stop = opts ? json_get(opts, "stop") : NULL;
    if (!stop && s->params) stop = json_get(s->params, "stop");
    if (stop && stop->type == JSON_STRING) {
        req->stops[req->n_stops++] = stop->str;
    } else if (stop && stop->type == JSON_ARRAY) {
        for (size_t i = 0; i < stop->count && req->n_stops < RL_GEN_MAX_STOPS; i++) {
            if (stop->items[i].type != JSON_STRING) return rl_fail(err, RL_ERR_INVALID, "options.stop must hold strings");
            req->stops[req->n_stops++] = stop->items[i].str;
        }
    } else if (stop && stop->type != JSON_NULL) {
        return rl_fail(err, RL_ERR_INVALID, "stop must be a string or an array of strings");
    }
    return RL_OK;
}

static int think_requested(const json_value *body) {
    const json_value *t = json_get(body, "think");
    if (!t) return 0;
    if (t->type == JSON_BOOL) return t->boolean;
    return t->type == JSON_STRING && strcmp(t->str, "false") != 0; /* "low"/"medium"/"high" mean on */
}

rl_status rl_session_chat(rl_session *s, const json_value *body, rl_error *err) {
    const json_value *msgs = json_get(body, "messages"), *tools = json_get(body, "tools");
    if (!msgs || msgs->type != JSON_ARRAY) return rl_fail(err, RL_ERR_INVALID, "messages must be an array");
    if (tools && tools->type == JSON_NULL) tools = NULL;
    if (tools && tools->type != JSON_ARRAY) return rl_fail(err, RL_ERR_INVALID, "tools must be an array");
    rl_gen_request req;
    rl_status st = request_setup(s, body, &req, err);
    if (st) return st;
    rl_chat_opts co = {.think = think_requested(body), .large = s->large, .add_generation_prompt = 1};
    /* the model's default system prompt applies when the conversation has none */
    json_value *with_system = NULL;
    int has_system = 0;
    for (size_t i = 0; i < msgs->count; i++) {
        const char *role = json_get_str(&msgs->items[i], "role");
        if (role && (!strcmp(role, "system") || !strcmp(role, "developer"))) has_system = 1; /* the renderer treats both as the system turn */
    }
    if (!has_system && s->ref.system_text && s->ref.system_text[0]) {
        strbuf j;
        sb_init(&j);
        sb_puts(&j, "[{\"role\":\"system\",\"content\":");
        sb_json_str(&j, s->ref.system_text, strlen(s->ref.system_text));
        sb_puts(&j, "}]");
        st = json_parse(j.s, j.len, &with_system, err);
        sb_free(&j);
        if (st) return st;
    }
    sb_reset(&s->prompt);
    if (with_system) {
        /* render system + messages: splice by rendering a combined array */
        json_value combined = *msgs;
        json_value *items = malloc((msgs->count + 1) * sizeof *items);
        if (!items) {
            json_free(with_system);
            return rl_fail(err, RL_ERR_NOMEM, "messages");
        }
        items[0] = with_system->items[0];
        memcpy(items + 1, msgs->items, msgs->count * sizeof *items);
        combined.items = items;
        combined.count = msgs->count + 1;
        st = rl_chat_render(&combined, tools, &co, &s->prompt, err);
        free(items);
        json_free(with_system);
    } else {
        st = rl_chat_render(msgs, tools, &co, &s->prompt, err);
    }
    if (st) return st;
    req.prompt = s->prompt.s;
    req.parse_chat = 1;
    req.think = co.think;
    req.messages = msgs;
    req.tools = tools;
    return rl_gen_begin(s->gen, &req, err);
}

rl_status rl_session_generate(rl_session *s, const json_value *body, rl_error *err) {
    const char *prompt = json_get_str(body, "prompt");
    if (!prompt) return rl_fail(err, RL_ERR_INVALID, "prompt must be a string");
    rl_gen_request req;
    rl_status st = request_setup(s, body, &req, err);
    if (st) return st;
    const json_value *raw = json_get(body, "raw");
    sb_reset(&s->prompt);
    if (raw && raw->type == JSON_BOOL && raw->boolean) {
        sb_puts(&s->prompt, prompt);
        req.prompt = s->prompt.s;
        return rl_gen_begin(s->gen, &req, err);
    }
    /* a completion is a one-turn chat: optional system, then the user prompt */
    const char *system = json_get_str(body, "system");
    if (!system) system = s->ref.system_text;
    strbuf j;
    sb_init(&j);
    sb_putc(&j, '[');
    if (system && system[0]) {
        sb_puts(&j, "{\"role\":\"system\",\"content\":");
        sb_json_str(&j, system, strlen(system));
        sb_puts(&j, "},");
    }
    sb_puts(&j, "{\"role\":\"user\",\"content\":");
    sb_json_str(&j, prompt, strlen(prompt));
    sb_puts(&j, "}]");
    json_value *msgs = NULL;
    st = json_parse(j.s, j.len, &msgs, err);
    sb_free(&j);
    if (st) return st;
    rl_chat_opts co = {.think = think_requested(body), .large = s->large, .add_generation_prompt = 1};
    st = rl_chat_render(msgs, NULL, &co, &s->prompt, err);
    if (!st) {
        req.prompt = s->prompt.s;
        req.parse_chat = 1;
        req.think = co.think;
        st = rl_gen_begin(s->gen, &req, err);
    }
    json_free(msgs);
    return st;
}

void rl_session_result_json(rl_session *s, const char *content, const char *thinking, strbuf *out) {
    const rl_gen_stats *st = rl_gen_get_stats(s->gen);
    const char *reason = rl_gen_done_reason(s->gen);
    sb_puts(out, "{\"done_reason\":");
    sb_json_str(out, reason ? reason : "stop", strlen(reason ? reason : "stop"));
    if (content) {
        sb_puts(out, ",\"content\":");
        sb_json_str(out, content, strlen(content));
    }
    if (thinking && thinking[0]) {
        sb_puts(out, ",\"thinking\":");
        sb_json_str(out, thinking, strlen(thinking));
    }
    const rl_tool_call *calls;
    size_t n = rl_gen_tool_calls(s->gen, &calls);
    if (n) {
        sb_puts(out, ",\"tool_calls\":[");
        for (size_t i = 0; i < n; i++) {
            sb_printf(out, "%s{\"function\":{\"index\":%zu,\"name\":", i ? "," : "", i);
            sb_json_str(out, calls[i].name, strlen(calls[i].name));
            sb_printf(out, ",\"arguments\":%s}}", calls[i].arguments_json ? calls[i].arguments_json : "{}");
        }
        sb_putc(out, ']');
    }
    sb_printf(out,
              ",\"prompt_tokens\":%d,\"prompt_eval_count\":%d,\"prompt_eval_duration\":%.0f,\"eval_count\":%d,"
              "\"eval_duration\":%.0f}",
              st->prompt_tokens, st->prompt_evaluated, st->prompt_ms * 1e6, st->generated, st->gen_ms * 1e6);
}
