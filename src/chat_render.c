/* Prompt rendering for Gemma 4 (gemma4.md §8.2), byte for byte what Ollama's
 * gemma4 renderer (model/renderers/gemma4.go) produces: system turn with
 * <|think|> and tool declarations, one turn per message, tool calls and tool
 * results folded into the model turn, and the generation prompt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat_internal.h"

typedef struct {
    char *role; /* lower-cased, as Ollama's Message decoder does */
    const char *content, *thinking, *tool_name, *tool_call_id;
    size_t content_len, thinking_len, tool_name_len, tool_call_id_len;
    const json_value *tool_calls; /* array or NULL */
    size_t n_tool_calls, n_images;
} chat_msg;

static int str_field(const json_value *obj, const char *key, const char **s, size_t *n, size_t idx, rl_error *err) {
    int bad = 0;
    const json_value *v = chat_get_str(obj, key, &bad);
    if (bad) return rl_fail(err, RL_ERR_INVALID, "messages[%zu].%s: expected a string", idx, key);
    *s = v ? v->str : "";
    *n = v ? v->str_len : 0;
    return RL_OK;
}

static rl_status check_tool_calls(const json_value *calls, size_t idx, rl_error *err) {
    for (size_t j = 0; j < calls->count; j++) {
        const json_value *tc = &calls->items[j];
        if (tc->type == JSON_NULL) continue;
        if (tc->type != JSON_OBJECT)
            return rl_fail(err, RL_ERR_INVALID, "messages[%zu].tool_calls[%zu]: expected an object", idx, j);
        int bad = 0;
        chat_get_str(tc, "id", &bad);
        if (bad) return rl_fail(err, RL_ERR_INVALID, "messages[%zu].tool_calls[%zu].id: expected a string", idx, j);
        const json_value *fn = chat_get(tc, "function");
        if (!fn || fn->type == JSON_NULL) continue;
        if (fn->type != JSON_OBJECT)
            return rl_fail(err, RL_ERR_INVALID, "messages[%zu].tool_calls[%zu].function: expected an object", idx, j);
        chat_get_str(fn, "name", &bad);
        if (bad)
            return rl_fail(err, RL_ERR_INVALID, "messages[%zu].tool_calls[%zu].function.name: expected a string", idx,
                           j);
        const json_value *args = chat_get(fn, "arguments");
        if (args && args->type != JSON_NULL && args->type != JSON_OBJECT)
            return rl_fail(err, RL_ERR_INVALID,
                           "messages[%zu].tool_calls[%zu].function.arguments: expected an object", idx, j);
    }
    return RL_OK;
}

