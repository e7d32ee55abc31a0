#!/usr/bin/env node
// Micro-benchmark of the weight kernels (kernels/matvec.wgsl, matmul.wgsl) on
// e2b shapes. Prints time per dispatch, weight GB/s and GFLOP/s; GPU
// timestamps when the device has timestamp-query, else wall time over many
// dispatches (then the per-dispatch figure includes submission overhead).
//
//   node tools/bench-kernels.mjs [--quick] [--types Q4_K,Q6_K] [--kernel matvec|matmul|all]
//                                [--shapes q,down,...] [--nt 1,8] [--sweep] [--tokens N]
//                                [--iters N] [--no-subgroups]
//
// --quick: small shapes and few iterations (SwiftShader, CI). --sweep: also
// time alternative variants besides the one src/gpu/matvec_cfg.c picks
// (mat-vec: WG, threads per row, rows per thread, x staged or not; matmul:
// tiles and K step, and the outer-product candidate kernels/matmul_op.wgsl
// with split K, whose partial sums a second pass would add). Each dispatch
// reads a different copy of the matrix (copies totalling >= 256 MB, as in a
// real decode, where a layer's matrix is never still in the L2 cache), all in
// one compute pass, so the time includes the barriers between dependent
// dispatches. The GPU is kept busy for about a second first; even so, numbers
// of one shape measured minutes apart (or while the host is busy) differ by
// up to 1.5x on the lent H100/H200: compare variants of one run only.
import { CRef, KernelRunner, TYPES, rowBytes, mvParams, randomWeights, gpuDefs, gpuLayout } from '../tests/node/lib/gpu-kernel.mjs';

const args = process.argv.slice(2);
const flag = (n) => args.includes(n);
const opt = (n, d) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const quick = flag('--quick'), sweep = flag('--sweep');
const kernels = opt('--kernel', 'all');
const types = opt('--types', 'Q4_K,Q6_K,Q8_0,Q5_0,BF16,F16').split(',');
const iters = Number(opt('--iters', quick ? 2 : 200));
const mmTokens = Number(opt('--tokens', quick ? 64 : 512));
const ntList = opt('--nt', quick ? '1,4' : '1,2,4,8').split(',').map(Number);
const shapeFilter = opt('--shapes', null)?.split(',');

// name, rows x cols (rows = outputs). e2b: q 2048x1536, q|k|v 2560x1536, gate|up
// 12288x1536 (24576 in the 20 double-wide layers), down 1536x6144 (1536x12288),
// attention output 1536x2048, output 262144x1536 (Q6_K).
const SHAPES = quick
    ? [['q', 128, 1536], ['down', 64, 2048]]
    : [['q', 2048, 1536], ['qkv', 2560, 1536], ['gate/up', 6144, 1536], ['gate|up', 12288, 1536], ['gate|up2', 24576, 1536],
        ['down', 1536, 6144], ['down2', 1536, 12288], ['o', 1536, 2048], ['output', 262144, 1536]];
const CACHE_BYTES = quick ? 0 : 256 << 20;

const cref = await CRef.load();
const gpu = await KernelRunner.open(flag('--no-subgroups') ? { disable: ['subgroups'] } : undefined);
const caps = gpu.rt.caps();
const dev = gpu.device;
const hasTs = gpu.rt.features.has('timestamp-query');
const sub = caps.hasSubgroups && !flag('--no-subgroups');
console.log(`device: ${caps.description}; subgroups ${caps.hasSubgroups ? `${caps.subgroupMin}-${caps.subgroupMax}` : 'no'}; ` +
    `timestamps ${hasTs ? 'yes' : 'no'}; max binding ${(caps.maxBinding / 2 ** 20).toFixed(0)} MiB; workgroup memory ${caps.maxWgStorage}`);
const T0 = performance.now();

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
            pass.dispatchWorkgroups(grid[0], grid[1], grid[2] ?? 1);
        }
        pass.end();
        dev.queue.submit([enc.finish()]);
    };
    // warm-up: clocks drop while the host compiles the next variant, so keep the GPU busy
    // for a while right before each timing (a single pass left the first variants 2-4x slow)
    for (const t0 = performance.now(); performance.now() - t0 < (quick ? 1 : 60);) {
        encodeAll(null);
        await dev.queue.onSubmittedWorkDone();
    }
    const ms = await gpuMs(encodeAll);
    if (ms !== null) return ms / count;
    const t0 = performance.now();
    encodeAll(null);
    await dev.queue.onSubmittedWorkDone();
    return (performance.now() - t0) / count;
}

