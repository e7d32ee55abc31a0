// Minimal async test harness for Node suites. Prints "RESULT <suite> passed=N failed=M"
// (summed by scripts/test.sh). Usage:
//   import { test, run, assert, fixturesDir, rng } from './harness.mjs';
//   test('name', async () => { assert(cond, 'message'); });
//   await run('suite-name');
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cases = [];

export function test(name, fn) { cases.push({ name, fn }); }

export class AssertionError extends Error {}
export function assert(cond, msg = 'assertion failed') { if (!cond) throw new AssertionError(msg); }
export function assertEq(a, b, msg = '') {
    const sa = JSON.stringify(a), sb = JSON.stringify(b);
    if (sa !== sb) throw new AssertionError(`${msg} expected ${sb}, got ${sa}`);
}

export function fixturesDir() {
    for (const d of [process.env.RULLAMA_FIXTURES, path.join(repoRoot, '../shared/fixtures'), '/work/shared/fixtures'])
        if (d && fs.existsSync(d)) return d;
    return null;
}

export function tmpDir(suite) {
    return fs.mkdtempSync(path.join(os.tmpdir(), `rullama-${suite}-`));
}

// Seeded RNG (mulberry32); the seed is printed so failures reproduce.
export const seed = Number(process.env.RULLAMA_TEST_SEED ?? (Date.now() ^ (process.pid << 8)) >>> 0);
let rngState = seed >>> 0;
export function rng() {
    rngState = (rngState + 0x6d2b79f5) >>> 0;
    let t = rngState;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

export async function run(suite) {
    console.error(`suite ${suite} (RULLAMA_TEST_SEED=${seed})`);
    const only = process.argv[2];
    let passed = 0, failed = 0;
    for (const c of cases) {
        if (only && !c.name.includes(only)) continue;
        const t0 = performance.now();
        try {
            await c.fn();
            passed++;
            console.error(`  ok ${c.name} (${(performance.now() - t0).toFixed(0)} ms)`);
        } catch (e) {
            failed++;
            console.error(`  not ok ${c.name}\n    ${(e && e.stack) || e}`);
        }
    }
    console.log(`RESULT ${suite} passed=${passed} failed=${failed}`);
    process.exitCode = failed ? 1 : 0;
}
