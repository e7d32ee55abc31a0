/* GPU object management on the C side: ids for buffers, pipelines and bind
 * groups (cached by content), a uniform arena for per-dispatch parameters, and
 * the command list builder. Creation goes through the host imports of
 * gpu_abi.h; everything is decided here. */
#ifndef RL_GPU_DEVICE_H
#define RL_GPU_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "gpu/gpu_abi.h"

/* One row of the kernel table (src/gpu/kernels.c). */
typedef struct {
    const char *name;
    const char *files[10];   /* embedded WGSL files, concatenated ("F@2": src/gpu/wgsl.h); NULL after the last */
    uint8_t binds[12];       /* RL_BIND_* per binding; binding 0 is the uniform Params */
    uint8_t n_binds;
    uint16_t params_size;    /* bytes of the Params struct */
} rl_kernel;

typedef enum {
    K_NORM, K_NORM_LIMBS, K_ATTN_PREP, K_ATTENTION_TILED, K_ATTN_DECODE, K_ATTN_DECODE_PREP, K_ATTN_COMBINE, K_GLU, K_PLE, K_ARGMAX, K_MATVEC, K_MATVEC_GEGLU, K_MATVEC_RES, K_MATVEC_XL, K_MATMUL, K_ACT_LIMBS, K_ACT_LIMBS_GLU, K_MATMUL_SMX, K_GET_ROWS, K_MOE_ROUTE, K_MOE_MATVEC, K_MOE_COMBINE, K_TOPK, K_REPACK_Q6K, K_SMX_PACK, K_SPLIT_SUM,
    K_COUNT
} rl_kernel_id;

const rl_kernel *rl_kernel_get(rl_kernel_id id);

typedef struct {
    uint32_t id;
    uint64_t size;
} rl_gbuf;

/* A binding: a range of a buffer. size 0 = to the end of the buffer. */
typedef struct {
    uint32_t buffer;
    uint64_t offset, size;
} rl_gbind;

typedef struct rl_gpu_device rl_gpu_device;

/* FNV-1a of n bytes continuing from h (RL_GDEV_HASH_SEED to start): the key of
 * the device's caches, and of the engine's replayed decode steps. */
#define RL_GDEV_HASH_SEED 1469598103934665603ull
uint64_t rl_gdev_hash(const void *p, size_t n, uint64_t h);

rl_status rl_gdev_new(const rl_gpu_caps *caps, rl_gpu_device **out, rl_error *err);
void rl_gdev_free(rl_gpu_device *d);
const rl_gpu_caps *rl_gdev_caps(const rl_gpu_device *d);

/* Buffers: usage is RL_BUF_* bits. Returns the id (0 on failure, err set). */
uint32_t rl_gdev_buffer(rl_gpu_device *d, uint64_t size, uint32_t usage, rl_error *err);
uint64_t rl_gdev_buffer_size(const rl_gpu_device *d, uint32_t id);

/* A pipeline for kernel k with defines ("NAME" or "NAME=VALUE", NULL-terminated);
 * cached by (kernel, defines). Returns 0 on failure. */
uint32_t rl_gdev_pipeline(rl_gpu_device *d, rl_kernel_id k, const char *const *defines, rl_error *err);

/* Record a dispatch: params (the kernel's Params bytes) are placed in the
 * uniform arena (deduplicated), the bind group is cached by content. */
rl_status rl_gdev_dispatch(rl_gpu_device *d, uint32_t pipeline, const void *params, const rl_gbind *binds,
                           uint32_t gx, uint32_t gy, uint32_t gz, rl_error *err);

/* Other command records (see gpu_abi.h). write copies src now (kept until submit). */
rl_status rl_gdev_write(rl_gpu_device *d, uint32_t buffer, uint64_t offset, const void *src, uint32_t len,
                        rl_error *err);
rl_status rl_gdev_read(rl_gpu_device *d, uint32_t buffer, uint64_t offset, uint32_t len, void *dst, rl_error *err);
rl_status rl_gdev_copy(rl_gpu_device *d, uint32_t src, uint64_t src_off, uint32_t dst, uint64_t dst_off, uint32_t len,
                       rl_error *err);
/* Mark the list being recorded as running ahead: its reads land at the
 * flushes-th flush after the one that submits it (gpu_abi.h RL_OP_AHEAD). */
rl_status rl_gdev_ahead(rl_gpu_device *d, uint32_t flushes, rl_error *err);
/* Destroys a buffer once the commands recorded before this are handed over
 * (the GPU finishes what they use first); its id is never used again. */
rl_status rl_gdev_free_buffer(rl_gpu_device *d, uint32_t buffer, rl_error *err);
rl_status rl_gdev_upload(rl_gpu_device *d, int file, uint64_t file_off, uint32_t len, uint32_t buffer,
                         uint64_t buf_off, rl_error *err);

/* Hand the recorded list to the host (uploads the uniform arena first if it
 * changed). The list is empty afterwards. */
rl_status rl_gdev_submit(rl_gpu_device *d, rl_error *err);
size_t rl_gdev_pending_words(const rl_gpu_device *d);
/* Drop the list being recorded (after a failure midway through it: its reads
 * point at memory the caller frees). Uniforms it added stay in the arena and go
 * up with the next submit. */
void rl_gdev_discard(rl_gpu_device *d);

/* Replaying recorded commands: a copy of the words recorded since `from` (a
 * rl_gdev_pending_words value) when they are dispatches and copies only, whose
 * pipelines, bind groups and uniforms stay valid for the device's life; NULL
 * (err set only on allocation failure) when the span holds writes, reads or
 * uploads, whose pointers and data belong to one submit. */
uint32_t *rl_gdev_span_copy(const rl_gpu_device *d, size_t from, size_t *n_words, uint32_t *n_dispatch, rl_error *err);
/* Append such a copy to the list being recorded. */
rl_status rl_gdev_replay(rl_gpu_device *d, const uint32_t *words, size_t n_words, uint32_t n_dispatch, rl_error *err);
uint32_t rl_gdev_dispatch_count(const rl_gpu_device *d); /* dispatches recorded since creation */

#endif