// The weight copies for one type and shape, x for up to maxTok tokens, y for
// ySlots outputs per row and token (split-K partial sums).
function setup(type, rows, cols, maxTok, ySlots = 1, cacheBytes = CACHE_BYTES) {
    const rb = rowBytes(type, cols) / TYPES[type].qb * (TYPES[type].gpuQb ?? TYPES[type].qb), bytes = rb * rows; // GPU bytes
    const align = 256; // each copy at a storage-offset-aligned position
    const stride = Math.ceil(bytes / align) * align;
    const copies = Math.max(1, Math.min(Math.ceil(cacheBytes / bytes), Math.floor(Math.min(caps.maxBinding, caps.maxBuffer) / stride)));
    const one = gpuLayout(type, randomWeights(type, rows * cols, rand));
    const W = dev.createBuffer({ size: stride * copies, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    for (let c = 0; c < copies; c++) dev.queue.writeBuffer(W, c * stride, one.buffer, 0, Math.ceil(bytes / 4) * 4);
    const X = gpu.buffer(new Float32Array(cols * maxTok).map(() => rand() - 0.5));
    const Y = gpu.buffer(4 * rows * maxTok * ySlots);
    const params = (nTok, extra = {}) => {
        const P = [];
        for (let c = 0; c < copies; c++) P.push({ rows, cols, nTok, wOff: c * stride, xOff: 0, xStride: cols, yOff: 0, yStride: rows, softcap: 0, ...extra });
        return P;
    };
    return { W, X, Y, params, bytes, copies, destroy: () => [W, X, Y].forEach((b) => b.destroy()) };
}

function report(kind, type, shape, variant, ms, bytes, flops) {
    const f = (v) => (v >= 100 ? v.toFixed(0) : v.toPrecision(3)).padStart(8);
    console.log(`${kind.padEnd(6)} ${type.padEnd(5)} ${shape.padEnd(22)} ${variant.padEnd(34)} ${f(ms * 1e3)} us ` +
        `${f(bytes / ms / 1e6)} GB/s ${f(flops / ms / 1e6)} GFLOP/s`);
}

const MV_FILES = ['common.wgsl', 'quant.wgsl', 'quant_chunk.wgsl', 'weight_op.wgsl', 'matvec.wgsl'];
const MM_FILES = ['quant.wgsl', 'weight_op.wgsl', 'tile_fetch.wgsl', 'matmul.wgsl'];
const OP_FILES = ['quant.wgsl', 'weight_op.wgsl', 'tile_fetch.wgsl', 'matmul_op.wgsl'];

// x tile for the mat-vec: a power of two >= 256 columns, <= 32 KiB and next to WG*NT reduction floats
function xsFor(cols, nt, wg) {
    const mem = Math.min(32768, caps.maxWgStorage - 4 * wg * nt);
    let kt = 256;
    while (kt < cols) kt *= 2;
    while (kt > 256 && kt * nt * 4 > mem) kt /= 2;
    return kt * nt * 4 <= mem ? kt * nt : 0;
}

async function benchMatvec(type, name, rows, cols, s, nTok) {
    const cfg = cref.config(type, rows, cols, nTok, caps);
    const nt = cfg.nt;
    const variants = []; // [label, files, defines, rows per workgroup]
    // unroll: STEPS = the chunks per thread (kernels/matvec.wgsl), or a plain loop
    const mv = (wg, rpw, rpt, xs, lc, wvec, unroll, tag = '') => {
        const tpr = wg * rpt / rpw, steps = unroll && !xs ? Math.ceil(cols / cfg.chunk / tpr) : 0;
        if (lc > tpr) return;
        variants.push([`WG=${wg} TPR=${tpr} RPT=${rpt} LC=${lc}${wvec ? ' V' : ''}${steps ? ` S${steps}` : ''}${xs ? ` XS=${xs}` : ''}${tag}`, MV_FILES,
            [`WG=${wg}`, `ROWS=${rpw}`, `RPT=${rpt}`, `NT=${nt}`, `LC=${lc}`, ...(wvec ? ['WVEC'] : []), ...(steps ? [`STEPS=${steps}`] : []),
                ...(xs ? [`XS=${xs}`] : []), ...(sub ? ['SUBGROUPS'] : [])], rpw]);
    };
    mv(cfg.wg, cfg.rows, cfg.rpt, cfg.xs, cfg.lc, cfg.wvec, cfg.steps > 0, ' (cfg)');
    if (sweep && ['Q4_K', 'Q6_K', 'Q6_KP'].includes(type)) {
        const tpr = cfg.wg * cfg.rpt / cfg.rows;
        // the cfg's shape with the other row layouts, load widths and loops (LC = TPR, scalar
        // loads, plain loop: the kernel before LC, WVEC and STEPS)
        for (const [lc, wvec, unroll] of [[tpr, 0, 0], [cfg.lc, cfg.wvec, 0], [tpr, 1, 1], [cfg.lc, 1 - cfg.wvec, 1], [4, 1, 1], [2, 1, 1]])
            if (!(lc === cfg.lc && wvec === cfg.wvec && unroll === Number(cfg.steps > 0)) && lc <= tpr) mv(cfg.wg, cfg.rows, cfg.rpt, cfg.xs, lc, wvec, unroll);
        // [WG, threads per row, rows per thread, x staged]
        const grid = nt === 1
            ? [[256, 16, 2, 0], [256, 8, 2, 0], [256, 32, 2, 0], [128, 16, 2, 0], [128, 8, 2, 0], [128, 4, 1, 0], [128, 16, 1, 0], [128, 32, 1, 0], [128, 64, 1, 0],
                [256, 128, 1, 0], [256, 256, 1, 0], [64, 8, 1, 0], [64, 4, 1, 0], [64, 16, 1, 0], [64, 8, 2, 0], [32, 4, 1, 0], [32, 8, 1, 0]]
            : nt === 2 ? [] : [[256, 16, 2, 1], [256, 8, 2, 1], [256, 16, 1, 0], [128, 32, 1, 0]];
        for (const [wg, tpr2, rpt, x] of grid) {
            const xs = x ? xsFor(cols, nt, wg) : 0;
            if (x && !xs) continue;
            const rpw = (wg / tpr2) * rpt;
            if (wg === cfg.wg && rpw === cfg.rows && rpt === cfg.rpt && xs === cfg.xs) continue;
            mv(wg, rpw, rpt, xs, Math.min(cfg.lc, tpr2), 1, 1);
        }
    }
    const P = s.params(nTok);
    for (const [label, files, defs, rpw] of variants) {
        const entry = await gpu.pipeline(cref.wgsl(files, [...gpuDefs(type), ...defs]), 'urrw');
        const nwg = Math.ceil(rows / rpw), gx = Math.min(nwg, 65535), grid = [gx, Math.ceil(nwg / gx)];
        const groups = P.map((p) => gpu.bindGroup(entry, [gpu.buffer(mvParams({ ...p, gridX: gx }), true), s.W, s.X, s.Y]));
        const ms = await timeDispatches(entry, groups, grid, Math.max(iters, s.copies));
        report('matvec', type, `${name} ${rows}x${cols} t${nTok}`, label, ms, s.bytes, 2 * rows * cols * nTok);
    }
}

async function benchMatmul(type, name, rows, cols, s, nTok) {
    const cfg = cref.config(type, rows, cols, nTok, caps);
    const variants = [[cfg.tm, cfg.tn, cfg.bk, 1, ' (cfg)', MM_FILES]]; // tm, tn, bk, splits, tag, files
    if (sweep && type === 'Q4_K') {
        for (const [tm, tn, bk] of [[4, 8, 16], [8, 4, 16], [4, 4, 32]])
            if (!(tm === cfg.tm && tn === cfg.tn && bk === cfg.bk)) variants.push([tm, tn, bk, 1, '', MM_FILES]);
        // the outer-product candidate (kernels/matmul_op.wgsl), with split K for the short matrices
        for (const [tm, tn, bk, sp] of [[8, 8, 16, 1], [8, 8, 32, 1], [4, 8, 32, 1], [8, 4, 32, 1], [8, 8, 16, 2], [8, 8, 16, 3], [4, 8, 32, 2]]) {
            if ((16 * tm + 16 * tn) * bk * 4 > caps.maxWgStorage) continue;
            if (sp > 1 && rows > 4096) continue; // split K is for the short matrices
            variants.push([tm, tn, bk, sp, ' op', OP_FILES]);
        }
    } else if (sweep) {
        for (const [tm, tn, bk] of [[8, 8, 16], [4, 8, 32]]) variants.push([tm, tn, bk, 1, ' op', OP_FILES]);
    }
    for (const [tm, tn, bk, sp, tag, files] of variants) {
        const entry = await gpu.pipeline(cref.wgsl(files, [...gpuDefs(type), `TM=${tm}`, `TN=${tn}`, `BK=${bk}`]), 'urrw');
        const grid = [Math.ceil(rows / (16 * tm)), Math.ceil(nTok / (16 * tn)), sp];
        const kc = sp > 1 ? bk * Math.ceil(cols / sp / bk) : 0;
        const P = s.params(nTok, sp > 1 ? { pad0: kc, pad1: rows * nTok } : {});
        const groups = P.map((p) => gpu.bindGroup(entry, [gpu.buffer(mvParams(p), true), s.W, s.X, s.Y]));
        const ms = await timeDispatches(entry, groups, grid, Math.max(quick ? 2 : 20, Math.min(s.copies, 50)));
        report('matmul', type, `${name} ${rows}x${cols} t${nTok}`, `TM=${tm} TN=${tn} BK=${bk}${sp > 1 ? ` split ${sp}` : ''}${tag}`, ms, s.bytes, 2 * rows * cols * nTok);
    }
}

cref.config = function (type, rows, cols, nTok, c) {
    const out = this.e.alloc(48);
    try {
        this.x.rl_test_matvec_config(TYPES[type].id, rows, cols, nTok, c.maxInvocations, c.maxWgStorage, out);
        const [wg, r, nt, tm, tn, bk, rpt, xs, lc, wvec, steps, chunk] = new Uint32Array(this.e.memory.buffer, out, 12);
        return { wg, rows: r, nt, tm, tn, bk, rpt, xs, lc, wvec, steps, chunk };
    } finally { this.e.free(out); }
};

// Clocks: a GPU that idled runs its first milliseconds of work slowly (the
// first shape of earlier runs was 2-5x off), so keep it busy for about a
// second before timing anything.
async function warmUp() {
    const rows = quick ? 64 : 4096, cols = quick ? 256 : 1536, nTok = quick ? 16 : 512;
    const s = setup('F32', rows, cols, nTok, 1, 0);
    const entry = await gpu.pipeline(cref.wgsl(MM_FILES, ['TYPE_F32', 'TM=4', 'TN=8', 'BK=16']), 'urrw');
    const g = [gpu.bindGroup(entry, [gpu.buffer(mvParams(s.params(nTok)[0]), true), s.W, s.X, s.Y])];
    const t0 = performance.now();
    while (performance.now() - t0 < (quick ? 10 : 1200)) await timeDispatches(entry, g, [Math.ceil(rows / 64), Math.ceil(nTok / 128)], 20);
    s.destroy();
}
await warmUp();

// Matmul shapes: the prefill's big ones; the mat-vec: all of them for Q4_K,
// a few for the other types.
const MM_SHAPES = ['qkv', 'gate/up', 'gate|up', 'gate|up2', 'down', 'down2', 'o'];
const MINOR = ['q', 'down', 'output'];
for (const type of types) {
    if (!TYPES[type]) { console.error(`unknown type ${type}`); process.exit(2); }
    for (const [name, rows, cols] of SHAPES) {
        if (shapeFilter && !shapeFilter.includes(name)) continue;
        const q6 = type === 'Q6_K' || type === 'Q6_KP';
        if (name === 'output' && !q6) continue; // the tied output matrix is Q6_K in Ollama's files
        if (!quick && !shapeFilter && type !== 'Q4_K' && !q6 && !MINOR.includes(name)) continue;
        if (!quick && !shapeFilter && q6 && !['down', 'output'].includes(name)) continue;
        const doMv = kernels !== 'matmul', doMm = kernels !== 'matvec' && (quick || MM_SHAPES.includes(name)) && name !== 'output';
        if (doMv) {
            const s = setup(type, rows, cols, 8);
            for (const nTok of ntList) if (nTok === 1 || name !== 'output') await benchMatvec(type, name, rows, cols, s, nTok);
            s.destroy();
        }
        if (doMm) {
            const s = setup(type, rows, cols, mmTokens, 3, CACHE_BYTES / 4); // compute-bound: fewer copies
            await benchMatmul(type, name, rows, cols, s, mmTokens);
            s.destroy();
        }
        console.log(`# ${type} ${name} done at ${((performance.now() - T0) / 1e3).toFixed(1)} s`);
    }
}
gpu.destroy();
