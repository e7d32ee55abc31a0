/* The rullama command line, shared by the native binary and the wasm build
 * (bin/rullama runs it under Node). Each command is a row in cli.c. */
#ifndef RL_CLI_H
#define RL_CLI_H

#include "core/host.h"
#include "core/strbuf.h"
#include "model_file.h"
#include "ollama.h"

typedef struct {
    const char *name;
    const char *usage;   /* "inspect MODEL [--json]" */
    const char *summary; /* one line for `rullama help` */
    int (*run)(rl_host *h, int argc, char **argv); /* argv[0] is the command name */
} rl_cli_command;

int rl_cli_main(rl_host *h, int argc, char **argv);

/* Shared helpers for commands. */
/* Find "--flag" in argv; returns its index or 0. */
int cli_flag(int argc, char **argv, const char *flag);
/* Value of "--opt VALUE" or "--opt=VALUE", or NULL. */
const char *cli_opt(int argc, char **argv, const char *opt);
/* The i-th positional argument (skipping options and their values), or NULL.
 * value_opts lists options that take a value (NULL-terminated). */
const char *cli_positional(int argc, char **argv, int i, const char *const *value_opts);

/* Resolve and open MODEL; prints the error and returns nonzero on failure. */
int cli_open_model(rl_host *h, const char *spec, rl_model_ref *ref, rl_model_file *mf);

/* Ollama's /api/show answer for spec as JSON (show_json.c): details,
 * model_info (GGUF metadata; arrays over 5 elements empty unless verbose),
 * tensors, template/system/license/parameters/modelfile, capabilities. */
rl_status cli_show_json(rl_host *h, const char *spec, int verbose, strbuf *out, rl_error *err);

/* Command entry points (one file each). */
int cmd_inspect(rl_host *h, int argc, char **argv);
int cmd_list(rl_host *h, int argc, char **argv);
int cmd_logits(rl_host *h, int argc, char **argv);
int cmd_tokenize(rl_host *h, int argc, char **argv);
int cmd_show(rl_host *h, int argc, char **argv);

#endif
