// Small helpers for kernel suites and benchmarks: run one WGSL compute kernel
// on plain WebGPU objects (no command ABI), and reach the C reference code
// (block formats, WGSL assembly) through the wasm test exports.
import { createGpu } from '../../../js/gpu.mjs';
import { loadEngine } from '../../../js/node/cli.mjs';

// ggml type ids and block geometry (elements, bytes); `align` is the byte
// alignment a row start needs on the GPU (kernels/quant.wgsl).
// `scales`: byte offsets of the f16 scale fields inside a block.
export const TYPES = {
    F32: { id: 0, qk: 1, qb: 4, align: 4 },
    F16: { id: 1, qk: 1, qb: 2, align: 4 },
    BF16: { id: 30, qk: 1, qb: 2, align: 4 },
    Q4_0: { id: 2, qk: 32, qb: 18, align: 2, scales: [0] },
    Q4_1: { id: 3, qk: 32, qb: 20, align: 4, scales: [0, 2] },
    Q5_0: { id: 6, qk: 32, qb: 22, align: 2, scales: [0] },
    Q5_1: { id: 7, qk: 32, qb: 24, align: 4, scales: [0, 2] },
    Q8_0: { id: 8, qk: 32, qb: 34, align: 2, scales: [0] },
    Q2_K: { id: 10, qk: 256, qb: 84, align: 4, scales: [80, 82] },
    Q3_K: { id: 11, qk: 256, qb: 110, align: 2, scales: [108] },
    Q4_K: { id: 12, qk: 256, qb: 144, align: 4, scales: [0, 2] },
    Q5_K: { id: 13, qk: 256, qb: 176, align: 4, scales: [0, 2] },
    Q6_K: { id: 14, qk: 256, qb: 210, align: 2, scales: [208] },
    // Q6_K as the engine keeps it on the GPU: blocks padded to 224 bytes (kernels/quant.wgsl
    // Q6K_PAD). File bytes, C reference and qb are Q6_K's; the kernels get gpuLayout's bytes.
    Q6_KP: { id: 14, qk: 256, qb: 210, gpuQb: 224, align: 16, scales: [208], defs: ['TYPE_Q6_K', 'Q6K_PAD'] },
};

export const rowBytes = (type, cols) => (cols / TYPES[type].qk) * TYPES[type].qb;
// the WGSL defines that select a type's kernels
export const gpuDefs = (type) => TYPES[type].defs ?? [`TYPE_${type}`];
// a type's file bytes as its kernels read them: every block padded to gpuQb (zeros after it)
export function gpuLayout(type, bytes) {
    const { qb, gpuQb } = TYPES[type];
    if (!gpuQb) return bytes;
    const out = new Uint8Array((bytes.length / qb) * gpuQb);
    for (let b = 0; b < bytes.length / qb; b++) out.set(bytes.subarray(b * qb, (b + 1) * qb), b * gpuQb);
    return out;
}

// n elements of `type` as random GGUF bytes that decode to sane finite values:
// quant blocks are random bytes with normal f16 scales of magnitude 2^-10..2^-3;
// float types random bit patterns with a bounded exponent (F16 including
// subnormals). rand() -> [0, 1).
export function randomWeights(type, n, rand) {
    const T = TYPES[type], bytes = (n / T.qk) * T.qb;
    const u32 = new Uint32Array(Math.ceil(bytes / 4));
    for (let i = 0; i < u32.length; i++) u32[i] = (rand() * 4294967296) >>> 0;
    const b = new Uint8Array(u32.buffer, 0, bytes), dv = new DataView(u32.buffer);
    const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
    if (type === 'F32') for (let i = 0; i < n; i++) dv.setUint32(4 * i, (dv.getUint32(4 * i, true) & 0x807FFFFF) | (int(110, 140) << 23), true);
    else if (type === 'BF16') for (let i = 0; i < n; i++) dv.setUint16(2 * i, (dv.getUint16(2 * i, true) & 0x807F) | (int(110, 140) << 7), true);
    else if (type === 'F16') for (let i = 0; i < n; i++) dv.setUint16(2 * i, (dv.getUint16(2 * i, true) & 0x83FF) | (int(0, 30) << 10), true);
    else for (let o = 0; o < bytes; o += T.qb) for (const f of T.scales) dv.setUint16(o + f, (dv.getUint16(o + f, true) & 0x83FF) | (int(5, 12) << 10), true);
    return b;
}

