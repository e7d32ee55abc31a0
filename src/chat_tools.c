/* Tool declarations in the system turn:
 *   <|tool>declaration:NAME{description:<|"|>…<|"|>,parameters:{properties:{…},required:[…],type:<|"|>OBJECT<|"|>}}<tool|>
 * Reproduces Ollama's renderToolDeclaration. Keys are sorted, type names are
 * upper-cased, strings sit between <|"|> delimiters.
 *
 * Ollama reads a tool's properties into typed Go structs (api.ToolProperty),
 * which keeps only type/anyOf/description/enum/items/properties/required, while
 * an array's "items" stays raw JSON with every key. The two are rendered by the
 * same code with different rules, so every schema node here is seen through a
 * view: typed (a property of api.ToolProperty) or raw (a JSON object). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat_internal.h"

enum { RAW = 0, TYPED = 1 };

static int is_standard_key(const char *k) {
    static const char *const std[] = {"description", "type", "properties", "required", "nullable"};
    for (size_t i = 0; i < sizeof std / sizeof *std; i++)
        if (strcmp(k, std[i]) == 0) return 1;
    return 0;
}

static int is_null(const json_value *v) { return !v || v->type == JSON_NULL; }

static const char *str_or_empty(const json_value *v, size_t *len) {
    if (v && v->type == JSON_STRING) {
        *len = v->str_len;
        return v->str;
    }
    *len = 0;
    return "";
}

/* ---- validation: what Go's decoder would reject in a typed tool ---- */

static rl_status bad(rl_error *err, const char *path, const char *what) {
    return rl_fail(err, RL_ERR_INVALID, "%s: expected %s", path, what);
}

/* null, or an array whose elements are strings or null (PropertyType, []string) */
static int is_string_list(const json_value *v) {
    if (is_null(v)) return 1;
    if (v->type != JSON_ARRAY) return 0;
    for (size_t i = 0; i < v->count; i++)
        if (v->items[i].type != JSON_STRING && v->items[i].type != JSON_NULL) return 0;
    return 1;
}

static rl_status check_typed_props(const json_value *props, const char *path, int depth, rl_error *err);

static rl_status check_typed_prop(const json_value *p, const char *path, int depth, rl_error *err) {
    char sub[256];
    if (depth > JSON_MAX_DEPTH) return rl_fail(err, RL_ERR_LIMIT, "%s: schema nested too deeply", path);
    if (is_null(p)) return RL_OK;
    if (p->type != JSON_OBJECT) return bad(err, path, "an object");
    const json_value *t = chat_get(p, "type");
    if (!is_null(t) && t->type != JSON_STRING && !is_string_list(t)) {
        snprintf(sub, sizeof sub, "%s.type", path);
        return bad(err, sub, "a string or an array of strings");
    }
    const json_value *d = chat_get(p, "description");
    if (!is_null(d) && d->type != JSON_STRING) {
        snprintf(sub, sizeof sub, "%s.description", path);
        return bad(err, sub, "a string");
    }
    const json_value *e = chat_get(p, "enum");
    if (!is_null(e) && e->type != JSON_ARRAY) {
        snprintf(sub, sizeof sub, "%s.enum", path);
        return bad(err, sub, "an array");
    }
    const json_value *r = chat_get(p, "required");
    if (!is_string_list(r)) {
        snprintf(sub, sizeof sub, "%s.required", path);
        return bad(err, sub, "an array of strings");
    }
    const json_value *a = chat_get(p, "anyOf");
    if (!is_null(a)) {
        if (a->type != JSON_ARRAY) {
            snprintf(sub, sizeof sub, "%s.anyOf", path);
            return bad(err, sub, "an array");
        }
        for (size_t i = 0; i < a->count; i++) {
            snprintf(sub, sizeof sub, "%s.anyOf[%zu]", path, i);
            rl_status st = check_typed_prop(&a->items[i], sub, depth + 1, err);
            if (st) return st;
        }
    }
    snprintf(sub, sizeof sub, "%s.properties", path);
    return check_typed_props(chat_get(p, "properties"), sub, depth + 1, err);
}

