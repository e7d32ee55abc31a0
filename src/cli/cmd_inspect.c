/* rullama inspect MODEL [--json] */
#include "cli.h"
#include "core/strbuf.h"

int cmd_inspect(rl_host *h, int argc, char **argv) {
    const char *spec = cli_positional(argc, argv, 0, NULL);
    if (!spec) {
        rl_printf(h, 2, "usage: rullama inspect MODEL [--json]\n");
        return 2;
    }
    rl_model_ref ref;
    rl_model_file mf;
    if (cli_open_model(h, spec, &ref, &mf)) return 1;
    strbuf out;
    sb_init(&out);
    if (cli_flag(argc, argv, "--json")) {
        rl_model_describe_json(&mf.model, mf.size, &out);
    } else {
        if (ref.name) sb_printf(&out, "model             %s\n", ref.name);
        sb_printf(&out, "path              %s\n", ref.model_path);
        rl_model_describe(&mf.model, mf.size, &out);
    }
    h->out(h, 1, out.s ? out.s : "", out.len);
    sb_free(&out);
    rl_model_file_close(&mf);
    rl_model_ref_free(&ref);
    return 0;
}
