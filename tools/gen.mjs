#!/usr/bin/env node
// rullama-gen under Node: runs build/wasm/rullama-gen.wasm (tools/gen/*.c) with the
// Node host, so machines without a C compiler can write synthetic Gemma 4 models.
// Same arguments as build/native/rullama-gen; `node tools/gen.mjs --help`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { instantiate } from '../js/engine.mjs';
import { nodeHost } from '../js/node/host.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const genWasmPath = path.join(root, 'build/wasm/rullama-gen.wasm');

// Run the generator with argv (without the program name); returns the exit code.
export async function runGen(args, hostOptions) {
    if (!fs.existsSync(genWasmPath)) throw new Error(`${genWasmPath} is missing: run 'make' first`);
    const engine = await instantiate(fs.readFileSync(genWasmPath), nodeHost(hostOptions));
    return engine.cli(['rullama-gen', ...args], 'rl_gen');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
    try {
        process.exitCode = await runGen(process.argv.slice(2));
    } catch (e) {
        process.stderr.write(`rullama-gen: ${e.message}\n`);
        process.exitCode = 1;
    }
}
