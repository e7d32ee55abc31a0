// A model in Ollama's on-disk layout (manifests/ + blobs/), written around a
// GGUF file: the same layout the app's folder flow and the CLI resolve.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

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
