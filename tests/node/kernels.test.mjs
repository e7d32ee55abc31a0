// Weight kernels (kernels/quant*.wgsl, matvec, matmul, get_rows) on the local
// WebGPU device (SwiftShader in CI) against the C block formats.
//
// Weights are either quantized random normals (rl_test_quantize: realistic
// scales) or random bytes with sane f16 scale fields (every quant bit pattern).
// The exact weights come from rl_test_dequant; expected outputs are
// double-precision sums in this file. Tolerances:
//   mat-vec, matmul: |gpu - ref| <= 1e-5 * sum_c |w_c x_c| per output (f32
//     accumulation in another order; softcap adds 4e-6 * softcap for tanh)
//   get_rows: bit-exact (dequantization is exact, one f32 multiply by scale)
// Every case also checks that no other element of Y was written, and the C
// fused dot (rl_test_dot) against the same reference.
import { test, run, assert, rng } from './harness.mjs';
import { CRef, KernelRunner, TYPES, rowBytes, mvParams, grParams, params, randomWeights, gpuDefs, gpuLayout } from './lib/gpu-kernel.mjs';

const TOL = 1e-5;
const MV_FILES = ['common.wgsl', 'quant.wgsl', 'quant_chunk.wgsl', 'weight_op.wgsl', 'matvec.wgsl'];
const PRO_FILES = ['common.wgsl', 'quant.wgsl', 'quant_chunk.wgsl', 'weight_op.wgsl', 'limbs.wgsl', 'matvec.wgsl']; // as K_MATVEC_RES (IDOT reads limbs.wgsl)
const MM_FILES = ['quant.wgsl', 'weight_op.wgsl', 'tile_fetch.wgsl', 'matmul.wgsl'];
const OP_FILES = ['quant.wgsl', 'weight_op.wgsl', 'tile_fetch.wgsl', 'matmul_op.wgsl']; // the outer-product candidate (split K)
const GR_FILES = ['quant.wgsl', 'get_rows.wgsl'];

const cref = await CRef.load();
const gpu = await KernelRunner.open();
const worst = {}; // largest err / tolerance per test, printed at the end

const randInt = (lo, hi) => lo + Math.floor(rng() * (hi - lo + 1));
const pick = (a) => a[Math.floor(rng() * a.length)];
function randn(n) {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    return a;
}
function randBytes(n) {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = (rng() * 256) | 0;
    return b;
}
// rows x cols weights of `type` as GGUF bytes: 'quant' = quantized normals,
// 'bytes' = random blocks with sane scale fields (lib randomWeights).
function makeWeights(type, rows, cols, mode) {
    const n = rows * cols;
    if (mode === 'quant') return type === 'F32' ? new Uint8Array(randn(n).buffer) : cref.quantize(type, randn(n));
    return randomWeights(type, n, rng);
}

// W binding: `pad` random bytes, the matrix, random tail
function withPad(mat, pad) {
    const b = randBytes(Math.ceil((pad + mat.length + 16) / 16) * 16); // whole 16-byte words (WVEC)
    b.set(mat, pad);
    return b;
}
const offsetFor = (type) => TYPES[type].align * randInt(0, TYPES[type].align === 2 ? 12 : TYPES[type].align === 4 ? 6 : 3);

const bitsEqual = (a, b) => new Uint32Array(a.buffer, a.byteOffset, 1)[0] === new Uint32Array(b.buffer, b.byteOffset, 1)[0];

// Compare Y with the expected products; untouched elements keep their old bits.
// o.limbTol: activations went through limbs whose residual is at most
// limbTol * max_c |x_t| (act_limbs.wgsl), which adds that times sum_c |w_rc|.
function checkY(name, yGpu, y0, o, w, X) {
    const { rows, cols, nTok, xOff, xStride, yOff, yStride, softcap = 0, limbTol = 0 } = o;
    const written = new Set();
    let worstRatio = 0;
    for (let t = 0; t < nTok; t++) {
        const xo = xOff + t * xStride;
        let xmax = 0, xsum = 0;
        if (limbTol) for (let c = 0; c < cols; c++) xmax = Math.max(xmax, Math.abs(X[xo + c])), xsum += Math.abs(X[xo + c]);
        const dot = (r) => {
            let s = 0, mag = 0, wabs = 0;
            for (let c = 0; c < cols; c++) {
                const p = w[r * cols + c] * X[xo + c];
                s += p;
                mag += Math.abs(p);
                wabs += Math.abs(w[r * cols + c]);
            }
            return [s, mag, wabs];
        };
        for (let r = 0; r < rows; r++) {
            const [s, mag, wabs] = dot(r);
            let ref = s, tol = TOL * mag + limbTol * xmax * wabs + 1e-30;
            // weights as 16-bit rows of scale rowScale[r]: each within 0.51 of a step, and the
            // dropped product of the low limbs below cols / 128 steps of the token's largest value
            // (two activation limbs: the dropped l a1, below 128 x 128 steps of s_r and s_t = xmax / 32512)
            if (o.rowScale) tol += o.rowScale[r] * (0.51 * xsum + cols * xmax * (o.nl === 2 ? 16384 / 32512 : 1 / 128));
            if (softcap > 0) { ref = softcap * Math.tanh(s / softcap); tol += 4e-6 * softcap; }
            if (o.pair) { // EPI_PAIR: gelu(gate row r) * (up row r + rows); gelu' <= 1.13
                const [u, umag] = dot(r + rows), gl = geluTanh(s);
                ref = gl * u;
                tol = 1.13 * tol * Math.abs(u) + Math.abs(gl) * TOL * umag + 4e-7 * Math.abs(ref) + 1e-30;
            }
            const yi = yOff + t * yStride + r, got = yGpu[yi];
            written.add(yi);
            const err = Math.abs(got - ref);
            if (!(err <= tol)) throw new Error(`${name}: y[t=${t}][r=${r}] = ${got}, expected ${ref} (err ${err.toExponential(2)}, tol ${tol.toExponential(2)})`);
            worstRatio = Math.max(worstRatio, err / tol);
            if (t === 0 && r < 3 && !o.noDot) { // the C fused dot against the same reference
                const d = cref.dot(o.type, o.mat.subarray(r * o.rb, (r + 1) * o.rb), X.subarray(xo, xo + cols));
                assert(Math.abs(d - s) <= TOL * mag + 1e-30, `${name}: rl_test_dot row ${r} = ${d}, reference ${s}`);
            }
        }
    }
    for (let i = 0; i < y0.length; i++)
        if (!written.has(i) && !bitsEqual(yGpu.subarray(i), y0.subarray(i))) throw new Error(`${name}: y[${i}] outside the output was written`);
    worst[name] = Math.max(worst[name] || 0, worstRatio);
}

const geluTanh = (x) => 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));

// One product y = W x on the GPU. o: type, rows, cols, nTok, mode, kernel
// ('mv' | 'mm'), defines, grid options; offsets/strides random unless given.
async function product(name, o, g = gpu) {
    const { type, rows, cols, nTok } = o;
    const wRows = o.pair ? 2 * rows : rows; // EPI_PAIR: [gate | up], rows outputs
    if (o.pair) o.pad0 = rows;
    o.rb = rowBytes(type, cols);
    o.mat = makeWeights(type, wRows, cols, o.mode);
    // WVEC: rows of F32, Q4_K and Q5_K start 16-byte aligned (quant.wgsl w16)
    o.wOff ??= o.defines?.includes('WVEC') && ['F32', 'Q4_K', 'Q5_K'].includes(type) ? 16 * randInt(0, 3) : offsetFor(type);
    o.xOff ??= 4 * randInt(0, 3);
    o.xStride ??= cols + 4 * randInt(0, 2);
    o.yOff ??= randInt(0, 5);
    o.yStride ??= rows + randInt(0, 3);
    const w = cref.dequant(type, o.mat, wRows * cols);
    const X = randn(o.xOff + (nTok - 1) * o.xStride + cols + 4 * randInt(0, 2));
    // split K (matmul): one output region of pad1 floats per column range
    const splits = o.splitK ?? 1, region = o.yOff + (nTok - 1) * o.yStride + rows + randInt(0, 3);
    if (o.splitK) { o.pad0 = o.kc; o.pad1 = region; }
    const y0 = randn(region * splits);
    const files = o.kernel === 'mm' ? MM_FILES : o.kernel === 'op' ? OP_FILES : MV_FILES;
    const entry = await g.pipeline(cref.wgsl(files, [...gpuDefs(type), ...o.defines]), 'urrw');
    let grid;
    if (o.kernel === 'mm' || o.kernel === 'op') {
        const d = Object.fromEntries(o.defines.filter((s) => s.includes('=')).map((s) => s.split('=')));
        grid = [Math.ceil(rows / (16 * d.TM)), Math.ceil(nTok / (16 * d.TN)), splits];
    } else {
        const nwg = Math.ceil(rows / (o.pair ? o.rowsPerWg / 2 : o.rowsPerWg));
        o.gridX ??= Math.min(nwg, 65535);
        grid = [o.gridX, Math.ceil(nwg / o.gridX)];
    }
    const bufs = [g.buffer(mvParams(o), true), g.buffer(withPad(gpuLayout(type, o.mat), o.wOff)), g.buffer(X), g.buffer(y0)];
    let y = new Float32Array(await g.run(entry, bufs, grid, 3), 0, y0.length);
    bufs.forEach((b) => b.destroy());
    if (splits > 1) {
        // the outputs of region 0 become the sums over regions; every other
        // element of every region must keep its old bits
        const sum = y.slice(0, region);
        for (let t = 0; t < nTok; t++)
            for (let r = 0; r < rows; r++) {
                const i = o.yOff + t * o.yStride + r;
                for (let z = 1; z < splits; z++) {
                    sum[i] += y[z * region + i];
                    y[z * region + i] = y0[z * region + i];
                }
            }
        for (let i = region; i < y.length; i++)
            if (!bitsEqual(y.subarray(i), y0.subarray(i))) throw new Error(`${name}: split region ${Math.floor(i / region)}: y[${i % region}] outside the output was written`);
        y = sum;
    }
    checkY(name, y, y0.subarray(0, region), o, w, X);
}

