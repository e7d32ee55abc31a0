// Node CLI driver. Commands that need only the CPU and files run entirely in C
// (rl_cli in the wasm); GPU work is driven from here with the step protocol.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { instantiate } from '../engine.mjs';
import { createGpu, GpuError, noGpuImports } from '../gpu.mjs';
import { ChatSession, GpuSession } from '../session.mjs';
import { nodeHost } from './host.mjs';
import { serve } from './server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const wasmPath = path.join(root, 'build/wasm/rullama.wasm');

function wasmBytes() {
    if (!fs.existsSync(wasmPath)) throw new Error(`${wasmPath} is missing: run 'make' first`);
    return fs.readFileSync(wasmPath);
}

export async function loadEngine(hostOptions) {
    const host = nodeHost(hostOptions);
    host.extraImports = noGpuImports();
    return instantiate(wasmBytes(), host);
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
    const s = await openGpuSession(model, { nCtx: Math.max(Number(opt(args, '--ctx') || 0), tokens.length), pleOnHost: args.includes('--ple-host') });
    try {
        const logits = await s.eval(tokens, { allLogits: true });
        fs.writeFileSync(out, Buffer.from(logits.buffer, logits.byteOffset, logits.byteLength));
        process.stderr.write(`wrote ${tokens.length} x ${s.nVocab} logits to ${out} (gpu)\n`);
        return 0;
    } finally {
        s.close();
    }
}

const RUN_VALUE_OPTS = ['--ctx', '--system', '--temperature', '--top-k', '--top-p', '--seed', '--num-predict', '--format'];

// Sampling options from flags, in Ollama's option names.
function runOptions(args) {
    const o = {};
    const num = (flag, key) => { const v = opt(args, flag); if (v !== undefined) o[key] = Number(v); };
    num('--temperature', 'temperature');
    num('--top-k', 'top_k');
    num('--top-p', 'top_p');
    num('--seed', 'seed');
    num('--num-predict', 'num_predict');
    return o;
}

// Open a chat session: the GPU unless --cpu, falling back to the CPU when no
// WebGPU adapter exists. Load progress goes to stderr.
// Open a chat session: the GPU unless --cpu, falling back to the CPU when no
// WebGPU adapter exists or the adapter is a software renderer (SwiftShader is
// far slower than the CPU engine; --gpu forces it). Load progress goes to stderr.
export async function openChatSession(model, args = []) {
    const nCtx = Number(opt(args, '--ctx') || 0);
    const base = { wasm: wasmBytes(), host: nodeHost(), model, nCtx, pleOnHost: args.includes('--ple-host') };
    if (!args.includes('--cpu')) {
        let gpu = null;
        try {
            gpu = await createGpu();
        } catch (e) {
            if (!(e instanceof GpuError)) throw e;
            process.stderr.write(`rullama: ${e.message}; using the CPU engine\n`);
        }
        if (gpu && gpu.isSoftware() && !args.includes('--gpu')) {
            process.stderr.write(`rullama: the WebGPU adapter is a software renderer (${gpu.caps().description}); using the CPU engine (--gpu forces the GPU)\n`);
            gpu.destroy();
            gpu = null;
        }
        if (gpu) {
            const tty = process.stderr.isTTY;
            let last = 0;
            const t0 = performance.now();
            try {
                return await ChatSession.open({
                    ...base,
                    gpu,
                    onProgress: tty ? (done, total) => {
                        const now = performance.now();
                        if (now - last < 200) return;
                        last = now;
                        const rate = done / 1e9 / ((now - t0) / 1e3);
                        const eta = rate > 0 ? (total - done) / 1e9 / rate : 0;
                        process.stderr.write(`\rloading ${(done / 1e9).toFixed(2)} / ${(total / 1e9).toFixed(2)} GB  ${rate.toFixed(2)} GB/s  ETA ${eta.toFixed(0)} s\x1b[K`);
                    } : null,
                });
            } finally {
                if (tty) process.stderr.write('\r\x1b[K');
            }
        }
    }
    return ChatSession.open({ ...base, gpu: false });
}

function streamWriter() {
    let inThinking = false;
    const dim = process.stdout.isTTY ? '\x1b[2m' : '', reset = process.stdout.isTTY ? '\x1b[0m' : '';
    return {
        onText(content, thinking) {
            if (thinking) {
                if (!inThinking) { process.stdout.write(`${dim}Thinking...\n`); inThinking = true; }
                process.stdout.write(thinking);
            }
            if (content) {
                if (inThinking) { process.stdout.write(`${reset}\n...done thinking.\n\n`); inThinking = false; }
                process.stdout.write(content);
            }
        },
        end() { if (inThinking) process.stdout.write(reset); process.stdout.write('\n'); },
    };
}

