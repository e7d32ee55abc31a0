#!/usr/bin/env node
// Where the host's time a decode step goes when it encodes WebGPU calls: one greedy
// decode step's dispatches (the engine's own pipelines and bind groups, captured from
// a real step) re-encoded in tight loops, whole and with parts left out, against the
// runtime's own encoding of the same step. Microseconds a dispatch, best of many passes.
//
//   node tools/bench-encode.mjs MODEL [--prompt N] [--reps N]
// With RULLAMA_DAWN_BACKEND=null nothing runs on a GPU (the host's work alone).
import { openGpuSession } from '../js/node/cli.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => { const i = args.indexOf(n); return i >= 0 ? Number(args[i + 1]) : d; };
const model = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
if (!model) { console.error('usage: node tools/bench-encode.mjs MODEL [--prompt N] [--reps N]'); process.exit(2); }
const prompt = opt('--prompt', 64), reps = opt('--reps', 200);

const s = await openGpuSession(model, { nCtx: prompt + 64 });
const rt = s.runtime, dev = rt.device;
const tokens = Array.from({ length: prompt }, (_, i) => 2 + ((i * 7919) % 1000));
await s.eval(tokens, { logits: false, argmax: true });
await s.decodeGreedy(8); // records the step body, then replays it

// capture one replayed step's calls
const P = GPUComputePassEncoder.prototype;
const orig = { setPipeline: P.setPipeline, setBindGroup: P.setBindGroup, dispatchWorkgroups: P.dispatchWorkgroups };
const calls = [];
let pipe = null, bg = null;
P.setPipeline = function (p) { pipe = p; return orig.setPipeline.call(this, p); };
P.setBindGroup = function (i, g, ...rest) { bg = g; return orig.setBindGroup.call(this, i, g, ...rest); };
P.dispatchWorkgroups = function (x, y = 1, z = 1) { calls.push([pipe, bg, x, y, z]); return orig.dispatchWorkgroups.call(this, x, y, z); };
const stepsTimed = 16;
await s.decodeGreedy(stepsTimed);
Object.assign(P, orig);
const perStep = calls.length / stepsTimed;
// the runtime's own encoding of as many steps, uninstrumented
const encodeBefore = rt.encodeMs ?? 0, submitBefore = rt.submitMs ?? 0
await s.decodeGreedy(stepsTimed);
const runtimeUs = ((rt.encodeMs - encodeBefore) - (rt.submitMs - submitBefore)) / calls.length * 1e3;
const submitUs = (rt.submitMs - submitBefore) / calls.length * 1e3;
const step = calls.slice(-perStep);
console.log(`${model}: ${perStep} dispatches a step, ${new Set(step.map((c) => c[0])).size} pipelines, ${new Set(step.map((c) => c[1])).size} bind groups`);
console.log(`runtime (js/gpu.mjs #run) ${runtimeUs.toFixed(2)} us a dispatch, queue.submit ${submitUs.toFixed(2)}`);

// tight loops over the captured step; only the first (the step as the runtime encodes it) is
// submitted, the others are invalid or incomplete and only cost what they call
const WHOLE = 'setPipeline when it changes + setBindGroup + dispatch';
const variants = {
    [WHOLE]: (pass) => { let b = null; for (const [p, g, x, y, z] of step) { if (p !== b) { pass.setPipeline(p); b = p; } pass.setBindGroup(0, g); pass.dispatchWorkgroups(x, y, z); } },
    '... dispatch(x) when y = z = 1': (pass) => { let b = null; for (const [p, g, x, y, z] of step) { if (p !== b) { pass.setPipeline(p); b = p; } pass.setBindGroup(0, g); if (y === 1 && z === 1) pass.dispatchWorkgroups(x); else pass.dispatchWorkgroups(x, y, z); } },
    'setPipeline + setBindGroup (no dispatch)': (pass) => { let b = null; for (const [p, g] of step) { if (p !== b) { pass.setPipeline(p); b = p; } pass.setBindGroup(0, g); } },
    'setBindGroup alone': (pass) => { for (const [, g] of step) pass.setBindGroup(0, g); },
    'the same bind group each time + dispatch': (pass) => { pass.setPipeline(step[0][0]); for (const [, , x, y, z] of step) { pass.setBindGroup(0, step[0][1]); pass.dispatchWorkgroups(x, y, z); } },
};
for (let round = 0; round < 2; round++) for (const [name, fn] of Object.entries(variants)) {
    let best = Infinity, bestSubmit = 0, bestFinish = 0;
    for (let r = 0; r < reps; r++) {
        const enc = dev.createCommandEncoder();
        const pass = enc.beginComputePass();
        const t0 = performance.now();
        fn(pass);
        const t1 = performance.now();
        pass.end();
        const cb = enc.finish();
        const tf = performance.now();
        dev.pushErrorScope('validation');
        const t2 = performance.now();
        if (name === WHOLE) dev.queue.submit([cb]);
        const t3 = performance.now();
        await dev.popErrorScope();
        if (t1 - t0 < best) { best = t1 - t0; bestSubmit = t3 - t2; bestFinish = tf - t1; }
        if (r % 20 === 19) await dev.queue.onSubmittedWorkDone();
    }
    console.log(`${name.padEnd(56)} ${(best / step.length * 1e3).toFixed(2)} us a dispatch, end + finish ${(bestFinish / step.length * 1e3).toFixed(2)}` +
        `${bestSubmit ? `, queue.submit ${(bestSubmit / step.length * 1e3).toFixed(2)}` : ''}`);
}
s.close();
process.exit(0);
