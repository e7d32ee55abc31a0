#!/usr/bin/env node
// Micro-benchmark of the weight kernels (kernels/matvec.wgsl, matmul.wgsl) on
// e2b-like shapes. Prints time per dispatch, weight GB/s and GFLOP/s; GPU
// timestamps when the device has timestamp-query, else wall time over many
// dispatches (then the per-dispatch figure includes submission overhead).
//
//   node tools/bench-kernels.mjs [--quick] [--types Q4_K,Q6_K] [--kernel matvec|matmul|all]
//                                [--sweep] [--tokens N] [--iters N] [--no-subgroups]
//
// --quick: small shapes and few iterations (SwiftShader, CI). --sweep: also
// time alternative WG/ROWS (mat-vec) and tile (matmul) variants besides the
// one src/gpu/matvec_cfg.c picks. Each dispatch reads a different copy of the
// matrix (copies totalling >= 256 MB, as in a real decode, where a layer's
// matrix is never still in the L2 cache), all in one compute pass, so the
// time includes the barriers between dependent dispatches.
import { CRef, KernelRunner, TYPES, rowBytes, mvParams, randomWeights } from '../tests/node/lib/gpu-kernel.mjs';

const args = process.argv.slice(2);
const flag = (n) => args.includes(n);
const opt = (n, d) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const quick = flag('--quick');
const kernels = opt('--kernel', 'all');
const types = opt('--types', 'Q4_K,Q6_K,Q8_0,Q5_0,BF16,F16').split(',');
const iters = Number(opt('--iters', quick ? 2 : 200));
const mmTokens = Number(opt('--tokens', quick ? 64 : 512));

// rows x cols (rows = outputs), e2b: q 2048x1536, gate/up 6144x1536, down 1536x6144, output 262144x1536 (Q6_K)
const SHAPES = quick
    ? [['q', 128, 1536], ['down', 64, 2048]]
    : [['q', 2048, 1536], ['gate/up', 6144, 1536], ['down', 1536, 6144], ['output', 262144, 1536]];
const CACHE_BYTES = quick ? 0 : 256 << 20;

const cref = await CRef.load();
const gpu = await KernelRunner.open(flag('--no-subgroups') ? { disable: ['subgroups'] } : undefined);
const caps = gpu.rt.caps();
const dev = gpu.device;
const hasTs = gpu.rt.features.has('timestamp-query');
console.log(`device: ${caps.description}; subgroups ${caps.hasSubgroups ? `${caps.subgroupMin}-${caps.subgroupMax}` : 'no'}; ` +
    `timestamps ${hasTs ? 'yes' : 'no'}; max binding ${(caps.maxBinding / 2 ** 20).toFixed(0)} MiB`);

let seed = 0x9e3779b9;
const rand = () => { seed = (seed + 0x6d2b79f5) >>> 0; let t = seed; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };

const query = hasTs ? dev.createQuerySet({ type: 'timestamp', count: 2 }) : null;
async function gpuMs(fn) {
    if (!hasTs) return null;
    const res = dev.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    fn(query);
    const enc = dev.createCommandEncoder();
    enc.resolveQuerySet(query, 0, 2, res, 0);
    dev.queue.submit([enc.finish()]);
    const t = new BigUint64Array(await gpu.read(res, 16));
    res.destroy();
    return Number(t[1] - t[0]) / 1e6;
}

