// Node CLI driver. Commands that need only the CPU and files run entirely in C
// (rl_cli in the wasm); GPU work is driven from here with the step protocol.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { instantiate } from '../engine.mjs';
import { GpuSession } from '../session.mjs';
import { nodeHost } from './host.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const wasmPath = path.join(root, 'build/wasm/rullama.wasm');

function wasmBytes() {
    if (!fs.existsSync(wasmPath)) throw new Error(`${wasmPath} is missing: run 'make' first`);
    return fs.readFileSync(wasmPath);
}

export async function loadEngine(hostOptions) {
    return instantiate(wasmBytes(), nodeHost(hostOptions));
}

export async function openGpuSession(model, options = {}) {
    return GpuSession.open({ wasm: wasmBytes(), host: nodeHost(), modelPath: model, ...options });
}

function opt(args, name) {
    const i = args.indexOf(name);
    if (i >= 0) return args[i + 1];
    const kv = args.find((a) => a.startsWith(`${name}=`));
    return kv ? kv.slice(name.length + 1) : undefined;
}

function positional(args, valueOpts) {
    const out = [];
    for (let i = 0; i < args.length; i++) {
        if (args[i].startsWith('--')) {
            if (valueOpts.includes(args[i])) i++;
            continue;
        }
        out.push(args[i]);
    }
    return out;
}

// rullama logits MODEL --tokens IDS --out FILE --gpu
async function logitsGpu(args) {
    const [model] = positional(args.slice(1), ['--tokens', '--out', '--ctx']);
    const tokens = (opt(args, '--tokens') || '').split(',').filter(Boolean).map(Number);
    const out = opt(args, '--out');
    if (!model || !tokens.length || !out || tokens.some((t) => !Number.isInteger(t) || t < 0)) {
        process.stderr.write('usage: rullama logits MODEL --tokens ID,ID,... --out FILE [--gpu|--cpu] [--ctx N]\n');
        return 2;
    }
    const s = await openGpuSession(model, { nCtx: Math.max(Number(opt(args, '--ctx') || 0), tokens.length) });
    try {
        const logits = await s.eval(tokens, { allLogits: true });
        fs.writeFileSync(out, Buffer.from(logits.buffer, logits.byteOffset, logits.byteLength));
        process.stderr.write(`wrote ${tokens.length} x ${s.nVocab} logits to ${out} (gpu)\n`);
        return 0;
    } finally {
        s.close();
    }
}

export async function main(args) {
    try {
        if (args[0] === 'logits' && args.includes('--gpu')) return await logitsGpu(args);
        const engine = await loadEngine();
        return engine.cli(['rullama', ...args]);
    } catch (e) {
        process.stderr.write(`rullama: ${e.message}\n`);
        return 1;
    }
}
