// `rullama serve` under real use and abuse: bad requests get 4xx in each API's
// own error shape and the server stays up; parallel clients all get the same
// greedy answer; a client that disconnects stops its generation (running or
// still queued) and the queue moves on. In-process parts: a stub session
// (tool calls, thinking, engine errors), the FIFO runner, static files with
// Range and COOP/COEP, host/origin checks, RULLAMA_HOST parsing.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { test, run, assert, assertEq, tmpDir, repoRoot, fixturesDir, rng } from './harness.mjs';
import { addModel } from './lib/store.mjs';
import { spawnServe } from './lib/serve.mjs';
import { startServer, parseHostEnv } from '../../js/node/server.mjs';
import { Runner, parseKeepAlive } from '../../js/node/server/runner.mjs';
import { wasmPath } from '../../js/node/cli.mjs';

const fixture = path.join(fixturesDir(), 'gemma4-tiny/model.gguf');
const store = tmpDir('server-robust');
const tiny = addModel(store, 'gemma4:tiny', fixture, { config: { model_type: '8.2M', file_type: 'Q4_K_M' } });
process.env.OLLAMA_MODELS = store;

let srv, ollama, openai;

const post = (p, body, headers = {}) => fetch(`${srv.url}${p}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
});

// status and the error message, checking the API's error shape on the way
async function expectError(res, status, api, re) {
    const text = await res.text();
    assertEq(res.status, status, `status for ${text}`);
    const j = JSON.parse(text);
    let msg;
    if (api === 'ollama') {
        assertEq(Object.keys(j), ['error'], 'Ollama error shape');
        msg = j.error;
    } else {
        assertEq(Object.keys(j.error).sort(), ['code', 'message', 'param', 'type'], 'OpenAI error shape');
        assertEq(j.error.type, status === 404 ? 'not_found_error' : status < 500 ? 'invalid_request_error' : 'api_error', 'type');
        msg = j.error.message;
    }
    assert(typeof msg === 'string' && (!re || re.test(msg)), `message ${JSON.stringify(msg)} should match ${re}`);
}

test('start: serve --cpu', async () => {
    srv = await spawnServe(repoRoot, { env: { OLLAMA_MODELS: store } });
    ollama = new Ollama({ host: srv.url });
    openai = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: 'x', maxRetries: 0 });
});

test('ollama bad requests: 4xx with {"error"}', async () => {
    const chat = { model: 'gemma4:tiny', messages: [{ role: 'user', content: 'hi' }], stream: false };
    const cases = [
        ['/api/chat', '{"model": "gemma4:tiny", "messages": [', 400, /invalid JSON/],
        ['/api/chat', '', 400, /missing request body/],
        ['/api/chat', '[1,2]', 400, /JSON object/],
        ['/api/chat', { messages: chat.messages }, 400, /model is required/],
        ['/api/chat', { ...chat, model: 42 }, 400, /model is required/],
        ['/api/chat', { ...chat, messages: 'hi' }, 400, /messages must be an array/],
        ['/api/chat', { ...chat, messages: [{ role: 'user', content: 7 }] }, 400, /content must be a string/],
        ['/api/chat', { ...chat, messages: [{ content: 'x' }] }, 400, /role/],
        ['/api/chat', { ...chat, messages: [{ role: 'user', content: 'x', images: ['aGk='] }] }, 400, /vision/],
        ['/api/chat', { ...chat, options: 'hot' }, 400, /options must be an object/],
        ['/api/chat', { ...chat, options: { temperature: 'hot' } }, 400, /temperature/],
        ['/api/chat', { ...chat, options: { top_p: 7 } }, 400, /top_p/],
        ['/api/chat', { ...chat, options: { num_ctx: -1 } }, 400, /num_ctx/],
        ['/api/chat', { ...chat, stream: 'yes' }, 400, /stream must be a boolean/],
        ['/api/chat', { ...chat, think: 'very' }, 400, /think/],
        ['/api/chat', { ...chat, format: 'json' }, 400, /format/],
        ['/api/chat', { ...chat, tools: {} }, 400, /tools must be an array/],
        ['/api/chat', { ...chat, keep_alive: 'soon' }, 400, /keep_alive/],
        ['/api/chat', { ...chat, model: 'nope' }, 404, /^model "nope" not found, try pulling it first$/],
        ['/api/chat', { ...chat, model: '../../etc/passwd' }, 400, /invalid model name/],
        ['/api/generate', { model: 'gemma4:tiny', prompt: 5 }, 400, /prompt must be a string/],
        ['/api/generate', { model: 'gemma4:tiny', prompt: 'x', suffix: 'y' }, 400, /suffix/],
        ['/api/generate', { model: 'gemma4:tiny', prompt: 'x', raw: true, system: 's' }, 400, /raw mode/],
        ['/api/generate', { model: 'gemma4:tiny', prompt: 'word '.repeat(100), options: { num_ctx: 32 }, stream: false }, 400, /context/],
        ['/api/show', {}, 400, /model is required/],
        ['/api/show', { model: 'nope:1' }, 404, /not found/],
        ['/api/pull', { model: 'gemma4' }, 501, /does not implement/],
    ];
    for (const [p, body, status, re] of cases) await expectError(await post(p, body), status, 'ollama', re);
    await expectError(await fetch(`${srv.url}/api/chat`), 405, 'ollama', /method GET/);
    assertEq((await fetch(`${srv.url}/api/tags`, { method: 'POST', body: '{}' })).headers.get('allow'), 'GET', 'Allow header');
    await expectError(await fetch(`${srv.url}/api/nothing`), 404, 'ollama', /404/);
    // the npm client sees the same
    try {
        await ollama.chat({ model: 'nope', messages: chat.messages });
        assert(false, 'no error');
    } catch (e) {
        assertEq([e.status_code, e.error], [404, 'model "nope" not found, try pulling it first'], 'ollama client error');
    }
});

test('openai bad requests: 4xx with {"error": {message, type, param, code}}', async () => {
    const chat = { model: 'gemma4:tiny', messages: [{ role: 'user', content: 'hi' }] };
    const cases = [
        ['/v1/chat/completions', '{"model":', 400, /invalid JSON/],
        ['/v1/chat/completions', { model: 'gemma4:tiny' }, 400, /messages must be an array/],
        ['/v1/chat/completions', { ...chat, messages: [] }, 400, /too short/],
        ['/v1/chat/completions', { ...chat, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,aGk=' } }] }] }, 400, /vision/],
        ['/v1/chat/completions', { ...chat, messages: [{ role: 'user', content: [{ type: 'text' }] }] }, 400, /invalid message format/],
        ['/v1/chat/completions', { ...chat, messages: [{ role: 'user', content: 3 }] }, 400, /content/],
        ['/v1/chat/completions', { ...chat, messages: [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{nope' } }] }] }, 400, /arguments/],
        ['/v1/chat/completions', { ...chat, temperature: 5 }, 400, /temperature/],
        ['/v1/chat/completions', { ...chat, max_tokens: -3 }, 400, /max_tokens/],
        ['/v1/chat/completions', { ...chat, stop: [1] }, 400, /stop/],
        ['/v1/chat/completions', { ...chat, n: 3 }, 400, /one choice/],
        ['/v1/chat/completions', { ...chat, response_format: { type: 'json_object' } }, 400, /response_format/],
        ['/v1/chat/completions', { ...chat, reasoning_effort: 'extreme' }, 400, /reasoning/],
        ['/v1/chat/completions', { ...chat, model: 'gpt-4o' }, 404, /not found/],
        ['/v1/completions', { model: 'gemma4:tiny', prompt: ['a', 'b'] }, 400, /prompt must be a string/],
        ['/v1/completions', { model: 'gemma4:tiny' }, 400, /prompt/],
        ['/v1/embeddings', { model: 'gemma4:tiny', input: 'x' }, 501, /does not implement/],
    ];
    for (const [p, body, status, re] of cases) await expectError(await post(p, body), status, 'openai', re);
    await expectError(await fetch(`${srv.url}/v1/chat/completions`), 405, 'openai', /method GET/);
    await expectError(await fetch(`${srv.url}/v1/models/nope`), 404, 'openai', /not found/);
    try {
        await openai.chat.completions.create({ ...chat, model: 'nope' });
        assert(false, 'no error');
    } catch (e) {
        assertEq([e.status, e.error?.type], [404, 'not_found_error'], 'openai client error');
    }
});

test('oversized body: 413 in both APIs, then the server still answers', async () => {
    const big = JSON.stringify({ model: 'gemma4:tiny', prompt: 'x'.repeat((32 << 20) + 10) });
    await expectError(await post('/api/generate', big), 413, 'ollama', /limit/);
    await expectError(await post('/v1/completions', big), 413, 'openai', /limit/);
    assertEq((await (await fetch(`${srv.url}/api/version`)).json()).version.length > 0, true, 'alive');
});

// The same greedy answer for everyone; all complete; the model loaded once.
test('parallel: 6 concurrent clients over both APIs all get the greedy answer', async () => {
    const content = `hello ${Math.floor(rng() * 1000)}`;
    const messages = [{ role: 'user', content }];
    const options = { temperature: 0, num_predict: 12 };
    const want = (await ollama.chat({ model: 'gemma4:tiny', messages, options })).message.content;
    const logStart = srv.log().length;
    const jobs = [];
    for (let i = 0; i < 4; i++) jobs.push(ollama.chat({ model: 'gemma4:tiny', messages, options }).then((r) => r.message.content));
    for (let i = 0; i < 2; i++) jobs.push(openai.chat.completions.create({ model: 'gemma4:tiny', messages, temperature: 0, max_tokens: 12, stream: true }).then(async (s) => {
        let t = '';
        for await (const c of s) t += c.choices[0]?.delta?.content || '';
        return t;
    }));
    const got = await Promise.all(jobs);
    assertEq(got, got.map(() => want), 'answers');
    assertEq(srv.log().slice(logStart).match(/loaded gemma4:tiny/g), null, 'no reload: the model stays loaded');
});

// A prompt whose greedy answer runs for at least `n` tokens (so an early end is a cancel).
async function longPrompt(n) {
    for (const p of ['tell me a story', 'count', 'the', 'write a long poem']) {
        const r = await ollama.generate({ model: 'gemma4:tiny', prompt: p, options: { temperature: 0, num_predict: n } });
        if (r.eval_count === n) return p;
    }
    throw new Error('no candidate prompt runs long enough');
}

const logLine = async (re) => (await srv.waitLog(re))[0];
const tokensIn = (line) => Number(/\+(\d+) tok/.exec(line)?.[1] ?? NaN);

test('disconnect: a client that goes away stops its generation (running or queued); the queue moves on', async () => {
    const LONG = 300;
    const p = await longPrompt(LONG);
    const tag = crypto.randomBytes(4).toString('hex');
    // A: streams, aborted after its first chunk. B: queued behind A, aborted before its turn.
    const a = new AbortController(), b = new AbortController();
    const resA = await fetch(`${srv.url}/api/generate?a=${tag}`, { method: 'POST', body: JSON.stringify({ model: 'gemma4:tiny', prompt: p, options: { temperature: 0, num_predict: 4000 } }), signal: a.signal });
    const reader = resA.body.getReader();
    const first = JSON.parse(new TextDecoder().decode((await reader.read()).value).split('\n')[0]);
    assertEq(first.done, false, 'A is streaming');
    const pendingB = fetch(`${srv.url}/api/chat?b=${tag}`, { method: 'POST', body: JSON.stringify({ model: 'gemma4:tiny', messages: [{ role: 'user', content: 'x' }], stream: false }), signal: b.signal }).catch((e) => e);
    await new Promise((r) => setTimeout(r, 50));
    b.abort();
    assertEq((await pendingB).name, 'AbortError', 'B aborted');
    // give the server time to see B's connection close before A ends (else B may start, then stop at its first step)
    await new Promise((r) => setTimeout(r, 250));
    const t0 = performance.now();
    a.abort();
    // C comes after both and is answered
    const c = await ollama.generate({ model: 'gemma4:tiny', prompt: 'hi', options: { temperature: 0, num_predict: 3 } });
    assertEq([c.done, c.eval_count], [true, 3], 'C answered');
    const lineA = await logLine(new RegExp(`POST /api/generate\\?a=${tag} 200 .*`));
    assert(/client went away/.test(lineA) && tokensIn(lineA) < LONG, `A stopped early: ${lineA}`);
    const lineB = await logLine(new RegExp(`POST /api/chat\\?b=${tag} .*`));
    assert(/client went away/.test(lineB) && !/tok/.test(lineB), `B never ran: ${lineB}`);
    assert(performance.now() - t0 < 5000, 'C was not stuck behind A');
    assert(srv.alive(), 'server alive');
});

test('openai streaming disconnect: the SDK aborting mid-stream stops the generation', async () => {
    const p = await longPrompt(200);
    const ac = new AbortController();
    const stream = await openai.chat.completions.create({ model: 'gemma4:tiny', messages: [{ role: 'user', content: p }], temperature: 0, max_tokens: 4000, stream: true }, { signal: ac.signal });
    let n = 0;
    try {
        for await (const ch of stream) { if (ch.choices[0]?.delta?.content && ++n === 2) ac.abort(); }
    } catch (e) {
        assert(/abort/i.test(e.name + e.message), `aborted: ${e}`);
    }
    const line = await logLine(/POST \/v1\/chat\/completions 200 \d+ms gemma4:tiny \d+\+\d+ tok client went away/);
    assert(tokensIn(line) < 200, `stopped early: ${line}`);
    assertEq((await ollama.ps()).models.length, 1, 'model still loaded');
});

test('RULLAMA_HOST sets the address; serve rejects unknown flags', async () => {
    const s = await spawnServe(repoRoot, { env: { OLLAMA_MODELS: store, RULLAMA_HOST: '127.0.0.1:0' }, port: null });
    assert(/^http:\/\/127\.0\.0\.1:\d+$/.test(s.url), s.url);
    assertEq((await fetch(`${s.url}/api/tags`)).status, 200, 'answers');
    await s.stop();
    const bad = await spawnServe(repoRoot, { args: ['--bogus'] }).catch((e) => e);
    assert(/unknown argument '--bogus'/.test(bad.message), bad.message);
});

test('parseHostEnv and parseKeepAlive', () => {
    const cases = [
        ['', '127.0.0.1', 11435], ['0.0.0.0', '0.0.0.0', 11435], ['0.0.0.0:8080', '0.0.0.0', 8080], [':9000', '127.0.0.1', 9000],
        ['http://localhost:1234/', 'localhost', 1234], ['[::1]:5000', '::1', 5000], ['[::]', '::', 11435], ['7000', '127.0.0.1', 7000],
    ];
    for (const [v, host, port] of cases) assertEq(parseHostEnv(v), { host, port }, v);
    const ka = [[undefined, undefined], [0, 0], [-1, Infinity], ['5m', 300e3], ['1h30m', 5400e3], ['10s', 10e3], [30, 30e3], ['45', 45e3], ['-1m', Infinity], ['250ms', 250]];
    for (const [v, ms] of ka) assertEq(parseKeepAlive(v), ms, String(v));
    for (const v of ['soon', '5 m', {}, true]) {
        let threw = false;
        try { parseKeepAlive(v); } catch { threw = true; }
        assert(threw, `rejects ${JSON.stringify(v)}`);
    }
});

test('runner: first in, first out; a job aborted before its turn is skipped; one model at a time', async () => {
    const opened = [], order = [];
    const r = new Runner({ wasmModule: null, cpu: true });
    r.open = async (entry, nCtx) => { opened.push(`${entry.full_name}@${nCtx}`); return { session: { close() {} }, gpu: false }; };
    const e1 = { full_name: 'a/b/m1:x', name: 'm1' }, e2 = { full_name: 'a/b/m2:x', name: 'm2' };
    const skipped = new AbortController();
    const jobs = [];
    const n = 6 + Math.floor(rng() * 6);
    for (let i = 0; i < n; i++) {
        const entry = i % 3 === 2 ? e2 : e1;
        const signal = i === 3 ? skipped.signal : undefined;
        jobs.push(r.submit({ entry, signal, work: async () => { order.push(i); await new Promise((res) => setTimeout(res, rng() * 5)); return i; } }).catch((e) => e.constructor.name));
    }
    skipped.abort();
    const got = await Promise.all(jobs);
    assertEq(order, [...Array(n).keys()].filter((i) => i !== 3), 'order');
    assertEq(got[3], 'AbortedError', 'skipped job');
    const switches = [...Array(n).keys()].filter((i) => i !== 3).map((i) => (i % 3 === 2 ? 'a/b/m2:x@0' : 'a/b/m1:x@0'));
    assertEq(opened, switches.filter((s, k) => k === 0 || s !== switches[k - 1]), 'a model opens only when it changes');
    r.close();
});

test('stop the child server', async () => {
    assertEq((await srv.stop()).code, 0, 'exit 0');
});

// ---- in-process server with a stub session: response shapes the tiny model cannot produce ----

let local, script;
const stubSession = {
    close() {},
    async run(kind, body, { onText, onStep, signal }) {
        const s = script;
        if (s.beginError) throw new Error(s.beginError);
        await onStep?.();
        for (const [c, t] of s.pieces || []) { await onStep?.(); if (signal?.aborted) break; await onText?.(c, t); }
        if (s.trap) throw new WebAssembly.RuntimeError('unreachable executed');
        if (s.stepError) throw new Error(s.stepError);
        return {
            done_reason: 'stop', content: (s.pieces || []).map((p) => p[0]).join(''), thinking: (s.pieces || []).map((p) => p[1]).join('') || undefined,
            tool_calls: s.toolCalls, prompt_tokens: 9, prompt_eval_count: 9, prompt_eval_duration: 1e6, eval_count: 4, eval_duration: 2e6,
        };
    },
};

test('in-process: tool calls and thinking in Ollama\'s and OpenAI\'s shapes (streaming and not)', async () => {
    local = await startServer({ host: '127.0.0.1', port: 0, cpu: true, wasmPath, log: () => {} });
    local.state.runner.open = async () => ({ session: stubSession, gpu: false });
    const city = crypto.randomBytes(3).toString('hex');
    script = { pieces: [['', 'let me see'], ['Checking.', '']], toolCalls: [{ function: { index: 0, name: 'get_weather', arguments: { city } } }] };
    const o = new Ollama({ host: local.url });
    const a = new OpenAI({ baseURL: `${local.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const messages = [{ role: 'user', content: 'weather?' }];
    const r = await o.chat({ model: 'gemma4:tiny', messages });
    assertEq([r.message.content, r.message.thinking, r.message.tool_calls[0].function], ['Checking.', 'let me see', { index: 0, name: 'get_weather', arguments: { city } }], 'ollama');
    assert(/^call_[a-z0-9]{8}$/.test(r.message.tool_calls[0].id), 'tool call id');
    let calls = [], thinking = '', callChunkDone = null;
    for await (const part of await o.chat({ model: 'gemma4:tiny', messages, stream: true })) {
        thinking += part.message.thinking || '';
        if (part.message.tool_calls) callChunkDone = part.done;
        calls.push(...(part.message.tool_calls || []));
    }
    assertEq([thinking, calls.map((c) => c.function.name), callChunkDone], ['let me see', ['get_weather'], false], 'ollama stream');
    const c = await a.chat.completions.create({ model: 'gemma4:tiny', messages });
    const m = c.choices[0].message;
    assertEq([c.choices[0].finish_reason, m.content, m.reasoning, m.tool_calls[0].type, m.tool_calls[0].function], ['tool_calls', 'Checking.', 'let me see', 'function', { name: 'get_weather', arguments: JSON.stringify({ city }) }], 'openai');
    assert(/^call_[a-z0-9]{8}$/.test(m.tool_calls[0].id), 'openai tool call id');
    let finish = null, reasoning = '';
    calls = [];
    for await (const ch of await a.chat.completions.create({ model: 'gemma4:tiny', messages, stream: true })) {
        const d = ch.choices[0];
        reasoning += d.delta.reasoning || '';
        calls.push(...(d.delta.tool_calls || []));
        if (d.finish_reason) finish = d.finish_reason;
    }
    assertEq([finish, reasoning, calls.map((x) => [x.index, x.function.name, JSON.parse(x.function.arguments).city])], ['tool_calls', 'let me see', [[0, 'get_weather', city]]], 'openai stream');
});

