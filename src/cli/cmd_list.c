/* `rullama list [PREFIX] [--json]`: the models in the local Ollama store.
 *
 * Columns follow `ollama list`: NAME (short form), ID (first 12 hex digits of
 * the SHA-256 of the manifest file, which is what Ollama shows), SIZE (all
 * layers plus the config blob, decimal units). There is no MODIFIED column:
 * the host interface has no file times. PREFIX filters names
 * case-insensitively, as `ollama list PREFIX` does.
 * --json prints {"root": ..., "models": [{name, full_name, digest (manifest),
 * model_digest, size, details: {family, parameter_size, quantization_level}}]}. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/strbuf.h"
#include "ollama.h"

static int has_prefix_fold(const char *s, const char *prefix) {
    for (; *prefix; s++, prefix++) {
        char a = *s >= 'A' && *s <= 'Z' ? (char)(*s + 32) : *s;
        char b = *prefix >= 'A' && *prefix <= 'Z' ? (char)(*prefix + 32) : *prefix;
        if (!*s || a != b) return 0;
    }
    return 1;
}

static void json_field(strbuf *sb, const char *key, const char *value, int comma) {
    sb_json_str(sb, key, strlen(key));
    sb_putc(sb, ':');
    sb_json_str(sb, value, strlen(value));
    if (comma) sb_putc(sb, ',');
}

static void print_json(rl_host *h, const char *root, const rl_model_entry *e, size_t n) {
    strbuf sb;
    sb_init(&sb);
    sb_puts(&sb, "{\"root\":");
    sb_json_str(&sb, root, strlen(root));
    sb_puts(&sb, ",\"models\":[");
    for (size_t i = 0; i < n; i++) {
        sb_puts(&sb, i ? ",{" : "{");
        json_field(&sb, "name", e[i].name, 1);
        json_field(&sb, "full_name", e[i].full_name, 1);
        json_field(&sb, "digest", e[i].manifest_digest, 1);
        json_field(&sb, "model_digest", e[i].digest, 1);
        sb_printf(&sb, "\"size\":%llu,\"details\":{", (unsigned long long)e[i].size);
        json_field(&sb, "family", e[i].family, 1);
        json_field(&sb, "parameter_size", e[i].parameter_size, 1);
        json_field(&sb, "quantization_level", e[i].quantization, 0);
        sb_puts(&sb, "}}");
    }
    sb_puts(&sb, "]}\n");
    if (sb.failed) rl_printf(h, 2, "rullama list: out of memory\n");
    else h->out(h, 1, sb.s, sb.len);
    sb_free(&sb);
}

/* Left-aligned columns separated by 4 spaces, like Ollama's table. */
static void print_table(rl_host *h, const rl_model_entry *e, size_t n) {
    char (*sizes)[32] = calloc(n ? n : 1, sizeof *sizes);
    if (!sizes) {
        rl_printf(h, 2, "rullama list: out of memory\n");
        return;
    }
    int wname = 4, wid = 2;
    for (size_t i = 0; i < n; i++) {
        rl_human_bytes(e[i].size, sizes[i], sizeof sizes[i]);
        if ((int)strlen(e[i].name) > wname) wname = (int)strlen(e[i].name);
    }
    if (n) wid = 12;
    rl_printf(h, 1, "%-*s    %-*s    %s\n", wname, "NAME", wid, "ID", "SIZE");
    for (size_t i = 0; i < n; i++)
        rl_printf(h, 1, "%-*s    %-*.12s    %s\n", wname, e[i].name, wid, e[i].manifest_digest, sizes[i]);
    free(sizes);
}

int cmd_list(rl_host *h, int argc, char **argv) {
    int as_json = 0;
    const char *prefix = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            as_json = 1;
        } else if (argv[i][0] == '-') {
            rl_printf(h, 2, "rullama list: unknown option '%s' (usage: rullama list [PREFIX] [--json])\n", argv[i]);
            return 2;
        } else if (!prefix) {
            prefix = argv[i];
        } else {
            rl_printf(h, 2, "rullama list: unexpected argument '%s' (usage: rullama list [PREFIX] [--json])\n", argv[i]);
            return 2;
        }
    }
    char root[4096];
    rl_error err = {0};
    if (rl_ollama_root(h, root, sizeof root, &err)) {
        rl_printf(h, 2, "rullama list: %s\n", err.msg);
        return 1;
    }
    rl_model_entry *all = NULL;
    size_t n = 0;
    if (rl_ollama_list(h, root, &all, &n, &err)) {
        rl_printf(h, 2, "rullama list: %s\n", err.msg);
        return 1;
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (!prefix || has_prefix_fold(all[i].name, prefix)) all[kept++] = all[i];
    if (as_json) {
        print_json(h, root, all, kept);
    } else if (n == 0) {
        rl_printf(h, 1,
                  "No models in %s.\nPull one with 'ollama pull gemma4:e2b', or set OLLAMA_MODELS to the directory "
                  "that holds Ollama's manifests/ and blobs/.\n",
                  root);
    } else if (kept == 0) {
        rl_printf(h, 1, "No models in %s match '%s'.\n", root, prefix);
    } else {
        print_table(h, all, kept);
    }
    free(all);
    return 0;
}