static rl_status check_typed_props(const json_value *props, const char *path, int depth, rl_error *err) {
    char sub[256];
    if (is_null(props)) return RL_OK;
    if (props->type != JSON_OBJECT) return bad(err, path, "an object");
    for (size_t i = 0; i < props->count; i++) {
        snprintf(sub, sizeof sub, "%s.%s", path, props->keys[i]);
        rl_status st = check_typed_prop(&props->items[i], sub, depth, err);
        if (st) return st;
    }
    return RL_OK;
}

static rl_status check_tool(const json_value *tool, size_t idx, rl_error *err) {
    char path[96], sub[160];
    snprintf(path, sizeof path, "tools[%zu]", idx);
    if (is_null(tool)) return RL_OK;
    if (tool->type != JSON_OBJECT) return bad(err, path, "an object");
    const json_value *fn = chat_get(tool, "function");
    if (is_null(fn)) return RL_OK;
    snprintf(sub, sizeof sub, "%s.function", path);
    if (fn->type != JSON_OBJECT) return bad(err, sub, "an object");
    static const char *const str_keys[] = {"name", "description"};
    for (size_t i = 0; i < 2; i++) {
        const json_value *v = chat_get(fn, str_keys[i]);
        if (!is_null(v) && v->type != JSON_STRING) {
            snprintf(sub, sizeof sub, "%s.function.%s", path, str_keys[i]);
            return bad(err, sub, "a string");
        }
    }
    const json_value *params = chat_get(fn, "parameters");
    if (is_null(params)) return RL_OK;
    snprintf(sub, sizeof sub, "%s.function.parameters", path);
    if (params->type != JSON_OBJECT) return bad(err, sub, "an object");
    const json_value *t = chat_get(params, "type");
    if (!is_null(t) && t->type != JSON_STRING) {
        snprintf(sub, sizeof sub, "%s.function.parameters.type", path);
        return bad(err, sub, "a string");
    }
    if (!is_string_list(chat_get(params, "required"))) {
        snprintf(sub, sizeof sub, "%s.function.parameters.required", path);
        return bad(err, sub, "an array of strings");
    }
    snprintf(sub, sizeof sub, "%s.function.parameters.properties", path);
    return check_typed_props(chat_get(params, "properties"), sub, 0, err);
}

/* ---- values ---- */

static void put_upper(strbuf *sb, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        sb_putc(sb, c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c);
    }
}

/* "required:[<|"|>a<|"|>,…]" from an array; a typed list keeps null entries as
 * "", a raw one keeps only strings (normalizeStringSlice). */
static void put_required(strbuf *sb, const json_value *req, int typed) {
    sb_puts(sb, "required:[");
    int first = 1;
    for (size_t i = 0; req && req->type == JSON_ARRAY && i < req->count; i++) {
        const json_value *r = &req->items[i];
        if (r->type != JSON_STRING && !(typed && r->type == JSON_NULL)) continue;
        if (!first) sb_putc(sb, ',');
        first = 0;
        size_t n;
        const char *s = str_or_empty(r, &n);
        chat_put_quoted(sb, s, n);
    }
    sb_putc(sb, ']');
}

static size_t count_required(const json_value *req, int typed) {
    size_t n = 0;
    for (size_t i = 0; req && req->type == JSON_ARRAY && i < req->count; i++)
        if (req->items[i].type == JSON_STRING || (typed && req->items[i].type == JSON_NULL)) n++;
    return n;
}

/* ---- type names ---- */

/* Upper-cased type names, NUL-separated in names->s; returns the count. */
typedef struct {
    strbuf text;
    size_t count;
} type_names;

static void names_add_upper(type_names *tn, const char *s, size_t n) {
    put_upper(&tn->text, s, n);
    sb_putc(&tn->text, '\0');
    tn->count++;
}

