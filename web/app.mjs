// The page: choosing a model, the capability check, loading and the chat. All
// engine work happens in worker.mjs; this file only renders and forwards.
const $ = (id) => document.getElementById(id);
const SETTINGS = ['system', 'think', 'temperature', 'top_k', 'top_p', 'seed', 'num_predict', 'ctx', 'engine'];
const GiB = 1024 ** 3;

let worker = null;
let waits = new Map();          // request id -> {resolve, reject, events: {progress, text}}
let nextId = 1;
let workerError = null;         // set when the worker could not start (every call fails with it)
let source = null;              // what the worker has mounted (re-sent after a restart)
let choice = null;              // {spec, label} of the selected model
let report = null;              // last capability check
let loaded = null;              // {spec, label, engine, nCtx}
let history = [];               // the whole conversation, resent each turn (the engine reuses the cached prefix)
let generating = false;
let stopRequested = false;     // done_reason is "stop" for a cancelled turn too: remember who stopped it

// ---- worker plumbing ----

function startWorker() {
    worker?.terminate();
    for (const w of waits.values()) w.reject(new Error('cancelled'));
    waits = new Map();
    workerError = null;
    worker = new Worker(new URL('worker.mjs', import.meta.url), { type: 'module' });
    worker.onmessage = ({ data }) => {
        if (data.type === 'lost') return deviceLost(data.message);
        const w = waits.get(data.id);
        if (!w) return;
        if (data.type === 'progress' || data.type === 'text') return w.events[data.type]?.(data);
        waits.delete(data.id);
        if (data.type === 'error') w.reject(new Error(data.message));
        else w.resolve(data);
    };
    worker.onerror = (e) => {
        e.preventDefault();
        const err = workerError = new Error(`the engine worker stopped: ${e.message || 'it could not start (is the page served over http(s), with js/ and build/wasm/ beside web/?)'}`);
        for (const w of waits.values()) w.reject(err);
        waits = new Map();
    };
}

function call(type, payload = {}, events = {}) {
    return new Promise((resolve, reject) => {
        if (workerError) return reject(workerError);
        const id = nextId++;
        waits.set(id, { resolve, reject, events });
        worker.postMessage({ type, id, ...payload });
    });
}

// ---- formatting ----

