#!/usr/bin/env node
// What the integer subgroup matrix (chromium-experimental-subgroup-matrix, i8 x i8
// -> i32) really does on this adapter: which units subgroupMatrixLoad's offset and
// stride count for i8 data held in array<i32> (i8 elements or 32-bit words, in
// workgroup and in storage memory), whether a result stores into workgroup memory,
// and how many int8 TOPS a workgroup of 8 subgroups reaches from workgroup memory.
// The prefill kernel (kernels/matmul_smx.wgsl) is written against these answers.
//   node tools/probe-smx.mjs
import * as webgpu from 'webgpu';

Object.assign(globalThis, webgpu.globals);
const gpu = webgpu.create(['enable-dawn-features=allow_unsafe_apis']);
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
const FEAT = 'chromium-experimental-subgroup-matrix';
if (!adapter || !adapter.features.has(FEAT)) { console.log('no subgroup matrix on this adapter'); process.exit(0); }
const cfgs = [...(adapter.info.subgroupMatrixConfigs ?? [])];
for (const c of cfgs) console.log(`config ${c.componentType} -> ${c.resultComponentType} M ${c.M} N ${c.N} K ${c.K}`);
const device = await adapter.requestDevice({ requiredFeatures: ['subgroups', FEAT],
    requiredLimits: { maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize } });
console.log(`subgroup sizes ${adapter.info.subgroupMinSize}..${adapter.info.subgroupMaxSize}`);

async function compile(code) {
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ code });
    const info = await module.getCompilationInfo();
    const msgs = info.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
    let pipe = null;
    if (!msgs.length) {
        try { pipe = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } }); } catch (e) { msgs.push(String(e)); }
    }
    const e = await device.popErrorScope();
    if (e) msgs.push(e.message);
    return { pipe, msgs };
}
function buf(data, extra = 0) {
    const b = device.createBuffer({ size: Math.max(16, data.byteLength), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC | extra });
    device.queue.writeBuffer(b, 0, data);
    return b;
}
async function readI32(b, n) {
    const st = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(b, 0, st, 0, n * 4);
    device.queue.submit([enc.finish()]);
    await st.mapAsync(GPUMapMode.READ);
    const r = new Int32Array(st.getMappedRange().slice(0));
    st.unmap();
    return r;
}

// ms per dispatch of `pipe` over `wg` workgroups (after two warm-up dispatches)
async function timeDispatch(pipe, bg, wg, reps) {
    const run = async (n) => {
        const enc = device.createCommandEncoder();
        const pass = enc.beginComputePass();
        pass.setPipeline(pipe); pass.setBindGroup(0, bg);
        for (let i = 0; i < n; i++) pass.dispatchWorkgroups(wg);
        pass.end();
        device.queue.submit([enc.finish()]);
        await device.queue.onSubmittedWorkDone();
    };
    await run(2);
    const t0 = performance.now();
    await run(reps);
    return (performance.now() - t0) / reps;
}

