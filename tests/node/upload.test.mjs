// File → GPU uploads (js/gpu.mjs upload): the staging ring and the writeBuffer
// path leave byte-identical buffer contents for odd lengths, ranges that cross
// staging buffers, many small ranges, holes and backward jumps in the file, with
// synchronous and asynchronous host reads; a short read or a failing read is a
// clear error and leaves the runtime usable; device loss and closing stop it.
import fs from 'node:fs';
import path from 'node:path';
import { assert, rng, run, test, tmpDir } from './harness.mjs';
import { createGpu, GpuError } from '../../js/gpu.mjs';
import { nodeHost } from '../../js/node/host.mjs';

process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';

const FILE_BYTES = 3 << 20;
const file = path.join(tmpDir('upload'), 'data.bin');
const data = new Uint8Array(FILE_BYTES);
for (let i = 0; i < data.length; i++) data[i] = (rng() * 256) | 0;
fs.writeFileSync(file, data);

const host = nodeHost();
const { fd } = host.open(file);
const gpu = await createGpu();
const dev = gpu.device;

const int = (n) => Math.floor(rng() * n);

// A plan like the engine's: many small vectors (odd lengths too), runs of ranges
// back to back in the file and in the buffer, holes of a few bytes to a few KiB,
// large ranges that cross staging buffers, jumps backwards; destinations never overlap.
function makePlan(buffers) {
    const ups = [], cursor = buffers.map(() => 0);
    let pos = 0;
    const add = (len) => {
        const b = buffers.findIndex((buf, i) => cursor[i] + len <= buf.size && rng() < 0.7) ;
        if (b < 0 || pos + len > FILE_BYTES) return false;
        ups.push({ fd, pos, len, buffer: buffers[b], offset: cursor[b] });
        cursor[b] = Math.ceil((cursor[b] + len + (rng() < 0.5 ? 0 : int(600))) / 4) * 4;
        return true;
    };
    for (let bytes = 0; bytes < 1.5 * (1 << 20) && ups.length < 1000;) {
        const r = rng();
        const len = r < 0.6 ? 1 + int(300) : r < 0.9 ? 1000 + int(40000) : 200000 + int(300000);
        if (add(len)) bytes += len;
        const next = rng();
        pos += len;
        if (next < 0.4) { /* back to back */ }
        else if (next < 0.7) pos += int(32);               // alignment padding
        else if (next < 0.9) pos += int(100000);           // a hole (some beyond GAP)
        else pos = int(pos);                               // backwards
        if (pos + len >= FILE_BYTES) pos = int(FILE_BYTES / 2);
    }
    return ups;
}

// What the buffers must hold: the file bytes, each range's tail zero-padded to 4.
function expected(buffers, ups) {
    const want = new Map(buffers.map((b) => [b, new Uint8Array(b.size)]));
    for (const u of ups) want.get(u.buffer).set(data.subarray(u.pos, u.pos + u.len), u.offset);
    return want;
}

