/* wasm exports for the local server (js/node/server): model names and the
 * /api/show answer. The server only accepts names from the Ollama store, never
 * file paths, so it canonicalizes a name first and looks it up in the listing. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/strbuf.h"
#include "platform/wasm.h"

static rl_error last_err; /* the API boundary's only state */

RL_EXPORT(rl_api_server_error) const char *rl_api_server_error(void) { return last_err.msg; }

/* "host/ns/model:tag" with Ollama's defaults filled in (malloc'd), or NULL
 * when spec is not a valid model name (message in rl_api_server_error). */
RL_EXPORT(rl_api_model_name) char *rl_api_model_name(const char *spec) {
    rl_error_clear(&last_err);
    rl_model_name n;
    if (rl_model_name_parse(spec, &n, &last_err) != RL_OK) return NULL;
    char full[1024];
    rl_model_name_format(&n, full, sizeof full);
    char *out = malloc(strlen(full) + 1);
    if (!out) {
        rl_fail(&last_err, RL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return strcpy(out, full);
}

/* The /api/show JSON for spec (malloc'd), or NULL with the message. */
RL_EXPORT(rl_api_model_show) char *rl_api_model_show(const char *spec, int verbose) {
    rl_error_clear(&last_err);
    strbuf out;
    sb_init(&out);
    if (cli_show_json(rl_host_default(), spec, verbose, &out, &last_err) != RL_OK) {
        sb_free(&out);
        return NULL;
    }
    return sb_take(&out);
}
