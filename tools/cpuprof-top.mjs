#!/usr/bin/env node
// Top self-time functions of a V8 .cpuprofile (node --cpu-prof): where the
// host side of a run spends its time.   node tools/cpuprof-top.mjs FILE [N]
import fs from 'node:fs';
const [file, n = 30] = process.argv.slice(2);
const p = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(p.nodes.map((x) => [x.id, x]));
const self = new Map();
let total = 0;
for (let i = 0; i < p.samples.length; i++) {
    const f = byId.get(p.samples[i]).callFrame;
    const k = `${f.functionName || '(anonymous)'} ${(f.url || '').split('/').pop()}:${f.lineNumber + 1}`;
    self.set(k, (self.get(k) || 0) + (p.timeDeltas[i] || 0));
    total += p.timeDeltas[i] || 0;
}
console.log(`${(total / 1e3).toFixed(0)} ms sampled`);
for (const [k, v] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(n)))
    console.log(`${(v / 1e3).toFixed(1).padStart(9)} ms  ${k}`);