let units = null; // [offsetA, strideA, offsetB, strideB] bytes per unit, from test 1
// 1. Units of offset and stride. A (M x K) from workgroup memory, row-major; B (K x N)
// from storage, column-major (a token's K values contiguous, as the kernel keeps them).
for (const c of cfgs.filter((c) => c.componentType === 'i8')) {
    const { M, N, K } = c;
    const OFFA = 8, SA = K + 8, OFFB = 12, SB = K + 16; // differ between the unit hypotheses
    const WORDS = 4096;
    const bytesA = new Int8Array(WORDS * 4), bytesB = new Int8Array(WORDS * 4);
    let s = 12345;
    const rnd = () => { s = (s * 1103515245 + 12345) & 0x7fffffff; return ((s >> 8) % 15) - 7; };
    for (let i = 0; i < bytesA.length; i++) { bytesA[i] = rnd(); bytesB[i] = rnd(); }
    const code = `enable subgroups;
enable chromium_experimental_subgroup_matrix;
@group(0) @binding(0) var<storage, read> Ain: array<i32>;
@group(0) @binding(1) var<storage, read> Bin: array<i32>;
@group(0) @binding(2) var<storage, read_write> Cout: array<i32>;
var<workgroup> wa: array<i32, ${WORDS}>;
var<workgroup> wc: array<i32, ${M * N * 2}>;
@compute @workgroup_size(32)
fn main(@builtin(local_invocation_index) li: u32) {
    for (var i = li; i < ${WORDS}u; i += 32u) { wa[i] = Ain[i]; }
    workgroupBarrier();
    let a = subgroupMatrixLoad<subgroup_matrix_left<i8, ${K}, ${M}>, row_major>(&wa, ${OFFA}u, ${SA}u);
    let b = subgroupMatrixLoad<subgroup_matrix_right<i8, ${N}, ${K}>, col_major>(&Bin, ${OFFB}u, ${SB}u);
    let r = subgroupMatrixMultiply<i32>(a, b);
    subgroupMatrixStore<row_major>(&Cout, 0u, r, ${N}u);
    let r2 = subgroupMatrixScalarMultiply(subgroupMatrixMultiplyAccumulate(a, b, r), 3i);
    subgroupMatrixStore<col_major>(&wc, 4u, r2, ${M + 4}u);
    workgroupBarrier();
    for (var i = li; i < ${M * N}u; i += 32u) { Cout[${M * N}u + i] = wc[4u + (i % ${N}u) * ${M + 4}u + i / ${N}u]; }
}`;
    const { pipe, msgs } = await compile(code);
    if (!pipe) { console.log(`config ${M}x${N}x${K}: compile failed: ${msgs.slice(0, 4).join(' | ')}`); continue; }
    const bA = buf(new Int32Array(bytesA.buffer)), bB = buf(new Int32Array(bytesB.buffer));
    const bC = buf(new Int32Array(2 * M * N));
    const bg = device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [bA, bB, bC].map((b, i) => ({ binding: i, resource: { buffer: b } })) });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipe); pass.setBindGroup(0, bg); pass.dispatchWorkgroups(1); pass.end();
    device.queue.submit([enc.finish()]);
    const got = await readI32(bC, 2 * M * N);
    const hyp = [];
    for (const ua of [1, 4]) for (const usa of [1, 4]) for (const ub of [1, 4]) for (const usb of [1, 4]) {
        let ok = true, ok2 = true;
        for (let i = 0; i < M && ok; i++) for (let j = 0; j < N; j++) {
            let acc = 0;
            for (let k = 0; k < K; k++) acc += bytesA[OFFA * ua + i * SA * usa + k] * bytesB[OFFB * ub + j * SB * usb + k];
            if (got[i * N + j] !== acc) { ok = false; break; }
            if (got[M * N + i * N + j] !== 6 * acc) ok2 = false;
        }
        if (ok && !units) units = [ua, usa, ub, usb];
        if (ok) hyp.push(`offsetA x${ua} strideA x${usa} offsetB x${ub} strideB x${usb} bytes; workgroup store ${ok2 ? 'ok' : 'WRONG'}`);
    }
    console.log(`config ${M}x${N}x${K}: matches ${hyp.length ? hyp.join('; ') : 'NONE'} (first values ${[...got.slice(0, 4)].join(',')})`);
}

