// Ollama's API (docs/api.md in github.com/ollama/ollama): version, tags, show,
// ps, generate, chat. Request bodies are checked here for shape; the engine
// checks option values and renders the gemma4 chat format.
import fs from 'node:fs';
import path from 'node:path';
import { bareDigest, details, manifestTime } from './catalog.mjs';
import { contextSize, generate, metrics, toolCallId } from './generate.mjs';
import { ChunkWriter, HttpError, badRequest, isoNow, readJson, sendJson } from './http.mjs';
import { sendFile } from './static.mjs';
import { parseKeepAlive } from './runner.mjs';

export const VERSION = '0.1.0';
const DEFAULT_CTX = 8192; // the engine's default when no num_ctx is asked for (src/session.c)

const NO_VISION = 'images are not supported yet: rullama runs text only for now (vision is not built)';

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function optionalType(body, key, type) {
    const v = body[key];
    if (v === undefined || v === null) return;
    if (type === 'array' ? !Array.isArray(v) : type === 'object' ? !isObject(v) : typeof v !== type)
        throw badRequest(`${key} must be ${type === 'array' ? 'an array' : type === 'object' ? 'an object' : `a ${type}`}`, key);
}

function checkCommon(body) {
    if (typeof body.model !== 'string' || !body.model) throw badRequest('model is required', 'model');
    optionalType(body, 'stream', 'boolean');
    optionalType(body, 'options', 'object');
    const t = body.think;
    if (t !== undefined && t !== null && typeof t !== 'boolean' && !['low', 'medium', 'high', 'max'].includes(t))
        throw badRequest(`think must be true, false, "low", "medium", "high" or "max", got ${JSON.stringify(t)}`, 'think');
    const f = body.format;
    if (f !== undefined && f !== null && f !== '')
        throw badRequest('format (JSON mode and structured outputs) is not supported yet', 'format');
    if (Array.isArray(body.images) && body.images.length) throw badRequest(NO_VISION, 'images');
}

// Messages in Ollama's shape: role, content (string), thinking, tool_calls, tool_name.
export function checkMessages(messages) {
    messages.forEach((m, i) => {
        if (!isObject(m)) throw badRequest(`messages[${i}] must be an object`, 'messages');
        if (typeof m.role !== 'string' || !m.role) throw badRequest(`messages[${i}].role must be a non-empty string`, 'messages');
        if (m.content !== undefined && m.content !== null && typeof m.content !== 'string')
            throw badRequest(`messages[${i}].content must be a string`, 'messages');
        if (Array.isArray(m.images) && m.images.length) throw badRequest(NO_VISION, 'messages');
        if (m.tool_calls !== undefined && m.tool_calls !== null && !Array.isArray(m.tool_calls))
            throw badRequest(`messages[${i}].tool_calls must be an array`, 'messages');
    });
}

// Shared by /api/chat and /api/generate: the store entry, context size and keep_alive.
async function prepare(server, body) {
    checkCommon(body);
    const keepAliveMs = parseKeepAlive(body.keep_alive);
    const nCtx = contextSize(body.options);
    const entry = await server.catalog.find(body.model);
    return { entry, keepAliveMs, nCtx };
}

// Ollama answers an empty chat/prompt by loading (or, with keep_alive 0, unloading) the model.
async function loadOnly(ctx, prep, shape) {
    const r = await ctx.server.runner.load({ ...prep, signal: ctx.signal });
    sendJson(ctx.res, 200, { model: ctx.body.model, created_at: isoNow(), ...shape, done_reason: r.doneReason, done: true });
}

// Stream or collect one generation in Ollama's shape. piece(content, thinking)
// and final(result, streamed) build the kind-specific parts of each chunk;
// before(result) gives chunks streamed ahead of the final one.
async function respond(ctx, prep, kind, body, { piece, final, before }) {
    const { res, server, signal } = ctx;
    const stream = ctx.body.stream !== false;
    const out = stream ? new ChunkWriter(res, 'ndjson') : null;
    const base = () => ({ model: ctx.body.model, created_at: isoNow() });
    let r;
    try {
        r = await generate(server, {
            kind, body, ...prep, signal, stats: ctx.stats,
            onText: stream ? (c, t) => out.write({ ...base(), ...piece(c, t), done: false }) : null,
        });
    } catch (e) {
        if (!out?.started) throw e; // still time for a proper status
        ctx.stats.error = e.message;
        await out.write({ error: e.message });
        return out.end();
    }
    const last = { ...base(), ...final(r, stream), done: true, done_reason: r.done_reason, ...metrics(r) };
    if (!stream) return sendJson(res, 200, last);
    for (const p of before?.(r) || []) await out.write({ ...base(), ...p, done: false });
    await out.write(last);
    out.end();
}

// Tool calls as Ollama returns them: ids added, arguments as objects.
const toolCalls = (r) => (r.tool_calls || []).map((c) => ({ id: toolCallId(), function: c.function }));

