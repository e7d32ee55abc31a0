// `rullama list` through the wasm build: the C store walker runs against a fake
// Ollama store written here in JS, through the JS host imports (list_dir, open,
// read, getenv). Expected IDs and sizes are computed here independently
// (node:crypto SHA-256 of the manifest bytes; Ollama's decimal size rule).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { test, run, assert, assertEq, tmpDir, rng, repoRoot } from './harness.mjs';
import { loadEngine } from '../../js/node/cli.mjs';

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

// Write one model: config + layer blobs and the manifest. Returns what the
// listing should report for it.
function putModel(root, rel, layers, config = '{"model_family":"gemma4","model_type":"5.1B","file_type":"Q4_K_M"}') {
    const blob = (content) => {
        const hex = sha256(content);
        fs.mkdirSync(path.join(root, 'blobs'), { recursive: true });
        fs.writeFileSync(path.join(root, 'blobs', `sha256-${hex}`), content);
        return { digest: `sha256:${hex}`, size: Buffer.byteLength(content) };
    };
    const cfg = blob(config);
    const ls = layers.map(([mediaType, content]) => ({ mediaType, ...blob(content) }));
    const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', ...cfg },
        layers: ls,
    });
    const file = path.join(root, 'manifests', ...rel.split('/'));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, manifest);
    return {
        id: sha256(manifest),
        size: cfg.size + ls.reduce((a, l) => a + l.size, 0),
        modelDigest: ls.find((l) => l.mediaType === 'application/vnd.ollama.image.model')?.digest ?? '',
    };
}

// Ollama's format.HumanBytes rule, re-derived: decimal units, >= 10 truncated,
// otherwise one decimal unless whole.
function humanBytes(b) {
    for (const [scale, unit] of [[1e12, 'TB'], [1e9, 'GB'], [1e6, 'MB'], [1e3, 'KB']]) {
        if (b < scale) continue;
        const v = b / scale;
        return v >= 10 || Number.isInteger(v) ? `${Math.trunc(v)} ${unit}` : `${v.toFixed(1)} ${unit}`;
    }
    return `${b} B`;
}

const randomText = (n) => Array.from({ length: n }, () => String.fromCharCode(32 + Math.floor(rng() * 90))).join('');

// Run the wasm CLI in-process with the given environment; returns {code, out, err}.
async function cli(args, env) {
    const saved = {};
    for (const k of Object.keys(env)) {
        saved[k] = process.env[k];
        if (env[k] === undefined) delete process.env[k];
        else process.env[k] = env[k];
    }
    const out = ['', '', ''];
    try {
        // a fresh instance each time: the wasm host caches getenv results
        const engine = await loadEngine({ out: (stream, text) => { out[stream] += text; } });
        const code = engine.cli(['rullama', ...args]);
        return { code, out: out[1], err: out[2] };
    } finally {
        for (const k of Object.keys(saved)) {
            if (saved[k] === undefined) delete process.env[k];
            else process.env[k] = saved[k];
        }
    }
}

function makeStore() {
    const root = tmpDir('ollama');
    const model = ['application/vnd.ollama.image.model', `GGUF${randomText(100 + Math.floor(rng() * 2000))}`];
    const lic = ['application/vnd.ollama.image.license', randomText(50)];
    const want = {
        'gemma4:e2b': putModel(root, 'registry.ollama.ai/library/gemma4/e2b', [model]),
        'gemma4:latest': putModel(root, 'registry.ollama.ai/library/gemma4/latest', [model, lic]),
        'alice/tiny:v1': putModel(root, 'registry.ollama.ai/alice/tiny/v1', [model], '{}'),
        'example.com/team/m:v2': putModel(root, 'example.com/team/m/v2', [model]),
    };
    // skipped: broken manifest, hidden directory, 5-level path
    fs.writeFileSync(path.join(root, 'manifests/registry.ollama.ai/library/gemma4/broken'), '{"schemaVersion":2,');
    fs.mkdirSync(path.join(root, 'manifests/registry.ollama.ai/library/.tmp'), { recursive: true });
    fs.writeFileSync(path.join(root, 'manifests/registry.ollama.ai/library/.tmp/x'), '{}');
    fs.mkdirSync(path.join(root, 'manifests/registry.ollama.ai/library/deep/er'), { recursive: true });
    fs.writeFileSync(path.join(root, 'manifests/registry.ollama.ai/library/deep/er/latest'), '{}');
    return { root, want };
}

