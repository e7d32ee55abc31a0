#include "cli.h"

int cmd_inspect(rl_host *h, int argc, char **argv) {
    rl_printf(h, 2, "rullama inspect: not built yet\n");
    return 1;
}
