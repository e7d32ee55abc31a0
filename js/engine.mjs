// Loads rullama's wasm in Node or a browser worker and connects it to a host:
// a minimal WASI preview1 shim (stdio only) plus rullama's own synchronous
// `env.host_*` imports for files, directories and text output. The same file
// serves Node (js/node/host.mjs supplies fs) and the browser (js/web supplies
// File System Access handles).

const WASI_ENOSYS = 52;
const WASI_EBADF = 8;

// Host adapter contract (all synchronous):
//   open(path) -> {fd, size} | {error, notFound}
//   read(fd, position, u8view) -> bytesRead | -1
//   close(fd)
//   listDir(path) -> [{name, isDir}] | null (missing)
//   create(path) -> fd | -1;  write(fd, u8view) -> n | -1;  mkdirs(path) -> 0 | -1
//   rename(from, to) -> 0 | -1   (optional, tools only)
//   out(stream, text);  readLine() -> string | null;  getenv(name) -> string | undefined
export async function instantiate(wasmSource, host) {
    const module = wasmSource instanceof WebAssembly.Module ? wasmSource : await WebAssembly.compile(wasmSource);
    let instance;
    const mem = () => new Uint8Array(instance.exports.memory.buffer); // rebuilt: growth detaches views
    const dv = () => new DataView(instance.exports.memory.buffer);
    const dec = new TextDecoder();
    const enc = new TextEncoder();
    const str = (ptr, len) => dec.decode(mem().subarray(ptr >>> 0, (ptr >>> 0) + (len >>> 0)));
    const putBytes = (bytes, ptr, cap) => {
        const n = Math.min(bytes.length, cap >>> 0);
        mem().set(bytes.subarray(0, n), ptr >>> 0);
        return n;
    };
    const lineBuf = ['', ''];
    const emit = (stream, text) => host.out(stream, text);

    const env = {
        host_open(pathPtr, pathLen, sizePtr, errPtr, errCap) {
            const r = host.open(str(pathPtr, pathLen));
            if (r.error !== undefined) {
                putBytes(enc.encode(String(r.error)), errPtr, errCap);
                return r.notFound ? -2 : -1;
            }
            dv().setBigUint64(sizePtr >>> 0, BigInt(r.size), true);
            return r.fd;
        },
        host_read(fd, position, dst, len) {
            return host.read(fd, position, mem().subarray(dst >>> 0, (dst >>> 0) + (len >>> 0)));
        },
        host_close(fd) { host.close(fd); },
        host_list_dir(pathPtr, pathLen, out, cap) {
            const entries = host.listDir(str(pathPtr, pathLen));
            if (entries === null) return -1;
            const text = enc.encode(entries.map((e) => `${e.isDir ? 'D' : 'F'} ${e.name}\n`).join(''));
            if (text.length <= cap >>> 0) putBytes(text, out, cap);
            return text.length;
        },
        host_create(pathPtr, pathLen) { return host.create ? host.create(str(pathPtr, pathLen)) : -1; },
        host_write(fd, src, len) {
            return host.write ? host.write(fd, mem().subarray(src >>> 0, (src >>> 0) + (len >>> 0))) : -1;
        },
        host_mkdirs(pathPtr, pathLen) { return host.mkdirs ? host.mkdirs(str(pathPtr, pathLen)) : -1; },
        host_rename(fromPtr, fromLen, toPtr, toLen) {
            return host.rename ? host.rename(str(fromPtr, fromLen), str(toPtr, toLen)) : -1;
        },
        host_out(stream, ptr, len) { emit(stream, str(ptr, len)); },
        host_read_line(buf, cap) {
            const line = host.readLine ? host.readLine() : null;
            if (line === null) return -1;
            return putBytes(enc.encode(line), buf, cap);
        },
        host_getenv(namePtr, nameLen, out, cap) {
            const v = host.getenv ? host.getenv(str(namePtr, nameLen)) : undefined;
            if (v === undefined || v === null) return -1;
            const bytes = enc.encode(v);
            if (bytes.length > cap >>> 0) return bytes.length;
            return putBytes(bytes, out, cap);
        },
        host_now_ms() { return performance.now(); },
        ...(host.extraImports || {}),
    };

    // WASI: only what wasi-libc's stdio and startup touch. Anything else is ENOSYS.
    const wasiImpl = {
        fd_write(fd, iovs, iovsLen, nwrittenPtr) {
            if (fd !== 1 && fd !== 2) return WASI_EBADF;
            const d = dv();
            let total = 0, text = '';
            for (let i = 0; i < iovsLen; i++) {
                const p = d.getUint32(iovs + i * 8, true), l = d.getUint32(iovs + i * 8 + 4, true);
                text += str(p, l);
                total += l;
            }
            // line-buffer so interleaved stdout/stderr stay readable
            lineBuf[fd - 1] += text;
            const nl = lineBuf[fd - 1].lastIndexOf('\n');
            if (nl >= 0) {
                emit(fd, lineBuf[fd - 1].slice(0, nl + 1));
                lineBuf[fd - 1] = lineBuf[fd - 1].slice(nl + 1);
            }
            d.setUint32(nwrittenPtr, total, true);
            return 0;
        },
        fd_close() { return 0; },
        fd_seek() { return WASI_ENOSYS; },
        fd_fdstat_get(fd, statPtr) {
            const d = dv();
            for (let i = 0; i < 24; i++) d.setUint8(statPtr + i, 0);
            d.setUint8(statPtr, 2); // character device
            return fd <= 2 ? 0 : WASI_EBADF;
        },
        environ_sizes_get(countPtr, sizePtr) { dv().setUint32(countPtr, 0, true); dv().setUint32(sizePtr, 0, true); return 0; },
        environ_get() { return 0; },
        args_sizes_get(countPtr, sizePtr) { dv().setUint32(countPtr, 0, true); dv().setUint32(sizePtr, 0, true); return 0; },
        args_get() { return 0; },
        clock_time_get(id, precision, outPtr) {
            const ns = BigInt(Math.round((id === 0 ? Date.now() : performance.now()) * 1e6));
            dv().setBigUint64(outPtr, ns, true);
            return 0;
        },
        random_get(ptr, len) {
            const c = globalThis.crypto;
            const view = mem().subarray(ptr, ptr + len);
            if (c?.getRandomValues) for (let o = 0; o < len; o += 65536) c.getRandomValues(view.subarray(o, Math.min(len, o + 65536)));
            else for (let i = 0; i < len; i++) view[i] = (Math.random() * 256) | 0;
            return 0;
        },
        proc_exit(code) { throw new Error(`wasm called proc_exit(${code})`); },
    };
    const wasi = new Proxy(wasiImpl, { get: (t, k) => t[k] ?? (() => WASI_ENOSYS) });

    instance = await WebAssembly.instantiate(module, { env, wasi_snapshot_preview1: wasi });
    instance.exports._initialize();
    return new Engine(instance, { mem, str, enc, flush: () => lineBuf.forEach((b, i) => { if (b) { emit(i + 1, b); lineBuf[i] = ''; } }) });
}