static rl_status read_message(const json_value *v, size_t idx, chat_msg *m, rl_error *err) {
    memset(m, 0, sizeof *m);
    if (v->type != JSON_OBJECT) return rl_fail(err, RL_ERR_INVALID, "messages[%zu]: expected an object", idx);
    const char *role;
    size_t role_len;
    rl_status st;
    if ((st = str_field(v, "role", &role, &role_len, idx, err)) || (st = str_field(v, "content", &m->content, &m->content_len, idx, err)) ||
        (st = str_field(v, "thinking", &m->thinking, &m->thinking_len, idx, err)) ||
        (st = str_field(v, "tool_name", &m->tool_name, &m->tool_name_len, idx, err)) ||
        (st = str_field(v, "tool_call_id", &m->tool_call_id, &m->tool_call_id_len, idx, err)))
        return st;
    m->role = malloc(role_len + 1);
    if (!m->role) return rl_fail(err, RL_ERR_NOMEM, "out of memory reading messages[%zu]", idx);
    for (size_t i = 0; i < role_len; i++) {
        char c = role[i];
        m->role[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    m->role[role_len] = '\0';
    const json_value *calls = chat_get(v, "tool_calls");
    if (calls && calls->type != JSON_NULL) {
        if (calls->type != JSON_ARRAY)
            return rl_fail(err, RL_ERR_INVALID, "messages[%zu].tool_calls: expected an array", idx);
        if ((st = check_tool_calls(calls, idx, err))) return st;
        m->tool_calls = calls;
        m->n_tool_calls = calls->count;
    }
    const json_value *images = chat_get(v, "images");
    if (images && images->type != JSON_NULL) {
        if (images->type != JSON_ARRAY)
            return rl_fail(err, RL_ERR_INVALID, "messages[%zu].images: expected an array", idx);
        m->n_images = images->count;
    }
    return RL_OK;
}

/* Content with its [img-N] tags (renderContentWithImageTags): tags go in
 * front, followed by a space when the text starts with a non-space; "[img]"
 * placeholders are filled instead; text that already has "[img-" is left as is. */
static void put_content(strbuf *sb, const char *s, size_t n, size_t n_images, size_t *image_offset) {
    if (n_images == 0) {
        sb_append(sb, s, n);
        return;
    }
    if (chat_find(s, n, "[img-", 0) < n) {
        sb_append(sb, s, n);
        *image_offset += n_images;
        return;
    }
    strbuf cur, prefix;
    sb_init(&cur);
    sb_init(&prefix);
    sb_append(&cur, s, n);
    for (size_t i = 0; i < n_images; i++) {
        char tag[32];
        int tl = snprintf(tag, sizeof tag, "[img-%zu]", *image_offset + i);
        size_t at = cur.s ? chat_find(cur.s, cur.len, "[img]", 0) : 0;
        if (cur.len > 0 && at < cur.len) {
            strbuf next;
            sb_init(&next);
            sb_append(&next, cur.s, at);
            sb_append(&next, tag, (size_t)tl);
            sb_append(&next, cur.s + at + 5, cur.len - at - 5);
            if (next.failed) cur.failed = 1;
            sb_free(&cur);
            cur = next;
        } else {
            sb_append(&prefix, tag, (size_t)tl);
        }
    }
    if (prefix.len > 0 && cur.len > 0) {
        uint32_t cp;
        chat_utf8_decode(cur.s, cur.len, &cp);
        if (cp != 0xFFFD && !chat_is_space(cp)) sb_putc(&prefix, ' ');
    }
    if (prefix.failed || cur.failed) sb->failed = 1;
    if (prefix.len) sb_append(sb, prefix.s, prefix.len);
    if (cur.len) sb_append(sb, cur.s, cur.len);
    sb_free(&prefix);
    sb_free(&cur);
    *image_offset += n_images;
}

/* Earlier model output loses its <|channel>…<channel|> blocks (an unclosed
 * block drops the rest), then is trimmed (stripThinking). */
static void strip_thinking(const char *s, size_t n, strbuf *out) {
    size_t i = 0;
    for (;;) {
        size_t start = chat_find(s, n, "<|channel>", i);
        if (start >= n) {
            sb_append(out, s + i, n - i);
            break;
        }
        sb_append(out, s + i, start - i);
        size_t end = chat_find(s, n, "<channel|>", start);
        if (end >= n) break;
        i = end + strlen("<channel|>");
    }
}

static void put_tool_call(strbuf *sb, const json_value *tc) {
    const json_value *fn = chat_get(tc, "function");
    const json_value *name = chat_get(fn, "name");
    sb_puts(sb, "<|tool_call>call:");
    if (name && name->type == JSON_STRING) sb_append(sb, name->str, name->str_len);
    const json_value *args = chat_get(fn, "arguments");
    json_value empty = {.type = JSON_OBJECT};
    chat_format_value(sb, args && args->type == JSON_OBJECT ? args : &empty, &CHAT_STYLE_ARG);
    sb_puts(sb, "<tool_call|>");
}

/* The tool name of a result: its tool_name (else "unknown"), overridden by the
 * call whose id matches tool_call_id. */
static void tool_response_name(const chat_msg *m, const chat_msg *caller, const char **s, size_t *n) {
    *s = m->tool_name_len ? m->tool_name : "unknown";
    *n = m->tool_name_len ? m->tool_name_len : strlen("unknown");
    if (m->tool_call_id_len == 0) return;
    for (size_t j = 0; j < caller->n_tool_calls; j++) {
        const json_value *tc = &caller->tool_calls->items[j];
        const json_value *id = chat_get(tc, "id");
        if (!id || id->type != JSON_STRING || id->str_len != m->tool_call_id_len ||
            memcmp(id->str, m->tool_call_id, id->str_len) != 0)
            continue;
        const json_value *name = chat_get(chat_get(tc, "function"), "name");
        *s = name && name->type == JSON_STRING ? name->str : "";
        *n = name && name->type == JSON_STRING ? name->str_len : 0;
        return;
    }
}

enum { PREV_NONE, PREV_TOOL_CALL, PREV_TOOL_RESPONSE };

static void render(const chat_msg *msgs, size_t n_msgs, const json_value *tools, const rl_chat_opts *opts,
                   strbuf *sb, strbuf *tmp) {
    size_t image_offset = 0;
    int think = opts->think != 0;
    sb_puts(sb, "<bos>");

    int has_system = n_msgs > 0 && (strcmp(msgs[0].role, "system") == 0 || strcmp(msgs[0].role, "developer") == 0);
    size_t n_tools = tools && tools->type == JSON_ARRAY ? tools->count : 0;
    const chat_msg *loop = has_system ? msgs + 1 : msgs;
    size_t n_loop = has_system ? n_msgs - 1 : n_msgs;
    if (has_system || n_tools > 0 || think) {
        sb_puts(sb, "<|turn>system\n");
        if (think) sb_puts(sb, "<|think|>\n");
        if (has_system) {
            const char *s = msgs[0].content;
            size_t n = msgs[0].content_len;
            chat_trim(&s, &n);
            sb_append(sb, s, n);
        }
        chat_render_tools(sb, tools, NULL); /* validated by the caller */
        sb_puts(sb, "<turn|>\n");
    }

    long last_user = -1;
    for (size_t i = 0; i < n_loop; i++)
        if (strcmp(loop[i].role, "user") == 0) last_user = (long)i;

    int prev_type = PREV_NONE;
    const char *prev_non_tool_role = "";
    for (size_t i = 0; i < n_loop; i++) {
        const chat_msg *m = &loop[i];
        if (strcmp(m->role, "tool") == 0) continue;
        prev_type = PREV_NONE;
        int is_assistant = strcmp(m->role, "assistant") == 0;
        const char *role = is_assistant ? "model" : m->role;
        int is_model = strcmp(role, "model") == 0;

        if (!(is_model && strcmp(prev_non_tool_role, "assistant") == 0)) {
            sb_puts(sb, "<|turn>");
            sb_puts(sb, role);
            sb_putc(sb, '\n');
        }
        if (is_assistant && m->thinking_len > 0 && (long)i > last_user) {
            sb_puts(sb, "<|channel>thought\n");
            sb_append(sb, m->thinking, m->thinking_len);
            sb_puts(sb, "\n<channel|>");
        }
        if (m->n_tool_calls > 0) {
            for (size_t j = 0; j < m->n_tool_calls; j++) put_tool_call(sb, &m->tool_calls->items[j]);
            prev_type = PREV_TOOL_CALL;
        }
        int responses = 0;
        if (m->n_tool_calls > 0) {
            for (size_t k = i + 1; k < n_loop && strcmp(loop[k].role, "tool") == 0; k++) {
                const char *name;
                size_t name_len;
                tool_response_name(&loop[k], m, &name, &name_len);
                sb_puts(sb, "<|tool_response>response:");
                sb_append(sb, name, name_len);
                sb_puts(sb, "{value:" CHAT_Q);
                put_content(sb, loop[k].content, loop[k].content_len, loop[k].n_images, &image_offset);
                sb_puts(sb, CHAT_Q "}<tool_response|>");
                responses = 1;
                prev_type = PREV_TOOL_RESPONSE;
            }
        }

        int had_content = 0;
        const char *s = m->content;
        size_t n = m->content_len;
        if (is_model) {
            if (n > 0 || m->n_images > 0) {
                sb_reset(tmp);
                strip_thinking(s, n, tmp);
                s = tmp->s ? tmp->s : "";
                n = tmp->len;
                chat_trim(&s, &n);
                put_content(sb, s, n, m->n_images, &image_offset);
                had_content = n > 0 || m->n_images > 0;
            }
        } else {
            chat_trim(&s, &n);
            put_content(sb, s, n, m->n_images, &image_offset);
            had_content = n > 0 || m->n_images > 0;
        }

        const char *next_role = "";
        for (size_t k = i + 1; k < n_loop; k++) {
            if (strcmp(loop[k].role, "tool") != 0) {
                next_role = loop[k].role;
                break;
            }
        }
        int continues = is_model && strcmp(next_role, "assistant") == 0 && (m->n_tool_calls == 0 || responses);
        if (prev_type == PREV_TOOL_CALL && !responses) {
            sb_puts(sb, "<|tool_response>"); /* the model goes on with the tool result */
        } else if (!continues && !(responses && !had_content && next_role[0] == '\0')) {
            sb_puts(sb, "<turn|>\n");
        }
        prev_non_tool_role = m->role;
    }

    if (!opts->add_generation_prompt) return;
    if (prev_type != PREV_TOOL_RESPONSE && prev_type != PREV_TOOL_CALL) {
        sb_puts(sb, "<|turn>model\n");
        if (opts->large && !think) sb_puts(sb, "<|channel>thought\n<channel|>");
    } else if (prev_type == PREV_TOOL_RESPONSE && think) {
        sb_puts(sb, "<|channel>thought\n");
    }
}

rl_status rl_chat_render(const json_value *messages, const json_value *tools, const rl_chat_opts *opts, strbuf *out,
                         rl_error *err) {
    if (!opts || !out) return rl_fail(err, RL_ERR_INVALID, "rl_chat_render: missing options or output");
    if (messages && messages->type != JSON_NULL && messages->type != JSON_ARRAY)
        return rl_fail(err, RL_ERR_INVALID, "messages: expected an array");
    size_t n = messages && messages->type == JSON_ARRAY ? messages->count : 0;
    chat_msg *msgs = calloc(n ? n : 1, sizeof *msgs);
    if (!msgs) return rl_fail(err, RL_ERR_NOMEM, "out of memory rendering %zu messages", n);
    rl_status st = RL_OK;
    for (size_t i = 0; i < n && !st; i++) st = read_message(&messages->items[i], i, &msgs[i], err);
    if (!st) {
        /* validate the tools before writing anything */
        strbuf scratch;
        sb_init(&scratch);
        st = chat_render_tools(&scratch, tools, err);
        sb_free(&scratch);
    }
    if (!st) {
        strbuf tmp;
        sb_init(&tmp);
        render(msgs, n, tools, opts, out, &tmp);
        if (tmp.failed || out->failed) st = rl_fail(err, RL_ERR_NOMEM, "out of memory rendering the prompt");
        sb_free(&tmp);
    }
    for (size_t i = 0; i < n; i++) free(msgs[i].role);
    free(msgs);
    return st;
}

static int contains_ci(const char *s, const char *needle) {
    size_t n = strlen(s), m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++) {
        size_t j = 0;
        for (; j < m; j++) {
            char c = s[i + j];
            if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
            if (c != needle[j]) break;
        }
        if (j == m) return 1;
    }
    return 0;
}

int rl_chat_is_large(const char *model_name, double n_params) {
    if (model_name) {
        if (contains_ci(model_name, "e2b") || contains_ci(model_name, "e4b")) return 0;
        if (contains_ci(model_name, "12b") || contains_ci(model_name, "26b") || contains_ci(model_name, "31b"))
            return 1;
    }
    return n_params >= 12e9;
}