/* A bare anyOf branch carries a type and nothing else (isBareTypeOnlyToolProperty). */
static int is_bare_type_branch(const json_value *b) {
    if (is_null(b) || b->type != JSON_OBJECT) return 0;
    const json_value *t = chat_get(b, "type"), *a = chat_get(b, "anyOf"), *d = chat_get(b, "description");
    const json_value *e = chat_get(b, "enum"), *r = chat_get(b, "required");
    int has_type = !is_null(t) && (t->type == JSON_STRING || t->count > 0);
    return has_type && (is_null(a) || a->count == 0) && is_null(chat_get(b, "items")) &&
           (is_null(d) || d->str_len == 0) && (is_null(e) || e->count == 0) && is_null(chat_get(b, "properties")) &&
           (is_null(r) || r->count == 0);
}

/* The types of a typed property: its "type" (a string or list), else the
 * types of a simple anyOf union; NULL-terminated list of values, deduplicated
 * for the union as simpleAnyOfTypes does. */
static size_t typed_type_list(const json_value *p, const json_value **out, size_t cap) {
    const json_value *t = chat_get(p, "type");
    size_t n = 0;
    if (!is_null(t)) {
        if (t->type == JSON_STRING) {
            out[n++] = t;
        } else {
            for (size_t i = 0; i < t->count && n < cap; i++) out[n++] = &t->items[i];
        }
    }
    if (n > 0) return n;
    const json_value *any = chat_get(p, "anyOf");
    if (is_null(any) || any->count == 0) return 0;
    for (size_t i = 0; i < any->count; i++)
        if (!is_bare_type_branch(&any->items[i])) return 0;
    for (size_t i = 0; i < any->count; i++) {
        const json_value *bt = chat_get(&any->items[i], "type");
        size_t m = bt->type == JSON_STRING ? 1 : bt->count;
        for (size_t j = 0; j < m; j++) {
            const json_value *v = bt->type == JSON_STRING ? bt : &bt->items[j];
            size_t vl, wl;
            const char *vs = str_or_empty(v, &vl);
            int seen = 0;
            for (size_t k = 0; k < n && !seen; k++) {
                const char *ws = str_or_empty(out[k], &wl);
                seen = vl == wl && memcmp(vs, ws, vl) == 0;
            }
            if (!seen && n < cap) out[n++] = v;
        }
    }
    return n;
}

static void get_type_names(const json_value *p, int typed, type_names *tn) {
    sb_init(&tn->text);
    tn->count = 0;
    if (typed) {
        const json_value *list[64];
        size_t n = typed_type_list(p, list, sizeof list / sizeof *list);
        size_t len;
        if (n == 1) {
            const char *s = str_or_empty(list[0], &len);
            names_add_upper(tn, s, len);
        } else if (n > 1) {
            /* Ollama stringifies a typed union as the Jinja template prints a
             * Python list: "['STRING', 'NULL']". */
            strbuf u;
            sb_init(&u);
            sb_putc(&u, '[');
            for (size_t i = 0; i < n; i++) {
                const char *s = str_or_empty(list[i], &len);
                if (i) sb_puts(&u, ", ");
                sb_putc(&u, '\'');
                sb_append(&u, s, len);
                sb_putc(&u, '\'');
            }
            sb_putc(&u, ']');
            if (u.failed) tn->text.failed = 1;
            names_add_upper(tn, u.s ? u.s : "", u.len);
            sb_free(&u);
        }
        return;
    }
    const json_value *t = chat_get(p, "type");
    if (is_null(t)) return;
    if (t->type == JSON_STRING) {
        names_add_upper(tn, t->str, t->str_len);
    } else if (t->type == JSON_ARRAY) {
        for (size_t i = 0; i < t->count; i++)
            if (t->items[i].type == JSON_STRING) names_add_upper(tn, t->items[i].str, t->items[i].str_len);
    }
}

