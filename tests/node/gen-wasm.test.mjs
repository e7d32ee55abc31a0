// The generator compiled to wasm (tools/gen.mjs) writes byte-identical files to
// the native build/native/rullama-gen, for every tiny preset, both layouts, a
// fake Ollama store, and a vocabulary read from another GGUF.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { assert, fixturesDir, repoRoot, run, test, tmpDir } from './harness.mjs';
import { runGen } from '../../tools/gen.mjs';

const native = path.join(repoRoot, 'build/native/rullama-gen');
const dir = tmpDir('gen-wasm');
const quiet = { out: () => {} };

function nativeGen(args) {
    execFileSync(native, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function sameFiles(a, b) {
    const x = fs.readFileSync(a), y = fs.readFileSync(b);
    assert(x.length === y.length, `${a} has ${x.length} bytes, ${b} ${y.length}`);
    const i = x.findIndex((v, k) => v !== y[k]);
    assert(i < 0, `${a} and ${b} first differ at byte ${i}`);
}

for (const [preset, extra] of [['tiny', []], ['tiny-moe', []], ['tiny-kv', ['--seed', '7']], ['tiny-moe', ['--type', 'BF16', '--moe-fused', '1']],
    ['tiny-moe', ['--layout', 'llamacpp']], ['tiny', ['--layout', 'llamacpp', '--type', 'Q8_0']]]) {
    test(`wasm = native: ${preset} ${extra.join(' ')}`, async () => {
        const a = path.join(dir, `${preset}-native.gguf`), b = path.join(dir, `${preset}-wasm.gguf`);
        const args = ['--preset', preset, ...extra];
        nativeGen([...args, '--out', a]);
        assert((await runGen([...args, '--out', b], quiet)) === 0, 'wasm generator failed');
        sameFiles(a, b);
        assert(fs.readFileSync(b).subarray(0, 4).toString() === 'GGUF', 'not a GGUF');
    });
}

test('wasm = native: store with a vocabulary from a GGUF', async () => {
    const vocab = path.join(dir, 'vocab-source.gguf');
    nativeGen(['--preset', 'tiny', '--vocab-size', '700', '--type', 'BF16', '--out', vocab]);
    const a = path.join(dir, 'store-native'), b = path.join(dir, 'store-wasm');
    const args = ['--preset', 'tiny-kv', '--vocab', vocab, '--name', 'gemma4:tiny-kv'];
    nativeGen([...args, '--store', a]);
    assert((await runGen([...args, '--store', b], quiet)) === 0, 'wasm generator failed');
    const files = (d) => fs.readdirSync(path.join(d, 'blobs')).sort();
    assert(JSON.stringify(files(a)) === JSON.stringify(files(b)), 'different blob names');
    assert(files(a).length === 5 && files(a).every((f) => /^sha256-[0-9a-f]{64}$/.test(f)), `blobs: ${files(a)}`);
    for (const f of files(a)) sameFiles(path.join(a, 'blobs', f), path.join(b, 'blobs', f));
    const manifest = 'manifests/registry.ollama.ai/library/gemma4/tiny-kv';
    sameFiles(path.join(a, manifest), path.join(b, manifest));
    const m = JSON.parse(fs.readFileSync(path.join(a, manifest), 'utf8'));
    const model = m.layers.find((l) => l.mediaType === 'application/vnd.ollama.image.model');
    const blob = fs.readFileSync(path.join(a, 'blobs', model.digest.replace(':', '-')));
    assert(blob.length === model.size, 'manifest size');
    // the 700-token vocabulary came through: its length prefix sits right after the key
    const key = Buffer.from('tokenizer.ggml.tokens');
    const at = blob.indexOf(key);
    assert(at > 0 && blob.readUInt32LE(at + key.length) === 9 && blob.readUInt32LE(at + key.length + 4) === 8 &&
        Number(blob.readBigUInt64LE(at + key.length + 8)) === 700, 'tokenizer.ggml.tokens is not a 700-string array');
});

test('wasm = native: the real vocabulary (tools/vocab.mjs --truncate 1024) matches the fixture header', async () => {
    const vocab = path.join(dir, 'vocab1024.gguf');
    execFileSync(process.execPath, [path.join(repoRoot, 'tools/vocab.mjs'), '--out', vocab, '--truncate', '1024'], { stdio: 'ignore' });
    const a = path.join(dir, 'v-native.gguf'), b = path.join(dir, 'v-wasm.gguf');
    const args = ['--preset', 'tiny', '--vocab', vocab, '--shared-kv-tensors', '0'];
    nativeGen([...args, '--out', a]);
    assert((await runGen([...args, '--out', b], quiet)) === 0, 'wasm generator failed');
    sameFiles(a, b);
    // with the same vocabulary, the header is exactly as long as the external fixture's
    // (same keys, tensors, names and shapes; only the vision position count differs)
    const fx = fixturesDir();
    if (!fx) return;
    const headerEnd = (buf) => buf.indexOf(Buffer.from('blk.0.attn_k.weight')); // first tensor info
    const mine = fs.readFileSync(a), theirs = fs.readFileSync(path.join(fx, 'gemma4-tiny/model.gguf'));
    assert(headerEnd(mine) === headerEnd(theirs), `metadata ends at ${headerEnd(mine)}, fixture ${headerEnd(theirs)}`);
});

test('wasm: bad arguments fail with a message', async () => {
    let err = '';
    const code = await runGen(['--preset', 'nope', '--out', path.join(dir, 'x.gguf')], { out: (s, t) => { err += t; } });
    assert(code !== 0 && /unknown preset/.test(err), `exit ${code}, stderr ${err}`);
});

await run('gen-wasm');
fs.rmSync(dir, { recursive: true, force: true });
