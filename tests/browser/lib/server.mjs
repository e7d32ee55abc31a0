// A small static server for the browser suites and the screenshot script:
// serves the repository root (the app is /web/), with the COOP/COEP headers
// `rullama serve` sends, the MIME types module workers and wasm need, and
// byte ranges (the app's URL flow streams models with Range requests).
// options: files {'/url-path': '/file/on/disk'} and dirs {'/prefix/': '/dir'}
// expose things outside the tree; slow {'/url-path': ms} delays each response
// (to test cancelling a load); log, an array, receives {path, method, range}.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const MIME = {
    '.html': 'text/html; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8', '.wasm': 'application/wasm', '.json': 'application/json', '.png': 'image/png',
};

export function serve(root, { files = {}, dirs = {}, slow = {}, log = null } = {}) {
    const server = http.createServer(async (req, res) => {
        const url = new URL(req.url, 'http://x');
        const rel = decodeURIComponent(url.pathname);
        log?.push({ path: rel, method: req.method, range: req.headers.range });
        const headers = {
            'Cross-Origin-Opener-Policy': 'same-origin',
            'Cross-Origin-Embedder-Policy': 'require-corp',
            'Cache-Control': 'no-store',
            'Accept-Ranges': 'bytes',
        };
        const inside = (dir, p) => path.join(dir, path.normalize(`/${p}`));
        const prefix = Object.keys(dirs).find((d) => rel.startsWith(d));
        let st, file = files[rel] || (prefix ? inside(dirs[prefix], rel.slice(prefix.length)) : inside(root, rel));
        if (slow[rel]) await new Promise((r) => setTimeout(r, slow[rel]));
        try { st = fs.statSync(file); } catch { st = null; }
        if (st?.isDirectory()) {
            file = path.join(file, 'index.html');
            try { st = fs.statSync(file); } catch { st = null; }
        }
        if (!st || !st.isFile()) {
            res.writeHead(404, headers).end('not found');
            return;
        }
        headers['Content-Type'] = MIME[path.extname(file)] || 'application/octet-stream';
        let start = 0, end = st.size - 1, status = 200;
        const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range || '');
        if (m) {
            if (m[1]) { start = Number(m[1]); if (m[2]) end = Math.min(end, Number(m[2])); } else start = st.size - Number(m[2]);
            if (start > end || start >= st.size) {
                res.writeHead(416, { ...headers, 'Content-Range': `bytes */${st.size}` }).end();
                return;
            }
            status = 206;
            headers['Content-Range'] = `bytes ${start}-${end}/${st.size}`;
        }
        headers['Content-Length'] = end - start + 1;
        res.writeHead(status, headers);
        if (req.method === 'HEAD' || st.size === 0) res.end();
        else fs.createReadStream(file, { start, end }).pipe(res);
    });
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
        resolve({ url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) });
    }));
}