async function contents(buffer) {
    const rb = dev.createBuffer({ size: buffer.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = dev.createCommandEncoder();
    enc.copyBufferToBuffer(buffer, 0, rb, 0, buffer.size);
    dev.queue.submit([enc.finish()]);
    await rb.mapAsync(GPUMapMode.READ);
    const out = new Uint8Array(rb.getMappedRange()).slice();
    rb.unmap();
    rb.destroy();
    return out;
}

function newBuffers() {
    return [1 << 20, 700004, 2 << 20].map((size) => dev.createBuffer({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC }));
}

async function check(label, reader, { stream, stagingSize }) {
    const buffers = newBuffers();
    const ups = makePlan(buffers);
    const bytes = ups.reduce((a, u) => a + u.len, 0);
    assert(bytes >= 1 << 20, `${label}: the plan is big enough for the ring (${bytes})`);
    gpu.files = { read: reader };
    gpu.streamUploads = stream;
    gpu.stagingSize = stagingSize;
    gpu.uploaded = 0;
    let last = 0;
    gpu.onProgress = (done) => { assert(done >= last, 'progress only grows'); last = done; };
    await gpu.upload(ups);
    assert(last === bytes, `${label}: progress ended at ${last} of ${bytes}`);
    const want = expected(buffers, ups);
    for (const b of buffers) {
        const got = await contents(b), w = want.get(b);
        let bad = -1;
        for (let i = 0; i < w.length && bad < 0; i++) if (got[i] !== w[i]) bad = i;
        assert(bad < 0, `${label}: buffer of ${b.size} bytes differs at ${bad} (${ups.length} uploads)`);
        b.destroy();
    }
    console.error(`    ${label}: ${ups.length} uploads, ${bytes} bytes identical`);
}

const syncRead = (f, pos, view) => host.read(f, pos, view);
const asyncRead = (f, pos, view) => host.readAsync(f, pos, view);
// reads that finish out of order
const shuffledRead = async (f, pos, view) => {
    await new Promise((r) => setTimeout(r, int(3)));
    return host.readAsync(f, pos, view);
};

test('staging ring, async reads: byte-identical with uneven sizes across staging buffers', async () => {
    await check('ring 64 KiB async', asyncRead, { stream: true, stagingSize: 64 << 10 });
    await check('ring 256 KiB out-of-order', shuffledRead, { stream: true, stagingSize: 256 << 10 });
    await check('ring 1 MiB + 4 async', asyncRead, { stream: true, stagingSize: (1 << 20) + 4 });
});

// A load's command lists stream one after another within one flush: the second
// stream takes the first one's ring buffers (mapped again when it ended) instead
// of creating its own.
test('consecutive streams reuse the staging ring, bytes still identical', async () => {
    const made = [], create = dev.createBuffer;
    dev.createBuffer = function (d) { if (d.usage & GPUBufferUsage.MAP_WRITE) made.push(d.size); return create.call(this, d); };
    try {
        gpu.dropStaging(); // what earlier tests left
        // both plans exceed 512 KiB (check asserts 1 MiB), so both rings are of 512 KiB buffers
        await check('ring reuse, first stream', asyncRead, { stream: true, stagingSize: 512 << 10 });
        const first = made.length;
        await check('ring reuse, second stream', shuffledRead, { stream: true, stagingSize: 512 << 10 });
        // the second stream creates only what it used beyond the first one's ring
        assert(first > 0 && made.length - first === Math.max(0, gpu.lastRing - first),
            `staging buffers created: ${first} by the first stream, ${made.length - first} by the second, which used ${gpu.lastRing}`);
    } finally {
        dev.createBuffer = create;
    }
});

test('staging ring with a synchronous host read, and the writeBuffer path, give the same bytes', async () => {
    await check('ring 128 KiB sync', syncRead, { stream: true, stagingSize: 128 << 10 });
    await check('writeBuffer sync', syncRead, { stream: false, stagingSize: 16 << 20 });
    await check('writeBuffer async', asyncRead, { stream: false, stagingSize: 16 << 20 });
});

async function expectError(ups, reader, pattern, stream = true) {
    gpu.files = { read: reader };
    gpu.streamUploads = stream;
    gpu.stagingSize = 64 << 10;
    let err = null;
    try {
        await gpu.upload(ups);
    } catch (e) {
        err = e;
    }
    assert(err instanceof GpuError, `expected a GpuError, got ${err}`);
    assert(pattern.test(err.message), `message: ${err.message}`);
    return err;
}

test('a short read or a failing read is a clear error, and later uploads still work', async () => {
    const [b] = newBuffers();
    const past = [{ fd, pos: 0, len: 900000, buffer: b, offset: 0 }, { fd, pos: FILE_BYTES - 1000, len: 200000, buffer: b, offset: 900000 }];
    for (const [label, reader] of [['sync', syncRead], ['async', asyncRead]]) {
        for (const stream of [true, false]) {
            const e = await expectError(past, reader, /short read at file offset \d+ \(1000 of \d+ bytes\)/, stream);
            console.error(`    ${label}${stream ? '' : ' writeBuffer'}: ${e.message}`);
        }
    }
    let calls = 0;
    const failing = async (f, pos, view) => { if (++calls === 5) throw new Error('EIO: i/o error, read'); return host.readAsync(f, pos, view); };
    const many = Array.from({ length: 40 }, (_, i) => ({ fd, pos: i * 50000, len: 40000, buffer: b, offset: i * 40000 }));
    const e = await expectError(many, failing, /cannot read the model file at offset \d+: EIO/);
    console.error(`    failing read: ${e.message}`);
    await expectError(many, () => -1, /cannot read the model file at offset 0$/);
    b.destroy();
    await check('after errors', asyncRead, { stream: true, stagingSize: 64 << 10 });
});

test('device loss or closing the runtime during an upload stops it with a clear error', async () => {
    for (const how of ['lost', 'closed']) {
        const g = await createGpu();
        // a destroyed device frees its mapped staging memory at once: no read may be in flight then
        g.files = { read: how === 'lost' ? syncRead : asyncRead };
        g.stagingSize = 1 << 20;
        const b = g.device.createBuffer({ size: 1 << 20, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
        const ups = Array.from({ length: 64 }, (_, i) => ({ fd, pos: (i * 40000) % 2000000, len: 1 << 20, buffer: b, offset: 0 }));
        let fired = false, err = null;
        g.onProgress = () => {
            if (fired) return;
            fired = true;
            if (how === 'lost') g.device.destroy(); else g.destroy();
        };
        try {
            await g.upload(ups);
        } catch (e) {
            err = e;
        }
        assert(err instanceof GpuError, `${how}: expected a GpuError, got ${err}`);
        assert((how === 'lost' ? /GPU device lost/ : /runtime was closed/).test(err.message), `${how}: ${err.message}`);
        assert(g.uploaded < 64 << 20, `${how}: the upload stopped early (${g.uploaded} bytes)`);
        console.error(`    ${how}: ${err.message} after ${g.uploaded} bytes`);
        if (how === 'lost') g.destroy();
    }
});

await run('upload');
host.close(fd);
gpu.destroy();
