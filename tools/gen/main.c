/* Entry points: main() natively, rl_gen() as a wasm export (tools/gen.mjs). */
#include "gen.h"
#include "platform/wasm.h"

#ifdef __wasm__
RL_EXPORT(rl_gen) int rl_gen(int argc, char **argv) { return gen_main(rl_host_default(), argc, argv); }
#else
int main(int argc, char **argv) { return gen_main(rl_host_default(), argc, argv); }
#endif
