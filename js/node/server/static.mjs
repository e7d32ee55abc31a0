// Static files for the browser app. URL prefixes map onto repository folders:
// /js/ -> js/ (the engine loader and sessions the app imports), /build/wasm/ ->
// build/wasm/ (rullama.wasm), /web/ and everything else -> web/. Every answer
// carries the cross-origin isolation headers (COOP/COEP) the app needs for
// SharedArrayBuffer, and single byte ranges are honoured so the app can read a
// large GGUF by parts.
import fs from 'node:fs';
import path from 'node:path';
import { sendText } from './http.mjs';

const MIME = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8',
    '.mjs': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
    '.json': 'application/json; charset=utf-8',
    '.map': 'application/json; charset=utf-8',
    '.wasm': 'application/wasm',
    '.wgsl': 'text/plain; charset=utf-8',
    '.txt': 'text/plain; charset=utf-8',
    '.md': 'text/markdown; charset=utf-8',
    '.svg': 'image/svg+xml',
    '.png': 'image/png',
    '.jpg': 'image/jpeg',
    '.jpeg': 'image/jpeg',
    '.gif': 'image/gif',
    '.webp': 'image/webp',
    '.ico': 'image/x-icon',
    '.woff2': 'font/woff2',
    '.webmanifest': 'application/manifest+json',
    '.gguf': 'application/octet-stream',
};

export const ISOLATION_HEADERS = {
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
};

export function staticRoots(repoRoot) {
    return [
        { prefix: '/js/', dir: path.join(repoRoot, 'js') },
        { prefix: '/build/wasm/', dir: path.join(repoRoot, 'build/wasm') },
        { prefix: '/web/', dir: path.join(repoRoot, 'web') },
        { prefix: '/', dir: path.join(repoRoot, 'web') },
    ];
}

// The file for a URL path, or null (outside every root, hidden, or missing).
export function resolveStatic(roots, urlPath) {
    let decoded;
    try {
        decoded = decodeURIComponent(urlPath);
    } catch {
        return null;
    }
    if (decoded.includes('\0')) return null;
    const root = roots.find((r) => decoded.startsWith(r.prefix));
    if (!root) return null;
    const rel = decoded.slice(root.prefix.length);
    if (rel.split('/').some((part) => part.startsWith('.'))) return null; // no dotfiles, no ..
    let file = path.resolve(root.dir, rel);
    if (file !== root.dir && !file.startsWith(root.dir + path.sep)) return null;
    let st = fs.statSync(file, { throwIfNoEntry: false });
    if (st?.isDirectory()) {
        file = path.join(file, 'index.html');
        st = fs.statSync(file, { throwIfNoEntry: false });
    }
    return st?.isFile() ? { file, size: st.size, mtime: st.mtime } : null;
}

// "bytes=a-b" | "bytes=a-" | "bytes=-n" -> {start, end} (inclusive); null when
// absent or not a single range (then the whole file is sent); 'unsatisfiable'.
export function parseRange(header, size) {
    if (!header) return null;
    const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
    if (!m || (m[1] === '' && m[2] === '')) return null;
    let start, end;
    if (m[1] === '') {
        const n = Number(m[2]);
        if (n === 0) return 'unsatisfiable';
        start = Math.max(0, size - n);
        end = size - 1;
    } else {
        start = Number(m[1]);
        end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
        if (m[2] !== '' && Number(m[2]) < start) return null; // malformed: ignore, as RFC 9110 allows
    }
    if (start >= size) return 'unsatisfiable';
    return { start, end };
}

// Send a file (GET or HEAD) with Range support. Returns false when the path is
// not served here.
export function sendFile(req, res, found, { type, headers = {} } = {}) {
    const { file, size, mtime } = found;
    const base = {
        'Content-Type': type || MIME[path.extname(file).toLowerCase()] || 'application/octet-stream',
        'Accept-Ranges': 'bytes',
        'Last-Modified': mtime.toUTCString(),
        'Cache-Control': 'no-cache',
        ...ISOLATION_HEADERS,
        ...headers,
    };
    const range = parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
        res.writeHead(416, { ...base, 'Content-Range': `bytes */${size}`, 'Content-Length': 0 });
        res.end();
        return;
    }
    const { start, end } = range || { start: 0, end: size - 1 };
    const length = size === 0 ? 0 : end - start + 1;
    res.writeHead(range ? 206 : 200, {
        ...base,
        'Content-Length': length,
        ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (req.method === 'HEAD' || length === 0) {
        res.end();
        return;
    }
    const stream = fs.createReadStream(file, { start, end });
    stream.on('error', () => res.destroy());
    res.on('close', () => stream.destroy());
    stream.pipe(res);
}

export function serveStatic(req, res, roots, urlPath) {
    const found = resolveStatic(roots, urlPath);
    if (found) return sendFile(req, res, found);
    if (urlPath === '/') {
        // No app built yet: answer like Ollama's root, which clients use as a liveness probe.
        return sendText(res, 200, 'rullama is running', ISOLATION_HEADERS);
    }
    return sendText(res, 404, `404 page not found: ${urlPath}`, ISOLATION_HEADERS);
}