function bytes(n) {
    if (!Number.isFinite(n)) return '?';
    const u = ['B', 'KB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
    return `${n >= 100 || i === 0 ? Math.round(n) : n.toFixed(1)} ${u[i]}`;
}
const count = (n) => (n >= 1e9 ? `${(n / 1e9).toFixed(1)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : `${Math.round(n / 1e3)}K`);

function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
        if (k === 'class') e.className = v;
        else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
        else e.setAttribute(k, v);
    }
    e.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
    return e;
}

// ---- errors a user can act on ----

const ERRORS = [
    [/navigator\.gpu is missing|no GPU adapter|no WebGPU/i, 'WebGPU is not available',
        'The CPU engine works in any browser, but is much slower. For the GPU, use Chrome or Edge 113+ (on Linux, enable chrome://flags/#enable-unsafe-webgpu), Safari 26 or Firefox 141+ on Windows.', ['use-cpu']],
    [/device lost|device was lost/i, 'The GPU device was lost',
        'The graphics driver reset, or the browser took the GPU back. Reload the model to continue; the conversation is kept.', ['reload-model', 'reload-page']],
    [/not gemma4|architecture is/i, 'Not a Gemma 4 model',
        'rullama runs Gemma 4 models only. Pick a gemma4 model (for example, run `ollama pull gemma4:e2b` first).', []],
    [/is missing: expected|blob.*missing/i, 'A model file is missing',
        'The manifest names a blob that is not in blobs/: the download was interrupted or the blob was removed. Run `ollama pull` for this model again, and pick the folder that holds both manifests/ and blobs/.', []],
    [/out of memory|outofmemory|cannot create a \d+-byte buffer|malloc\(|allocation failed|memory access out of bounds/i, 'Out of memory',
        'Choose a smaller context, close other tabs that use the GPU, or pick a smaller model (gemma4:e2b). The CPU engine needs the weights to fit in 4 GB of WebAssembly memory.', ['smaller-ctx']],
    [/not a GGUF|bad magic|the file ends|byte offset|truncated|not a model file/i, 'This is not a valid model file',
        'Pick a .gguf file or an Ollama blob (blobs/sha256-…). If it is one, it is damaged or incomplete: download it again.', []],
    [/HTTP \d+|byte-range|Failed to fetch|NetworkError/i, 'The URL cannot be read',
        'The server must allow byte-range requests (206 Partial Content) and, for another site, CORS; the page streams the file instead of downloading it whole.', []],
    [/has no (manifests|models)|no models/i, 'No models in this folder',
        'Pick the folder that holds manifests/ and blobs/ (usually ~/.ollama/models), or a single .gguf file.', []],
];

const ACTIONS = {
    'use-cpu': ['Use the CPU engine', () => { $('engine').value = 'cpu'; clearError(); }],
    'reload-model': ['Reload the model', () => reloadModel()],
    'reload-page': ['Reload the page', () => location.reload()],
    'smaller-ctx': ['Use a smaller context', () => {
        const c = $('ctx');
        c.selectedIndex = Math.max(0, c.selectedIndex - 1);
        clearError();
        if (choice) checkModel();
    }],
};

function showError(err) {
    const message = err?.message || String(err);
    if (message === 'cancelled') return;
    const [, title, hint, actions] = ERRORS.find(([re]) => re.test(message)) || [null, 'Something went wrong', '', []];
    const box = $('error');
    box.querySelector('.title').textContent = title;
    box.querySelector('.detail').textContent = message;
    box.querySelector('.hint').textContent = hint;
    box.querySelector('.actions').replaceChildren(...actions.map((a) => el('button', { type: 'button', 'data-action': a, onclick: ACTIONS[a][1] }, ACTIONS[a][0])));
    box.hidden = false;
}
function clearError() { $('error').hidden = true; }

// ---- choosing a model ----

async function openSource(src) {
    clearError();
    source = src;
    choice = report = null;
    $('check').hidden = true;
    $('models').replaceChildren(el('p', { class: 'hint' }, 'Reading…'));
    startWorker();
    try {
        renderModels(await call('open', { source: src }));
    } catch (e) {
        $('models').replaceChildren();
        showError(e);
    }
}

function renderModels({ models, files, root }) {
    const list = $('models');
    const items = models.length
        ? models.map((m) => {
            const fam = m.details?.family;
            const runnable = !fam || fam === 'gemma4';
            return { spec: m.name, label: m.name, runnable, note: runnable ? [m.details?.parameter_size, m.details?.quantization_level, bytes(m.size)].filter(Boolean).join(' · ') : `${fam}: not Gemma 4` };
        })
        : files.map((f) => ({ spec: f, label: f.split('/').pop(), runnable: true, note: '' }));
    if (!items.length) {
        list.replaceChildren();
        showError(new Error(root ? `the Ollama store in this folder has no models` : `this folder has no manifests/ folder and no .gguf files`));
        return;
    }
    list.replaceChildren(...items.map((it) => el('button', {
        type: 'button', 'data-spec': it.spec, ...(it.runnable ? {} : { disabled: '' }),
        onclick: (ev) => selectModel(it, ev.currentTarget),
    }, el('span', {}, it.label), el('small', {}, it.note))));
    const runnable = items.filter((i) => i.runnable);
    if (runnable.length === 1) selectModel(runnable[0], list.querySelector('button:not([disabled])'));
}

async function selectModel(item, button) {
    for (const b of $('models').querySelectorAll('button')) b.classList.toggle('selected', b === button);
    choice = item;
    await checkModel();
}

let checks = 0;
async function checkModel() {
    const mine = ++checks; // a newer check (another model, another context) wins
    clearError();
    $('check').hidden = false;
    $('check-body').replaceChildren(el('p', { class: 'hint' }, 'Checking…'));
    $('load').disabled = true;
    report = null;
    try {
        const r = await call('check', { model: choice.spec, nCtx: Number($('ctx').value) });
        if (mine !== checks) return;
        report = r;
        renderCheck(report);
    } catch (e) {
        if (mine !== checks) return;
        $('check-body').replaceChildren();
        showError(e);
    }
}

function renderCheck({ inspect: ins, gpu, plan, nCtx, deviceMemory }) {
    const rows = [];
    const row = (term, ...desc) => rows.push(el('dt', {}, term), el('dd', {}, ...desc));
    const types = Object.entries(ins.bytes_by_type || {}).sort((a, b) => b[1].bytes - a[1].bytes).map(([t]) => t).join(', ');
    row('Model', `${ins.architecture} · ${count(ins.parameters.text)} text parameters · ${ins.hparams.block_count} layers · ${types} · trained context ${ins.hparams.context_length}`);
    const cpuNeed = plan.uploadBytes || ins.file_size;
    const cpuFits = cpuNeed < 3.5 * GiB;
    let verdict, cls, useGpu = false;
    if (!gpu.available) {
        row('GPU', el('span', { class: 'bad' }, gpu.reason));
        [verdict, cls] = ['No WebGPU here: the CPU engine can run it, slowly.', 'warn'];
    } else {
        row('GPU', `${gpu.description}${gpu.fallback ? ' (software renderer)' : ''} · buffers up to ${bytes(gpu.limits.maxBufferSize)}, bindings up to ${bytes(gpu.limits.maxStorageBufferBindingSize)} · ${gpu.features.join(', ') || 'no shader-f16, no subgroups'}`);
        if (plan.error) {
            row('Needs', el('span', { class: 'bad' }, `the GPU engine cannot place this model: ${plan.error}`));
            [verdict, cls] = ['It cannot run on this GPU.', 'bad'];
        } else {
            row('Needs', `about ${bytes(plan.total)} of GPU memory: weights ${bytes(plan.weights)} + KV cache and work buffers ${bytes(plan.work)} at context ${nCtx}; largest buffer ${bytes(plan.largest)}`,
                el('details', {}, el('summary', {}, 'why an estimate?'),
                    'This is exactly what the engine will allocate (its planner ran without a GPU). WebGPU does not report how much GPU memory is free, so it is what the model needs, not a promise that it fits: if the GPU (or, for an integrated GPU, shared system memory) has less free, loading stops with an out-of-memory error. A smaller context needs less.'));
            useGpu = true;
            if (deviceMemory && plan.total > deviceMemory * GiB * 0.75) [verdict, cls] = [`This device reports about ${deviceMemory} GB of memory: the model may not fit.`, 'warn'];
            else if (gpu.fallback) [verdict, cls] = ['Runs, but on a software GPU: expect seconds per token. The CPU engine may be faster.', 'warn'];
            else [verdict, cls] = ['Ready to load on the GPU.', 'ok'];
        }
    }
    row('CPU', cpuFits
        ? `about ${bytes(cpuNeed)} of weights in WebAssembly memory, plus the KV cache; works without WebGPU, much slower`
        : el('span', { class: 'bad' }, `the weights (${bytes(cpuNeed)}) do not fit in WebAssembly's 4 GB memory`));
    $('check-body').replaceChildren(el('dl', {}, ...rows), el('p', { class: `verdict ${cls}` }, verdict));
    const gpuOpt = $('engine').querySelector('[value=gpu]'), cpuOpt = $('engine').querySelector('[value=cpu]');
    gpuOpt.disabled = !useGpu;
    cpuOpt.disabled = !cpuFits;
    if (!useGpu) $('engine').value = 'cpu';
    else if (!cpuFits) $('engine').value = 'gpu';
    $('load').disabled = !useGpu && !cpuFits;
    $('opfs-row').hidden = !['dir', 'tree', 'file'].includes(source.kind) || !navigator.storage?.getDirectory || !cpuFits && !useGpu;
}

// ---- loading ----

async function load() {
    if (!choice || !report) return;
    clearError();
    const gpu = $('engine').value === 'gpu';
    const total = report.plan.uploadBytes || report.inspect.file_size;
    let t0 = performance.now();
    $('progress').hidden = false;
    $('load').disabled = true;
    setChatEnabled(false);
    loaded = null;
    const onProgress = ({ done: got }) => {
        const done = Math.min(got, total); // the CPU engine also reads the header: do not count past 100 %
        const s = (performance.now() - t0) / 1000, rate = done / Math.max(s, 1e-3);
        const left = rate > 0 ? Math.max(0, (total - done) / rate) : NaN;
        $('bar').value = Math.min(1, done / total);
        $('progress-text').textContent = `${bytes(done)} of ${bytes(total)} · ${bytes(rate)}/s · ${Number.isFinite(left) ? `${Math.ceil(left)} s left` : ''}`;
    };
    try {
        if ($('opfs').checked && !$('opfs-row').hidden) {
            $('progress-text').textContent = 'Copying into browser storage…';
            const t1 = performance.now();
            await call('save', { model: choice.spec, name: opfsName(choice.label) }, {
                progress: ({ done, total: size }) => {
                    $('bar').value = done / size;
                    $('progress-text').textContent = `Copying into browser storage: ${bytes(done)} of ${bytes(size)} · ${bytes(done / Math.max(1e-3, (performance.now() - t1) / 1000))}/s`;
                },
            });
            listSaved();
        }
        t0 = performance.now();
        onProgress({ done: 0 });
        const r = await call('load', { model: choice.spec, nCtx: report.nCtx, gpu, total }, { progress: onProgress });
        loaded = { ...choice, engine: r.engine, nCtx: report.nCtx };
        $('progress-text').textContent = `Loaded ${bytes(total)} in ${(r.loadMs / 1000).toFixed(1)} s.`;
        $('status').textContent = `${choice.label} · ${gpu ? `WebGPU (${report.gpu.description})` : 'CPU engine'} · context ${report.nCtx} · loaded in ${(r.loadMs / 1000).toFixed(1)} s`;
        setChatEnabled(true);
        $('prompt').focus();
    } catch (e) {
        showError(e);
        $('progress').hidden = true;
        // the worker may hold a half-built session: start clean with the same source
        if (e.message !== 'cancelled') await remount();
    } finally {
        $('load').disabled = false;
    }
}

// A fresh worker with the same source and selection (after cancel or a failure).
async function remount() {
    startWorker();
    try {
        await call('open', { source });
        if (choice) report = await call('check', { model: choice.spec, nCtx: Number($('ctx').value) });
    } catch (e) {
        showError(e);
    }
}

async function cancelLoad() {
    startWorker(); // terminating the worker stops the stream at once
    $('progress').hidden = true;
    $('status').textContent = 'Loading cancelled.';
    await remount();
}

async function reloadModel() {
    clearError();
    await remount();
    await load();
}

function deviceLost(message) {
    setChatEnabled(false);
    loaded = null;
    $('status').textContent = 'The GPU device was lost.';
    showError(new Error(message));
}

// ---- chat ----

function setChatEnabled(on) {
    $('prompt').disabled = !on;
    $('send').disabled = !on;
}

function options() {
    const o = {};
    for (const k of ['temperature', 'top_k', 'top_p', 'seed', 'num_predict']) {
        const v = $(k).value.trim();
        if (v !== '') o[k] = Number(v);
    }
    return o;
}

function addMessage(role, text) {
    const content = el('div', { class: 'content' }, text);
    const m = el('div', { class: `msg ${role}` }, content);
    $('messages').append(m);
    m.scrollIntoView({ block: 'end' });
    return { m, content };
}

async function send(ev) {
    ev?.preventDefault();
    const text = $('prompt').value.trim();
    if (!text || generating || !loaded) return;
    clearError();
    $('prompt').value = '';
    const turn = history; // New chat during this turn replaces it
    turn.push({ role: 'user', content: text });
    addMessage('user', text);
    const { m, content } = addMessage('assistant', '');
    m.classList.add('streaming');
    let details = null, thinkingText = null;
    const system = $('system').value.trim();
    const body = {
        messages: system ? [{ role: 'system', content: system }, ...turn] : turn,
        think: $('think').checked,
        options: options(),
    };
    generating = true;
    stopRequested = false;
    $('send').hidden = true;
    $('stop').hidden = false;
    try {
        const { result } = await call('chat', { body }, {
            text: ({ content: c, thinking: t }) => {
                if (t) {
                    if (!details) {
                        thinkingText = el('div', { class: 'thinking' });
                        details = el('details', {}, el('summary', {}, 'Thinking…'), thinkingText);
                        m.prepend(details);
                    }
                    thinkingText.append(t);
                }
                if (c) content.append(c);
                m.scrollIntoView({ block: 'end' });
            },
        });
        turn.push({ role: 'assistant', content: result.content });
        if (details) details.querySelector('summary').textContent = 'Thinking';
        const tps = result.eval_duration > 0 ? result.eval_count / (result.eval_duration / 1e9) : 0;
        const why = stopRequested ? ' · stopped' : result.done_reason === 'length' ? ' · reached max tokens' : '';
        m.append(el('div', { class: 'stats' }, `${result.eval_count} tokens · ${tps.toFixed(1)} tokens/s · ${result.prompt_eval_count} prompt tokens evaluated${why}`));
    } catch (e) {
        turn.pop(); // the turn did not happen: keep the history the engine has seen
        m.classList.add('failed');
        showError(e);
    } finally {
        m.classList.remove('streaming');
        generating = false;
        $('send').hidden = false;
        $('stop').hidden = true;
    }
}

function stop() {
    stopRequested = true;
    worker.postMessage({ type: 'stop' });
}

function newChat() {
    if (generating) stop();
    history = [];
    $('messages').replaceChildren();
    clearError();
    $('prompt').focus();
}

// ---- remembering things ----

const opfsName = (label) => label.replace(/[^\w.-]+/g, '_').replace(/(\.gguf)?$/i, '.gguf');
const opfsDir = async () => (await navigator.storage.getDirectory()).getDirectoryHandle('models', { create: true });

// Model files kept in the origin-private file system: one click to reopen.
async function listSaved() {
    if (!navigator.storage?.getDirectory) return;
    const items = [];
    try {
        for await (const [name, h] of (await opfsDir()).entries())
            if (h.kind === 'file' && !name.endsWith('.partial')) items.push({ name, size: (await h.getFile()).size });
    } catch {
        return; // no OPFS here (e.g. some private windows)
    }
    $('saved').hidden = !items.length;
    $('saved-list').replaceChildren(...items.map(({ name, size }) => el('div', { class: 'row saved' },
        el('button', { type: 'button', 'data-name': name, onclick: () => openSource({ kind: 'opfs', name }) }, name.replace(/\.gguf$/, ''), el('small', {}, bytes(size))),
        el('button', { type: 'button', title: 'Delete this copy', 'aria-label': `Delete ${name}`, onclick: async () => {
            if (source?.kind === 'opfs' && source.name === name) startWorker(); // release its access handle
            await (await opfsDir()).removeEntry(name).catch(showError);
            listSaved();
        } }, '×'))));
}


function idb(mode, fn) {
    return new Promise((resolve, reject) => {
        const req = indexedDB.open('rullama', 1);
        req.onupgradeneeded = () => req.result.createObjectStore('kv');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
            const tx = req.result.transaction('kv', mode);
            const r = fn(tx.objectStore('kv'));
            tx.oncomplete = () => resolve(r.result);
            tx.onerror = () => reject(tx.error);
        };
    });
}

