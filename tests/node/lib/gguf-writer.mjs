// A small, general GGUF (v3, also v2) writer, independent of the C reader so tests can
// produce files from a second implementation of the format. Little-endian throughout.
//
//   import { GGUFWriter } from './lib/gguf-writer.mjs';
//   const w = new GGUFWriter();                       // { version: 3, alignment: 32 }
//   w.kv('general.architecture', 'str', 'gemma4');
//   w.kv('gemma4.block_count', 'u32', 6);
//   w.kv('tokenizer.ggml.tokens', ['arr', 'str'], ['<pad>', '<eos>']);
//   w.kv('x.nested', ['arr', 'arr'], [{ type: 'i32', values: [1, 2] }, { type: 'str', values: ['a'] }]);
//   w.tensor('token_embd.weight', [256, 1024], 0 /* F32 */, bytes);   // ne[] innermost first
//   fs.writeFileSync(path, w.toBytes({ sortKeys: true }));
//
// Value types (GGUF codes): u8 0, i8 1, u16 2, i16 3, u32 4, i32 5, f32 6, bool 7, str 8, arr 9,
// u64 10, i64 11, f64 12. 64-bit values accept Number or BigInt. Strings are JS strings (written
// as UTF-8) or Uint8Array (written as raw bytes, for invalid-UTF-8 tests). Arrays take a JS array
// or a matching typed array (copied in one go when its element type matches).
//
// Layout: header (magic, version, n_tensors, n_kv), KV pairs, tensor infos, padding to
// `alignment`, then tensor data, each tensor starting at a multiple of `alignment` relative
// to the data section (zero padding between tensors and after the last one). The writer adds
// `general.alignment` (u32) only when alignment is not the default 32 and the caller did not.
// Nothing is validated beyond what is needed to encode: tests may write deliberately odd
// files (use rawKV for a wrong type code, or a tensor whose byte count disagrees with its shape).

export const GGUF_TYPES = Object.freeze({
    u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, str: 8, arr: 9, u64: 10, i64: 11, f64: 12,
});

// Fixed-size scalar encoders: [byte size, DataView setter, typed array for fast copies].
const SCALARS = {
    u8: [1, (dv, o, v) => dv.setUint8(o, v), Uint8Array],
    i8: [1, (dv, o, v) => dv.setInt8(o, v), Int8Array],
    u16: [2, (dv, o, v) => dv.setUint16(o, v, true), Uint16Array],
    i16: [2, (dv, o, v) => dv.setInt16(o, v, true), Int16Array],
    u32: [4, (dv, o, v) => dv.setUint32(o, v, true), Uint32Array],
    i32: [4, (dv, o, v) => dv.setInt32(o, v, true), Int32Array],
    f32: [4, (dv, o, v) => dv.setFloat32(o, v, true), Float32Array],
    bool: [1, (dv, o, v) => dv.setUint8(o, v ? 1 : 0), null],
    u64: [8, (dv, o, v) => dv.setBigUint64(o, BigInt(v), true), BigUint64Array],
    i64: [8, (dv, o, v) => dv.setBigInt64(o, BigInt(v), true), BigInt64Array],
    f64: [8, (dv, o, v) => dv.setFloat64(o, v, true), Float64Array],
};

const utf8 = new TextEncoder();
const strBytes = (s) => (s instanceof Uint8Array ? s : utf8.encode(String(s)));
const alignUp = (n, a) => Math.ceil(n / a) * a;

export class GGUFWriter {
    constructor({ version = 3, alignment = 32 } = {}) {
        if (!Number.isInteger(alignment) || alignment <= 0) throw new Error(`bad alignment ${alignment}`);
        this.version = version;
        this.alignment = alignment;
        this.kvs = [];     // { key, type, value } in insertion order
        this.tensors = []; // { name, ne, type, data }
    }

    // type: a scalar name ('u32', 'str', ...) or ['arr', elemName]. Returns this for chaining.
    kv(key, type, value) {
        const t = Array.isArray(type) ? type : [type];
        if (!(t[0] in GGUF_TYPES)) throw new Error(`${key}: unknown GGUF type ${t[0]}`);
        if (t[0] === 'arr' && !(t[1] in GGUF_TYPES)) throw new Error(`${key}: unknown array element type ${t[1]}`);
        this.kvs.push({ key, type: t, value });
        return this;
    }

    // A KV whose type code is written verbatim (for malformed-file tests); payload = raw bytes.
    rawKV(key, typeCode, payload) {
        this.kvs.push({ key, raw: { typeCode, payload } });
        return this;
    }

    has(key) { return this.kvs.some((e) => e.key === key); }

