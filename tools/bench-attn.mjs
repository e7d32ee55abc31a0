#!/usr/bin/env node
// Micro-benchmark of the prefill attention kernel (kernels/attention_tiled.wgsl,
// or any file with its bindings and Params) on e2b's shapes: 8 query heads, one
// KV head, head dim 256 with a 512-key sliding window (28 of e2b's 35 layers)
// and head dim 512 without one (the other 7), T tokens from position 0. Each
// kernel runs in the variant and grid src/gpu/record.c would pick on this
// device (tiled_config, attention_plan), is checked once against a direct
// softmax on a sample of tokens, then timed: microseconds per dispatch, by GPU
// timestamps where the device has them, else by wall clock. The attn_combine
// pass that merges split-K partials is timed apart ("+ combine").
//
//   node tools/bench-attn.mjs [--kernel a.wgsl[,b.wgsl...]] [--tokens 128,512,2048]
//                             [--reps N] [--quick]
//
// Several kernels are timed shape by shape, alternating, so they see the same
// clocks: `--kernel bench/attn_old.wgsl,kernels/attention_tiled.wgsl`.
// A kernel that declares BK itself (BK = 16 WG / R, this tree's kernel) gets
// record.c's current variants; one that takes BK as a define gets those of the
// kernel it replaced (commit f473df9). Other variants of such a kernel:
// `path:r256=32` (R for head dim 256), `path:sd=16` (slice width), e.g.
// `--kernel kernels/attention_tiled.wgsl,kernels/attention_tiled.wgsl:r256=32`.
// --quick: 64 tokens, few repetitions (SwiftShader).
import fs from 'node:fs';
import { CRef, KernelRunner, params } from '../tests/node/lib/gpu-kernel.mjs';

const args = process.argv.slice(2);
const flag = (n) => args.includes(n);
const opt = (n, d) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const quick = flag('--quick');
const kernels = opt('--kernel', 'kernels/attention_tiled.wgsl').split(',');
const tokens = opt('--tokens', quick ? '64' : '128,512,2048').split(',').map(Number);
const reps = Number(opt('--reps', quick ? 2 : 50));
const WG = 256, TARGET_WG = 256, MAX_HD = 512, TILED_SPLITS = 4, COMBINE_DIRECT_MAXS = 16; // src/gpu/engine_internal.h

const cref = await CRef.load();
const gpu = await KernelRunner.open();
const dev = gpu.device, caps = gpu.rt.caps();
const hasTs = gpu.rt.features.has('timestamp-query');
const sg = caps.hasSubgroups ? ['SUBGROUPS', `SGMIN=${Math.max(4, caps.subgroupMin)}u`] : [];
console.log(`device: ${caps.description}; workgroup memory ${caps.maxWgStorage}; timestamps ${hasTs ? 'yes' : 'no (wall clock)'}`);

// The kernel's WGSL as rl_wgsl_build makes it: consts from the defines, common.wgsl and
// attn_io.wgsl, then the file (its #ifdef lines resolved, directives moved first).
function source(path, defines) {
    const names = new Set(defines.map((d) => d.split('=')[0]));
    const keep = [], dirs = [], stack = [];
    for (const line of fs.readFileSync(path, 'utf8').split('\n')) {
        const t = line.trim(), on = stack.every(Boolean);
        if (t.startsWith('#ifdef ') || t.startsWith('#ifndef ')) stack.push(names.has(t.split(/\s+/)[1]) === t.startsWith('#ifdef '));
        else if (t === '#else') stack.push(!stack.pop());
        else if (t === '#endif') stack.pop();
        else if (on && /^(enable|requires|diagnostic)\b/.test(t)) dirs.push(line);
        else if (on) keep.push(line);
    }
    return dirs.join('\n') + '\n' + cref.wgsl(['common.wgsl', 'attn_io.wgsl'], defines) + '\n' + keep.join('\n');
}

// The variant record.c picks: R rows, BK keys, SD dims per slice (spec: path[:r256=N][:sd=N]).
function variant(spec, hd) {
    const [path, ...kv] = spec.split(':'), o = Object.fromEntries(kv.map((x) => x.split('=')).map(([k, v]) => [k, Number(v)]));
    const mem = caps.maxWgStorage, r = hd >= 512 ? 32 : hd === 256 && o.r256 ? o.r256 : 64;
    if (/\bconst\s+BK\b/.test(fs.readFileSync(path, 'utf8'))) {
        const bk = 16 * WG / r;
        for (const sd of o.sd ? [o.sd] : [32, 16, 8]) {
            const bytes = 16 * (r + bk) * (sd / 4 + 1) + 16 * bk * (r / 4 + 1) + 16 * (bk / 4) * (r / 4 + 1) + 4 * bk + 4 * r;
            if (bytes <= mem) return { r, bk, sd, defs: [`WG=${WG}u`, `R=${r}u`, `SD=${sd}u`, `HD=${hd}u`] };
        }
    } else {
        for (const [bk, sd] of [[64, 64], [32, 64], [32, 32]]) {
            const bytes = 16 * (r + bk) * (sd / 4 + 1) + 4 * bk + 16 * r + 8 * WG;
            if (bytes <= mem) return { r, bk, sd, defs: [`WG=${WG}u`, `R=${r}u`, `BK=${bk}u`, `SD=${sd}u`, `HD=${hd}u`] };
        }
    }
    throw new Error(`${spec}: no variant fits ${mem} bytes of workgroup memory for head dim ${hd}`);
}

