// `rullama serve --cpu` against the real npm clients (ollama, openai) on an
// Ollama store holding the external gemma4-tiny fixture (manifests written
// here) and a model from our generator (tools/gen.mjs). References are
// independent of the server: a ChatSession opened here in-process (greedy
// output), a GGUF metadata reader written in the test (model_info), the
// store as this test wrote it (names, sizes, digests, license, params).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { test, run, assert, assertEq, tmpDir, repoRoot, fixturesDir, rng } from './harness.mjs';
import { addModel } from './lib/store.mjs';
import { spawnServe } from './lib/serve.mjs';
import { readGgufKv } from './lib/gguf-kv.mjs';
import { ChatSession } from '../../js/session.mjs';
import { nodeHost } from '../../js/node/host.mjs';
import { wasmPath } from '../../js/node/cli.mjs';
import { runGen } from '../../tools/gen.mjs';

const fixture = path.join(fixturesDir(), 'gemma4-tiny/model.gguf');
const store = tmpDir('server');
const LICENSE = `license ${crypto.randomBytes(8).toString('hex')}`;
const PARAMS = { temperature: 0.7, top_k: 64, top_p: 0.95, stop: ['<turn|>'] };
const tiny = addModel(store, 'gemma4:tiny', fixture, { config: { model_type: '8.2M', file_type: 'Q4_K_M' }, params: PARAMS, license: LICENSE });
const other = addModel(store, 'myns/other:v1', fixture, { config: { model_type: '8.2M', file_type: 'Q4_K_M' } });
process.env.OLLAMA_MODELS = store; // for the in-process reference session and the generator
assertEq(await runGen(['--preset', 'tiny', '--seed', String(Math.floor(rng() * 1e6)), '--store', store, '--name', 'gemma4:gen', '--quiet']), 0, 'generator');

// A few words from a fixed list, chosen by the seeded RNG: each run asks something new.
const WORDS = ['hello', 'sky', 'blue', 'why', 'river', 'stone', 'light', 'seven', 'green', 'window', 'paper', 'quiet'];
const prompt = () => Array.from({ length: 2 + Math.floor(rng() * 4) }, () => WORDS[Math.floor(rng() * WORDS.length)]).join(' ');
const N = 10; // tokens per greedy answer

let srv, ollama, openai, reference;

// The in-process session's answer; r.pieces: how many pieces of text it streamed
async function referenceChat(messages, options = {}) {
    let pieces = 0;
    const r = await reference.run('chat', { messages, options: { temperature: 0, num_predict: N, ...options } },
        { onText: (c) => { if (c) pieces++; } });
    r.pieces = pieces;
    return r;
}

test('start: serve --cpu on an ephemeral port, reference session in-process', async () => {
    srv = await spawnServe(repoRoot, { env: { OLLAMA_MODELS: store } });
    ollama = new Ollama({ host: srv.url });
    openai = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: 'x', maxRetries: 0 });
    reference = await ChatSession.open({ wasm: fs.readFileSync(wasmPath), host: nodeHost(), model: 'gemma4:tiny', gpu: false });
});

test('ollama: version, list (names, sizes, digests, details, modified_at)', async () => {
    const v = await ollama.version();
    assert(typeof v.version === 'string' && v.version.length > 0, 'version');
    const { models } = await ollama.list();
    assertEq(models.map((m) => m.name), ['gemma4:gen', 'gemma4:tiny', 'myns/other:v1'], 'names');
    const t = models[1];
    assertEq([t.model, t.size, t.digest], ['gemma4:tiny', tiny.size, tiny.digest], 'tiny entry');
    assertEq([models[2].size, models[2].digest], [other.size, other.digest], 'other entry');
    // the generated model: size and digest from its manifest as the generator wrote it
    const manifest = fs.readFileSync(path.join(store, 'manifests/registry.ollama.ai/library/gemma4/gen'));
    const m = JSON.parse(manifest);
    assertEq([models[0].size, models[0].digest], [m.config.size + m.layers.reduce((a, l) => a + l.size, 0), crypto.createHash('sha256').update(manifest).digest('hex')], 'generated entry');
    assertEq(t.details, { parent_model: '', format: 'gguf', family: 'gemma4', families: ['gemma4'], parameter_size: '8.2M', quantization_level: 'Q4_K_M' }, 'details');
    const mtime = fs.statSync(path.join(store, 'manifests/registry.ollama.ai/library/gemma4/tiny')).mtime;
    assertEq(new Date(t.modified_at).getTime(), mtime.getTime(), 'modified_at is the manifest time');
});

