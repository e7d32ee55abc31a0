// OpenAI's API as Ollama's compatibility layer serves it (openai/openai.go in
// github.com/ollama/ollama): /v1/models, /v1/chat/completions and
// /v1/completions, mapped onto the session's Ollama-shaped requests. Sampling
// defaults are OpenAI's (temperature 1, top_p 1) as in Ollama's layer.
import crypto from 'node:crypto';
import { manifestTime } from './catalog.mjs';
import { generate, toolCallId } from './generate.mjs';
import { ChunkWriter, HttpError, badRequest, readJson, sendJson } from './http.mjs';
import { parseKeepAlive } from './runner.mjs';
import { checkMessages } from './ollama.mjs';

const NO_VISION = 'images and audio are not supported yet: rullama runs text only for now (vision is not built)';

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const unixNow = () => Math.floor(Date.now() / 1000);
const randomId = (prefix) => `${prefix}-${crypto.randomBytes(12).toString('hex')}`;

// OpenAI's error object; the type follows the status as in Ollama's layer.
export function openaiError(e) {
    const type = e.status === 404 ? 'not_found_error' : e.status >= 400 && e.status < 500 ? 'invalid_request_error' : 'api_error';
    return { error: { message: e.message, type, param: e.param ?? null, code: e.code ?? null } };
}

function checkNumber(body, key, { min = -Infinity, max = Infinity, integer = false } = {}) {
    const v = body[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max)
        throw badRequest(`${key} must be ${integer ? 'an integer' : 'a number'}${Number.isFinite(min) ? ` >= ${min}` : ''}${Number.isFinite(max) ? ` <= ${max}` : ''}`, key);
    return v;
}

function stopList(stop) {
    if (stop === undefined || stop === null) return undefined;
    if (typeof stop === 'string') return [stop];
    if (Array.isArray(stop) && stop.every((s) => typeof s === 'string')) return stop;
    throw badRequest('stop must be a string or an array of strings', 'stop');
}

// Fields common to both endpoints -> Ollama options.
function options(body) {
    const o = {};
    const maxTokens = checkNumber(body, 'max_completion_tokens', { min: 0, integer: true }) ?? checkNumber(body, 'max_tokens', { min: 0, integer: true });
    if (maxTokens !== undefined) o.num_predict = maxTokens;
    o.temperature = checkNumber(body, 'temperature', { min: 0, max: 2 }) ?? 1.0;
    o.top_p = checkNumber(body, 'top_p', { min: 0, max: 1 }) ?? 1.0;
    const seed = checkNumber(body, 'seed', { integer: true });
    if (seed !== undefined) o.seed = seed;
    const fp = checkNumber(body, 'frequency_penalty', { min: -2, max: 2 });
    if (fp !== undefined) o.frequency_penalty = fp;
    const pp = checkNumber(body, 'presence_penalty', { min: -2, max: 2 });
    if (pp !== undefined) o.presence_penalty = pp;
    const stop = stopList(body.stop);
    if (stop) o.stop = stop;
    return o;
}

function checkCommon(body) {
    if (typeof body.model !== 'string' || !body.model) throw badRequest('model is required', 'model');
    if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw badRequest('stream must be a boolean', 'stream');
    if (body.n !== undefined && body.n !== null && body.n !== 1) throw badRequest('n: only one choice per request is supported', 'n');
    if (body.logprobs) throw badRequest('logprobs are not supported yet', 'logprobs');
    if (body.stream_options !== undefined && body.stream_options !== null && !isObject(body.stream_options))
        throw badRequest('stream_options must be an object', 'stream_options');
}

// OpenAI's reasoning effort -> Ollama's think (Ollama's mapping).
function think(body) {
    const effort = body.reasoning?.effort ?? body.reasoning_effort;
    if (effort === undefined || effort === null || effort === '') return undefined;
    const map = { none: false, minimal: 'low', low: 'low', medium: 'medium', high: 'high', max: 'max', xhigh: 'max', ultra: 'max' };
    if (!(effort in map)) throw badRequest(`invalid reasoning effort ${JSON.stringify(effort)}`, 'reasoning_effort');
    return map[effort];
}

