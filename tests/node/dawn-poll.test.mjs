// js/dawn-poll.mjs: how dawn.node's polling for finished GPU work is paced while the
// runtime waits. Urgent waits resolve with the GPU's right data through ticks 0.05 ms
// apart (native polling: about 180 a millisecond), patient ones through ticks 0.25 ms
// apart for 2 ms, then a 1 ms timer; the global setImmediate and clearImmediate keep
// working for other code.
import { assert, rng, run, test } from './harness.mjs';
import { awaitGpu, pollStats } from '../../js/dawn-poll.mjs';
import { createGpu } from '../../js/gpu.mjs';

process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';

const rt = await createGpu();
const dev = rt.device;
const N = 64 * 64;
// a kernel slow enough on SwiftShader (tens of ms) that a wait sees many polling ticks
const code = `@group(0) @binding(0) var<storage, read_write> a: array<u32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
    var x = a[g.x];
    for (var i = 0u; i < 4000u; i++) { x = x * 1664525u + 1013904223u; }
    a[g.x] = x;
}`;
const pipeline = dev.createComputePipeline({ layout: 'auto', compute: { module: dev.createShaderModule({ code }), entryPoint: 'main' } });

function expected(seed) {
    const out = new Uint32Array(N);
    for (let g = 0; g < N; g++) {
        let x = seed[g];
        for (let i = 0; i < 4000; i++) x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
        out[g] = x;
    }
    return out;
}

// one run of the kernel on fresh random words, read back through a wait of the given kind
async function runAndRead(patient) {
    const buf = dev.createBuffer({ size: 4 * N, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    const staging = dev.createBuffer({ size: 4 * N, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const bg = dev.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] });
    const seed = Uint32Array.from({ length: N }, () => (rng() * 2 ** 32) >>> 0);
    dev.queue.writeBuffer(buf, 0, seed);
    const enc = dev.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bg);
    pass.dispatchWorkgroups(N / 64);
    pass.end();
    enc.copyBufferToBuffer(buf, 0, staging, 0, 4 * N);
    dev.queue.submit([enc.finish()]);
    const before = { ...pollStats }, t0 = performance.now();
    await awaitGpu(staging.mapAsync(GPUMapMode.READ), patient);
    const ms = performance.now() - t0;
    const got = new Uint32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    buf.destroy();
    staging.destroy();
    const want = expected(seed);
    for (let g = 0; g < N; g++) assert(got[g] === want[g], `word ${g}: ${got[g]}, want ${want[g]}`);
    return { ms, patient: pollStats.patient - before.patient, urgent: pollStats.urgent - before.urgent, timer: pollStats.timer - before.timer };
}

test('a patient wait polls every 0.25 ms for 2 ms, then on a 1 ms timer, and reads the right data', async () => {
    const r = await runAndRead(true);
    assert(r.patient >= 1 && r.urgent === 0, `${r.patient} patient and ${r.urgent} urgent ticks in a patient wait`);
    assert(r.patient <= 2 / 0.25 + 5, `${r.patient} spaced ticks in a patient wait: more than 2 ms of them`);
    if (r.ms > 10) assert(r.timer >= 1, `no timer ticks in a ${r.ms.toFixed(1)} ms wait`);
    assert(r.timer <= r.ms + 5, `${r.timer} timer ticks in ${r.ms.toFixed(1)} ms: more than one a millisecond`);
});

test('an urgent wait polls every 0.05 ms and reads the right data', async () => {
    const r = await runAndRead(false);
    assert(r.urgent >= 1 && r.patient === 0 && r.timer === 0, `${r.urgent} urgent, ${r.patient} patient and ${r.timer} timer ticks in an urgent wait`);
    assert(r.urgent <= r.ms / 0.05 + 5, `${r.urgent} ticks in ${r.ms.toFixed(1)} ms: more than one each 0.05 ms`);
});

test('waits of both kinds at once, and the global setImmediate for other code', async () => {
    // during a long patient wait, other code's setImmediate runs its callback with its arguments,
    // and a handle made then (a timer) can be cleared
    let seen = null, cleared = true;
    const p = runAndRead(true);
    const late = new Promise((resolve) => setTimeout(() => {
        setImmediate((a, b) => { seen = [a, b]; }, 3, 'x');
        clearImmediate(setImmediate(() => { cleared = false; }));
        resolve();
    }, 4));
    const [a] = await Promise.all([p, late]);
    await new Promise((r) => setTimeout(r, 5)); // a timer-backed callback runs within about 1 ms
    assert(seen && seen[0] === 3 && seen[1] === 'x', `callback saw ${seen}`);
    // both kinds at once: urgent pacing wins while an urgent wait is on
    const [b, c] = await Promise.all([runAndRead(true), runAndRead(false)]);
    assert(a.ms > 0 && b.ms > 0 && c.ms > 0 && c.urgent >= 1);
    // outside any wait: as before, and uncounted
    let ran = false;
    const before = { ...pollStats };
    const h = setImmediate(() => { ran = true; });
    assert(h.constructor.name === 'Immediate', `outside waits setImmediate returned a ${h.constructor.name}`);
    assert(Object.keys(before).every((k) => pollStats[k] === before[k]), 'a tick counted outside any wait');
    let ranCleared = false;
    clearImmediate(setImmediate(() => { ranCleared = true; }));
    await new Promise((r) => setTimeout(r, 5));
    assert(ran && cleared && !ranCleared, `ran ${ran}, cleared ${cleared}, ranCleared ${ranCleared}`);
});

test('a failed map rejects through a patient wait', async () => {
    const bad = dev.createBuffer({ size: 256, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    bad.destroy();
    let threw = false;
    dev.pushErrorScope('validation');
    try { await awaitGpu(bad.mapAsync(GPUMapMode.READ), true); } catch { threw = true; }
    assert(await dev.popErrorScope(), 'no validation error for the destroyed buffer');
    assert(threw, 'mapping a destroyed buffer did not fail');
    // the wait count is back to zero: a later urgent wait is urgent only
    const r = await runAndRead(false);
    assert(r.patient === 0, `${r.patient} patient ticks after a failed patient wait`);
});

await run('dawn-poll');