async function pickFolder() {
    let handle;
    try {
        handle = await window.showDirectoryPicker({ id: 'ollama-models', mode: 'read' });
    } catch (e) {
        if (e.name !== 'AbortError') showError(e);
        return;
    }
    idb('readwrite', (s) => s.put(handle, 'folder')).catch(() => {}); // not everywhere (e.g. private windows)
    showReopen(handle);
    await openSource({ kind: 'dir', handle });
}

function showReopen(handle) {
    const b = $('reopen');
    b.textContent = `Reopen “${handle.name}”`;
    b.hidden = false;
    b.onclick = async () => {
        if ((await handle.queryPermission({ mode: 'read' })) !== 'granted' && (await handle.requestPermission({ mode: 'read' })) !== 'granted') return;
        await openSource({ kind: 'dir', handle });
    };
}

function pickedTree(files) {
    // webkitRelativePath starts with the picked folder's own name: drop it
    return [...files].map((file) => ({ path: file.webkitRelativePath.split('/').slice(1).join('/'), file }));
}

function saveSettings() {
    const s = {};
    for (const k of SETTINGS) s[k] = $(k).type === 'checkbox' ? $(k).checked : $(k).value;
    localStorage.setItem('rullama.settings', JSON.stringify(s));
}

function restoreSettings() {
    try {
        const s = JSON.parse(localStorage.getItem('rullama.settings') || '{}');
        for (const k of SETTINGS) if (k in s) $(k).type === 'checkbox' ? ($(k).checked = s[k]) : ($(k).value = s[k]);
    } catch { /* unreadable settings: keep the defaults */ }
}

