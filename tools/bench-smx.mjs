#!/usr/bin/env node
// The prefill matmul on integer tensor cores (act_limbs + matmul_smx) against the
// f32 tiled matmul, on e2b's shapes with 512 tokens: time per product (median of
// timed batches) and the largest difference between the two, relative to the
// output's magnitude. Needs a device with chromium-experimental-subgroup-matrix.
//   node tools/bench-smx.mjs [variants, e.g. 2x1,2x2]
import { CRef, KernelRunner, params, rowBytes, mvParams } from '../tests/node/lib/gpu-kernel.mjs';

const cref = await CRef.load();
const gpu = await KernelRunner.open();
if (!gpu.hasSmx) { console.log('no int8 subgroup matrix on this device'); process.exit(0); }
// variants: FRxKC[+DEFINE...] (rows fragments per subgroup, blocks per stage), e.g. 2x4
const variants = (process.argv[2] || '2x4,2x2').split(',').map((v) => { const [f, ...d] = v.split('+'); return [...f.split('x').map(Number), d]; });
const only = process.argv[3] ? new RegExp(process.argv[3]) : null;
let seed = 12345;
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const randn = (n) => { const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd()); return a; };
const T = 512;
const shapes = [['qkv', 'Q4_K', 2560, 1536], ['attn_out', 'Q4_K', 1536, 2048], ['gate|up', 'Q4_K', 12288, 1536], ['down', 'Q6_K', 1536, 6144], ['down', 'Q4_K', 1536, 6144]];

async function time(fn, reps = 20) {
    const ms = [];
    for (let k = 0; k < 5; k++) {
        const t0 = performance.now();
        fn(reps);
        await gpu.device.queue.onSubmittedWorkDone();
        ms.push((performance.now() - t0) / reps);
    }
    ms.sort((a, b) => a - b);
    return ms[2];
}
function encode(list, reps) { // list: [entry, bindGroup, grid]
    const enc = gpu.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    for (let r = 0; r < reps; r++) for (const [e, bg, g] of list) { pass.setPipeline(e.pipe); pass.setBindGroup(0, bg); pass.dispatchWorkgroups(g[0], g[1] ?? 1, g[2] ?? 1); }
    pass.end();
    gpu.device.queue.submit([enc.finish()]);
}

for (const [name, type, rows, cols] of shapes) {
    if (only && !only.test(`${name} ${type}`)) continue;
    const mat = cref.quantize(type, randn(rows * cols));
    const X = randn(T * cols);
    const wb = gpu.buffer(mat), xb = gpu.buffer(X);
    // f32 tiled matmul, the planner's tile (4 x 8, K 32)
    const mm = await gpu.pipeline(cref.wgsl(['quant.wgsl', 'weight_op.wgsl', 'tile_fetch.wgsl', 'matmul.wgsl'], [`TYPE_${type}`, 'TM=4u', 'TN=8u', 'BK=32u']), 'urrw');
    const yf = gpu.buffer(rows * T * 4);
    const mp = gpu.buffer(mvParams({ rows, cols, nTok: T, wOff: 0, xOff: 0, xStride: cols, yOff: 0, yStride: rows }), true);
    const mmList = [[mm, gpu.bindGroup(mm, [mp, wb, xb, yf]), [Math.ceil(rows / 64), Math.ceil(T / 128)]]];
    const tf = await time((n) => encode(mmList, n));
    const ref = new Float32Array(await gpu.read(yf));
    let mag = 0;
    for (const v of ref) mag = Math.max(mag, Math.abs(v));
    const line = [`${name} ${type} ${rows}x${cols}: f32 ${tf.toFixed(3)} ms (${(2 * rows * cols * T / tf / 1e9).toFixed(1)} TFLOP/s)`];
    for (const [fr, kc, extra] of variants) {
        const BN = 64, tPad = Math.ceil(T / BN) * BN, nb = cols / 32, xlTok = 3 * cols / 4;
        const xl = gpu.buffer(tPad * xlTok * 4), xf = gpu.buffer((tPad + tPad * nb) * 4), ys = gpu.buffer(rows * T * 4);
        const limbs = await gpu.pipeline(gpu.limbsSource(cref), 'urww');
        const lp = gpu.buffer(params([cols, T, 0, cols, xlTok, 0, tPad, nb]), true);
        let smx;
        try { smx = await gpu.pipeline(cref.wgsl(['quant.wgsl', 'matmul_smx.wgsl'], [`TYPE_${type}`, ...(fr === 2 ? ['FR2'] : []), `KC=${kc}u`, 'WVEC', ...extra, 'SMX_HW']), 'urrrw'); } catch (e) { line.push(`${fr}x${kc}: ${String(e.message).slice(0, 300)}`); continue; }
        const sp = gpu.buffer(params([rows, cols, T, 0, 0, rows, xlTok, 0, tPad, nb, 0, 0], [10]), true);
        const lList = [[limbs, gpu.bindGroup(limbs, [lp, xb, xl, xf]), [T]]];
        const sList = [[smx, gpu.bindGroup(smx, [sp, wb, xl, xf, ys]), [Math.ceil(rows / (32 * fr)), tPad / BN]]];
        const tl = await time((n) => encode(lList, n));
        const ts = await time((n) => encode(sList, n));
        const got = new Float32Array(await gpu.read(ys));
        let d = 0;
        for (let i = 0; i < got.length; i++) d = Math.max(d, Math.abs(got[i] - ref[i]));
        line.push(`smx ${fr}x${kc}${extra.map((d) => '+' + d).join('')} ${ts.toFixed(3)} ms + limbs ${tl.toFixed(3)} ms (${(tf / (ts + tl)).toFixed(2)}x f32), max |smx - f32| / max |y| = ${(d / mag).toExponential(2)}`);
        [xl, xf, ys, lp, sp].forEach((b) => b.destroy());
    }
    console.log(line.join('\n    '));
    [wb, xb, yf, mp].forEach((b) => b.destroy());
}
process.exit(0);
