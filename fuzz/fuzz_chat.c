/* libFuzzer target for the chat format. The first byte picks options; the rest
 * is model output for the parser and, when it is JSON, a conversation for the
 * renderer. Oracles: the parser gives the same result fed whole or cut at a
 * data-chosen point, every tool call's arguments parse as a JSON object, and
 * the renderer either succeeds or fails with a message and no output. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    strbuf content, thinking;
    rl_chat_parser *p;
} run;

static void parse(run *r, const char *text, size_t len, size_t cut, int think, const json_value *msgs) {
    sb_init(&r->content);
    sb_init(&r->thinking);
    r->p = rl_chat_parser_new(think);
    if (!r->p) abort();
    rl_error err = {0};
    if (rl_chat_parser_prime(r->p, msgs, msgs, &err) != RL_OK) abort();
    if (rl_chat_parser_feed(r->p, text, cut, &r->content, &r->thinking, &err) != RL_OK) abort();
    if (rl_chat_parser_feed(r->p, text + cut, len - cut, &r->content, &r->thinking, &err) != RL_OK) abort();
    if (rl_chat_parser_finish(r->p, &r->content, &r->thinking, &err) != RL_OK) abort();
}

static int same(const strbuf *a, const strbuf *b) { return a->len == b->len && (!a->len || !memcmp(a->s, b->s, a->len)); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int opts = data[0];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    json_value *v = NULL;
    rl_error err = {0};
    if (json_parse(text, len, &v, &err) != RL_OK) v = NULL;

    run whole, cut;
    size_t at = len ? (size_t)(opts * 131u) % (len + 1) : 0;
    parse(&whole, text, len, len, opts & 1, v);
    parse(&cut, text, len, at, opts & 1, v);
    if (!same(&whole.content, &cut.content) || !same(&whole.thinking, &cut.thinking)) abort();
    const rl_tool_call *a, *b;
    size_t na = rl_chat_parser_tool_calls(whole.p, &a), nb = rl_chat_parser_tool_calls(cut.p, &b);
    if (na != nb) abort();
    for (size_t i = 0; i < na; i++) {
        if (strcmp(a[i].name, b[i].name) || strcmp(a[i].arguments_json, b[i].arguments_json)) abort();
        json_value *args = NULL;
        if (json_parse(a[i].arguments_json, strlen(a[i].arguments_json), &args, &err) != RL_OK ||
            args->type != JSON_OBJECT)
            abort();
        json_free(args);
    }
    run *rs[2] = {&whole, &cut};
    for (int i = 0; i < 2; i++) {
        rl_chat_parser_free(rs[i]->p);
        sb_free(&rs[i]->content);
        sb_free(&rs[i]->thinking);
    }

    if (v) {
        rl_chat_opts o = {opts & 1, (opts >> 1) & 1, !((opts >> 2) & 1)};
        strbuf out;
        sb_init(&out);
        /* the same document serves as messages and as tools */
        rl_status st = rl_chat_render(v, (opts >> 3) & 1 ? v : NULL, &o, &out, &err);
        if (st != RL_OK && (out.len || !err.msg[0])) abort();
        if (st == RL_OK && (out.len < 5 || memcmp(out.s, "<bos>", 5))) abort();
        sb_free(&out);
        json_free(v);
    }
    return 0;
}
