// `rullama serve`: Ollama- and OpenAI-compatible HTTP API over one loaded
// model, plus the browser app's static files. node:http only.
//
//   js/node/server/http.mjs     bodies, JSON answers, NDJSON/SSE writers
//   js/node/server/catalog.mjs  the Ollama store (list, show, name lookup; C)
//   js/node/server/runner.mjs   the loaded model and the FIFO of generations
//   js/node/server/generate.mjs one generation, shared by both APIs
//   js/node/server/ollama.mjs   /api/*
//   js/node/server/openai.mjs   /v1/*
//   js/node/server/static.mjs   the web app (COOP/COEP, Range)
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Catalog } from './server/catalog.mjs';
import { HttpError, sendJson } from './server/http.mjs';
import { ollamaRoutes } from './server/ollama.mjs';
import { openaiError, openaiRoutes } from './server/openai.mjs';
import { AbortedError, Runner } from './server/runner.mjs';
import { serveStatic, staticRoots } from './server/static.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 11435;

// RULLAMA_HOST like OLLAMA_HOST: "host:port", "host", ":port", "[::1]:port",
// optionally with http://. Returns {host, port}.
export function parseHostEnv(value) {
    let v = String(value || '').trim().replace(/^https?:\/\//, '').replace(/\/+$/, '');
    if (!v) return { host: DEFAULT_HOST, port: DEFAULT_PORT };
    let host = v, port = DEFAULT_PORT;
    const m = /^\[([^\]]*)\](?::(\d+))?$/.exec(v) || /^([^:]*):(\d+)$/.exec(v);
    if (m) {
        host = m[1];
        if (m[2] !== undefined) port = Number(m[2]);
    } else if (/^\d+$/.test(v)) {
        host = DEFAULT_HOST;
        port = Number(v);
    }
    return { host: host || DEFAULT_HOST, port };
}

// Origins allowed to call the API from a browser page: loopback pages (any
// port) and RULLAMA_ORIGINS (comma-separated; "*" for any).
function allowedOrigin(origin, extra) {
    if (!origin) return false;
    if (extra.includes('*') || extra.includes(origin)) return true;
    try {
        const u = new URL(origin);
        return ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
    } catch {
        return false;
    }
}

const isLoopback = (host) => host === 'localhost' || host === '::1' || /^127\./.test(host);

// Bound to loopback, refuse Host headers naming anything else (DNS rebinding).
function hostAllowed(hostHeader, bound) {
    if (!isLoopback(bound)) return true;
    if (!hostHeader) return true;
    const name = hostHeader.replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase();
    return isLoopback(name) || name.endsWith('.localhost') || name === bound;
}

