/* The host functions that create WebGPU objects and take command lists. In
 * the wasm build they are JS imports (js/gpu.mjs GpuRuntime.imports); natively
 * there is no GPU unless a test installs its own table (a recording mock). */
#ifndef RL_GPU_HOST_H
#define RL_GPU_HOST_H

#include <stdint.h>

typedef struct {
    int32_t (*buffer)(uint32_t id, uint32_t size_lo, uint32_t size_hi, uint32_t usage);
    void (*buffer_destroy)(uint32_t id);
    int32_t (*shader)(uint32_t id, const char *src, uint32_t len);
    int32_t (*pipeline)(uint32_t id, uint32_t shader, const char *entry, uint32_t entry_len, const uint32_t *kinds,
                        uint32_t n_bindings, const char *label, uint32_t label_len);
    int32_t (*bind_group)(uint32_t id, uint32_t pipeline, const uint32_t *entries, uint32_t n);
    int32_t (*submit)(const uint32_t *words, uint32_t n_words);
} rl_gpu_host;

/* The table in use: the JS imports in wasm, NULL natively unless set. */
const rl_gpu_host *rl_gpu_host_get(void);
void rl_gpu_host_set(const rl_gpu_host *h);

#endif