// rpt: rows per thread; xs: floats of x staged in workgroup memory (0 = none);
// lc: threads of a row side by side (0 = all of them); wvec: 16-byte weight loads
// steps: STEPS (the unrolled chunk loop; 0 = a plain loop)
const mvDefines = (wg, rowsPerWg, nTok, sub, rpt = 1, xs = 0, lc = 0, wvec = false, steps = 0) => [`WG=${wg}`, `ROWS=${rowsPerWg}`, `NT=${cref.matvecConfig(0, 1, 32, nTok)[2]}`,
    `RPT=${rpt}`, ...(xs ? [`XS=${xs}`] : []), ...(sub ? ['SUBGROUPS'] : []), ...(lc ? [`LC=${lc}`] : []), ...(wvec ? ['WVEC'] : []),
    ...(steps ? [`STEPS=${steps}`] : [])];
// STEPS for cols of type with tpr threads per row: none, exact, or one short (the remainder loop)
const pickSteps = (type, cols, tpr) => {
    const exact = Math.ceil(cols / cref.matvecConfig(type, 1, cols, 1)[11] / tpr); // [11]: elements per chunk
    return pick([0, exact, Math.max(1, exact - 1)]);
};
// a random LC for tpr threads per row: 1 .. tpr, or 0 (the default, tpr)
const pickLc = (tpr) => { const c = [0]; for (let v = 1; v <= tpr; v *= 2) c.push(v); return pick(c); };
const ntOf = (nTok) => cref.matvecConfig(0, 1, 32, nTok)[2];
const blocksOf = (type, minCols) => { const q = Math.max(TYPES[type].qk, 4); return q * Math.ceil(minCols / q); };

// ---- the C variant choice, reached through the wasm ----
cref.matvecConfig = function (type, rows, cols, nTok, maxInv = 256, maxMem = 32768) {
    const out = this.e.alloc(48);
    try {
        this.x.rl_test_matvec_config(TYPES[type]?.id ?? type, rows, cols, nTok, maxInv, maxMem, out);
        return [...new Uint32Array(this.e.memory.buffer, out, 12)]; // wg, rows, nt, tm, tn, bk, rpt, xs, lc, wvec, steps, chunk
    } finally { this.e.free(out); }
};

test('wgsl: directives precede the define consts', () => {
    const s = cref.wgsl(MV_FILES, ['TYPE_Q4_K', 'WG=64', 'ROWS=4', 'NT=1', 'SUBGROUPS']);
    assert(s.startsWith('enable subgroups;\n'), `source starts with ${JSON.stringify(s.slice(0, 40))}`);
    assert(s.includes('const WG = 64;') && !cref.wgsl(MV_FILES, ['TYPE_Q4_K', 'WG=64', 'ROWS=4', 'NT=1']).includes('enable subgroups;'), 'define consts / flag');
});

test('config: mat-vec and matmul variants are valid for the kernels', () => {
    for (const type of Object.keys(TYPES))
        for (const [rows, cols] of [[1, 32 * 256], [256, 1536], [2048, 1536], [1536, 6144], [12288, 1536], [262144, 1536], [7, 256]])
            for (const nTok of [1, 3, 8])
                for (const maxInv of [256, 1024]) {
                    const [wg, rpw, nt, tm, tn, bk, rpt, xs, lc] = cref.matvecConfig(type, rows, cols, nTok, maxInv, 16384);
                    const tpr = wg * rpt / rpw;
                    assert(lc >= 1 && lc <= tpr && tpr % lc === 0 && (lc & (lc - 1)) === 0, `${type} ${rows}x${cols}: LC ${lc} with ${tpr} threads per row`);
                    assert([1, 2].includes(rpt) && rpw % rpt === 0 && Number.isInteger(tpr) && (tpr & (tpr - 1)) === 0 && wg <= Math.min(maxInv, 256) && wg >= 1,
                        `${type} ${rows}x${cols}: WG ${wg} ROWS ${rpw} RPT ${rpt}`);
                    assert(nt >= nTok && nt <= 8 && (nt & (nt - 1)) === 0, `${type}: NT ${nt} for ${nTok} tokens`);
                    // x tiles: powers of two of >= 256 columns per token, next to the WG*NT reduction floats, in 16 KiB
                    const kt = xs / nt;
                    assert(xs === 0 || (kt >= 256 && (kt & (kt - 1)) === 0 && kt < 2 * Math.max(cols, 256) && 4 * (xs + wg * nt) <= 16384), `${type} ${rows}x${cols} t${nTok}: XS ${xs}`);
                    assert(xs === 0 || (nt > 1 && rpt > 1), `${type} ${rows}x${cols} t${nTok}: XS ${xs} with NT ${nt}, RPT ${rpt}`);
                    assert([1, 2, 4, 8].includes(tm) && [1, 2, 4, 8].includes(tn) && tm * tn < 64 && [8, 16, 32].includes(bk), `matmul ${tm} ${tn} ${bk}`);
                    assert((16 * tm + 16 * tn) * (bk + 4) * 4 <= 16384, `matmul tiles fit 16 KiB: ${tm} ${tn} ${bk}`);
                }
    assert(cref.matvecConfig('Q4_K', 1, 256, 9)[2] === 0, 'NT for 9 tokens');
});