// OpenAI messages -> Ollama messages: text parts become messages of their own
// (as in Ollama), tool call arguments are parsed, tool results get tool_name.
export function toOllamaMessages(messages) {
    if (!Array.isArray(messages)) throw badRequest('messages must be an array', 'messages');
    if (!messages.length) throw badRequest("[] is too short - 'messages'", 'messages');
    const out = [];
    const callNames = new Map();
    messages.forEach((m, i) => {
        if (!isObject(m)) throw badRequest(`messages[${i}] must be an object`, 'messages');
        if (typeof m.role !== 'string' || !m.role) throw badRequest(`messages[${i}].role must be a non-empty string`, 'messages');
        let toolCalls;
        if (m.tool_calls !== undefined && m.tool_calls !== null) {
            if (!Array.isArray(m.tool_calls)) throw badRequest(`messages[${i}].tool_calls must be an array`, 'messages');
            toolCalls = m.tool_calls.map((c, j) => {
                if (!isObject(c) || !isObject(c.function) || typeof c.function.name !== 'string')
                    throw badRequest(`messages[${i}].tool_calls[${j}] must have function.name`, 'messages');
                let args = c.function.arguments ?? '{}';
                if (typeof args === 'string') {
                    try {
                        args = JSON.parse(args || '{}');
                    } catch {
                        throw badRequest(`messages[${i}].tool_calls[${j}]: invalid tool call arguments (not JSON)`, 'messages');
                    }
                }
                if (c.id) callNames.set(c.id, c.function.name);
                return { function: { name: c.function.name, arguments: args } };
            });
        }
        const extra = {};
        if (m.role === 'tool') {
            const name = m.name || (m.tool_call_id && callNames.get(m.tool_call_id));
            if (name) extra.tool_name = name;
        }
        if (typeof m.reasoning === 'string' && m.reasoning) extra.thinking = m.reasoning;
        if (typeof m.content === 'string') {
            out.push({ role: m.role, content: m.content, ...extra, ...(toolCalls ? { tool_calls: toolCalls } : {}) });
        } else if (Array.isArray(m.content)) {
            const first = out.length;
            m.content.forEach((part, j) => {
                if (!isObject(part)) throw badRequest(`messages[${i}].content[${j}]: invalid message format`, 'messages');
                if (part.type === 'image_url' || part.type === 'input_audio' || part.type === 'image') throw badRequest(NO_VISION, 'messages');
                if (part.type !== 'text' || typeof part.text !== 'string')
                    throw badRequest(`messages[${i}].content[${j}]: invalid message format (expected {"type":"text","text":...})`, 'messages');
                out.push({ role: m.role, content: part.text });
            });
            if (out.length === first) out.push({ role: m.role, content: '' });
            Object.assign(out[out.length - 1], extra, toolCalls ? { tool_calls: toolCalls } : {});
        } else if ((m.content === undefined || m.content === null) && toolCalls) {
            out.push({ role: m.role, content: '', ...extra, tool_calls: toolCalls });
        } else {
            throw badRequest(`messages[${i}].content must be a string or an array of text parts`, 'messages');
        }
    });
    checkMessages(out);
    return out;
}

// Tool calls in OpenAI's shape: arguments as a JSON string.
const openaiToolCalls = (r) => (r.tool_calls || []).map((c, i) => ({
    index: i,
    id: toolCallId(),
    type: 'function',
    function: { name: c.function.name, arguments: JSON.stringify(c.function.arguments ?? {}) },
}));

const usage = (r) => ({ prompt_tokens: r.prompt_eval_count, completion_tokens: r.eval_count, total_tokens: r.prompt_eval_count + r.eval_count });

async function prepare(server, body) {
    checkCommon(body);
    const keepAliveMs = parseKeepAlive(body.keep_alive);
    const entry = await server.catalog.find(body.model);
    return { entry, keepAliveMs, nCtx: undefined }; // OpenAI has no context size: the server's default
}

// Run and answer: SSE chunks (then [DONE]) or one JSON object.
async function respond(ctx, prep, kind, request, { chunk, finish, whole }) {
    const { res, server, signal, body } = ctx;
    const stream = body.stream === true;
    const out = stream ? new ChunkWriter(res, 'sse') : null;
    const meta = { id: randomId(kind === 'chat' ? 'chatcmpl' : 'cmpl'), created: unixNow(), model: body.model, system_fingerprint: 'fp_rullama' };
    let r;
    try {
        r = await generate(server, {
            kind, body: request, ...prep, signal, stats: ctx.stats,
            onText: stream ? (c, t) => Promise.all(chunk(c, t).map((d) => out.write({ ...meta, ...d }))) : null,
        });
    } catch (e) {
        if (!out?.started) throw e; // still time for a proper status
        ctx.stats.error = e.message;
        await out.write(openaiError(e));
        return out.end();
    }
    if (!stream) return sendJson(res, 200, { ...meta, ...whole(r), usage: usage(r) });
    for (const d of finish(r)) await out.write({ ...meta, ...d });
    if (body.stream_options?.include_usage) await out.write({ ...meta, object: kind === 'chat' ? 'chat.completion.chunk' : 'text_completion', choices: [], usage: usage(r) });
    await out.write('[DONE]');
    out.end();
}

