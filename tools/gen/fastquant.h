/* Fast block quantizers for the generator (fastquant.c). */
#ifndef RL_GEN_FASTQUANT_H
#define RL_GEN_FASTQUANT_H

#include <stddef.h>
#include <stdint.h>

/* Quantize n values (whole blocks) to type; returns 0 if the type has no fast
 * quantizer here (callers then use src/quant.c's). */
int gen_fast_quantize(uint32_t type, const float *src, void *dst, size_t n);

#endif
