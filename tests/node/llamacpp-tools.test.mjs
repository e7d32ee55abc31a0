// The llama.cpp baseline tools without llama.cpp (it is no dependency): a clear
// message when node-llama-cpp is missing, and check-llamacpp's F32 twin of a Q8_0
// model holds the same weights (our engine reads both to the same logits).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { assert, repoRoot, rng, run, test, tmpDir } from './harness.mjs';
import { benchTokens, importNodeLlamaCpp } from '../../tools/bench-llamacpp.mjs';
import { dequantizedTwin } from '../../tools/check-llamacpp.mjs';

const dir = tmpDir('llamacpp-tools');
const gen = path.join(repoRoot, 'build/native/rullama-gen');
const cli = path.join(repoRoot, 'bin/rullama');

test('missing node-llama-cpp: the install hint', async () => {
    const saved = process.env.NODE_LLAMA_CPP_DIR;
    process.env.NODE_LLAMA_CPP_DIR = dir; // holds no node_modules
    try {
        await importNodeLlamaCpp();
        assert(false, 'resolved node-llama-cpp from an empty directory');
    } catch (e) {
        assert(/NODE_LLAMA_CPP_DIR/.test(e.message) && /npm install --no-save node-llama-cpp@3\.22\.1/.test(e.message), e.message);
    } finally {
        if (saved === undefined) delete process.env.NODE_LLAMA_CPP_DIR;
        else process.env.NODE_LLAMA_CPP_DIR = saved;
    }
});

test('bench prompt: BOS, then ids in [3, n_vocab)', () => {
    const t = benchTokens(300, 1000);
    assert(t.length === 300 && t[0] === 2 && t.slice(1).every((x) => Number.isInteger(x) && x >= 3 && x < 1000), 'range');
    assert(new Set(t).size > 200, 'not random');
});

test('dequantized twin: same logits as the Q8_0 model', () => {
    const seed = String(1 + Math.floor(rng() * 1e6));
    const q = path.join(dir, 'q.gguf'), lc = path.join(dir, 'lc.gguf'), twin = path.join(dir, 'twin.gguf');
    execFileSync(gen, ['--preset', 'tiny-kv', '--type', 'Q8_0', '--seed', seed, '--out', q]);
    execFileSync(gen, ['--preset', 'tiny-kv', '--type', 'Q8_0', '--seed', seed, '--layout', 'llamacpp', '--out', lc]);
    dequantizedTwin(lc, twin);
    const q8 = fs.statSync(lc).size, f32 = fs.statSync(twin).size;
    assert(f32 > 3 * q8, `twin ${f32} bytes from ${q8}: Q8_0 tensors not widened`);
    const tokens = [2, ...Array.from({ length: 19 }, () => 3 + Math.floor(rng() * 1000))].join(',');
    const logits = (model) => {
        const out = path.join(dir, 'l.bin');
        execFileSync(process.execPath, [cli, 'logits', model, '--tokens', tokens, '--out', out, '--cpu'], { stdio: 'ignore' });
        const b = fs.readFileSync(out);
        return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
    };
    const a = logits(q), b = logits(twin);
    assert(a.length === b.length && a.length === 20 * 1024, `${a.length} vs ${b.length} logits`);
    let d = 0, m = 0;
    for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i])), m = Math.max(m, Math.abs(a[i]));
    assert(d / m < 1e-5, `relative difference ${d / m} (seed ${seed})`);
});

await run('llamacpp-tools');
