// Parity of the engine's own small kernels against straightforward references
// written here (double precision where it matters), on fresh random inputs:
// top-k (the sampler's order: higher value, then lower index; NaN/-inf never,
// +inf largest), two-pass argmax, RMSNorm with its residual/next-norm modes (and
// the LIMBS variant that also writes the integer matmul's limbs),
// GeGLU, and the split-K and tiled prefill attention (with the combine)
// against a direct softmax.
import { assert, rng, run, test } from './harness.mjs';
import { CRef, KernelRunner } from './lib/gpu-kernel.mjs';

process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
const c = await CRef.load();
const gpu = await KernelRunner.open();
const sg = gpu.hasSubgroups ? ['SUBGROUPS', 'SGMIN=4u'] : [];
const randIntOps = (lo, hi) => lo + Math.floor(rng() * (hi - lo + 1));
const u32 = (...a) => new Uint32Array(a);

function params(fields) { // fields: [value, 'u'|'f'] in struct order, padded to 16 bytes
    const n = Math.ceil(fields.length / 4) * 4, b = new ArrayBuffer(n * 4), dv = new DataView(b);
    fields.forEach(([v, t], i) => (t === 'f' ? dv.setFloat32(4 * i, v, true) : dv.setUint32(4 * i, v >>> 0, true)));
    return new Uint8Array(b);
}

// the sampler's top-k order
function refTopK(x, k) {
    const c2 = [];
    x.forEach((v, i) => { if (!Number.isNaN(v) && v !== -Infinity) c2.push([v === Infinity ? 3.4028234663852886e38 : v, i]); });
    c2.sort((a, b) => (b[0] - a[0]) || (a[1] - b[1]));
    return c2.slice(0, k);
}

test('top-k: exact k best with ties, NaN, -inf and +inf, over several rows', async () => {
    const code = c.wgsl(['common.wgsl', 'topk.wgsl'], ['WG=256u', 'EPT=32u', 'MAXK=64u']);
    const entry = await gpu.pipeline(code, 'urww');
    for (const [n, k, rows] of [[262144, 40, 1], [20000, 64, 3], [1000, 1, 2], [300, 64, 1], [70, 64, 1]]) {
        const x = new Float32Array(n * rows);
        for (let i = 0; i < x.length; i++) x[i] = Math.round((rng() * 2 - 1) * 400) / 16; // coarse: many ties
        for (let i = 0; i < 30; i++) {
            const j = Math.floor(rng() * x.length);
            x[j] = [NaN, -Infinity, Infinity, 25][i % 4];
        }
        const nb = Math.ceil(n / (256 * 32));
        const xb = gpu.buffer(x), part = gpu.buffer(rows * nb * k * 8), out = gpu.buffer(rows * k * 8);
        for (const pass of [0, 1]) {
            const p = gpu.buffer(params([[n], [0], [n], [k], [nb], [pass], [0], [0]]), true);
            gpu.dispatch(entry, gpu.bindGroup(entry, [p, xb, part, out]), [pass ? 1 : nb, rows, 1]);
        }
        const got = new Uint32Array(await gpu.read(out, rows * k * 8));
        for (let r = 0; r < rows; r++) {
            const want = refTopK([...x.subarray(r * n, (r + 1) * n)], k);
            for (let i = 0; i < k; i++) {
                const gi = got[(r * k + i) * 2 + 1], gv = new Float32Array(got.buffer, (r * k + i) * 8, 1)[0];
                if (i >= want.length) { assert(gi === 0xffffffff, `n=${n} row ${r}: extra candidate at ${i}`); continue; }
                assert(gi === want[i][1] && gv === Math.fround(want[i][0]),
                    `n=${n} k=${k} row ${r} rank ${i}: got (${gv}, ${gi}), want (${want[i][0]}, ${want[i][1]})`);
            }
        }
    }
});