static void put_type_names(strbuf *sb, const type_names *tn) {
    const char *s = tn->text.s;
    if (tn->count == 1) {
        sb_puts(sb, "type:");
        chat_put_quoted(sb, s, strlen(s));
        return;
    }
    sb_puts(sb, "type:[");
    for (size_t i = 0; i < tn->count; i++) {
        if (i) sb_putc(sb, ',');
        chat_put_quoted(sb, s, strlen(s));
        s += strlen(s) + 1;
    }
    sb_putc(sb, ']');
}

/* ---- schema ---- */

static void put_props(strbuf *sb, const json_value *props, int typed);

static void put_items_spec(strbuf *sb, const json_value *items) {
    chat_member *m;
    size_t n = chat_sorted_members(items, &m);
    if (n == (size_t)-1) {
        sb->failed = 1;
        return;
    }
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        const char *k = m[i].key;
        const json_value *v = m[i].val;
        if (v->type == JSON_NULL) continue;
        if (!first) sb_putc(sb, ',');
        first = 0;
        if (strcmp(k, "properties") == 0) {
            sb_puts(sb, "properties:{");
            if (v->type == JSON_OBJECT) put_props(sb, v, RAW);
            sb_putc(sb, '}');
        } else if (strcmp(k, "required") == 0) {
            put_required(sb, v, RAW);
        } else if (strcmp(k, "type") == 0) {
            /* an items type that names nothing still cost a comma above, as in Ollama */
            type_names tn;
            get_type_names(items, RAW, &tn);
            if (tn.text.failed) sb->failed = 1;
            if (tn.count > 0) put_type_names(sb, &tn);
            sb_free(&tn.text);
        } else {
            sb_puts(sb, k);
            sb_putc(sb, ':');
            chat_format_value(sb, v, &CHAT_STYLE_SCHEMA);
        }
    }
    free(m);
}

static void comma(strbuf *sb, int *add) {
    if (*add) sb_putc(sb, ',');
    *add = 1;
}

static void put_prop(strbuf *sb, const char *name, const json_value *p, int typed) {
    static const json_value empty = {.type = JSON_OBJECT};
    if (is_null(p)) p = &empty; /* a null typed property decodes to the zero value */
    sb_puts(sb, name);
    sb_puts(sb, ":{");
    int add = 0;
    const json_value *d = chat_get(p, "description");
    if (d && d->type == JSON_STRING && d->str_len > 0) {
        sb_puts(sb, "description:");
        chat_put_quoted(sb, d->str, d->str_len);
        add = 1;
    }
    type_names tn;
    get_type_names(p, typed, &tn);
    if (tn.text.failed) sb->failed = 1;
    const char *first = tn.count ? tn.text.s : "";

    if (strcmp(first, "STRING") == 0) {
        const json_value *e = chat_get(p, "enum");
        if (e && e->type == JSON_ARRAY && e->count > 0) {
            comma(sb, &add);
            sb_puts(sb, "enum:[");
            for (size_t i = 0; i < e->count; i++) {
                if (i) sb_putc(sb, ',');
                sb_append(sb, CHAT_Q, CHAT_Q_LEN);
                chat_format_value(sb, &e->items[i], &CHAT_STYLE_GO_V);
                sb_append(sb, CHAT_Q, CHAT_Q_LEN);
            }
            sb_putc(sb, ']');
        }
    } else if (strcmp(first, "ARRAY") == 0) {
        const json_value *items = chat_get(p, "items");
        if (items && items->type == JSON_OBJECT && items->count > 0) {
            comma(sb, &add);
            sb_puts(sb, "items:{");
            put_items_spec(sb, items);
            sb_putc(sb, '}');
        }
    }
    if (!typed) { /* typed properties have no nullable field */
        const json_value *nl = chat_get(p, "nullable");
        if (nl && nl->type == JSON_BOOL && nl->boolean) {
            comma(sb, &add);
            sb_puts(sb, "nullable:true");
        }
    }
    if (strcmp(first, "OBJECT") == 0) {
        const json_value *nested = chat_get(p, "properties");
        comma(sb, &add);
        sb_puts(sb, "properties:{");
        if (nested && nested->type == JSON_OBJECT) {
            put_props(sb, nested, typed);
        } else if (!typed) {
            /* no "properties": Ollama lists the property's own non-standard
             * object-valued keys as properties */
            put_props(sb, p, RAW);
        } else {
            /* of a typed property's fields only "items" can be an object */
            const json_value *items = chat_get(p, "items");
            if (items && items->type == JSON_OBJECT) put_prop(sb, "items", items, RAW);
        }
        sb_putc(sb, '}');
        const json_value *req = chat_get(p, "required");
        if (count_required(req, typed) > 0) {
            comma(sb, &add);
            put_required(sb, req, typed);
        }
    }
    if (tn.count > 0) {
        if (add) sb_putc(sb, ',');
        put_type_names(sb, &tn);
    }
    sb_putc(sb, '}');
    sb_free(&tn.text);
}

