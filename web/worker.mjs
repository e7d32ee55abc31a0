// The engine's Dedicated Worker: owns the wasm, the model files and the GPU
// device, so the page never blocks. Protocol: the page posts {type, id, ...};
// the worker answers {type:'reply', id, ...} or {type:'error', id, message},
// with events {type:'progress'|'text', id, ...} before the answer:
//   open {source}            -> {models, root, files}   mount a folder / file / URL
//   check {model, nCtx}      -> {model, inspect, gpu, plan}
//   save {model, name}       -> progress* then {name, size}   copy the model file into OPFS
//   load {model, nCtx, gpu}  -> progress* then {loadMs, engine}
//   chat {body}              -> text* then {result}
//   stop                     (no reply: the running chat ends early and answers as usual)
//   lose-device              (no reply; tests: destroys the GPU device as a driver reset would)
// The worker also posts {type:'lost', message} if the GPU device goes away.
import { instantiate } from '../js/engine.mjs';
import { createGpu } from '../js/gpu.mjs';
import { ChatSession } from '../js/session.mjs';
import { WebHost, findStoreRoot, ggufFilesIn } from '../js/web/host.mjs';
import { GpuPlanner, capsFromAdapter, planModel } from '../js/web/plan.mjs';

const MOUNT = '/picked';
const wasmUrl = new URL('../build/wasm/rullama.wasm', import.meta.url);

let module = null;        // compiled once; instantiated for the probe and for the session
let host = null;
let probe = null;         // engine with recording GPU imports: list, inspect, plan
let planner = null;
let session = null;
let abort = null;
let adapterPromise = null;

const post = (msg) => self.postMessage(msg);

// A macrotask turn, so 'stop' messages get through during CPU generation
// (awaiting a resolved promise alone never lets the event loop run).
const channel = new MessageChannel();
const waiting = [];
channel.port1.onmessage = () => waiting.shift()?.();
const yieldToEvents = () => new Promise((r) => { waiting.push(r); channel.port2.postMessage(0); });

async function engineModule() {
    if (!module) {
        const r = await fetch(wasmUrl);
        if (!r.ok) throw new Error(`cannot load the engine (${wasmUrl.pathname}): HTTP ${r.status}`);
        module = await WebAssembly.compileStreaming(r).catch(async () => WebAssembly.compile(await (await fetch(wasmUrl)).arrayBuffer()));
    }
    return module;
}

// Run the C command line on the probe engine and capture stdout/stderr.
function cli(args) {
    const out = ['', '', ''];
    host.out = (stream, text) => { out[stream] += text; };
    const code = probe.cli(['rullama', ...args]);
    host.out = () => {};
    return { code, out: out[1], err: out[2].trim() };
}

async function open({ source }) {
    host = new WebHost();
    planner = new GpuPlanner();
    host.extraImports = planner.imports(() => probe.memory);
    let files = [];
    if (source.kind === 'dir') await host.addDirectoryHandle(MOUNT, source.handle);
    else if (source.kind === 'tree') host.addTree(MOUNT, source.entries);
    else if (source.kind === 'file') {
        host.addBlob(`${MOUNT}/${source.file.name}`, source.file);
        files = [`${MOUNT}/${source.file.name}`];
    } else if (source.kind === 'opfs') {
        const file = await (await opfsDir()).getFileHandle(source.name);
        host.addSyncHandle(`${MOUNT}/${source.name}`, await file.createSyncAccessHandle());
        files = [`${MOUNT}/${source.name}`];
    } else if (source.kind === 'url') {
        const name = decodeURIComponent(new URL(source.url).pathname.split('/').pop() || 'model.gguf');
        host.addUrl(`${MOUNT}/${name}`, source.url);
        files = [`${MOUNT}/${name}`];
    } else throw new Error(`unknown source kind ${source.kind}`);
    probe = await instantiate(await engineModule(), host);
    if (source.kind !== 'dir' && source.kind !== 'tree') return { root: null, models: [], files };
    const root = findStoreRoot(host, MOUNT);
    if (!root) return { root: null, models: [], files: ggufFilesIn(host, MOUNT) };
    host.env.OLLAMA_MODELS = root;
    const r = cli(['list', '--json']);
    if (r.code !== 0) throw new Error(r.err || 'cannot list the models in this folder');
    return { root, models: JSON.parse(r.out).models, files: [] };
}

function adapter() {
    adapterPromise ||= (async () => {
        if (!self.navigator.gpu) return { reason: 'This browser has no WebGPU (navigator.gpu is missing).' };
        const a = await self.navigator.gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
        if (!a) return { reason: 'WebGPU is present but no GPU adapter is available (the GPU may be blocklisted or disabled).' };
        return { adapter: a };
    })();
    return adapterPromise;
}

