// One loaded model and a first-in, first-out queue of generations on it.
// A request names a model (a catalog entry) and a context size; the runner
// loads it on first use, keeps it, and swaps it out when a request names
// another model or context size. Jobs run one at a time, in arrival order; a
// job whose client went away before its turn is skipped, and a running one is
// cancelled through its AbortSignal (the session stops at the next step).
import { createGpu, GpuError } from '../../gpu.mjs';
import { ChatSession } from '../../session.mjs';
import { nodeHost } from '../host.mjs';
import { HttpError } from './http.mjs';

export class AbortedError extends Error {}

// Ollama's keep_alive: a duration string ("5m", "1h30m", "10s"), a number of
// seconds, negative = forever, 0 = unload after the request. Returns ms
// (Infinity = forever) or undefined when absent.
export function parseKeepAlive(v) {
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v === 'number' && Number.isFinite(v)) return v < 0 ? Infinity : v * 1000;
    if (typeof v === 'string') {
        if (/^-?\d+(\.\d+)?$/.test(v)) return parseKeepAlive(Number(v));
        const m = /^(-)?((?:\d+(?:\.\d+)?(?:h|m|s|ms))+)$/.exec(v.trim());
        if (m) {
            let ms = 0;
            for (const [, n, u] of m[2].matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)) ms += Number(n) * { h: 3600e3, m: 60e3, s: 1e3, ms: 1 }[u];
            return m[1] ? Infinity : ms;
        }
    }
    throw new HttpError(400, `keep_alive: "${v}" is not a duration (e.g. "5m", "30s", 0, -1)`, { param: 'keep_alive' });
}

// The far-future expiry Ollama reports for a model kept forever.
const FOREVER_MS = 292 * 365.25 * 86400e3;

export class Runner {
    constructor({ wasmModule, cpu = false, forceGpu = false, nCtx = 0, keepAliveMs = Infinity, log = () => {} }) {
        this.wasmModule = wasmModule;
        this.cpu = cpu;
        this.forceGpu = forceGpu;
        this.nCtx = nCtx;
        this.keepAliveMs = keepAliveMs;
        this.log = log;
        this.loaded = null; // {entry, session, runtime (GPU, or null), gpu, nCtx, expiresAt, timer}
        this.queue = [];
        this.running = false;
    }

    // Queue work(session, {loadMs}) for a model; resolves with its result.
    submit({ entry, nCtx, keepAliveMs, signal, work }) {
        return new Promise((resolve, reject) => {
            this.queue.push({ entry, nCtx, keepAliveMs: keepAliveMs ?? this.keepAliveMs, signal, work, resolve, reject });
            this.pump();
        });
    }

    get queued() { return this.queue.length; }

    async pump() {
        if (this.running) return;
        this.running = true;
        let idle;
        this.idle = new Promise((r) => { idle = r; });
        try {
            while (this.queue.length) {
                const job = this.queue.shift();
                if (job.signal?.aborted) {
                    job.reject(new AbortedError('the client went away before its turn'));
                    continue;
                }
                try {
                    job.resolve(await this.runJob(job));
                } catch (e) {
                    job.reject(e);
                }
            }
        } finally {
            this.running = false;
            idle();
        }
    }

    async runJob(job) {
        if (!job.entry) return job.work(null, { loadMs: 0 }); // e.g. an unload request
        this.clearTimer();
        const { session, loadMs } = await this.ensure(job.entry, job.nCtx);
        try {
            return await job.work(session, { loadMs });
        } catch (e) {
            // a trap leaves the wasm instance in an unknown state: start afresh next time
            if (e instanceof WebAssembly.RuntimeError || e.trap) this.unload('engine trap');
            throw e;
        } finally {
            this.keep(job.keepAliveMs);
        }
    }