// ---- wiring ----

function init() {
    restoreSettings();
    if (!window.showDirectoryPicker) {
        $('pick-folder').hidden = true;
        $('folder-label').hidden = false;
    }
    $('pick-folder').onclick = pickFolder;
    $('folder-input').onchange = (e) => e.target.files.length && openSource({ kind: 'tree', entries: pickedTree(e.target.files) });
    $('file-input').onchange = (e) => e.target.files[0] && openSource({ kind: 'file', file: e.target.files[0] });
    $('url-form').onsubmit = (e) => { e.preventDefault(); openSource({ kind: 'url', url: new URL($('url').value, location.href).href }); };
    $('ctx').onchange = () => { saveSettings(); if (choice) checkModel(); };
    $('load').onclick = load;
    $('cancel').onclick = cancelLoad;
    $('composer').onsubmit = send;
    $('prompt').onkeydown = (e) => { if (e.key === 'Enter' && !e.shiftKey) send(e); };
    $('stop').onclick = stop;
    $('new-chat').onclick = newChat;
    for (const k of SETTINGS) $(k).addEventListener('change', saveSettings);
    if (window.showDirectoryPicker) idb('readonly', (s) => s.get('folder')).then((h) => h && showReopen(h)).catch(() => {});
    listSaved();
    startWorker();
    // for tests and debugging: simulate a GPU reset
    window.rullama = { loseDevice: () => worker.postMessage({ type: 'lose-device' }) };
}

init();