test('ollama: show (license, parameters, details, capabilities, model_info = the GGUF metadata)', async () => {
    const s = await ollama.show({ model: 'gemma4:tiny' });
    assertEq(s.license, LICENSE, 'license');
    assert(/^temperature +0\.7$/m.test(s.parameters) && /^stop +"<turn\|>"$/m.test(s.parameters), `parameters: ${s.parameters}`);
    assertEq(s.capabilities, ['completion', 'tools', 'thinking'], 'capabilities');
    assertEq(s.details.family, 'gemma4', 'family');
    const kv = readGgufKv(fixture);
    const want = {};
    for (const { key, type, value } of kv) {
        if (key === 'general.name' || key === 'tokenizer.chat_template') continue;
        want[key] = type === 9 ? (value.items.length > 5 ? [] : value.items.map(Number)) : typeof value === 'bigint' ? Number(value) : value;
    }
    const got = s.model_info;
    for (const [k, v] of Object.entries(want)) {
        if (typeof v === 'number' && !Number.isInteger(v)) assert(Math.fround(got[k]) === v, `${k}: ${got[k]} vs ${v}`);
        else assertEq(got[k], v, k);
    }
    const extra = Object.keys(got).filter((k) => !(k in want));
    assertEq(extra, ['general.parameter_count'], 'keys beyond the file');
    const verbose = await ollama.show({ model: 'gemma4:tiny', verbose: true });
    const tokens = kv.find((e) => e.key === 'tokenizer.ggml.tokens').value.items;
    assertEq(verbose.model_info['tokenizer.ggml.tokens'], tokens, 'verbose: the whole vocabulary');
});

test('ollama chat: streaming and not, greedy, equal to the in-process session', async () => {
    const messages = [{ role: 'user', content: prompt() }];
    const want = await referenceChat(messages);
    const options = { temperature: 0, num_predict: N };
    const whole = await ollama.chat({ model: 'gemma4:tiny', messages, options, stream: false });
    assertEq(whole.message.content, want.content, 'non-streaming content');
    assertEq([whole.done, whole.done_reason, whole.eval_count, whole.prompt_eval_count], [true, want.done_reason, want.eval_count, want.prompt_tokens], 'final fields');
    for (const k of ['total_duration', 'load_duration', 'prompt_eval_duration', 'eval_duration']) assert(Number.isInteger(whole[k]) && whole[k] >= 0, k);
    let text = '', chunks = 0, last;
    for await (const part of await ollama.chat({ model: 'gemma4:tiny', messages, options, stream: true })) {
        if (!part.done) { text += part.message.content; chunks++; }
        last = part;
    }
    assertEq(text, want.content, 'streamed content');
    // as many pieces as the session streamed (seed 384975182: 10 tokens whose only text
    // was one piece, "gh"), and more than one whenever it streamed several
    assert(chunks >= want.pieces && (chunks > 1 || want.pieces <= 1), `streamed in ${chunks} pieces, the session in ${want.pieces}`);
    assertEq([last.done, last.done_reason, last.message.content, last.eval_count], [true, want.done_reason, '', want.eval_count], 'last chunk');
});

test('ollama generate: streaming and not equal the session; raw mode; empty prompt loads', async () => {
    const p = prompt();
    const want = await reference.run('generate', { prompt: p, options: { temperature: 0, num_predict: N } });
    const options = { temperature: 0, num_predict: N };
    const whole = await ollama.generate({ model: 'gemma4:tiny', prompt: p, options });
    assertEq(whole.response, want.content, 'non-streaming');
    let text = '';
    for await (const part of await ollama.generate({ model: 'gemma4:tiny', prompt: p, options, stream: true })) text += part.response;
    assertEq(text, want.content, 'streaming');
    const rawWant = await reference.run('generate', { prompt: p, raw: true, options });
    const raw = await ollama.generate({ model: 'gemma4:tiny', prompt: p, raw: true, options });
    assertEq([raw.response, raw.prompt_eval_count], [rawWant.content, rawWant.prompt_tokens], 'raw');
    const load = await ollama.generate({ model: 'gemma4:tiny', prompt: '' });
    assertEq([load.done, load.done_reason, load.response], [true, 'load', ''], 'load');
});

