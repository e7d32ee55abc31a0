// HTTP plumbing for the server: bounded request bodies, JSON answers, and
// streaming writers (Ollama's NDJSON, OpenAI's server-sent events) that send
// their headers with the first chunk, so an error before any output still gets
// a proper status code.

export const BODY_LIMIT = 32 << 20; // 32 MiB, far above any real chat request

// An error with an HTTP status; `param`/`code` feed OpenAI's error object.
export class HttpError extends Error {
    constructor(status, message, { param = null, code = null } = {}) {
        super(message);
        this.status = status;
        this.param = param;
        this.code = code;
    }
}

export const badRequest = (message, param = null) => new HttpError(400, message, { param });

// Read the whole body, refusing more than `limit` bytes (413). The excess is
// read and dropped rather than buffered, and the answer waits for the end of
// the upload, so the client is still listening when the 413 comes; a body
// past 4 x limit is cut off by closing the connection.
export function readBody(req, limit = BODY_LIMIT) {
    return new Promise((resolve, reject) => {
        const declared = Number(req.headers['content-length']);
        const tooBig = () => new HttpError(413, `request body is over the limit of ${limit} bytes${Number.isFinite(declared) ? ` (${declared})` : ''}`);
        if (Number.isFinite(declared) && declared > 4 * limit) {
            reject(tooBig());
            req.destroy();
            return;
        }
        const chunks = [];
        let size = 0, done = false;
        req.on('data', (c) => {
            size += c.length;
            if (size <= limit) chunks.push(c);
            else if (size > 4 * limit && !done) {
                done = true;
                reject(tooBig());
                req.destroy();
            }
        });
        req.on('end', () => {
            if (done) return;
            done = true;
            if (size > limit) reject(tooBig());
            else resolve(Buffer.concat(chunks));
        });
        req.on('error', (e) => { if (!done) { done = true; reject(new HttpError(400, `reading the request: ${e.message}`)); } });
        req.on('close', () => { if (!done) { done = true; reject(new HttpError(400, 'the request body ended early')); } });
    });
}

// The body as a JSON object. Empty -> 400 "missing request body" (Ollama's words).
export async function readJson(req, limit = BODY_LIMIT) {
    const buf = await readBody(req, limit);
    const text = buf.toString('utf8');
    if (!text.trim()) throw badRequest('missing request body');
    let value;
    try {
        value = JSON.parse(text);
    } catch (e) {
        throw badRequest(`invalid JSON in the request body: ${e.message}`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badRequest('the request body must be a JSON object');
    return value;
}

export function sendJson(res, status, value, headers = {}) {
    const body = Buffer.from(JSON.stringify(value));
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length, ...headers });
    res.end(body);
}

export function sendText(res, status, text, headers = {}) {
    const body = Buffer.from(text);
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length, ...headers });
    res.end(body);
}

// Streams one response as lines: NDJSON (`{...}\n`) or SSE (`data: {...}\n\n`).
// Waits for the socket to drain so a slow reader does not grow memory.
export class ChunkWriter {
    constructor(res, kind) {
        this.res = res;
        this.kind = kind; // 'ndjson' | 'sse'
        this.started = false;
    }

    get closed() { return this.res.destroyed || this.res.writableEnded; }

    start() {
        if (this.started) return;
        this.started = true;
        this.res.writeHead(200, this.kind === 'sse'
            ? { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive' }
            : { 'Content-Type': 'application/x-ndjson; charset=utf-8' });
    }

    async write(value) {
        if (this.closed) return;
        this.start();
        const text = this.kind === 'sse' ? `data: ${typeof value === 'string' ? value : JSON.stringify(value)}\n\n` : `${JSON.stringify(value)}\n`;
        if (!this.res.write(text)) await drained(this.res);
    }

    end() {
        if (this.closed) return;
        this.start();
        this.res.end();
    }
}

function drained(res) {
    return new Promise((resolve) => {
        const done = () => { res.off('drain', done); res.off('close', done); resolve(); };
        res.on('drain', done);
        res.on('close', done);
    });
}

// Ollama-style durations and times.
export const msToNs = (ms) => Math.max(0, Math.round(ms * 1e6));
export const isoNow = () => new Date().toISOString();
