#!/usr/bin/env node
// Greedy decode at several pipelining depths, interleaved: how many steps queued
// ahead of the host (src/generate.c RL_GEN_AHEAD) it takes to keep the GPU busy
// while the host's time per step swings. Prints tokens/s and the host's ms per
// step (recording in C + encoding WebGPU calls) per depth and round.
//   node tools/bench-ahead.mjs MODEL [--depths 2,3,4,6,8] [--tokens 256] [--rounds 2]
import { openGpuSession } from '../js/node/cli.mjs';

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
if (!args[0] || args[0].startsWith('--')) {
    process.stderr.write('usage: node tools/bench-ahead.mjs MODEL [--depths 2,3,4,6,8] [--tokens 256] [--rounds 2]\n');
    process.exit(2);
}
const depths = opt('--depths', '2,3,4,6,8').split(',').map(Number);
const n = Number(opt('--tokens', '256')), rounds = Number(opt('--rounds', '2'));
const prompt = 64;
const s = await openGpuSession(args[0], { nCtx: prompt + n + 16 });
try {
    const toks = [2, ...Array.from({ length: prompt - 1 }, (_, i) => 3 + ((i * 7919) % 1000))];
    await s.eval(toks, { logits: false, argmax: true });
    await s.decodeGreedy(16); // warm-up: every decode pipeline compiled
    for (let r = 0; r < rounds; r++) {
        const line = [];
        for (const a of depths) {
            s.truncate(prompt - 1); // the last prompt position again: its pick starts the chain
            await s.eval([toks[prompt - 1]], { logits: false, argmax: true });
            s.runtime.encodeMs = 0;
            s.recordMs = 0;
            const t = performance.now();
            await s.decodeGreedy(n, { ahead: a });
            const ms = performance.now() - t;
            line.push(`ahead ${a}: ${(n / ms * 1e3).toFixed(1)} tok/s (host ${((s.runtime.encodeMs + s.recordMs) / n).toFixed(2)} ms)`);
        }
        console.log(line.join('  '));
    }
} finally {
    s.close();
}
