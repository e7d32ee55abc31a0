/* rullama tokenize MODEL (TEXT | --file PATH [--split-nul]) [--json] [--time]
 * Reads only the model's GGUF header (tokenizer keys), never the weights, and
 * prints the token ids of TEXT (no BOS added): comma-separated on one line, or a
 * JSON array with --json. --split-nul: PATH holds several texts separated (or
 * terminated) by NUL bytes, one output line each (batch use: tests, tools).
 * --time reports load/build/encode times on stderr. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "gguf_load.h"
#include "ollama.h"
#include "tokenizer.h"

#define TEXT_FILE_MAX ((size_t)1 << 28)

static void print_ids(rl_host *h, const int32_t *ids, size_t n, int json) {
    strbuf sb;
    sb_init(&sb);
    if (json) sb_putc(&sb, '[');
    for (size_t i = 0; i < n; i++) sb_printf(&sb, "%s%d", i ? "," : "", ids[i]);
    if (json) sb_putc(&sb, ']');
    sb_putc(&sb, '\n');
    if (sb.failed) rl_printf(h, 2, "rullama tokenize: out of memory formatting %zu ids\n", n);
    else h->out(h, 1, sb.s, sb.len);
    sb_free(&sb);
}

int cmd_tokenize(rl_host *h, int argc, char **argv) {
    static const char *const value_opts[] = {"--file", NULL};
    const char *spec = cli_positional(argc, argv, 0, value_opts);
    const char *text_arg = cli_positional(argc, argv, 1, value_opts);
    const char *file = cli_opt(argc, argv, "--file");
    int json = cli_flag(argc, argv, "--json") != 0, timing = cli_flag(argc, argv, "--time") != 0;
    int split = cli_flag(argc, argv, "--split-nul") != 0;
    if (!spec || !text_arg == !file || (split && !file)) {
        rl_printf(h, 2, "usage: rullama tokenize MODEL (TEXT | --file PATH [--split-nul]) [--json] [--time]\n");
        return 2;
    }
    rl_error err = {0};
    char root[4096] = "";
    if (rl_ollama_root(h, root, sizeof root, &err) != RL_OK) root[0] = '\0'; /* a file path still resolves */
    rl_error_clear(&err);

    rl_model_ref ref = {0};
    gguf_file *g = NULL;
    rl_tokenizer *tok = NULL;
    char *text = NULL;
    int32_t *ids = NULL;
    size_t len = 0, n_ids = 0;
    uint64_t header_bytes = 0;
    int rc = 1;
    double t0 = h->now_ms(h), t1 = t0, t2 = t0, te = t0, t3 = t0;
    if (rl_model_resolve(h, root, spec, &ref, &err) != RL_OK) goto fail;
    if (gguf_load_header(h, ref.model_path, &g, &header_bytes, &err) != RL_OK) goto fail;
    t1 = h->now_ms(h);
    if (rl_tokenizer_from_gguf(g, &tok, &err) != RL_OK) {
        rl_fail_ctx(&err, "%s", ref.model_path);
        goto fail;
    }
    t2 = h->now_ms(h);
    if (file) {
        if (rl_host_read_all(h, file, TEXT_FILE_MAX, &text, &len, &err) != RL_OK) goto fail;
    }
    const char *src = file ? text : text_arg;
    if (!file) len = strlen(src);
    te = h->now_ms(h);
    size_t total_ids = 0;
    for (size_t at = 0; at < len || (!split && at == 0);) {
        size_t end = at;
        if (split)
            while (end < len && src[end]) end++;
        else
            end = len;
        if (rl_tokenizer_encode(tok, src + at, end - at, &ids, &n_ids, &err) != RL_OK) goto fail;
        print_ids(h, ids, n_ids, json);
        total_ids += n_ids;
        free(ids);
        ids = NULL;
        at = end + 1;
    }
    t3 = h->now_ms(h);
    if (timing)
        rl_printf(h, 2,
                  "header %.1f ms (%llu bytes), tokenizer %.1f ms (%zu tokens), encode %.2f ms: %zu bytes -> %zu "
                  "tokens (%.0f tokens/s)\n",
                  t1 - t0, (unsigned long long)header_bytes, t2 - t1, rl_tokenizer_vocab_size(tok), t3 - te, len, total_ids,
                  t3 > te ? total_ids / ((t3 - te) / 1e3) : 0.0);
    rc = 0;
fail:
    if (rc) rl_printf(h, 2, "rullama tokenize: %s\n", err.msg);
    free(ids);
    free(text);
    rl_tokenizer_free(tok);
    gguf_free(g);
    rl_model_ref_free(&ref);
    return rc;
}