async function chat(ctx) {
    const body = (ctx.body = await readJson(ctx.req));
    const prep = await prepare(ctx.server, body);
    const messages = body.messages ?? [];
    if (!Array.isArray(messages)) throw badRequest('messages must be an array', 'messages');
    checkMessages(messages);
    optionalType(body, 'tools', 'array');
    if (!messages.length) return loadOnly(ctx, prep, { message: { role: 'assistant', content: '' } });
    const req = { messages, think: body.think ?? undefined, options: body.options ?? undefined };
    if (body.tools?.length) req.tools = body.tools;
    await respond(ctx, prep, 'chat', req, {
        piece: (content, thinking) => ({ message: { role: 'assistant', content, ...(thinking ? { thinking } : {}) } }),
        final: (r, streamed) => {
            const message = { role: 'assistant', content: streamed ? '' : r.content };
            if (streamed) return { message };
            if (r.thinking) message.thinking = r.thinking;
            const calls = toolCalls(r);
            if (calls.length) message.tool_calls = calls;
            return { message };
        },
        // tool calls are parsed whole: streamed in one chunk of their own before the last, as Ollama does
        before: (r) => {
            const calls = toolCalls(r);
            return calls.length ? [{ message: { role: 'assistant', content: '', tool_calls: calls } }] : [];
        },
    });
}

async function generateRoute(ctx) {
    const body = (ctx.body = await readJson(ctx.req));
    const prep = await prepare(ctx.server, body);
    for (const key of ['prompt', 'system', 'suffix', 'template']) optionalType(body, key, 'string');
    optionalType(body, 'raw', 'boolean');
    if (body.suffix) throw badRequest('suffix (fill-in-the-middle) is not supported by gemma4', 'suffix');
    if (body.template) throw badRequest('template is not supported: rullama renders the gemma4 chat format itself', 'template');
    if (body.raw && body.system) throw badRequest('raw mode does not support template, system, or context', 'raw');
    if (!body.prompt) return loadOnly(ctx, prep, { response: '' });
    const req = { prompt: body.prompt, raw: body.raw || undefined, system: body.system ?? undefined, think: body.think ?? undefined, options: body.options ?? undefined };
    await respond(ctx, prep, 'generate', req, {
        piece: (content, thinking) => ({ response: content, ...(thinking ? { thinking } : {}) }),
        final: (r, streamed) => ({ response: streamed ? '' : r.content, ...(!streamed && r.thinking ? { thinking: r.thinking } : {}) }),
    });
}

async function tags(ctx) {
    const { models, root } = await ctx.server.catalog.list();
    sendJson(ctx.res, 200, {
        models: models.map((m) => ({
            name: m.name,
            model: m.name,
            modified_at: manifestTime(root, m.full_name).toISOString(),
            size: m.size,
            digest: m.digest,
            details: details(m),
        })),
    });
}

async function show(ctx) {
    const body = (ctx.body = await readJson(ctx.req));
    const name = body.model ?? body.name; // "name" is the older spelling
    if (typeof name !== 'string' || !name) throw badRequest('model is required', 'model');
    optionalType(body, 'verbose', 'boolean');
    const entry = await ctx.server.catalog.find(name);
    sendJson(ctx.res, 200, await ctx.server.catalog.show(entry, body.verbose === true));
}

function ps(ctx) {
    const l = ctx.server.runner.loaded;
    const models = [];
    if (l) {
        models.push({
            name: l.entry.name,
            model: l.entry.name,
            size: l.entry.size,
            digest: bareDigest(l.entry.model_digest),
            details: details(l.entry),
            expires_at: (l.expiresAt || new Date()).toISOString(),
            size_vram: l.gpu ? l.entry.size : 0,
            context_length: l.nCtx || DEFAULT_CTX,
        });
    }
    sendJson(ctx.res, 200, { models });
}

// HEAD/GET /api/blobs/sha256:<hex>: Ollama answers HEAD (does the blob
// exist); GET, our addition, serves its bytes with Range support so the
// browser app can read a store model through the server.
async function blob(ctx) {
    const digest = decodeURIComponent(ctx.url.pathname.slice('/api/blobs/'.length));
    if (!/^sha256[:-][0-9a-fA-F]{64}$/.test(digest)) throw badRequest(`"${digest}" is not a sha256 digest`, 'digest');
    const { root } = await ctx.server.catalog.list();
    const file = path.join(root, 'blobs', `sha256-${digest.slice(7)}`);
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (!st?.isFile()) throw new HttpError(404, `blob "${digest}" not found`);
    sendFile(ctx.req, ctx.res, { file, size: st.size, mtime: st.mtime }, { type: 'application/octet-stream' });
}

const unsupported = (what) => () => { throw new HttpError(501, `rullama does not implement ${what}; use Ollama itself for that`); };

export const ollamaRoutes = [
    ['GET', '/api/version', (ctx) => sendJson(ctx.res, 200, { version: VERSION })],
    ['GET', '/api/tags', tags],
    ['POST', '/api/show', show],
    ['GET', '/api/ps', ps],
    ['POST', '/api/generate', generateRoute],
    ['POST', '/api/chat', chat],
    [['GET', 'HEAD'], /^\/api\/blobs\/[^/]+$/, blob],
    ...['pull', 'push', 'create', 'copy', 'delete', 'embed', 'embeddings'].map((n) =>
        [n === 'delete' ? 'DELETE' : 'POST', `/api/${n}`, unsupported(`/api/${n}`)]),
];
