// rullama bench MODEL: load time, prefill and decode tokens/s on the GPU, and
// per-kernel GPU time (timestamp queries, when the adapter has them). With
// baseline (a llama.cpp-layout GGUF of the same weights: rullama-gen --layout
// llamacpp), upstream llama.cpp (npm node-llama-cpp, not a dependency: see
// tools/bench-llamacpp.mjs) runs the same prompt and decode right after, and both
// are printed side by side with the ratios.
import { openGpuSession } from './cli.mjs';

function lcg(seed) {
    let s = seed >>> 0;
    return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

// A fixed piece of JS work (dependent integer arithmetic), timed before each decode run: on
// the lent GPU machines the same work took 3-25 ms within one call, and runs where it was slow
// were host-bound (docs/NOTES.md, fourteenth session). A level probe does not clear the host:
// there the WebGPU calls of a step also took 1.2-3.4 ms in different minutes with it level.
function cpuProbeMs() {
    const t = performance.now();
    let x = 1;
    for (let i = 0; i < 2e6; i++) x = (Math.imul(x, 1103515245) + 12345) | 0;
    const ms = performance.now() - t;
    return x === 0.5 ? -1 : ms; // x is never 0.5: keeps the loop from being optimised away
}

const quantile = (a, f) => { const s = [...a].sort((p, q) => p - q); return s[Math.min(s.length - 1, Math.floor(f * s.length))]; };

// kernels (by decode GPU time) whose marginal cost the profile measures; the small ones
// show what a dispatch costs in the real step beyond its own work
const MARGINAL_LABELS = 8;

export async function bench(model, { prompt = 512, gen = 64, ctx = 0, profile = true, json = false, baseline = null,
    baselineFa = 'auto', baselineGpu = 'vulkan', pleOnHost = false, log = (m) => process.stderr.write(m) } = {}) {
    const nCtx = ctx || prompt + gen + 16 + (profile ? MARGINAL_LABELS * 32 : 0); // the profile's marginal costs run 32 steps per label
    const t0 = performance.now();
    let lastPrint = 0;
    const s = await openGpuSession(model, {
        nCtx,
        pleOnHost,
        onProgress: (done, total) => {
            const now = performance.now();
            if (now - lastPrint > 1000) { lastPrint = now; log(`  loading ${(done / 1e9).toFixed(2)} / ${(total / 1e9).toFixed(2)} GB\n`); }
        },
    });
    const loadMs = performance.now() - t0;
    const r = {
        model, device: s.runtime.caps().description, features: [...s.runtime.adapter.features].sort(), boundsChecks: s.runtime.boundsChecks, loadMs, loadBytes: s.loadBytes,
        loadGBs: s.loadBytes / 1e9 / (loadMs / 1e3), loadOpenMs: s.openMs, uploadMs: s.uploadMs,
        uploadGBs: s.loadBytes / 1e9 / (s.uploadMs / 1e3), packedBytes: s.packedBytes ?? 0, nVocab: s.nVocab,
        decodeBytesPerToken: s.engine.exports.rl_api_gpu_decode_bytes(s.handle),
    };
    try {
        const rand = lcg(1234);
        const tokens = [2, ...Array.from({ length: prompt - 1 }, () => 3 + (rand() % (s.nVocab - 3)))];
        // warm-up: compiles every pipeline the prefill and decode paths use
        await s.eval(tokens, { logits: false, argmax: true });
        await s.eval([tokens[1]], { logits: false, argmax: true });
        // ... and keeps the GPU busy for a second: its clocks ramp up under load (an idle H200
        // reported 345 MHz, 1980 after a bench), and a fresh machine's first timed passes ran
        // 170 / 101 / 46 ms where later ones take 42-45 (docs/PERF.md, tenth session)
        for (const w0 = performance.now(); performance.now() - w0 < 1000;) {
            s.truncate(0);
            await s.eval(tokens, { logits: false, argmax: true });
        }
        s.truncate(0);
        // prefill: the median of three passes from an empty cache (one pass is ~0.1 s on a big
        // GPU, where a host hiccup shows; the kernels' own time is in the profile below)
        const times = [];
        let next, t;
        s.recordMs = 0;
        s.runtime.encodeMs = 0;
        for (let i = 0; i < 3; i++) {
            s.truncate(0);
            t = performance.now();
            [next] = await s.eval(tokens, { logits: false, argmax: true });
            times.push(performance.now() - t);
        }
        r.prefillRecordMs = s.recordMs / 3; // host work of a pass: recording in C (RoPE table included), encoding
        r.prefillEncodeMs = s.runtime.encodeMs / 3;
        r.prefillPassesMs = [...times];
        r.prefillMs = times.sort((a, b) => a - b)[1];
        r.prefillTokS = prompt / (r.prefillMs / 1e3);
        // decode as generation runs it: greedy, steps n+1 .. n+4 queued before step n's pick is read.
        // As the baseline's, the median of three runs after a first one: the session's first decode
        // runs its host code cold (reported too, as decodeColdTokS)
        const decodeTimes = [], runPicks = [];
        cpuProbeMs(); // compiled before it is timed
        r.cpuProbeMs = [cpuProbeMs()];
        const stepHost = [];
        for (let i = 0; i < 4; i++) {
            if (i) { // the same positions again: the last prompt position's pick starts the chain
                s.truncate(prompt - 1);
                await s.eval([tokens[prompt - 1]], { logits: false, argmax: true });
            }
            if (i === 1) s.recordMs = 0, s.runtime.encodeMs = 0, s.runtime.submitMs = 0, s.runtime.stepHostMs = stepHost;
            r.cpuProbeMs.push(cpuProbeMs());
            t = performance.now();
            runPicks.push(await s.decodeGreedy(gen));
            decodeTimes.push(performance.now() - t);
        }
        s.runtime.stepHostMs = null;
        if (stepHost.length)
            r.decodeHostStepMs = { steps: stepHost.length, sumMs: stepHost.reduce((a, b) => a + b, 0), p10: quantile(stepHost, 0.1), p50: quantile(stepHost, 0.5), p90: quantile(stepHost, 0.9), max: quantile(stepHost, 1) };
        const picks = runPicks[0];
        r.decodeColdTokS = gen / (decodeTimes[0] / 1e3);
        r.decodeMs = decodeTimes.slice(1).sort((a, b) => a - b)[1];
        r.decodeRecordMsPerToken = s.recordMs / (3 * gen);
        r.decodeEncodeMsPerToken = s.runtime.encodeMs / (3 * gen);
        r.decodeSubmitMsPerToken = s.runtime.submitMs / (3 * gen);
        r.decodeTokS = gen / (r.decodeMs / 1e3);
        // the same positions again with one host round trip per token (the pipelining's gain, and a check)
        s.truncate(prompt);
        t = performance.now();
        const sync = [];
        for (let i = 0; i < gen; i++) [next] = await s.eval([next], { logits: false, argmax: true }), sync.push(next);
        r.decodeSyncTokS = gen / ((performance.now() - t) / 1e3);
        // and with a single step queued ahead (the pipelining depth's gain)
        s.truncate(prompt - 1);
        await s.eval([tokens[prompt - 1]], { logits: false, argmax: true }); // the last prompt position again: its pick starts the chain
        t = performance.now();
        const shallow = await s.decodeGreedy(gen, { ahead: 1 });
        r.decodeAhead1TokS = gen / ((performance.now() - t) / 1e3);
        // and two (the depth before 2026-11-26)
        s.truncate(prompt - 1);
        await s.eval([tokens[prompt - 1]], { logits: false, argmax: true });
        t = performance.now();
        const two = await s.decodeGreedy(gen, { ahead: 2 });
        r.decodeAhead2TokS = gen / ((performance.now() - t) / 1e3);
        // where pipelined steps' time goes on the GPU: each step's commands from start to end, and
        // the GPU's idle time between one step's end and the next one's start
        if (profile) {
            s.truncate(prompt - 1);
            await s.eval([tokens[prompt - 1]], { logits: false, argmax: true });
            if (s.runtime.startTimeline(gen)) {
                t = performance.now();
                await s.decodeGreedy(gen);
                const wall = performance.now() - t, tl = await s.runtime.readTimeline();
                const steady = tl.slice(4); // past the queue's filling
                if (steady.length > 1) {
                    let busy = 0;
                    const gaps = [];
                    for (let i = 0; i < steady.length; i++) {
                        busy += steady[i][1] - steady[i][0];
                        if (i) gaps.push(steady[i][0] - steady[i - 1][1]);
                    }
                    // the gaps' spread tells a steady cost between steps (every gap alike) from the
                    // host falling behind now and then (most gaps near zero, a few long ones)
                    r.decodeTimeline = { steps: steady.length, busyMs: busy / steady.length, idleMs: gaps.reduce((a, b) => a + b, 0) / gaps.length,
                        idleMedianMs: quantile(gaps, 0.5), idleP90Ms: quantile(gaps, 0.9), idleMaxMs: quantile(gaps, 1), tokS: gen / (wall / 1e3) };
                }
            }
        }
        r.decodePicksAgree = sync.every((id, i) => id === picks[i] && id === shallow[i] && id === two[i]) &&
            runPicks.every((p) => p.every((id, i) => id === picks[i]));
        if (!r.decodePicksAgree) throw new Error('bench: pipelined and round-trip greedy decode picked different tokens');
        r.wasmMemoryBytes = s.engine.memory.buffer.byteLength;
        if (profile && s.runtime.querySet) {
            // prefill profile: the same prompt again from an empty cache
            s.truncate(0);
            s.runtime.profile = {};
            await s.eval(tokens, { logits: false, argmax: true });
            r.prefillProfile = Object.entries(s.runtime.profile).map(([label, v]) => ({ label, calls: v.n, ms: v.ms }))
                .sort((a, b) => b.ms - a.ms);
            // GPU time of whole decode steps (one timed pass per step: no host in it, barriers included)
            s.runtime.profile = {};
            s.runtime.profileLists = true;
            const stepMs = async () => {
                s.runtime.profile = {};
                for (let i = 0; i < 16; i++) [next] = await s.eval([next], { logits: false, argmax: true });
                const st = s.runtime.profile.list;
                return st ? st.ms / st.n : null;
            };
            r.decodeGpuMsPerStep = await stepMs();
            s.runtime.profileLists = false;
            s.runtime.profile = {};
            const steps = Math.min(8, gen);
            for (let i = 0; i < steps; i++) [next] = await s.eval([next], { logits: false, argmax: true });
            const prof = Object.entries(s.runtime.profile).map(([label, v]) => ({ label, calls: v.n / steps, msPerToken: v.ms / steps }));
            prof.sort((a, b) => b.msPerToken - a.msPerToken);
            r.decodeProfile = prof;
            r.decodeGpuMsPerToken = prof.reduce((a, p) => a + p.msPerToken, 0);
            r.dispatchesPerToken = prof.reduce((a, p) => a + p.calls, 0);
            // marginal cost of each kernel in the real step: the step's GPU time with that
            // kernel's dispatches run twice, less the plain step's (every one is idempotent)
            if (r.decodeGpuMsPerStep && s.nPast + MARGINAL_LABELS * 32 < (s.nCtx ?? 0)) {
                s.runtime.profileLists = true;
                r.decodeMarginal = [];
                for (const p of prof.slice(0, MARGINAL_LABELS)) {
                    s.runtime.dupLabels = new Set([p.label]);
                    const dup = await stepMs();
                    s.runtime.dupLabels = null;
                    const base = await stepMs();
                    if (dup && base) r.decodeMarginal.push({ label: p.label, calls: p.calls, msPerToken: dup - base, baseMs: base });
                }
                s.runtime.profileLists = false;
            }
            s.runtime.profile = null;
        }
    } finally {
        s.close();
    }
    // which side set the decode rate: the host (its median step's work above the GPU's step), the
    // GPU (even the host's slowest tenth of steps below it), or both (the host's slower steps)
    if (r.decodeGpuMsPerStep && r.decodeHostStepMs) {
        const rec = r.decodeRecordMsPerToken, gpu = r.decodeGpuMsPerStep, h = r.decodeHostStepMs;
        r.decodeBound = h.p50 + rec > gpu ? 'host' : h.p90 + rec < gpu ? 'gpu' : 'both';
    }
    if (baseline) await runBaseline(r, baseline, { prompt, gen, ctx, fa: baselineFa, gpu: baselineGpu, log });
    if (json) return r;
    log(`model        ${model}\ndevice       ${r.device}\nfeatures     ${r.features.join(' ')}\n`);
    log(`bounds       ${r.boundsChecks ? "Dawn's bounds checks on (RULLAMA_ROBUST=1)" : "the kernels' bounds checks off (Dawn disable_robustness; RULLAMA_ROBUST=1 keeps them)"}\n`);
    log(`load         ${(r.loadMs / 1e3).toFixed(2)} s for ${(r.loadBytes / 1e9).toFixed(3)} GB (${r.loadGBs.toFixed(2)} GB/s): ` +
        `open ${(r.loadOpenMs / 1e3).toFixed(2)} s (buffers, pipelines), upload ${(r.uploadMs / 1e3).toFixed(2)} s (${r.uploadGBs.toFixed(2)} GB/s)` +
        (r.packedBytes ? `; ${(r.packedBytes / 1e9).toFixed(2)} GB more on the GPU for the integer prefill matmul\n` : '\n'));
    log(`prefill      ${prompt} tokens in ${r.prefillMs.toFixed(1)} ms: ${r.prefillTokS.toFixed(1)} tokens/s, the median of ` +
        `${r.prefillPassesMs.map((v) => v.toFixed(1)).join(' / ')} ms (host: recording in C ${r.prefillRecordMs.toFixed(2)} ms, encoding WebGPU calls ${r.prefillEncodeMs.toFixed(2)} ms)\n`);
    log(`decode host  ${(r.decodeRecordMsPerToken + r.decodeEncodeMsPerToken).toFixed(3)} ms per token: recording in C ${r.decodeRecordMsPerToken.toFixed(3)} ms, ` +
        `encoding WebGPU calls ${r.decodeEncodeMsPerToken.toFixed(3)} ms (of which queue.submit ${r.decodeSubmitMsPerToken.toFixed(3)} ms)\n`);
    if (r.decodeHostStepMs) {
        const h = r.decodeHostStepMs;
        log(`decode host  encoding a pipelined step: ${h.p10.toFixed(3)} / ${h.p50.toFixed(3)} / ${h.p90.toFixed(3)} ms (10th percentile / median / 90th), ` +
            `longest ${h.max.toFixed(3)} (${h.steps} steps)\n`);
    }
    const cpu = r.cpuProbeMs, cpuSwing = Math.max(...cpu) / Math.min(...cpu);
    log(`host CPU     a fixed piece of JS took ${cpu.map((v) => v.toFixed(2)).join(' / ')} ms before the decode runs` +
        (cpuSwing > 1.5 ? ` (the CPU's speed swung ${cpuSwing.toFixed(1)}x)` : '') + '\n');
    log(`decode       ${gen} tokens in ${r.decodeMs.toFixed(1)} ms: ${r.decodeTokS.toFixed(1)} tokens/s, the median of 3 runs ` +
        `(${r.decodeColdTokS.toFixed(1)} in the first run before them; ${r.decodeSyncTokS.toFixed(1)} with a host round trip per token, ${r.decodeAhead1TokS.toFixed(1)} with one step queued ahead instead of four, ${r.decodeAhead2TokS.toFixed(1)} with two)\n`);
    log(`wasm memory  ${(r.wasmMemoryBytes / 2 ** 20).toFixed(1)} MiB\n`);
    if (r.prefillProfile) {
        log(`prefill profile (${prompt} tokens, one timed pass per dispatch):\n`);
        for (const p of r.prefillProfile.slice(0, 12))
            log(`  ${p.label.padEnd(24)} ${String(p.calls).padStart(5)} calls ${p.ms.toFixed(2).padStart(9)} ms\n`);
    }
    if (r.decodeGpuMsPerStep) {
        const gb = r.decodeBytesPerToken / 1e9;
        log(`decode GPU   ${r.decodeGpuMsPerStep.toFixed(3)} ms per step (one timed pass per step); ${gb.toFixed(2)} GB of weights read per token ` +
            `-> ${(gb / (r.decodeGpuMsPerStep / 1e3)).toFixed(0)} GB/s achieved (bandwidth floor at 3.35 TB/s: ${(gb / 3.35).toFixed(3)} ms)\n`);
        if (r.decodeBound) {
            const host = r.decodeHostStepMs.p50 + r.decodeRecordMsPerToken;
            const by = { host: 'by the host', gpu: 'by the GPU', both: "by the GPU and the host's slower steps" }[r.decodeBound];
            log(`decode bound ${by}: a step's host work (median ${host.toFixed(3)} ms, 90th percentile ${(r.decodeHostStepMs.p90 + r.decodeRecordMsPerToken).toFixed(3)}) ` +
                `against its GPU time (${r.decodeGpuMsPerStep.toFixed(3)} ms); the GPU alone would allow ${(1e3 / r.decodeGpuMsPerStep).toFixed(1)} tokens/s\n`);
        }
    }
    if (r.decodeTimeline) {
        const d = r.decodeTimeline;
        log(`decode GPU timeline ${d.busyMs.toFixed(3)} ms a step from its first command to its last, ${d.idleMs.toFixed(3)} ms idle before the next ` +
            `(median ${d.idleMedianMs.toFixed(3)}, 90th percentile ${d.idleP90Ms.toFixed(3)}, longest ${d.idleMaxMs.toFixed(3)}; ` +
            `${d.steps} pipelined steps, ${d.tokS.toFixed(1)} tokens/s in that run)\n`);
    }
    if (r.decodeProfile) {
        log(`decode profile (one pass per dispatch, so the sum exceeds the real step): ${r.dispatchesPerToken.toFixed(0)} dispatches, ${r.decodeGpuMsPerToken.toFixed(3)} ms GPU per token\n`);
        for (const p of r.decodeProfile.slice(0, 20))
            log(`  ${p.label.padEnd(24)} ${p.calls.toFixed(0).padStart(5)} calls ${(p.msPerToken * 1e3).toFixed(1).padStart(9)} us/token\n`);
    }
    if (r.decodeMarginal?.length) {
        log('decode marginal cost (the step with one kernel\'s dispatches run twice, less the step after it):\n');
        for (const p of r.decodeMarginal)
            log(`  ${p.label.padEnd(24)} ${p.calls.toFixed(0).padStart(5)} calls ${(p.msPerToken * 1e3).toFixed(1).padStart(9)} us/token ` +
                `(${(p.msPerToken * 1e3 / p.calls).toFixed(2)} us/call; step ${p.baseMs.toFixed(3)} ms)\n`);
    }
    if (r.baseline) printComparison(r, prompt, gen, log);
    return r;
}

// llama.cpp on the same prompt; r.baseline / r.ratio (ours / llama.cpp), or
// r.baselineError when node-llama-cpp is missing or fails.
async function runBaseline(r, model, opts) {
    try {
        const { benchLlamaCpp } = await import('../../tools/bench-llamacpp.mjs');
        opts.log(`llama.cpp baseline: ${model}\n`);
        const b = await benchLlamaCpp(model, opts);
        r.baseline = b;
        r.ratio = { prefill: r.prefillTokS / b.prefillTokS, decode: r.decodeTokS / b.decodeTokS, load: b.loadMs / r.loadMs };
    } catch (e) {
        r.baselineError = e.message;
        opts.log(`llama.cpp baseline not run: ${e.message}\n`);
    }
}

function printComparison(r, prompt, gen, log) {
    const b = r.baseline;
    log(`\nllama.cpp    ${b.llamaCpp ?? '?'} via node-llama-cpp, ${b.backend} on ${b.device}, ${b.gpuLayers} layers offloaded, ` +
        `flash attention ${b.flashAttention ? 'on' : 'off'}, median of ${b.runs.length}\n`);
    const row = (name, ours, theirs, ratio, unit) =>
        log(`${name.padEnd(22)} ${ours.padStart(10)} ${theirs.padStart(10)} ${ratio.padStart(8)}  ${unit}\n`);
    row('', 'rullama', 'llama.cpp', 'ratio', '');
    row(`prefill (${prompt} tokens)`, r.prefillTokS.toFixed(1), b.prefillTokS.toFixed(1), `${r.ratio.prefill.toFixed(2)}x`, 'tokens/s');
    row(`decode (${gen} tokens)`, r.decodeTokS.toFixed(1), b.decodeTokS.toFixed(1), `${r.ratio.decode.toFixed(2)}x`, 'tokens/s');
    row('load', (r.loadMs / 1e3).toFixed(2), (b.loadMs / 1e3).toFixed(2), `${r.ratio.load.toFixed(2)}x`, 's (ratio: llama.cpp time / ours)');
}
