// A model session on the GPU: instantiates the engine wasm wired to a WebGPU
// runtime and a host (files), opens a model, and runs forward passes with the
// step protocol. Shared by the Node CLI, the server and the browser worker.
import { instantiate } from './engine.mjs';
import { createGpu } from './gpu.mjs';

export class GpuSession {
    static async open({ wasm, host, modelPath, nCtx = 4096, ubatch = 0, gpu = null, disable = [], onProgress = null }) {
        const runtime = gpu || (await createGpu({ disable }));
        let engine = null;
        const memory = () => engine.memory;
        host.extraImports = runtime.imports(memory);
        engine = await instantiate(wasm, host);
        runtime.files = { read: (fd, pos, view) => host.read(fd, pos, view) };
        const s = new GpuSession(engine, runtime);
        const path = s.#withCString(modelPath, (p) => engine.exports.rl_api_resolve(p));
        if (!path) throw new Error(s.error());
        const resolved = engine.readCString(path);
        engine.free(path);
        const t0 = performance.now();
        const handle = s.#withCString(resolved, (p) =>
            s.#withCString(JSON.stringify(runtime.caps()), (c) => engine.exports.rl_api_gpu_open(p, c, nCtx, ubatch)));
        if (!handle) throw new Error(s.error());
        s.handle = handle;
        s.path = resolved;
        s.nVocab = engine.exports.rl_api_gpu_n_vocab(handle);
        const total = engine.exports.rl_api_gpu_upload_bytes(handle);
        runtime.uploaded = 0;
        runtime.onProgress = onProgress ? (done) => onProgress(done, total) : null;
        await runtime.flush(memory);
        runtime.onProgress = null;
        s.loadMs = performance.now() - t0;
        s.loadBytes = total;
        return s;
    }

    constructor(engine, runtime) {
        this.engine = engine;
        this.runtime = runtime;
    }

    error() { return this.engine.readCString(this.engine.exports.rl_api_error()) || 'unknown error'; }

    #withCString(str, fn) {
        const p = this.engine.cstr(str);
        try { return fn(p); } finally { this.engine.free(p); }
    }

    get nPast() { return this.engine.exports.rl_api_gpu_n_past(this.handle); }

    // Run tokens at the next positions. Returns logits (Float32Array of
    // n x nVocab when allLogits, else nVocab) or null when logits: false.
    async eval(tokens, { allLogits = false, logits = true } = {}) {
        const e = this.engine, n = tokens.length, V = this.nVocab;
        const tp = e.alloc(4 * n);
        new Int32Array(e.memory.buffer, tp, n).set(tokens);
        const rows = allLogits ? n : 1;
        const lp = logits ? e.alloc(4 * rows * V) : 0;
        try {
            if (e.exports.rl_api_gpu_eval(this.handle, tp, n, lp, allLogits ? 1 : 0, 0) !== 0) throw new Error(this.error());
            await this.runtime.flush(() => e.memory);
            return logits ? new Float32Array(e.memory.buffer, lp, rows * V).slice() : null;
        } finally {
            e.free(tp);
            if (lp) e.free(lp);
        }
    }

    truncate(nKeep) {
        if (this.engine.exports.rl_api_gpu_truncate(this.handle, nKeep) !== 0) throw new Error(this.error());
    }

    close() {
        if (this.handle) this.engine.exports.rl_api_gpu_close(this.handle);
        this.handle = 0;
        this.runtime.destroy();
    }
}
