#!/usr/bin/env node
// Probe: the integer tensor-core matmul with operands loaded straight from storage
// (no workgroup staging, no barriers), for weights kept as two int8 planes of a
// per-row 16-bit integer and activations as three int8 limbs. Times e2b's prefill
// shapes per variant and checks sampled outputs against exact integer sums.
//   node tools/probe-smx-direct.mjs [FRxFCxSGR[:mmas][:tiled], ...]
import { KernelRunner } from '../tests/node/lib/gpu-kernel.mjs';

const t00 = performance.now();
const log = (s) => console.error(`[${((performance.now() - t00) / 1000).toFixed(1)} s] ${s}`);
const gpu = await KernelRunner.open();
if (!gpu.hasSmx) { console.log('no int8 subgroup matrix on this device'); process.exit(0); }
const device = gpu.device;
async function compile(code) {
    try { return { pipe: await gpu.pipeline(code, 'urrrw'), msgs: [] }; } catch (e) { return { pipe: null, msgs: [String(e.message).slice(0, 400)] }; }
}
const buf = (data, uniform = false) => gpu.buffer(data, uniform);
async function readI32(b) { return new Int32Array(await gpu.read(b)); }
async function timeDispatch(pipe, bg, grid, reps) {
    const run = async (n) => {
        const enc = device.createCommandEncoder();
        const pass = enc.beginComputePass();
        pass.setPipeline(pipe.pipe);
        const bgs = Array.isArray(bg) ? bg : [bg];
        for (let i = 0; i < n; i++) { pass.setBindGroup(0, bgs[i % bgs.length]); pass.dispatchWorkgroups(grid[0], grid[1]); }
        pass.end();
        device.queue.submit([enc.finish()]);
        await device.queue.onSubmittedWorkDone();
    };
    await run(2);
    const ms = [];
    for (let k = 0; k < 5; k++) { const t0 = performance.now(); await run(reps); ms.push((performance.now() - t0) / reps); }
    ms.sort((a, b) => a - b);
    return ms[2];
}

// Both kernels' directives and bindings: uniform P, weight limbs WH and WL, limbs XL, sums C
const HEADER = `enable subgroups;
enable chromium_experimental_subgroup_matrix;
diagnostic(off, chromium.subgroup_matrix_uniformity);
struct P { rows: u32, cols: u32, n_tok: u32, xl_tok: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> WH: array<i32>;
@group(0) @binding(2) var<storage, read> WL: array<i32>;
@group(0) @binding(3) var<storage, read> XL: array<i32>;
@group(0) @binding(4) var<storage, read_write> C: array<i32>;
`;

