import { openGpuSession } from './js/node/cli.mjs';
const s = await openGpuSession(process.argv[2], { nCtx: 4096 });
const toks = [2, ...Array.from({ length: 63 }, (_, i) => 3 + ((i * 7919) % 1000))];
await s.eval(toks, { logits: false, argmax: true });
await s.decodeGreedy(16);
const n = 256;
for (let round = 0; round < 2; round++) {
    const line = [];
    for (const [a, b] of [[2, 1], [3, 1], [4, 1], [6, 1], [8, 1], [4, 2], [2, 2]]) {
        s.truncate(63);
        await s.eval([toks[63]], { logits: false, argmax: true });
        s.runtime.encodeMs = 0; s.recordMs = 0;
        const t = performance.now();
        await s.decodeGreedy(n, { ahead: a, batch: b });
        const ms = performance.now() - t;
        line.push(`a${a}b${b} ${(n / ms * 1e3).toFixed(1)} (host ${((s.runtime.encodeMs + s.recordMs) / n).toFixed(2)})`);
    }
    console.log(line.join('  '));
}
s.close();