test('openai chat: streaming and not agree with Ollama\'s API; usage; include_usage', async () => {
    const messages = [{ role: 'system', content: 'be brief' }, { role: 'user', content: prompt() }];
    const want = await referenceChat(messages);
    const r = await openai.chat.completions.create({ model: 'gemma4:tiny', messages, temperature: 0, max_tokens: N });
    assertEq(r.object, 'chat.completion', 'object');
    assertEq(r.choices[0].message.content, want.content, 'content');
    assertEq(r.choices[0].finish_reason, want.done_reason, 'finish_reason');
    assertEq(r.usage, { prompt_tokens: want.prompt_tokens, completion_tokens: want.eval_count, total_tokens: want.prompt_tokens + want.eval_count }, 'usage');
    const stream = await openai.chat.completions.create({ model: 'gemma4:tiny', messages, temperature: 0, max_completion_tokens: N, stream: true, stream_options: { include_usage: true } });
    let text = '', roles = 0, finish = null, usage = null;
    for await (const c of stream) {
        if (c.usage) usage = c.usage;
        const ch = c.choices[0];
        if (!ch) continue;
        if (ch.delta.role) roles++;
        text += ch.delta.content || '';
        if (ch.finish_reason) finish = ch.finish_reason;
    }
    assertEq([text, roles, finish], [want.content, 1, want.done_reason], 'stream');
    assertEq(usage, r.usage, 'stream usage');
    // message content as an array of text parts means the same as Ollama's split messages
    const parts = await openai.chat.completions.create({ model: 'gemma4:tiny', messages: [{ role: 'user', content: [{ type: 'text', text: messages[1].content }] }], temperature: 0, max_tokens: N });
    assertEq(parts.choices[0].message.content, (await referenceChat([messages[1]])).content, 'text parts');
});

test('openai completions: the prompt as a user turn (Ollama\'s layer), stop strings', async () => {
    const p = prompt();
    const want = await reference.run('generate', { prompt: p, options: { temperature: 0, num_predict: N } });
    const r = await openai.completions.create({ model: 'gemma4:tiny', prompt: p, temperature: 0, max_tokens: N });
    assertEq([r.object, r.choices[0].text, r.choices[0].finish_reason], ['text_completion', want.content, want.done_reason], 'completion');
    let text = '';
    for await (const c of await openai.completions.create({ model: 'gemma4:tiny', prompt: p, temperature: 0, max_tokens: N, stream: true })) text += c.choices[0]?.text || '';
    assertEq(text, want.content, 'streamed');
    // a stop string taken from the greedy answer ends it early, through both shapes of
    // `stop`. Stops match the raw model text, before the chat parser, so here the answer
    // is only known to be a shorter prefix; raw mode below checks the exact cut.
    const cut = [...want.content].slice(2, 4).join('');
    if (cut.trim() && !cut.includes('\uFFFD')) {
        for (const stop of [cut, [cut, 'zzzz-never']]) {
            const s = await openai.completions.create({ model: 'gemma4:tiny', prompt: p, temperature: 0, max_tokens: N, stop });
            const text = s.choices[0].text;
            assert(want.content.startsWith(text) && text.length < want.content.length, `stop ${JSON.stringify(stop)}: ${JSON.stringify(text)}`);
            assertEq(s.choices[0].finish_reason, 'stop', 'finish_reason');
        }
    }
    const raw = await reference.run('generate', { prompt: p, raw: true, options: { temperature: 0, num_predict: N } });
    const rawCut = [...raw.content].slice(3, 5).join('');
    if (rawCut.trim() && !rawCut.includes('\uFFFD')) {
        const r = await ollama.generate({ model: 'gemma4:tiny', prompt: p, raw: true, options: { temperature: 0, num_predict: N, stop: [rawCut] } });
        assertEq([r.response, r.done_reason], [raw.content.slice(0, raw.content.indexOf(rawCut)), 'stop'], `raw stop ${JSON.stringify(rawCut)}`);
    }
});

test('tools: both APIs render the same prompt (token counts, greedy output) for tools, calls and results', async () => {
    const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
    const city = WORDS[Math.floor(rng() * WORDS.length)];
    const ollamaMessages = [
        { role: 'user', content: `weather in ${city}?` },
        { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city } } }] },
        { role: 'tool', content: 'sunny, 21 C', tool_name: 'get_weather' },
    ];
    const openaiMessages = [
        ollamaMessages[0],
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_abc12345', type: 'function', function: { name: 'get_weather', arguments: JSON.stringify({ city }) } }] },
        { role: 'tool', content: 'sunny, 21 C', tool_call_id: 'call_abc12345' },
    ];
    const want = await referenceChat(ollamaMessages, {});
    const wantTools = await reference.run('chat', { messages: ollamaMessages, tools, options: { temperature: 0, num_predict: N } });
    assert(wantTools.prompt_tokens > want.prompt_tokens, 'tool declarations are part of the prompt');
    const o = await ollama.chat({ model: 'gemma4:tiny', messages: ollamaMessages, tools, options: { temperature: 0, num_predict: N } });
    assertEq([o.message.content, o.prompt_eval_count], [wantTools.content, wantTools.prompt_tokens], 'ollama with tools');
    const a = await openai.chat.completions.create({ model: 'gemma4:tiny', messages: openaiMessages, tools, temperature: 0, max_tokens: N });
    assertEq([a.choices[0].message.content, a.usage.prompt_tokens], [wantTools.content, wantTools.prompt_tokens], 'openai with tools');
    const none = await openai.chat.completions.create({ model: 'gemma4:tiny', messages: openaiMessages, tools, tool_choice: 'none', temperature: 0, max_tokens: N });
    assertEq(none.usage.prompt_tokens, want.prompt_tokens, 'tool_choice none drops the declarations');
});