    // Make entry (with nCtx) the loaded model. loadMs: 0 when it already was.
    // No nCtx: the server's default (--ctx), as Ollama reloads to its default.
    async ensure(entry, nCtx) {
        const l = this.loaded;
        nCtx = nCtx ?? this.nCtx;
        if (l && l.entry.full_name === entry.full_name && l.nCtx === nCtx) return { session: l.session, loadMs: 0 };
        if (l) this.unload(l.entry.full_name === entry.full_name ? `context size ${l.nCtx || 'default'} -> ${nCtx || 'default'}` : `switching to ${entry.name}`);
        const t0 = performance.now();
        const { session, runtime } = await this.open(entry, nCtx);
        const loadMs = performance.now() - t0;
        this.loaded = { entry, session, runtime, gpu: !!runtime, nCtx, expiresAt: null, timer: null };
        this.log(`loaded ${entry.name} on the ${runtime ? 'GPU' : 'CPU'} in ${(loadMs / 1000).toFixed(2)} s`);
        return { session, loadMs };
    }

    // The GPU engine when there is a hardware WebGPU adapter (a software one,
    // such as SwiftShader, is slower than the CPU engine: only with --gpu),
    // else the CPU engine. The runtime is ours to destroy on unload.
    async open(entry, nCtx) {
        const base = { wasm: this.wasmModule, host: nodeHost(), model: entry.full_name, nCtx };
        if (!this.cpu) {
            let runtime = null;
            try {
                runtime = await createGpu();
            } catch (e) {
                if (!(e instanceof GpuError)) throw new HttpError(500, `starting WebGPU: ${e.message}`);
                this.log(`${e.message}; using the CPU engine from now on`);
                this.cpu = true;
            }
            if (runtime && runtime.isSoftware() && !this.forceGpu) {
                this.log(`the WebGPU adapter is a software renderer (${runtime.caps().description}); using the CPU engine from now on (--gpu forces the GPU)`);
                runtime.destroy();
                runtime = null;
                this.cpu = true;
            }
            if (runtime) {
                try {
                    return { session: await ChatSession.open({ ...base, gpu: runtime }), runtime };
                } catch (e) {
                    runtime.destroy();
                    throw new HttpError(500, `loading ${entry.name}: ${e.message}`);
                }
            }
        }
        try {
            return { session: await ChatSession.open({ ...base, gpu: false }), runtime: null };
        } catch (e) {
            throw new HttpError(500, `loading ${entry.name}: ${e.message}`);
        }
    }

    // Load without generating (Ollama: empty prompt / empty messages); with
    // keep_alive 0, unload the model instead if it is the loaded one. Queued
    // like any job, so it never pulls a model from under a generation.
    load({ entry, nCtx, keepAliveMs, signal }) {
        if (keepAliveMs === 0) {
            return this.submit({
                entry: null, signal,
                work: async () => {
                    if (this.loaded?.entry.full_name === entry.full_name) this.unload('keep_alive 0');
                    return { doneReason: 'unload', loadMs: 0 };
                },
            });
        }
        return this.submit({ entry, nCtx, keepAliveMs, signal, work: async (s, { loadMs }) => ({ doneReason: 'load', loadMs }) });
    }

    unload(reason = 'unloaded') {
        const l = this.loaded;
        if (!l) return;
        this.clearTimer();
        this.loaded = null;
        try {
            l.session.close();
            l.runtime?.destroy();
        } catch (e) {
            this.log(`closing ${l.entry.name}: ${e.message}`);
        }
        this.log(`unloaded ${l.entry.name} (${reason})`);
    }

    // After a job: keep the model for ms (Infinity = until replaced), 0 = unload now.
    keep(ms) {
        const l = this.loaded;
        if (!l) return;
        this.clearTimer();
        if (ms === 0) return this.unload('keep_alive 0');
        l.expiresAt = new Date(Date.now() + (Number.isFinite(ms) ? ms : FOREVER_MS));
        if (Number.isFinite(ms) && ms < 2 ** 31) {
            l.timer = setTimeout(() => { if (!this.running && this.loaded === l) this.unload('keep_alive expired'); }, ms);
            l.timer.unref();
        }
    }

    clearTimer() {
        if (this.loaded?.timer) clearTimeout(this.loaded.timer);
        if (this.loaded) this.loaded.timer = null;
    }

    // Drop queued jobs, let the running one end (its client is being
    // disconnected, which cancels it), then unload.
    async close() {
        for (const job of this.queue.splice(0)) job.reject(new AbortedError('the server is shutting down'));
        if (this.running) await this.idle;
        this.unload('shutting down');
    }
}
