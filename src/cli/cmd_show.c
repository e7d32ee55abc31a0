/* rullama show MODEL [--verbose]: what the server's POST /api/show returns, as
 * JSON (Ollama's shape; modified_at is added by the server from the file time). */
#include "cli.h"
#include "core/strbuf.h"

int cmd_show(rl_host *h, int argc, char **argv) {
    const char *spec = cli_positional(argc, argv, 0, NULL);
    if (!spec) {
        rl_printf(h, 2, "usage: rullama show MODEL [--verbose]\n");
        return 2;
    }
    strbuf out;
    sb_init(&out);
    rl_error err = {0};
    int rc = 0;
    if (cli_show_json(h, spec, cli_flag(argc, argv, "--verbose") != 0, &out, &err) != RL_OK) {
        rl_printf(h, 2, "rullama show: %s\n", err.msg);
        rc = 1;
    } else {
        sb_putc(&out, '\n');
        h->out(h, 1, out.s, out.len);
    }
    sb_free(&out);
    return rc;
}