// The C side: quantize/dequantize/dot and WGSL assembly via the wasm exports.
export class CRef {
    static async load() { return new CRef(await loadEngine()); }
    constructor(engine) { this.e = engine; this.x = engine.exports; }
    #withBytes(bytes, fn) {
        const p = this.e.alloc(bytes.byteLength);
        new Uint8Array(this.e.memory.buffer).set(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), p);
        try { return fn(p); } finally { this.e.free(p); }
    }
    quantize(type, f32) {
        const out = rowBytes(type, f32.length);
        const dst = this.e.alloc(out);
        try {
            this.#withBytes(f32, (src) => {
                if (this.x.rl_test_quantize(TYPES[type].id, src, dst, f32.length) !== 0) throw new Error(`quantize ${type} failed`);
            });
            return new Uint8Array(this.e.memory.buffer).slice(dst, dst + out);
        } finally { this.e.free(dst); }
    }
    dequant(type, bytes, n) {
        const dst = this.e.alloc(4 * n);
        try {
            this.#withBytes(bytes, (src) => {
                if (this.x.rl_test_dequant(TYPES[type].id, src, dst, n) !== 0) throw new Error(`dequant ${type} failed`);
            });
            return new Float32Array(this.e.memory.buffer.slice(dst, dst + 4 * n));
        } finally { this.e.free(dst); }
    }
    dot(type, rowBytesArr, x) {
        return this.#withBytes(rowBytesArr, (w) => this.#withBytes(x, (xp) => this.x.rl_test_dot(TYPES[type].id, w, xp, x.length)));
    }
    // files, defines: arrays of strings ("NAME" or "NAME=VALUE")
    wgsl(files, defines = []) {
        const f = this.e.cstr(files.join(',')), d = this.e.cstr(defines.join(','));
        const err = this.e.alloc(512);
        try {
            const p = this.x.rl_test_wgsl(f, d, err, 512);
            if (!p) throw new Error(`WGSL assembly failed: ${this.e.readCString(err)}`);
            const s = this.e.readCString(p);
            this.e.free(p);
            return s;
        } finally { this.e.free(f); this.e.free(d); this.e.free(err); }
    }
}

const BIND = { u: 'uniform', r: 'read-only-storage', w: 'storage' };

// One device; pipelines cached by source. Compile errors come back with the
// offending lines.
export class KernelRunner {
    // smx: the subgroup-matrix feature where the adapter offers it (Dawn's allow_unsafe_apis)
    static async open(options) { return new KernelRunner(await createGpu({ smx: true, ...options })); }
    constructor(rt) {
        this.rt = rt;
        this.device = rt.device;
        this.cache = new Map();
    }
    get hasSubgroups() { return this.rt.features.has('subgroups'); }
    get hasSmx() { return this.rt.hasSmxI8; }
    // act_limbs.wgsl as the engine builds it (src/gpu/engine.c make_pipelines; SGMIN 4 is safe on any device)
    limbsSource(cref, glu = false, nl = 3) {
        return cref.wgsl(['common.wgsl', 'reduce.wgsl', 'limbs.wgsl', 'limbs_put.wgsl', 'act_limbs.wgsl'],
            ['WG=256u', ...(glu ? ['GLU'] : []), ...(nl === 2 ? ['LIMBS2'] : []), ...(this.hasSubgroups ? ['SUBGROUPS', 'SGMIN=4u'] : [])]);
    }

