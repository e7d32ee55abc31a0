#include "cli.h"

int cmd_list(rl_host *h, int argc, char **argv) {
    rl_printf(h, 2, "rullama list: not built yet\n");
    return 1;
}