// attention_plan's key splits for a pass of T tokens from position 0 (ubatch = T)
function splits(v, T, H, kvh, win) {
    const group = H / kvh, bq = Math.floor(v.r / group), perPass = Math.ceil(T / bq) * kvh, last = T - 1;
    const maxKeys = win && last + 1 > win + bq - 1 ? win + bq - 1 : last + 1;
    const slots = Math.max(TARGET_WG + T, TILED_SPLITS * T), hd = Number(v.defs.find((d) => d.startsWith('HD=')).slice(3, -1));
    const byBuf = Math.floor(slots * (MAX_HD + 2) / (T * (hd + 2)));
    return { n: Math.max(1, Math.min(Math.ceil(TARGET_WG / perPass), Math.ceil(maxKeys / v.bk), byBuf)), perPass };
}

let seed = 0x2545f491;
const rand = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 4294967296; };

// direct softmax for token t, all heads (f64)
function refToken({ q, K, V, H, kvh, hd, cap, win, qStride }, t, out) {
    const G = H / kvh, lo = win && t + 1 > win ? t + 1 - win : 0;
    for (let h = 0; h < H; h++) {
        const qb = t * qStride + h * hd, kb = Math.floor(h / G) * hd, s = [];
        for (let k = lo; k <= t; k++) {
            let d = 0;
            for (let i = 0; i < hd; i++) d += q[qb + i] * K[(k % cap) * kvh * hd + kb + i];
            s.push(d);
        }
        const m = Math.max(...s), w = s.map((x) => Math.exp(x - m)), z = w.reduce((a, b) => a + b, 0);
        const o = new Float64Array(hd);
        for (let k = lo; k <= t; k++) for (let i = 0; i < hd; i++) o[i] += (w[k - lo] / z) * V[(k % cap) * kvh * hd + kb + i];
        out.push([h, o]);
    }
}

