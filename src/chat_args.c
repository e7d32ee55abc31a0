/* Tool-call arguments from model output: "call:NAME{k:v,…}" in Gemma 4's DSL
 * (unquoted keys, strings between <|"|> delimiters) to a JSON object, the way
 * Ollama's parser does it (parseGemma4ToolCall): convert to JSON text, parse,
 * and when that fails try its small set of repairs (single-quoted values, a
 * missing closing delimiter, an unquoted string value where the tool schema
 * says the argument is a string). The result is re-serialized compactly as Go
 * would send it: top-level keys in the order the model wrote them, nested
 * object keys sorted, numbers in Go's float64 form. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chat_internal.h"

/* ---- DSL to JSON text ---- */

typedef struct {
    size_t start, end; /* a <|"|>…<|"|> string, delimiters included */
} q_span;

/* The <|"|>…<|"|> pairs, leftmost and shortest first (Go's (?s)<\|"\|>(.*?)<\|"\|>). */
static size_t find_q_spans(const char *s, size_t n, q_span **out) {
    size_t count = 0, cap = 0;
    *out = NULL;
    for (size_t i = 0;;) {
        size_t a = chat_find(s, n, CHAT_Q, i);
        if (a >= n) break;
        size_t b = chat_find(s, n, CHAT_Q, a + CHAT_Q_LEN);
        if (b >= n) break;
        if (count == cap) {
            cap = cap ? 2 * cap : 8;
            q_span *p = realloc(*out, cap * sizeof *p);
            if (!p) return (size_t)-1;
            *out = p;
        }
        (*out)[count++] = (q_span){a, b + CHAT_Q_LEN};
        i = b + CHAT_Q_LEN;
    }
    return count;
}

/* End (one past the closing quote) of a JSON string starting at s[i] == '"',
 * the <|"|> strings counting as plain text; 0 when it does not close. */
static size_t json_quoted_end(const char *s, size_t n, size_t i, const q_span *sp, size_t ns, size_t k) {
    int escaped = 0;
    for (size_t j = i + 1; j < n;) {
        while (k < ns && sp[k].end <= j) k++;
        if (k < ns && sp[k].start == j) {
            j = sp[k].end;
            escaped = 0;
            continue;
        }
        if (s[j] == '"' && !escaped) return j + 1;
        escaped = s[j] == '\\' && !escaped;
        j++;
    }
    return 0;
}

/* Copy s[a, b), writing the <|"|> strings inside it as JSON strings. */
static void copy_with_spans(strbuf *out, const char *s, size_t a, size_t b, const q_span *sp, size_t ns, size_t *k) {
    while (a < b) {
        while (*k < ns && sp[*k].end <= a) (*k)++;
        if (*k < ns && sp[*k].start == a) {
            chat_json_str(out, s + a + CHAT_Q_LEN, sp[*k].end - a - 2 * CHAT_Q_LEN);
            a = sp[*k].end;
            continue;
        }
        size_t stop = *k < ns && sp[*k].start < b ? sp[*k].start : b;
        sb_append(out, s + a, stop - a);
        a = stop;
    }
}

static size_t bare_key_end(const char *s, size_t n, size_t i) {
    while (i < n) {
        uint32_t cp;
        size_t len = chat_utf8_decode(s + i, n - i, &cp);
        if (!chat_is_word(cp) || (cp == 0xFFFD && len == 1)) break;
        i += len;
    }
    return i;
}

void chat_args_to_json(const char *s, size_t n, strbuf *out) {
    q_span *sp;
    size_t ns = find_q_spans(s, n, &sp);
    if (ns == (size_t)-1) {
        out->failed = 1;
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        while (k < ns && sp[k].end <= i) k++;
        if (k < ns && sp[k].start == i) {
            chat_json_str(out, s + i + CHAT_Q_LEN, sp[k].end - i - 2 * CHAT_Q_LEN);
            i = sp[k++].end;
            continue;
        }
        char c = s[i];
        if (c == '"') {
            size_t end = json_quoted_end(s, n, i, sp, ns, k);
            if (end) {
                copy_with_spans(out, s, i, end, sp, ns, &k);
                i = end;
                continue;
            }
        }
        sb_putc(out, c);
        i++;
        if (c != '{' && c != ',') continue;
        size_t ws = chat_skip_space(s, n, i);
        sb_append(out, s + i, ws - i);
        i = ws;
        size_t ke = bare_key_end(s, n, i);
        if (ke > i && ke < n && s[ke] == ':') {
            sb_putc(out, '"');
            sb_append(out, s + i, ke - i);
            sb_puts(out, "\":");
            i = ke + 1;
        }
    }
    free(sp);
}