for (const type of Object.keys(TYPES)) {
    test(`matvec ${type}: planner config, quantized normals`, async () => {
        const rows = randInt(40, 150), cols = blocksOf(type, randInt(256, 1024)), nTok = randInt(1, 8);
        const [wg, rpw, , , , , rpt, xs, lc, wvec, steps] = cref.matvecConfig(type, rows, cols, nTok);
        await product(`matvec ${type} cfg`, { type, rows, cols, nTok, mode: 'quant', rowsPerWg: rpw, defines: mvDefines(wg, rpw, nTok, gpu.hasSubgroups, rpt, xs, lc, wvec, steps) });
    });
    test(`matvec ${type}: random blocks, odd WG/ROWS/RPT, x staged in tiles or not, 2-D grid, softcap, both reductions`, async () => {
        for (const sub of [true, false]) {
            // threads per row 1, 2, 4, 16, 64 against subgroup sizes 4 (SwiftShader) .. 32+
            const [wg, slots] = pick([[64, 1], [64, 4], [32, 32], [128, 2], [256, 16], [16, 16], [32, 16], [64, 16]]);
            const nTok = randInt(1, 8), rpt = pick([1, 2]), rpw = slots * rpt;
            const rows = randInt(20, 90), cols = blocksOf(type, randInt(64, 1400));
            // x tiles: none, one tile for the row, or several (the last one partial), in 16 KiB
            const nt = ntOf(nTok), tiles = Math.min(Math.ceil(cols / 256), Math.floor((4096 - wg * nt) / (256 * nt)));
            const xs = pick([0, nt * 256 * tiles, nt * 256]);
            const nwg = Math.ceil(rows / rpw), lc = pickLc(wg / slots), wvec = rng() < 0.5, steps = xs ? 0 : pickSteps(type, cols, wg / slots);
            await product(`matvec ${type} ${sub ? 'sg' : 'wg'}`, {
                type, rows, cols, nTok, mode: 'bytes', rowsPerWg: rpw, defines: mvDefines(wg, rpw, nTok, sub && gpu.hasSubgroups, rpt, xs, lc, wvec, steps),
                gridX: Math.max(1, Math.ceil(nwg / 3) - 1), softcap: sub ? 0 : 0.5 + 30 * rng(),
            });
        }
    });
    test(`matvec ${type}: one block per row, 1..3 rows, n_tok 8`, async () => {
        const cols = Math.max(TYPES[type].qk, 4);
        await product(`matvec ${type} tiny`, { type, rows: randInt(1, 3), cols, nTok: 8, mode: pick(['quant', 'bytes']), rowsPerWg: 4, defines: mvDefines(64, 4, 8, gpu.hasSubgroups, pick([1, 2]), pick([0, 2048])) });
    });
    test(`matmul ${type}: small tiles, n_tok 1..70`, async () => {
        const [tm, tn, bk] = pick([[1, 1, 8], [2, 1, 8], [1, 2, 16]]);
        const rows = randInt(16, 60), nTok = randInt(1, 70);
        // float types: cols not a multiple of BK exercises the zero-filled K tail
        const cols = TYPES[type].qk === 1 ? 4 * randInt(10, 90) : blocksOf(type, randInt(32, 600));
        await product(`matmul ${type}`, { type, rows, cols, nTok, mode: pick(['quant', 'bytes']), kernel: 'mm', defines: [`TM=${tm}`, `TN=${tn}`, `BK=${bk}`], softcap: rng() < 0.3 ? 20 : 0 });
    });
    test(`get_rows ${type}: exact gather with scale, sliced table`, async () => {
        for (const mode of ['quant', 'bytes']) await gatherCase(type, mode);
    });
}

test('matmul: a production tile size', async () => {
    // the planner's first choice (rl_matmul_config), then one other
    for (const [tm, tn, bk] of [[4, 8, 32], pick([[4, 4, 32], [4, 8, 16], [8, 4, 16], [4, 4, 16]])]) {
        const type = pick(['Q4_K', 'Q6_K', 'Q8_0', 'F16']);
        const rows = randInt(70, 140), nTok = randInt(40, 70), cols = blocksOf(type, 512);
        await product(`matmul ${type} ${tm}x${tn}x${bk}`, { type, rows, cols, nTok, mode: 'quant', kernel: 'mm', defines: [`TM=${tm}`, `TN=${tn}`, `BK=${bk}`] });
        console.error(`    (${type} ${tm}x${tn}x${bk}, ${rows}x${cols}, ${nTok} tokens)`);
    }
});

test('matvec: the tall-matrix variant the planner picks (two rows per thread, x staged for several tokens)', async () => {
    for (const nTok of [1, randInt(2, 8)]) {
        const type = pick(['Q4_K', 'Q6_K', 'Q8_0', 'F16']), rows = randInt(8192, 8400), cols = blocksOf(type, pick([256, 512]));
        const [wg, rpw, , , , , rpt, xs, lc, wvec, steps] = cref.matvecConfig(type, rows, cols, nTok);
        assert(rpt === 2 && (nTok === 1) === (xs === 0), `tall variant: RPT ${rpt}, XS ${xs} for ${nTok} tokens`);
        await product(`matvec ${type} tall`, { type, rows, cols, nTok, mode: 'quant', rowsPerWg: rpw, defines: mvDefines(wg, rpw, nTok, gpu.hasSubgroups, rpt, xs, lc, wvec, steps) });
    }
});

test('matvec EPI_PAIR: GeGLU of [gate | up] in one pass, 4 random types, n_tok 1..8, both reductions', async () => {
    for (let i = 0; i < 4; i++) {
        const type = pick(Object.keys(TYPES)), sub = i % 2 === 0 && gpu.hasSubgroups;
        const [wg, slots] = pick([[64, 4], [128, 8], [256, 16], [32, 2], [64, 64]]);
        const nTok = randInt(1, 8), rows = randInt(20, 200), cols = blocksOf(type, randInt(64, 900));
        await product(`matvec pair ${type}`, {
            type, rows, cols, nTok, mode: pick(['quant', 'bytes']), rowsPerWg: 2 * slots, pair: true,
            defines: [...mvDefines(wg, 2 * slots, nTok, sub, 2, 0, pickLc(wg / slots), rng() < 0.5, pickSteps(type, cols, wg / slots)), 'EPI_PAIR'],
        });
    }
    // the planner's variant for e2b's gate|up (6144 + 6144 rows) with one token
    const [wg, rpw, , , , , rpt, , lc, wvec, steps] = cref.matvecConfig('Q4_K', 12288, 256, 1);
    await product('matvec pair Q4_K tall', { type: 'Q4_K', rows: 6144, cols: 256, nTok: 1, mode: 'quant', rowsPerWg: rpw, pair: true,
        defines: [...mvDefines(wg, rpw, 1, gpu.hasSubgroups, rpt, 0, lc, wvec, steps), 'EPI_PAIR'] });
});

