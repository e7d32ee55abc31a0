#include "wgsl.h"

#include <stdio.h>
#include <stdlib.h>
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

static int ident_char(char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

#define MAX_RENAMED 64

/* Appends text to out with every name it declares ("fn NAME", "const NAME", "struct NAME" at
 * the start of a line) suffixed, in the declarations and every use (member
 * accesses excepted). */
static int append_renamed(strbuf *out, const char *text, size_t len, const char *suffix) {
    const char *names[MAX_RENAMED];
    size_t lens[MAX_RENAMED], n = 0;
    for (size_t i = 0; i < len; i++) {
        size_t b = i;
        while (b && (text[b - 1] == ' ' || text[b - 1] == '\t')) b--;
        if (b && text[b - 1] != '\n') continue;
        size_t kw = !strncmp(text + i, "fn ", 3)       ? 3
                    : !strncmp(text + i, "const ", 6)  ? 6
                    : !strncmp(text + i, "struct ", 7) ? 7
                                                       : 0;
        if (!kw || i + kw >= len) continue;
        size_t j = i + kw, k = j;
        while (k < len && ident_char(text[k])) k++;
        if (k == j) continue;
        if (n == MAX_RENAMED) return -1;
        names[n] = text + j, lens[n++] = k - j;
    }
    for (size_t i = 0; i < len;) {
        if (!ident_char(text[i])) {
            sb_putc(out, text[i++]);
            continue;
        }
        size_t k = i;
        while (k < len && ident_char(text[k])) k++;
        sb_append(out, text + i, k - i);
        if (!i || text[i - 1] != '.')
            for (size_t m = 0; m < n; m++)
                if (lens[m] == k - i && !memcmp(names[m], text + i, k - i)) {
                    sb_puts(out, suffix);
                    break;
                }
        i = k;
    }
    return 0;
}

/* The defines of a second type's inclusion: the kernel's own, less its TYPE_
 * define, plus TYPE_<T> for its TYPE2_<T> and TYPES_ONLY. NULL: no TYPE2_. */
static const char **second_type_defines(const char *const *defines, char *type_def, size_t cap) {
    size_t n = 0;
    const char *t2 = NULL;
    for (const char *const *d = defines; d && *d; d++, n++)
        if (!strncmp(*d, "TYPE2_", 6)) t2 = *d + 6;
    if (!t2) return NULL;
    const char **out = malloc((n + 3) * sizeof *out);
    if (!out) return NULL;
    snprintf(type_def, cap, "TYPE_%s", t2);
    size_t k = 0;
    for (const char *const *d = defines; d && *d; d++)
        if (strncmp(*d, "TYPE_", 5)) out[k++] = *d;
    out[k++] = type_def;
    out[k++] = "TYPES_ONLY";
    out[k] = NULL;
    return out;
}

rl_status rl_wgsl_build(const char *const *files, const char *const *defines, strbuf *out, rl_error *err) {
    strbuf body, second;
    sb_init(&body);
    sb_init(&second);
    rl_status s = RL_OK;
    char type2[48];
    const char **defines2 = second_type_defines(defines, type2, sizeof type2);
    for (const char *const *d = defines; d && *d; d++) {
        const char *eq = strchr(*d, '=');
        if (eq) sb_printf(&body, "const %.*s = %s;\n", (int)(eq - *d), *d, eq + 1);
    }
    for (const char *const *f = files; *f && !s; f++) {
        /* "F@2": F again for the second weight type (TYPE2_<T>), its names suffixed _2 */
        const char *at = strchr(*f, '@');
        char name[64];
        snprintf(name, sizeof name, "%.*s", at ? (int)(at - *f) : (int)strlen(*f), *f);
        const char *text = rl_wgsl_find(name);
        if (!text) s = rl_fail(err, RL_ERR_NOT_FOUND, "no embedded WGSL file %s", name);
        else if (!at) s = preprocess(name, text, defines, out, &body, err);
        else if (defines2) s = preprocess(name, text, defines2, out, &second, err);
    }
    if (!s && second.len && append_renamed(&body, second.s, second.len, "_2"))
        s = rl_fail(err, RL_ERR_FORMAT, "a second type's WGSL declares more than %d names", MAX_RENAMED);
    if (!s && body.len) sb_append(out, body.s, body.len);
    int failed = out->failed || body.failed || second.failed;
    free(defines2);
    sb_free(&second);
    sb_free(&body);
    if (!s && failed) s = rl_fail(err, RL_ERR_NOMEM, "WGSL source");
    return s;
}