test('argmax: two passes, lowest index among ties; one row\'s pick also to the next pass\'s first token id', async () => {
    const code = c.wgsl(['common.wgsl', 'argmax.wgsl'], ['WG=256u']);
    const entry = await gpu.pipeline(code, 'urwww');
    for (const [n, idsOn] of [[262144, 1], [5000, 0], [33, 1]]) {
        const rows = 3, x = new Float32Array(n * rows), idsT = randIntOps(0, rows - 1);
        for (let i = 0; i < x.length; i++) x[i] = Math.round(rng() * 1000) / 8;
        const ids0 = Uint32Array.from({ length: 4 }, () => (rng() * 2 ** 32) >>> 0);
        const nb = 128, xb = gpu.buffer(x), part = gpu.buffer(rows * nb * 8), out = gpu.buffer(rows * 4), ids = gpu.buffer(ids0);
        for (const pass of [0, 1]) {
            const p = gpu.buffer(params([[n], [0], [n], [0], [nb], [pass], [idsT], [idsOn]]), true);
            gpu.dispatch(entry, gpu.bindGroup(entry, [p, xb, part, out, ids]), [pass ? 1 : nb, rows, 1]);
        }
        const got = new Uint32Array(await gpu.read(out, rows * 4)), gotIds = new Uint32Array(await gpu.read(ids, 16));
        for (let r = 0; r < rows; r++) assert(got[r] === refTopK([...x.subarray(r * n, (r + 1) * n)], 1)[0][1], `n=${n} row ${r}`);
        assert(gotIds[0] === (idsOn ? got[idsT] : ids0[0]) && gotIds.slice(1).every((v, i) => v === ids0[i + 1]), `n=${n}: ids ${[...gotIds]}`);
    }
});

test('RMSNorm: plain, residual with layer scale, and the fused next norm', async () => {
    const code = c.wgsl(['common.wgsl', 'reduce.wgsl', 'norm.wgsl'], ['WG=256u', 'NV=2u', ...sg]);
    const entry = await gpu.pipeline(code, 'urrww');
    const n = 1536, T = 3, eps = 1e-6;
    const rnd = (m, s = 1) => Float32Array.from({ length: m }, () => (rng() * 2 - 1) * s);
    const x = rnd(n * T, 3), h = rnd(n * T), vec = rnd(3 * n + 4, 1.5);
    const rms = (a) => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length + eps);
    // flags: weight 1, residual 2, scale 4, next 16; w at 0, scale at 3n, next weight at n
    const p = gpu.buffer(params([[n], [1], [0], [n], [0], [n], [0], [3 * n], [1 | 2 | 4 | 16], [eps, 'f'], [1, 'f'], [n]]), true);
    const y = gpu.buffer(h), z = gpu.buffer(n * T * 4);
    gpu.dispatch(entry, gpu.bindGroup(entry, [p, gpu.buffer(x), gpu.buffer(vec), y, z]), [1, T, 1]);
    const gy = new Float32Array(await gpu.read(y)), gz = new Float32Array(await gpu.read(z));
    let worst = 0;
    for (let t = 0; t < T; t++) {
        const xs = [...x.subarray(t * n, (t + 1) * n)], r = rms(xs);
        const hn = xs.map((v, i) => (h[t * n + i] + (v / r) * vec[i]) * vec[3 * n]);
        const r2 = rms(hn);
        // f32 tolerances scaled by the terms, not the result: h + x/r*w can cancel to ~0, where a
        // bound relative to the result flagged correct kernels (error ~1e-7 on terms of size ~1)
        hn.forEach((v, i) => {
            const ty = 4e-6 * (Math.abs(h[t * n + i]) + Math.abs((xs[i] / r) * vec[i])) * Math.abs(vec[3 * n]) + 1e-9;
            worst = Math.max(worst, Math.abs(gy[t * n + i] - v) / ty);
            const zn = (v / r2) * vec[n + i];
            const tz = (ty / r2) * Math.abs(vec[n + i]) + 4e-6 * Math.abs(zn) + 1e-9;
            worst = Math.max(worst, Math.abs(gz[t * n + i] - zn) / tz);
        });
    }
    assert(worst <= 1, `worst error / tolerance ${worst}`);
    console.error(`    worst error / tolerance ${worst.toFixed(3)}`);
});

