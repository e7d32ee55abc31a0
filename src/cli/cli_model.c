/* Resolving a MODEL argument (Ollama name or file path) and opening it. */
#include <string.h>

#include "cli.h"

int cli_open_model(rl_host *h, const char *spec, rl_model_ref *ref, rl_model_file *mf) {
    rl_error err = {0};
    char root[4096];
    memset(ref, 0, sizeof *ref);
    if (rl_ollama_root(h, root, sizeof root, &err) != RL_OK) root[0] = '\0';
    if (rl_model_resolve(h, root, spec, ref, &err) != RL_OK) {
        rl_printf(h, 2, "rullama: %s\n", err.msg);
        return 1;
    }
    if (rl_model_file_open(h, ref->model_path, mf, &err) != RL_OK) {
        rl_printf(h, 2, "rullama: %s\n", err.msg);
        rl_model_ref_free(ref);
        return 1;
    }
    return 0;
}
