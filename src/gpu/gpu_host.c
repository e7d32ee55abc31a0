#include "gpu/gpu_host.h"

#include "platform/wasm.h"

#ifdef __wasm__
RL_IMPORT(gpu_buffer) int32_t js_gpu_buffer(uint32_t id, uint32_t size_lo, uint32_t size_hi, uint32_t usage);
RL_IMPORT(gpu_buffer_destroy) void js_gpu_buffer_destroy(uint32_t id);
RL_IMPORT(gpu_shader) int32_t js_gpu_shader(uint32_t id, const char *src, uint32_t len);
RL_IMPORT(gpu_pipeline)
int32_t js_gpu_pipeline(uint32_t id, uint32_t shader, const char *entry, uint32_t entry_len, const uint32_t *kinds,
                        uint32_t n_bindings, const char *label, uint32_t label_len);
RL_IMPORT(gpu_bind_group) int32_t js_gpu_bind_group(uint32_t id, uint32_t pipeline, const uint32_t *entries, uint32_t n);
RL_IMPORT(gpu_submit) int32_t js_gpu_submit(const uint32_t *words, uint32_t n_words);

static const rl_gpu_host js_host = {
    js_gpu_buffer, js_gpu_buffer_destroy, js_gpu_shader, js_gpu_pipeline, js_gpu_bind_group, js_gpu_submit,
};
static const rl_gpu_host *current = &js_host;
#else
static const rl_gpu_host *current = 0;
#endif

const rl_gpu_host *rl_gpu_host_get(void) { return current; }
void rl_gpu_host_set(const rl_gpu_host *h) { current = h; }
