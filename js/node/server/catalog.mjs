// The Ollama store as the server sees it: the listing and /api/show answers
// come from the engine's C code (`list --json`, rl_api_model_show) run in one
// CPU-only wasm instance kept for the purpose. Requests name models only by
// Ollama name, never by file path: a name is canonicalized in C and must match
// a listed model, else it is 404.
import fs from 'node:fs';
import path from 'node:path';
import { instantiate } from '../../engine.mjs';
import { noGpuImports } from '../../gpu.mjs';
import { nodeHost } from '../host.mjs';
import { HttpError, badRequest } from './http.mjs';

export const notFound = (name) => new HttpError(404, `model "${name}" not found, try pulling it first`, { code: 'model_not_found', param: 'model' });

export class Catalog {
    constructor(wasmModule) {
        this.wasmModule = wasmModule;
        this.engine = null;
        this.captured = null;
    }

    async engineInstance() {
        if (!this.engine) {
            const host = nodeHost({
                out: (stream, text) => { if (this.captured) this.captured[stream === 2 ? 1 : 0] += text; },
            });
            host.extraImports = noGpuImports();
            this.engine = await instantiate(this.wasmModule, host);
        }
        return this.engine;
    }

    // Run fn(engine); a wasm trap leaves the instance unusable, so drop it.
    async use(fn) {
        const e = await this.engineInstance();
        try {
            return fn(e);
        } catch (err) {
            if (err instanceof WebAssembly.RuntimeError) this.engine = null;
            throw err;
        }
    }

    // {root, models: [{name, full_name, digest, model_digest, size, details}]}
    async list() {
        return this.use((e) => {
            this.captured = ['', ''];
            try {
                const rc = e.cli(['rullama', 'list', '--json']);
                if (rc !== 0) throw new HttpError(500, `listing the Ollama store: ${this.captured[1].trim() || `exit ${rc}`}`);
                return JSON.parse(this.captured[0]);
            } finally {
                this.captured = null;
            }
        });
    }

    // "host/ns/model:tag" for a name, or 400 when it is not a valid name.
    async canonical(name) {
        if (typeof name !== 'string' || !name) throw badRequest('model is required', 'model');
        return this.use((e) => {
            const p = e.cstr(name);
            try {
                const out = e.exports.rl_api_model_name(p);
                if (!out) throw badRequest(`invalid model name "${name}": ${e.readCString(e.exports.rl_api_server_error())}`, 'model');
                const s = e.readCString(out);
                e.free(out);
                return s;
            } finally {
                e.free(p);
            }
        });
    }

    // The listed model a request names (case-insensitive, like Ollama), or 404.
    async find(name) {
        const full = (await this.canonical(name)).toLowerCase();
        const { root, models } = await this.list();
        const entry = models.find((m) => m.full_name.toLowerCase() === full);
        if (!entry) throw notFound(name);
        return { ...entry, root, modified: manifestTime(root, entry.full_name) };
    }

    // Ollama's /api/show object for a listed entry.
    async show(entry, verbose = false) {
        const info = await this.use((e) => {
            const p = e.cstr(entry.full_name);
            try {
                const out = e.exports.rl_api_model_show(p, verbose ? 1 : 0);
                if (!out) throw new HttpError(500, e.readCString(e.exports.rl_api_server_error()));
                const text = e.readCString(out);
                e.free(out);
                return JSON.parse(text);
            } finally {
                e.free(p);
            }
        });
        info.modified_at = entry.modified.toISOString();
        return info;
    }
}

// The manifest's modification time (what Ollama reports as modified_at).
export function manifestTime(root, fullName) {
    const i = fullName.lastIndexOf(':');
    const file = path.join(root, 'manifests', ...fullName.slice(0, i).split('/'), fullName.slice(i + 1));
    return fs.statSync(file, { throwIfNoEntry: false })?.mtime ?? new Date();
}

// Ollama's `details` object from a listing entry.
export function details(entry) {
    const d = entry.details || {};
    return {
        parent_model: '',
        format: 'gguf',
        family: d.family || '',
        families: d.family ? [d.family] : null,
        parameter_size: d.parameter_size || '',
        quantization_level: d.quantization_level || '',
    };
}

export const bareDigest = (d) => String(d || '').replace(/^sha256[:-]/, '');