export async function startServer({ host = DEFAULT_HOST, port = DEFAULT_PORT, cpu = false, gpu = false, nCtx = 0, wasmPath, webRoot = repoRoot, log = (line) => process.stderr.write(`${line}\n`) } = {}) {
    const wasmModule = await WebAssembly.compile(fs.readFileSync(wasmPath));
    const catalog = new Catalog(wasmModule);
    const runner = new Runner({ wasmModule, cpu, forceGpu: gpu, nCtx: nCtx || 0, log: (m) => log(`rullama: ${m}`) });
    const state = { catalog, runner, nCtx: nCtx || 0 };
    const roots = staticRoots(webRoot);
    const extraOrigins = (process.env.RULLAMA_ORIGINS || '').split(',').map((s) => s.trim()).filter(Boolean);

    const routes = [...ollamaRoutes, ...openaiRoutes].map(([methods, pattern, handler]) => ({
        methods: Array.isArray(methods) ? methods : [methods],
        match: typeof pattern === 'string' ? (p) => p === pattern : (p) => pattern.test(p),
        handler,
    }));

    const server = http.createServer((req, res) => {
        handle(req, res).catch((e) => {
            log(`rullama: internal error: ${e.stack || e}`);
            if (!res.headersSent) sendJson(res, 500, { error: 'internal server error' });
            else res.destroy();
        });
    });

    async function handle(req, res) {
        const t0 = performance.now();
        const stats = {};
        const abort = new AbortController();
        const ctx = { req, res, server: state, stats, body: null, signal: abort.signal };
        // the client is gone (not merely done): stop its generation
        res.on('close', () => { if (!res.writableFinished) abort.abort(); });
        try {
            await dispatch(ctx);
        } finally {
            // one line per request, once its handler is done (a cancelled generation included)
            const ms = (performance.now() - t0).toFixed(0);
            const what = [typeof ctx.body?.model === 'string' ? ctx.body.model.slice(0, 100) : '', stats.tokens, abort.signal.aborted ? 'client went away' : '', stats.error ? `error: ${stats.error}` : ''].filter(Boolean).join(' ');
            const status = !res.headersSent && abort.signal.aborted ? 499 : res.statusCode; // 499: closed before an answer
            log(`${new Date().toISOString()} ${req.method} ${req.url.slice(0, 200)} ${status} ${ms}ms${what ? ` ${what}` : ''}`);
        }
    }

    async function dispatch(ctx) {
        const { req, res } = ctx;
        let url;
        try {
            url = new URL(req.url, 'http://localhost');
        } catch {
            return sendJson(res, 400, { error: 'malformed request URL' });
        }
        ctx.url = url;
        if (!hostAllowed(req.headers.host, host)) return sendJson(res, 403, { error: `host "${req.headers.host}" is not allowed` });

        const origin = req.headers.origin;
        if (allowedOrigin(origin, extraOrigins)) {
            res.setHeader('Access-Control-Allow-Origin', origin);
            res.setHeader('Vary', 'Origin');
        }
        if (req.method === 'OPTIONS') {
            res.writeHead(204, {
                'Access-Control-Allow-Methods': 'GET, POST, DELETE, HEAD, OPTIONS',
                'Access-Control-Allow-Headers': 'Authorization, Content-Type, User-Agent, Accept, X-Requested-With, X-Stainless-Lang, X-Stainless-Package-Version, X-Stainless-OS, X-Stainless-Arch, X-Stainless-Runtime, X-Stainless-Runtime-Version, X-Stainless-Async, X-Stainless-Retry-Count, X-Stainless-Timeout',
                'Access-Control-Max-Age': '86400',
            });
            return res.end();
        }

        const p = url.pathname;
        const isApi = p.startsWith('/api/') || p === '/api' || p.startsWith('/v1/') || p === '/v1';
        const openai = p.startsWith('/v1');
        const fail = (e) => {
            const status = e instanceof HttpError ? e.status : 500;
            if (!(e instanceof HttpError)) log(`rullama: ${req.method} ${p}: ${e.stack || e}`);
            const err = e instanceof HttpError ? e : new HttpError(500, e.message || String(e));
            if (status >= 500) ctx.stats.error = err.message.slice(0, 300);
            if (res.headersSent) return res.destroy();
            const headers = status === 413 ? { Connection: 'close' } : {};
            sendJson(res, status, openai ? openaiError(err) : { error: err.message }, headers);
        };
        if (!isApi) {
            if (req.method !== 'GET' && req.method !== 'HEAD') {
                res.setHeader('Allow', 'GET, HEAD');
                return fail(new HttpError(405, `method ${req.method} is not allowed for ${p}`));
            }
            return serveStatic(req, res, roots, p);
        }
        const matching = routes.filter((r) => r.match(p));
        if (!matching.length) return fail(new HttpError(404, `404 page not found: ${p}`));
        const route = matching.find((r) => r.methods.includes(req.method) || (req.method === 'HEAD' && r.methods.includes('GET')));
        if (!route) {
            res.setHeader('Allow', [...new Set(matching.flatMap((r) => r.methods))].join(', '));
            req.resume();
            return fail(new HttpError(405, `method ${req.method} is not allowed for ${p}`));
        }
        try {
            await route.handler(ctx);
        } catch (e) {
            if (e instanceof AbortedError) return res.destroy(); // its client is gone
            fail(e);
        }
    }

    await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => { server.off('error', reject); resolve(); });
    });
    server.keepAliveTimeout = 5000;
    const addr = server.address();
    return {
        server,
        state,
        url: `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`,
        port: addr.port,
        close: async () => {
            const closed = new Promise((resolve) => server.close(resolve));
            server.closeAllConnections(); // cancels generations in flight
            await runner.close();
            await closed;
        },
    };
}

// bin/rullama serve [--host H] [--port P] [--cpu | --gpu] [--ctx N]
export async function serve(args, { wasmPath }) {
    const opt = (name) => {
        const i = args.indexOf(name);
        if (i >= 0) return args[i + 1];
        const kv = args.find((a) => a.startsWith(`${name}=`));
        return kv ? kv.slice(name.length + 1) : undefined;
    };
    const known = new Set(['serve', '--host', '--port', '--cpu', '--gpu', '--ctx']);
    for (let i = 1; i < args.length; i++) {
        const a = args[i].split('=')[0];
        if (!known.has(a)) {
            process.stderr.write(`rullama serve: unknown argument '${args[i]}'\nusage: rullama serve [--host H] [--port P] [--cpu | --gpu] [--ctx N]   (env RULLAMA_HOST=host:port)\n`);
            return 2;
        }
        if (['--host', '--port', '--ctx'].includes(args[i])) i++;
    }
    const env = parseHostEnv(process.env.RULLAMA_HOST);
    const host = opt('--host') ?? env.host;
    const port = opt('--port') !== undefined ? Number(opt('--port')) : env.port;
    const nCtx = Number(opt('--ctx') || 0);
    if (!Number.isInteger(port) || port < 0 || port > 65535 || !Number.isInteger(nCtx) || nCtx < 0) {
        process.stderr.write('rullama serve: --port must be 0..65535 and --ctx a positive integer\n');
        return 2;
    }
    if (!fs.existsSync(wasmPath)) throw new Error(`${wasmPath} is missing: run 'make' first`);
    // a bug must not take the server down with every client's request in it
    process.on('unhandledRejection', (e) => process.stderr.write(`rullama: unhandled rejection: ${e?.stack || e}\n`));
    process.on('uncaughtException', (e) => process.stderr.write(`rullama: uncaught exception: ${e?.stack || e}\n`));
    const s = await startServer({ host, port, cpu: args.includes('--cpu'), gpu: args.includes('--gpu'), nCtx, wasmPath });
    process.stderr.write(`rullama serve: listening on ${s.url} (${args.includes('--cpu') ? 'CPU engine' : args.includes('--gpu') ? 'GPU engine' : 'GPU engine, CPU if there is no hardware WebGPU adapter'}; Ollama API at /api, OpenAI API at /v1)\n`);
    return new Promise((resolve) => {
        const stop = (sig) => {
            process.stderr.write(`rullama serve: ${sig}, shutting down\n`);
            s.close().then(() => resolve(0));
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
    });
}
