#!/usr/bin/env node
// Upstream llama.cpp as a speed baseline, through npm node-llama-cpp (its prebuilt
// binaries: Vulkan when it loads, else the CPU build). It is installed for the
// benchmark only, never as a dependency of rullama:
//
//   mkdir -p /tmp/llcpp && cd /tmp/llcpp && echo '{"private":true}' > package.json
//   NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --no-save node-llama-cpp@3.22.1
//   export NODE_LLAMA_CPP_DIR=/tmp/llcpp      # where node_modules/node-llama-cpp is
//
// (the postinstall step, which would download or build llama.cpp, is skipped: the
// prebuilt binaries ship inside the @node-llama-cpp/<platform> registry packages).
//
//   node tools/bench-llamacpp.mjs MODEL.gguf [--prompt 512] [--gen 128] [--ctx N] [--fa on|off|auto]
//        [--gpu vulkan|cpu|auto] [--reps 3] [--json]
//
// MODEL must be in llama.cpp's own layout (rullama-gen --layout llamacpp): upstream
// llama.cpp refuses Ollama's gemma4 blobs. Measures like llama-bench's pp512/tg128,
// but decode runs right after the prefill (as `rullama bench` does), so both engines
// decode at the same context length: a warm-up (the full prompt and two decode
// steps), then per repetition a cleared sequence, the prompt (BOS + random tokens,
// the same ones `rullama bench` uses) in one batch, and `gen` greedy decode steps.
// Reports the median repetition.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const INSTALL_HINT =
    'node-llama-cpp is not installed (it is a benchmark-only baseline, not a rullama dependency). Install it outside ' +
    'the repository and point NODE_LLAMA_CPP_DIR at that directory:\n' +
    '  mkdir -p /tmp/llcpp && cd /tmp/llcpp && echo \'{"private":true}\' > package.json && ' +
    'NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --no-save node-llama-cpp@3.22.1\n' +
    '  export NODE_LLAMA_CPP_DIR=/tmp/llcpp';

// node-llama-cpp from $NODE_LLAMA_CPP_DIR, else from wherever Node resolves it
// (the device bundle unpacks it into the project's node_modules).
export async function importNodeLlamaCpp() {
    const dir = process.env.NODE_LLAMA_CPP_DIR;
    if (dir) {
        let resolved;
        try {
            resolved = createRequire(path.join(path.resolve(dir), 'package.json')).resolve('node-llama-cpp');
        } catch {
            throw new Error(`NODE_LLAMA_CPP_DIR=${dir} holds no node_modules/node-llama-cpp.\n${INSTALL_HINT}`);
        }
        return import(pathToFileURL(resolved).href);
    }
    try {
        return await import('node-llama-cpp');
    } catch (e) {
        if (e.code === 'ERR_MODULE_NOT_FOUND' && /node-llama-cpp/.test(e.message)) throw new Error(INSTALL_HINT);
        throw e;
    }
}

// getLlama on the prebuilt binaries only (build: 'never': nothing is compiled or
// downloaded). gpu 'vulkan' falls back to the CPU build when Vulkan does not load.
export async function openLlama(nlc, { gpu = 'vulkan', log = () => {} } = {}) {
    const base = { build: 'never', logLevel: nlc.LlamaLogLevel.error, progressLogs: false };
    const want = gpu === 'cpu' ? false : gpu;
    let why;
    try {
        const llama = await nlc.getLlama({ ...base, gpu: want });
        // ggml-vulkan skips CPU-type devices (SwiftShader) unless GGML_VK_VISIBLE_DEVICES names them
        if (!llama.gpu || (await llama.getGpuDeviceNames()).length) return llama;
        why = 'no device';
        await llama.dispose();
    } catch (e) {
        if (want === false) throw e;
        why = String(e.message).split('\n')[0];
    }
    log(`llama.cpp: ${want} backend unavailable (${why}); using the CPU build\n`);
    return nlc.getLlama({ ...base, gpu: false });
}

