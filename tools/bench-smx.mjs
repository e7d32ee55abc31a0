#!/usr/bin/env node
// The prefill matmul on integer tensor cores (smx_pack once, then act_limbs +
// matmul_smx per product) against the f32 tiled matmul, on e2b's shapes with 512
// tokens: time per product (median of timed batches; K split into `slices`), and
// the largest difference between the two relative to the output's magnitude.
// Needs a device with chromium-experimental-subgroup-matrix.
//   node tools/bench-smx.mjs [slices,...] [shape filter] [--ablate]
//
// --ablate: where matmul_smx's time goes. The same product with one part of the
// kernel taken away at a time, by editing the assembled WGSL (the outputs are then
// wrong; only the times mean something): `noW` reuses the first weight fragments
// instead of loading each block's, `noStage` skips the activation staging's loads
// and stores, `noBar` drops the stage barrier, `fewMMA` keeps 13 of the 20 products
// a block (every loaded fragment still used), `noOut` skips the output stores,
// `noW+noStage` both, and `wSm` loads the weight fragments from workgroup memory
// instead of storage. docs/NOTES.md (ninth session) says what they showed.
import { CRef, KernelRunner, params, mvParams } from '../tests/node/lib/gpu-kernel.mjs';

const cref = await CRef.load();
const gpu = await KernelRunner.open();
if (!gpu.hasSmx) { console.log('no int8 subgroup matrix on this device'); process.exit(0); }
const args = process.argv.slice(2).filter((a) => a !== '--ablate');
const ablate = process.argv.includes('--ablate');
const sliceList = (args[0] || '1,2,4').split(',').map(Number);
const only = args[1] ? new RegExp(args[1]) : null;
let seed = 12345;
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const randn = (n) => { const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd()); return a; };
const T = 512;
const shapes = [['qkv', 'Q4_K', 2560, 1536], ['attn_out', 'Q4_K', 1536, 2048], ['gate|up', 'Q4_K', 24576, 1536], ['gate|up', 'Q4_K', 12288, 1536],
    ['down', 'Q4_K', 1536, 12288], ['down', 'Q6_K', 1536, 6144], ['ple_gate', 'Q4_K', 256, 1536], ['ple_proj', 'Q4_K', 1536, 256]];
// the engine's staging where 36 KiB of workgroup memory allow it (src/gpu/engine.c smx_plan)
const SMX_DEFS = ['KS=2u', 'ST=12u', 'SMX_HW'];

async function time(list, reps = 20) {
    const ms = [];
    for (let k = 0; k < 5; k++) {
        const t0 = performance.now();
        const enc = gpu.device.createCommandEncoder();
        const pass = enc.beginComputePass();
        for (let r = 0; r < reps; r++) for (const [e, bg, g] of list) { pass.setPipeline(e.pipe); pass.setBindGroup(0, bg); pass.dispatchWorkgroups(g[0], g[1] ?? 1, g[2] ?? 1); }
        pass.end();
        gpu.device.queue.submit([enc.finish()]);
        await gpu.device.queue.onSubmittedWorkDone();
        ms.push((performance.now() - t0) / reps);
    }
    ms.sort((a, b) => a - b);
    return ms[2];
}

// matmul_smx.wgsl as assembled, with one part taken away (--ablate); throws when the
// kernel no longer has the text an edit looks for
function ablated(src, what) {
    let s = src;
    const edit = (re, to) => {
        if (!re.test(s)) throw new Error(`--ablate ${what}: matmul_smx.wgsl no longer matches ${re}`);
        s = s.replace(re, to);
    };
    if (what.includes('noBar')) edit(/(if \(more\) \{ stash\(next, li, 1u - buf\); \}\s*)workgroupBarrier\(\);/g, '$1');
    if (what.includes('noW')) {
        edit(/let nah = subgroupMatrixLoad[^;]*;/g, 'let nah = ah;');
        edit(/let nal = subgroupMatrixLoad[^;]*;/g, 'let nal = al;');
    }
    if (what.includes('noStage')) {
        edit(/if \(more\) \{ next = fetch\(li, tg0, s0 \+ KS, kb1\); \}/g, '');
        edit(/if \(more\) \{ stash\(next, li, 1u - buf\); \}/g, '');
    }
    if (what.includes('fewMMA')) {
        let k = 0;
        edit(/\n\s*c\d\d = subgroupMatrixMultiplyAccumulate\(al, x\d\d, c\d\d\);/g, (m) => (k++ === 0 ? m : ''));
    }
    if (what.includes('wSm')) { // the weight fragments from workgroup memory (wrong values) instead of storage
        edit(/let nah = subgroupMatrixLoad<([^>]*>), row_major>\(&P, a0 \+ bn \* 256u, 8u\);/g, 'let nah = subgroupMatrixLoad<$1, row_major>(&sm, (sg * 256u + bn * 8u) % 4096u, 8u);');
        edit(/let nal = subgroupMatrixLoad<([^>]*>), row_major>\(&P, a0 \+ bn \* 256u \+ 128u, 8u\);/g, 'let nal = subgroupMatrixLoad<$1, row_major>(&sm, (sg * 256u + 128u + bn * 8u) % 4096u, 8u);');
    }
    if (what.includes('noOut')) edit(/Y\[yz \+ t \* p\.y_stride \+ r\] = y;/g, 'if (y == 12345.678) { Y[yz + t * p.y_stride + r] = y; }');
    return s;
}