// 2. Throughput from workgroup memory: 8 subgroups, each FR x FC fragments, KI K steps.
const c16 = cfgs.find((c) => c.componentType === 'i8' && c.M === 16 && c.N === 16);
if (c16 && units) {
    const { M, N, K } = c16;
    for (const [FR, FC] of [[2, 2], [4, 2], [2, 4]]) {
        const lines = [];
        for (let i = 0; i < FR; i++) lines.push(`let a${i} = subgroupMatrixLoad<subgroup_matrix_left<i8, ${K}, ${M}>, row_major>(&wa, ((sg * ${FR * M}u + ${i * M}u) * ${K + 16}u + k) / ${units[0]}u, ${(K + 16) / units[1]}u);`);
        for (let j = 0; j < FC; j++) lines.push(`let b${j} = subgroupMatrixLoad<subgroup_matrix_right<i8, ${N}, ${K}>, col_major>(&wb, (${j * N * (K + 16)}u + k) / ${units[2]}u, ${(K + 16) / units[3]}u);`);
        for (let i = 0; i < FR; i++) for (let j = 0; j < FC; j++) lines.push(`c${i}${j} = subgroupMatrixMultiplyAccumulate(a${i}, b${j}, c${i}${j});`);
        const decl = [], st = [];
        for (let i = 0; i < FR; i++) for (let j = 0; j < FC; j++) {
            decl.push(`var c${i}${j}: subgroup_matrix_result<i32, ${N}, ${M}>;`);
            st.push(`subgroupMatrixStore<row_major>(&Cout, (wid.x * 8u + sg) * ${FR * FC * M * N}u + ${(i * FC + j) * M * N}u, c${i}${j}, ${N}u);`);
        }
        const ITER = 256;
        const code = `enable subgroups;
enable chromium_experimental_subgroup_matrix;
diagnostic(off, chromium.subgroup_matrix_uniformity);
@group(0) @binding(0) var<storage, read_write> Cout: array<i32>;
var<workgroup> wa: array<i32, ${8 * FR * M * (K + 16) / 4}>;
var<workgroup> wb: array<i32, ${FC * N * (K + 16) / 4}>;
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    for (var i = li; i < ${8 * FR * M * (K + 16) / 4}u; i += 256u) { wa[i] = i32(i * 2654435761u) & 0x07070707; }
    for (var i = li; i < ${FC * N * (K + 16) / 4}u; i += 256u) { wb[i] = i32(i * 40503u) & 0x03030303; }
    workgroupBarrier();
    let sg = li / 32u;
    ${decl.join('\n    ')}
    for (var it = 0u; it < ${ITER}u; it++) {
        let k = (it & 1u) * 0u;
        ${lines.join('\n        ')}
    }
    ${st.join('\n    ')}
}`;
        const { pipe, msgs } = await compile(code);
        if (!pipe) { console.log(`tput ${FR}x${FC}: compile failed: ${msgs.slice(0, 3).join(' | ')}`); continue; }
        const WG = 132 * 8;
        const bC = device.createBuffer({ size: WG * 8 * FR * FC * M * N * 4, usage: GPUBufferUsage.STORAGE });
        const bg = device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: bC } }] });
        const ms = await timeDispatch(pipe, bg, WG, 20);
        const ops = 2 * WG * 8 * ITER * FR * FC * M * N * K;
        console.log(`tput ${FR}x${FC} frags per subgroup: ${ms.toFixed(3)} ms per dispatch, ${(ops / ms / 1e9).toFixed(1)} int8 TOPS`);
    }
}

