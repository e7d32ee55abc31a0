#!/usr/bin/env node
// Decode's integer dot products end to end: the same tokens decoded one at a time
// through two GPU sessions of one model, the default (integer products where the
// planner uses them: matvec.wgsl IDOT, XLIMBS) and one with them off
// (RULLAMA_TUNE=idot=0,xl=0, or --off KNOBS), and each step's logits compared
// (largest |a - b| relative to the step's largest |logit|, and the argmax).
//   node tools/decode-parity.mjs MODEL [--tokens N] [--on KNOBS] [--off KNOBS]
import { openGpuSession } from '../js/node/cli.mjs';

const args = process.argv.slice(2);
const model = args[0];
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const n = Number(opt('--tokens', '32'));
const on = opt('--on', ''), off = opt('--off', 'idot=0,xl=0');
if (!model) {
    console.error('usage: node tools/decode-parity.mjs MODEL [--tokens N] [--on KNOBS] [--off KNOBS]');
    process.exit(2);
}
async function steps(knobs) {
    process.env.RULLAMA_TUNE = knobs;
    const s = await openGpuSession(model, { nCtx: n + 16 });
    let seed = 5;
    const rows = [];
    try {
        for (let i = 0; i < n; i++) {
            seed = (seed * 1103515245 + 12345) % 2147483648;
            rows.push(Float32Array.from(await s.eval([i === 0 ? 2 : 3 + (seed % (s.nVocab - 3))])));
        }
    } finally {
        s.close?.();
    }
    return rows;
}
const a = await steps(on), b = await steps(off);
let worst = 0, agree = 0;
for (let i = 0; i < n; i++) {
    let mx = 0, d = 0, ia = 0, ib = 0;
    for (let v = 0; v < a[i].length; v++) {
        mx = Math.max(mx, Math.abs(b[i][v]));
        d = Math.max(d, Math.abs(a[i][v] - b[i][v]));
        if (a[i][v] > a[i][ia]) ia = v;
        if (b[i][v] > b[i][ib]) ib = v;
    }
    worst = Math.max(worst, d / mx);
    agree += ia === ib;
}
console.log(`decode logits, '${on}' against '${off}': worst ${worst.toExponential(2)} of the step's largest logit, argmax ${agree}/${n}`);
process.exit(0);
