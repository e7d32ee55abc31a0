// Model sessions over the engine wasm, for the CLI, the server and the browser
// worker. ChatSession (CPU or GPU) runs Ollama-style chat/generate requests with
// the step protocol; GpuSession exposes raw forward passes (logits) for parity
// checks and benchmarks.
import { instantiate } from './engine.mjs';
import { createGpu, noGpuImports } from './gpu.mjs';

const FLUSH = 1, TEXT = 2, DONE = 4;

function withCString(engine, str, fn) {
    const p = engine.cstr(str);
    try { return fn(p); } finally { engine.free(p); }
}

// Instantiate the wasm with host imports and, for the GPU, a WebGPU runtime.
async function start({ wasm, host, gpu, disable }) {
    const ownsRuntime = gpu !== false && !gpu; // a runtime we create is ours to destroy
    const runtime = gpu === false ? null : gpu || (await createGpu({ disable }));
    let engine = null;
    host.extraImports = runtime ? runtime.imports(() => engine.memory) : noGpuImports();
    engine = await instantiate(wasm, host);
    // uploads may read asynchronously (browser: Blob slices, HTTP ranges) where the host offers it
    if (runtime) runtime.files = { read: (fd, pos, view) => (host.readAsync ? host.readAsync(fd, pos, view) : host.read(fd, pos, view)) };
    return { engine, runtime, ownsRuntime };
}

export class ChatSession {
    // gpu: false for the CPU engine, a GpuRuntime, or undefined to create one.
    // pleOnHost: keep the per-layer-embedding table in the file (GPU memory for small GPUs)
    static async open({ wasm, host, model, nCtx = 0, gpu, disable = [], onProgress = null, pleOnHost = false }) {
        const { engine, runtime, ownsRuntime } = await start({ wasm, host, gpu, disable });
        const s = new ChatSession(engine, runtime);
        s.ownsRuntime = ownsRuntime;
        const t0 = performance.now();
        let total = 0;
        if (runtime) {
            runtime.uploaded = 0;
            runtime.onProgress = onProgress ? (done) => onProgress(done, total) : null;
        }
        const caps = runtime ? JSON.stringify(runtime.caps()) : '';
        s.handle = withCString(engine, model, (m) => withCString(engine, caps, (c) => engine.exports.rl_api_session_open(m, c, nCtx, pleOnHost ? 1 : 0)));
        if (!s.handle) {
            const msg = s.error();
            if (ownsRuntime) runtime?.destroy();
            throw new Error(msg);
        }
        if (runtime) {
            total = engine.exports.rl_api_session_upload_bytes(s.handle);
            s.packedBytes = engine.exports.rl_api_session_packed_bytes(s.handle);
            await runtime.flush(() => engine.memory); // stream the weights
            runtime.onProgress = null;
        }
        s.loadMs = performance.now() - t0;
        return s;
    }

    constructor(engine, runtime) {
        this.engine = engine;
        this.runtime = runtime;
        this.busy = false;
    }

    error() { return this.engine.readCString(this.engine.exports.rl_api_session_error()) || 'unknown error'; }

    // Run one request. body: an Ollama /api/chat (kind 'chat') or /api/generate
    // body. onText(content, thinking) streams; returns the final result object.
    // onStep() is awaited before every step: a server yields to its event loop
    // there, since CPU steps are synchronous and would otherwise starve it.
    async run(kind, body, { onText = null, signal = null, onStep = null } = {}) {
        if (this.busy) throw new Error('this session is already generating');
        this.busy = true;
        const e = this.engine, x = e.exports;
        try {
            const begin = kind === 'chat' ? x.rl_api_session_chat : x.rl_api_session_generate;
            if (withCString(e, JSON.stringify(body), (b) => begin(this.handle, b)) !== 0) throw new Error(this.error());
            let content = '', thinking = '';
            for (;;) {
                if (onStep) await onStep();
                if (signal?.aborted) x.rl_api_session_cancel(this.handle);
                const f = x.rl_api_session_step(this.handle);
                if (f < 0) throw new Error(this.error());
                if (f & TEXT) {
                    const c = e.readCString(x.rl_api_session_text(this.handle));
                    const t = e.readCString(x.rl_api_session_thinking(this.handle));
                    content += c;
                    thinking += t;
                    if (onText && (c || t)) await onText(c, t);
                }
                if (f & DONE) break;
                if (f & FLUSH) await this.runtime.flush(() => e.memory);
            }
            const p = x.rl_api_session_result(this.handle);
            const result = JSON.parse(e.readCString(p));
            e.free(p);
            result.content = content;
            if (thinking) result.thinking = thinking;
            return result;
        } finally {
            this.busy = false;
        }
    }

    close() {
        if (this.handle) this.engine.exports.rl_api_session_close(this.handle);
        this.handle = 0;
        if (this.ownsRuntime) this.runtime?.destroy();
    }
}