async function chatCompletions(ctx) {
    const body = (ctx.body = await readJson(ctx.req));
    const prep = await prepare(ctx.server, body);
    const request = { messages: toOllamaMessages(body.messages), options: options(body) };
    const th = think(body);
    if (th !== undefined) request.think = th;
    if (body.tools !== undefined && body.tools !== null && !Array.isArray(body.tools)) throw badRequest('tools must be an array', 'tools');
    if (body.tools?.length && body.tool_choice !== 'none') request.tools = body.tools;
    const rf = body.response_format;
    if (rf && rf.type && rf.type !== 'text') throw badRequest(`response_format ${JSON.stringify(rf.type)} (JSON mode and structured outputs) is not supported yet`, 'response_format');
    let first = true;
    const object = 'chat.completion.chunk';
    const role = () => (first ? ((first = false), { role: 'assistant' }) : {});
    await respond(ctx, prep, 'chat', request, {
        chunk: (content, thinking) => {
            const out = [];
            if (thinking) out.push({ object, choices: [{ index: 0, delta: { ...role(), content: '', reasoning: thinking }, finish_reason: null }] });
            if (content) out.push({ object, choices: [{ index: 0, delta: { ...role(), content }, finish_reason: null }] });
            return out;
        },
        finish: (r) => {
            const calls = openaiToolCalls(r);
            const out = [];
            if (calls.length || first) out.push({ object, choices: [{ index: 0, delta: { ...role(), content: '', ...(calls.length ? { tool_calls: calls } : {}) }, finish_reason: null }] });
            const reason = r.done_reason === 'stop' && calls.length ? 'tool_calls' : r.done_reason || 'stop';
            out.push({ object, choices: [{ index: 0, delta: {}, finish_reason: reason }] });
            return out;
        },
        whole: (r) => {
            const calls = openaiToolCalls(r);
            const message = { role: 'assistant', content: r.content };
            if (r.thinking) message.reasoning = r.thinking;
            if (calls.length) message.tool_calls = calls;
            const reason = r.done_reason === 'stop' && calls.length ? 'tool_calls' : r.done_reason || 'stop';
            return { object: 'chat.completion', choices: [{ index: 0, message, finish_reason: reason, logprobs: null }] };
        },
    });
}

// Like Ollama's layer, a completion is /api/generate with the prompt as the
// user turn (the chat template applies); send raw text through /api/generate
// with raw: true when the template must not apply.
async function completions(ctx) {
    const body = (ctx.body = await readJson(ctx.req));
    const prep = await prepare(ctx.server, body);
    if (typeof body.prompt !== 'string') throw badRequest('prompt must be a string', 'prompt');
    if (body.suffix) throw badRequest('suffix (fill-in-the-middle) is not supported by gemma4', 'suffix');
    if (body.echo) throw badRequest('echo is not supported', 'echo');
    if (!body.prompt) throw badRequest('prompt must not be empty', 'prompt');
    const request = { prompt: body.prompt, options: options(body) };
    const object = 'text_completion';
    await respond(ctx, prep, 'generate', request, {
        chunk: (content) => (content ? [{ object, choices: [{ text: content, index: 0, finish_reason: null, logprobs: null }] }] : []),
        finish: (r) => [{ object, choices: [{ text: '', index: 0, finish_reason: r.done_reason || 'stop', logprobs: null }] }],
        whole: (r) => ({ object, choices: [{ text: r.content, index: 0, finish_reason: r.done_reason || 'stop', logprobs: null }] }),
    });
}

function modelObject(m, root) {
    return { id: m.name, object: 'model', created: Math.floor(manifestTime(root, m.full_name).getTime() / 1000), owned_by: m.full_name.split('/')[1] };
}

async function models(ctx) {
    const { models: list, root } = await ctx.server.catalog.list();
    sendJson(ctx.res, 200, { object: 'list', data: list.map((m) => modelObject(m, root)) });
}

async function model(ctx) {
    const name = decodeURIComponent(ctx.url.pathname.slice('/v1/models/'.length));
    const entry = await ctx.server.catalog.find(name);
    sendJson(ctx.res, 200, { ...modelObject(entry, entry.root), id: name });
}

const unsupported = (what) => () => { throw new HttpError(501, `rullama does not implement ${what}`); };

export const openaiRoutes = [
    ['GET', '/v1/models', models],
    ['GET', /^\/v1\/models\/.+$/, model],
    ['POST', '/v1/chat/completions', chatCompletions],
    ['POST', '/v1/completions', completions],
    ['POST', '/v1/embeddings', unsupported('/v1/embeddings')],
    ['POST', '/v1/responses', unsupported('/v1/responses')],
];
