// tests/node/lib/gguf-writer.mjs against a reader written here from the format description
// (gemma4.md §2.1): every value type, nested arrays, typed-array fast paths, key sorting,
// tensor infos, data offsets and alignment, and the general.alignment rule.
import { test, run, assert, assertEq, rng } from './harness.mjs';
import { GGUFWriter, GGUF_TYPES } from './lib/gguf-writer.mjs';

function parse(bytes) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let off = 0;
    const take = (n) => { const at = off; off += n; assert(off <= bytes.length, 'read past the end'); return at; };
    const u32 = () => dv.getUint32(take(4), true);
    const u64 = () => dv.getBigUint64(take(8), true);
    const str = () => { const n = Number(u64()); const at = take(n); return new TextDecoder().decode(bytes.subarray(at, at + n)); };
    const scalar = {
        0: () => dv.getUint8(take(1)), 1: () => dv.getInt8(take(1)), 2: () => dv.getUint16(take(2), true),
        3: () => dv.getInt16(take(2), true), 4: u32, 5: () => dv.getInt32(take(4), true),
        6: () => dv.getFloat32(take(4), true), 7: () => dv.getUint8(take(1)) !== 0, 8: str,
        10: u64, 11: () => dv.getBigInt64(take(8), true), 12: () => dv.getFloat64(take(8), true),
    };
    const value = (type) => {
        if (type !== 9) return scalar[type]();
        const et = u32(), n = Number(u64());
        return { et, items: Array.from({ length: n }, () => value(et)) };
    };
    assertEq(new TextDecoder().decode(bytes.subarray(0, 4)), 'GGUF', 'magic');
    take(4);
    const version = u32(), nTensors = Number(u64()), nKV = Number(u64());
    const kv = [];
    for (let i = 0; i < nKV; i++) {
        const key = str(), type = u32();
        kv.push({ key, type, value: value(type) });
    }
    const tensors = [];
    for (let i = 0; i < nTensors; i++) {
        const name = str(), nd = u32();
        const ne = Array.from({ length: nd }, () => Number(u64()));
        tensors.push({ name, ne, type: u32(), offset: Number(u64()) });
    }
    return { version, kv, tensors, headerEnd: off };
}

test('every value type round-trips, in insertion order or sorted', () => {
    const w = new GGUFWriter();
    const f32 = Math.fround(rng() * 100 - 50);
    w.kv('z.u8', 'u8', 250).kv('z.i8', 'i8', -7).kv('z.u16', 'u16', 65000).kv('z.i16', 'i16', -30000);
    w.kv('a.u32', 'u32', 4000000000).kv('a.i32', 'i32', -2000000000).kv('a.f32', 'f32', f32);
    w.kv('m.bool', 'bool', true).kv('m.str', 'str', 'héllo ▁ 👋').kv('m.u64', 'u64', 2n ** 63n + 5n);
    w.kv('m.i64', 'i64', -(2n ** 62n)).kv('m.f64', 'f64', Math.PI);
    w.kv('b.arr.str', ['arr', 'str'], ['', 'a', '中文']);
    w.kv('b.arr.i32', ['arr', 'i32'], Int32Array.from([1, -2, 3]));      // typed fast path
    w.kv('b.arr.f32', ['arr', 'f32'], [0.5, -1.25]);                      // element by element
    w.kv('b.arr.bool', ['arr', 'bool'], [true, false, true]);
    w.kv('b.arr.nested', ['arr', 'arr'], [{ type: 'u16', values: [1, 2] }, { type: 'str', values: ['x'] }]);
    w.kv('b.arr.empty', ['arr', 'u64'], []);
    w.kv('b.raw', 'str', new Uint8Array([0xff, 0x41]));
    for (const sortKeys of [false, true]) {
        const { version, kv, tensors } = parse(w.toBytes({ sortKeys }));
        assertEq(version, 3);
        assertEq(tensors.length, 0);
        const keys = kv.map((e) => e.key);
        assertEq(keys, sortKeys ? [...keys].sort() : w.kvs.map((e) => e.key), 'key order');
        const get = (k) => kv.find((e) => e.key === k);
        assertEq([get('z.u8').value, get('z.i8').value, get('z.u16').value, get('z.i16').value], [250, -7, 65000, -30000]);
        assertEq([get('a.u32').value, get('a.i32').value, get('a.f32').value], [4000000000, -2000000000, f32]);
        assertEq([get('m.bool').type, get('m.bool').value, get('m.str').value], [GGUF_TYPES.bool, true, 'héllo ▁ 👋']);
        assert(get('m.u64').value === 2n ** 63n + 5n && get('m.i64').value === -(2n ** 62n), '64-bit integers');
        assertEq(get('m.f64').value, Math.PI);
        assertEq(get('b.arr.str').value, { et: 8, items: ['', 'a', '中文'] });
        assertEq(get('b.arr.i32').value, { et: 5, items: [1, -2, 3] });
        assertEq(get('b.arr.f32').value, { et: 6, items: [0.5, -1.25] });
        assertEq(get('b.arr.bool').value, { et: 7, items: [true, false, true] });
        assertEq(get('b.arr.nested').value, { et: 9, items: [{ et: 2, items: [1, 2] }, { et: 8, items: ['x'] }] });
        assertEq(get('b.arr.empty').value, { et: 10, items: [] });
        assertEq(get('b.raw').value, '\ufffdA');
    }
});

