/* Entry points: main() natively, rl_cli() as a wasm export. */
#include "cli.h"
#include "platform/wasm.h"

#ifdef __wasm__
RL_EXPORT(rl_cli) int rl_cli(int argc, char **argv) { return rl_cli_main(rl_host_default(), argc, argv); }
#else
int main(int argc, char **argv) { return rl_cli_main(rl_host_default(), argc, argv); }
#endif
