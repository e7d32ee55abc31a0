// `rullama bench` end to end on the fixture model: the numbers it reports exist, are
// finite and consistent (on SwiftShader their sizes mean nothing), the pipelined, shallow
// and round-trip decodes picked the same tokens (the bench checks that itself and fails
// otherwise), and the GPU timeline's gap statistics are ordered. Also on Dawn's null
// backend (RULLAMA_DAWN_BACKEND=null: no kernels run, the host's work alone).
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { assert, fixturesDir, repoRoot, run, test, tmpDir } from './harness.mjs';

process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
const fx = fixturesDir();
const model = fx && path.join(fx, 'gemma4-tiny/model.gguf');
const cli = path.join(repoRoot, 'bin/rullama');

function bench(args, env = {}) {
    const out = path.join(tmpDir('bench'), `bench-${Object.keys(env).join('-') || 'gpu'}.json`);
    const p = spawnSync(process.execPath, [cli, 'bench', model, ...args, '--json-out', out], {
        env: { ...process.env, ...env }, encoding: 'utf8', timeout: 600e3,
    });
    assert(p.status === 0, `bench exited with ${p.status}: ${p.stderr}`);
    return { r: JSON.parse(fs.readFileSync(out, 'utf8')), log: p.stderr };
}

const positive = (r, keys) => keys.forEach((k) => assert(Number.isFinite(r[k]) && r[k] > 0, `${k} = ${r[k]}`));

test('bench on SwiftShader: load, prefill and decode rates, the profile and the timeline', () => {
    if (!model) return;
    const { r } = bench(['--prompt', '12', '--gen', '6']);
    positive(r, ['loadMs', 'loadBytes', 'prefillMs', 'prefillTokS', 'decodeMs', 'decodeTokS', 'decodeSyncTokS',
        'decodeAhead1TokS', 'decodeAhead2TokS', 'wasmMemoryBytes', 'decodeBytesPerToken']);
    assert(r.decodePicksAgree === true, 'pipelined and round-trip decodes disagreed');
    assert(Math.abs(r.prefillTokS - 12 / (r.prefillMs / 1e3)) < 1e-6 * r.prefillTokS, 'prefill rate and time disagree');
    assert(r.prefillPassesMs.length === 3 && r.prefillPassesMs.includes(r.prefillMs), 'prefill: not the median of its three passes');
    // the host's side of decode: each pipelined step's encoding, and the CPU probe before every run
    const h = r.decodeHostStepMs;
    assert(h && h.steps > 0 && h.p10 > 0 && h.p10 <= h.p50 && h.p50 <= h.p90 && h.p90 <= h.max, `host steps ${JSON.stringify(h)}`);
    // the steps are some of the lists the measured runs encoded: their sum is within the whole
    assert(h.sumMs > 0 && h.sumMs <= r.decodeEncodeMsPerToken * 3 * 6 * (1 + 1e-9), `steps ${h.sumMs} ms of ${r.decodeEncodeMsPerToken * 18}`);
    assert(r.cpuProbeMs.length === 5 && r.cpuProbeMs.every((v) => Number.isFinite(v) && v > 0), `cpu probe ${r.cpuProbeMs}`);
    if (!r.features.includes('timestamp-query')) return;
    assert(['host', 'gpu', 'both'].includes(r.decodeBound), `decode bound ${r.decodeBound}`);
    positive(r, ['decodeGpuMsPerStep', 'decodeGpuMsPerToken', 'dispatchesPerToken']);
    assert(r.decodeProfile.length > 0 && r.decodeProfile.every((p) => p.calls > 0 && p.msPerToken >= 0), 'decode profile');
    const d = r.decodeTimeline;
    assert(d && d.steps > 0 && d.busyMs > 0, `timeline ${JSON.stringify(d)}`);
    assert(d.idleMedianMs >= 0 && d.idleMedianMs <= d.idleP90Ms && d.idleP90Ms <= d.idleMaxMs && d.idleMs <= d.idleMaxMs,
        `timeline gaps out of order: ${JSON.stringify(d)}`);
});

test('bench on Dawn\'s null backend: the host\'s work alone, reads as zeros', () => {
    if (!model) return;
    const { r, log } = bench(['--prompt', '12', '--gen', '6', '--no-profile'], { RULLAMA_DAWN_BACKEND: 'null' });
    assert(/null/i.test(r.device), `device ${r.device}`);
    positive(r, ['prefillTokS', 'decodeTokS', 'decodeEncodeMsPerToken']);
    assert(r.decodePicksAgree === true, 'picks disagreed');
    assert(/decode host +[\d.]+ ms per token/.test(log), 'no host line');
});

await run('bench');