test('tensors: infos, offsets aligned within the data section, data and zero padding', () => {
    for (const alignment of [32, 64, 1]) {
        const w = new GGUFWriter({ alignment });
        w.kv('general.architecture', 'str', 'test');
        const datas = [5, 32, 100, 1].map((n) => Uint8Array.from({ length: n }, () => 1 + Math.floor(rng() * 255)));
        datas.forEach((d, i) => w.tensor(`t${i}`, [d.length, 1], 24 /* I8 */, d));
        w.tensor('f', [3], 0, Float32Array.from([1.5, -2, 3])); // typed array input
        const bytes = w.toBytes();
        const { kv, tensors, headerEnd } = parse(bytes);
        const align = kv.find((e) => e.key === 'general.alignment');
        assertEq(align ? align.value : 32, alignment, 'general.alignment written only when not 32');
        assertEq(align === undefined, alignment === 32, 'general.alignment presence');
        const dataStart = Math.ceil(headerEnd / alignment) * alignment;
        let expect = 0;
        [...datas, new Uint8Array(Float32Array.from([1.5, -2, 3]).buffer)].forEach((d, i) => {
            const t = tensors[i];
            assertEq(t.offset, expect, `offset of ${t.name}`);
            assert(t.offset % alignment === 0, 'aligned');
            assertEq([...bytes.subarray(dataStart + t.offset, dataStart + t.offset + d.length)], [...d], `data of ${t.name}`);
            const padEnd = Math.ceil((t.offset + d.length) / alignment) * alignment;
            assert(bytes.subarray(dataStart + t.offset + d.length, dataStart + padEnd).every((b) => b === 0), 'zero padding');
            expect = padEnd;
        });
        assertEq(tensors.map((t) => [t.name, t.ne, t.type]).slice(-2), [['t3', [1, 1], 24], ['f', [3], 0]]);
        assertEq(bytes.length, dataStart + expect, 'file ends after the padded last tensor');
        assert(bytes.subarray(headerEnd, dataStart).every((b) => b === 0), 'zero padding before the data');
    }
});

test('version 2 and malformed-on-purpose entries', () => {
    const w = new GGUFWriter({ version: 2 });
    w.rawKV('bad.type', 99, new Uint8Array([1, 2, 3, 4]));
    const bytes = w.toBytes();
    const dv = new DataView(bytes.buffer);
    assertEq(dv.getUint32(4, true), 2, 'version');
    const keyLen = Number(dv.getBigUint64(24, true));
    assertEq(dv.getUint32(32 + keyLen, true), 99, 'raw type code');
    assertEq(bytes.length, 32 + keyLen + 4 + 4, 'raw payload written verbatim');
    let threw = false;
    try { new GGUFWriter().kv('x', 'nope', 1); } catch { threw = true; }
    assert(threw, 'unknown type rejected');
});

await run('gguf-writer');