async function check({ model, nCtx }) {
    const ins = cli(['inspect', model, '--json']);
    if (ins.code !== 0) throw new Error(ins.err || `cannot read ${model}`);
    const inspect = JSON.parse(ins.out);
    nCtx = Math.min(nCtx, inspect.hparams.context_length || nCtx);
    const { adapter: a, reason } = await adapter();
    const gpu = { available: !!a, reason };
    if (a) {
        const info = a.info || {};
        gpu.description = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unknown adapter';
        gpu.fallback = !!(info.isFallbackAdapter ?? a.isFallbackAdapter) || /swiftshader|llvmpipe|software/i.test(gpu.description);
        gpu.limits = { maxBufferSize: a.limits.maxBufferSize, maxStorageBufferBindingSize: a.limits.maxStorageBufferBindingSize };
        gpu.features = [...a.features].filter((f) => ['shader-f16', 'subgroups', 'timestamp-query'].includes(f));
    }
    const plan = planModel(probe, planner, model, capsFromAdapter(a), nCtx);
    return { model, nCtx, inspect, gpu, plan, deviceMemory: self.navigator.deviceMemory ?? null };
}

// Copies kept in the origin-private file system (OPFS): read back with a
// synchronous access handle, no picker or permission needed next time.
const opfsDir = async () => (await self.navigator.storage.getDirectory()).getDirectoryHandle('models', { create: true });

async function save({ model, name }, emit) {
    const pathPtr = probe.cstr(model);
    const resolved = probe.exports.rl_api_resolve(pathPtr);
    probe.free(pathPtr);
    if (!resolved) throw new Error(probe.readCString(probe.exports.rl_api_error()));
    const path = probe.readCString(resolved);
    probe.free(resolved);
    const src = host.files.get(path);
    if (!src?.blob) throw new Error('only picked files can be kept in browser storage');
    const { quota = Infinity, usage = 0 } = (await self.navigator.storage.estimate?.()) || {};
    if (src.size > quota - usage) throw new Error(`not enough browser storage to keep a copy: ${src.size} bytes needed, ${quota - usage} free (out of memory)`);
    const dir = await opfsDir();
    const partial = await dir.getFileHandle(`${name}.partial`, { create: true });
    const h = await partial.createSyncAccessHandle();
    const CHUNK = 16 << 20;
    let last = 0;
    try {
        h.truncate(0);
        for (let pos = 0; pos < src.size; pos += CHUNK) {
            const buf = new Uint8Array(await src.blob.slice(pos, Math.min(src.size, pos + CHUNK)).arrayBuffer());
            if (h.write(buf, { at: pos }) !== buf.length) throw new Error('browser storage write failed (out of memory?)');
            if (performance.now() - last > 100) { last = performance.now(); emit({ type: 'progress', done: pos + buf.length, total: src.size }); }
        }
        h.flush();
    } finally {
        h.close();
    }
    await dir.removeEntry(name).catch(() => {});
    await partial.move(name); // complete copies only carry the final name
    return { name, size: src.size };
}

async function load({ model, nCtx, gpu, total }, emit) {
    let last = 0, done = 0;
    const progress = (bytes) => {
        const now = performance.now();
        if (now - last > 100 || bytes >= total) { last = now; emit({ type: 'progress', done: bytes, total }); }
    };
    let runtime = false;
    if (gpu) {
        const { adapter: a, reason } = await adapter();
        if (!a) throw new Error(reason);
        runtime = await createGpu({ gpu: self.navigator.gpu });
        runtime.device.lost.then((info) => {
            if (session?.runtime === runtime) post({ type: 'lost', message: `GPU device lost: ${info.message || info.reason}` });
        });
    } else {
        host.onRead = (n) => progress((done += n));
    }
    session = await ChatSession.open({ wasm: await engineModule(), host, model, nCtx, gpu: runtime, onProgress: gpu ? progress : null });
    host.onRead = null;
    emit({ type: 'progress', done: total, total });
    return { loadMs: session.loadMs, engine: gpu ? 'gpu' : 'cpu' };
}

async function chat({ body }, emit) {
    if (!session) throw new Error('no model is loaded');
    abort = new AbortController();
    let lastYield = performance.now();
    try {
        const result = await session.run('chat', body, {
            signal: abort.signal,
            onText: async (content, thinking) => {
                emit({ type: 'text', content, thinking });
                if (performance.now() - lastYield > 30) { await yieldToEvents(); lastYield = performance.now(); }
            },
        });
        return { result };
    } finally {
        abort = null;
    }
}

const handlers = {
    open, check, save, load, chat,
    stop() { abort?.abort(); },
    // for tests: make the device go away as a driver reset would
    'lose-device'() { session?.runtime?.device.destroy(); },
};

// Requests run one at a time, in order (a load must not start before the
// open it depends on has finished); stop and lose-device act at once.
const IMMEDIATE = new Set(['stop', 'lose-device']);
let queue = Promise.resolve();
self.onmessage = ({ data }) => {
    if (IMMEDIATE.has(data.type)) handle(data);
    else queue = queue.then(() => handle(data));
};

async function handle(data) {
    const emit = (msg) => post({ ...msg, id: data.id });
    try {
        const fn = handlers[data.type];
        if (!fn) throw new Error(`unknown request ${data.type}`);
        const reply = await fn(data, emit);
        if (data.id !== undefined) emit({ type: 'reply', ...reply });
    } catch (e) {
        emit({ type: 'error', message: e?.message || String(e) });
    }
}
