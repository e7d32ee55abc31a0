/* rullama-gen command line (same arguments natively and in wasm). */
#include <string.h>

#include "gen.h"
#include "quant.h"

static void usage(rl_host *h, int stream) {
    rl_printf(h, stream,
              "usage: rullama-gen --preset NAME (--out FILE.gguf | --store DIR --name gemma4:TAG) [options]\n"
              "  presets: tiny, tiny-moe, tiny-kv, e2b, e4b (tools/gen/README.md lists their shapes)\n"
              "  --vocab synthetic|FILE.gguf  tokenizer keys: a placeholder vocabulary (default) or\n"
              "                          the tokenizer.* keys of a vocabulary GGUF (tools/vocab.mjs)\n"
              "  --progress / --quiet    force / suppress progress on stderr (default: on above 256 MB)\n"
              "  --info                  print the plan (tensors, types, sizes) instead of writing\n"
              "overrides:\n");
    gen_config_usage(h, stream);
}

static const char *opt(int argc, char **argv, const char *name) {
    size_t n = strlen(name);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], name)) return i + 1 < argc ? argv[i + 1] : NULL;
        if (!strncmp(argv[i], name, n) && argv[i][n] == '=') return argv[i] + n + 1;
    }
    return NULL;
}

static int flag(int argc, char **argv, const char *name) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], name)) return 1;
    return 0;
}

/* Flags without a value: removed before the option table sees the arguments. */
static const char *const bare_flags[] = {"--progress", "--quiet", "--info", "--help", "-h"};

static void print_plan(rl_host *h, const gen_model *m) {
    for (size_t i = 0; i < m->n_t; i++) {
        const gen_tensor *t = &m->t[i];
        rl_printf(h, 1, "%-44s %-6s [", t->name, rl_type_get(t->type)->name);
        for (uint32_t d = 0; d < t->n_dims; d++) rl_printf(h, 1, "%s%llu", d ? ", " : "", (unsigned long long)t->ne[d]);
        rl_printf(h, 1, "] %llu\n", (unsigned long long)t->nbytes);
    }
    rl_printf(h, 1, "%zu keys, %zu tensors, %llu parameters, %llu bytes\n", m->kv.n, m->n_t,
              (unsigned long long)m->n_params, (unsigned long long)m->file_bytes);
}

int gen_main(rl_host *h, int argc, char **argv) {
    if (argc < 2 || flag(argc, argv, "--help") || flag(argc, argv, "-h")) {
        usage(h, argc < 2 ? 2 : 1);
        return argc < 2 ? 2 : 0;
    }
    char *args[256];
    int n = 0;
    if (argc > 256) {
        rl_printf(h, 2, "rullama-gen: too many arguments (%d)\n", argc);
        return 2;
    }
    for (int i = 0; i < argc; i++) {
        int bare = 0;
        for (size_t k = 0; k < sizeof bare_flags / sizeof *bare_flags; k++) bare |= !strcmp(argv[i], bare_flags[k]);
        if (!bare) args[n++] = argv[i];
    }
    static const char *const own[] = {"--preset", "--out", "--store", "--name", "--vocab", NULL};
    const char *preset = opt(argc, argv, "--preset"), *out = opt(argc, argv, "--out");
    const char *store = opt(argc, argv, "--store"), *name = opt(argc, argv, "--name");
    const char *vocab_spec = opt(argc, argv, "--vocab");
    rl_error err = {0};
    gen_config cfg;
    gen_vocab *vocab = NULL;
    gen_model m;
    int info = flag(argc, argv, "--info");
    if (!preset) rl_fail(&err, RL_ERR_INVALID, "--preset is required");
    else if (!info && !out == !store) rl_fail(&err, RL_ERR_INVALID, "give exactly one of --out FILE and --store DIR");
    else if (store && !name) rl_fail(&err, RL_ERR_INVALID, "--store needs --name (e.g. gemma4:tiny)");
    if (err.code || gen_config_preset(&cfg, preset, &err) || gen_config_apply(&cfg, n, args, own, &err) ||
        (store && cfg.layout == GEN_LAYOUT_LLAMACPP &&
         rl_fail(&err, RL_ERR_INVALID, "--layout llamacpp writes a plain file (--out), not an Ollama store")) ||
        gen_vocab_load(h, vocab_spec ? vocab_spec : "synthetic", cfg.n_vocab, &vocab, &err) ||
        gen_model_build(&m, &cfg, vocab, &err)) {
        rl_printf(h, 2, "rullama-gen: %s\n", err.msg);
        gen_vocab_free(vocab);
        return err.code == RL_ERR_INVALID ? 2 : 1;
    }
    rl_status st = RL_OK;
    if (info) {
        print_plan(h, &m);
    } else {
        gen_write_opts o = {m.file_bytes > (256u << 20)};
        if (flag(argc, argv, "--progress")) o.progress = 1;
        if (flag(argc, argv, "--quiet")) o.progress = 0;
        st = store ? gen_write_store(&m, h, store, name, &o, &err) : gen_write_file(&m, h, out, &o, NULL, &err);
        if (st) rl_printf(h, 2, "rullama-gen: %s\n", err.msg);
    }
    gen_model_free(&m);
    gen_vocab_free(vocab);
    return st ? 1 : 0;
}