// The prompt `rullama bench` uses (js/node/bench.mjs): BOS, then an LCG's tokens.
export function benchTokens(n, nVocab, seed = 1234) {
    let s = seed >>> 0;
    const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
    return [2, ...Array.from({ length: n - 1 }, () => 3 + (rand() % (nVocab - 3)))];
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchLlamaCpp(model, { prompt = 512, gen = 128, ctx = 0, fa = 'auto', gpu = 'vulkan', reps = 3,
    threads = 0, log = (m) => process.stderr.write(m) } = {}) {
    const nlc = await importNodeLlamaCpp();
    const llama = await openLlama(nlc, { gpu, log });
    const r = { model, backend: llama.gpu || 'cpu', llamaCpp: llama.llamaCppRelease?.release, prompt, gen };
    r.device = llama.gpu ? (await llama.getGpuDeviceNames()).join(', ') : `CPU (${llama.cpuMathCores} cores)`;
    const bytes = fs.statSync(model).size;
    let t = performance.now();
    const m = await llama.loadModel({ modelPath: model, gpuLayers: llama.gpu ? 'max' : 0 });
    r.loadMs = performance.now() - t;
    r.loadGBs = bytes / 1e9 / (r.loadMs / 1e3);
    r.gpuLayers = m.gpuLayers;
    const nVocab = m.fileInfo.metadata?.tokenizer?.ggml?.tokens?.length;
    if (!nVocab) throw new Error(`${model}: no tokenizer.ggml.tokens`);
    const flashAttention = fa === 'on' ? true : fa === 'off' ? false : 'auto';
    const c = await m.createContext({ contextSize: Math.max(1024, ctx, prompt + gen + 16), batchSize: Math.min(prompt, 512),
        flashAttention, ...(threads ? { threads } : {}) });
    r.flashAttention = c.flashAttention;
    r.contextSize = c.contextSize;
    const seq = c.getSequence();
    const tokens = benchTokens(prompt, nVocab);
    // one run: prompt in one batch (yields the first greedy token), then gen decode steps
    const once = async (steps) => {
        await seq.clearHistory();
        const it = seq.evaluate(tokens, { temperature: 0 })[Symbol.asyncIterator]();
        let t0 = performance.now();
        await it.next();
        const prefillMs = performance.now() - t0;
        t0 = performance.now();
        for (let i = 0; i < steps; i++) await it.next();
        const decodeMs = performance.now() - t0;
        await it.return?.();
        return { prefillMs, decodeMs };
    };
    try {
        await once(2); // warm-up: pipelines, buffers
        const runs = [];
        for (let i = 0; i < reps; i++) runs.push(await once(gen));
        r.prefillMs = median(runs.map((x) => x.prefillMs));
        r.decodeMs = median(runs.map((x) => x.decodeMs));
        r.prefillTokS = prompt / (r.prefillMs / 1e3);
        r.decodeTokS = gen / (r.decodeMs / 1e3);
        r.runs = runs;
    } finally {
        await c.dispose();
        await m.dispose();
        await llama.dispose();
    }
    return r;
}

export function printLlamaCpp(r, log = (m) => process.stderr.write(m)) {
    log(`llama.cpp    ${r.llamaCpp ?? '?'} (node-llama-cpp), backend ${r.backend}, ${r.device}, ` +
        `${r.gpuLayers} layers on the GPU, flash attention ${r.flashAttention ? 'on' : 'off'}, context ${r.contextSize}\n`);
    log(`load         ${(r.loadMs / 1e3).toFixed(2)} s (${r.loadGBs.toFixed(2)} GB/s of file)\n`);
    log(`prefill      ${r.prompt} tokens in ${r.prefillMs.toFixed(1)} ms: ${r.prefillTokS.toFixed(1)} tokens/s\n`);
    log(`decode       ${r.gen} tokens in ${r.decodeMs.toFixed(1)} ms: ${r.decodeTokS.toFixed(1)} tokens/s\n`);
}

function opt(args, name, dflt) {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : dflt;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
    const args = process.argv.slice(2);
    const model = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--') && args[i - 1] !== '--json'));
    if (!model) {
        process.stderr.write('usage: node tools/bench-llamacpp.mjs MODEL.gguf [--prompt 512] [--gen 128] [--ctx N] ' +
            '[--fa on|off|auto] [--gpu vulkan|cpu|auto] [--reps 3] [--threads N] [--json]\n');
        process.exit(2);
    }
    try {
        const r = await benchLlamaCpp(model, { prompt: +opt(args, '--prompt', 512), gen: +opt(args, '--gen', 128),
            ctx: +opt(args, '--ctx', 0), fa: opt(args, '--fa', 'auto'), gpu: opt(args, '--gpu', 'vulkan'),
            reps: +opt(args, '--reps', 3), threads: +opt(args, '--threads', 0) });
        if (args.includes('--json')) process.stdout.write(JSON.stringify(r) + '\n');
        else printLlamaCpp(r);
    } catch (e) {
        process.stderr.write(`bench-llamacpp: ${e.message}\n`);
        process.exit(1);
    }
}
