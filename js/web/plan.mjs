// GPU memory estimate without touching a GPU: run the C planner
// (rl_api_gpu_open) against imports that only record what it asks for. The
// engine creates every buffer it will ever use at open time (weights, KV
// cache, activations) and submits the upload plan, so the recorded sizes are
// exactly what a real load allocates. WebGPU cannot report free GPU memory;
// this is the "needed" half of the comparison.

import { OP, OP_LEN } from '../gpu.mjs';

const USAGE_COPY_SRC = 0x0004, USAGE_STORAGE = 0x0080; // weights: STORAGE|COPY_DST; KV, activations: also COPY_SRC

export class GpuPlanner {
    constructor() { this.reset(); }

    reset() {
        this.buffers = new Map(); // id -> {size, usage}
        this.uploadBytes = 0;
    }

    // The `env.gpu_*` imports for js/engine.mjs (host.extraImports).
    imports(getMemory) {
        const rec = this;
        return {
            gpu_buffer(id, sizeLo, sizeHi, usage) {
                rec.buffers.set(id, { size: sizeHi * 4294967296 + (sizeLo >>> 0), usage });
                return 0;
            },
            gpu_buffer_destroy(id) { rec.buffers.delete(id); },
            gpu_shader: () => 0,
            gpu_pipeline: () => 0,
            gpu_bind_group: () => 0,
            gpu_submit(ptr, nWords) {
                const w = new Uint32Array(getMemory().buffer, ptr >>> 0, nWords);
                for (let i = 0; i < nWords; i += OP_LEN[w[i]] || 1)
                    if (w[i] === OP.UPLOAD) rec.uploadBytes += w[i + 4];
                return 0;
            },
        };
    }

    summary() {
        let weights = 0, work = 0, largest = 0;
        for (const { size, usage } of this.buffers.values()) {
            if ((usage & USAGE_COPY_SRC) || !(usage & USAGE_STORAGE)) work += size; else weights += size;
            largest = Math.max(largest, size);
        }
        return { weights, work, total: weights + work, largest, uploadBytes: this.uploadBytes, buffers: this.buffers.size };
    }
}

// Caps as js/gpu.mjs GpuRuntime.caps() reports them, from an adapter's limits
// (a device is requested with the adapter's limits, so they agree), or
// defaults for planning where no adapter exists.
export function capsFromAdapter(adapter) {
    const L = adapter?.limits || {}, info = adapter?.info || {}, f = adapter?.features;
    return {
        hasSubgroups: f?.has('subgroups') ? 1 : 0,
        hasF16: f?.has('shader-f16') ? 1 : 0,
        hasTimestamps: f?.has('timestamp-query') ? 1 : 0,
        subgroupMin: info.subgroupMinSize || 0,
        subgroupMax: info.subgroupMaxSize || 0,
        maxBuffer: L.maxBufferSize ?? 1 << 30,
        maxBinding: L.maxStorageBufferBindingSize ?? 1 << 30,
        offsetAlign: L.minStorageBufferOffsetAlignment ?? 256,
        uniformAlign: L.minUniformBufferOffsetAlignment ?? 256,
        maxInvocations: L.maxComputeInvocationsPerWorkgroup ?? 256,
        maxWgStorage: L.maxComputeWorkgroupStorageSize ?? 16384,
        maxStorageBuffers: L.maxStorageBuffersPerShaderStage ?? 8,
        maxWorkgroups: L.maxComputeWorkgroupsPerDimension ?? 65535,
    };
}

// Plan a model on an engine instantiated with planner.imports(). Returns the
// summary, or {error} with the planner's reason (e.g. a tensor larger than
// the binding limit, an unsupported model).
export function planModel(engine, planner, spec, caps, nCtx) {
    const x = engine.exports;
    const withStr = (s, fn) => { const p = engine.cstr(s); try { return fn(p); } finally { engine.free(p); } };
    const pathPtr = withStr(spec, (p) => x.rl_api_resolve(p));
    if (!pathPtr) return { error: engine.readCString(x.rl_api_error()) };
    const path = engine.readCString(pathPtr);
    engine.free(pathPtr);
    planner.reset();
    const h = withStr(path, (p) => withStr(JSON.stringify(caps), (c) => x.rl_api_gpu_open(p, c, nCtx, 0, 0)));
    if (!h) return { error: engine.readCString(x.rl_api_error()), path };
    const s = { ...planner.summary(), path };
    x.rl_api_gpu_close(h);
    return s;
}