// ---- the mat-vec's residual prologue (kernels/matvec.wgsl PRO_RES) ----
// One token: r = RMSNorm(x; w1), h' = (h + r) * s (s = PV[pro_s] when
// pro_flags & 1), u = RMSNorm(h'; w2) when pro_flags & 2 else h', y = W u
// (with the EPI_PAIR / EPI_GEGLU epilogues when asked). The first workgroup
// writes h' to HOUT and (flag 2) u to UOUT; every other element of Y, HOUT and
// UOUT keeps its bits. Bindings: kernel table row K_MATVEC_RES (src/gpu/kernels.c).
// (Other workgroups writing the same h' too would not show: the values are equal.)
const PRO_EPS = 1e-6, PRO_REL = 4e-6; // PRO_REL: f32 sums of squares and inverseSqrt, relative
async function proRes(name, o) {
    const { type, rows, cols, flags } = o;
    const wRows = o.pair ? 2 * rows : rows;
    const mat = makeWeights(type, wRows, cols, o.mode), w = cref.dequant(type, mat, wRows * cols);
    const wOff = o.wvec && ['F32', 'Q4_K', 'Q5_K'].includes(type) ? 16 * randInt(0, 3) : offsetFor(type), xOff = 4 * randInt(0, 3), yOff = randInt(0, 5);
    const X = randn(xOff + cols + 4 * randInt(0, 2)), H = randn(cols + 4 * randInt(0, 2));
    // PV: random floats around w1 (at pro_w1), w2 (at pro_w2) and s (at pro_s)
    const around = (n) => Float32Array.from({ length: n }, () => 0.5 + rng());
    const w1At = 4 * randInt(0, 3), w2At = w1At + cols + 4 * randInt(0, 3), sAt = w2At + cols + randInt(0, 5);
    const PV = around(4 * Math.ceil((sAt + 1) / 4) + 4 * randInt(0, 1)); // whole vec4s: a partial one is no element of PV
    PV[sAt] = Math.fround(0.5 + 1.5 * rng()); // read even without flag 1 would show: s != 1
    const B = randn(rows + 8), gegluOff = randInt(0, 5);
    const y0 = randn(yOff + rows + randInt(1, 4)), hout0 = randn(cols + 4 * randInt(1, 3)), uout0 = randn(cols + 4 * randInt(1, 3));
    const P = { rows, cols, nTok: 1, wOff, xOff, xStride: cols, yOff, yStride: rows, proW1: w1At, proW2: w2At, proS: sAt, proFlags: flags };
    if (o.pair) P.pad0 = rows;
    if (o.geglu) P.pad0 = gegluOff;
    const outRows = o.pair ? o.rowsPerWg / 2 : o.rowsPerWg, nwg = Math.ceil(rows / outRows);
    P.gridX = o.gridX ?? nwg;
    const grid = [P.gridX, Math.ceil(nwg / P.gridX)];
    const defines = [...gpuDefs(type), `WG=${o.wg}`, `ROWS=${o.rowsPerWg}`, 'NT=1', `RPT=${o.rpt}`, `XS=${cols}`, 'PRO_RES', `EPS=${PRO_EPS}`,
        ...(o.sub ? ['SUBGROUPS'] : []), ...(o.pair ? ['EPI_PAIR'] : []), ...(o.geglu ? ['EPI_GEGLU'] : []),
        ...(o.lc ? [`LC=${o.lc}`] : []), ...(o.wvec ? ['WVEC'] : []), ...(o.steps ? [`STEPS=${o.steps}`] : []), ...(o.idot ? ['IDOT'] : []),
        ...(o.lout ? ['LIMBS_OUT', 'LIMBS_FLAT'] : [])];
    // LIMBS_OUT: binding 8 is the limbs' words (24 a block, then scales and sums), with a random tail
    const xlo0 = new Uint32Array(26 * (rows / 32) + randInt(1, 8)).map(() => (rng() * 2 ** 32) >>> 0);
    const entry = await gpu.pipeline(cref.wgsl(PRO_FILES, defines), 'urrwrrrww');
    const bufs = [gpu.buffer(mvParams(P), true), gpu.buffer(withPad(gpuLayout(type, mat), wOff)), gpu.buffer(X), gpu.buffer(y0), gpu.buffer(B), gpu.buffer(H),
        gpu.buffer(PV), gpu.buffer(hout0), gpu.buffer(o.lout ? xlo0 : uout0)];
    gpu.dispatch(entry, gpu.bindGroup(entry, bufs), grid);
    const y = new Float32Array(await gpu.read(bufs[3]), 0, y0.length);
    const hout = new Float32Array(await gpu.read(bufs[7]), 0, hout0.length);
    const uout = o.lout ? uout0 : new Float32Array(await gpu.read(bufs[8]), 0, uout0.length);
    if (o.lout) checkLimbsOut(name, new Uint32Array(await gpu.read(bufs[8]), 0, xlo0.length), xlo0, y.subarray(yOff, yOff + rows));
    bufs.forEach((b) => b.destroy());

    // the reference in doubles, with a bound on the f32 error of each element
    const eps = Math.fround(PRO_EPS), s = flags & 1 ? PV[sAt] : 1;
    const invRms = (v) => { let q = 0; for (const e of v) q += e * e; return 1 / Math.sqrt(q / cols + eps); };
    const nores = flags & 4, inv1 = nores ? 0 : invRms(X.subarray(xOff, xOff + cols)); // flag 4: no residual, X unused
    const hp = new Float64Array(cols), hTol = new Float64Array(cols);
    for (let c = 0; c < cols; c++) {
        const r = nores ? 0 : X[xOff + c] * inv1 * PV[w1At + c];
        hp[c] = (H[c] + r) * s;
        hTol[c] = PRO_REL * (Math.abs(H[c]) + Math.abs(r)) * s + 1e-30;
    }
    let u = hp, uTol = hTol;
    if (flags & 2) {
        const inv2 = invRms(hp);
        u = hp.map((v, c) => v * inv2 * PV[w2At + c]);
        uTol = hTol.map((t, c) => t * inv2 * PV[w2At + c] + PRO_REL * Math.abs(u[c]));
    }
    let worstRatio = 0;
    const near = (what, got, ref, tol) => {
        const err = Math.abs(got - ref);
        if (!(err <= tol)) throw new Error(`${name}: ${what} = ${got}, expected ${ref} (err ${err.toExponential(2)}, tol ${tol.toExponential(2)})`);
        worstRatio = Math.max(worstRatio, err / tol);
    };
    const untouched = (what, got, old, from) => {
        for (let i = from; i < old.length; i++)
            if (!bitsEqual(got.subarray(i), old.subarray(i))) throw new Error(`${name}: ${what}[${i}] outside the output was written`);
    };
    for (let c = 0; c < cols; c++) near(`hout[${c}]`, hout[c], hp[c], hTol[c]);
    untouched('hout', hout, hout0, cols);
    if (flags & 2 && !o.lout) { // LIMBS_OUT: binding 8 holds the limbs instead
        for (let c = 0; c < cols; c++) near(`uout[${c}]`, uout[c], u[c], uTol[c]);
        untouched('uout', uout, uout0, cols);
    } else untouched('uout', uout, uout0, 0);
    // y: the product's f32 error (TOL * sum |w u|) plus that of u itself; IDOT: plus the limbs'
    // rounding of u, 2^-22 of the largest |u| (kernels/limbs.wgsl: s_t / 2^17, s_t <= 2^-5 of it)
    let uMax = 0;
    for (let c = 0; c < cols; c++) uMax = Math.max(uMax, Math.abs(u[c]));
    const dot = (r) => {
        let sum = 0, mag = 0, du = 0;
        for (let c = 0; c < cols; c++) {
            const wc = w[r * cols + c];
            sum += wc * u[c];
            mag += Math.abs(wc * u[c]);
            du += Math.abs(wc) * (uTol[c] + (o.idot ? uMax * 2 ** -22 : 0));
        }
        return [sum, TOL * mag + du + 1e-30];
    };
    for (let r = 0; r < rows; r++) {
        let [ref, tol] = dot(r);
        if (o.pair) { // gelu(gate row r) * (up row r + rows); gelu' <= 1.13
            const [up, upTol] = dot(r + rows), gl = geluTanh(ref);
            tol = 1.13 * tol * Math.abs(up) + Math.abs(gl) * upTol + 4e-7 * Math.abs(gl * up);
            ref = gl * up;
        } else if (o.geglu) {
            const b = B[gegluOff + r], gl = geluTanh(ref);
            tol = 1.13 * tol * Math.abs(b) + 4e-7 * Math.abs(gl * b);
            ref = gl * b;
        }
        near(`y[${r}]`, y[yOff + r], ref, tol);
    }
    for (let i = 0; i < y0.length; i++)
        if ((i < yOff || i >= yOff + rows) && !bitsEqual(y.subarray(i), y0.subarray(i))) throw new Error(`${name}: y[${i}] outside the output was written`);
    worst[name] = Math.max(worst[name] || 0, worstRatio);
}

// LIMBS_OUT's words for the outputs y (kernels/matvec.wgsl): each 32-output block's limbs
// stand for its values to within its scale / 2^17, the scale is 2^(E-6) of the block's
// largest |y| (limbs.wgsl), the sum is theirs, and no other word was written.
function checkLimbsOut(name, got, old, y) {
    const nb = y.length / 32, f32 = new Float32Array(got.buffer, got.byteOffset, got.length);
    for (let b = 0; b < nb; b++) {
        const ref = limbsOf(y.subarray(32 * b, 32 * b + 32));
        const s = f32[24 * nb + b];
        assert(s === ref.s, `${name}: block ${b}'s limb scale ${s}, expected ${ref.s}`);
        let sum = 0, mag = 0;
        for (let k = 0; k < 32; k++) {
            const c = 32 * b + k, word = (l) => got[24 * b + 8 * l + (k >> 2)];
            const digit = (l) => ((word(l) >>> (8 * (k & 3))) << 24) >> 24;
            const v = s * (digit(0) + digit(1) / 256 + digit(2) / 65536);
            if (!(Math.abs(v - y[c]) <= s * 2 ** -17)) throw new Error(`${name}: limbs of y[${c}] stand for ${v}, y is ${y[c]}`);
            sum += y[c], mag += Math.abs(y[c]);
        }
        const gs = f32[25 * nb + b];
        if (!(Math.abs(gs - sum) <= 1e-6 * mag + 1e-30)) throw new Error(`${name}: block ${b}'s sum ${gs}, expected ${sum}`);
    }
    for (let i = 26 * nb; i < old.length; i++) if (got[i] !== old[i]) throw new Error(`${name}: limb word ${i} past the output was written`);
}

