#!/usr/bin/env node
// Cross-check of our CPU engine against upstream llama.cpp (npm node-llama-cpp,
// its prebuilt CPU build; not a rullama dependency and not part of `make test`:
// install it as tools/bench-llamacpp.mjs says and set NODE_LLAMA_CPP_DIR).
//
//   node tools/check-llamacpp.mjs [--presets tiny,tiny-kv,tiny-moe] [--types F32,Q8_0]
//        [--prefill 40] [--decode 8] [--seed N] [--fa off|on] [--threads 1] [--json]
//        [--vocab build/vocab/gemma4-vocab.gguf | --vocab none] [--gen-args "..."]
// (--gen-args: extra rullama-gen overrides for every model, e.g. an E2B-depth model:
//  --presets e2b --types F32 --gen-args "--embd 256 --heads 4 --head-dim 64 --head-dim-full 128
//  --ffn 512 --vocab-size 2048 --ple 64 --vision-layers 0 --audio-layers 0 --window 16")
//
// For each preset and weight type it generates one model twice with the same seed
// (rullama-gen: Ollama's layout for us, --layout llamacpp for llama.cpp; the text
// tensors are byte-identical), feeds both the same tokens (BOS + random ids; the
// prefill is longer than the sliding window of 16) and compares next-token logits
// at every position: llama.cpp evaluates the prefill in one batch, then the decode
// tokens one at a time with an F32 KV cache; ours come from `rullama logits --cpu`.
// Reported per model: max and mean relative difference (max |Δ| / max |ours| of a
// row), argmax agreement, and positions where the argmax differs while our top-2
// margin is wider than twice the difference (a real disagreement, not a near tie).
//
// With quantized weights llama.cpp's CPU mat-muls also round the activations to
// 8 bits (Q8_0 weights: Q8_0 blocks of 32; k-quants: Q8_K), which we do not, so
// the raw comparison carries that rounding. To separate it from the rest, a Q8_0
// model is also run by llama.cpp from an F32 twin holding the dequantized Q8_0
// weights ("dequantized"): that must agree as closely as F32 does.
// Exit status 1 when an F32 or dequantized comparison exceeds --tol (default
// 1e-2) or has a real argmax disagreement; the raw quantized rows are reported only.
//
// Tokenizer: with the real vocabulary (--vocab, default build/vocab/gemma4-vocab.gguf
// when tools/vocab.mjs has built it) a tiny-kv model carries it in both layouts, and
// llama.cpp's tokenizer (special tokens parsed) must give the same ids as
// `rullama tokenize` for fixed and random strings (every mismatch fails).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importNodeLlamaCpp } from './bench-llamacpp.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function opt(args, name, dflt) {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : dflt;
}

