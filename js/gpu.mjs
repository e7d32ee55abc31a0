// WebGPU executor: the JS half of src/gpu/gpu_abi.h. It gets a device, creates
// the objects C asks for (by integer id) and encodes C's command lists. It makes
// no decisions of its own. Works with navigator.gpu (browser) and npm `webgpu`
// (Dawn in Node).

import { awaitGpu } from './dawn-poll.mjs';

// command-list opcodes and their lengths in words (src/gpu/gpu_abi.h); js/web/plan.mjs reads them too
export const OP = { DISPATCH: 1, WRITE: 2, COPY: 3, READ: 4, UPLOAD: 5, DISPATCH_INDIRECT: 7, AHEAD: 8, FREE: 9 };
export const OP_LEN = { 1: 6, 2: 5, 3: 6, 4: 5, 5: 7, 7: 5, 8: 2, 9: 2 };
const BIND_TYPES = ['uniform', 'read-only-storage', 'storage'];
// chromium-experimental-subgroup-matrix: the integer tensor cores of the prefill
// matmul (kernels/matmul_smx.wgsl); Dawn offers it only with allow_unsafe_apis
const SMX = 'chromium-experimental-subgroup-matrix';
const OPTIONAL_FEATURES = ['subgroups', 'shader-f16', 'timestamp-query', SMX];

export class GpuError extends Error {}

// Uploads: staging buffer size, how many of them, reads in flight at once and
// their largest size, the biggest hole between two file ranges that one read
// spans (a few norms between matrices), and the smallest batch worth the ring.
const SLOT = 16 << 20, RING = 8, READS = 8, READ_MAX = 8 << 20, GAP = 64 << 10, STREAM_MIN = 1 << 20;

// Pack file ranges into staging-buffer-sized batches: extents (file reads, each
// filling [at, at+len) of the staging buffer; nearby ranges share one) and copies
// (staging [at, at+size) to buffer at offset; size is n rounded up to 4, the tail zeroed).
function* batches(ups, size) {
    let b = { extents: [], copies: [], used: 0, bytes: 0 };
    for (const u of ups) {
        for (let done = 0; done < u.len;) {
            const pos = u.pos + done, x = b.extents.at(-1);
            // a range at most GAP past the last extent extends it (the hole is read and ignored)
            const joins = x && x.fd === u.fd && pos >= x.pos + x.len && pos - x.pos - x.len <= GAP &&
                (pos - x.pos) % 4 === 0 && x.at + pos - x.pos < size;
            let at = joins ? x.at + pos - x.pos : Math.ceil(b.used / 4) * 4;
            if (at >= size) { yield b; b = { extents: [], copies: [], used: 0, bytes: 0 }; at = 0; }
            const n = Math.min(u.len - done, size - at);
            if (joins) x.len = pos + n - x.pos;
            else b.extents.push({ fd: u.fd, pos, len: n, at });
            b.copies.push({ buffer: u.buffer, offset: u.offset + done, at, n, size: Math.ceil(n / 4) * 4 });
            b.used = at + Math.ceil(n / 4) * 4;
            b.bytes += n;
            done += n;
        }
    }
    if (b.copies.length) yield b;
}

// Run async jobs at most n at a time, in call order.
function limiter(n) {
    let active = 0;
    const queue = [];
    const next = () => {
        if (active >= n || !queue.length) return;
        active++;
        const [job, resolve, reject] = queue.shift();
        Promise.resolve().then(job).then(resolve, reject).finally(() => { active--; next(); });
    };
    return (job) => new Promise((resolve, reject) => { queue.push([job, resolve, reject]); next(); });
}

// Imports for an engine without a GPU (the CPU engine): every call fails.
export function noGpuImports() {
    const fail = () => -1;
    return { gpu_buffer: fail, gpu_buffer_destroy() {}, gpu_shader: fail, gpu_pipeline: fail, gpu_bind_group: fail, gpu_submit: fail };
}