// norm.wgsl LIMBS: the residual step writing its output's limbs for the integer
// matmul (limbs.wgsl) as well. Its Y and Z must be the plain variant's bit for
// bit; its limbs must decode to the output within 2^-17 of the token's scale
// s_t = 2^(E-6) (E: the exponent of the token's largest |value|), and equal the
// limbs act_limbs.wgsl makes from that output (the matmul reads either).
test('RMSNorm LIMBS: the output also as int8 limbs (three or two), the same as act_limbs makes', async () => {
    const n = 32 * randIntOps(20, 60), T = randIntOps(17, 40), eps = 1e-6, nv = Math.ceil(n / 4 / 256);
    const defs = ['WG=256u', `NV=${nv}u`, ...sg];
    const plain = await gpu.pipeline(c.wgsl(['common.wgsl', 'reduce.wgsl', 'norm.wgsl'], defs), 'urrww');
    const rnd = (m, s = 1) => Float32Array.from({ length: m }, () => (rng() * 2 - 1) * s);
    const tPad = Math.ceil(T / 16) * 16, nb = n / 32;
    for (const [next, nl] of [[false, 3], [true, 3], [rng() < 0.5, 2]]) {
        const withLimbs = await gpu.pipeline(c.wgsl(['common.wgsl', 'reduce.wgsl', 'limbs.wgsl', 'limbs_put.wgsl', 'norm.wgsl'], [...defs, 'LIMBS', ...(nl === 2 ? ['LIMBS2'] : [])]), 'urrwwww');
        const limbsPass = await gpu.pipeline(gpu.limbsSource(c, false, nl), 'urww');
        const x = rnd(n * T, 3), h = rnd(n * T), vec = rnd(3 * n + 4, 1.5);
        for (let t = 0; t < T; t++) for (let i = 0; i < n; i++) x[t * n + i] *= 10 ** (t % 5 - 2); // tokens of different size
        const p = gpu.buffer(params([[n], [1], [0], [n], [0], [n], [0], [3 * n], [1 | 2 | 4 | (next ? 16 : 0)], [eps, 'f'], [1, 'f'], [n]]), true);
        const xb = gpu.buffer(x), vb = gpu.buffer(vec);
        const y1 = gpu.buffer(h), z1 = gpu.buffer(n * T * 4), y2 = gpu.buffer(h), z2 = gpu.buffer(n * T * 4);
        const xl = gpu.buffer(Int32Array.from({ length: tPad * nl * n / 4 }, () => 0x5a5a5a5a)), xf = gpu.buffer(rnd(tPad));
        gpu.dispatch(plain, gpu.bindGroup(plain, [p, xb, vb, y1, z1]), [1, T, 1]);
        gpu.dispatch(withLimbs, gpu.bindGroup(withLimbs, [p, xb, vb, y2, z2, xl, xf]), [1, T, 1]);
        const out = new Float32Array(await gpu.read(next ? z1 : y1));
        const tag = `next ${next}, ${nl} limbs`;
        assert(Buffer.from(await gpu.read(y1)).equals(Buffer.from(await gpu.read(y2))) &&
            Buffer.from(await gpu.read(z1)).equals(Buffer.from(await gpu.read(z2))), `${tag}: LIMBS changed the norm's outputs`);
        const limbs = new Int8Array(await gpu.read(xl)), scales = new Float32Array(await gpu.read(xf));
        for (let t = 0; t < T; t++) {
            let mx = 0;
            for (let i = 0; i < n; i++) mx = Math.max(mx, Math.abs(out[t * n + i]));
            // three limbs: s_t = 2^(E-6), values to s_t / 2^17; two: s_t = max / 32512 (f32 division), values to s_t / 2
            const st = nl === 3 ? 2 ** (Math.floor(Math.log2(mx)) + 1 - 6) : mx / 32512;
            assert(nl === 3 ? scales[t] === st : Math.abs(scales[t] - st) <= 3e-7 * st, `${tag}: token ${t} scale ${scales[t]}, expected ${st}`);
            for (let i = 0; i < n; i++) {
                const at = ((Math.floor(t / 16) * nl * nb + (i >> 5)) * 128 + (t % 16) * 8) * 4 + (i & 31), L = nb * 512;
                const v = nl === 3 ? st * (65536 * limbs[at] + 256 * limbs[at + L] + limbs[at + 2 * L]) / 65536 : scales[t] * (256 * limbs[at] + limbs[at + L]);
                // (two limbs: half a step, plus the f32 division and product in round(x * 32512 / max): 1.3% of a step)
                const tol = nl === 3 ? st / 131072 * 1.0001 : st * 0.513;
                assert(Math.abs(v - out[t * n + i]) <= tol, `${tag}: token ${t} column ${i}: limbs give ${v}, output ${out[t * n + i]}`);
            }
        }
        // act_limbs on the same output: the same words
        const xl2 = gpu.buffer(tPad * nl * n), xf2 = gpu.buffer(tPad * 4);
        gpu.dispatch(limbsPass, gpu.bindGroup(limbsPass, [gpu.buffer(params([[n], [T], [0], [n], [0], [nb], [0], [0]]), true), next ? z1 : y1, xl2, xf2]), [T, 1, 1]);
        const a = new Int32Array(await gpu.read(xl)), b = new Int32Array(await gpu.read(xl2));
        for (let t = 0; t < T; t++)
            for (let l = 0; l < nl; l++)
                for (let w = 0; w < nb * 128; w++) {
                    const i = (Math.floor(t / 16) * nl + l) * nb * 128 + w;
                    if ((w & 127) >> 3 !== t % 16) continue; // another token's words
                    assert(a[i] === b[i], `${tag}: token ${t} limb ${l} word ${w}: ${a[i]} against act_limbs' ${b[i]}`);
                }
        assert(Buffer.from(await gpu.read(xf)).subarray(0, 4 * T).equals(Buffer.from(await gpu.read(xf2)).subarray(0, 4 * T)), `${tag}: scales differ from act_limbs'`);
    }
});