/* ---- repairs ---- */

/* gemma4JSONQuotedStringEnd on plain text: 0 when unterminated. */
static size_t plain_quoted_end(const char *s, size_t n, size_t i) { return json_quoted_end(s, n, i, NULL, 0, 0); }

/* A single-quoted value starting at s[i] == '\'': its text and end, backslash
 * escapes kept as written. */
static int single_quoted(const char *s, size_t n, size_t i, size_t *vs, size_t *ve, size_t *end) {
    int escaped = 0;
    for (size_t j = i + 1; j < n; j++) {
        if (s[j] == '\'' && !escaped) {
            *vs = i + 1, *ve = j, *end = j + 1;
            return 1;
        }
        escaped = s[j] == '\\' && !escaped;
    }
    return 0;
}

void chat_repair_single_quoted(const char *s, size_t n, strbuf *out) {
    for (size_t i = 0; i < n;) {
        if (chat_has_prefix(s + i, n - i, CHAT_Q)) {
            size_t close = chat_find(s, n, CHAT_Q, i + CHAT_Q_LEN);
            if (close >= n) {
                sb_append(out, s + i, n - i);
                break;
            }
            sb_append(out, s + i, close + CHAT_Q_LEN - i);
            i = close + CHAT_Q_LEN;
            continue;
        }
        if (s[i] == '"') {
            size_t end = plain_quoted_end(s, n, i);
            if (end) {
                sb_append(out, s + i, end - i);
                i = end;
                continue;
            }
        }
        sb_putc(out, s[i]);
        if (s[i++] != ':') continue;
        size_t ws = chat_skip_space(s, n, i);
        sb_append(out, s + i, ws - i);
        i = ws;
        size_t vs, ve, end;
        if (i >= n || s[i] != '\'' || !single_quoted(s, n, i, &vs, &ve, &end)) continue;
        sb_puts(out, CHAT_Q);
        sb_append(out, s + vs, ve - vs);
        sb_puts(out, CHAT_Q);
        i = end;
        if (chat_has_prefix(s + i, n - i, CHAT_Q)) i += CHAT_Q_LEN; /* a stray delimiter after the quote */
    }
}

void chat_repair_missing_delimiter(const char *s, size_t n, strbuf *out) {
    size_t count = 0;
    for (size_t i = chat_find(s, n, CHAT_Q, 0); i < n; i = chat_find(s, n, CHAT_Q, i + CHAT_Q_LEN)) count++;
    if (count % 2 == 0) {
        sb_append(out, s, n);
        return;
    }
    size_t at = chat_trim_right_index(s, n);
    if (at > 0 && (s[at - 1] == '}' || s[at - 1] == ']')) at--; /* close the string before the structure */
    sb_append(out, s, at);
    sb_puts(out, CHAT_Q);
    sb_append(out, s + at, n - at);
}

void chat_repair_missing_object_close(const char *s, size_t n, strbuf *out) {
    size_t start = chat_skip_space(s, n, 0);
    size_t end = chat_trim_right_index(s, n);
    if (start >= n || s[start] != '{' || (end > 0 && s[end - 1] == '}')) {
        sb_append(out, s, n);
        return;
    }
    sb_append(out, s, end);
    sb_putc(out, '}');
    sb_append(out, s + end, n - end);
}

/* ---- schema-gated repair of an unquoted string value ---- */

static int equal_fold_string(const json_value *v) {
    static const char want[] = "string";
    if (!v || v->type != JSON_STRING || v->str_len != 6) return 0;
    for (size_t i = 0; i < 6; i++) {
        char c = v->str[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != want[i]) return 0;
    }
    return 1;
}