// Acquire an adapter and device with the adapter's real limits and whatever
// optional features exist. options.disable: features to pretend are absent
// (tests run the fallback paths this way).
export async function createGpu({ gpu, disable = [], powerPreference = 'high-performance', smx } = {}) {
    let keepAlive = null, boundsChecks = true, nothingRuns = false;
    if (!gpu) {
        if (globalThis.navigator?.gpu) gpu = globalThis.navigator.gpu;
        else {
            const webgpu = await import('webgpu');
            Object.assign(globalThis, webgpu.globals);
            // RULLAMA_DAWN_TOGGLES: Dawn toggles to enable (e.g. skip_validation, disable_robustness:
            // less host work per call and no bounds checks in kernels; docs/PERF.md measures them)
            // allow_unsafe_apis lets the adapter offer the subgroup matrices, which the prefill's integer
            // matmul uses where they exist (docs/PERF.md); RULLAMA_TUNE smx=0 turns both off
            const env = globalThis.process?.env ?? {};
            smx ??= !/(^|,)smx=0(,|$)/.test(env.RULLAMA_TUNE ?? '');
            // Bounds checks: Dawn's robustness (index clamps in the kernels, robust buffer access in
            // the driver) keeps a browser safe from a hostile page's shaders. Here every kernel is
            // the engine's own (parity-tested, bindings and grids sized by the C planner), and the
            // checks cost about 7% of an H100's decode step and 10% of its prefill (docs/PERF.md),
            // so Node runs without them; RULLAMA_ROBUST=1 keeps them. A browser always has them.
            boundsChecks = env.RULLAMA_ROBUST === '1';
            const toggles = [smx ? 'allow_unsafe_apis' : '', boundsChecks ? '' : 'disable_robustness', env.RULLAMA_DAWN_TOGGLES ?? '']
                .filter(Boolean).join(',');
            // RULLAMA_DAWN_DISABLE: Dawn toggles to turn off (A/B of defaults such as vulkan_use_buffer_robust_access_2)
            // RULLAMA_DAWN_BACKEND=null: Dawn's null backend runs no kernels, so a bench measures the host's
            // work alone (its logits are meaningless)
            const flags = [toggles && `enable-dawn-features=${toggles}`, env.RULLAMA_DAWN_DISABLE && `disable-dawn-features=${env.RULLAMA_DAWN_DISABLE}`,
                env.RULLAMA_DAWN_BACKEND && `backend=${env.RULLAMA_DAWN_BACKEND}`];
            nothingRuns = env.RULLAMA_DAWN_BACKEND === 'null';
            keepAlive = webgpu.create(flags.filter(Boolean)); // must stay referenced, or Dawn may crash (toolchain.md §6.4)
            gpu = keepAlive;
        }
    }
    const adapter = await gpu.requestAdapter({ powerPreference });
    if (!adapter) throw new GpuError('no WebGPU adapter is available (on Linux without a GPU, set VK_ICD_FILENAMES to a Vulkan driver such as SwiftShader)');
    let features = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f) && !disable.includes(f));
    // the matmul needs i8 x i8 -> i32 fragments of 16 x 16 x 32 and subgroups of 32
    const smxOk = (adapter.info?.subgroupMatrixConfigs ?? []).some((c) => c.componentType === 'i8' && c.resultComponentType === 'i32' && c.M === 16 && c.N === 16 && c.K === 32)
        && adapter.info?.subgroupMaxSize === 32 && features.includes('subgroups');
    if (!smxOk) features = features.filter((f) => f !== SMX);
    const L = adapter.limits;
    const requiredLimits = {};
    for (const k of ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize',
        'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxStorageBuffersPerShaderStage',
        'maxComputeWorkgroupsPerDimension', 'maxBindGroups', 'maxUniformBufferBindingSize'])
        if (L[k] !== undefined) requiredLimits[k] = L[k];
    const device = await adapter.requestDevice({ requiredFeatures: features, requiredLimits });
    const rt = new GpuRuntime(adapter, device, features, keepAlive, boundsChecks);
    rt.nothingRuns = nothingRuns;
    return rt;
}