test('matvec PRO_RES: the residual prologue, 3 random types, cols 256 and 1536, flags 0..6, several workgroups, both reductions, EPI_PAIR and EPI_GEGLU, integer products (IDOT), their outputs as limbs (LIMBS_OUT)', async () => {
    const others = Object.keys(TYPES).filter((t) => t !== 'Q4_K');
    const t2 = pick(others), types = ['Q4_K', t2, pick(others.filter((t) => t !== t2))];
    const shapes = [[64, 4, 1], [128, 8, 2], [32, 2, 1], [64, 8, 2], [256, 16, 1], [32, 4, 2]]; // WG, ROWS, RPT
    let k = 0;
    for (const [ti, type] of types.entries()) {
        for (let flags = 0; flags < 4; flags++, k++) {
            const cols = (ti + flags) % 2 ? 1536 : 256, [wg, rpw, rpt] = pick(shapes), sub = k % 2 === 0 && gpu.hasSubgroups;
            const rows = randInt(40, 300), nwg = Math.ceil(rows / rpw);
            await proRes(`matvec pro ${type} f${flags}`, { type, rows, cols, flags, mode: pick(['quant', 'bytes']), wg, rowsPerWg: rpw, rpt, sub,
                lc: pickLc(wg * rpt / rpw), wvec: rng() < 0.5, steps: pickSteps(type, cols, wg * rpt / rpw), gridX: pick([nwg, Math.ceil(nwg / 3)]), // a 2-D grid with idle workgroups at the end, too
                idot: type === 'Q4_K' && flags % 2 === 1 }); // integer products (IDOT) for half the Q4_K cases
        }
    }
    // flag 4: no residual yet (a pass's first pre-norm on the first mat-vec), with and without the next norm
    for (const flags of [6, 4, 5]) {
        const type = pick(types), [wg, rpw, rpt] = pick(shapes), rows = randInt(40, 300);
        await proRes(`matvec pro ${type} f${flags}`, { type, rows, cols: pick([256, 1536]), flags, mode: 'quant', wg, rowsPerWg: rpw, rpt, sub: rng() < 0.5 && gpu.hasSubgroups,
            lc: pickLc(wg * rpt / rpw), wvec: rng() < 0.5 });
    }
    // one workgroup alone (it must write h' and u), the GeGLU epilogues
    await proRes('matvec pro single', { type: pick(types), rows: randInt(1, 8), cols: 256, flags: 3, mode: 'quant', wg: 64, rowsPerWg: 8, rpt: 1, sub: gpu.hasSubgroups });
    await proRes('matvec pro pair', { type: 'Q4_K', rows: randInt(40, 300), cols: 1536, flags: randInt(0, 3), mode: 'quant', wg: 64, rowsPerWg: 8, rpt: 2, pair: true, sub: gpu.hasSubgroups, lc: 4, wvec: true });
    // the engine's gate|up on integer products: GeGLU pairs, two rows a thread, 16-byte loads or not
    // ... also writing its outputs as limbs for the down product (LIMBS_OUT: 32 outputs a workgroup)
    await proRes('matvec pro pair idot limbs out', { type: 'Q4_K', rows: 32 * randInt(2, 9), cols: pick([256, 1536]), flags: randInt(0, 3), mode: 'quant', wg: 256, rowsPerWg: 64, rpt: 2, pair: true,
        sub: gpu.hasSubgroups, lc: 4, wvec: true, idot: true, lout: true });
    for (const wvec of [true, false])
        await proRes(`matvec pro pair idot${wvec ? '' : ' words'}`, { type: 'Q4_K', rows: randInt(40, 300), cols: pick([256, 1536]), flags: randInt(0, 3), mode: 'quant', wg: 128, rowsPerWg: 32, rpt: 2, pair: true, sub: gpu.hasSubgroups, lc: 4, wvec, idot: true });
    for (const rpt of [1, 2]) // the gate's B for the thread's first and second rows
        await proRes(`matvec pro geglu rpt ${rpt}`, { type: pick(types), rows: randInt(40, 300), cols: 256, flags: 3, mode: 'quant', wg: 128, rowsPerWg: 8, rpt, geglu: true, sub: rpt === 2 && gpu.hasSubgroups });
});

// ---- the mat-vec merging the decode attention's key splits (kernels/matvec.wgsl PRO_ATTN) ----
// X holds n_split partials of AH heads of hd dimensions as attn_decode.wgsl PART_VEC writes
// them: [AH][n_split][hd] unnormalised outputs, then [AH][n_split] (m, l) pairs, some splits
// empty (m = -FLT_MAX, l = 0, outputs 0). y = W x with x_h = sum_s acc_s e^(m_s - M) / sum_s
// l_s e^(m_s - M), in doubles; random types, workgroup shapes, both reductions.
test('matvec PRO_ATTN: the attention\'s split partials merged on the way in, random types, 1..16 splits, empty ones', async () => {
    for (let c = 0; c < 6; c++) {
        const type = pick(['Q4_K', 'Q6_K', 'Q8_0', 'F16', 'Q5_0', 'Q3_K']), hd = pick([64, 128, 256]), AH = pick([4, 8]); // whole 256-column tiles (XS)
        const cols = AH * hd, AS = 16, ns = c === 0 ? 1 : randInt(2, AS), rows = randInt(20, 200);
        const [wg, rpw, , , , , rpt] = cref.matvecConfig(type, rows, cols, 1);
        const sub = gpu.hasSubgroups && c % 2 === 0;
        const mat = makeWeights(type, rows, cols, 'quant'), w = cref.dequant(type, mat, rows * cols);
        const NEG = -3.4028234663852886e38;
        const X = new Float32Array(AH * ns * (hd + 2) + 4 * randInt(0, 2));
        const x = new Float64Array(cols);
        for (let h = 0; h < AH; h++) {
            const m = [], l = [];
            for (let sp = 0; sp < ns; sp++) {
                const empty = sp > 0 && rng() < 0.25;
                m.push(empty ? NEG : Math.fround(4 * rng() - 2));
                l.push(empty ? 0 : Math.fround(0.5 + 3 * rng()));
                for (let d = 0; d < hd; d++) X[(h * ns + sp) * hd + d] = empty ? 0 : Math.fround(2 * rng() - 1) * l[sp];
                X[AH * ns * hd + 2 * (h * ns + sp)] = m[sp];
                X[AH * ns * hd + 2 * (h * ns + sp) + 1] = l[sp];
            }
            const M = Math.max(...m), L = l.reduce((a, v, sp) => a + v * Math.exp(m[sp] - M), 0);
            for (let sp = 0; sp < ns; sp++)
                for (let d = 0; d < hd; d++) x[h * hd + d] += X[(h * ns + sp) * hd + d] * Math.exp(m[sp] - M) / L;
        }
        const yOff = randInt(0, 5), y0 = randn(yOff + rows + randInt(1, 4)), wOff = offsetFor(type);
        const nwg = Math.ceil(rows / rpw);
        const P = { rows, cols, nTok: 1, wOff, xOff: 0, xStride: cols, yOff, yStride: rows, gridX: nwg, proW1: hd, proW2: ns };
        const defines = [...gpuDefs(type), ...mvDefines(wg, rpw, 1, sub, rpt, cols), 'PRO_ATTN', `AH=${AH}u`, `AS=${AS}u`];
        const entry = await gpu.pipeline(cref.wgsl(MV_FILES, defines), 'urrw');
        const bufs = [gpu.buffer(mvParams(P), true), gpu.buffer(withPad(gpuLayout(type, mat), wOff)), gpu.buffer(X), gpu.buffer(y0)];
        gpu.dispatch(entry, gpu.bindGroup(entry, bufs), [nwg, 1]);
        const y = new Float32Array(await gpu.read(bufs[3]), 0, y0.length);
        bufs.forEach((b) => b.destroy());
        let worstRatio = 0;
        for (let r = 0; r < rows; r++) {
            let ref = 0, mag = 0;
            for (let k = 0; k < cols; k++) ref += w[r * cols + k] * x[k], mag += Math.abs(w[r * cols + k] * x[k]);
            const tol = 2e-5 * mag + 1e-30, err = Math.abs(y[yOff + r] - ref); // x's own f32 merge: ~1e-6 relative
            assert(err <= tol, `${type} ${AH}x${hd}, ${ns} splits: y[${r}] = ${y[yOff + r]}, expected ${ref} (err ${err.toExponential(2)}, tol ${tol.toExponential(2)})`);
            worstRatio = Math.max(worstRatio, err / tol);
        }
        for (let i = 0; i < y0.length; i++)
            if ((i < yOff || i >= yOff + rows) && !bitsEqual(y.subarray(i), y0.subarray(i))) throw new Error(`y[${i}] outside the output was written`);
        worst[`matvec attn ${type}`] = Math.max(worst[`matvec attn ${type}`] || 0, worstRatio);
    }
});

test('matmul_op: outer-product tiles, 4 random types, n_tok 1..150, split K', async () => {
    for (let i = 0; i < 4; i++) {
        const type = pick(Object.keys(TYPES));
        const [tm, tn, bk] = pick([[4, 4, 8], [4, 4, 16], [4, 8, 8], [8, 4, 16], [8, 8, 16], [8, 8, 32]]);
        const rows = randInt(16, 150), nTok = randInt(1, 150);
        const cols = TYPES[type].qk === 1 ? 4 * randInt(10, 90) : blocksOf(type, randInt(32, 600));
        const o = { type, rows, cols, nTok, mode: pick(['quant', 'bytes']), kernel: 'op', defines: [`TM=${tm}`, `TN=${tn}`, `BK=${bk}`], softcap: rng() < 0.3 ? 20 : 0 };
        if (rng() < 0.5) { // split K: partial sums of column ranges, summed here
            o.splitK = randInt(2, 3);
            o.kc = bk * Math.ceil(Math.ceil(cols / o.splitK) / bk);
            o.softcap = 0;
        }
        await product(`matmul_op ${type} ${tm}x${tn}x${bk}${o.splitK ? ` split ${o.splitK}` : ''}`, o);
    }
});