async function timeMs(list, count) {
    const encode = (q) => {
        const enc = dev.createCommandEncoder();
        const pass = enc.beginComputePass(q ? { timestampWrites: { querySet: q, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : undefined);
        for (let i = 0; i < count; i++) for (const [e, bg, g] of list) { pass.setPipeline(e.pipe); pass.setBindGroup(0, bg); pass.dispatchWorkgroups(...g); }
        pass.end();
        dev.queue.submit([enc.finish()]);
    };
    if (hasTs) {
        const qs = dev.createQuerySet({ type: 'timestamp', count: 2 });
        const res = dev.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
        encode(qs);
        const enc = dev.createCommandEncoder();
        enc.resolveQuerySet(qs, 0, 2, res, 0);
        dev.queue.submit([enc.finish()]);
        const t = new BigUint64Array(await gpu.read(res, 16));
        res.destroy();
        qs.destroy();
        return Number(t[1] - t[0]) / 1e6 / count;
    }
    const t0 = performance.now();
    encode(null);
    await dev.queue.onSubmittedWorkDone();
    return (performance.now() - t0) / count;
}

const combine = await gpu.pipeline(cref.wgsl(['common.wgsl', 'reduce.wgsl', 'attn_combine.wgsl'], ['WG=128u', 'DW=128u', 'DIRECT', ...sg]), 'urw');
const combineGrouped = await gpu.pipeline(cref.wgsl(['common.wgsl', 'reduce.wgsl', 'attn_combine.wgsl'], ['WG=128u', 'DW=32u', 'MAXS=256u', ...sg]), 'urw');
const H = 8, kvh = 1;
const shapes = [];
for (const T of tokens) for (const [hd, win, layers] of [[256, 512, 28], [512, 0, 7]]) shapes.push({ T, hd, win, layers });
const total = Object.fromEntries(kernels.map((k) => [k, new Map()]));
let failed = false;

for (const { T, hd, win, layers } of shapes) {
    const cap = Math.max(512, T), qStride = H * hd + 2 * kvh * hd, flopPairs = (() => { let s = 0; for (let t = 0; t < T; t++) s += win && t + 1 > win ? win : t + 1; return s; })();
    const q = Float32Array.from({ length: T * qStride }, () => rand() * 2 - 1);
    const K = Float32Array.from({ length: cap * kvh * hd }, () => rand() * 2 - 1), V = Float32Array.from({ length: cap * kvh * hd }, () => rand() * 2 - 1);
    // sample tokens for the check: the first, the window's edge, the last and a few more
    const sample = [...new Set([0, 1, Math.min(T - 1, 37), Math.min(T - 1, win || 300), Math.min(T - 1, (win || 300) + 9), T >> 1, T - 2, T - 1])].filter((t) => t >= 0 && t < T);
    const want = new Map();
    for (const t of sample) { const o = []; refToken({ q, K, V, H, kvh, hd, cap, win, qStride }, t, o); want.set(t, o); }
    const step = gpu.buffer(new Uint32Array([0, T, 0, 0])), qb = gpu.buffer(q), kb = gpu.buffer(K), vb = gpu.buffer(V);
    const runs = [];
    for (const path of kernels) {
        const v = variant(path, hd), { n: nSplit, perPass } = splits(v, T, H, kvh, win);
        const attn = await gpu.pipeline(source(path.split(':')[0], v.defs), 'urrrrww');
        const o = gpu.buffer(T * H * hd * 4), part = gpu.buffer(Math.max(16, nSplit > 1 ? T * H * nSplit * (hd + 2) * 4 : 16));
        const p = gpu.buffer(params([H, kvh, hd, win, qStride, 0, kvh * hd, cap, H * hd, nSplit, 1, T, 0, 0, 0, 0, 0, 0, 0, 0]), true);
        const grid = [nSplit, perPass / kvh, kvh];
        const list = [[attn, gpu.bindGroup(attn, [p, step, qb, kb, vb, o, part]), grid]];
        const direct = nSplit <= COMBINE_DIRECT_MAXS, cp = direct ? combine : combineGrouped, dw = direct ? 128 : 32;
        const comb = nSplit > 1 ? [[cp, gpu.bindGroup(cp, [gpu.buffer(new Uint32Array([H, hd, nSplit, H * hd]), true), part, o]), [H * Math.ceil(hd / dw), T, 1]]] : [];
        // check once
        for (const [e, bg, g] of [...list, ...comb]) gpu.dispatch(e, bg, g);
        const got = new Float32Array(await gpu.read(o));
        let worst = 0;
        for (const [t, heads] of want) {
            for (const [h, w] of heads) {
                for (let i = 0; i < hd; i++) {
                    const d = Math.abs(got[(t * H + h) * hd + i] - w[i]);
                    worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
                }
            }
        }
        if (!(worst < 2e-5)) failed = true;
        runs.push({ path, v, nSplit, grid, list, comb, worst, ms: [], msComb: [] });
    }
    // keep the GPU busy for a while first (clocks), then alternate the kernels
    for (const t0 = performance.now(); performance.now() - t0 < (quick ? 1 : 1000);) for (const r of runs) await timeMs(r.list, quick ? 1 : 10);
    for (let round = 0; round < (quick ? 1 : 5); round++) {
        for (const r of runs) {
            r.ms.push(await timeMs(r.list, reps));
            if (r.comb.length) r.msComb.push(await timeMs(r.comb, reps));
        }
    }
    const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
    for (const r of runs) {
        const us = med(r.ms) * 1000, usComb = r.msComb.length ? med(r.msComb) * 1000 : 0;
        const tflops = 4 * hd * H * flopPairs / (us * 1e-6) / 1e12;
        total[r.path].set(T, (total[r.path].get(T) ?? 0) + layers * (us + usComb));
        console.log(`T ${String(T).padStart(4)} hd ${hd} window ${win || '-'}: ${r.path} R ${r.v.r} BK ${r.v.bk} SD ${r.v.sd}, grid ${r.grid.join('x')}: ` +
            `${us.toFixed(1)} us (${tflops.toFixed(1)} TFLOP/s useful)` + (r.comb.length ? ` + combine ${usComb.toFixed(1)} us` : '') +
            `, max abs error ${r.worst.toExponential(2)}${r.worst < 2e-5 ? '' : '  <-- WRONG'}`);
    }
    [step, qb, kb, vb].forEach((b) => b.destroy());
}
for (const path of kernels) {
    for (const [T, us] of total[path]) console.log(`e2b prefill of ${T} tokens, 28 x hd 256 + 7 x hd 512 (attention + combine): ${(us / 1000).toFixed(2)} ms  ${path}`);
}
if (failed) { console.log('FAILED: a kernel disagrees with the reference'); process.exit(1); }
process.exit(0);