test('in-process: engine errors: at the start 400, mid-stream an error chunk, a trap 500 and a reload', async () => {
    const o = new Ollama({ host: local.url });
    const a = new OpenAI({ baseURL: `${local.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const messages = [{ role: 'user', content: 'x' }];
    script = { beginError: 'option top_k: expected a number' };
    await expectError(await fetch(`${local.url}/api/chat`, { method: 'POST', body: JSON.stringify({ model: 'gemma4:tiny', messages }) }), 400, 'ollama', /top_k/);
    script = { pieces: [['partial', '']], stepError: 'backend failed' };
    await expectError(await fetch(`${local.url}/api/chat`, { method: 'POST', body: JSON.stringify({ model: 'gemma4:tiny', messages, stream: false }) }), 500, 'ollama', /backend failed/);
    let got = '', err = null;
    try {
        for await (const part of await o.chat({ model: 'gemma4:tiny', messages, stream: true })) got += part.message.content;
    } catch (e) { err = e; }
    assertEq([got, /backend failed/.test(err?.message)], ['partial', true], 'ollama stream error');
    got = ''; err = null;
    try {
        for await (const ch of await a.chat.completions.create({ model: 'gemma4:tiny', messages, stream: true })) got += ch.choices[0]?.delta?.content || '';
    } catch (e) { err = e; }
    assertEq([got, /backend failed/.test(err?.message)], ['partial', true], 'openai stream error');
    script = { trap: true };
    await expectError(await fetch(`${local.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'gemma4:tiny', messages }) }), 500, 'openai', /engine error/);
    assertEq(local.state.runner.loaded, null, 'a trapped session is dropped');
    script = { pieces: [['ok', '']] };
    assertEq((await o.chat({ model: 'gemma4:tiny', messages })).message.content, 'ok', 'reloads and answers');
});