test('GeGLU in place, both modes', async () => {
    const code = c.wgsl(['common.wgsl', 'glu.wgsl'], ['WG=64u']);
    const entry = await gpu.pipeline(code, 'urw');
    const F = 300, T = 2, gelu = (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    const y0 = Float32Array.from({ length: 2 * F * T }, () => (rng() * 2 - 1) * 6);
    const y = gpu.buffer(y0);
    const p = gpu.buffer(params([[F], [0], [0], [2 * F], [F], [2 * F], [0], [0]]), true);
    gpu.dispatch(entry, gpu.bindGroup(entry, [p, gpu.buffer(16), y]), [Math.ceil(F / 64), T, 1]);
    const g = new Float32Array(await gpu.read(y));
    for (let t = 0; t < T; t++)
        for (let i = 0; i < F; i++) {
            const want = gelu(y0[t * 2 * F + i]) * y0[t * 2 * F + F + i];
            assert(Math.abs(g[t * 2 * F + F + i] - want) <= 1e-5 * (1 + Math.abs(want)), `t ${t} i ${i}: ${g[t * 2 * F + F + i]} vs ${want}`);
        }
});

// Direct softmax attention in double (scale 1, GQA with contiguous groups):
// queries at qOff + t * qStride + h * hd, key k in cache row k % cap of
// kvh * hd floats, visible from position pos iff k <= pos and pos - k < win
// (win 0: causal only). Output [T][H][hd].
function refAttention({ q, K, V, H, kvh, hd, cap, T, pos0, win, qStride = H * hd, qOff = 0 }) {
    const G = H / kvh, out = new Float64Array(T * H * hd);
    for (let t = 0; t < T; t++) {
        const pos = pos0 + t, lo = win && pos + 1 > win ? pos + 1 - win : 0;
        for (let h = 0; h < H; h++) {
            const qb = qOff + t * qStride + h * hd, kb = Math.floor(h / G) * hd, s = [];
            for (let k = lo; k <= pos; k++) {
                let d = 0;
                for (let i = 0; i < hd; i++) d += q[qb + i] * K[(k % cap) * kvh * hd + kb + i];
                s.push(d);
            }
            const m = Math.max(...s), w = s.map((v) => Math.exp(v - m)), z = w.reduce((a, b) => a + b, 0);
            for (let k = lo; k <= pos; k++) {
                const wk = w[k - lo] / z, vb = (k % cap) * kvh * hd + kb;
                for (let i = 0; i < hd; i++) out[(t * H + h) * hd + i] += wk * V[vb + i];
            }
        }
    }
    return out;
}

const worstAbs = (got, want) => want.reduce((w, v, i) => Math.max(w, Math.abs(got[i] - v)), 0);

// The decode kernel (kernels/attn_decode.wgsl, WG = hd / 2, blocks of KB keys)
// in the head sizes and GQA groups of real models, with one split walking
// several blocks, splits merged by attn_combine (some of them empty), windows,
// ring caches that wrap, and a few tokens per pass.
test('decode attention and its combine match a direct softmax (GQA, window, ring cache, split-K)', async () => {
    const comb = await gpu.pipeline(c.wgsl(['common.wgsl', 'reduce.wgsl', 'attn_combine.wgsl'], ['WG=128u', 'DW=32u', 'MAXS=256u', ...sg]), 'urw');
    const cases = [
        { hd: 128, H: 8, kvh: 1, T: 2, pos0: 70, cap: 96, win: 0, splits: [1, 3] },
        { hd: 128, H: 8, kvh: 1, T: 2, pos0: 70, cap: 96, win: 48, splits: [2] },
        { hd: 256, H: 8, kvh: 1, T: 1, pos0: 300, cap: 200, win: 150, splits: [1, 7], KB: 16 },  // ring wraps; 10 blocks in one split
        { hd: 256, H: 8, kvh: 1, T: 1, pos0: 300, cap: 200, win: 150, splits: [1, 2] },  // 64-key blocks, the last one partial
        { hd: 512, H: 8, kvh: 1, T: 1, pos0: 40, cap: 64, win: 0, splits: [1, 64] },    // more splits than blocks: empty ones
        { hd: 64, H: 4, kvh: 2, T: 3, pos0: 20, cap: 32, win: 16, splits: [1, 2] },
        { hd: 256, H: 16, kvh: 1, T: 1, pos0: 33, cap: 40, win: 0, splits: [2], HC: 8 },  // group 16: two head chunks
        { hd: 256, H: 8, kvh: 1, T: 1, pos0: 90, cap: 128, win: 64, splits: [4], HC: 1, KB: 16 },  // one head per workgroup (the planner's decode choice)
        { hd: 512, H: 8, kvh: 1, T: 1, pos0: 60, cap: 64, win: 0, splits: [3], HC: 2, KB: 16 },   // two heads per workgroup
        // more splits than one combine thread's first loads (16 x 4) and than its workgroup (128)
        { hd: 64, H: 4, kvh: 2, T: 1, pos0: 250, cap: 256, win: 0, splits: [100, 200], KB: 16 },
        { hd: 128, H: 4, kvh: 1, T: 1, pos0: 77, cap: 96, win: 0, splits: [1, 3], KB: 16 },  // 4 threads per key: shuffles even with subgroups of 4
        // blocks of at most SGMIN keys: the softmax by shuffles, a thread per (head, key)
        { hd: 128, H: 8, kvh: 1, T: 2, pos0: 70, cap: 96, win: 0, splits: [1, 3], KB: 4, sg: true },
        // more P.V parts (NPV = WG / (hd / 4) = 4, neighbouring lanes: LANE_PARTS), with both softmaxes;
        // one token's partials also in the layout the output mat-vec merges (PART_VEC, merged here)
        { hd: 256, H: 8, kvh: 1, T: 1, pos0: 300, cap: 200, win: 150, splits: [1, 5], KB: 16, npv: 4, sg: true, vec: true },
        { hd: 256, H: 8, kvh: 1, T: 1, pos0: 90, cap: 128, win: 64, splits: [4, 20], KB: 4, npv: 4, sg: true, vec: true },
        { hd: 128, H: 8, kvh: 1, T: 1, pos0: 61, cap: 64, win: 0, splits: [3], KB: 8, vec: true },  // PART_VEC with two parts
        { hd: 64, H: 4, kvh: 2, T: 3, pos0: 20, cap: 32, win: 16, splits: [1, 2], KB: 8, npv: 4, sg: true },
    ];
    for (const cs of cases) {
        const { hd, H, kvh, T, pos0, cap, win } = cs, G = H / kvh, HC = cs.HC ?? G, chunks = Math.ceil(G / HC);
        const KB = cs.KB ?? Math.min(64, hd / 2), npv = cs.npv ?? 2;
        if (cs.sg && !sg.length) continue; // a variant that needs subgroups
        // with subgroup reductions where the device has them, and without (alternating cases)
        const attn = await gpu.pipeline(c.wgsl(['common.wgsl', 'attn_io.wgsl', 'attn_decode.wgsl'], [`WG=${npv * hd / 4}u`, `HC=${HC}u`, `KB=${KB}u`, `HD=${hd}u`,
            ...(cs.sg || cases.indexOf(cs) % 2 === 0 ? sg : []), ...(npv > 2 ? ['LANE_PARTS'] : [])]), 'urrrrww');
        const attnVec = cs.vec && await gpu.pipeline(c.wgsl(['common.wgsl', 'attn_io.wgsl', 'attn_decode.wgsl'], [`WG=${npv * hd / 4}u`, `HC=${HC}u`, `KB=${KB}u`, `HD=${hd}u`,
            ...sg, ...(npv > 2 ? ['LANE_PARTS'] : []), 'PART_VEC']), 'urrrrww');
        const q = Float32Array.from({ length: T * H * hd }, () => rng() * 2 - 1);
        const K = Float32Array.from({ length: cap * kvh * hd }, () => rng() * 2 - 1), V = Float32Array.from({ length: cap * kvh * hd }, () => rng() * 2 - 1);
        const want = refAttention({ q, K, V, H, kvh, hd, cap, T, pos0, win });
        const step = gpu.buffer(u32(pos0, T, 0, 0));
        for (const nsplit of cs.splits) {
            const o = gpu.buffer(T * H * hd * 4), part = gpu.buffer(T * H * nsplit * (hd + 2) * 4);
            const p = gpu.buffer(params([[H], [kvh], [hd], [win], [H * hd], [0], [kvh * hd], [cap], [H * hd], [nsplit], [chunks], [T],
                [0], [0], [0], [0], [0], [0], [0], [0]]), true);
            gpu.dispatch(attn, gpu.bindGroup(attn, [p, step, gpu.buffer(q), gpu.buffer(K), gpu.buffer(V), o, part]), [nsplit, kvh * chunks, T]);
            if (nsplit > 1) gpu.dispatch(comb, gpu.bindGroup(comb, [gpu.buffer(u32(H, hd, nsplit, H * hd), true), part, o]), [H * Math.ceil(hd / 32), T, 1]);
            const worst = worstAbs(new Float32Array(await gpu.read(o)), want);
            assert(worst < 1e-5, `hd ${hd} H ${H}/${kvh} T ${T} pos0 ${pos0} cap ${cap} window ${win}, ${nsplit} splits, ${npv} parts: worst abs error ${worst}`);
            if (!attnVec || nsplit === 1) continue;
            // PART_VEC: [H][n_split][hd] outputs, then [H][n_split] (m, l); merged as matvec.wgsl PRO_ATTN does
            gpu.dispatch(attnVec, gpu.bindGroup(attnVec, [p, step, gpu.buffer(q), gpu.buffer(K), gpu.buffer(V), o, part]), [nsplit, kvh * chunks, T]);
            const pv = new Float32Array(await gpu.read(part)), merged = new Float64Array(H * hd);
            for (let h = 0; h < H; h++) {
                const ml = (s) => [pv[H * nsplit * hd + 2 * (h * nsplit + s)], pv[H * nsplit * hd + 2 * (h * nsplit + s) + 1]];
                let M = -Infinity, L = 0;
                for (let s = 0; s < nsplit; s++) M = Math.max(M, ml(s)[0]);
                for (let s = 0; s < nsplit; s++) L += ml(s)[1] * Math.exp(ml(s)[0] - M);
                for (let s = 0; s < nsplit; s++)
                    for (let d = 0; d < hd; d++) merged[h * hd + d] += pv[(h * nsplit + s) * hd + d] * Math.exp(ml(s)[0] - M) / L;
            }
            const worstVec = worstAbs(merged, want);
            assert(worstVec < 1e-5, `PART_VEC, hd ${hd} pos0 ${pos0}, ${nsplit} splits: worst abs error ${worstVec}`);
        }
    }
});

// attn_decode's PREP variant (one token): q, k, v arrive raw from the q|k|v
// projection and are normed and rotated in the kernel (attn_prep.wgsl's maths,
// written out here in double precision); the split holding the token's
// position writes its K/V rows, and the output matches a direct softmax over
// the caches with those rows in place.
test('decode attention preparing q, k, v itself (PREP) matches norm + RoPE + a direct softmax', async () => {
    const comb = await gpu.pipeline(c.wgsl(['common.wgsl', 'reduce.wgsl', 'attn_combine.wgsl'], ['WG=128u', 'DW=32u', 'MAXS=256u', ...sg]), 'urw');
    const cases = [
        { hd: 256, H: 8, kvh: 1, pos: 70, cap: 96, win: 0, ropeDims: 256, splits: [1, 5], owns: true, vFromK: false },
        { hd: 128, H: 4, kvh: 2, pos: 40, cap: 48, win: 16, ropeDims: 64, splits: [3], owns: true, vFromK: true },
        { hd: 256, H: 8, kvh: 1, pos: 33, cap: 64, win: 0, ropeDims: 128, splits: [2], owns: false, vFromK: false }, // reads a donor's cache
    ];
    const eps = 1e-6;
    for (const [ci, cs] of [...cases, ...cases].entries()) { // each case with subgroup reductions (where offered) and without
        const { hd, H, kvh, pos, cap, win, ropeDims, owns, vFromK } = cs, G = H / kvh, HC = Math.min(G, 8), chunks = Math.ceil(G / HC);
        const attn = await gpu.pipeline(c.wgsl(['common.wgsl', 'attn_io.wgsl', 'attn_decode.wgsl'], [`WG=${hd / 2}u`, `HC=${HC}u`, `KB=${Math.min(16, hd / 2)}u`, `HD=${hd}u`, 'PREP', ...(ci < cases.length ? sg : [])]), 'urrwwwwrr');
        const qdim = H * hd, kvdim = kvh * hd, qs = qdim + 2 * kvdim;
        const raw = Float32Array.from({ length: qs }, () => rng() * 4 - 2);
        const vec = Float32Array.from({ length: 2 * hd }, () => 0.5 + rng()); // q_norm at 0, k_norm at hd
        const rtCol = 8, rt = new Float32Array(rtCol + ropeDims); // (cos, sin) per pair, from column rtCol
        for (let j = 0; j < ropeDims / 2; j++) { const th = pos * Math.pow(10000, -2 * j / ropeDims); rt[rtCol + 2 * j] = Math.cos(th); rt[rtCol + 2 * j + 1] = Math.sin(th); }
        const norm = (x, w) => { const ms = x.reduce((a, v) => a + v * v, 0) / x.length, inv = 1 / Math.sqrt(ms + eps); return x.map((v, i) => v * inv * (w ? w[i] : 1)); };
        const rope = (x) => { const y = x.slice(), h = ropeDims / 2; for (let i = 0; i < h; i++) { const cs2 = rt[rtCol + 2 * i], sn = rt[rtCol + 2 * i + 1]; y[i] = x[i] * cs2 - x[i + h] * sn; y[i + h] = x[i] * sn + x[i + h] * cs2; } return y; };
        const qp = new Float32Array(qdim);
        for (let h = 0; h < H; h++) qp.set(rope(norm([...raw.subarray(h * hd, (h + 1) * hd)], vec.subarray(0, hd))), h * hd);
        const K = Float32Array.from({ length: cap * kvdim }, () => rng() * 2 - 1), V = Float32Array.from({ length: cap * kvdim }, () => rng() * 2 - 1);
        const Kwant = K.slice(), Vwant = V.slice();
        if (owns) {
            for (let g = 0; g < kvh; g++) {
                const kr = [...raw.subarray(qdim + g * hd, qdim + (g + 1) * hd)], vo = vFromK ? qdim : qdim + kvdim;
                Kwant.set(rope(norm(kr, vec.subarray(hd, 2 * hd))), (pos % cap) * kvdim + g * hd);
                Vwant.set(norm([...raw.subarray(vo + g * hd, vo + (g + 1) * hd)]), (pos % cap) * kvdim + g * hd);
            }
        }
        const want = refAttention({ q: qp, K: Kwant, V: Vwant, H, kvh, hd, cap, T: 1, pos0: pos, win });
        for (const nsplit of cs.splits) {
            const kb = gpu.buffer(K), vb = gpu.buffer(V), o = gpu.buffer(qdim * 4), part = gpu.buffer(H * nsplit * (hd + 2) * 4);
            const p = gpu.buffer(params([[H], [kvh], [hd], [win], [qs], [0], [kvdim], [cap], [qdim], [nsplit], [chunks], [1],
                [0], [hd], [eps, 'f'], [ropeDims], [rtCol], [qdim], [vFromK ? qdim : qdim + kvdim], [owns ? 1 : 0]]), true);
            gpu.dispatch(attn, gpu.bindGroup(attn, [p, gpu.buffer(u32(pos, 1, 0, 0)), gpu.buffer(raw), kb, vb, o, part, gpu.buffer(vec), gpu.buffer(rt)]), [nsplit, kvh * chunks, 1]);
            if (nsplit > 1) gpu.dispatch(comb, gpu.bindGroup(comb, [gpu.buffer(u32(H, hd, nsplit, qdim), true), part, o]), [H * Math.ceil(hd / 32), 1, 1]);
            const worst = worstAbs(new Float32Array(await gpu.read(o)), want);
            assert(worst < 2e-5, `hd ${hd} H ${H}/${kvh} pos ${pos} window ${win} rope ${ropeDims}, ${nsplit} splits: worst abs error ${worst}`);
            const kGot = new Float32Array(await gpu.read(kb)), vGot = new Float32Array(await gpu.read(vb));
            assert(worstAbs(kGot, Kwant) < 2e-5 && worstAbs(vGot, Vwant) < 2e-5, `cache rows: K ${worstAbs(kGot, Kwant)}, V ${worstAbs(vGot, Vwant)}`);
        }
    }
});

// The tiled prefill kernel in the variants src/gpu/record.c picks (R rows of
// 256 or 512-dim heads with blocks of 16 * 256 / R keys, 8- to 32-dim score
// slices; 64- and 128-dim heads), with and without split-K:
// token counts at the threshold (16), ragged (37, 20) and a full ubatch (128);
// GQA groups 8, 4, 2; windows shorter than the context; ring caches that wrap
// (cap below the last position); prefill continuing after earlier tokens;
// splits ending in partial blocks (fewer keys than a score tile's key group).
test('tiled prefill attention matches a direct softmax (GQA, window, ring cache, split-K)', async () => {
    const comb = await gpu.pipeline(c.wgsl(['common.wgsl', 'reduce.wgsl', 'attn_combine.wgsl'], ['WG=128u', 'DW=32u', 'MAXS=256u', ...sg]), 'urw');
    const combDirect = await gpu.pipeline(c.wgsl(['common.wgsl', 'reduce.wgsl', 'attn_combine.wgsl'], ['WG=128u', 'DW=128u', 'DIRECT', ...sg]), 'urw');
    const cases = [
        { T: 16, hd: 256, H: 8, kvh: 1, win: 0, cap: 16, pos0: 0, R: 64, SD: 16, splits: [1, 5] }, // 5: empty splits
        { T: 37, hd: 512, H: 8, kvh: 1, win: 24, cap: 64, pos0: 50, R: 32, SD: 8, splits: [1, 3] },
        { T: 128, hd: 256, H: 4, kvh: 2, win: 40, cap: 100, pos0: 20, R: 64, SD: 16, splits: [2] },
        { T: 128, hd: 512, H: 8, kvh: 1, win: 0, cap: 133, pos0: 5, R: 32, SD: 8, splits: [1, 3] },
        { T: 128, hd: 512, H: 8, kvh: 1, win: 0, cap: 133, pos0: 5, R: 32, SD: 32, splits: [1, 3] }, // needs 46 KiB
        { T: 128, hd: 256, H: 8, kvh: 1, win: 64, cap: 150, pos0: 300, R: 64, SD: 16, splits: [3] },
        { T: 128, hd: 256, H: 8, kvh: 1, win: 64, cap: 150, pos0: 300, R: 64, SD: 32, splits: [1, 3] }, // needs 40 KiB
        { T: 37, hd: 64, H: 2, kvh: 1, win: 16, cap: 48, pos0: 3, R: 64, SD: 16, splits: [1, 2] },
        { T: 20, hd: 128, H: 8, kvh: 2, win: 0, cap: 128, pos0: 100, R: 64, SD: 16, splits: [1, 4], qOff: 4, qPad: 8 },
        { T: 64, hd: 128, H: 8, kvh: 1, win: 0, cap: 200, pos0: 70, R: 64, SD: 8, splits: [1, 6] },
    ];
    for (const cs of cases) {
        const { T, hd, H, kvh, win, cap, pos0, R, SD, qOff = 0, qPad = 0 } = cs, BK = 16 * 256 / R;
        const defs = ['WG=256u', `R=${R}u`, `SD=${SD}u`, `HD=${hd}u`];
        // the variants wider devices get (tiled_bytes in src/gpu/record.c); SwiftShader has 32 KiB
        const bytes = 16 * (R + BK) * (SD / 4 + 1) + 16 * BK * (R / 4 + 1) + 16 * (BK / 4) * (R / 4 + 1) + 4 * BK + 4 * R;
        if (bytes > gpu.device.limits.maxComputeWorkgroupStorageSize) continue;
        const attn = await gpu.pipeline(c.wgsl(['common.wgsl', 'attn_io.wgsl', 'attention_tiled.wgsl'], defs), 'urrrrww');
        const qStride = H * hd + qPad, G = H / kvh, nq = Math.ceil(T / Math.floor(R / G));
        const q = Float32Array.from({ length: qOff + T * qStride }, () => rng() * 2 - 1);
        const K = Float32Array.from({ length: cap * kvh * hd }, () => rng() * 2 - 1), V = Float32Array.from({ length: cap * kvh * hd }, () => rng() * 2 - 1);
        const want = refAttention({ q, K, V, H, kvh, hd, cap, T, pos0, win, qStride, qOff });
        const step = gpu.buffer(u32(pos0, T, 0, 0)), qb = gpu.buffer(q), kb = gpu.buffer(K), vb = gpu.buffer(V);
        for (const nsplit of cs.splits) {
            const o = gpu.buffer(T * H * hd * 4), part = gpu.buffer(T * H * nsplit * (hd + 2) * 4);
            const p = gpu.buffer(params([[H], [kvh], [hd], [win], [qStride], [qOff], [kvh * hd], [cap], [H * hd], [nsplit], [1], [T],
                [0], [0], [0], [0], [0], [0], [0], [0]]), true);
            gpu.dispatch(attn, gpu.bindGroup(attn, [p, step, qb, kb, vb, o, part]), [nsplit, nq, kvh]);
            // splits merged by both combine variants: decode's grouped one, prefill's DIRECT one
            for (const [cp, dw, name] of nsplit > 1 ? [[comb, 32, 'grouped'], [combDirect, 128, 'direct']] : [[null, 0, 'none']]) {
                if (cp) gpu.dispatch(cp, gpu.bindGroup(cp, [gpu.buffer(u32(H, hd, nsplit, H * hd), true), part, o]), [H * Math.ceil(hd / dw), T, 1]);
                const worst = worstAbs(new Float32Array(await gpu.read(o)), want);
                assert(worst < 2e-5, `T ${T} hd ${hd} H ${H}/${kvh} window ${win} cap ${cap} pos0 ${pos0} R ${R} SD ${SD}, ${nsplit} splits (${name} combine): worst abs error ${worst}`);
                if (cp) gpu.device.queue.writeBuffer(o, 0, new Float32Array(T * H * hd)); // the next variant starts from zeros
            }
        }
    }
});

await run('gpu-ops');
gpu.rt.destroy();