// FR row fragments x FC token fragments per subgroup; SGR subgroups along rows (8 / SGR
// along tokens); mmas 5 (drop l*a2), 6 (all) or 3 (two activation limbs)
function kernel({ FR, FC, SGR, mmas, tiled, cs, rs, xt, pf, pf2 }, rows, cols) {
    const SGC = 8 / SGR;
    const L = 'subgroup_matrix_left<i8, 32, 16>', R = 'subgroup_matrix_right<i8, 16, 32>', RT = 'subgroup_matrix_result<i32, 16, 16>';
    const decl = [], loads = [], mma = [], st = [], names = [];
    for (let i = 0; i < FR; i++) {
        const ao = tiled ? `((r0 + ${16 * i}u) / 16u * nkb + K / 8u) * 128u` : `(r0 + ${16 * i}u) * kw + K`;
        const sa = tiled ? '8u' : 'kw';
        loads.push([`ah${i}`, `subgroupMatrixLoad<${L}, row_major>(&WH, ${ao}, ${sa})`]);
        loads.push([`al${i}`, `subgroupMatrixLoad<${L}, row_major>(&WL, ${ao}, ${sa})`]);
    }
    const nl = mmas === 3 ? 2 : 3;
    for (let j = 0; j < FC; j++) for (let l = 0; l < nl; l++) {
        const xo = xt ? `(((t0 + ${16 * j}u) / 16u * 3u + ${l}u) * nkb + K / 8u) * 128u` : `(t0 + ${16 * j}u) * xl_tok + ${l}u * kw + K`;
        loads.push([`x${j}${l}`, `subgroupMatrixLoad<${R}, col_major>(&XL, ${xo}, ${xt ? '8u' : 'xl_tok'})`]);
    }
    for (let i = 0; i < FR; i++) for (let j = 0; j < FC; j++) {
        for (let a = 0; a < 3; a++) {
            decl.push(`var c${i}${j}${a}: ${RT};`);
            st.push(rs ? `subgroupMatrixStore<row_major>(&C, ${a}u * rows * p.n_tok + (r0 + ${16 * i}u) * p.n_tok + t0 + ${16 * j}u, c${i}${j}${a}, p.n_tok);`
                : `subgroupMatrixStore<col_major>(&C, ${a}u * rows * p.n_tok + (t0 + ${16 * j}u) * rows + r0 + ${16 * i}u, c${i}${j}${a}, rows);`);
        }
        const m = (a, x, c) => mma.push(`c${i}${j}${c} = subgroupMatrixMultiplyAccumulate(${a}${i}, x${j}${x}, c${i}${j}${c});`);
        if (mmas === 3) { m('ah', 0, 2); m('ah', 1, 1); m('al', 0, 1); }
        else { m('ah', 0, 2); m('ah', 1, 1); m('al', 0, 1); m('ah', 2, 0); m('al', 1, 0); if (mmas === 6) m('al', 2, 0); }
    }
    let body;
    if (pf2) { // two blocks ahead
        for (const [n, e] of loads) decl.push(`var ${n} = ${e.replaceAll('K', '0u')};`, `var m_${n} = ${e.replaceAll('K', 'min(8u, kw - 8u)')};`);
        body = [...loads.map(([n, e]) => `let n_${n} = ${e.replaceAll('K', 'kn')};`), ...mma, ...loads.map(([n]) => `${n} = m_${n}; m_${n} = n_${n};`)];
        body.unshift('let kn = min(k + 16u, kw - 8u);');
    } else if (pf) {
        for (const [n, e] of loads) decl.push(`var ${n} = ${e.replaceAll('K', '0u')};`);
        body = [...loads.map(([n, e]) => `let n_${n} = ${e.replaceAll('K', 'kn')};`), ...mma, ...loads.map(([n]) => `${n} = n_${n};`)];
        body.unshift('let kn = min(k + 8u, kw - 8u);');
    } else {
        body = [...loads.map(([n, e]) => `let ${n} = ${e.replaceAll('K', 'k')};`), ...mma];
    }
    return `${HEADER}@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_id) sg: u32) {
    let r0 = wid.y * ${SGR * FR * 16}u + (sg / ${SGC}u) * ${FR * 16}u;
    let t0 = wid.x * ${SGC * FC * 16}u + (sg % ${SGC}u) * ${FC * 16}u;
    let kw = ${cs ? `${cols / 4}u` : 'p.cols / 4u'};
    let nkb = ${cs ? `${cols / 32}u` : 'p.cols / 32u'};
    let xl_tok = ${cs ? `${3 * cols / 4}u` : 'p.xl_tok'};
    let rows = ${cs ? `${rows}u` : 'p.rows'};
    ${decl.join('\n    ')}
    for (var k = 0u; k < kw; k += 8u) {
        ${body.join('\n        ')}
    }
    ${st.join('\n    ')}
}`;
}


