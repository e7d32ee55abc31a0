/* The C <-> JS GPU boundary. C owns every decision (which buffers exist, what
 * goes where, which pipeline runs with which bindings and grid, in which order);
 * JS turns records into WebGPU calls. Objects are integer ids chosen by C.
 *
 * Object creation is immediate (synchronous imports). Work is a command list:
 * an array of u32 words in wasm memory that C fills and hands to
 * gpu_submit(ptr, n_words); JS encodes it (one compute pass per run of
 * dispatches) and submits it once. Reads land in wasm memory after the host
 * awaits them (step protocol: C returns, JS awaits, JS calls C again).
 * js/gpu.mjs is the other half of this file. */
#ifndef RL_GPU_ABI_H
#define RL_GPU_ABI_H

#include <stdint.h>

/* Buffer usage bits (a subset of GPUBufferUsage, same values). */
#define RL_BUF_MAP_READ 0x0001u
#define RL_BUF_COPY_SRC 0x0004u
#define RL_BUF_COPY_DST 0x0008u
#define RL_BUF_UNIFORM 0x0040u
#define RL_BUF_STORAGE 0x0080u
#define RL_BUF_INDIRECT 0x0100u

/* Binding kinds of a pipeline layout entry. */
enum { RL_BIND_UNIFORM = 0, RL_BIND_STORAGE_RO = 1, RL_BIND_STORAGE_RW = 2 };

/* Command words. Each record starts with its opcode; lengths are fixed per op. */
enum {
    /* [OP_DISPATCH, pipeline, bind_group, gx, gy, gz] */
    RL_OP_DISPATCH = 1,
    /* [OP_WRITE, buffer, offset, src_ptr, len]: queue.writeBuffer from wasm memory, applied
     * before this submit's commands run (all writes of a list precede its commands). */
    RL_OP_WRITE = 2,
    /* [OP_COPY, src, src_off, dst, dst_off, len] */
    RL_OP_COPY = 3,
    /* [OP_READ, buffer, offset, len, dst_ptr]: copied into wasm memory before C is called again */
    RL_OP_READ = 4,
    /* [OP_UPLOAD, file, off_lo, off_hi, len, buffer, buf_off]: the host streams file bytes
     * straight into the buffer (never through wasm memory), applied before the commands */
    RL_OP_UPLOAD = 5,
    /* [OP_DISPATCH_INDIRECT, pipeline, bind_group, buffer, offset] */
    RL_OP_DISPATCH_INDIRECT = 7,
    /* [OP_AHEAD, n]: the list runs ahead of the host: its reads are awaited by the n-th
     * flush after the one that submits it, not by that one (decode steps n+1.. queued
     * before step n's pick is read) */
    RL_OP_AHEAD = 8,
    /* [OP_FREE, buffer]: the buffer is destroyed once this list is submitted (its commands,
     * and those before, still finish with it); the id is not used again */
    RL_OP_FREE = 9,
};

#define RL_OP_LEN_DISPATCH 6
#define RL_OP_LEN_WRITE 5
#define RL_OP_LEN_COPY 6
#define RL_OP_LEN_READ 5
#define RL_OP_LEN_UPLOAD 7
#define RL_OP_LEN_DISPATCH_INDIRECT 5
#define RL_OP_LEN_AHEAD 2
#define RL_OP_LEN_FREE 2

/* What the host reports about the device (filled before the engine starts). */
typedef struct {
    uint32_t has_subgroups, has_f16, has_timestamps;
    uint32_t has_smx_i8; /* chromium-experimental-subgroup-matrix with i8 x i8 -> i32 16x16x32, subgroups of 32 */
    uint32_t subgroup_min, subgroup_max;
    uint64_t max_buffer, max_binding; /* maxBufferSize, maxStorageBufferBindingSize */
    uint32_t offset_align;            /* minStorageBufferOffsetAlignment */
    uint32_t uniform_align;           /* minUniformBufferOffsetAlignment */
    uint32_t max_invocations, max_wg_storage, max_storage_buffers, max_workgroups;
    uint64_t memory_hint;             /* bytes the host believes the device can hold (0 = unknown) */
} rl_gpu_caps;

#endif