// ---- one-slot products on integer dot products from their input's limbs (matvec.wgsl IDOT XLIMBS) ----
// x as three int8 limbs (kernels/limbs.wgsl's definition, written again here): the scale s =
// 2^(E-6) for the group's largest |x| = f 2^E (f in [0.5, 1)), n = round(x 2^(22-E)) as balanced
// base-256 digits n = 65536 l0 + 256 l1 + l2. Returns the scale, the digits and the values they
// stand for (x to within s / 2^17).
function limbsOf(x) {
    let mx = 0;
    for (const v of x) mx = Math.max(mx, Math.abs(v));
    let E = mx > 0 ? Math.floor(Math.log2(mx)) + 1 : 0;
    while (mx > 0 && mx >= 2 ** E) E++;
    while (mx > 0 && mx < 2 ** (E - 1)) E--;
    const digits = [], rec = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
        const n = Math.round(x[i] * 2 ** (22 - E));
        const l2 = ((n + 128) & 255) - 128, n1 = (n - l2) / 256, l1 = ((n1 + 128) & 255) - 128, l0 = (n1 - l1) / 256;
        digits.push([l0, l1, l2]);
        rec[i] = 2 ** (E - 6) * (l0 + l1 / 256 + l2 / 65536);
    }
    return { s: 2 ** (E - 6), digits, rec };
}
const XL_FILES = ['common.wgsl', 'quant.wgsl', 'quant_chunk.wgsl', 'weight_op.wgsl', 'limbs.wgsl', 'matvec.wgsl']; // as K_MATVEC_XL

// x's values spread over 2^20 (most of their digits below the top limb), limbs one scale for
// the token (a norm's) or one per 32-column block (the GeGLU pair's LIMBS_OUT) in the flat
// layout (XL: block b's limb l at words 24 b + 8 l), the scale(s) and block sums in XF. The
// product must be that of the values the limbs stand for, to f32's rounding: the integer sums
// are exact, so a limb read wrongly (or not at all) shows.
async function xlimbsCase(name, o) {
    const { type, rows, cols, perBlock } = o;
    const nb = cols / 32, mat = makeWeights(type, rows, cols, o.mode), w = cref.dequant(type, mat, rows * cols);
    const x = Float64Array.from(randn(cols), (v) => v * 2 ** (-20 * rng()));
    const groups = perBlock ? Array.from({ length: nb }, (_, b) => limbsOf(x.subarray(32 * b, 32 * b + 32))) : [limbsOf(x)];
    const words = new Uint32Array(24 * nb + 8 * randInt(0, 2)), rec = new Float64Array(cols);
    for (let c = 0; c < cols; c++) {
        const g = perBlock ? groups[c >> 5] : groups[0], k = perBlock ? c & 31 : c;
        rec[c] = g.rec[k];
        assert(Math.abs(rec[c] - x[c]) <= g.s * 2 ** -17, `${name}: the test's limbs of x[${c}]`);
        for (let l = 0; l < 3; l++) words[24 * (c >> 5) + 8 * l + ((c & 31) >> 2)] |= (g.digits[k][l] & 255) << (8 * (c & 3));
    }
    // XF: [pad] scales [pad] block sums (of the values the limbs stand for, as the kernel assumes)
    const sAt = randInt(0, 5), sumAt = sAt + (perBlock ? nb : 1) + randInt(0, 5);
    const XF = randn(sumAt + nb + randInt(0, 3));
    for (let b = 0; b < (perBlock ? nb : 1); b++) XF[sAt + b] = groups[b].s;
    for (let b = 0; b < nb; b++) { let s = 0; for (let c = 32 * b; c < 32 * b + 32; c++) s += rec[c]; XF[sumAt + b] = s; }
    const wOff = o.wvec && type === 'Q4_K' ? 16 * randInt(0, 3) : offsetFor(type), yOff = randInt(0, 5);
    const y0 = randn(yOff + rows + randInt(1, 4));
    const nwg = Math.ceil(rows / o.rowsPerWg);
    const P = { rows, cols, nTok: 1, wOff, xOff: 0, xStride: cols, yOff, yStride: rows, gridX: o.gridX ?? nwg, softcap: o.softcap ?? 0,
        pad0: sumAt, proS: sAt, proFlags: perBlock ? 1 : 0 };
    const defines = [...gpuDefs(type), `WG=${o.wg}`, `ROWS=${o.rowsPerWg}`, 'NT=1', 'RPT=1', 'IDOT', 'XLIMBS', 'LIMBS_FLAT',
        ...(o.sub ? ['SUBGROUPS'] : []), ...(o.lc ? [`LC=${o.lc}`] : []), ...(o.wvec ? ['WVEC'] : [])];
    const entry = await gpu.pipeline(cref.wgsl(XL_FILES, defines), 'urrwrr');
    const bufs = [gpu.buffer(mvParams(P), true), gpu.buffer(withPad(gpuLayout(type, mat), wOff)), gpu.buffer(Float32Array.from(x)), gpu.buffer(y0),
        gpu.buffer(words), gpu.buffer(XF)];
    const y = new Float32Array(await gpu.run(entry, bufs, [P.gridX, Math.ceil(nwg / P.gridX)], 3), 0, y0.length);
    bufs.forEach((b) => b.destroy());
    checkY(name, y, y0, { rows, cols, nTok: 1, xOff: 0, xStride: cols, yOff, yStride: rows, softcap: P.softcap, type, mat, rb: rowBytes(type, cols), noDot: true },
        w, rec);
}

test('matvec XLIMBS: Q4_K and Q6_K from limbs with one scale or one a block, both reductions, the engine\'s head and down shapes', async () => {
    const shapes = [[64, 4], [128, 32], [256, 64], [128, 8]]; // WG, ROWS (one row a thread slot)
    let k = 0;
    for (const type of ['Q4_K', 'Q6_K'])
        for (const perBlock of [false, true]) {
            const [wg, rpw] = pick(shapes), rows = randInt(40, 200), cols = pick([256, 768, 1536]), nwg = Math.ceil(rows / rpw);
            await xlimbsCase(`matvec xl ${type}${perBlock ? ' per block' : ''}`, { type, rows, cols, perBlock, mode: pick(['quant', 'bytes']), wg, rowsPerWg: rpw,
                sub: k++ % 2 === 0 && gpu.hasSubgroups, lc: pickLc(wg / rpw), wvec: rng() < 0.5, gridX: pick([nwg, Math.ceil(nwg / 3)]), softcap: perBlock ? 0 : 30 });
        }
    // as the planner runs them: e2b's LM head (Q6_K, a norm's one scale) and down (per block), fewer rows
    for (const [type, cols, perBlock] of [['Q6_K', 1536, false], ['Q4_K', 6144, true], ['Q6_K', 6144, true]]) {
        const rows = type === 'Q6_K' && !perBlock ? 512 : 96;
        const [wg, rpw, , , , , , , lc, wvec] = cref.matvecConfig(type, perBlock ? 1536 : 262144, cols, 1);
        await xlimbsCase(`matvec xl ${type} ${cols} planner`, { type, rows, cols, perBlock, mode: 'quant', wg, rowsPerWg: rpw, sub: gpu.hasSubgroups, lc, wvec: !!wvec });
    }
});

test('matvec: a device without subgroups runs the fallback variant', async () => {
    const g2 = await KernelRunner.open({ disable: ['subgroups'] });
    try {
        assert(!g2.hasSubgroups, 'subgroups disabled');
        await product('matvec Q6_K no-sg', { type: 'Q6_K', rows: 77, cols: 512, nTok: 3, mode: 'quant', rowsPerWg: 4, defines: mvDefines(64, 4, 3, false) }, g2);
    } finally { g2.destroy(); }
});