export class GpuRuntime {
    constructor(adapter, device, features, keepAlive, boundsChecks = true) {
        this.adapter = adapter;
        this.device = device;
        this.features = new Set(features);
        this.hasSmxI8 = this.features.has(SMX);
        this.keepAlive = keepAlive;
        this.boundsChecks = boundsChecks; // Dawn's robustness (createGpu turns it off in Node)
        this.nothingRuns = false;  // Dawn's null backend (createGpu with RULLAMA_DAWN_BACKEND=null): no kernel runs
        this.buffers = new Map();
        this.shaders = new Map();
        this.pipelines = new Map();
        this.bindGroups = new Map();
        this.pending = [];         // command lists submitted by C, not yet encoded
        this.errors = [];          // asynchronous device errors, reported at the next await
        this.lost = null;
        this.readPool = [];        // reusable MAP_READ staging buffers
        this.files = null;         // host file access for OP_UPLOAD: {read(fd, pos, view) -> n}
        this.profile = null;       // when set (an object), each dispatch runs in its own timed pass: label -> {ms, n}
        this.dispatchesRun = 0;
        this.dupLabels = null;     // bench only: a Set of pipeline labels whose dispatches run twice (marginal cost)
        this.profileLists = false; // with profile: time each list's first pass whole instead ('list' -> {ms, n})
        this.profileQueries = [];  // [label, query index] awaiting resolution
        this.profileReads = [];
        // lists without uploads or reads are submitted as C hands them over (imports' gpu_submit);
        // RULLAMA_EAGER=0 keeps every list for the next flush instead (A/B)
        this.eagerLists = globalThis.process?.env?.RULLAMA_EAGER !== '0';
        this.eagerRuns = 0;
        this.early = [];           // reads of lists run ahead and submitted eagerly, for the next flush to queue
        this.onProgress = null;    // (bytesDone, bytesTotal) during uploads
        this.streamUploads = true; // false: every upload through writeBuffer (tests compare the two)
        this.stagingSize = SLOT;   // bytes per staging buffer (tests make it small)
        this.stagePool = [];       // idle mapped staging buffers, kept for the rest of a flush
        device.lost.then((info) => { this.lost = `GPU device lost: ${info.message || info.reason}`; });
        device.onuncapturederror = (e) => this.errors.push(e.error?.message || String(e.error));
        if (this.features.has('timestamp-query')) {
            this.querySet = device.createQuerySet({ type: 'timestamp', count: 4096 });
            this.queryBuf = device.createBuffer({ size: 4096 * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
        }
    }

    caps() {
        const L = this.device.limits, info = this.adapter.info || {};
        return {
            hasSubgroups: this.features.has('subgroups') ? 1 : 0,
            hasF16: this.features.has('shader-f16') ? 1 : 0,
            hasTimestamps: this.features.has('timestamp-query') ? 1 : 0,
            hasSmxI8: this.hasSmxI8 ? 1 : 0,
            subgroupMin: info.subgroupMinSize || 0,
            subgroupMax: info.subgroupMaxSize || 0,
            maxBuffer: L.maxBufferSize,
            maxBinding: L.maxStorageBufferBindingSize,
            offsetAlign: L.minStorageBufferOffsetAlignment,
            uniformAlign: L.minUniformBufferOffsetAlignment,
            maxInvocations: L.maxComputeInvocationsPerWorkgroup,
            maxWgStorage: L.maxComputeWorkgroupStorageSize,
            maxStorageBuffers: L.maxStorageBuffersPerShaderStage,
            maxWorkgroups: L.maxComputeWorkgroupsPerDimension,
            description: [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' '),
        };
    }

    // A CPU implementation of WebGPU (SwiftShader, lavapipe, WARP)?
    isSoftware() {
        const d = this.caps().description.toLowerCase();
        return /swiftshader|llvmpipe|lavapipe|warp|software|cpu/.test(d);
    }

    check() {
        if (this.lost) throw new GpuError(this.lost);
        if (this.errors.length) {
            const msg = this.errors.join('\n');
            this.errors = [];
            throw new GpuError(`WebGPU error: ${msg}`);
        }
    }

    // ---- imports called synchronously from C (see src/gpu/gpu_host.c) ----
    imports(getMemory) {
        const mem = () => new Uint8Array(getMemory().buffer);
        // a copy of n u32 at ptr: a small view, then slice (slicing a view of the whole
        // memory cost milliseconds per call in V8)
        const u32at = (ptr, n) => new Uint32Array(getMemory().buffer, ptr >>> 0, n).slice();
        const str = (p, n) => new TextDecoder().decode(mem().subarray(p >>> 0, (p >>> 0) + n));
        const rt = this;
        return {
            gpu_buffer(id, sizeLo, sizeHi, usage) {
                const size = sizeHi * 4294967296 + (sizeLo >>> 0);
                try {
                    rt.buffers.get(id)?.destroy();
                    rt.buffers.set(id, rt.device.createBuffer({ size, usage }));
                    return 0;
                } catch (e) {
                    rt.errors.push(`cannot create a ${size}-byte buffer: ${e.message}`);
                    return -1;
                }
            },
            gpu_buffer_destroy(id) {
                rt.buffers.get(id)?.destroy();
                rt.buffers.delete(id);
            },
            gpu_shader(id, srcPtr, srcLen) {
                const code = str(srcPtr, srcLen);
                const module = rt.device.createShaderModule({ code });
                rt.shaders.set(id, { module, code });
                return 0;
            },
            gpu_pipeline(id, shaderId, entryPtr, entryLen, kindsPtr, nBindings, labelPtr, labelLen) {
                const kinds = u32at(kindsPtr, nBindings);
                const layout = rt.device.createBindGroupLayout({
                    entries: [...kinds].map((k, i) => ({ binding: i, visibility: GPUShaderStage.COMPUTE, buffer: { type: BIND_TYPES[k] } })),
                });
                const shader = rt.shaders.get(shaderId);
                const pipeline = rt.device.createComputePipeline({
                    layout: rt.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
                    compute: { module: shader.module, entryPoint: str(entryPtr, entryLen) },
                });
                rt.pipelines.set(id, { pipeline, layout, shaderId, label: str(labelPtr, labelLen) });
                return 0;
            },
            gpu_bind_group(id, pipelineId, entriesPtr, n) {
                const w = u32at(entriesPtr, 4 * n);
                const entries = [];
                for (let i = 0; i < n; i++) {
                    const buffer = rt.buffers.get(w[4 * i + 1]);
                    if (!buffer) { rt.errors.push(`bind group ${id}: buffer ${w[4 * i + 1]} does not exist`); return -1; }
                    entries.push({ binding: w[4 * i], resource: { buffer, offset: w[4 * i + 2], size: w[4 * i + 3] } });
                }
                rt.bindGroups.set(id, rt.device.createBindGroup({ layout: rt.pipelines.get(pipelineId).layout, entries }));
                return 0;
            },
            gpu_submit(ptr, nWords) {
                // copy now: C reuses its command memory as soon as this returns
                const words = u32at(ptr, nWords);
                // writes read wasm memory: snapshot their bytes now, too
                const writes = [];
                let ahead = 0, waits = false, uploads = false;
                for (let i = 0; i < words.length; i += OP_LEN[words[i]] || 1) {
                    if (!OP_LEN[words[i]]) { rt.errors.push(`bad command opcode ${words[i]} at word ${i}`); return -1; }
                    if (words[i] === OP.WRITE) writes.push(new Uint8Array(getMemory().buffer, words[i + 3], words[i + 4]).slice());
                    else if (words[i] === OP.AHEAD) ahead = Math.max(1, words[i + 1]);
                    else if (words[i] === OP.UPLOAD || words[i] === OP.READ) waits = true, uploads ||= words[i] === OP.UPLOAD;
                }
                const list = { words, writes, ahead };
                if (ahead) rt.aheadLists = (rt.aheadLists ?? 0) + 1; // tests count pipelined steps
                // A list with nothing to await (no uploads, no reads, not run ahead) and none
                // before it still pending goes to the GPU now, while C records the next one:
                // a prefill pass's first pieces run during the recording of the rest. So does a
                // list run ahead without uploads (a pipelined decode step): its reads are only
                // awaited flushes later, and the GPU starts on the first queued step while C
                // records the next (the next flush counts it as one of its own)
                if (rt.eagerLists && !uploads && !rt.pending.length && (ahead || !waits)) {
                    rt.eagerRuns++;
                    const own = [];
                    if (ahead) rt.early.push({ reads: own, due: ahead });
                    rt.#run(list, getMemory, own).catch((e) => rt.errors.push(e.message || String(e)));
                    return 0;
                }
                rt.pending.push(list);
                return 0;
            },
        };
    }

    // ---- executing command lists (called from the JS driver, async) ----

    // Encode and submit every pending list. Reads resolve into wasm memory
    // (via memory()) when the returned promise settles; uploads stream first.
    // A list that runs ahead (OP.AHEAD n) leaves its reads in flight: the n-th
    // flush after this one awaits them, after submitting its own lists, so the
    // GPU works on steps n+1.. while the host handles step n's result.
    async flush(memory) {
        const lists = this.pending;
        this.pending = [];
        const reads = [], later = [];
        for (const a of this.aheadQueue ?? []) (--a.due <= 0 ? reads.push(...a.reads) : later.push(a));
        later.push(...this.early.splice(0)); // lists run ahead that went to the GPU as C handed them over
        this.aheadQueue = later;
        try {
            for (const list of lists) {
                if (!list.ahead) { await this.#run(list, memory, reads); continue; }
                const own = [];
                await this.#run(list, memory, own);
                later.push({ reads: own, due: list.ahead });
            }
        } finally {
            this.dropStaging();
        }
        this.check();
        return this.#finishReads(reads, memory);
    }

    async #run({ words, writes, ahead }, memory, reads) {
        const t0 = performance.now();
        this.listsRun = (this.listsRun ?? 0) + 1; // tests count command lists
        const dev = this.device;
        const nReads = reads.length;
        let wi = 0;
        // writes and uploads are queue operations: they happen before this list's commands,
        // in list order among themselves (the uploads between two writes stream as one
        // batch, whatever commands sit between them: a load's repack passes follow each
        // of its uploads, and a stream per upload cost a staging ring each)
        let ups = [];
        for (let i = 0; i <= words.length; i += OP_LEN[words[i]] || 1) {
            const op = words[i]; // undefined past the end: flushes the last run of uploads
            if (op === OP.UPLOAD) {
                const buffer = this.buffers.get(words[i + 5]);
                if (!buffer) throw new GpuError(`upload: buffer ${words[i + 5]} does not exist`);
                ups.push({ fd: words[i + 1], pos: words[i + 2] + words[i + 3] * 4294967296, len: words[i + 4], buffer, offset: words[i + 6] });
                continue;
            }
            if (ups.length && (op === OP.WRITE || op === undefined)) { await this.upload(ups); ups = []; }
            if (op === OP.WRITE) dev.queue.writeBuffer(this.buffers.get(words[i + 1]), words[i + 2], writes[wi++]);
        }
        const enc = dev.createCommandEncoder();
        // timeline (bench): when this list's commands start and end on the GPU, unresolved until
        // readTimeline, so pipelined steps are not made to wait for their timestamps
        let tl = -1;
        if (this.timeline && this.timeline.n < this.timeline.max)
            for (let i = 0; i < words.length; i += OP_LEN[words[i]]) if (words[i] === OP.DISPATCH) { tl = this.timeline.n++; break; }
        if (tl >= 0) enc.beginComputePass({ timestampWrites: { querySet: this.timeline.qs, beginningOfPassWriteIndex: 2 * tl } }).end();
        let pass = null, bound = null; // the pass's current pipeline: set again only when it changes
        const endPass = () => { if (pass) { pass.end(); pass = null; bound = null; } };
        const profiling = this.profile && this.querySet && !this.profileLists;
        let timeList = this.profile && this.querySet && this.profileLists && this.profileQueries.length < 2047; // this list's first pass
        for (let i = 0; i < words.length; i += OP_LEN[words[i]]) {
            const op = words[i];
            if (op === OP.DISPATCH || op === OP.DISPATCH_INDIRECT) {
                const p = this.pipelines.get(words[i + 1]);
                if (profiling && this.profileQueries.length < 2047) {
                    endPass();
                    const q = 2 * this.profileQueries.length;
                    this.profileQueries.push([p?.label || '?', q]);
                    pass = enc.beginComputePass({ timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: q, endOfPassWriteIndex: q + 1 } });
                } else if (!pass && timeList) {
                    timeList = false;
                    const q = 2 * this.profileQueries.length;
                    this.profileQueries.push(['list', q]);
                    pass = enc.beginComputePass({ timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: q, endOfPassWriteIndex: q + 1 } });
                } else if (!pass) pass = enc.beginComputePass();
                const bg = this.bindGroups.get(words[i + 2]);
                if (!p || !bg) throw new GpuError(`dispatch: pipeline ${words[i + 1]} or bind group ${words[i + 2]} does not exist`);
                if (bound !== p) { pass.setPipeline(p.pipeline); bound = p; }
                this.dispatchesRun++; // tests count what a pass encodes
                pass.setBindGroup(0, bg);
                for (let k = this.dupLabels?.has(p.label) ? 2 : 1; k > 0; k--) {
                    if (op === OP.DISPATCH) pass.dispatchWorkgroups(words[i + 3], words[i + 4], words[i + 5]);
                    else pass.dispatchWorkgroupsIndirect(this.buffers.get(words[i + 3]), words[i + 4]);
                }
            } else if (op === OP.COPY) {
                endPass();
                enc.copyBufferToBuffer(this.buffers.get(words[i + 1]), words[i + 2], this.buffers.get(words[i + 3]), words[i + 4], words[i + 5]);
            } else if (op === OP.READ) {
                endPass();
                const len = words[i + 3];
                const staging = this.#staging(len);
                enc.copyBufferToBuffer(this.buffers.get(words[i + 1]), words[i + 2], staging, 0, Math.ceil(len / 4) * 4);
                reads.push({ staging, len, dst: words[i + 4], mapped: null, ahead: !!ahead });
            }
        }
        endPass();
        if (tl >= 0) enc.beginComputePass({ timestampWrites: { querySet: this.timeline.qs, endOfPassWriteIndex: 2 * tl + 1 } }).end();
        if (this.profileQueries.length) {
            const n = 2 * this.profileQueries.length;
            enc.resolveQuerySet(this.querySet, 0, n, this.queryBuf, 0);
            const staging = this.#staging(n * 8);
            enc.copyBufferToBuffer(this.queryBuf, 0, staging, 0, n * 8);
            this.profileReads.push({ staging, entries: this.profileQueries });
            this.profileQueries = [];
        }
        const t1 = performance.now();
        dev.queue.submit([enc.finish()]);
        this.submitMs = (this.submitMs ?? 0) + performance.now() - t1; // of encodeMs: Dawn turning the list into driver commands (bench)
        // OP_FREE: the submitted work keeps what it uses; the buffer is gone for later lists
        for (let i = 0; i < words.length; i += OP_LEN[words[i]])
            if (words[i] === OP.FREE) {
                this.buffers.get(words[i + 1])?.destroy();
                this.buffers.delete(words[i + 1]);
                this.buffersFreed = (this.buffersFreed ?? 0) + 1; // tests count them
            }
        const ms = performance.now() - t0;
        this.encodeMs = (this.encodeMs ?? 0) + ms; // host cost of turning lists into WebGPU calls (bench)
        if (ahead) this.stepHostMs?.push(ms); // each pipelined step's share of it, when the bench asks (an array)
        // reads of a list that runs ahead start mapping now, so they are ready when awaited
        if (ahead) {
            for (const r of reads.slice(nReads)) {
                r.mapped = r.staging.mapAsync(GPUMapMode.READ);
                r.mapped.catch(() => {}); // a failure surfaces when the next flush awaits it
            }
        }
    }

