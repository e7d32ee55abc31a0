/* Growable byte string used for text and JSON output. Allocation failure is
 * sticky: sb->failed is set and later appends are ignored. */
#ifndef RL_STRBUF_H
#define RL_STRBUF_H

#include <stddef.h>

typedef struct {
    char *s;      /* always NUL-terminated when len > 0 or after sb_init */
    size_t len, cap;
    int failed;
} strbuf;

void sb_init(strbuf *sb);
void sb_free(strbuf *sb);
void sb_reset(strbuf *sb);
void sb_append(strbuf *sb, const char *s, size_t n);
void sb_puts(strbuf *sb, const char *s);
void sb_putc(strbuf *sb, char c);
void sb_printf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal (with quotes), escaping as RFC 8259 requires. */
void sb_json_str(strbuf *sb, const char *s, size_t n);
/* Take ownership of the buffer (caller frees); sb is reset. */
char *sb_take(strbuf *sb);

#endif