async function gatherCase(type, mode) {
    const T = TYPES[type];
    const cols = T.qk === 1 ? 4 * randInt(3, 40) : blocksOf(type, randInt(32, 600));
    const tableRows = randInt(5, 30);
    const mat = makeWeights(type, tableRows, cols, mode);
    const w = cref.dequant(type, mat, tableRows * cols);
    // this binding holds rows [rowLo, rowLo + nrows) of a larger table
    const rowLo = randInt(0, 5), nrows = tableRows;
    const nIds = randInt(1, 12), idsOff = randInt(0, 3);
    const ids = new Uint32Array(idsOff + nIds + 2);
    for (let i = 0; i < ids.length; i++) ids[i] = randInt(0, rowLo + nrows + 3); // some outside the slice
    const wOff = offsetFor(type), yOff = randInt(0, 7), yStride = cols + randInt(0, 5);
    const scale = rng() < 0.3 ? 1 : Math.fround(0.1 + 40 * rng());
    const y0 = randn(yOff + (nIds - 1) * yStride + cols + 3);
    const wg = pick([32, 64]);
    const entry = await gpu.pipeline(cref.wgsl(GR_FILES, [...gpuDefs(type), `WG=${wg}`]), 'urrw');
    const P = { nIds, cols, rowLo, nrows, wOff, idsOff, yOff, yStride, scale };
    const bufs = [gpu.buffer(grParams(P), true), gpu.buffer(withPad(gpuLayout(type, mat), wOff)), gpu.buffer(ids), gpu.buffer(y0)];
    const y = new Float32Array(await gpu.run(entry, bufs, [Math.ceil(cols / 8 / wg), nIds], 3), 0, y0.length);
    bufs.forEach((b) => b.destroy());
    const expect = Float32Array.from(y0);
    for (let t = 0; t < nIds; t++) {
        const id = ids[idsOff + t];
        if (id < rowLo || id >= rowLo + nrows) continue;
        for (let c = 0; c < cols; c++) expect[yOff + t * yStride + c] = Math.fround(w[(id - rowLo) * cols + c] * scale);
    }
    for (let i = 0; i < y.length; i++)
        if (!bitsEqual(y.subarray(i), expect.subarray(i))) throw new Error(`get_rows ${type} ${mode}: y[${i}] = ${y[i]}, expected ${expect[i]}`);
}

// ---- the integer tensor-core prefill product (smx_pack + act_limbs + matmul_smx) ----
// Emulated fragment operations here (plain WGSL, lane by lane); the hardware
// subgroup matrices where the device offers them (SMX_HW; the H100 through
// Dawn's allow_unsafe_apis). The packed rows are checked against the weights
// (one f32 scale max|w| / 32512 a row, every value within 0.51 of a step, the
// tile layout read back as smx_pack.wgsl documents it); the product against the
// f32 one with the packing's and the limbs' bounds added (checkY rowScale, limbTol).
const SMX_PACK_FILES = ['common.wgsl', 'reduce.wgsl', 'quant.wgsl', 'smx_pack.wgsl'];
async function smxProduct(name, o, hw) {
    const { type, rows, cols, nTok } = o;
    const tPad = Math.ceil(nTok / 64) * 64, nb = cols / 32;
    const mat = makeWeights(type, rows, cols, o.mode);
    const w = cref.dequant(type, mat, rows * cols);
    const wOff = 16 * randInt(0, 3);
    // pack into an arena with other words around: tiles at tileOff, scales at scaleOff (words)
    const tileOff = 4 * randInt(0, 8), scaleOff = tileOff + rows * cols / 2 + randInt(0, 9);
    const arena = new Int32Array(scaleOff + rows + 5);
    for (let i = 0; i < arena.length; i++) arena[i] = 0x5a5a5a5a ^ i;
    const sg = gpu.hasSubgroups ? ['SUBGROUPS', 'SGMIN=4u'] : [];
    const pack = await gpu.pipeline(cref.wgsl(SMX_PACK_FILES, [...gpuDefs(type), 'WG=256u', ...sg]), 'urw');
    const gx = randInt(1, rows), pp = gpu.buffer(params([rows, cols, wOff, tileOff, scaleOff, gx, 0, 0]), true);
    const wb = gpu.buffer(withPad(gpuLayout(type, mat), wOff)), pb = gpu.buffer(arena);
    gpu.dispatch(pack, gpu.bindGroup(pack, [pp, wb, pb]), [gx, Math.ceil(rows / gx)]);
    const packed = new Int32Array(await gpu.read(pb));
    const bytes = new Int8Array(packed.buffer), scales = new Float32Array(packed.buffer);
    const rowScale = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
        let mx = 0;
        for (let c = 0; c < cols; c++) mx = Math.max(mx, Math.abs(w[r * cols + c]));
        const sr = scales[scaleOff + r];
        // WGSL's f32 division is good to 2.5 ulp, not correctly rounded
        if (!(Math.abs(sr - mx / 32512) <= 3e-7 * mx / 32512)) throw new Error(`${name}: row ${r} scale ${sr}, expected ${mx / 32512}`);
        rowScale[r] = sr;
        const tile = 4 * tileOff + ((r >> 4) * nb * 256 + (r & 15) * 8) * 4;
        for (let c = 0; c < cols; c++) {
            const at = tile + (c >> 5) * 1024 + (c & 31), n = 256 * bytes[at] + bytes[at + 512];
            if (!(Math.abs(sr * n - w[r * cols + c]) <= 0.51 * sr)) throw new Error(`${name}: packed w[${r}][${c}] = ${sr} * ${n}, expected ${w[r * cols + c]}`);
        }
    }
    for (let i = 0; i < arena.length; i++) {
        if (i >= tileOff && i < tileOff + rows * cols / 2) continue;
        if (i >= scaleOff && i < scaleOff + rows) continue;
        if (packed[i] !== arena[i]) throw new Error(`${name}: pack wrote word ${i} outside its tiles and scales`);
    }
    const xOff = 4 * randInt(0, 3), xStride = cols + 4 * randInt(0, 2);
    const yOff = randInt(0, 5), yStride = rows + randInt(0, 3);
    const X = randn(xOff + (nTok - 1) * xStride + cols);
    for (let t = 0; t < nTok; t++) { // tokens of very different size, and an outlier channel
        const f = 10 ** randInt(-3, 3);
        for (let c = 0; c < cols; c++) X[xOff + t * xStride + c] *= f * (c === 7 ? 40 : 1);
    }
    const y0 = randn(yOff + (nTok - 1) * yStride + rows + 3);
    const xl = gpu.buffer(tPad * 3 * cols), xf = gpu.buffer(tPad * 4), xb = gpu.buffer(X);
    // o.glu: the limbs pass makes the product's input, gelu(X) * B (act_limbs.wgsl GLU)
    const bOff = randInt(0, 9), bStride = cols + randInt(0, 5), B = o.glu ? randn(bOff + nTok * bStride) : null;
    const lp = gpu.buffer(params([cols, nTok, xOff, xStride, 0, nb, o.glu ? bOff : 0, o.glu ? bStride : 0]), true);
    const limbs = await gpu.pipeline(gpu.limbsSource(cref, o.glu, o.nl), o.glu ? 'urwwr' : 'urww');
    const bb = o.glu ? gpu.buffer(B) : null;
    gpu.dispatch(limbs, gpu.bindGroup(limbs, o.glu ? [lp, xb, xl, xf, bb] : [lp, xb, xl, xf]), [nTok]);
    let Xin = X;
    if (o.glu) { // the GeGLU's values in f32, as the kernel makes them (to a few ulp: limbTol below)
        Xin = new Float32Array(X.length);
        for (let t = 0; t < nTok; t++)
            for (let c = 0; c < cols; c++) Xin[xOff + t * xStride + c] = geluTanh(X[xOff + t * xStride + c]) * B[bOff + t * bStride + c];
        bb.destroy();
    }
    const entry = await gpu.pipeline(cref.wgsl(['matmul_smx.wgsl', 'limbs.wgsl'], [`KS=${o.ks}u`, `ST=${o.st}u`, ...(hw ? ['SMX_HW'] : []), ...(o.nl === 2 ? ['LIMBS2'] : [])]), 'urrrw');
    const yb = gpu.buffer(y0), grid = [Math.ceil(nTok / 64), Math.ceil(rows / 128)];
    let y;
    if (o.slices > 1) { // split K: slice z's sums at z * part of a scratch (random words between), then split_sum
        const kbPer = Math.ceil(nb / o.slices), slices = Math.ceil(nb / kbPer), part = rows * nTok + randInt(0, 7);
        const sp = gpu.buffer(params([rows, cols, nTok, tileOff, scaleOff, 0, rows, 0, nb, 0, kbPer, part], [9]), true);
        const partb = gpu.buffer(randn(slices * part));
        gpu.dispatch(entry, gpu.bindGroup(entry, [sp, pb, xl, xf, partb]), [...grid, slices]);
        const sum = await gpu.pipeline(cref.wgsl(['split_sum.wgsl'], ['WG=64u']), 'urw');
        const qp = gpu.buffer(params([rows, nTok, slices, part, yOff, yStride, o.softcap ?? 0, 0], [6]), true);
        y = new Float32Array(await gpu.run(sum, [qp, partb, yb], [Math.ceil(rows / 64), nTok], 2), 0, y0.length);
        [sp, partb, qp].forEach((b) => b.destroy());
    } else {
        const sp = gpu.buffer(params([rows, cols, nTok, tileOff, scaleOff, yOff, yStride, 0, nb, o.softcap ?? 0, nb, 0], [9]), true);
        y = new Float32Array(await gpu.run(entry, [sp, pb, xl, xf, yb], grid, 4), 0, y0.length);
        sp.destroy();
    }
    [xl, xf, xb, lp, wb, pb, pp, yb].forEach((b) => b.destroy());
    // limbs: 2^-23 of the token's largest value (two limbs: half a step of xmax / 32512); f32 GeGLU values: a few ulp more
    const limbTol = (o.nl === 2 ? 0.5 / 32512 + 2.4e-7 : 2.4e-7) + (o.glu ? 1.1e-6 : 0);
    checkY(name, y, y0, { type, rows, cols, nTok, xOff, xStride, yOff, yStride, softcap: o.softcap ?? 0, limbTol, rowScale, mat, rb: rowBytes(type, cols), nl: o.nl }, w, Xin);
}

