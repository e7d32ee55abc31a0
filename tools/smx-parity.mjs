#!/usr/bin/env node
// The prefill's integer tensor-core matmul end to end: the same prompt through
// two GPU sessions of one model, one with the integer matmul (the default where
// the device offers it) and one with the f32 matmul (RULLAMA_TUNE=smx=0), and the
// logits of every position compared (largest |a - b| relative to the position's
// largest |logit|, and the argmax). Optionally the CPU reference too (--cpu, small
// models only).
//   node tools/smx-parity.mjs MODEL [--tokens N] [--tune KNOBS]
import { openGpuSession } from '../js/node/cli.mjs';

const args = process.argv.slice(2);
const model = args[0];
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const n = Number(opt('--tokens', '300'));
const tune = opt('--tune', '');
let seed = 99;
const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed; };
async function logits(knobs) {
    process.env.RULLAMA_TUNE = knobs;
    const s = await openGpuSession(model, { nCtx: n + 16 });
    const tokens = [2, ...Array.from({ length: n - 1 }, () => 3 + (rand() % (s.nVocab - 3)))];
    const out = await s.eval(tokens, { allLogits: true });
    const V = s.nVocab;
    s.close?.();
    return { out, V };
}
const a = await logits(['smx=1', tune].filter(Boolean).join(','));
seed = 99;
const b = await logits(['smx=0', tune].filter(Boolean).join(','));
let worst = 0, agree = 0;
for (let t = 0; t < n; t++) {
    let mx = 0, d = 0, ia = 0, ib = 0;
    for (let v = 0; v < a.V; v++) {
        const x = a.out[t * a.V + v], y = b.out[t * a.V + v];
        mx = Math.max(mx, Math.abs(y));
        d = Math.max(d, Math.abs(x - y));
        if (x > a.out[t * a.V + ia]) ia = v;
        if (y > b.out[t * a.V + ib]) ib = v;
    }
    worst = Math.max(worst, d / mx);
    agree += ia === ib;
}
console.log(`${n} positions: integer vs f32 matmul: worst max|diff| / max|logit| = ${worst.toExponential(2)}, argmax agrees at ${agree}/${n}`);
process.exit(worst < 1e-4 ? 0 : 1);