static int accepts_string(const json_value *p, int depth) {
    if (!p || p->type != JSON_OBJECT || depth > JSON_MAX_DEPTH) return 0;
    const json_value *t = chat_get(p, "type");
    if (equal_fold_string(t)) return 1;
    if (t && t->type == JSON_ARRAY)
        for (size_t i = 0; i < t->count; i++)
            if (equal_fold_string(&t->items[i])) return 1;
    const json_value *any = chat_get(p, "anyOf");
    if (any && any->type == JSON_ARRAY)
        for (size_t i = 0; i < any->count; i++)
            if (accepts_string(&any->items[i], depth + 1)) return 1;
    return 0;
}

static char *dup_str(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

void chat_tool_schemas_free(chat_tool_schemas *ts) {
    for (size_t i = 0; i < ts->n_tools; i++) {
        for (size_t j = 0; j < ts->tools[i].n_props; j++) free(ts->tools[i].props[j].name);
        free(ts->tools[i].props);
        free(ts->tools[i].name);
    }
    free(ts->tools);
    ts->tools = NULL;
    ts->n_tools = 0;
}

rl_status chat_tool_schemas_init(chat_tool_schemas *ts, const json_value *tools, rl_error *err) {
    ts->tools = NULL;
    ts->n_tools = 0;
    if (!tools || tools->type != JSON_ARRAY || tools->count == 0) return RL_OK;
    ts->tools = calloc(tools->count, sizeof *ts->tools);
    if (!ts->tools) return rl_fail(err, RL_ERR_NOMEM, "out of memory reading %zu tools", tools->count);
    for (size_t i = 0; i < tools->count; i++) {
        const json_value *fn = chat_get(&tools->items[i], "function");
        const json_value *name = chat_get(fn, "name");
        const json_value *props = chat_get(chat_get(fn, "parameters"), "properties");
        chat_tool_info *t = &ts->tools[ts->n_tools++];
        t->name = name && name->type == JSON_STRING ? dup_str(name->str, name->str_len) : dup_str("", 0);
        if (!t->name) goto oom;
        if (!props || props->type != JSON_OBJECT) continue;
        t->has_props = 1;
        chat_member *m;
        size_t n = chat_ordered_members(props, &m);
        if (n == (size_t)-1) goto oom;
        t->props = calloc(n ? n : 1, sizeof *t->props);
        if (!t->props) {
            free(m);
            goto oom;
        }
        for (size_t j = 0; j < n; j++) {
            t->props[j].name = dup_str(m[j].key, strlen(m[j].key));
            t->props[j].accepts_string = accepts_string(m[j].val, 0);
            if (!t->props[j].name) {
                t->n_props = j;
                free(m);
                goto oom;
            }
        }
        t->n_props = n;
        free(m);
    }
    return RL_OK;
oom:
    chat_tool_schemas_free(ts);
    return rl_fail(err, RL_ERR_NOMEM, "out of memory reading the tool schemas");
}

/* Where the value of `key` starts (after its colon), skipping strings; 0 when absent. */
static size_t value_start_for_key(const char *s, size_t n, const char *key, size_t from) {
    size_t kl = strlen(key);
    for (size_t i = from; i < n; i++) {
        if (chat_has_prefix(s + i, n - i, CHAT_Q)) {
            size_t close = chat_find(s, n, CHAT_Q, i + CHAT_Q_LEN);
            if (close >= n) return 0;
            i = close + CHAT_Q_LEN - 1;
            continue;
        }
        if (s[i] == '"') {
            size_t end = plain_quoted_end(s, n, i);
            if (end) {
                i = end - 1;
                continue;
            }
        }
        if (s[i] != '{' && s[i] != ',') continue;
        size_t ks = chat_skip_space(s, n, i + 1);
        if (!chat_has_prefix(s + ks, n - ks, key)) continue;
        size_t colon = chat_skip_space(s, n, ks + kl);
        if (colon < n && s[colon] == ':') return colon + 1;
    }
    return 0;
}

static int has_prop(const chat_tool_info *t, const char *s, size_t n) {
    for (size_t j = 0; j < t->n_props; j++)
        if (strlen(t->props[j].name) == n && memcmp(t->props[j].name, s, n) == 0) return 1;
    return 0;
}

/* The raw value runs to the next ",knownKey:" or to the final "}". */
static size_t raw_value_end(const char *s, size_t n, size_t start, const chat_tool_info *t) {
    for (size_t i = start; i < n; i++) {
        if (s[i] != ',') continue;
        size_t ks = chat_skip_space(s, n, i + 1);
        size_t ke = bare_key_end(s, n, ks);
        if (ke == ks) continue;
        size_t colon = chat_skip_space(s, n, ke);
        if (colon < n && s[colon] == ':' && has_prop(t, s + ks, ke - ks)) return i;
    }
    size_t end = chat_trim_right_index(s, n);
    if (end > start && s[end - 1] == '}') return end - 1;
    return n;
}

static int starts_structured(const char *s, size_t n, size_t pos) {
    if (pos >= n) return 0;
    if (chat_has_prefix(s + pos, n - pos, CHAT_Q)) return 1;
    char c = s[pos];
    return c == '\'' || c == '"' || c == '{' || c == '[' || c == '-' || (c >= '0' && c <= '9') || c == 't' ||
           c == 'f' || c == 'n';
}

int chat_repair_raw_terminal_string(const char *s, size_t n, const char *tool_name, const chat_tool_schemas *ts,
                                    strbuf *out) {
    const chat_tool_info *t = NULL;
    for (size_t i = 0; ts && i < ts->n_tools && !t; i++)
        if (strcmp(ts->tools[i].name, tool_name) == 0) t = &ts->tools[i];
    if (!t || !t->has_props) return 0;
    for (size_t j = 0; j < t->n_props; j++) {
        if (!t->props[j].accepts_string) continue;
        for (size_t from = 0; from < n;) {
            size_t vs = value_start_for_key(s, n, t->props[j].name, from);
            if (!vs) break;
            if (starts_structured(s, n, chat_skip_space(s, n, vs))) {
                from = vs;
                continue;
            }
            size_t ve = raw_value_end(s, n, vs, t);
            sb_append(out, s, vs);
            sb_puts(out, CHAT_Q);
            sb_append(out, s + vs, ve - vs);
            sb_puts(out, CHAT_Q);
            sb_append(out, s + ve, n - ve);
            return 1;
        }
    }
    return 0;
}

/* ---- parse and re-serialize ---- */

/* Go's decoder turns invalid UTF-8 inside strings into U+FFFD; do the same
 * before handing the text to our strict JSON parser. */
static void sanitize_utf8(const char *s, size_t n, strbuf *out) {
    size_t run = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = (unsigned char)s[i] < 0x80 ? 1 : chat_utf8_decode(s + i, n - i, &cp);
        if ((unsigned char)s[i] >= 0x80 && cp == 0xFFFD && len == 1) {
            sb_append(out, s + run, i - run);
            sb_puts(out, "\xEF\xBF\xBD");
            run = i + 1;
        }
        i += len;
    }
    sb_append(out, s + run, n - run);
}