// The same products with the workgroup's activation fragments staged through
// workgroup memory, KS blocks a stage, double-buffered, one barrier a stage
// (tiled layouts, FR = FC = 2, SGR = 4, 5 products)
function kernelXS({ KS, ST }, rows, cols) {
    const L = 'subgroup_matrix_left<i8, 32, 16>', R = 'subgroup_matrix_right<i8, 16, 32>', RT = 'subgroup_matrix_result<i32, 16, 16>';
    const nkb = cols / 32, XW = 4 * 3 * 128, PER = KS * XW / 256, FW = 16 * ST, SW = 12 * FW; // staged: fragment FW words, token ST words, block SW
    const decl = [], aload = [], mma = [], st = [];
    for (let i = 0; i < 2; i++) {
        const ao = `((r0 + ${16 * i}u) / 16u * ${nkb}u + K) * 128u`;
        aload.push([`ah${i}`, `subgroupMatrixLoad<${L}, row_major>(&WH, ${ao}, 8u)`]);
        aload.push([`al${i}`, `subgroupMatrixLoad<${L}, row_major>(&WL, ${ao}, 8u)`]);
    }
    const xl = [];
    for (let j = 0; j < 2; j++) for (let l = 0; l < 3; l++)
        xl.push(`let x${j}${l} = subgroupMatrixLoad<${R}, col_major>(&xs, xb + ${((j) * 3 + l) * FW}u + tgw, ${ST}u);`);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) {
        for (let a = 0; a < 3; a++) {
            decl.push(`var c${i}${j}${a}: ${RT};`);
            st.push(`subgroupMatrixStore<row_major>(&C, ${a}u * ${rows}u * p.n_tok + (r0 + ${16 * i}u) * p.n_tok + t0 + ${16 * j}u, c${i}${j}${a}, p.n_tok);`);
        }
        const m = (a, x, c) => mma.push(`c${i}${j}${c} = subgroupMatrixMultiplyAccumulate(${a}${i}, x${j}${x}, c${i}${j}${c});`);
        m('ah', 0, 2); m('ah', 1, 1); m('al', 0, 1); m('ah', 2, 0); m('al', 1, 0);
    }
    for (const [n, e] of aload) decl.push(`var ${n} = ${e.replaceAll('K', '0u')};`);
    return `${HEADER}var<workgroup> xs: array<i32, ${2 * KS * SW}>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_id) sg: u32, @builtin(local_invocation_index) li: u32) {
    let r0 = wid.y * 128u + (sg / 2u) * 32u;
    let t0 = wid.x * 64u + (sg % 2u) * 32u;
    let tg0 = wid.x * 4u;             // the workgroup's first token group
    let tgw = (sg % 2u) * ${6 * FW}u;  // this subgroup's token groups within a staged block
    // staged word of thread-word idx: block idx / XW, fragment w / 128, token (w % 128) / 8, word w % 8
    let sw0 = 0u;
    var xr: array<i32, ${PER}>;
    for (var i = 0u; i < ${PER}u; i++) {
        let idx = li + 256u * i;
        let w = idx % ${XW}u;
        xr[i] = XL[((tg0 * 3u + w / 128u) * ${nkb}u + idx / ${XW}u) * 128u + w % 128u];
    }
    for (var i = 0u; i < ${PER}u; i++) { let idx = li + 256u * i; let w = idx % ${XW}u; xs[(idx / ${XW}u) * ${SW}u + (w / 128u) * ${FW}u + ((w % 128u) / 8u) * ${ST}u + w % 8u] = xr[i]; }
    workgroupBarrier();
    ${decl.join('\n    ')}
    for (var s = 0u; s < ${nkb / KS}u; s++) {
        if (s + 1u < ${nkb / KS}u) {
            for (var i = 0u; i < ${PER}u; i++) {
                let idx = li + 256u * i;
                let w = idx % ${XW}u;
                xr[i] = XL[((tg0 * 3u + w / 128u) * ${nkb}u + (s + 1u) * ${KS}u + idx / ${XW}u) * 128u + w % 128u];
            }
        }
        for (var bi = 0u; bi < ${KS}u; bi++) {
            let b = s * ${KS}u + bi;
            let kn = min(b + 1u, ${nkb - 1}u);
            ${aload.map(([n, e]) => `let n_${n} = ${e.replaceAll('K', 'kn')};`).join('\n            ')}
            let xb = ((s % 2u) * ${KS}u + bi) * ${SW}u;
            ${xl.join('\n            ')}
            ${mma.join('\n            ')}
            ${aload.map(([n]) => `${n} = n_${n};`).join(' ')}
        }
        if (s + 1u < ${nkb / KS}u) {
            for (var i = 0u; i < ${PER}u; i++) { let idx = li + 256u * i; let w = idx % ${XW}u; xs[((s + 1u) % 2u) * ${KS * SW}u + (idx / ${XW}u) * ${SW}u + (w / 128u) * ${FW}u + ((w % 128u) / 8u) * ${ST}u + w % 8u] = xr[i]; }
        }
        workgroupBarrier();
    }
    ${st.join('\n    ')}
}`;
}

