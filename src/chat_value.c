/* JSON values written in the chat format's three Go-derived styles: tool-call
 * arguments (formatArgValue), schema values (formatSchemaValue) and fmt's %v
 * (enum entries). One walk; a style row says how each part is spelled. */
#include "chat_internal.h"

#include <stdlib.h>
#include <string.h>

void chat_put_quoted(strbuf *sb, const char *s, size_t n) {
    sb_append(sb, CHAT_Q, CHAT_Q_LEN);
    sb_append(sb, s, n);
    sb_append(sb, CHAT_Q, CHAT_Q_LEN);
}

static void put_plain(strbuf *sb, const char *s, size_t n) { sb_append(sb, s, n); }

struct chat_value_style {
    const char *null_text;
    void (*number)(strbuf *sb, double v);
    void (*string)(strbuf *sb, const char *s, size_t n);
    void (*key)(strbuf *sb, const char *s, size_t n);
    const char *obj_open, *obj_close;
    char sep; /* between array items and object members */
};

const chat_value_style CHAT_STYLE_ARG = {"null", chat_go_number, chat_put_quoted, put_plain, "{", "}", ','};
const chat_value_style CHAT_STYLE_SCHEMA = {"null", chat_go_number, chat_put_quoted, chat_put_quoted, "{", "}", ','};
const chat_value_style CHAT_STYLE_GO_V = {"<nil>", chat_go_float_v, put_plain, put_plain, "map[", "]", ' '};

void chat_format_value(strbuf *sb, const json_value *v, const chat_value_style *st) {
    switch (v->type) {
    case JSON_NULL: sb_puts(sb, st->null_text); break;
    case JSON_BOOL: sb_puts(sb, v->boolean ? "true" : "false"); break;
    case JSON_NUMBER: st->number(sb, v->number); break;
    case JSON_STRING: st->string(sb, v->str, v->str_len); break;
    case JSON_ARRAY:
        sb_putc(sb, '[');
        for (size_t i = 0; i < v->count; i++) {
            if (i) sb_putc(sb, st->sep);
            chat_format_value(sb, &v->items[i], st);
        }
        sb_putc(sb, ']');
        break;
    case JSON_OBJECT: {
        chat_member *m;
        size_t n = chat_sorted_members(v, &m);
        if (n == (size_t)-1) {
            sb->failed = 1;
            return;
        }
        sb_puts(sb, st->obj_open);
        for (size_t i = 0; i < n; i++) {
            if (i) sb_putc(sb, st->sep);
            st->key(sb, m[i].key, strlen(m[i].key));
            sb_putc(sb, ':');
            chat_format_value(sb, m[i].val, st);
        }
        sb_puts(sb, st->obj_close);
        free(m);
        break;
    }
    }
}
