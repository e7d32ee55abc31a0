#include "wgsl.h"

#include <string.h>

const char *rl_wgsl_find(const char *name) {
    for (const rl_wgsl_file *f = rl_wgsl_files; f->name; f++)
        if (!strcmp(f->name, name)) return f->text;
    return NULL;
}

static int defined(const char *const *defines, const char *name, size_t len) {
    for (const char *const *d = defines; d && *d; d++) {
        size_t n = strcspn(*d, "=");
        if (n == len && !memcmp(*d, name, len)) return 1;
    }
    return 0;
}

#define MAX_NEST 16

/* WGSL directives ("enable subgroups;", "requires ...;", "diagnostic(...);")
 * must precede every declaration, including the consts made from defines. */
static int is_directive(const char *s, size_t n) {
    return (n > 7 && !strncmp(s, "enable ", 7)) || (n > 9 && !strncmp(s, "requires ", 9)) ||
           (n > 11 && !strncmp(s, "diagnostic(", 11));
}

/* Append one file, keeping the lines selected by the defines; directives go to dirs. */
static rl_status preprocess(const char *file, const char *text, const char *const *defines, strbuf *dirs,
                            strbuf *out, rl_error *err) {
    int active[MAX_NEST + 1] = {1}, seen_else[MAX_NEST + 1] = {0}, depth = 0, line_no = 0;
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        line_no++;
        const char *s = p;
        while (s < p + len && (*s == ' ' || *s == '\t')) s++;
        size_t rest = len - (size_t)(s - p);
        int is_ifdef = rest > 7 && !strncmp(s, "#ifdef ", 7), is_ifndef = rest > 8 && !strncmp(s, "#ifndef ", 8);
        if (is_ifdef || is_ifndef) {
            if (depth == MAX_NEST) return rl_fail(err, RL_ERR_FORMAT, "%s:%d: #if nesting too deep", file, line_no);
            const char *name = s + (is_ifdef ? 7 : 8);
            size_t nlen = (size_t)(p + len - name);
            while (nlen && (name[nlen - 1] == ' ' || name[nlen - 1] == '\r')) nlen--;
            int d = defined(defines, name, nlen);
            depth++;
            active[depth] = active[depth - 1] && (is_ifdef ? d : !d);
            seen_else[depth] = 0;
        } else if (rest >= 5 && !strncmp(s, "#else", 5)) {
            if (!depth || seen_else[depth]) return rl_fail(err, RL_ERR_FORMAT, "%s:%d: stray #else", file, line_no);
            seen_else[depth] = 1;
            active[depth] = active[depth - 1] && !active[depth];
        } else if (rest >= 6 && !strncmp(s, "#endif", 6)) {
            if (!depth) return rl_fail(err, RL_ERR_FORMAT, "%s:%d: stray #endif", file, line_no);
            depth--;
        } else if (active[depth]) {
            strbuf *dst = is_directive(s, rest) ? dirs : out;
            sb_append(dst, p, len);
            sb_putc(dst, '\n');
        }
        p += len + (eol ? 1 : 0);
    }
    if (depth) return rl_fail(err, RL_ERR_FORMAT, "%s: unterminated #ifdef", file);
    return RL_OK;
}

rl_status rl_wgsl_build(const char *const *files, const char *const *defines, strbuf *out, rl_error *err) {
    strbuf body;
    sb_init(&body);
    rl_status s = RL_OK;
    for (const char *const *d = defines; d && *d; d++) {
        const char *eq = strchr(*d, '=');
        if (eq) sb_printf(&body, "const %.*s = %s;\n", (int)(eq - *d), *d, eq + 1);
    }
    for (const char *const *f = files; *f && !s; f++) {
        const char *text = rl_wgsl_find(*f);
        if (!text) s = rl_fail(err, RL_ERR_NOT_FOUND, "no embedded WGSL file %s", *f);
        else s = preprocess(*f, text, defines, out, &body, err);
    }
    if (!s && body.len) sb_append(out, body.s, body.len);
    int failed = out->failed || body.failed;
    sb_free(&body);
    if (!s && failed) s = rl_fail(err, RL_ERR_NOMEM, "WGSL source");
    return s;
}
