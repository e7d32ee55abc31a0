/* Streaming parser for Gemma 4 output (gemma4.md §8.3), after Ollama's gemma4
 * parser (model/parsers/gemma4.go): content, thinking from
 * "<|channel>thought\n…<channel|>", tool calls from
 * "<|tool_call>call:NAME{…}<tool_call|>".
 *
 * The result does not depend on how the text is split into pieces: text that
 * the next piece could still change (a partial tag, whitespace that is trimmed
 * if a tag follows, an incomplete UTF-8 sequence) is held back until it is
 * decided or the stream ends. It equals what Ollama's parser returns for the
 * whole text at once, except that tags are taken in the order they appear,
 * as Ollama's parser does when fed token by token. */
#include <stdlib.h>
#include <string.h>

#include "chat_internal.h"

#define TAG_THINK_OPEN "<|channel>"
#define TAG_THINK_CLOSE "<channel|>"
#define TAG_CALL_OPEN "<|tool_call>"
#define TAG_CALL_CLOSE "<tool_call|>"
#define TAG_RESPONSE "<|tool_response>"
#define CHANNEL_NAME "thought\n"

enum { ST_CONTENT, ST_THINKING, ST_TOOL_CALL, ST_AFTER_TOOL_CALL };

struct rl_chat_parser {
    int think;      /* thinking requested: thought text is reported, else dropped */
    int state;
    int strip_name; /* just entered the channel: drop its name "thought\n" */
    int skip_space; /* just left the channel: drop whitespace before the content */
    strbuf buf;     /* undecided text starts at buf.s + head */
    size_t head;
    chat_tool_schemas schemas;
    rl_tool_call *calls;
    size_t n_calls, cap_calls;
    int oom;
};

rl_chat_parser *rl_chat_parser_new(int think) {
    rl_chat_parser *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->think = think != 0;
    p->state = ST_CONTENT;
    sb_init(&p->buf);
    return p;
}

void rl_chat_parser_free(rl_chat_parser *p) {
    if (!p) return;
    for (size_t i = 0; i < p->n_calls; i++) {
        free(p->calls[i].name);
        free(p->calls[i].arguments_json);
    }
    free(p->calls);
    chat_tool_schemas_free(&p->schemas);
    sb_free(&p->buf);
    free(p);
}