// rullama run MODEL [PROMPT]: one turn; without PROMPT, reads stdin or goes interactive.
async function run(args) {
    const [model, ...words] = positional(args.slice(1), RUN_VALUE_OPTS);
    if (!model) {
        process.stderr.write('usage: rullama run MODEL [PROMPT] [--cpu] [--think] [--system TEXT] [--ctx N] [--temperature T] [--seed N] [--num-predict N]\n');
        return 2;
    }
    let prompt = words.join(' ');
    if (!prompt && !process.stdin.isTTY) prompt = fs.readFileSync(0, 'utf8');
    if (!prompt) return chat(args);
    const s = await openChatSession(model, args);
    try {
        const messages = [];
        const system = opt(args, '--system');
        if (system) messages.push({ role: 'system', content: system });
        messages.push({ role: 'user', content: prompt });
        const w = streamWriter();
        const r = await s.run('chat', { messages, think: args.includes('--think'), options: runOptions(args) }, { onText: w.onText });
        w.end();
        if (args.includes('--verbose')) printStats(r, s);
        return 0;
    } finally {
        s.close();
    }
}

function printStats(r, s) {
    const tps = (n, ns) => (ns > 0 ? (n / (ns / 1e9)).toFixed(2) : '-');
    process.stderr.write(`load duration:        ${(s.loadMs / 1000).toFixed(2)}s\n`);
    process.stderr.write(`prompt eval count:    ${r.prompt_eval_count} token(s)\n`);
    process.stderr.write(`prompt eval rate:     ${tps(r.prompt_eval_count, r.prompt_eval_duration)} tokens/s\n`);
    process.stderr.write(`eval count:           ${r.eval_count} token(s)\n`);
    process.stderr.write(`eval rate:            ${tps(r.eval_count, r.eval_duration)} tokens/s\n`);
}

// rullama chat MODEL: interactive multi-turn chat (/bye to quit, /clear to forget).
async function chat(args) {
    const [model] = positional(args.slice(1), RUN_VALUE_OPTS);
    if (!model) {
        process.stderr.write('usage: rullama chat MODEL [--cpu] [--think] [--system TEXT] [--ctx N]\n');
        return 2;
    }
    const s = await openChatSession(model, args);
    const host = nodeHost();
    const messages = [];
    const system = opt(args, '--system');
    if (system) messages.push({ role: 'system', content: system });
    try {
        for (;;) {
            if (process.stdin.isTTY) process.stdout.write('>>> ');
            const line = host.readLine();
            if (line === null || line.trim() === '/bye') break;
            if (line.trim() === '/clear') { messages.length = system ? 1 : 0; continue; }
            if (!line.trim()) continue;
            messages.push({ role: 'user', content: line });
            const w = streamWriter();
            const r = await s.run('chat', { messages, think: args.includes('--think'), options: runOptions(args) }, { onText: w.onText });
            w.end();
            messages.push({ role: 'assistant', content: r.content, ...(r.tool_calls ? { tool_calls: r.tool_calls } : {}) });
            if (process.stdin.isTTY) process.stdout.write('\n');
        }
        return 0;
    } finally {
        s.close();
    }
}

export async function main(args) {
    try {
        if (args[0] === 'logits' && args.includes('--gpu')) return await logitsGpu(args);
        if (args[0] === 'run') return await run(args);
        if (args[0] === 'bench') {
            const [model] = positional(args.slice(1), ['--prompt', '--gen', '--ctx', '--baseline', '--baseline-fa', '--baseline-gpu', '--json-out']);
            if (!model) {
                process.stderr.write('usage: rullama bench MODEL [--prompt N] [--gen N] [--ctx N] [--json] [--json-out FILE] [--no-profile]\n' +
                    '         [--baseline LLAMACPP.gguf [--baseline-fa on|off|auto] [--baseline-gpu vulkan|cpu|auto]]\n');
                return 2;
            }
            const { bench } = await import('./bench.mjs');
            const r = await bench(model, { prompt: Number(opt(args, '--prompt') || 512), gen: Number(opt(args, '--gen') || 64),
                ctx: Number(opt(args, '--ctx') || 0), profile: !args.includes('--no-profile'), json: args.includes('--json'),
                baseline: opt(args, '--baseline'), baselineFa: opt(args, '--baseline-fa') || 'auto',
                baselineGpu: opt(args, '--baseline-gpu') || 'vulkan', pleOnHost: args.includes('--ple-host') });
            if (args.includes('--json')) process.stdout.write(JSON.stringify(r) + '\n');
            if (opt(args, '--json-out')) fs.writeFileSync(opt(args, '--json-out'), JSON.stringify(r) + '\n');
            return r.baselineError ? 1 : 0;
        }
        if (args[0] === 'chat') return await chat(args);
        if (args[0] === 'serve') return await serve(args, { wasmPath });
        const engine = await loadEngine();
        return engine.cli(['rullama', ...args]);
    } catch (e) {
        process.stderr.write(`rullama: ${e.message}\n`);
        return 1;
    }
}