let seed = 12345;
const rnd8 = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 13) % 256 - 128; };
const T = 512;
const only = process.argv[3] ? process.argv[3].split(',') : null;
const shapes = [['qkv', 2560, 1536], ['attn_out', 1536, 2048], ['gate|up', 12288, 1536], ['down', 1536, 6144]];
const variants = (process.argv[2] || '2x2x2,2x2x4,1x2x4,2x1x4,2x2x2:6,2x2x2:3,2x2x2:5:tiled').split(',').map((s) => {
    if (s.startsWith('xs')) return { name: s, xs: Number(s.slice(2, 3)), st: s.endsWith('p') ? 12 : 8, FR: 2, FC: 2, SGR: 4, mmas: 5, tiled: true, xt: true, rs: true };
    const [shape, ...opt] = s.split(':');
    const [FR, FC, SGR] = shape.split('x').map(Number);
    return { name: s, FR, FC, SGR, mmas: Number(opt.find((o) => /^\d$/.test(o)) ?? 5), tiled: opt.includes('tiled'), cs: opt.includes('cs'), rs: opt.includes('rs'), xt: opt.includes('xt'), pf: opt.includes('pf'), pf2: opt.includes('pf2'), cold: opt.includes('cold') };
});
for (const [name, rows, cols] of shapes.filter(([n]) => !only || only.includes(n))) {
    const pipes = new Map();
    for (const v of variants) {
        if (process.env.PROBE_WGSL) (await import('node:fs')).writeFileSync(`${process.env.PROBE_WGSL}/${v.name.replace(/:/g, '_')}.wgsl`, v.xs ? kernelXS({ KS: v.xs, ST: v.st }, rows, cols) : kernel(v, rows, cols));
        log(`${name} ${v.name}: compiling`);
        const c = await compile(v.xs ? kernelXS({ KS: v.xs, ST: v.st }, rows, cols) : kernel(v, rows, cols));
        console.log(`${name} ${v.name}: ${c.pipe ? 'compiles' : c.msgs.join(' | ')}`);
        pipes.set(v, c);
    }
    if (process.env.PROBE_COMPILE_ONLY) continue;
    const wh = new Int8Array(rows * cols), wl = new Int8Array(rows * cols), xl = new Int8Array(T * 3 * cols);
    for (let i = 0; i < wh.length; i++) { wh[i] = rnd8(); wl[i] = rnd8(); }
    for (let i = 0; i < xl.length; i++) xl[i] = rnd8();
    const tile = (w) => { // 16 rows x 32 bytes contiguous per (row group, block)
        const o = new Int8Array(w.length), nkb = cols / 32;
        for (let r = 0; r < rows; r++) for (let b = 0; b < nkb; b++) for (let c = 0; c < 32; c++)
            o[((r >> 4) * nkb + b) * 512 + (r & 15) * 32 + c] = w[r * cols + 32 * b + c];
        return o;
    };
    log(`${name}: data made`);
    const plain = [buf(new Int32Array(wh.buffer)), buf(new Int32Array(wl.buffer))];
    let tiledB = null;
    const bX = buf(new Int32Array(xl.buffer));
    let bXt = null;
    const tileX = () => { // token group g, limb l, block b: 16 tokens x 32 bytes contiguous
        const o = new Int8Array(xl.length), nkb = cols / 32;
        for (let t = 0; t < T; t++) for (let l = 0; l < 3; l++) for (let k = 0; k < cols; k++)
            o[(((t >> 4) * 3 + l) * nkb + (k >> 5)) * 512 + (t & 15) * 32 + (k & 31)] = xl[t * 3 * cols + l * cols + k];
        return o;
    };
    const bC = buf(3 * rows * T * 4);
    const bP = buf(new Uint32Array([rows, cols, T, 3 * cols / 4]), true);
    for (const v of variants) {
        const BM = v.SGR * v.FR * 16, BN = (8 / v.SGR) * v.FC * 16;
        if (rows % BM || T % BN) { console.log(`${name} ${v.name}: tile ${BM}x${BN} does not divide`); continue; }
        const { pipe, msgs } = pipes.get(v);
        if (!pipe) { console.log(`${name} ${v.name}: compile failed: ${msgs.slice(0, 3).join(' | ')}`); continue; }
        if (v.tiled && !tiledB) tiledB = [buf(new Int32Array(tile(wh).buffer)), buf(new Int32Array(tile(wl).buffer))];
        const [bH, bL] = v.tiled ? tiledB : plain;
        if (v.xt && !bXt) bXt = buf(new Int32Array(tileX().buffer));
        let bg = gpu.bindGroup(pipe, [bP, bH, bL, v.xt ? bXt : bX, bC]);
        if (v.cold) { // rotate through copies of the weights (256 MB and more), so each product reads them from memory
            const copies = Math.max(2, Math.ceil(256e6 / (4 * rows * cols)));
            const src = v.tiled ? tiledB : plain;
            bg = [bg];
            for (let c = 1; c < copies; c++) {
                const h = gpu.buffer(rows * cols), l = gpu.buffer(rows * cols);
                const enc = device.createCommandEncoder();
                enc.copyBufferToBuffer(src[0], 0, h, 0, rows * cols);
                enc.copyBufferToBuffer(src[1], 0, l, 0, rows * cols);
                device.queue.submit([enc.finish()]);
                bg.push(gpu.bindGroup(pipe, [bP, h, l, v.xt ? bXt : bX, bC]));
            }
        }
        const grid = [T / BN, rows / BM];
        log(`${name} ${v.name}: bound`);
        await timeDispatch(pipe, bg, grid, 0);
        log(`${name} ${v.name}: first runs done`);
        const ms = await timeDispatch(pipe, bg, grid, 20);
        log(`${name} ${v.name}: timed`);
        const got = await readI32(bC);
        let bad = 0;
        for (let s = 0; s < 300; s++) {
            const r = (rnd8() + 128) * 977 % rows, t = (rnd8() + 128) * 131 % T;
            const acc = [0, 0, 0];
            for (let k = 0; k < cols; k++) {
                const h = wh[r * cols + k], l = wl[r * cols + k];
                const x0 = xl[t * 3 * cols + k], x1 = xl[t * 3 * cols + cols + k], x2 = xl[t * 3 * cols + 2 * cols + k];
                acc[2] += h * x0; acc[1] += h * x1 + l * x0;
                if (v.mmas !== 3) acc[0] += h * x2 + l * x1 + (v.mmas === 6 ? l * x2 : 0);
            }
            for (let a = 0; a < 3; a++) if (got[a * rows * T + (v.rs ? r * T + t : t * rows + r)] !== acc[a]) bad++;
        }
        const macs = rows * cols * T;
        console.log(`${name} ${rows}x${cols} ${v.name}: ${(ms * 1000).toFixed(1)} us, ${(2 * macs * v.mmas / ms / 1e9).toFixed(0)} int8 TOPS, ` +
            `${(2 * macs / ms / 1e9).toFixed(1)} effective TFLOP/s${bad ? `, ${bad} WRONG of 900` : ', exact'}`);
    }
}
process.exit(0);