test('matmul_smx: weights packed as 16-bit rows, activations as three int8 limbs, K whole or split (emulated; hardware where offered)', async () => {
    for (const type of ['Q4_K', 'Q6_K', 'Q6_KP', pick(['Q8_0', 'Q5_0', 'Q4_1', 'Q3_K', 'Q5_K', 'Q2_K'])]) {
        const qk = TYPES[type.replace('Q6_KP', 'Q6_K')]?.qk ?? 256; // legacy types: widths of any 32 blocks
        const rows = 16 * randInt(2, 10), cols = qk === 32 ? 32 * randInt(3, 16) : 256 * randInt(1, 2), nTok = randInt(2, 70);
        // staging: KS blocks a stage, tokens ST words apart; 2 and 12 need 36 KiB (SwiftShader has 32)
        const [ks, st] = pick(gpu.rt.caps().maxWgStorage >= 36864 ? [[2, 12], [2, 8], [1, 12]] : [[2, 8], [1, 12], [1, 8]]);
        const o = { type, rows, cols, nTok, ks, st, slices: randInt(1, 3), mode: pick(['quant', 'bytes']), softcap: rng() < 0.3 ? 20 : 0, glu: rng() < 0.5, nl: pick([2, 3]) };
        console.error(`    (${type}, ${rows}x${cols}, ${nTok} tokens, K in ${o.slices} slices, staging ${ks} x ${st}, ${o.mode}${o.glu ? ', GeGLU input' : ''}, ${o.nl} limbs)`);
        await smxProduct(`matmul_smx ${type}`, o, false);
        if (gpu.hasSmx) {
            await smxProduct(`matmul_smx ${type} hw`, { ...o, ks: 2, st: 12, rows: 16 * randInt(6, 40), cols: qk === 32 ? 32 * randInt(8, 64) : 256 * randInt(2, 8), nTok: randInt(20, 200) }, true);
            console.error(`    hardware subgroup matrices: ${type} passed`);
        }
    }
});

// ---- two weight types in one mat-vec (kernels/matvec.wgsl TWO_TYPES) ----
// Rows [0, rowsA) of type A at w_off, rows [rowsA, rows) of type B at byte pad1
// of the same binding (random bytes between and around), one token, random
// workgroup shapes; the B functions come from the WGSL builder's "@2" inclusion.
// (With the residual prologue it runs in the engine: gpu_parity's two-types test.)
test('matvec TWO_TYPES: a second matrix of another type after the first, one dispatch', async () => {
    const pairs = [['Q4_K', 'Q6_KP'], ['Q4_K', 'Q6_K'], [pick(['Q8_0', 'Q5_0', 'BF16', 'Q4_K']), pick(['Q2_K', 'Q3_K', 'Q5_K', 'Q4_0'])]];
    for (const [ta, tb] of pairs) {
        const rowsA = randInt(10, 70), rowsB = randInt(5, 40), rows = rowsA + rowsB, cols = 256 * randInt(1, 4);
        const mode = pick(['quant', 'bytes']);
        const matA = makeWeights(ta, rowsA, cols, mode), matB = makeWeights(tb, rowsB, cols, mode);
        const w = new Float64Array(rows * cols);
        w.set(cref.dequant(ta, matA, rowsA * cols));
        w.set(cref.dequant(tb, matB, rowsB * cols), rowsA * cols);
        const a = gpuLayout(ta, matA), b = gpuLayout(tb, matB), wOff = 16 * randInt(0, 3);
        const bOff = Math.ceil((wOff + a.length) / 16) * 16 + 16 * randInt(0, 4);
        const W = randBytes(bOff + b.length + 16 * randInt(1, 3));
        W.set(a, wOff);
        W.set(b, bOff);
        const [wg, slots] = pick([[64, 4], [128, 2], [128, 8], [32, 1], [256, 4]]);
        const defs = [...gpuDefs(ta), 'TWO_TYPES', ...gpuDefs(tb).map((d) => (d.startsWith('TYPE_') ? `TYPE2_${d.slice(5)}` : d)),
            ...mvDefines(wg, slots, 1, gpu.hasSubgroups && rng() < 0.7, 1, 0, pickLc(wg / slots), rng() < 0.5)];
        const entry = await gpu.pipeline(cref.wgsl([...MV_FILES, 'quant.wgsl@2', 'quant_chunk.wgsl@2'], defs), 'urrw');
        const xOff = 4 * randInt(0, 3), yOff = randInt(0, 5), nwg = Math.ceil(rows / slots);
        const X = randn(xOff + cols + 4), y0 = randn(yOff + rows + 3);
        const o = { type: ta, rows, cols, nTok: 1, wOff, xOff, xStride: cols, yOff, yStride: rows, gridX: nwg, pad0: rowsA, pad1: bOff, mat: matA, rb: rowBytes(ta, cols) };
        const bufs = [gpu.buffer(mvParams(o), true), gpu.buffer(W), gpu.buffer(X), gpu.buffer(y0)];
        const y = new Float32Array(await gpu.run(entry, bufs, [nwg, 1], 3), 0, y0.length);
        bufs.forEach((x) => x.destroy());
        checkY(`matvec two ${ta}+${tb}`, y, y0, o, w, X);
    }
});

// ---- load: Q6_K blocks into their 224-byte GPU layout (kernels/repack.wgsl) ----
// Random bytes (every bit pattern) at a random 4-aligned source offset, written at a
// random 16-aligned destination over random bytes, on a 2-D grid; against the
// test library's own padding (gpuLayout). Nothing outside the blocks' 224-byte
// slots may change.
test('repack_q6k: 210-byte blocks to 224, odd and even block counts, 2-D grid', async () => {
    const entry = await gpu.pipeline(cref.wgsl(['repack.wgsl'], []), 'urw');
    for (const nBlocks of [1, randInt(2, 40), randInt(300, 700)]) {
        const raw = randBytes(nBlocks * 210), srcOff = 4 * randInt(0, 5), dstOff = 16 * randInt(0, 4);
        const src = randBytes(srcOff + raw.length + 4 + 4 * randInt(0, 2));
        src.set(raw, srcOff);
        const dst0 = randBytes(dstOff + nBlocks * 224 + 16 * randInt(1, 3));
        const groups = Math.ceil((nBlocks * 56) / 256), gx = Math.max(1, Math.ceil(groups / randInt(1, 3)));
        const bufs = [gpu.buffer(params([nBlocks, srcOff, dstOff, gx]), true), gpu.buffer(src), gpu.buffer(dst0)];
        const got = new Uint8Array(await gpu.run(entry, bufs, [gx, Math.ceil(groups / gx)], 2), 0, dst0.length);
        bufs.forEach((b) => b.destroy());
        const want = dst0.slice();
        want.set(gpuLayout('Q6_KP', raw), dstOff);
        for (let i = 0; i < want.length; i++)
            if (got[i] !== want[i]) throw new Error(`repack ${nBlocks} blocks: byte ${i} = ${got[i]}, expected ${want[i]}`);
    }
});

await run('kernels');
console.error('  worst err/tol: ' + Object.entries(worst).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', '));
gpu.destroy();
