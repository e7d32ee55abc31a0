// Node CLI driver. Commands that need only the CPU and files run entirely in C
// (rl_cli in the wasm); GPU commands are driven from here with the step protocol.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { instantiate } from '../engine.mjs';
import { nodeHost } from './host.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const wasmPath = path.join(root, 'build/wasm/rullama.wasm');

export async function loadEngine(hostOptions) {
    if (!fs.existsSync(wasmPath)) throw new Error(`${wasmPath} is missing: run 'make' first`);
    return instantiate(fs.readFileSync(wasmPath), nodeHost(hostOptions));
}

export async function main(args) {
    try {
        const engine = await loadEngine();
        return engine.cli(['rullama', ...args]);
    } catch (e) {
        process.stderr.write(`rullama: ${e.message}\n`);
        return 1;
    }
}