export class GpuSession {
    static async open({ wasm, host, modelPath, nCtx = 4096, ubatch = 0, gpu = null, disable = [], onProgress = null, pleOnHost = false }) {
        const { engine, runtime, ownsRuntime } = await start({ wasm, host, gpu, disable });
        const s = new GpuSession(engine, runtime);
        s.ownsRuntime = ownsRuntime;
        const path = withCString(engine, modelPath, (p) => engine.exports.rl_api_resolve(p));
        if (!path) throw new Error(s.error());
        const resolved = engine.readCString(path);
        engine.free(path);
        const t0 = performance.now();
        const handle = withCString(engine, resolved, (p) =>
            withCString(engine, JSON.stringify(runtime.caps()), (c) => engine.exports.rl_api_gpu_open(p, c, nCtx, ubatch, pleOnHost ? 1 : 0)));
        if (!handle) throw new Error(s.error());
        s.handle = handle;
        s.path = resolved;
        s.nVocab = engine.exports.rl_api_gpu_n_vocab(handle);
        const total = engine.exports.rl_api_gpu_upload_bytes(handle);
        runtime.uploaded = 0;
        runtime.onProgress = onProgress ? (done) => onProgress(done, total) : null;
        const t1 = performance.now();
        await runtime.flush(() => engine.memory);
        runtime.onProgress = null;
        s.loadMs = performance.now() - t0;
        s.openMs = t1 - t0; // parsing, buffers and pipelines; the rest streams the weights
        s.uploadMs = s.loadMs - s.openMs;
        s.loadBytes = total;
        s.packedBytes = engine.exports.rl_api_gpu_packed_bytes(handle);
        return s;
    }

    constructor(engine, runtime) {
        this.engine = engine;
        this.runtime = runtime;
    }

    error() { return this.engine.readCString(this.engine.exports.rl_api_error()) || 'unknown error'; }

    get nPast() { return this.engine.exports.rl_api_gpu_n_past(this.handle); }
    get nCtx() { return this.engine.exports.rl_api_gpu_n_ctx(this.handle); }
    get replays() { return this.engine.exports.rl_api_gpu_replays(this.handle); } // decode steps replayed (tests)

    // Run tokens at the next positions. Returns logits (Float32Array of
    // n x nVocab when allLogits, else nVocab) or null when logits: false.
    // argmax: also (or only, with logits: false) return the greedy pick(s).
    async eval(tokens, { allLogits = false, logits = true, argmax = false } = {}) {
        const e = this.engine, n = tokens.length, V = this.nVocab;
        const tp = e.alloc(4 * n);
        new Int32Array(e.memory.buffer, tp, n).set(tokens);
        const rows = allLogits ? n : 1;
        const lp = logits ? e.alloc(4 * rows * V) : 0;
        const ap = argmax ? e.alloc(4 * rows) : 0;
        try {
            const t0 = this.#recordStart();
            if (e.exports.rl_api_gpu_eval(this.handle, tp, n, lp, allLogits ? 1 : 0, ap) !== 0) await this.#failed();
            this.#recordEnd(t0);
            await this.runtime.flush(() => e.memory);
            const out = logits ? new Float32Array(e.memory.buffer, lp, rows * V).slice() : null;
            if (!argmax) return out;
            const ids = [...new Int32Array(e.memory.buffer, ap, rows)];
            return logits ? { logits: out, argmax: ids } : ids;
        } finally {
            e.free(tp);
            if (lp) e.free(lp);
            if (ap) e.free(ap);
        }
    }

    // Greedy decode of n tokens after an eval with argmax (its pick is the first
    // token fed), pipelined: up to `ahead` steps are queued, each one's token
    // still on the GPU, before the host reads the oldest one's pick. Returns
    // the n picks; the cache holds every position up to the last pick's (that
    // one is not fed). Four ahead as generation runs it (src/generate.c RL_GEN_AHEAD).
    async decodeGreedy(n, { ahead = 4 } = {}) {
        const e = this.engine, x = e.exports, ring = ahead + 1;
        const slots = e.alloc(4 * ring);
        const picks = [];
        let queued = 0;
        try {
            // step j is read after flush j + 1; before flush f the steps up to f + ahead - 1 are queued
            for (let f = 0; picks.length < n; f++) {
                const t0 = this.#recordStart();
                for (; queued < n && queued <= f + ahead - 1; queued++)
                    if (x.rl_api_gpu_eval_chained(this.handle, slots + 4 * (queued % ring), queued + 1 - f) !== 0) await this.#failed(ahead);
                this.#recordEnd(t0);
                await this.runtime.flush(() => e.memory);
                if (f >= 1) picks.push(new Int32Array(e.memory.buffer, slots + 4 * ((f - 1) % ring), 1)[0]);
            }
            return picks;
        } finally {
            e.free(slots);
        }
    }

    // Host cost of recording in C (bench: recordMs): the time of the C calls between these two,
    // less the lists JS encoded as C handed them over (eagerLists), which encodeMs counts
    #recordStart() { return [performance.now(), this.runtime.encodeMs ?? 0]; }
    #recordEnd([t0, enc0]) {
        this.recordMs = (this.recordMs ?? 0) + performance.now() - t0 - ((this.runtime.encodeMs ?? 0) - enc0);
    }

    // A pass failed in C: lists it (or earlier steps) already handed over still run,
    // with their reads landing before the caller frees their buffers (the `ahead`
    // flushes bring in the reads of steps queued ahead); then the error is thrown.
    async #failed(ahead = 0) {
        const msg = this.error();
        try {
            for (let k = 0; k <= ahead; k++) await this.runtime.flush(() => this.engine.memory);
        } catch { /* the pass's own error is the one to report */ }
        throw new Error(msg);
    }

    truncate(nKeep) {
        if (this.engine.exports.rl_api_gpu_truncate(this.handle, nKeep) !== 0) throw new Error(this.error());
    }

    close() {
        if (this.handle) this.engine.exports.rl_api_gpu_close(this.handle);
        this.handle = 0;
        if (this.ownsRuntime) this.runtime.destroy();
    }
}