// Time `count` dispatches cycling through bind groups; returns ms per dispatch.
async function timeDispatches(entry, groups, grid, count) {
    const encodeAll = (q) => {
        const enc = dev.createCommandEncoder();
        const pass = enc.beginComputePass(q ? { timestampWrites: { querySet: q, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : undefined);
        pass.setPipeline(entry.pipe);
        for (let i = 0; i < count; i++) {
            pass.setBindGroup(0, groups[i % groups.length]);
            pass.dispatchWorkgroups(grid[0], grid[1], 1);
        }
        pass.end();
        dev.queue.submit([enc.finish()]);
    };
    encodeAll(null); // warm-up
    await dev.queue.onSubmittedWorkDone();
    const ms = await gpuMs(encodeAll);
    if (ms !== null) return ms / count;
    const t0 = performance.now();
    encodeAll(null);
    await dev.queue.onSubmittedWorkDone();
    return (performance.now() - t0) / count;
}

// The weight copies for one type and shape, and per-copy params for n_tok tokens.
function setup(type, rows, cols, nTok) {
    const rb = rowBytes(type, cols), bytes = rb * rows;
    const align = 256; // each copy at a storage-offset-aligned position
    const stride = Math.ceil(bytes / align) * align;
    const copies = Math.max(1, Math.min(Math.ceil(CACHE_BYTES / bytes), Math.floor(Math.min(caps.maxBinding, caps.maxBuffer) / stride)));
    const one = randomWeights(type, rows * cols, rand);
    const W = dev.createBuffer({ size: stride * copies, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    for (let c = 0; c < copies; c++) dev.queue.writeBuffer(W, c * stride, one.buffer, 0, Math.ceil(bytes / 4) * 4);
    const X = gpu.buffer(new Float32Array(cols * nTok).map(() => rand() - 0.5));
    const Y = gpu.buffer(4 * rows * nTok);
    const P = [];
    for (let c = 0; c < copies; c++) P.push({ rows, cols, nTok, wOff: c * stride, xOff: 0, xStride: cols, yOff: 0, yStride: rows, softcap: 0 });
    return { W, X, Y, P, bytes, copies, destroy: () => [W, X, Y].forEach((b) => b.destroy()) };
}

function report(kind, type, shape, variant, ms, bytes, flops) {
    const f = (v) => (v >= 100 ? v.toFixed(0) : v.toPrecision(3)).padStart(8);
    console.log(`${kind.padEnd(6)} ${type.padEnd(5)} ${shape.padEnd(22)} ${variant.padEnd(26)} ${f(ms * 1e3)} us ` +
        `${f(bytes / ms / 1e6)} GB/s ${f(flops / ms / 1e6)} GFLOP/s`);
}

async function benchMatvec(type, name, rows, cols, nTok) {
    const s = setup(type, rows, cols, nTok);
    const cfg = cref.config(type, rows, cols, nTok, caps);
    const variants = [[cfg.wg, cfg.rows, 'cfg']];
    if (flag('--sweep'))
        for (const [wg, r] of [[64, 4], [128, 8], [128, 4], [256, 8], [256, 16], [128, 1], [256, 1], [32, 1], [64, 8], [128, 16], [128, 32], [256, 32], [256, 64]])
            if (wg <= caps.maxInvocations && !(wg === cfg.wg && r === cfg.rows)) variants.push([wg, r, '']);
    for (const sub of caps.hasSubgroups ? [true, false] : [false]) {
        for (const [wg, r, tag] of variants) {
            const defs = [`TYPE_${type}`, `WG=${wg}`, `ROWS=${r}`, `NT=${cfg.nt}`, ...(sub ? ['SUBGROUPS'] : [])];
            const entry = await gpu.pipeline(cref.wgsl(['quant.wgsl', 'quant_chunk.wgsl', 'matvec.wgsl'], defs), 'urrw');
            const nwg = Math.ceil(rows / r), gx = Math.min(nwg, 65535), grid = [gx, Math.ceil(nwg / gx)];
            const groups = s.P.map((p) => gpu.bindGroup(entry, [gpu.buffer(mvParams({ ...p, gridX: gx }), true), s.W, s.X, s.Y]));
            const ms = await timeDispatches(entry, groups, grid, Math.max(iters, s.copies));
            report('matvec', type, `${name} ${rows}x${cols} t${nTok}`, `WG=${wg} ROWS=${r}${sub ? ' sg' : ''}${tag ? ' (cfg)' : ''}`, ms, s.bytes, 2 * rows * cols * nTok);
        }
    }
    s.destroy();
}

async function benchMatmul(type, name, rows, cols, nTok) {
    const s = setup(type, rows, cols, nTok);
    const cfg = cref.config(type, rows, cols, nTok, caps);
    const variants = [[cfg.tm, cfg.tn, cfg.bk, 'cfg']];
    if (flag('--sweep'))
        for (const [tm, tn, bk] of [[4, 4, 16], [4, 4, 32], [8, 8, 16], [8, 4, 16], [4, 8, 16], [8, 8, 8], [4, 2, 32]])
            if ((16 * tm + 16 * tn) * (bk + 4) * 4 <= caps.maxWgStorage && !(tm === cfg.tm && tn === cfg.tn && bk === cfg.bk)) variants.push([tm, tn, bk, '']);
    for (const [tm, tn, bk, tag] of variants) {
        const entry = await gpu.pipeline(cref.wgsl(['quant.wgsl', 'matmul.wgsl'], [`TYPE_${type}`, `TM=${tm}`, `TN=${tn}`, `BK=${bk}`]), 'urrw');
        const grid = [Math.ceil(rows / (16 * tm)), Math.ceil(nTok / (16 * tn))];
        const groups = s.P.map((p) => gpu.bindGroup(entry, [gpu.buffer(mvParams(p), true), s.W, s.X, s.Y]));
        const ms = await timeDispatches(entry, groups, grid, Math.max(quick ? 2 : 20, Math.min(s.copies, 50)));
        report('matmul', type, `${name} ${rows}x${cols} t${nTok}`, `TM=${tm} TN=${tn} BK=${bk}${tag ? ' (cfg)' : ''}`, ms, s.bytes, 2 * rows * cols * nTok);
    }
    s.destroy();
}

cref.config = function (type, rows, cols, nTok, c) {
    const out = this.e.alloc(24);
    try {
        this.x.rl_test_matvec_config(TYPES[type].id, rows, cols, nTok, c.maxInvocations, c.maxWgStorage, out);
        const [wg, r, nt, tm, tn, bk] = new Uint32Array(this.e.memory.buffer, out, 6);
        return { wg, rows: r, nt, tm, tn, bk };
    } finally { this.e.free(out); }
};

for (const type of types) {
    if (!TYPES[type]) { console.error(`unknown type ${type}`); process.exit(2); }
    for (const [name, rows, cols] of SHAPES) {
        if (name === 'output' && type !== 'Q6_K') continue; // the tied output matrix is Q6_K in Ollama's files
        if (kernels !== 'matmul') for (const nTok of quick ? [1, 4] : [1, 2, 4, 8]) await benchMatvec(type, name, rows, cols, nTok);
        if (kernels !== 'matvec' && name !== 'output') await benchMatmul(type, name, rows, cols, mmTokens);
    }
}
gpu.destroy();