/* Go rejects numbers that overflow a float64. */
static int all_finite(const json_value *v) {
    if (v->type == JSON_NUMBER) return isfinite(v->number);
    for (size_t i = 0; (v->type == JSON_ARRAY || v->type == JSON_OBJECT) && i < v->count; i++)
        if (!all_finite(&v->items[i])) return 0;
    return 1;
}

static void write_json(strbuf *sb, const json_value *v, int top) {
    switch (v->type) {
    case JSON_NULL: sb_puts(sb, "null"); break;
    case JSON_BOOL: sb_puts(sb, v->boolean ? "true" : "false"); break;
    case JSON_NUMBER: chat_go_json_number(sb, v->number); break;
    case JSON_STRING: chat_json_str(sb, v->str, v->str_len); break;
    case JSON_ARRAY:
        sb_putc(sb, '[');
        for (size_t i = 0; i < v->count; i++) {
            if (i) sb_putc(sb, ',');
            write_json(sb, &v->items[i], 0);
        }
        sb_putc(sb, ']');
        break;
    case JSON_OBJECT: {
        chat_member *m;
        /* the arguments map keeps the model's order; nested maps are Go maps */
        size_t n = top ? chat_ordered_members(v, &m) : chat_sorted_members(v, &m);
        if (n == (size_t)-1) {
            sb->failed = 1;
            return;
        }
        sb_putc(sb, '{');
        for (size_t i = 0; i < n; i++) {
            if (i) sb_putc(sb, ',');
            chat_json_str(sb, m[i].key, strlen(m[i].key));
            sb_putc(sb, ':');
            write_json(sb, m[i].val, 0);
        }
        sb_putc(sb, '}');
        free(m);
        break;
    }
    }
}