// 3. Load cost: fragments loaded inside the loop from addresses that change every
// iteration (not hoistable), with different row strides, from workgroup or storage.
if (c16 && units) {
    const { M, N, K } = c16;
    for (const [label, strideB, src] of [['wg stride 32B', 32, 'wg'], ['wg stride 48B', 48, 'wg'], ['wg stride 64B', 64, 'wg'], ['wg stride 80B', 80, 'wg'], ['storage stride 48B', 48, 'st'], ['wg stride 48B via functions', 48, 'fn'], ['wg stride 48B, 2 barriers each', 48, 'bar']]) {
        const SW = strideB / 4, FR = 2, FC = 2, ITER = 256, ROWS = 64;
        const arr = src === 'st' ? 'Ain' : 'wa', fn = src === 'fn';
        const lines = [];
        for (let i = 0; i < FR; i++) lines.push(fn ? `let a${i} = lda(((sg & 1u) * 32u + ${i * M}u + (it & 7u)) * ${SW}u);` : `let a${i} = subgroupMatrixLoad<subgroup_matrix_left<i8, ${K}, ${M}>, row_major>(&${arr}, ((sg & 1u) * 32u + ${i * M}u + (it & 7u)) * ${SW}u, ${SW}u);`);
        for (let j = 0; j < FC; j++) lines.push(fn ? `let b${j} = ldb(((sg >> 1u) * 32u + ${j * N}u + (it & 7u)) * ${SW}u);` : `let b${j} = subgroupMatrixLoad<subgroup_matrix_right<i8, ${N}, ${K}>, col_major>(&${arr}, ((sg >> 1u) * 32u + ${j * N}u + (it & 7u)) * ${SW}u, ${SW}u);`);
        for (let i = 0; i < FR; i++) for (let j = 0; j < FC; j++) lines.push(fn ? `c${i}${j} = mma(a${i}, b${j}, c${i}${j});` : `c${i}${j} = subgroupMatrixMultiplyAccumulate(a${i}, b${j}, c${i}${j});`);
        const decl = [], st = [];
        for (let i = 0; i < FR; i++) for (let j = 0; j < FC; j++) {
            decl.push(`var c${i}${j}: subgroup_matrix_result<i32, ${N}, ${M}>;`);
            st.push(`subgroupMatrixStore<row_major>(&Cout, (wid.x * 8u + sg) * ${FR * FC * M * N}u + ${(i * FC + j) * M * N}u, c${i}${j}, ${N}u);`);
        }
        const words = (ROWS * 2 + 16) * SW;
        const code = `enable subgroups;
enable chromium_experimental_subgroup_matrix;
diagnostic(off, chromium.subgroup_matrix_uniformity);
@group(0) @binding(0) var<storage, read_write> Cout: array<i32>;
${src === 'st' ? '@group(0) @binding(1) var<storage, read> Ain: array<i32>;' : ''}
var<workgroup> wa: array<i32, ${words}>;
${fn ? `fn lda(o: u32) -> subgroup_matrix_left<i8, ${K}, ${M}> { return subgroupMatrixLoad<subgroup_matrix_left<i8, ${K}, ${M}>, row_major>(&wa, o, ${SW}u); }
fn ldb(o: u32) -> subgroup_matrix_right<i8, ${N}, ${K}> { return subgroupMatrixLoad<subgroup_matrix_right<i8, ${N}, ${K}>, col_major>(&wa, o, ${SW}u); }
fn mma(a: subgroup_matrix_left<i8, ${K}, ${M}>, b: subgroup_matrix_right<i8, ${N}, ${K}>, c: subgroup_matrix_result<i32, ${N}, ${M}>) -> subgroup_matrix_result<i32, ${N}, ${M}> { return subgroupMatrixMultiplyAccumulate(a, b, c); }` : ''}
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    for (var i = li; i < ${words}u; i += 256u) { wa[i] = i32(i * 2654435761u) & 0x07070707; }
    workgroupBarrier();
    let sg = li / 32u;
    ${decl.join('\n    ')}
    for (var it = 0u; it < ${ITER}u; it++) {
        ${src === 'bar' ? 'workgroupBarrier(); workgroupBarrier();' : ''}
        ${lines.join('\n        ')}
    }
    ${st.join('\n    ')}
}`;
        const { pipe, msgs } = await compile(code);
        if (!pipe) { console.log(`load ${label}: compile failed: ${msgs.slice(0, 3).join(' | ')}`); continue; }
        const WG = 132 * 8;
        const bC = device.createBuffer({ size: WG * 8 * FR * FC * M * N * 4, usage: GPUBufferUsage.STORAGE });
        const bA = buf(new Int32Array(words).fill(0x01010101));
        const entries = [{ binding: 0, resource: { buffer: bC } }];
        if (src === 'st') entries.push({ binding: 1, resource: { buffer: bA } });
        const bg = device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries });
        const ms = await timeDispatch(pipe, bg, WG, 10);
        const ops = 2 * WG * 8 * ITER * FR * FC * M * N * K;
        console.log(`load ${label}: 4 loads per 4 MMAs: ${ms.toFixed(3)} ms, ${(ops / ms / 1e9).toFixed(1)} int8 TOPS`);
    }
}
process.exit(0);