const sg = gpu.hasSubgroups ? ['SUBGROUPS', 'SGMIN=4u'] : [];
for (const [name, type, rows, cols] of shapes) {
    if (only && !only.test(`${name} ${type} ${rows}x${cols}`)) continue;
    const mat = cref.quantize(type, randn(rows * cols));
    const X = randn(T * cols);
    const wb = gpu.buffer(mat), xb = gpu.buffer(X);
    const nb = cols / 32, scaleOff = rows * cols / 2;
    // pack once (tiles, then scales), limbs, product
    const pack = await gpu.pipeline(cref.wgsl(['common.wgsl', 'reduce.wgsl', 'quant.wgsl', 'smx_pack.wgsl'], [`TYPE_${type}`, 'NO_PAD', 'WG=256u', ...sg]), 'urw');
    const pb = gpu.buffer(rows * cols * 2 + rows * 4), pp = gpu.buffer(params([rows, cols, 0, 0, scaleOff, rows, 0, 0]), true);
    gpu.dispatch(pack, gpu.bindGroup(pack, [pp, wb, pb]), [rows, 1]);
    const xl = gpu.buffer(T * 3 * cols), xf = gpu.buffer(T * 4);
    const limbs = await gpu.pipeline(gpu.limbsSource(cref), 'urww');
    const lp = gpu.buffer(params([cols, T, 0, cols, 0, nb, 0, 0]), true);
    const tl = await time([[limbs, gpu.bindGroup(limbs, [lp, xb, xl, xf]), [T]]]);
    const ys = gpu.buffer(rows * T * 4);
    const whole = gpu.buffer(params([rows, cols, T, 0, scaleOff, 0, rows, 0, nb, 0, nb, 0], [9]), true);
    const grid = [T / 64, Math.ceil(rows / 128), 1];
    const src = cref.wgsl(['matmul_smx.wgsl', 'limbs.wgsl'], SMX_DEFS); // NL from limbs.wgsl, after the directives
    if (ablate) {
        const line = [];
        // the GPU's clocks rise over the first batches: untimed runs first, the base again at the end
        const warm = await gpu.pipeline(src, 'urrrw');
        for (let i = 0; i < 3; i++) await time([[warm, gpu.bindGroup(warm, [whole, pb, xl, xf, ys]), grid]]);
        for (const what of ['base', 'noW', 'wSm', 'noStage', 'noBar', 'fewMMA', 'noOut', 'noW+noStage', 'base']) {
            const e = await gpu.pipeline(what === 'base' ? src : ablated(src, what), 'urrrw');
            line.push(`${what} ${((await time([[e, gpu.bindGroup(e, [whole, pb, xl, xf, ys]), grid]])) * 1000).toFixed(0)} us`);
        }
        console.log(`${name} ${type} ${rows}x${cols}, ${T} tokens: ${line.join(' | ')}`);
        [wb, xb, pb, pp, xl, xf, lp, ys, whole].forEach((b) => b.destroy());
        continue;
    }
    const mm = await gpu.pipeline(cref.wgsl(['quant.wgsl', 'weight_op.wgsl', 'tile_fetch.wgsl', 'matmul.wgsl'], [`TYPE_${type}`, 'NO_PAD', 'TM=4u', 'TN=8u', 'BK=32u']), 'urrw');
    const yf = gpu.buffer(rows * T * 4);
    const mp = gpu.buffer(mvParams({ rows, cols, nTok: T, wOff: 0, xOff: 0, xStride: cols, yOff: 0, yStride: rows }), true);
    const tf = await time([[mm, gpu.bindGroup(mm, [mp, wb, xb, yf]), [Math.ceil(rows / 64), Math.ceil(T / 128)]]]);
    const ref = new Float32Array(await gpu.read(yf));
    let mag = 0;
    for (const v of ref) mag = Math.max(mag, Math.abs(v));
    const line = [`${name} ${type} ${rows}x${cols}: f32 ${(tf * 1000).toFixed(0)} us (${(2 * rows * cols * T / tf / 1e9).toFixed(1)} TFLOP/s)`];
    const smx = await gpu.pipeline(src, 'urrrw');
    const sum = await gpu.pipeline(cref.wgsl(['split_sum.wgsl'], ['WG=256u']), 'urw');
    for (const want of sliceList) {
        const kbPer = Math.ceil(nb / want), slices = Math.ceil(nb / kbPer), part = rows * T;
        const parts = gpu.buffer(slices * part * 4);
        const sp = slices > 1 ? gpu.buffer(params([rows, cols, T, 0, scaleOff, 0, rows, 0, nb, 0, kbPer, part], [9]), true) : whole;
        const list = [[smx, gpu.bindGroup(smx, [sp, pb, xl, xf, slices > 1 ? parts : ys]), [T / 64, Math.ceil(rows / 128), slices]]];
        if (slices > 1) list.push([sum, gpu.bindGroup(sum, [gpu.buffer(params([rows, T, slices, part, 0, rows, 0, 0], [6]), true), parts, ys]), [Math.ceil(rows / 256), T]]);
        const ts = await time(list);
        const got = new Float32Array(await gpu.read(ys));
        let d = 0;
        for (let i = 0; i < got.length; i++) d = Math.max(d, Math.abs(got[i] - ref[i]));
        line.push(`smx, K in ${slices}: ${(ts * 1000).toFixed(0)} us + limbs ${(tl * 1000).toFixed(0)} us (${(tf / (ts + tl)).toFixed(2)}x f32), max |smx - f32| / max |y| = ${(d / mag).toExponential(2)}`);
        parts.destroy();
        if (sp !== whole) sp.destroy();
    }
    console.log(line.join('\n    '));
    [wb, xb, yf, mp, pb, pp, xl, xf, lp, ys, whole].forEach((b) => b.destroy());
}
process.exit(0);
