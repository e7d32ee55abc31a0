// Browser host adapter for js/engine.mjs, for a Dedicated Worker. The engine's
// file calls are synchronous, so everything the C side may list or open is
// mounted up front into a small virtual tree of paths:
//   - File/Blob objects (a picked folder, a picked file): FileReaderSync on slices;
//   - HTTP URLs: synchronous XHR with a Range header (allowed in workers);
//   - OPFS files: FileSystemSyncAccessHandle.
// Large uploads to the GPU go through readAsync (Blob.arrayBuffer, fetch Range)
// one chunk at a time, so a model file never sits in JS memory whole.

const URL_BLOCK = 1 << 20; // minimum bytes fetched per synchronous HTTP read

export class WebHost {
    constructor() {
        this.dirs = new Map([['/', new Map()]]);   // dir path -> Map(name -> isDir)
        this.files = new Map();                     // file path -> source {blob} | {url, size} | {sync, size}
        this.fds = new Map();
        this.nextFd = 3;
        this.env = {};
        this.out = () => {};                        // replaced by callers that capture output
        this.onRead = null;                         // (bytes) for load progress of the CPU engine
    }

    // ---- mounting ----

    #mkdirs(path) {
        const parts = path.split('/').filter(Boolean);
        let cur = '';
        for (const p of parts) {
            const parent = cur || '/';
            cur += '/' + p;
            if (!this.dirs.has(cur)) {
                this.dirs.set(cur, new Map());
                this.dirs.get(parent).set(p, true);
            }
        }
    }

    #addFile(path, source) {
        const i = path.lastIndexOf('/');
        const dir = path.slice(0, i) || '/';
        this.#mkdirs(dir);
        this.dirs.get(dir).set(path.slice(i + 1), false);
        this.files.set(path, source);
    }

    addBlob(path, blob) { this.#addFile(path, { blob, size: blob.size }); }

    // size: known length, or undefined to ask the server (HEAD).
    addUrl(path, url, size) {
        if (size === undefined) size = urlSize(url);
        this.#addFile(path, { url, size, cache: null });
    }

    addSyncHandle(path, handle) { this.#addFile(path, { sync: handle, size: handle.getSize() }); }

    // Files from <input webkitdirectory>: [{path: 'models/blobs/x', file}] under mount.
    addTree(mount, entries) {
        for (const { path, file } of entries) this.addBlob(`${mount}/${path}`.replace(/\/+/g, '/'), file);
        this.#mkdirs(mount);
    }

    // A FileSystemDirectoryHandle (showDirectoryPicker), walked once, asynchronously.
    async addDirectoryHandle(mount, handle, onEntry = null) {
        this.#mkdirs(mount);
        for await (const [name, h] of handle.entries()) {
            const p = `${mount}/${name}`;
            if (h.kind === 'directory') await this.addDirectoryHandle(p, h, onEntry);
            else {
                this.addBlob(p, await h.getFile());
                onEntry?.(p);
            }
        }
    }

    exists(path) { return this.files.has(path) || this.dirs.has(path); }
    isDir(path) { return this.dirs.has(path); }

    // ---- the js/engine.mjs host contract ----

    open(path) {
        const src = this.files.get(normalize(path));
        if (!src) return this.dirs.has(normalize(path)) ? { error: 'is a directory' } : { error: 'no such file', notFound: true };
        const fd = this.nextFd++;
        this.fds.set(fd, src);
        return { fd, size: src.size };
    }

    read(fd, position, view) {
        const src = this.fds.get(fd);
        if (!src) return -1;
        const n = Math.max(0, Math.min(view.length, src.size - position));
        try {
            if (src.blob) {
                view.set(new Uint8Array(reader().readAsArrayBuffer(src.blob.slice(position, position + n))));
            } else if (src.sync) {
                src.sync.read(view.subarray(0, n), { at: position });
            } else {
                readUrlSync(src, position, view.subarray(0, n));
            }
        } catch {
            return -1;
        }
        this.onRead?.(n);
        return n;
    }

    async readAsync(fd, position, view) {
        const src = this.fds.get(fd);
        if (!src) return -1;
        const n = Math.max(0, Math.min(view.length, src.size - position));
        if (src.blob) view.set(new Uint8Array(await src.blob.slice(position, position + n).arrayBuffer()));
        else if (src.sync) src.sync.read(view.subarray(0, n), { at: position });
        else {
            const r = await fetch(src.url, { headers: { Range: `bytes=${position}-${position + n - 1}` } });
            if (r.status !== 206 && !(r.status === 200 && position === 0 && n === src.size)) throw new Error(`${src.url}: HTTP ${r.status} for a byte range`);
            const buf = new Uint8Array(await r.arrayBuffer());
            if (buf.length !== n) throw new Error(`${src.url}: got ${buf.length} of ${n} bytes`);
            view.set(buf);
        }
        this.onRead?.(n);
        return n;
    }

    close(fd) { this.fds.delete(fd); }

    listDir(path) {
        const d = this.dirs.get(normalize(path));
        return d ? [...d].map(([name, isDir]) => ({ name, isDir })) : null;
    }

    readLine() { return null; }
    getenv(name) { return this.env[name]; }
}

function normalize(p) {
    const out = [];
    for (const s of p.split('/')) {
        if (!s || s === '.') continue;
        if (s === '..') out.pop();
        else out.push(s);
    }
    return '/' + out.join('/');
}

let fileReader = null;
const reader = () => (fileReader ||= new FileReaderSync());

function xhr(method, url, range) {
    const x = new XMLHttpRequest();
    x.open(method, url, false);
    if (method === 'GET') x.responseType = 'arraybuffer';
    if (range) x.setRequestHeader('Range', range);
    x.send();
    return x;
}

function urlSize(url) {
    let x = xhr('HEAD', url);
    let n = Number(x.getResponseHeader('Content-Length'));
    if (x.status === 200 && Number.isFinite(n) && n > 0) return n;
    // no usable HEAD: ask for one byte and read the total from Content-Range
    x = xhr('GET', url, 'bytes=0-0');
    const m = /\/(\d+)$/.exec(x.getResponseHeader('Content-Range') || '');
    if (x.status === 206 && m) return Number(m[1]);
    throw new Error(`${url}: HTTP ${x.status}; the server must allow byte-range requests (206 Partial Content)`);
}

// Synchronous ranged read with a one-block cache: the GGUF header is read in
// many small pieces, each of which would otherwise be a round trip.
function readUrlSync(src, position, view) {
    const c = src.cache;
    if (c && position >= c.start && position + view.length <= c.start + c.bytes.length) {
        view.set(c.bytes.subarray(position - c.start, position - c.start + view.length));
        return;
    }
    const end = Math.min(src.size, position + Math.max(view.length, URL_BLOCK));
    const x = xhr('GET', src.url, `bytes=${position}-${end - 1}`);
    if (x.status !== 206) throw new Error(`${src.url}: HTTP ${x.status} for a byte range`);
    const bytes = new Uint8Array(x.response);
    if (bytes.length !== end - position) throw new Error(`${src.url}: short range read`);
    src.cache = { start: position, bytes };
    view.set(bytes.subarray(0, view.length));
}

// Where a picked folder keeps its Ollama store: the folder itself
// (manifests/ + blobs/), its models/ child (~/.ollama), or none.
export function findStoreRoot(host, mount) {
    for (const p of [mount, `${mount}/models`, `${mount}/.ollama/models`])
        if (host.isDir(`${p}/manifests`)) return p;
    return null;
}

// GGUF-looking files directly under a folder that is not an Ollama store.
export function ggufFilesIn(host, dir) {
    return (host.listDir(dir) || []).filter((e) => !e.isDir && /\.gguf$/i.test(e.name)).map((e) => `${dir}/${e.name}`);
}
