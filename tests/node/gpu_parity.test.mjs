// End-to-end parity of the WebGPU engine (Dawn on SwiftShader here) with the
// CPU reference engine on the external fixture: every position's logits over a
// prompt longer than the sliding window (so the rings wrap and KV-shared layers
// read their donors), in one batch and token by token, plus greedy continuation.
import fs from 'node:fs';
import path from 'node:path';
import { assert, fixturesDir, rng, run, test, tmpDir } from './harness.mjs';
import { execFileSync } from 'node:child_process';
import { repoRoot } from './harness.mjs';
import { loadEngine, openGpuSession, wasmPath } from '../../js/node/cli.mjs';
import { nodeHost } from '../../js/node/host.mjs';
import { ChatSession } from '../../js/session.mjs';
import { createGpu } from '../../js/gpu.mjs';
import { pollStats } from '../../js/dawn-poll.mjs';
import { readGgufKv, readGgufTensors } from './lib/gguf-kv.mjs';

process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
const fx = fixturesDir();
const model = fx && path.join(fx, 'gemma4-tiny/model.gguf');

// One WebGPU device for the suite's sessions, opened one at a time: Dawn keeps the pipelines it
// compiled (most of a session's time on SwiftShader) for the sessions after it. Tests that look
// at the runtime's pipelines or shaders, or patch it, open their own (gpu: null).
let suiteGpu = null;
const sharedGpu = async () => (suiteGpu ??= await createGpu());

