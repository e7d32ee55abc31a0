// A fake Ollama store around a GGUF file, laid out as Ollama writes it:
// manifests/<host>/<ns>/<model>/<tag> (Docker v2 manifest) and
// blobs/sha256-<hex> for the model, config and text layers. The GGUF is
// symlinked into blobs/ (its digest is computed once) so no copy is made.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
const fileDigests = new Map();

function fileSha256(file) {
    if (!fileDigests.has(file)) fileDigests.set(file, sha256(fs.readFileSync(file)));
    return fileDigests.get(file);
}

// name: "gemma4:tiny" (library namespace) or "ns/model:tag".
// layers: {params: {...}, license: '...', system: '...', template: '...'}
export function addModel(root, name, gguf, { config = {}, params, license, system, template } = {}) {
    const blobs = path.join(root, 'blobs');
    fs.mkdirSync(blobs, { recursive: true });
    const put = (content) => {
        const hex = sha256(content);
        fs.writeFileSync(path.join(blobs, `sha256-${hex}`), content);
        return { digest: `sha256:${hex}`, size: Buffer.byteLength(content) };
    };
    const hex = fileSha256(gguf);
    const link = path.join(blobs, `sha256-${hex}`);
    if (!fs.existsSync(link)) fs.symlinkSync(path.resolve(gguf), link);
    const layers = [{ mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${hex}`, size: fs.statSync(gguf).size }];
    const text = (mediaType, content) => layers.push({ mediaType, ...put(content) });
    if (template) text('application/vnd.ollama.image.template', template);
    if (system) text('application/vnd.ollama.image.system', system);
    if (license) text('application/vnd.ollama.image.license', license);
    if (params) text('application/vnd.ollama.image.params', JSON.stringify(params));
    const cfg = put(JSON.stringify({ model_format: 'gguf', model_family: 'gemma4', model_families: ['gemma4'], renderer: 'gemma4', parser: 'gemma4', ...config }));
    const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', ...cfg },
        layers,
    });
    const [repo, tag = 'latest'] = name.split(':');
    const parts = repo.includes('/') ? repo.split('/') : ['library', repo];
    const file = path.join(root, 'manifests', 'registry.ollama.ai', ...parts, tag);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, manifest);
    return { digest: sha256(manifest), modelDigest: `sha256:${hex}`, size: cfg.size + layers.reduce((a, l) => a + l.size, 0) };
}