/* Convert one candidate; RL_OK with *json set when it is a valid object. */
static rl_status try_args(const char *s, size_t n, char **json) {
    strbuf conv, clean, out;
    sb_init(&conv);
    sb_init(&clean);
    sb_init(&out);
    chat_args_to_json(s, n, &conv);
    if (conv.len) sanitize_utf8(conv.s, conv.len, &clean);
    rl_status st = conv.failed || clean.failed ? RL_ERR_NOMEM : RL_ERR_FORMAT;
    json_value *v = NULL;
    if (!conv.failed && !clean.failed && clean.len) {
        rl_error e;
        rl_status ps = json_parse(clean.s, clean.len, &v, &e);
        if (ps == RL_ERR_NOMEM) st = RL_ERR_NOMEM;
        if (ps == RL_OK && v->type == JSON_OBJECT && all_finite(v)) {
            write_json(&out, v, 1);
            st = out.failed ? RL_ERR_NOMEM : RL_OK;
        }
        if (v) json_free(v);
    }
    if (st == RL_OK) *json = sb_take(&out);
    sb_free(&conv);
    sb_free(&clean);
    sb_free(&out);
    return st;
}

/* gemma4RepairCandidates' transformation of one candidate. */
static void repair_candidate(const char *s, size_t n, int allow_close, strbuf *out) {
    strbuf a, b;
    sb_init(&a);
    sb_init(&b);
    chat_repair_single_quoted(s, n, &a);
    chat_repair_missing_delimiter(a.s ? a.s : "", a.len, &b);
    if (allow_close || b.len != n || (n && memcmp(b.s, s, n) != 0))
        chat_repair_missing_object_close(b.s ? b.s : "", b.len, out);
    else
        sb_append(out, b.s ? b.s : "", b.len);
    if (a.failed || b.failed) out->failed = 1;
    sb_free(&a);
    sb_free(&b);
}

rl_status chat_parse_tool_call(const char *s, size_t n, const chat_tool_schemas *ts, char **name, char **args_json) {
    *name = *args_json = NULL;
    if (!chat_has_prefix(s, n, "call:")) return RL_ERR_FORMAT;
    s += 5, n -= 5;
    size_t brace = chat_find(s, n, "{", 0);
    if (brace >= n) return RL_ERR_FORMAT;
    const char *nm = s;
    size_t nl = brace;
    chat_trim(&nm, &nl);
    const char *args = s + brace;
    size_t al = n - brace;
    *name = dup_str(nm, nl);
    if (!*name) return RL_ERR_NOMEM;

    rl_status st = try_args(args, al, args_json);
    if (st == RL_ERR_FORMAT) {
        strbuf c1, raw, c2;
        sb_init(&c1);
        sb_init(&raw);
        sb_init(&c2);
        repair_candidate(args, al, 0, &c1);
        st = c1.failed ? RL_ERR_NOMEM : try_args(c1.s ? c1.s : "", c1.len, args_json);
        if (st == RL_ERR_FORMAT && chat_repair_raw_terminal_string(args, al, *name, ts, &raw)) {
            repair_candidate(raw.s, raw.len, 1, &c2);
            int same = c2.len == c1.len && (c2.len == 0 || memcmp(c2.s, c1.s, c2.len) == 0);
            if (c2.failed || raw.failed) st = RL_ERR_NOMEM;
            else if (!same) st = try_args(c2.s, c2.len, args_json);
        }
        sb_free(&c1);
        sb_free(&raw);
        sb_free(&c2);
    }
    if (st != RL_OK) {
        free(*name);
        *name = NULL;
    }
    return st;
}
