/* rullama logits MODEL --tokens 2,105,... --cpu --out FILE [--ctx N]
 * Writes raw little-endian float32 logits, one row of n_vocab per prompt
 * position (row i = next-token logits after tokens[0..i], softcap applied).
 * This is the interface every parity check uses. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cpu/forward.h"

/* Parse "2,105,7" into a malloc'd array. */
static int parse_tokens(const char *s, int32_t **out, int *n) {
    int cap = 16, len = 0;
    int32_t *v = malloc((size_t)cap * sizeof *v);
    if (!v) return -1;
    while (*s) {
        char *end;
        long x = strtol(s, &end, 10);
        if (end == s || x < 0 || x > 0x7fffffff || (*end && *end != ',')) {
            free(v);
            return -1;
        }
        if (len == cap) {
            int32_t *nv = realloc(v, (size_t)(cap *= 2) * sizeof *v);
            if (!nv) {
                free(v);
                return -1;
            }
            v = nv;
        }
        v[len++] = (int32_t)x;
        s = *end ? end + 1 : end;
    }
    *out = v;
    *n = len;
    return len > 0 ? 0 : -1;
}

int cmd_logits(rl_host *h, int argc, char **argv) {
    static const char *const value_opts[] = {"--tokens", "--out", "--ctx", NULL};
    const char *spec = cli_positional(argc, argv, 0, value_opts);
    const char *tok_s = cli_opt(argc, argv, "--tokens"), *out_path = cli_opt(argc, argv, "--out");
    if (!spec || !tok_s || !out_path) {
        rl_printf(h, 2, "usage: rullama logits MODEL --tokens ID,ID,... --out FILE [--cpu] [--ctx N]\n");
        return 2;
    }
    int32_t *tokens = NULL;
    int n = 0;
    if (parse_tokens(tok_s, &tokens, &n)) {
        rl_printf(h, 2, "rullama logits: --tokens must be a comma-separated list of token ids\n");
        return 2;
    }
    const char *ctx_s = cli_opt(argc, argv, "--ctx");
    int n_ctx = ctx_s ? atoi(ctx_s) : n;
    if (n_ctx < n) n_ctx = n;

    rl_model_ref ref;
    rl_model_file mf;
    if (cli_open_model(h, spec, &ref, &mf)) {
        free(tokens);
        return 1;
    }
    int rc = 1;
    rl_error err = {0};
    rl_cpu *cpu = NULL;
    float *logits = NULL;
    const size_t V = (size_t)mf.model.n_vocab;
    if (rl_model_file_load_text(&mf, &err) || rl_cpu_new(&mf, n_ctx, &cpu, &err)) goto done;
    logits = malloc((size_t)n * V * sizeof(float));
    if (!logits) {
        rl_fail(&err, RL_ERR_NOMEM, "%d x %zu logits", n, V);
        goto done;
    }
    rl_batch b = {.tokens = tokens, .n = n};
    if (rl_cpu_forward(cpu, &b, logits, 1, &err)) goto done;
    int fd = h->create(h, out_path, &err);
    if (fd < 0) goto done;
    int64_t w = h->write(h, fd, logits, (size_t)n * V * sizeof(float), &err); /* wasm and x86 are little-endian */
    h->close(h, fd);
    if (w < 0) goto done;
    rl_printf(h, 2, "wrote %d x %zu logits to %s\n", n, V, out_path);
    rc = 0;
done:
    if (rc) rl_printf(h, 2, "rullama logits: %s\n", err.msg);
    free(logits);
    rl_cpu_free(cpu);
    rl_model_file_close(&mf);
    rl_model_ref_free(&ref);
    free(tokens);
    return rc;
}