test('in-process: blobs by digest with Range; host and origin checks', async () => {
    const hex = tiny.modelDigest.slice(7);
    const size = fs.statSync(fixture).size;
    const start = Math.floor(rng() * (size - 100)), len = 1 + Math.floor(rng() * 99);
    const r = await fetch(`${local.url}/api/blobs/sha256:${hex}`, { headers: { Range: `bytes=${start}-${start + len - 1}` } });
    assertEq([r.status, r.headers.get('content-range')], [206, `bytes ${start}-${start + len - 1}/${size}`], 'range answer');
    const want = Buffer.alloc(len);
    const fd = fs.openSync(fixture, 'r');
    fs.readSync(fd, want, 0, len, start);
    fs.closeSync(fd);
    assert(Buffer.from(await r.arrayBuffer()).equals(want), 'range bytes');
    assertEq((await fetch(`${local.url}/api/blobs/sha256:${'0'.repeat(64)}`, { method: 'HEAD' })).status, 404, 'missing blob');
    assertEq((await fetch(`${local.url}/api/blobs/sha256:${hex}`, { method: 'HEAD' })).status, 200, 'HEAD blob');
    const status = (headers) => new Promise((resolve) => {
        http.get({ host: '127.0.0.1', port: local.port, path: '/api/version', headers }, (res) => { res.resume(); resolve([res.statusCode, res.headers['access-control-allow-origin']]); });
    });
    assertEq(await status({ Host: 'evil.example:80' }), [403, undefined], 'foreign Host refused');
    assertEq(await status({ Origin: 'http://localhost:3000' }), [200, 'http://localhost:3000'], 'loopback origin allowed');
    assertEq(await status({ Origin: 'https://evil.example' }), [200, undefined], 'other origin gets no CORS header');
});