rl_status rl_chat_parser_prime(rl_chat_parser *p, const json_value *messages, const json_value *tools,
                               rl_error *err) {
    chat_tool_schemas_free(&p->schemas);
    rl_status st = chat_tool_schemas_init(&p->schemas, tools, err);
    if (st) return st;
    /* After a tool result with thinking on, the prompt ends inside the thought
     * channel ("<|channel>thought\n"), so the output starts with thinking. */
    if (p->think && messages && messages->type == JSON_ARRAY && messages->count > 0) {
        const json_value *role = chat_get(&messages->items[messages->count - 1], "role");
        if (role && role->type == JSON_STRING && role->str_len == 4) {
            char r[5];
            for (size_t i = 0; i < 4; i++) {
                char c = role->str[i];
                r[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
            }
            r[4] = '\0';
            if (strcmp(r, "tool") == 0) {
                p->state = ST_THINKING;
                p->strip_name = 0;
            }
        }
    }
    return RL_OK;
}

size_t rl_chat_parser_tool_calls(const rl_chat_parser *p, const rl_tool_call **calls) {
    if (calls) *calls = p->calls;
    return p->n_calls;
}

/* ---- buffer ---- */

static const char *pending(const rl_chat_parser *p, size_t *n) {
    *n = p->buf.len - p->head;
    return p->buf.s ? p->buf.s + p->head : "";
}

static void consume(rl_chat_parser *p, size_t k) {
    p->head += k;
    if (p->head == p->buf.len) {
        sb_reset(&p->buf);
        p->head = 0;
    } else if (p->head > 4096 && p->head > p->buf.len / 2) {
        memmove(p->buf.s, p->buf.s + p->head, p->buf.len - p->head + 1);
        p->buf.len -= p->head;
        p->head = 0;
    }
}

static void emit(strbuf *to, const char *s, size_t n) {
    if (to && n) sb_append(to, s, n);
}

static size_t tag_len(const char *tag) { return strlen(tag); }

/* How much of the end of s must wait: a partial tag (else an incomplete UTF-8
 * sequence) plus the whitespace in front of it. Returns where the held part starts. */
static size_t decided_prefix(const char *s, size_t n, const char *tag1, const char *tag2) {
    size_t hold = chat_overlap(s, n, tag1);
    if (tag2) {
        size_t h2 = chat_overlap(s, n, tag2);
        if (h2 > hold) hold = h2;
    }
    if (hold == 0) hold = chat_utf8_incomplete_tail(s, n);
    return chat_trim_right_index(s, n - hold);
}

static void add_tool_call(rl_chat_parser *p, const char *s, size_t n) {
    char *name, *args;
    rl_status st = chat_parse_tool_call(s, n, &p->schemas, &name, &args);
    if (st == RL_ERR_NOMEM) p->oom = 1;
    if (st != RL_OK) return; /* a call that cannot be understood is dropped, as Ollama does */
    if (p->n_calls == p->cap_calls) {
        size_t cap = p->cap_calls ? 2 * p->cap_calls : 4;
        rl_tool_call *c = realloc(p->calls, cap * sizeof *c);
        if (!c) {
            free(name);
            free(args);
            p->oom = 1;
            return;
        }
        p->calls = c;
        p->cap_calls = cap;
    }
    p->calls[p->n_calls++] = (rl_tool_call){name, args};
}

/* ---- states; each returns 1 when it changed state and should run again ---- */

static int step_content(rl_chat_parser *p, int done, strbuf *content) {
    size_t n;
    const char *s = pending(p, &n);
    if (p->skip_space) {
        size_t k = chat_skip_space(s, n, 0);
        consume(p, k);
        s = pending(p, &n);
        if (n == 0 || (!done && n == chat_utf8_incomplete_tail(s, n))) return 0;
        p->skip_space = 0;
    }
    size_t a = chat_find(s, n, TAG_THINK_OPEN, 0), b = chat_find(s, n, TAG_CALL_OPEN, 0);
    if (a < n || b < n) {
        int think = a < b;
        size_t at = think ? a : b;
        emit(content, s, chat_trim_right_index(s, at));
        consume(p, at + tag_len(think ? TAG_THINK_OPEN : TAG_CALL_OPEN));
        p->state = think ? ST_THINKING : ST_TOOL_CALL;
        p->strip_name = think;
        return 1;
    }
    size_t keep = done ? n : decided_prefix(s, n, TAG_THINK_OPEN, TAG_CALL_OPEN);
    emit(content, s, keep);
    consume(p, keep);
    return 0;
}

static int step_thinking(rl_chat_parser *p, int done, strbuf *thinking) {
    size_t n;
    const char *s = pending(p, &n);
    strbuf *out = p->think ? thinking : NULL;
    if (p->strip_name) {
        size_t m = tag_len(CHANNEL_NAME);
        if (n >= m && memcmp(s, CHANNEL_NAME, m) == 0) {
            consume(p, m);
            s = pending(p, &n);
        } else if (!done && n < m && memcmp(s, CHANNEL_NAME, n) == 0) {
            return 0; /* could still become "thought\n" */
        }
        p->strip_name = 0;
    }
    size_t at = chat_find(s, n, TAG_THINK_CLOSE, 0);
    if (at < n) {
        emit(out, s, chat_trim_right_index(s, at));
        consume(p, at + tag_len(TAG_THINK_CLOSE));
        p->state = ST_CONTENT;
        p->skip_space = 1;
        return 1;
    }
    size_t keep = done ? n : decided_prefix(s, n, TAG_THINK_CLOSE, NULL);
    emit(out, s, keep);
    consume(p, keep);
    return 0;
}

static int step_tool_call(rl_chat_parser *p, int done) {
    size_t n;
    const char *s = pending(p, &n);
    size_t at = chat_find(s, n, TAG_CALL_CLOSE, 0);
    if (at < n) {
        add_tool_call(p, s, at);
        consume(p, at + tag_len(TAG_CALL_CLOSE));
        p->state = ST_AFTER_TOOL_CALL;
        return 1;
    }
    if (done && n > 0) { /* generation stopped before the closing tag */
        add_tool_call(p, s, n);
        consume(p, n);
        p->state = ST_CONTENT;
    }
    return 0;
}

/* Ollama drops extra <tool_call|> and a <|tool_response> right after a call. */
static int step_after_tool_call(rl_chat_parser *p, int done) {
    size_t n;
    const char *s = pending(p, &n);
    for (;;) {
        consume(p, chat_skip_space(s, n, 0));
        s = pending(p, &n);
        if (chat_has_prefix(s, n, TAG_CALL_CLOSE)) {
            consume(p, tag_len(TAG_CALL_CLOSE));
        } else if (chat_has_prefix(s, n, TAG_RESPONSE)) {
            consume(p, tag_len(TAG_RESPONSE));
        } else {
            break;
        }
        s = pending(p, &n);
    }
    if (n == 0 || (!done && n == chat_utf8_incomplete_tail(s, n))) return 0;
    int partial = (n < tag_len(TAG_CALL_CLOSE) && memcmp(s, TAG_CALL_CLOSE, n) == 0) ||
                  (n < tag_len(TAG_RESPONSE) && memcmp(s, TAG_RESPONSE, n) == 0);
    if (partial) {
        if (!done) return 0;
        consume(p, n); /* a partial noise tag at the very end is dropped */
        p->state = ST_CONTENT;
        return 0;
    }
    p->state = ST_CONTENT;
    return 1;
}

static rl_status run(rl_chat_parser *p, int done, strbuf *content, strbuf *thinking, rl_error *err) {
    for (int again = 1; again;) {
        switch (p->state) {
        case ST_CONTENT: again = step_content(p, done, content); break;
        case ST_THINKING: again = step_thinking(p, done, thinking); break;
        case ST_TOOL_CALL: again = step_tool_call(p, done); break;
        default: again = step_after_tool_call(p, done); break;
        }
    }
    if (p->oom || p->buf.failed || (content && content->failed) || (thinking && thinking->failed))
        return rl_fail(err, RL_ERR_NOMEM, "out of memory parsing model output");
    return RL_OK;
}

rl_status rl_chat_parser_feed(rl_chat_parser *p, const char *text, size_t len, strbuf *content, strbuf *thinking,
                              rl_error *err) {
    if (len) sb_append(&p->buf, text, len);
    return run(p, 0, content, thinking, err);
}

rl_status rl_chat_parser_finish(rl_chat_parser *p, strbuf *content, strbuf *thinking, rl_error *err) {
    return run(p, 1, content, thinking, err);
}