// Thin convenience layer over the raw exports: strings and arrays in and out.
export class Engine {
    constructor(instance, io) {
        this.instance = instance;
        this.exports = instance.exports;
        this.io = io;
    }
    get memory() { return this.exports.memory; }
    alloc(n) {
        const p = this.exports.malloc(Math.max(1, n)) >>> 0;
        if (!p) throw new Error(`wasm malloc(${n}) failed`);
        return p;
    }
    free(p) { this.exports.free(p); }
    // Copy a JS string into wasm memory as NUL-terminated UTF-8. Caller frees.
    cstr(s) {
        const b = this.io.enc.encode(s);
        const p = this.alloc(b.length + 1);
        const m = this.io.mem();
        m.set(b, p);
        m[p + b.length] = 0;
        return p;
    }
    readCString(p) {
        const m = this.io.mem();
        let e = p >>> 0;
        while (m[e]) e++;
        return this.io.str(p, e - (p >>> 0));
    }
    // Run a C command-line entry point (default rl_cli) with argv (strings); returns the exit code.
    cli(argv, entry = 'rl_cli') {
        const ptrs = argv.map((a) => this.cstr(a));
        const arr = this.alloc(4 * ptrs.length);
        const dv = new DataView(this.memory.buffer);
        ptrs.forEach((p, i) => dv.setUint32(arr + 4 * i, p, true));
        try {
            return this.exports[entry](ptrs.length, arr);
        } finally {
            this.io.flush();
            ptrs.forEach((p) => this.free(p));
            this.free(arr);
        }
    }
}