test('in-process: static files from web/ with MIME types, COOP/COEP, Range, HEAD, 404, no escape', async () => {
    const root = tmpDir('server-web');
    fs.mkdirSync(path.join(root, 'web/sub'), { recursive: true });
    fs.mkdirSync(path.join(root, 'js'), { recursive: true });
    fs.writeFileSync(path.join(root, 'web/index.html'), '<!doctype html><title>rullama</title>');
    fs.writeFileSync(path.join(root, 'web/app.mjs'), 'export {};');
    fs.writeFileSync(path.join(root, 'js/engine.mjs'), 'export const x = 1;');
    fs.writeFileSync(path.join(root, 'secret.txt'), 'no');
    const blob = crypto.randomBytes(4096 + Math.floor(rng() * 4096));
    fs.writeFileSync(path.join(root, 'web/sub/model.gguf'), blob);
    const s = await startServer({ host: '127.0.0.1', port: 0, cpu: true, wasmPath, webRoot: root, log: () => {} });
    try {
        const get = (p, headers = {}, method = 'GET') => new Promise((resolve) => {
            http.request({ host: '127.0.0.1', port: s.port, path: p, method, headers }, (res) => {
                const chunks = [];
                res.on('data', (c) => chunks.push(c));
                res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
            }).end();
        });
        const index = await get('/');
        assertEq([index.status, index.headers['content-type'], index.headers['cross-origin-opener-policy'], index.headers['cross-origin-embedder-policy']],
            [200, 'text/html; charset=utf-8', 'same-origin', 'require-corp'], 'index');
        for (const p of ['/app.mjs', '/web/app.mjs', '/js/engine.mjs']) assertEq((await get(p)).headers['content-type'], 'text/javascript; charset=utf-8', p);
        const n = blob.length;
        const a = Math.floor(rng() * n / 2), b = a + Math.floor(rng() * n / 2);
        for (const [range, lo, hi] of [[`bytes=${a}-${b}`, a, b], [`bytes=${a}-`, a, n - 1], ['bytes=-100', n - 100, n - 1], [`bytes=${a}-${n + 50}`, a, n - 1]]) {
            const r = await get('/sub/model.gguf', { Range: range });
            assertEq([r.status, r.headers['content-range'], r.headers['content-length']], [206, `bytes ${lo}-${hi}/${n}`, String(hi - lo + 1)], range);
            assert(r.body.equals(blob.subarray(lo, hi + 1)), `${range} bytes`);
        }
        assertEq((await get('/sub/model.gguf', { Range: `bytes=${n}-` })).status, 416, 'unsatisfiable');
        const whole = await get('/sub/model.gguf');
        assert(whole.status === 200 && whole.body.equals(blob) && whole.headers['accept-ranges'] === 'bytes', 'whole file');
        const head = await get('/sub/model.gguf', {}, 'HEAD');
        assertEq([head.status, head.headers['content-length'], head.body.length], [200, String(n), 0], 'HEAD');
        for (const p of ['/missing.js', '/../secret.txt', '/%2e%2e/secret.txt', '/sub/..%2f..%2fsecret.txt', '/.hidden']) assertEq((await get(p)).status, 404, p);
        assertEq((await get('/', {}, 'POST')).status, 405, 'POST to a file');
    } finally {
        await s.close();
    }
    await local.close();
});

await run('server-robust');