// CPU logits through the C command line (the same wasm, CPU engine).
async function cpuLogits(tokens, file = model) {
    const out = path.join(tmpDir('gpu-parity'), 'cpu.bin');
    const engine = await loadEngine({ out: () => {} });
    const rc = engine.cli(['rullama', 'logits', file, '--tokens', tokens.join(','), '--out', out]);
    assert(rc === 0, 'cpu logits failed');
    const b = fs.readFileSync(out);
    return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

// A GPU pick against a CPU logit row: -1 when it is the row's best or its logit is within
// tol x max|logit| of the best's (a near tie: seed 436833106 gave 8.4840 against 8.4851 of 9.64
// through the two-limb integer matmul), else the row's best
function pickMisses(row, pick, tol) {
    let best = 0, mx = 0;
    for (let v = 0; v < row.length; v++) {
        if (row[v] > row[best]) best = v;
        mx = Math.max(mx, Math.abs(row[v]));
    }
    return pick === best || row[best] - row[pick] < tol * mx ? -1 : best;
}

function compareRows(gpu, cpu, V, label, tol = 1e-4) {
    let worst = 0;
    for (let r = 0; r < cpu.length / V; r++) {
        let md = 0, mx = 0, ag = 0;
        for (let v = 0; v < V; v++) {
            const g = gpu[r * V + v], c = cpu[r * V + v];
            md = Math.max(md, Math.abs(g - c));
            mx = Math.max(mx, Math.abs(c));
            if (g > gpu[r * V + ag]) ag = v;
        }
        worst = Math.max(worst, md / mx);
        const best = pickMisses(cpu.subarray(r * V, (r + 1) * V), ag, tol);
        assert(best < 0, `${label}: row ${r} argmax ${ag} vs cpu ${best}`);
    }
    // f32 on both sides with different summation orders: ~1e-6 relative; 1e-4 leaves room
    // for GPU transcendental functions (exp/tanh) without hiding a real bug (those give >1e-2).
    assert(worst < tol, `${label}: worst relative logit error ${worst}`);
    console.error(`    ${label}: worst relative error ${worst.toExponential(2)}`);
}

test('fixture: batch and token-by-token logits match the CPU engine across the window', async () => {
    assert(model && fs.existsSync(model), 'fixture missing (set RULLAMA_FIXTURES)');
    const n = 20; // window is 16
    const tokens = [2, ...Array.from({ length: n - 1 }, () => 1 + Math.floor(rng() * 1023))];
    const cpu = await cpuLogits(tokens);
    const s = await openGpuSession(model, { nCtx: 64, gpu: await sharedGpu() });
    try {
        const V = s.nVocab;
        compareRows(await s.eval(tokens, { allLogits: true }), cpu, V, 'one batch of 20');
        // decode path: rewind and feed 12 tokens as a batch then the rest one at a time
        s.truncate(0);
        const rows = [await s.eval(tokens.slice(0, 12), { allLogits: true })];
        for (let i = 12; i < n; i++) rows.push(await s.eval([tokens[i]], { allLogits: true }));
        const joined = new Float32Array(n * V);
        let o = 0;
        for (const r of rows) { joined.set(r, o); o += r.length; }
        compareRows(joined, cpu, V, 'batch of 12 then single tokens');
    } finally {
        s.close();
    }
});

test('per-layer-embedding rows uploaded from the file each step give the same logits', async () => {
    const n = 20;
    const tokens = [2, ...Array.from({ length: n - 1 }, () => 1 + Math.floor(rng() * 1023))];
    const cpu = await cpuLogits(tokens);
    const s = await openGpuSession(model, { nCtx: 64, pleOnHost: true, gpu: await sharedGpu() });
    try {
        const V = s.nVocab, rows = [await s.eval(tokens.slice(0, 17), { allLogits: true })];
        for (let i = 17; i < n; i++) rows.push(await s.eval([tokens[i]], { allLogits: true }));
        const joined = new Float32Array(n * V);
        let o = 0;
        for (const r of rows) { joined.set(r, o); o += r.length; }
        compareRows(joined, cpu, V, 'PLE rows from the file');
    } finally {
        s.close();
    }
});

// A small generated model (our generator): window 8 so short prompts cross it,
// 4 layers with one KV-shared, no towers, synthetic vocabulary.
const dir = tmpDir('gpu-parity');
function generate(type, extra = [], preset = 'tiny') {
    const out = path.join(dir, `${preset}-${type}${extra.join('')}.gguf`);
    const shape = preset === 'tiny' ? ['--layers', '4', '--shared-kv', '1'] : [];
    execFileSync(path.join(repoRoot, 'build/native/rullama-gen'), ['--preset', preset, '--type', type, '--out', out, '--quiet',
        ...shape, '--window', '8', '--vision-layers', '0', '--audio-layers', '0',
        '--vocab-size', '512', '--seed', String(1 + Math.floor(rng() * 1000)), ...extra]);
    return out;
}

// 26B-style MoE (split and fused experts, K=V full layers, per-layer KV heads)
// and 31B-style dense K=V: batch (mat-mat) and decode (mat-vec) paths.
test('MoE and K=V architectures: GPU logits match the CPU engine', async () => {
    const gpu = await sharedGpu();
    for (const [preset, extra] of [['tiny-moe', []], ['tiny-moe', ['--moe-fused', '1']], ['tiny-kv', []]]) {
        const file = generate('Q4_K_M', extra, preset);
        const tokens = [2, ...Array.from({ length: 13 }, () => 3 + Math.floor(rng() * 500))];
        const cpu = await cpuLogits(tokens, file);
        const s = await openGpuSession(file, { nCtx: 32, gpu });
        try {
            const V = s.nVocab, rows = [await s.eval(tokens.slice(0, 10), { allLogits: true })];
            for (let i = 10; i < tokens.length; i++) rows.push(await s.eval([tokens[i]], { allLogits: true }));
            const joined = new Float32Array(tokens.length * V);
            let o = 0;
            for (const r of rows) { joined.set(r, o); o += r.length; }
            compareRows(joined, cpu, V, `${preset} ${extra.join(' ')}`.trim());
        } finally {
            s.close();
        }
    }
});

// Prefill in passes of 32 and 19 slots (the tiled attention kernel; T >= 16),
// the second continuing after earlier tokens with the sliding layers' rings
// (window 8 + 32 slots) wrapped, then a decode step.
// tiny has GQA groups of 4; tiny-kv 2 on sliding layers, 4 on its K=V full ones.
test('multi-pass prefill (tiled attention) over wrapped rings: GPU logits match the CPU engine', async () => {
    const gpu = await sharedGpu();
    for (const preset of ['tiny', 'tiny-kv']) {
        const file = generate('F32', [], preset);
        const tokens = [2, ...Array.from({ length: 52 }, () => 3 + Math.floor(rng() * 500))];
        const cpu = await cpuLogits(tokens, file);
        const s = await openGpuSession(file, { nCtx: 128, ubatch: 32, gpu });
        try {
            const V = s.nVocab, rows = [await s.eval(tokens.slice(0, 32), { allLogits: true })];
            rows.push(await s.eval(tokens.slice(32, 51), { allLogits: true }));
            rows.push(await s.eval(tokens.slice(51), { allLogits: true }));
            const joined = new Float32Array(tokens.length * V);
            let o = 0;
            for (const r of rows) { joined.set(r, o); o += r.length; }
            compareRows(joined, cpu, V, `${preset}: 32 + 19 slots, then 1`);
        } finally {
            s.close();
        }
    }
});

// One GPU runtime for the type sweep: pipelines are compiled once per type.
test('generated models of seven type mixes: GPU logits match the CPU engine', async () => {
    const gpu = await sharedGpu();
    // every type's kernels are checked one by one in kernels.test.mjs; here a spread of them end to end
    for (const type of ['Q4_K_M', 'F32', 'BF16', 'Q8_0', 'Q5_K', 'Q4_0', 'Q3_K']) {
        const file = generate(type);
        const tokens = [2, ...Array.from({ length: 11 }, () => 3 + Math.floor(rng() * 500))];
        const cpu = await cpuLogits(tokens, file);
        const s = await openGpuSession(file, { nCtx: 32, gpu });
        try {
            compareRows(await s.eval(tokens, { allLogits: true }), cpu, s.nVocab, `${type}, 12 positions`);
        } finally {
            s.close(); // the shared runtime stays
        }
    }
});

test('pipelined greedy decode: picks match the CPU engine; dropping the step queued ahead leaves the cache right', async () => {
    const tokens = [2, ...Array.from({ length: 5 }, () => 1 + Math.floor(rng() * 1023))];
    const s = await openGpuSession(model, { nCtx: 64, gpu: await sharedGpu() });
    try {
        const [p0] = await s.eval(tokens, { logits: false, argmax: true });
        // the bench's GPU timeline of the pipelined steps: one [start, end] a step, in order
        const timed = s.runtime.startTimeline(32);
        const ticks = { ...pollStats };
        const picks = await s.decodeGreedy(20);
        // the pipelined steps' picks are awaited patiently (js/dawn-poll.mjs)
        assert(pollStats.patient > ticks.patient, 'no patient ticks while awaiting pipelined steps'); // 20 steps, each fed the previous pick on the GPU: the window (16) wraps
        assert(s.nPast === tokens.length + 20, `cache holds ${s.nPast} positions`);
        if (timed) {
            const tl = await s.runtime.readTimeline();
            assert(tl.length === 20, `timeline of ${tl.length} lists, want 20 steps`);
            tl.forEach(([a, b], i) => assert(a <= b && (i === 0 || a >= tl[i - 1][1]), `timeline step ${i}: [${a}, ${b}] after ${tl[i - 1]}`));
            assert(tl[19][1] > 0, 'timeline: no GPU time');
        }
        const seq = [...tokens, p0, ...picks.slice(0, 19)];
        const V = s.nVocab, cpu = await cpuLogits(seq);
        const want = [p0, ...picks];
        for (let r = tokens.length - 1; r < seq.length; r++) {
            let best = 0;
            for (let v = 1; v < V; v++) if (cpu[r * V + v] > cpu[r * V + best]) best = v;
            assert(best === want[r - tokens.length + 1], `position ${r}: GPU picked ${want[r - tokens.length + 1]}, CPU ${best}`);
        }
        // generation drops a step that ran ahead when the pick it consumed ends the output
        s.truncate(s.nPast - 1);
        const other = (picks[18] + 1) % V;
        const alt = [...seq.slice(0, -1), other];
        const got = await s.eval([other]);
        compareRows(got, (await cpuLogits(alt)).slice((alt.length - 1) * V), V, 'after a dropped chained step');
    } finally {
        s.close();
    }
});

// A session opened with RULLAMA_TUNE set to tune (read once, when the engine opens).
async function openTuned(tune, opts, file = model) {
    const saved = process.env.RULLAMA_TUNE;
    if (tune) process.env.RULLAMA_TUNE = tune;
    else delete process.env.RULLAMA_TUNE;
    try {
        return await openGpuSession(file, 'gpu' in opts ? opts : { ...opts, gpu: await sharedGpu() });
    } finally {
        if (saved === undefined) delete process.env.RULLAMA_TUNE;
        else process.env.RULLAMA_TUNE = saved;
    }
}

// The prefill matmul on integer tensor cores (kernels/act_limbs.wgsl,
// matmul_smx.wgsl) inside the engine: smx=2 runs its emulated variant on any
// device (the hardware one, smx=1, needs chromium-experimental-subgroup-matrix:
// tools/smx-parity.mjs checks it on the GPU machine). Every block-type matrix of
// the model is packed; a 24-token pass in tiles of 64 exercises the padded tokens
// and the 128-row tiles the rows past each matrix, with K whole and split into
// slices (split_sum.wgsl) under a packing budget that leaves some matrices on the
// f32 matmul.
test('prefill through the integer tensor-core matmul (emulated here): GPU logits match the CPU engine', async () => {
    const file = generate('Q4_K_M', ['--embd', '256', '--ffn', '512', '--heads', '2', '--kv-heads', '1', '--head-dim', '128', '--head-dim-full', '128']);
    const tokens = [2, ...Array.from({ length: 23 }, () => 3 + Math.floor(rng() * 500))];
    const cpu = await cpuLogits(tokens, file);
    // K whole; K split as far as it goes with 2 MiB packed; two activation limbs (kernels/limbs.wgsl LIMBS2)
    for (const knobs of ['smxk=0', 'smxk=100000,smxmax=2', 'smxlimbs=2,smxk=0']) {
        const s = await openTuned(`smx=2,${knobs}`, { nCtx: 48, gpu: null }, file);
        try {
            // the integer matmul rounds each weight row to 16 bits (kernels/smx_pack.wgsl): 2^-16 of the row's
            // largest weight, which compounds to 1.5e-4..5e-4 of the logits over this model's layers (9e-4 on a
            // full-size e2b, docs/PERF.md); a wrong tile, limb or scale gives errors of order 1
            compareRows(await s.eval(tokens, { allLogits: true }), cpu, s.nVocab, `Q4_K_M through the integer matmul, ${tokens.length} positions, ${knobs}`, 2e-3);
            const labels = [...s.runtime.pipelines.values()].map((p) => p.label);
            assert(['matmul_smx', 'act_limbs', 'smx_pack'].every((k) => labels.some((l) => l.startsWith(k))),
                `the integer matmul ran: pipelines ${[...new Set(labels)].join(', ')}`);
            if (knobs === 'smxk=0' && s.runtime.querySet) { // packed down matrices: their limbs passes make the MLP's GeGLUs
                s.truncate(0);
                s.runtime.profile = {};
                await s.eval(tokens, { logits: false, argmax: true });
                const ran = s.runtime.profile;
                s.runtime.profile = null;
                // one GeGLU pass a layer at most: the PLE's, whose narrow projection stays on the f32 matmul here
                const layers = ran.attention_tiled?.n ?? 0;
                assert(layers > 0 && ran.act_limbs?.n > 0 && (ran.glu?.n ?? 0) <= layers, `GeGLU inside the limbs pass: ${JSON.stringify(ran)}`);
                // and at least one product a layer (gate|up) takes the limbs its residual step's norm wrote
                assert(ran.act_limbs.n <= ran.matmul_smx.n - layers, `limbs from the norms: ${JSON.stringify(ran)}`);
            }
            if (knobs.includes('smxmax')) { // a budget that packs some matrices (ffn_down, 16 blocks, among them)
                assert(labels.some((l) => /^matmul Q/.test(l)), `f32 matmuls beside the packed ones: ${[...new Set(labels)].join(', ')}`);
                assert(labels.includes('split_sum'), `K split: ${[...new Set(labels)].join(', ')}`);
            }
        } finally {
            s.close();
        }
    }
});

// Q6_K blocks padded to 224 bytes at load (src/gpu/placement.c, kernels/repack.wgsl,
// quant.wgsl Q6K_PAD) against the file's 210-byte blocks (q6pad=0): the same
// kernels' arithmetic on the same values, so the same logits bit for bit, through
// prefill (matmul), decode (mat-vec) and the embedding gather. A 64 KiB stage
// makes the repack span many command lists; the stage is freed after them.
test('Q6_K repacked to 224-byte blocks at load: the same logits, bit for bit, as the file layout', async () => {
    const file = generate('Q6_K', ['--embd', '256', '--ffn', '512']);
    const tokens = [2, ...Array.from({ length: 10 }, () => 3 + Math.floor(rng() * 500))];
    const out = [];
    for (const tune of ['q6pad=0', 'q6stage=64', '']) {
        const s = await openTuned(tune, { nCtx: 32, gpu: null }, file);
        try {
            const rows = [...await s.eval(tokens, { allLogits: true })];
            for (const t of [7, 11]) rows.push(...await s.eval([t], { allLogits: true }));
            out.push(Float32Array.from(rows));
            const labels = [...s.runtime.pipelines.values()].map((p) => p.label);
            assert(labels.includes('repack_q6k') === (tune !== 'q6pad=0'), `${tune}: repack ran: ${[...new Set(labels)].join(', ')}`);
            assert((s.runtime.buffersFreed ?? 0) === (tune === 'q6pad=0' ? 0 : 1), `${tune}: ${s.runtime.buffersFreed} buffers freed`);
            if (tune === 'q6stage=64') assert(s.runtime.listsRun >= 10, `the 64 KiB stage took ${s.runtime.listsRun} lists`);
        } finally {
            s.close();
        }
    }
    for (const k of [1, 2]) assert(out[0].length === out[k].length && out[0].every((v, i) => Object.is(v, out[k][i])), `logits differ (run ${k})`);
    const cpu = await cpuLogits([...tokens, 7, 11], file);
    compareRows(out[2], cpu, cpu.length / (tokens.length + 2), 'Q6_K repacked, 13 positions');
    // and packed for the integer matmul (emulated here) from either layout: in the file's, a
    // tensor after its neighbour (q|k|v) starts off the device's 256-byte binding alignment
    const packed = [];
    for (const tune of ['smx=2,smxk=0,q6pad=0', 'smx=2,smxk=0']) {
        const s = await openTuned(tune, { nCtx: 32 }, file);
        try {
            packed.push(await s.eval(tokens, { allLogits: true }));
        } finally {
            s.close();
        }
    }
    assert(packed[0].every((v, i) => Object.is(v, packed[1][i])), 'packed from the file layout and from 224-byte blocks: logits differ');
});

// Q4_K_M gives some layers a Q6_K v next to their Q4_K q|k: one mat-vec
// covers both types (kernels/matvec.wgsl TWO_TYPES) unless two=0. A decode step
// then has one dispatch fewer per such layer, and the logits still match the CPU.
test('a v of another type than q|k shares their decode mat-vec: one dispatch fewer per such layer, CPU logits', async () => {
    // the second shape's q|k|v has 8448 rows: the mat-vec planner's tall variant (two rows
    // per thread), which a two-type mat-vec runs with one row per thread instead
    for (const shape of [['--embd', '256', '--ffn', '512'],
        ['--embd', '256', '--ffn', '512', '--heads', '32', '--kv-heads', '1', '--head-dim', '256', '--head-dim-full', '256']]) {
        const file = generate('Q4_K_M', shape);
        const types = new Map(readGgufTensors(file).map((t) => [t.name, t.type]));
        const kv = readGgufKv(file), nLayer = Number(kv.find((e) => e.key.endsWith('.block_count')).value);
        const shared = Number(kv.find((e) => e.key.endsWith('.shared_kv_layers'))?.value ?? 0); // the last ones: no k, v of their own
        let mixed = 0;
        for (let i = 0; i < nLayer - shared; i++) {
            const v = types.get(`blk.${i}.attn_v.weight`);
            if (v !== undefined && v !== types.get(`blk.${i}.attn_q.weight`)) mixed++;
        }
        assert(mixed >= 1, 'the generated Q4_K_M model has a layer with a v of another type');
        const tokens = [2, ...Array.from({ length: 8 }, () => 3 + Math.floor(rng() * 500))];
        const cpu = await cpuLogits([...tokens, 9, 5], file);
        const perStep = [];
        for (const tune of ['two=0', '']) {
            const s = await openTuned(tune, { nCtx: 32 }, file);
            try {
                const rows = [...await s.eval(tokens, { allLogits: true })];
                const before = s.runtime.dispatchesRun;
                for (const t of [9, 5]) rows.push(...await s.eval([t], { allLogits: true }));
                perStep.push((s.runtime.dispatchesRun - before) / 2);
                compareRows(Float32Array.from(rows), cpu, s.nVocab, `${shape.join(' ')}: ${tune || 'two types'}, ${tokens.length + 2} positions`);
            } finally {
                s.close();
            }
        }
        assert(perStep[0] - perStep[1] === mixed, `dispatches per decode step: ${perStep[0]} with two=0, ${perStep[1]} with two types in one (${mixed} mixed layers)`);
    }
});

// One token's attention key splits are left unmerged (attn_decode.wgsl PART_VEC) for the
// output projection's mat-vec to merge on its way in (matvec.wgsl PRO_ATTN; the default, with
// more P.V parts where subgroups allow: LANE_PARTS); fuse=0 merges them in attn_combine's pass
// (gpu_ops checks PART_VEC with two parts): the CPU engine's logits both ways, and
// attn_combine's dispatch gone from every layer's decode step when fused.
test('decode attention merged by the output mat-vec (fuse=N) or by attn_combine (fuse=0): CPU logits, a dispatch fewer per layer', async () => {
    const kv = readGgufKv(model), arch = kv.find((e) => e.key === 'general.architecture').value;
    const nLayer = Number(kv.find((e) => e.key === `${arch}.block_count`).value);
    const tokens = [2, ...Array.from({ length: 40 }, () => 3 + Math.floor(rng() * 200))]; // 43 keys, planned as 64
    const cpu = await cpuLogits([...tokens, 9, 5]);
    const perStep = [];
    for (const tune of ['fuse=0', '']) {
        const s = await openTuned(tune, { nCtx: 64 });
        try {
            const rows = [...await s.eval(tokens, { allLogits: true })];
            const before = s.runtime.dispatchesRun;
            for (const t of [9, 5]) rows.push(...await s.eval([t], { allLogits: true }));
            perStep.push((s.runtime.dispatchesRun - before) / 2);
            compareRows(Float32Array.from(rows), cpu, s.nVocab, `${tune || 'default'}, ${tokens.length + 2} positions`);
        } finally {
            s.close();
        }
    }
    assert(perStep[0] - perStep[1] === nLayer,
        `dispatches per decode step: ${perStep.join(', ')} (${nLayer} layers)`);
});

// With several, every piece but the last (which reads the logits back) goes to the GPU
// as C hands it over (js/gpu.mjs eagerLists), before the pass's flush.
// Decode's Q4_K gate|up pair with its residual prologue runs on integer dot products
// (kernels/matvec.wgsl IDOT) unless idot=0, and with xl=N so do the products whose input's
// producer writes its limbs (XLIMBS): the LM head after the last residual's norm (bit 1) and
// the MLP's down after the pair (bit 2, LIMBS_OUT). Each compiles its variant
// (and only then), and the logits match the CPU engine every way.
test('decode\'s gate|up runs on integer dot products unless idot=0, and the LM head and down with xl=1|2; CPU logits every way', async () => {
    const file = generate('Q4_K_M', ['--embd', '256', '--ffn', '512']);
    const types = new Map(readGgufTensors(file).map((t) => [t.name, t.type]));
    assert(types.get('blk.0.ffn_gate.weight') === 12 && types.get('blk.0.ffn_up.weight') === 12, 'the generated Q4_K_M model has a Q4_K gate and up');
    const tokens = [2, ...Array.from({ length: 6 }, () => 3 + Math.floor(rng() * 500))];
    const cpu = await cpuLogits([...tokens, 9, 5], file);
    const steps = [];
    const count = (s, text) => [...s.runtime.shaders.values()].filter((sh) => sh.code.includes(text)).length;
    for (const tune of ['idot=0', '', 'xl=1', 'xl=3']) {
        const s = await openTuned(tune, { nCtx: 32, gpu: null }, file);
        try {
            const rows = [...await s.eval(tokens, { allLogits: true })];
            const step = [];
            for (const t of [9, 5]) step.push(...await s.eval([t], { allLogits: true }));
            steps.push(step);
            compareRows(Float32Array.from([...rows, ...step]), cpu, s.nVocab, `${tune || 'default'}, ${tokens.length + 2} positions`);
            compareRows(Float32Array.from(step), cpu.slice(tokens.length * s.nVocab), s.nVocab, `${tune || 'default'}, the 2 decode steps`);
            const idot = count(s, 'dot4I8Packed'), xl = count(s, 'var<storage, read> XL:'), lout = count(s, 'var<storage, read_write> XLO:');
            const what = `${tune || 'default'}: ${idot} shader(s) with integer products, ${xl} reading limbs, ${lout} writing them`;
            if (tune === 'idot=0') assert(idot === 0, what);
            else assert(idot >= 1 && (xl >= 1) === (tune !== '') && (lout >= 1) === (tune === 'xl=3'), what);
        } finally {
            s.close();
        }
    }
    // the limbs round x to 2^-23 of its largest value: the paths' logits differ in their last bits
    for (let k = 1; k < steps.length; k++)
        assert(steps[k].some((v, i) => !Object.is(v, steps[k - 1][i])), `decode logits of tunes ${k - 1} and ${k} bit-identical`);
});

// RULLAMA_TUNE head=WGxTPRxRPT[,headu=1] (src/gpu/record.c): the LM head's one-slot mat-vec
// in another thread layout (here the fixture's 1024 x 256 Q6_K tied head: one thread a row
// with two rows each, and eight threads a row with an unrolled chunk loop) gives the CPU's
// logits, and the layout asked for is the one compiled (on a device of its own, so no earlier
// session's pipelines are looked at).
test('the LM head\'s mat-vec in the thread layouts head= asks for: CPU logits, that variant compiled', async () => {
    if (!model) return;
    const tokens = [2, ...Array.from({ length: 5 }, () => 3 + Math.floor(rng() * 500))];
    const cpu = await cpuLogits([...tokens, 7, 11]);
    for (const [tune, consts] of [['head=32x1x2', ['WG = 32u;', 'ROWS = 64u;', 'RPT = 2u;']],
        ['head=64x8x1,headu=1', ['WG = 64u;', 'ROWS = 8u;', 'RPT = 1u;', 'STEPS = 1u;']]]) {
        const s = await openTuned(tune, { nCtx: 24, gpu: null });
        try {
            const rows = [...await s.eval(tokens, { allLogits: true })];
            const step = [];
            for (const t of [7, 11]) step.push(...await s.eval([t], { allLogits: true }));
            compareRows(Float32Array.from([...rows, ...step]), cpu, s.nVocab, `${tune}, ${tokens.length + 2} positions`);
            const heads = [...s.runtime.pipelines.values()].filter((p) => p.label === 'matvec Q6_K' &&
                consts.every((c) => s.runtime.shaders.get(p.shaderId).code.includes(`const ${c}`)));
            assert(heads.length >= 1, `${tune}: no Q6_K mat-vec compiled with ${consts.join(' ')}`);
        } finally {
            s.close();
        }
    }
});

test('a prefill pass handed over in one command list or in several gives the same logits, bit for bit', async () => {
    const tokens = [2, ...Array.from({ length: 23 }, () => 1 + Math.floor(rng() * 1023))];
    const rows = [], lists = [], eager = [];
    for (const tune of ['lists=1', 'lists=3']) {
        const s = await openTuned(tune, { nCtx: 64 });
        try {
            const before = s.runtime.listsRun ?? 0, eagerBefore = s.runtime.eagerRuns;
            rows.push(await s.eval(tokens, { allLogits: true }));
            lists.push(s.runtime.listsRun - before);
            eager.push(s.runtime.eagerRuns - eagerBefore);
        } finally {
            s.close();
        }
    }
    assert(lists[1] >= lists[0] + 2, `lists per pass: ${lists[0]} with lists=1, ${lists[1]} with lists=3`);
    assert(eager[0] === 0 && eager[1] === lists[1] - lists[0], `lists submitted as handed over: ${eager[0]} of ${lists[0]}, ${eager[1]} of ${lists[1]}`);
    assert(rows[0].length === rows[1].length && rows[0].every((v, i) => Object.is(v, rows[1][i])), 'logits differ between 1 and 3 lists');
});

// A pass that fails after some of its lists went to the host and the rest was
// recorded: the handed-over lists run before the error is thrown, the rest is
// dropped, so the next pass encodes exactly a clean pass's dispatches.
test('a pass that fails midway leaves nothing behind: the next pass encodes what a clean one does, with the right logits', async () => {
    const gpu = await createGpu();
    const caps = gpu.caps.bind(gpu);
    gpu.caps = () => ({ ...caps(), maxWorkgroups: 100 }); // the greedy pick's 128 slices exceed it, after every layer
    const s = await openGpuSession(model, { nCtx: 64, gpu });
    try {
        const tokens = [2, ...Array.from({ length: 19 }, () => 1 + Math.floor(rng() * 1023))];
        let msg = '';
        try {
            await s.eval(tokens, { logits: false, argmax: true });
        } catch (e) {
            msg = e.message;
        }
        assert(/exceeds 100 workgroups/.test(msg), `expected the grid limit error, got "${msg}"`);
        assert(s.nPast === 0, `the failed pass left ${s.nPast} positions`);
        const d0 = gpu.dispatchesRun;
        const got = await s.eval(tokens, { allLogits: true });
        const d1 = gpu.dispatchesRun;
        s.truncate(0);
        await s.eval(tokens, { allLogits: true });
        const d2 = gpu.dispatchesRun;
        assert(d1 - d0 === d2 - d1, `the pass after the failure encoded ${d1 - d0} dispatches, a clean one ${d2 - d1}`);
        compareRows(got, await cpuLogits(tokens), s.nVocab, 'after a failed pass');
    } finally {
        s.close();
        gpu.destroy();
    }
});

test('replayed decode steps: the same logits, bit for bit, as steps recorded afresh, across plan changes; greedy steps replay their LM head and argmax', async () => {
    // 20 single-token steps from position 52: attention is planned for its keys rounded up to
    // 64 (ATTN_PLAN_KEYS), so the full layers' plan changes at 65 keys and bodies are recorded,
    // replayed, and recorded again; then 4 greedy steps (logits: false), whose bodies run on
    // through the LM head and the argmax passes
    const P = 52, N = 20, G = 4;
    const tokens = [2, ...Array.from({ length: P + N + G - 1 }, () => 1 + Math.floor(rng() * 1023))];
    const stepLogits = async (tune) => {
        const s = await openTuned(tune, { nCtx: 128 });
        try {
            await s.eval(tokens.slice(0, P), { logits: false });
            const rows = [], picks = [];
            for (let i = P; i < P + N; i++) rows.push(await s.eval([tokens[i]]));
            const before = s.replays;
            for (let i = P + N; i < tokens.length; i++) picks.push((await s.eval([tokens[i]], { logits: false, argmax: true }))[0]);
            return { rows, picks, replays: before, greedyReplays: s.replays - before };
        } finally {
            s.close();
        }
    };
    const fresh = await stepLogits('replay=0'), replayed = await stepLogits('');
    assert(fresh.replays === 0 && fresh.greedyReplays === 0, `replay=0 still replayed ${fresh.replays + fresh.greedyReplays} steps`);
    assert(replayed.replays >= N - 4 && replayed.replays < N, `${replayed.replays} of ${N} steps replayed (the plan change records anew)`);
    assert(replayed.greedyReplays === G - 1, `${replayed.greedyReplays} of ${G} greedy steps replayed (the first records its tail)`);
    fresh.rows.forEach((r, i) => {
        assert(r.length === replayed.rows[i].length && r.every((v, j) => Object.is(v, replayed.rows[i][j])),
            `step ${i}: replayed logits differ from recorded ones`);
    });
    assert(fresh.picks.every((id, i) => id === replayed.picks[i]), `greedy picks: recorded ${fresh.picks} replayed ${replayed.picks}`);
    const V = replayed.rows[0].length, cpu = await cpuLogits(tokens), joined = new Float32Array(N * V);
    replayed.rows.forEach((r, i) => joined.set(r, i * V));
    compareRows(joined, cpu.slice(P * V, (P + N) * V), V, `${N} replayed steps`);
    // the greedy picks: the CPU's best, up to a near tie
    replayed.picks.forEach((id, i) => {
        const best = pickMisses(cpu.subarray((P + N + i) * V, (P + N + i + 1) * V), id, 1e-4);
        assert(best < 0, `greedy step ${i}: pick ${id}, the CPU's ${best}`);
    });
});

test('64-token greedy and 32-token seeded sampled continuations: GPU and CPU generate the same text', async () => {
    const file = generate('Q4_K_M');
    const body = { prompt: 'The quick brown fox', raw: true, options: { temperature: 0, num_predict: 64 } };
    const wasm = fs.readFileSync(wasmPath);
    // 256 positions: the follow-up prompt below repeats the continuation up to the stop
    // string, which can sit late in it (a seed once made that prompt 147 tokens)
    const cpu = await ChatSession.open({ wasm, host: nodeHost(), model: file, nCtx: 256, gpu: false });
    const gpuS = await ChatSession.open({ wasm, host: nodeHost(), model: file, nCtx: 256, gpu: await sharedGpu() });
    const ahead0 = gpuS.runtime.aheadLists ?? 0;
    try {
        const a = await cpu.run('generate', body), b = await gpuS.run('generate', body);
        assert(a.eval_count === b.eval_count, `token counts differ: cpu ${a.eval_count}, gpu ${b.eval_count}`);
        assert(a.content === b.content, `continuations differ:\ncpu: ${JSON.stringify(a.content)}\ngpu: ${JSON.stringify(b.content)}`);
        assert(a.eval_count >= 8, `only ${a.eval_count} tokens before a stop`);
        console.error(`    ${a.eval_count} tokens identical`);
        // greedy decode is pipelined: every step but the last was queued before the previous pick was read
        const ahead = gpuS.runtime.aheadLists - ahead0;
        assert(ahead >= b.eval_count - 2, `only ${ahead} of ${b.eval_count} decode steps ran ahead`);
        // a stop string ends the output while a step is queued ahead: that step is dropped, and a
        // follow-up request that reuses the cached prefix still matches the CPU engine
        // the stop string: 3 characters seen nowhere earlier, preferably printable and from
        // about a fifth of the way in (a synthetic model's text can be all symbols or repeat
        // itself, so the search widens rather than fail: seed 377446880 once found none)
        const firstAt = (from, ok, len = 3) => {
            for (let i = from; i + len < a.content.length; i++) {
                const t = a.content.slice(i, i + len);
                if (ok(t) && a.content.indexOf(t) === i) return i;
            }
            return -1;
        };
        // no half of a surrogate pair, no U+FFFD (it stands for bytes of an incomplete UTF-8
        // sequence, which a stop string cannot match)
        const whole = (t) => !/[\uD800-\uDFFF\uFFFD]/.test(t);
        let len = 3, at = firstAt(12, (t) => /^[!-~]{3}$/.test(t));
        if (at < 0) at = firstAt(12, whole);
        if (at < 0) at = firstAt(1, whole);
        // seed 380773939: ":" and then only U+FFFD; one character, even the first, still
        // stops the output while a step is queued ahead
        if (at < 0) [len, at] = [1, firstAt(0, whole, 1)];
        if (at < 0) {
            console.error(`    no stop string possible in ${JSON.stringify(a.content.slice(0, 40))}...: stop check skipped for this seed`);
        } else {
            const stop = a.content.slice(at, at + len);
            const stopped = { ...body, options: { ...body.options, stop: [stop] } };
            const e = await cpu.run('generate', stopped), f = await gpuS.run('generate', stopped);
            assert(e.content === f.content && f.content === a.content.slice(0, at), `stopped outputs differ: ${JSON.stringify([e.content, f.content])}`);
            const more = { prompt: body.prompt + f.content + stop, raw: true, options: { temperature: 0, num_predict: 24 } };
            const g = await cpu.run('generate', more), h = await gpuS.run('generate', more);
            assert(h.prompt_eval_count < h.prompt_tokens, `no prefix reuse: ${h.prompt_eval_count} of ${h.prompt_tokens} evaluated`);
            assert(g.content === h.content, `after a dropped step:\ncpu: ${JSON.stringify(g.content)}\ngpu: ${JSON.stringify(h.content)}`);
            console.error(`    stop mid-pipeline: ${f.eval_count} tokens, then ${h.eval_count} more after reusing ${h.prompt_tokens - h.prompt_eval_count} cached positions`);
        }
        // sampled with a seed: the GPU hands back only its top-40 candidates, the C
        // sampler picks from them exactly as from the whole row on the CPU
        const sampled = { ...body, options: { temperature: 0.8, top_k: 40, top_p: 0.9, seed: 7, num_predict: 32 } };
        const c = await cpu.run('generate', sampled), d = await gpuS.run('generate', sampled);
        assert(c.content === d.content, `sampled continuations differ:\ncpu: ${JSON.stringify(c.content)}\ngpu: ${JSON.stringify(d.content)}`);
        console.error(`    ${c.eval_count} sampled tokens identical`);
    } finally {
        cpu.close();
        gpuS.close();
    }
});

await run('gpu-parity');