    // GPU timeline of the next `max` lists that dispatch (bench): readTimeline() gives each
    // one's [start, end] in ms from the first start. Needs timestamp queries.
    startTimeline(max) {
        if (!this.features.has('timestamp-query')) return false;
        this.timeline?.qs.destroy();
        this.timeline = { qs: this.device.createQuerySet({ type: 'timestamp', count: 2 * max }), n: 0, max };
        return true;
    }

    async readTimeline() {
        const tl = this.timeline;
        if (!tl) return [];
        this.timeline = null;
        const n = 2 * tl.n, out = [];
        if (n) {
            const buf = this.device.createBuffer({ size: n * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
            const staging = this.device.createBuffer({ size: n * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
            const enc = this.device.createCommandEncoder();
            enc.resolveQuerySet(tl.qs, 0, n, buf, 0);
            enc.copyBufferToBuffer(buf, 0, staging, 0, n * 8);
            this.device.queue.submit([enc.finish()]);
            await staging.mapAsync(GPUMapMode.READ);
            const t = new BigUint64Array(staging.getMappedRange().slice(0));
            staging.unmap();
            [buf, staging].forEach((b) => b.destroy());
            for (let i = 0; i < tl.n; i++) out.push([Number(t[2 * i] - t[0]) / 1e6, Number(t[2 * i + 1] - t[0]) / 1e6]);
        }
        tl.qs.destroy();
        return out;
    }

    #staging(len) {
        const size = Math.max(256, Math.ceil(len / 256) * 256);
        const i = this.readPool.findIndex((b) => b.size >= size);
        if (i >= 0) return this.readPool.splice(i, 1)[0];
        return this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    }

    async #finishReads(reads, memory) {
        for (const pr of this.profileReads.splice(0)) {
            await pr.staging.mapAsync(GPUMapMode.READ);
            const t = new BigUint64Array(pr.staging.getMappedRange().slice(0, pr.entries.length * 16));
            pr.staging.unmap();
            this.readPool.push(pr.staging);
            for (const [label, q] of pr.entries) {
                const ms = Number(t[q + 1] - t[q]) / 1e6;
                const e = (this.profile[label] ??= { ms: 0, n: 0 });
                if (ms >= 0 && ms < 1e4) { e.ms += ms; e.n++; }
            }
        }
        if (!reads.length) return;
        // reads of pipelined steps are awaited steps after their submission: patient (js/dawn-poll.mjs)
        await awaitGpu(Promise.all(reads.map((r) => r.mapped ?? r.staging.mapAsync(GPUMapMode.READ))), reads.every((r) => r.ahead));
        this.check();
        for (const r of reads) {
            const src = new Uint8Array(r.staging.getMappedRange(), 0, r.len);
            if (this.nothingRuns) src.fill(0); // no kernel wrote it: host-cost runs read zeros, not stale bytes
            new Uint8Array(memory().buffer).set(src, r.dst);
            r.staging.unmap();
            this.readPool.push(r.staging);
        }
    }

    // Stream file ranges into GPU buffers: ups = [{fd, pos, len, buffer, offset}]
    // (offsets multiples of 4; an odd length's tail is zero-padded to 4). Large
    // batches go through the staging ring; small ones (a decode step's
    // per-layer-embedding rows) through writeBuffer, which needs no map round trip.
    async upload(ups) {
        if (!this.files) throw new GpuError('no file access for uploads');
        let total = 0;
        for (const u of ups) total += u.len;
        if (this.streamUploads && total >= STREAM_MIN) {
            const p = this.#stream(ups, total);
            this.streaming = p.catch(() => {}); // destroy() waits for it
            try { return await p; } finally { this.streaming = null; }
        }
        for (const u of ups) await this.#write(u);
    }

    // One copy through JS memory per chunk; writeBuffer needs 4-byte multiples.
    async #write({ fd, pos, len, buffer, offset }) {
        const chunk = new Uint8Array(Math.min(SLOT, Math.ceil(len / 4) * 4));
        for (let done = 0; done < len;) {
            const n = Math.min(chunk.length, len - done);
            await this.#read(fd, pos + done, chunk.subarray(0, n));
            const padded = Math.ceil(n / 4) * 4;
            if (padded > n) chunk.fill(0, n, padded);
            this.device.queue.writeBuffer(buffer, offset + done, chunk, 0, padded);
            done += n;
            this.#progress(n);
            // let the queue drain now and then so Dawn's staging memory stays bounded
            if ((done / SLOT) % 8 === 0) await this.device.queue.onSubmittedWorkDone();
        }
    }

    // Exactly view.length bytes from the file at pos, or a GpuError that says where.
    async #read(fd, pos, view) {
        let got;
        try {
            got = await this.files.read(fd, pos, view);
        } catch (e) {
            throw new GpuError(`upload: cannot read the model file at offset ${pos}: ${e?.message || e}`);
        }
        if (got < 0) throw new GpuError(`upload: cannot read the model file at offset ${pos}`);
        if (got !== view.length) throw new GpuError(`upload: short read at file offset ${pos} (${got} of ${view.length} bytes): the file is truncated or changed`);
    }

