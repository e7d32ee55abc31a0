#include "cli.h"

#include <string.h>

#define RL_VERSION "0.1.0"

static int cmd_help(rl_host *h, int argc, char **argv);
static int cmd_version(rl_host *h, int argc, char **argv) {
    rl_printf(h, 1, "rullama %s\n", RL_VERSION);
    return 0;
}

/* run, chat, serve and bench need the host's WebGPU and event loop: bin/rullama
 * handles them in JS (js/node/cli.mjs) and never reaches these rows. */
static int cmd_js_only(rl_host *h, int argc, char **argv) {
    rl_printf(h, 2, "rullama %s: this command is run by bin/rullama (Node), not by the engine alone\n", argv[0]);
    return 2;
}

static const rl_cli_command commands[] = {
    {"inspect", "inspect MODEL [--json]", "show a model's architecture, hyperparameters, tensors and towers", cmd_inspect},
    {"list", "list [PREFIX] [--json]", "list the models in the local Ollama store", cmd_list},
    {"run", "run MODEL [PROMPT] [--cpu]", "one chat turn, streamed (no PROMPT: stdin or interactive)", cmd_js_only},
    {"chat", "chat MODEL [--cpu]", "interactive chat (/clear forgets, /bye quits)", cmd_js_only},
    {"serve", "serve [--host H] [--port P]", "Ollama/OpenAI-compatible HTTP API and the web app (--cpu|--gpu, --ctx N)",
     cmd_js_only},
    {"bench", "bench MODEL", "load, prefill and decode speed on the GPU (--prompt N, --gen N, --json)", cmd_js_only},
    {"show", "show MODEL [--verbose]", "the model's details as JSON (what the server's /api/show returns)", cmd_show},
    {"logits", "logits MODEL --tokens IDS --out FILE", "write raw float32 next-token logits for each position", cmd_logits},
    {"tokenize", "tokenize MODEL TEXT [--json]", "print the token ids of TEXT (--file PATH: text from a file)",
     cmd_tokenize},
    {"version", "version", "print the version", cmd_version},
    {"help", "help", "show this help", cmd_help},
};
#define N_COMMANDS (sizeof commands / sizeof *commands)

static int cmd_help(rl_host *h, int argc, char **argv) {
    rl_printf(h, 1, "usage: rullama COMMAND [ARGS]\n\nMODEL is an Ollama name (gemma4:e2b, gemma4, library/gemma4:e4b)\n"
                    "or a path to a GGUF/blob file. $OLLAMA_MODELS overrides ~/.ollama/models.\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++) rl_printf(h, 1, "  %-28s %s\n", commands[i].usage, commands[i].summary);
    return 0;
}

int cli_flag(int argc, char **argv, const char *flag) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], flag)) return i;
    return 0;
}

const char *cli_opt(int argc, char **argv, const char *opt) {
    size_t n = strlen(opt);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], opt)) return i + 1 < argc ? argv[i + 1] : NULL;
        if (!strncmp(argv[i], opt, n) && argv[i][n] == '=') return argv[i] + n + 1;
    }
    return NULL;
}

const char *cli_positional(int argc, char **argv, int index, const char *const *value_opts) {
    int seen = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] == '-') {
            if (value_opts && !strchr(argv[i], '='))
                for (const char *const *v = value_opts; *v; v++)
                    if (!strcmp(argv[i], *v)) {
                        i++;
                        break;
                    }
            continue;
        }
        if (seen++ == index) return argv[i];
    }
    return NULL;
}

int rl_cli_main(rl_host *h, int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) return cmd_help(h, argc, argv), argc < 2 ? 2 : 0;
    if (!strcmp(argv[1], "--version")) return cmd_version(h, argc, argv);
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(h, argc - 1, argv + 1);
    rl_printf(h, 2, "rullama: unknown command '%s' (try 'rullama help')\n", argv[1]);
    return 2;
}