    // kinds: a string of u/r/w per binding, e.g. 'urrw'
    async pipeline(code, kinds) {
        const key = kinds + '\n' + code;
        if (this.cache.has(key)) return this.cache.get(key);
        const dev = this.device;
        dev.pushErrorScope('validation');
        const module = dev.createShaderModule({ code });
        const info = await module.getCompilationInfo();
        const errs = info.messages.filter((m) => m.type === 'error');
        if (errs.length) {
            const lines = code.split('\n');
            throw new Error(errs.map((m) => `${m.lineNum}:${m.linePos} ${m.message}\n    ${lines[m.lineNum - 1]}`).join('\n'));
        }
        const layout = dev.createBindGroupLayout({
            entries: [...kinds].map((k, i) => ({ binding: i, visibility: GPUShaderStage.COMPUTE, buffer: { type: BIND[k] } })),
        });
        // synchronous creation: Dawn's async path only adds polling latency here
        const pipe = dev.createComputePipeline({
            layout: dev.createPipelineLayout({ bindGroupLayouts: [layout] }),
            compute: { module, entryPoint: 'main' },
        });
        const err = await dev.popErrorScope();
        if (err) throw new Error(`pipeline: ${err.message}`);
        const entry = { pipe, layout };
        this.cache.set(key, entry);
        return entry;
    }

    // A buffer holding `data` (any TypedArray, padded to 4 bytes), or `data` zero bytes.
    buffer(data, uniform = false) {
        const bytes = typeof data === 'number' ? data : data.byteLength;
        const size = Math.max(16, Math.ceil(bytes / 4) * 4);
        const usage = (uniform ? GPUBufferUsage.UNIFORM : GPUBufferUsage.STORAGE) | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
        const buf = this.device.createBuffer({ size, usage, mappedAtCreation: typeof data !== 'number' });
        if (typeof data !== 'number') {
            new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
            buf.unmap();
        }
        return buf;
    }

    bindGroup(entry, buffers) {
        return this.device.createBindGroup({
            layout: entry.layout,
            entries: buffers.map((buffer, i) => ({ binding: i, resource: { buffer } })),
        });
    }

    // Encode `count` dispatches of one pipeline (timestamps around them when a
    // query set is given) and submit.
    dispatch(entry, bindGroup, grid, { count = 1, query = null } = {}) {
        const enc = this.device.createCommandEncoder();
        const pass = enc.beginComputePass(query ? { timestampWrites: { querySet: query, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : undefined);
        pass.setPipeline(entry.pipe);
        pass.setBindGroup(0, bindGroup);
        for (let i = 0; i < count; i++) pass.dispatchWorkgroups(grid[0], grid[1] ?? 1, grid[2] ?? 1);
        pass.end();
        this.device.queue.submit([enc.finish()]);
    }

    async read(buf, bytes = buf.size) {
        const size = Math.ceil(bytes / 4) * 4;
        const staging = this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
        const enc = this.device.createCommandEncoder();
        enc.copyBufferToBuffer(buf, 0, staging, 0, size);
        this.device.queue.submit([enc.finish()]);
        await staging.mapAsync(GPUMapMode.READ);
        const out = staging.getMappedRange().slice(0, bytes);
        staging.unmap();
        staging.destroy();
        this.rt.check();
        return out;
    }

    // Run once: buffers in binding order, result of binding `out` read back.
    async run(entry, buffers, grid, out) {
        this.dispatch(entry, this.bindGroup(entry, buffers), grid);
        return this.read(buffers[out]);
    }

    destroy() { this.rt.destroy(); }
}

// Params structs: u32 fields, with named f32 fields written as floats.
export function params(fields, floats = []) {
    const n = Math.ceil(fields.length / 4) * 4;
    const buf = new ArrayBuffer(4 * n);
    const u = new Uint32Array(buf), f = new Float32Array(buf);
    fields.forEach((v, i) => { if (floats.includes(i)) f[i] = v; else u[i] = v; });
    return new Uint8Array(buf);
}

// Field order of the matvec/matmul Params (kernels/matvec.wgsl).
export function mvParams(o) {
    return params([o.rows, o.cols, o.nTok, o.wOff, o.xOff, o.xStride, o.yOff, o.yStride, o.gridX ?? 0, o.softcap ?? 0, o.pad0 ?? 0, o.pad1 ?? 0,
        o.proW1 ?? 0, o.proW2 ?? 0, o.proS ?? 0, o.proFlags ?? 0], [9]);
}

// Field order of the get_rows Params (kernels/get_rows.wgsl).
export function grParams(o) {
    return params([o.nIds, o.cols, o.rowLo, o.nrows, o.wOff, o.idsOff, o.yOff, o.yStride, o.scale, 0, 0, 0], [8]);
}