async function generate(args) {
    const native = path.join(root, 'build/native/rullama-gen');
    if (fs.existsSync(native)) return void execFileSync(native, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    const { runGen } = await import('./gen.mjs');
    if ((await runGen(args)) !== 0) throw new Error(`rullama-gen ${args.join(' ')} failed`);
}

// ---- a minimal GGUF rewriter: Q8_0 tensors -> F32 with the same values ----

const GGUF_SCALAR = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

function f16(h) {
    const e = (h >> 10) & 31, m = h & 1023, sgn = h & 0x8000 ? -1 : 1;
    if (e === 0) return sgn * m * 2 ** -24;
    if (e === 31) return m ? NaN : sgn * Infinity;
    return sgn * (1 + m / 1024) * 2 ** (e - 15);
}

export function dequantizedTwin(src, dst) {
    const b = fs.readFileSync(src);
    let o = 8;
    const u32 = () => (o += 4, b.readUInt32LE(o - 4)), u64 = () => (o += 8, Number(b.readBigUInt64LE(o - 8)));
    const str = () => { const n = u64(); o += n; return b.toString('utf8', o - n, o); };
    const skip = (t) => {
        if (t === 8) return void str();
        if (t === 9) { const et = u32(), n = u64(); for (let i = 0; i < n; i++) skip(et); return; }
        o += GGUF_SCALAR[t];
    };
    const nT = u64(), nKv = u64();
    for (let i = 0; i < nKv; i++) { str(); skip(u32()); }
    const kvEnd = o;
    const infos = [];
    for (let i = 0; i < nT; i++) {
        const name = str(), nd = u32(), ne = Array.from({ length: nd }, u64), type = u32(), off = u64();
        infos.push({ name, ne, type, off, n: ne.reduce((a, x) => a * x, 1) });
    }
    const dataStart = Math.ceil(o / 32) * 32;
    const head = [b.subarray(0, kvEnd)];
    let off = 0;
    for (const t of infos) {
        const name = Buffer.from(t.name), h = Buffer.alloc(8 + name.length + 4 + 8 * t.ne.length + 12);
        let p = h.writeBigUInt64LE(BigInt(name.length), 0);
        p += name.copy(h, p);
        p = h.writeUInt32LE(t.ne.length, p);
        for (const x of t.ne) p = h.writeBigUInt64LE(BigInt(x), p);
        t.newType = t.type === 8 ? 0 : t.type;
        p = h.writeUInt32LE(t.newType, p);
        h.writeBigUInt64LE(BigInt(off), p);
        head.push(h);
        t.newOff = off;
        const bytes = t.type === 8 ? t.n * 4 : (infos[infos.indexOf(t) + 1]?.off ?? b.length - dataStart) - t.off;
        t.bytes = bytes;
        off += Math.ceil(bytes / 32) * 32;
    }
    let header = Buffer.concat(head);
    header = Buffer.concat([header, Buffer.alloc(Math.ceil(header.length / 32) * 32 - header.length)]);
    const out = Buffer.alloc(header.length + off);
    header.copy(out);
    for (const t of infos) {
        const from = dataStart + t.off, to = header.length + t.newOff;
        if (t.type !== 8) { b.copy(out, to, from, from + t.bytes); continue; }
        for (let blk = 0; blk < t.n / 32; blk++) {
            const d = f16(b.readUInt16LE(from + blk * 34));
            for (let j = 0; j < 32; j++) out.writeFloatLE(d * b.readInt8(from + blk * 34 + 2 + j), to + (blk * 32 + j) * 4);
        }
    }
    fs.writeFileSync(dst, out);
}

// ---- tokenizer ----

const FIXED_TEXTS = ['Hello, world!', '  two  spaces\n\nand newlines\t\ttabs', 'café résumé naïve 你好世界 👋',
    '<|turn>user\nHi<turn|>\n<|turn>model\n', 'x = 12345 + 678;', 'It\'s a test—with dashes… and "quotes".',
    '<|channel>thought\n<channel|>', '   \n \n\n\n   leading and trailing   '];
const PIECES = ['the', ' quick', ' brown', 'fox', ' ', '  ', '\n', '\n\n', '\t', '1', '23', '4567', ',', '.', '!?', '—', '…',
    'é', 'ß', 'Ω', '日本語', '中文', '한국어', 'Привет', 'مرحبا', '👋', '🏳️‍🌈', '<|turn>', '<turn|>', '<bos>', '<|"|>', '\u00a0', 'A', 'ZZ', '_', '__init__', '{"a": 1}'];

function randomTexts(n, rand) {
    return Array.from({ length: n }, () => Array.from({ length: 1 + (rand() % 12) }, () => PIECES[rand() % PIECES.length]).join(''));
}

function ourTokens(model, text) {
    return JSON.parse(execFileSync(process.execPath, [path.join(root, 'bin/rullama'), 'tokenize', model, text, '--json'],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
}

async function checkTokenizer(llama, vocab, dir, seed, log) {
    const ol = path.join(dir, 'vocab-ollama.gguf'), lc = path.join(dir, 'vocab-llamacpp.gguf');
    const common = ['--preset', 'tiny-kv', '--type', 'Q8_0', '--vocab', vocab, '--seed', String(seed), '--quiet'];
    await generate([...common, '--out', ol]);
    await generate([...common, '--layout', 'llamacpp', '--out', lc]);
    const m = await llama.loadModel({ modelPath: lc, gpuLayers: 0 });
    let s = (seed * 40503) >>> 0;
    const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
    const texts = [...FIXED_TEXTS, ...randomTexts(24, rand)];
    const mismatches = [];
    try {
        for (const t of texts) {
            const theirs = Array.from(m.tokenize(t, true)), ours = ourTokens(ol, t);
            if (JSON.stringify(theirs) !== JSON.stringify(ours)) mismatches.push({ text: t, ours, llamacpp: theirs });
        }
    } finally {
        await m.dispose();
    }
    log(`tokenizer (${path.basename(vocab)})`.padEnd(31) + `${texts.length - mismatches.length}/${texts.length} strings tokenized identically` +
        `${mismatches.length ? '  FAIL' : ''}\n`);
    for (const x of mismatches) log(`  ${JSON.stringify(x.text)}\n    ours      ${x.ours}\n    llama.cpp ${x.llamacpp}\n`);
    return { texts: texts.length, mismatches };
}

function ourLogits(model, tokens, out) {
    execFileSync(process.execPath, [path.join(root, 'bin/rullama'), 'logits', model, '--tokens', tokens.join(','), '--out', out, '--cpu'],
        { stdio: ['ignore', 'ignore', 'pipe'] });
    const b = fs.readFileSync(out);
    return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

// llama.cpp's logits: rows[p] = Float32Array(nVocab) after token p of
// makeTokens(nVocab).
export async function theirLogits(llama, model, makeTokens, prefill, { fa, threads }) {
    const m = await llama.loadModel({ modelPath: model, gpuLayers: 0 });
    const nVocab = m.fileInfo.metadata.tokenizer.ggml.tokens.length;
    const tokens = makeTokens(nVocab);
    const c = await m.createContext({ contextSize: Math.max(256, tokens.length + 16), batchSize: Math.max(prefill, 64), threads,
        flashAttention: fa === 'on', experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' });
    const seq = c.getSequence();
    const rows = [];
    const collect = (outs, n) => {
        for (let i = 0; i < n; i++) {
            const map = outs[i]?.next?.logits;
            if (!map || map.size !== nVocab) throw new Error(`llama.cpp returned ${map?.size} logits at a position`);
            const row = new Float32Array(nVocab);
            for (const [tok, v] of map) row[tok] = v;
            rows.push(row);
        }
    };
    const ask = (t) => [t, { generateNext: { logits: true } }];
    try {
        collect(await seq.controlledEvaluate(tokens.slice(0, prefill).map(ask)), prefill);
        for (const t of tokens.slice(prefill)) collect(await seq.controlledEvaluate([ask(t)]), 1);
    } finally {
        await c.dispose();
        await m.dispose();
    }
    return { rows, nVocab, tokens };
}

export function compare(ours, theirs, nVocab, prefill) {
    const r = { positions: theirs.length, rel: [], maxRel: 0, meanRel: 0, maxRelPrefill: 0, maxRelDecode: 0, argmaxAgree: 0, realDisagreements: [] };
    for (let p = 0; p < theirs.length; p++) {
        const a = ours.subarray(p * nVocab, (p + 1) * nVocab), b = theirs[p];
        let amax = 0, d = 0, ia = 0, ib = 0;
        for (let v = 0; v < nVocab; v++) {
            amax = Math.max(amax, Math.abs(a[v]));
            d = Math.max(d, Math.abs(a[v] - b[v]));
            if (a[v] > a[ia]) ia = v;
            if (b[v] > b[ib]) ib = v;
        }
        const rel = d / amax;
        r.rel.push(rel);
        r.maxRel = Math.max(r.maxRel, rel);
        r.meanRel += rel / theirs.length;
        if (p < prefill) r.maxRelPrefill = Math.max(r.maxRelPrefill, rel);
        else r.maxRelDecode = Math.max(r.maxRelDecode, rel);
        if (ia === ib) r.argmaxAgree++;
        else {
            let second = -Infinity;
            for (let v = 0; v < nVocab; v++) if (v !== ia) second = Math.max(second, a[v]);
            if (a[ia] - second > 2 * d) r.realDisagreements.push({ position: p, ours: ia, llamacpp: ib, margin: a[ia] - second, maxAbsDiff: d });
        }
    }
    r.medianRel = [...r.rel].sort((x, y) => x - y)[r.rel.length >> 1];
    return r;
}

async function main(args) {
    const presets = opt(args, '--presets', 'tiny,tiny-kv,tiny-moe').split(',');
    const types = opt(args, '--types', 'F32,Q8_0').split(',');
    const prefill = +opt(args, '--prefill', 40), decode = +opt(args, '--decode', 8);
    const seed = +opt(args, '--seed', Math.floor(Math.random() * 1e6));
    const fa = opt(args, '--fa', 'off'), threads = +opt(args, '--threads', 1);
    const tolArg = opt(args, '--tol');
    const genArgs = (opt(args, '--gen-args', '') || '').split(/\s+/).filter(Boolean);
    const nlc = await importNodeLlamaCpp();
    const llama = await nlc.getLlama({ gpu: false, build: 'never', logLevel: nlc.LlamaLogLevel.error, progressLogs: false });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rullama-llamacpp-'));
    const log = (m) => process.stderr.write(m);
    log(`llama.cpp ${llama.llamaCppRelease?.release} (node-llama-cpp, CPU build), seed ${seed}, ${prefill} tokens in one batch + ` +
        `${decode} single-token steps, F32 KV cache, flash attention ${fa}\n`);
    const results = [];
    let failed = false, tokenizer = null;
    try {
        for (const preset of presets) {
            for (const type of types) {
                const ol = path.join(dir, `${preset}-${type}-ollama.gguf`), lc = path.join(dir, `${preset}-${type}-llamacpp.gguf`);
                const common = ['--preset', preset, '--type', type, '--seed', String(seed), ...genArgs];
                await generate([...common, '--out', ol]);
                await generate([...common, '--layout', 'llamacpp', '--out', lc]);
                let s = (seed * 2654435761) >>> 0;
                const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
                // BOS, then ids from the vocabulary's ordinary part (the synthetic one has w<id> tokens above 512)
                const makeTokens = (nVocab) => [2, ...Array.from({ length: prefill + decode - 1 }, () => 512 + (rand() % (nVocab - 512)))];
                const { rows: theirs, nVocab, tokens } = await theirLogits(llama, lc, makeTokens, prefill, { fa, threads }).catch((e) => {
                    throw new Error(`llama.cpp could not run ${lc}: ${e.message}`);
                });
                const ours = ourLogits(ol, tokens, path.join(dir, 'ours.bin'));
                const tol = tolArg ? +tolArg : 1e-2;
                // MoE: where the router's k-th and (k+1)-th logits are closer than the engines'
                // ~1e-3 noise, llama.cpp may pick another expert at that position (our engine
                // follows the double-precision reference there), and in all but the last layer
                // attention carries the change to later positions. A systematic error shows from
                // position 0 on (every position routes in every layer), so MoE models must agree
                // within tol up to the first such position, which must be >= 8.
                const moe = /moe/.test(preset);
                const report = (r, checked) => {
                    const over = r.rel.findIndex((x) => x > tol);
                    r.divergesAt = moe && over >= 8 ? over : null;
                    const before = (d) => r.divergesAt === null || d.position < r.divergesAt;
                    r.ok = !checked || ((over < 0 || r.divergesAt !== null) && !r.realDisagreements.some(before));
                    failed ||= !r.ok;
                    results.push(r);
                    log(`${(r.preset + ' ' + r.type + (r.weights === 'raw' ? '' : ` (${r.weights})`)).padEnd(30)} max rel ${r.maxRel.toExponential(2)} ` +
                        `(prefill ${r.maxRelPrefill.toExponential(2)}, decode ${r.maxRelDecode.toExponential(2)}), median ${r.medianRel.toExponential(2)}, ` +
                        `argmax ${r.argmaxAgree}/${r.positions}` +
                        `${r.realDisagreements.length ? `, argmax differs beyond the margin at ${r.realDisagreements.map((d) => d.position).join(' ')}` : ''}` +
                        `${r.divergesAt !== null ? `; ${r.rel.filter((x) => x > tol).length} positions over ${tol} from position ` +
                            `${r.divergesAt} on (router near-ties), max rel before it ${Math.max(...r.rel.slice(0, r.divergesAt)).toExponential(2)}` : ''}` +
                        `${r.ok ? '' : `  FAIL (tol ${tol})`}${checked ? '' : '  (reported only: activation rounding)'}\n`);
                };
                report({ preset, type, weights: 'raw', ...compare(ours, theirs, nVocab, prefill) }, type === 'F32');
                if (type === 'Q8_0') {
                    const twin = path.join(dir, `${preset}-${type}-dequantized.gguf`);
                    dequantizedTwin(lc, twin);
                    const t2 = (await theirLogits(llama, twin, () => tokens, prefill, { fa, threads })).rows;
                    report({ preset, type, weights: 'dequantized', ...compare(ours, t2, nVocab, prefill) }, true);
                }
            }
        }
        const vocab = opt(args, '--vocab', path.join(root, 'build/vocab/gemma4-vocab.gguf'));
        if (vocab !== 'none' && fs.existsSync(vocab)) {
            tokenizer = await checkTokenizer(llama, vocab, dir, seed, log);
            failed ||= tokenizer.mismatches.length > 0;
        } else if (vocab !== 'none') {
            log(`tokenizer: ${vocab} not found (node tools/vocab.mjs --out ${vocab} builds it); not checked\n`);
        }
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
        await llama.dispose();
    }
    if (args.includes('--json')) process.stdout.write(JSON.stringify({ seed, prefill, decode, fa, results, tokenizer }) + '\n');
    return failed ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
    try {
        process.exitCode = await main(process.argv.slice(2));
    } catch (e) {
        process.stderr.write(`check-llamacpp: ${e.message}\n`);
        process.exitCode = 2;
    }
}