test('models: /v1/models, ps, num_ctx reloads, another model replaces the loaded one, keep_alive 0 unloads', async () => {
    const list = await openai.models.list();
    assertEq(list.data.map((m) => [m.id, m.object, m.owned_by]), [['gemma4:gen', 'model', 'library'], ['gemma4:tiny', 'model', 'library'], ['myns/other:v1', 'model', 'myns']], '/v1/models');
    assertEq((await openai.models.retrieve('gemma4:tiny')).id, 'gemma4:tiny', 'retrieve');
    const loaded = await ollama.chat({ model: 'gemma4:tiny', messages: [], keep_alive: '10m' });
    assertEq([loaded.done_reason, loaded.message.content], ['load', ''], 'empty messages load');
    let ps = await ollama.ps();
    assertEq(ps.models.map((m) => [m.name, m.size, m.digest]), [['gemma4:tiny', tiny.size, tiny.modelDigest.slice(7)]], 'ps');
    const left = new Date(ps.models[0].expires_at).getTime() - Date.now();
    assert(left > 9 * 60e3 && left <= 10 * 60e3, `expires in 10 minutes (${left} ms)`);
    await ollama.generate({ model: 'gemma4:tiny', prompt: 'x', options: { num_ctx: 512, num_predict: 1 } });
    assertEq((await ollama.ps()).models[0].context_length, 512, 'num_ctx 512');
    await srv.waitLog(/unloaded gemma4:tiny \(context size/);
    await ollama.generate({ model: 'myns/other:v1', prompt: 'x', options: { num_predict: 1 } });
    ps = await ollama.ps();
    assertEq(ps.models.map((m) => m.name), ['myns/other:v1'], 'switched');
    const unload = await ollama.generate({ model: 'myns/other:v1', prompt: '', keep_alive: 0 });
    assertEq(unload.done_reason, 'unload', 'unload');
    assertEq((await ollama.ps()).models, [], 'nothing loaded');
});

test('generated model: show has its template and license blobs; chat through both APIs equals the session', async () => {
    const m = JSON.parse(fs.readFileSync(path.join(store, 'manifests/registry.ollama.ai/library/gemma4/gen')));
    const blob = (type) => fs.readFileSync(path.join(store, 'blobs', m.layers.find((l) => l.mediaType === type).digest.replace(':', '-')), 'utf8');
    const s = await ollama.show({ model: 'gemma4:gen' });
    assertEq([s.template, s.license], [blob('application/vnd.ollama.image.template'), blob('application/vnd.ollama.image.license')], 'text layers');
    const gen = await ChatSession.open({ wasm: fs.readFileSync(wasmPath), host: nodeHost(), model: 'gemma4:gen', gpu: false });
    try {
        const messages = [{ role: 'user', content: prompt() }];
        const want = await gen.run('chat', { messages, options: { temperature: 0, num_predict: N } });
        const o = await ollama.chat({ model: 'gemma4:gen', messages, options: { temperature: 0, num_predict: N } });
        const a = await openai.chat.completions.create({ model: 'gemma4:gen', messages, temperature: 0, max_tokens: N });
        assertEq([o.message.content, a.choices[0].message.content, o.eval_count], [want.content, want.content, want.eval_count], 'answers');
    } finally {
        gen.close();
    }
});

test('the request log has one line per request', async () => {
    const before = srv.log().split('\n').filter((l) => / GET \/api\/version /.test(l)).length;
    await ollama.version();
    await srv.waitLog(new RegExp(`(?:GET /api/version 200[^\\n]*\\n[^]*){${before + 1}}`));
});

test('stop: SIGTERM shuts down cleanly', async () => {
    reference.close();
    const r = await srv.stop();
    assertEq(r.code, 0, 'exit code');
});

await run('server');
