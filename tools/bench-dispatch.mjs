#!/usr/bin/env node
// The fixed cost of one dependent dispatch: chains of trivial dispatches in one
// compute pass (each reads what the previous wrote, so Dawn puts a barrier
// between them), timed with GPU timestamps around the pass and by wall clock.
// This is the floor under every kernel of a decode step (471 of them).
//
//   node tools/bench-dispatch.mjs [--n 1000] [--reps 5]
import { createGpu } from '../js/gpu.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => { const i = args.indexOf(n); return i >= 0 ? Number(args[i + 1]) : d; };
const N = opt('--n', 1000), reps = opt('--reps', 5);
const rt = await createGpu();
const dev = rt.device;
const hasTs = rt.features.has('timestamp-query');
console.log(`device: ${rt.caps().description}; timestamps ${hasTs ? 'yes' : 'no'}`);

// wg workgroups of 64; each invocation adds to one word (a dependent chain through the buffer)
const code = `@group(0) @binding(0) var<storage, read_write> a: array<u32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) { a[g.x] = a[g.x] + 1u; }`;
const module = dev.createShaderModule({ code });
const pipeline = dev.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
const buf = dev.createBuffer({ size: 4 * 64 * 4096, usage: GPUBufferUsage.STORAGE });
const other = dev.createBuffer({ size: 4 * 64 * 4096, usage: GPUBufferUsage.STORAGE });
const bgA = dev.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] });
const bgB = dev.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: other } }] });
const qs = hasTs ? dev.createQuerySet({ type: 'timestamp', count: 2 }) : null;
const qbuf = hasTs ? dev.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }) : null;

async function chain(wg, alternate) {
    let best = Infinity, bestGpu = Infinity;
    for (let r = 0; r < reps; r++) {
        const enc = dev.createCommandEncoder();
        const pass = enc.beginComputePass(hasTs ? { timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : undefined);
        pass.setPipeline(pipeline);
        for (let i = 0; i < N; i++) {
            pass.setBindGroup(0, alternate && i % 2 ? bgB : bgA);
            pass.dispatchWorkgroups(wg);
        }
        pass.end();
        let staging = null;
        if (hasTs) {
            enc.resolveQuerySet(qs, 0, 2, qbuf, 0);
            staging = dev.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
            enc.copyBufferToBuffer(qbuf, 0, staging, 0, 16);
        }
        const t = performance.now();
        dev.queue.submit([enc.finish()]);
        await dev.queue.onSubmittedWorkDone();
        best = Math.min(best, performance.now() - t);
        if (staging) {
            await staging.mapAsync(GPUMapMode.READ);
            const ts = new BigUint64Array(staging.getMappedRange());
            bestGpu = Math.min(bestGpu, Number(ts[1] - ts[0]) / 1e6);
            staging.unmap();
            staging.destroy();
        }
    }
    const us = (ms) => (ms * 1e3 / N).toFixed(2);
    console.log(`${N} dispatches of ${String(wg).padStart(4)} workgroups${alternate ? ', two buffers alternating' : ', one buffer'}: ` +
        `${us(best)} us each by wall clock${hasTs ? `, ${us(bestGpu)} us by GPU timestamps` : ''}`);
}

await chain(1, false); // warm-up
for (const wg of [1, 132, 1024, 4096]) await chain(wg, false);
await chain(132, true);
rt.destroy();