test('list table through wasm host imports', async () => {
    const { root, want } = makeStore();
    const r = await cli(['list'], { OLLAMA_MODELS: root });
    assertEq(r.code, 0, `exit code (stderr: ${r.err})`);
    const lines = r.out.trimEnd().split('\n');
    assert(/^NAME\s+ID\s+SIZE$/.test(lines[0]), `header: ${lines[0]}`);
    const rows = lines.slice(1).map((l) => l.split(/\s{4,}/).map((c) => c.trim()));
    const names = Object.keys(want).sort();
    assertEq(rows.map((c) => c[0]), names, 'names (sorted, shortened)');
    for (const [name, id, size] of rows) {
        assertEq(id, want[name].id.slice(0, 12), `${name} ID`);
        assertEq(size, humanBytes(want[name].size), `${name} SIZE`);
    }
    // columns line up: every row's ID starts at the same offset as the header's
    const col = lines[0].indexOf('ID');
    for (const l of lines.slice(1)) assert(/[0-9a-f]{12}/.test(l.slice(col, col + 12)), `aligned: ${l}`);
});

test('list --json and prefix filter', async () => {
    const { root, want } = makeStore();
    const r = await cli(['list', '--json'], { OLLAMA_MODELS: root });
    assertEq(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assertEq(j.root, root);
    assertEq(j.models.map((m) => m.name), Object.keys(want).sort());
    for (const m of j.models) {
        assertEq(m.digest, want[m.name].id, `${m.name} digest`);
        assertEq(m.size, want[m.name].size, `${m.name} size`);
        assertEq(m.model_digest, want[m.name].modelDigest, `${m.name} model digest`);
    }
    const g = j.models.find((m) => m.name === 'gemma4:e2b');
    assertEq(g.full_name, 'registry.ollama.ai/library/gemma4:e2b');
    assertEq(g.details, { family: 'gemma4', parameter_size: '5.1B', quantization_level: 'Q4_K_M' });
    const f = await cli(['list', 'GEMMA4', '--json'], { OLLAMA_MODELS: root });
    assertEq(JSON.parse(f.out).models.map((m) => m.name), ['gemma4:e2b', 'gemma4:latest'], 'case-insensitive prefix');
});

test('HOME fallback, empty store message, no HOME', async () => {
    const home = tmpDir('ollama-home');
    const root = path.join(home, '.ollama', 'models');
    fs.mkdirSync(root, { recursive: true });
    let r = await cli(['list'], { OLLAMA_MODELS: '', HOME: home });
    assertEq(r.code, 0);
    assert(r.out.includes(`No models in ${root}`), `empty store message: ${r.out}`);
    const w = putModel(root, 'registry.ollama.ai/library/gemma4/e4b', [['application/vnd.ollama.image.model', 'GGUFx']]);
    r = await cli(['list'], { OLLAMA_MODELS: undefined, HOME: home });
    assert(r.out.includes('gemma4:e4b') && r.out.includes(w.id.slice(0, 12)), `HOME store listed: ${r.out}`);
    r = await cli(['list'], { OLLAMA_MODELS: undefined, HOME: undefined });
    assertEq(r.code, 1);
    assert(/OLLAMA_MODELS/.test(r.err) && /HOME/.test(r.err), `no HOME: ${r.err}`);
});

test('bin/rullama list as a process', async () => {
    const { root, want } = makeStore();
    const p = spawnSync(process.execPath, [path.join(repoRoot, 'bin/rullama'), 'list', '--json'], {
        env: { ...process.env, OLLAMA_MODELS: root },
        encoding: 'utf8',
    });
    assertEq(p.status, 0, p.stderr);
    assertEq(JSON.parse(p.stdout).models.map((m) => m.name), Object.keys(want).sort());
});

await run('ollama');