    // ne: dims innermost first (as GGUF stores them); type: ggml type id; data: bytes.
    tensor(name, ne, type, data) {
        const bytes = data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        this.tensors.push({ name, ne: [...ne], type, data: bytes });
        return this;
    }

    // Serialize. sortKeys: order KV pairs by key (byte order), as Ollama's writer does.
    toBytes({ sortKeys = false } = {}) {
        const kvs = [...this.kvs];
        if (this.alignment !== 32 && !kvs.some((e) => e.key === 'general.alignment'))
            kvs.push({ key: 'general.alignment', type: ['u32'], value: this.alignment });
        if (sortKeys) {
            const keyBytes = new Map(kvs.map((e) => [e, strBytes(e.key)]));
            kvs.sort((a, b) => compareBytes(keyBytes.get(a), keyBytes.get(b)));
        }
        const out = new ByteSink();
        out.bytes(utf8.encode('GGUF'));
        out.u32(this.version);
        out.u64(this.tensors.length);
        out.u64(kvs.length);
        for (const e of kvs) {
            out.str(e.key);
            if (e.raw) {
                out.u32(e.raw.typeCode);
                out.bytes(e.raw.payload);
                continue;
            }
            writeValue(out, e.type, e.value, e.key);
        }
        let offset = 0;
        for (const t of this.tensors) {
            out.str(t.name);
            out.u32(t.ne.length);
            for (const d of t.ne) out.u64(d);
            out.u32(t.type);
            out.u64(offset);
            offset = alignUp(offset + t.data.length, this.alignment);
        }
        if (this.tensors.length) {
            out.pad(this.alignment);
            for (const t of this.tensors) {
                out.bytes(t.data);
                out.pad(this.alignment);
            }
        }
        return out.finish();
    }
}

function writeValue(out, type, value, key) {
    const [name, elem] = type;
    out.u32(GGUF_TYPES[name]);
    if (name === 'arr') {
        out.u32(GGUF_TYPES[elem]);
        out.u64(value.length);
        writeElements(out, elem, value, key);
    } else if (name === 'str') {
        out.str(value);
    } else {
        out.scalar(name, value);
    }
}

function writeElements(out, elem, values, key) {
    if (elem === 'str') {
        for (const s of values) out.str(s);
    } else if (elem === 'arr') {
        // Nested arrays: each element is { type: elemName, values }.
        for (const v of values) {
            if (!v || !(v.type in GGUF_TYPES)) throw new Error(`${key}: nested array elements need {type, values}`);
            out.u32(GGUF_TYPES[v.type]);
            out.u64(v.values.length);
            writeElements(out, v.type, v.values, key);
        }
    } else {
        const [size, , Typed] = SCALARS[elem];
        if (Typed && values instanceof Typed) out.bytes(new Uint8Array(values.buffer, values.byteOffset, values.length * size));
        else for (const v of values) out.scalar(elem, v);
    }
}

function compareBytes(a, b) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
}

// Growable little-endian byte buffer (doubling; large string arrays stay linear).
class ByteSink {
    constructor() {
        this.buf = new Uint8Array(1 << 16);
        this.dv = new DataView(this.buf.buffer);
        this.len = 0;
    }
    reserve(n) {
        if (this.len + n <= this.buf.length) return;
        let cap = this.buf.length;
        while (cap < this.len + n) cap *= 2;
        const nb = new Uint8Array(cap);
        nb.set(this.buf.subarray(0, this.len));
        this.buf = nb;
        this.dv = new DataView(nb.buffer);
    }
    bytes(b) {
        this.reserve(b.length);
        this.buf.set(b, this.len);
        this.len += b.length;
    }
    scalar(name, v) {
        const [size, set] = SCALARS[name];
        this.reserve(size);
        set(this.dv, this.len, v);
        this.len += size;
    }
    u32(v) { this.scalar('u32', v); }
    u64(v) { this.scalar('u64', v); }
    str(s) {
        if (s instanceof Uint8Array) {
            this.u64(s.length);
            this.bytes(s);
            return;
        }
        s = String(s);
        // Encode straight into the buffer: at most 3 bytes per UTF-16 unit.
        this.reserve(8 + s.length * 3);
        const at = this.len;
        const { written } = utf8.encodeInto(s, this.buf.subarray(at + 8));
        this.dv.setBigUint64(at, BigInt(written), true);
        this.len = at + 8 + written;
    }
    pad(alignment) {
        const n = alignUp(this.len, alignment) - this.len;
        this.reserve(n);
        this.buf.fill(0, this.len, this.len + n);
        this.len += n;
    }
    finish() { return this.buf.slice(0, this.len); }
}