static void put_props(strbuf *sb, const json_value *props, int typed) {
    chat_member *m;
    size_t n = chat_sorted_members(props, &m);
    if (n == (size_t)-1) {
        sb->failed = 1;
        return;
    }
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        const json_value *v = m[i].val;
        if (is_standard_key(m[i].key)) continue;
        if (typed ? !(is_null(v) || v->type == JSON_OBJECT) : v->type != JSON_OBJECT) continue;
        if (!first) sb_putc(sb, ',');
        first = 0;
        put_prop(sb, m[i].key, v, typed);
    }
    free(m);
}

static void put_tool(strbuf *sb, const json_value *tool) {
    const json_value *fn = chat_get(tool, "function");
    const json_value *params = chat_get(fn, "parameters");
    size_t n;
    const char *s = str_or_empty(chat_get(fn, "name"), &n);
    sb_puts(sb, "<|tool>declaration:");
    sb_append(sb, s, n);
    sb_puts(sb, "{description:");
    s = str_or_empty(chat_get(fn, "description"), &n);
    chat_put_quoted(sb, s, n);

    const json_value *props = chat_get(params, "properties");
    size_t tlen;
    const char *type = str_or_empty(chat_get(params, "type"), &tlen);
    if (!is_null(props) || tlen > 0) {
        sb_puts(sb, ",parameters:{");
        int add = 0;
        chat_member *m;
        size_t np = chat_sorted_members(props, &m);
        if (np == (size_t)-1) sb->failed = 1;
        free(m);
        if (np != (size_t)-1 && np > 0) {
            sb_puts(sb, "properties:{");
            put_props(sb, props, TYPED);
            sb_putc(sb, '}');
            add = 1;
        }
        const json_value *req = chat_get(params, "required");
        if (count_required(req, TYPED) > 0) {
            comma(sb, &add);
            put_required(sb, req, TYPED);
        }
        if (tlen > 0) {
            if (add) sb_putc(sb, ',');
            sb_puts(sb, "type:");
            sb_append(sb, CHAT_Q, CHAT_Q_LEN);
            put_upper(sb, type, tlen);
            sb_append(sb, CHAT_Q, CHAT_Q_LEN);
        }
        sb_putc(sb, '}');
    }
    sb_puts(sb, "}<tool|>");
}

rl_status chat_render_tools(strbuf *sb, const json_value *tools, rl_error *err) {
    if (is_null(tools)) return RL_OK;
    if (tools->type != JSON_ARRAY) return bad(err, "tools", "an array");
    for (size_t i = 0; i < tools->count; i++) {
        rl_status st = check_tool(&tools->items[i], i, err);
        if (st) return st;
    }
    for (size_t i = 0; i < tools->count; i++) put_tool(sb, &tools->items[i]);
    return RL_OK;
}