    #progress(n) {
        this.uploaded = (this.uploaded || 0) + n;
        this.onProgress?.(this.uploaded);
    }

    // The staging ring: up to RING mapped MAP_WRITE buffers that file reads fill
    // directly (the only CPU copy), each then copied into place on the GPU and
    // mapped again once that copy is done. Reads run READS at a time across the
    // ring, so the disk, the CPU copies and the GPU copies overlap; batches are
    // submitted in plan order. destroy() waits for reads in flight; a device lost
    // under them (Dawn then frees mapped memory) ends them as failed reads on real drivers.
    async #stream(ups, total) {
        const dev = this.device;
        const size = Math.min(this.stagingSize, Math.ceil(total / 4) * 4);
        const free = [], all = [], inflight = [];
        const state = { failed: false };
        const limit = limiter(READS);
        const settle = async () => {
            state.failed = true; // queued reads give up; those running finish before their ring buffer goes
            await Promise.allSettled(inflight.map((f) => f.reads));
            await Promise.allSettled(all.map((s) => s.ready));
        };
        // wait for the oldest batch's reads, then copy it into place and start mapping its buffer again
        const finish = async () => {
            const { slot, batch, reads } = inflight[0];
            await reads;
            inflight.shift();
            for (const c of batch.copies) if (c.size > c.n) slot.view.fill(0, c.at + c.n, c.at + c.size);
            slot.buf.unmap();
            const enc = dev.createCommandEncoder();
            for (const c of batch.copies) enc.copyBufferToBuffer(slot.buf, c.at, c.buffer, c.offset, c.size);
            dev.queue.submit([enc.finish()]);
            slot.ready = slot.buf.mapAsync(GPUMapMode.WRITE);
            slot.ready.catch(() => {}); // awaited before reuse; a rejection there is reported
            free.push(slot);
            this.#progress(batch.bytes);
        };
        try {
            for (const batch of batches(ups, size)) {
                if (this.closed) throw new GpuError('upload stopped: the GPU runtime was closed');
                this.check();
                if (!free.length && all.length < RING) {
                    // a ring buffer an earlier stream of this flush left mapped, else a new one
                    const i = this.stagePool.findIndex((b) => b.buf.size >= size);
                    const buf = i >= 0 ? this.stagePool.splice(i, 1)[0].buf
                        : dev.createBuffer({ size, usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC, mappedAtCreation: true });
                    all.push({ buf, ready: null });
                    free.push(all.at(-1));
                }
                if (!free.length) await finish();
                const slot = free.shift();
                if (slot.ready) await slot.ready.catch((e) => { throw new GpuError(this.lost || `upload: cannot map a staging buffer: ${e?.message || e}`); });
                slot.view = new Uint8Array(slot.buf.getMappedRange());
                const reads = [];
                for (const x of batch.extents)
                    for (let o = 0; o < x.len; o += READ_MAX) {
                        const view = slot.view.subarray(x.at + o, x.at + Math.min(x.len, o + READ_MAX));
                        reads.push(limit(() => state.failed ? null : this.#read(x.fd, x.pos + o, view)));
                    }
                const done = Promise.all(reads);
                done.catch(() => {}); // reported when finish() awaits it, not as unhandled meanwhile
                inflight.push({ slot, batch, reads: done });
            }
            while (inflight.length) await finish();
            await Promise.all(all.map((s) => s.ready)); // every copy is done
        } catch (e) {
            await settle();
            for (const s of all) s.buf.destroy();
            throw this.lost ? new GpuError(this.lost) : e;
        }
        // mapped again and idle: the next stream of this flush reuses them (creating a
        // mapped 16 MiB buffer costs milliseconds; a load of several lists made a ring each)
        this.stagePool.push(...all);
        this.lastRing = all.length; // tests: the buffers this stream used
        this.check();
    }

    // destroys the idle staging buffers (a flush ends with this; tests call it)
    dropStaging() {
        for (const s of this.stagePool) s.buf.destroy();
        this.stagePool = [];
    }

    destroy() {
        this.closed = true;
        this.dropStaging();
        for (const b of this.buffers.values()) b.destroy();
        for (const b of this.readPool) b.destroy();
        this.buffers.clear();
        // reads may still be filling mapped staging memory: the device goes once they settle
        if (this.streaming) this.streaming.then(() => this.device.destroy());
        else this.device.destroy();
    }
}
