/* Independent double-precision Gemma 4 text forward for tests (see ref_gemma4.c). */
#ifndef RL_REF_GEMMA4_H
#define RL_REF_GEMMA4_H

#include <stdint.h>

#include "model_file.h"

/* logits: T x n_vocab doubles, row t = next-token logits after tokens[0..t]. */
int ref_gemma4_logits(const rl_model_file *mf, const int32_t *tokens, int T, double *logits);

#endif
