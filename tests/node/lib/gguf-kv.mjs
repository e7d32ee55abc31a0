// GGUF metadata (key/value pairs) read straight from the bytes, written from
// the format description for tests that check what the C reader reports.
// Returns [{key, type, value}] in file order; arrays as JS arrays, 64-bit
// integers as BigInt, f32 as the exact float value.
import fs from 'node:fs';

export function readGgufKv(file) { return readGguf(file).kv; }

// The tensor infos too: [{name, dims: [numbers], type}] in file order.
export function readGgufTensors(file) { return readGguf(file).tensors; }

function readGguf(file) {
    const fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(Math.min(fs.fstatSync(fd).size, 64 << 20));
    fs.readSync(fd, buf, 0, buf.length, 0);
    fs.closeSync(fd);
    let o = 0;
    const u32 = () => { const v = buf.readUInt32LE(o); o += 4; return v; };
    const u64 = () => { const v = buf.readBigUInt64LE(o); o += 8; return v; };
    const str = () => { const n = Number(u64()); const s = buf.toString('utf8', o, o + n); o += n; return s; };
    const readers = {
        0: () => buf.readUInt8(o++), 1: () => buf.readInt8(o++),
        2: () => { const v = buf.readUInt16LE(o); o += 2; return v; }, 3: () => { const v = buf.readInt16LE(o); o += 2; return v; },
        4: u32, 5: () => { const v = buf.readInt32LE(o); o += 4; return v; },
        6: () => { const v = buf.readFloatLE(o); o += 4; return v; }, 7: () => buf.readUInt8(o++) !== 0,
        8: str, 10: u64, 11: () => { const v = buf.readBigInt64LE(o); o += 8; return v; },
        12: () => { const v = buf.readDoubleLE(o); o += 8; return v; },
    };
    const value = (type) => {
        if (type !== 9) return readers[type]();
        const et = u32();
        const n = Number(u64());
        return { elemType: et, items: Array.from({ length: n }, () => value(et)) };
    };
    if (buf.toString('latin1', 0, 4) !== 'GGUF') throw new Error(`${file}: not a GGUF file`);
    o = 4;
    u32(); // version
    const nt = Number(u64());
    const nkv = Number(u64());
    const out = [];
    for (let i = 0; i < nkv; i++) {
        const key = str();
        const type = u32();
        out.push({ key, type, value: value(type) });
    }
    const tensors = [];
    for (let i = 0; i < nt && o < buf.length; i++) {
        const name = str();
        const dims = Array.from({ length: u32() }, () => Number(u64()));
        tensors.push({ name, dims, type: u32() });
        u64(); // offset
    }
    return { kv: out, tensors };
}
