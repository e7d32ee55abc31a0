// A model in Ollama's on-disk layout (manifests/ + blobs/), written around a
// GGUF file: the same layout the app's folder flow and the CLI resolve.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

function putBlob(root, content) {
    const hex = crypto.createHash('sha256').update(content).digest('hex');
    fs.mkdirSync(path.join(root, 'blobs'), { recursive: true });
    fs.writeFileSync(path.join(root, 'blobs', `sha256-${hex}`), content);
    return { digest: `sha256:${hex}`, size: content.length, file: path.join(root, 'blobs', `sha256-${hex}`) };
}

// name 'gemma4:tiny' -> manifests/registry.ollama.ai/library/gemma4/tiny.
// Returns the model blob's path.
export function putModel(root, name, gguf, { family = 'gemma4', params = null } = {}) {
    const [repo, tag] = name.split(':');
    const cfg = putBlob(root, Buffer.from(JSON.stringify({ model_family: family, model_type: 'tiny', file_type: 'Q4_K_M' })));
    const model = putBlob(root, fs.readFileSync(gguf));
    const layers = [{ mediaType: 'application/vnd.ollama.image.model', digest: model.digest, size: model.size }];
    if (params) {
        const p = putBlob(root, Buffer.from(JSON.stringify(params)));
        layers.push({ mediaType: 'application/vnd.ollama.image.params', digest: p.digest, size: p.size });
    }
    const manifest = {
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: cfg.digest, size: cfg.size },
        layers,
    };
    const file = path.join(root, 'manifests', 'registry.ollama.ai', 'library', repo, tag || 'latest');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(manifest));
    return model.file;
}

// The model blob a manifest names (the file the CLI and the app load).
export function modelBlob(root, name) {
    const [repo, tag] = name.split(':');
    const m = JSON.parse(fs.readFileSync(path.join(root, 'manifests', 'registry.ollama.ai', 'library', repo, tag || 'latest'), 'utf8'));
    const layer = m.layers.find((l) => l.mediaType === 'application/vnd.ollama.image.model');
    return path.join(root, 'blobs', layer.digest.replace(':', '-'));
}

// A tiny gemma4 model in an Ollama store at root: written by our generator
// (tools/gen.mjs --preset tiny) with the first 8192 tokens of the real
// vocabulary (tools/vocab.mjs --truncate; the whole vocabulary makes the
// per-layer-embedding table alone 800 MB), or the external fixture wrapped in
// a manifest where the generator is absent. RULLAMA_WEB_MODEL=fixture|gen
// forces one. Returns {blob, source}.
export function tinyModel(repoRoot, root, name, fixture) {
    const want = process.env.RULLAMA_WEB_MODEL || (fs.existsSync(path.join(repoRoot, 'tools/gen.mjs')) ? 'gen' : 'fixture');
    if (want === 'fixture') return { blob: putModel(root, name, fixture), source: 'fixture' };
    const vocab = path.join(repoRoot, 'build/vocab/gemma4-vocab-8k.gguf');
    if (!fs.existsSync(vocab)) {
        fs.mkdirSync(path.dirname(vocab), { recursive: true });
        run(repoRoot, ['tools/vocab.mjs', '--out', vocab, '--truncate', '8192']);
    }
    run(repoRoot, ['tools/gen.mjs', '--preset', 'tiny', '--vocab', vocab, '--store', root, '--name', name, '--quiet']);
    return { blob: modelBlob(root, name), source: 'gen' };
}

function run(cwd, args) {
    const p = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
    if (p.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${p.stderr || p.stdout}`);
}
