// Node host adapter for js/engine.mjs: synchronous fs, stdio and environment.
import fs from 'node:fs';
import path from 'node:path';

export function nodeHost({ out, readLine } = {}) {
    const files = new Map();
    let stdinBuf = Buffer.alloc(0), stdinEof = false;
    const defaultReadLine = () => {
        for (;;) {
            const nl = stdinBuf.indexOf(10);
            if (nl >= 0) {
                const line = stdinBuf.subarray(0, nl).toString('utf8');
                stdinBuf = stdinBuf.subarray(nl + 1);
                return line;
            }
            if (stdinEof) {
                if (!stdinBuf.length) return null;
                const line = stdinBuf.toString('utf8');
                stdinBuf = Buffer.alloc(0);
                return line;
            }
            const chunk = Buffer.alloc(65536);
            let n = 0;
            try {
                n = fs.readSync(0, chunk, 0, chunk.length, null);
            } catch (e) {
                if (e.code === 'EAGAIN') continue;
                if (e.code === 'EOF') n = 0; else throw e;
            }
            if (n === 0) stdinEof = true;
            else stdinBuf = Buffer.concat([stdinBuf, chunk.subarray(0, n)]);
        }
    };
    return {
        open(p) {
            try {
                const st = fs.statSync(p);
                if (!st.isFile()) return { error: 'not a regular file' };
                const fd = fs.openSync(p, 'r');
                files.set(fd, p);
                return { fd, size: st.size };
            } catch (e) {
                return { error: e.code === 'ENOENT' ? 'no such file' : e.message, notFound: e.code === 'ENOENT' };
            }
        },
        read(fd, position, view) {
            try {
                let done = 0;
                while (done < view.length) {
                    const n = fs.readSync(fd, view, done, view.length - done, position + done);
                    if (n === 0) break;
                    done += n;
                }
                return done;
            } catch {
                return -1;
            }
        },
        // Asynchronous reads run on libuv's thread pool, so uploads keep several in flight.
        readAsync(fd, position, view) {
            return new Promise((resolve, reject) => {
                let done = 0;
                const more = () => {
                    // a view whose buffer went away (an unmapped staging buffer) ends as a short read
                    if (!view.length) return resolve(done);
                    try {
                        fs.read(fd, view, done, view.length - done, position + done, (e, n) => {
                            if (e) return reject(e);
                            done += n;
                            if (n === 0 || done === view.length) resolve(done);
                            else more();
                        });
                    } catch (e) {
                        reject(e);
                    }
                };
                more();
            });
        },
        close(fd) {
            if (files.delete(fd)) fs.closeSync(fd);
        },
        listDir(p) {
            try {
                return fs.readdirSync(p, { withFileTypes: true }).map((d) => ({
                    name: d.name,
                    isDir: d.isDirectory() || (d.isSymbolicLink() && fs.statSync(path.join(p, d.name), { throwIfNoEntry: false })?.isDirectory()),
                }));
            } catch {
                return null;
            }
        },
        create(p) {
            try {
                const fd = fs.openSync(p, 'w');
                files.set(fd, p);
                return fd;
            } catch {
                return -1;
            }
        },
        write(fd, view) {
            try {
                let done = 0;
                while (done < view.length) done += fs.writeSync(fd, view, done, view.length - done);
                return done;
            } catch {
                return -1;
            }
        },
        mkdirs(p) {
            try {
                fs.mkdirSync(p, { recursive: true });
                return 0;
            } catch {
                return -1;
            }
        },
        rename(from, to) {
            try {
                fs.renameSync(from, to);
                return 0;
            } catch {
                return -1;
            }
        },
        out: out || ((stream, text) => writeAll(stream === 2 ? 2 : 1, text)),
        readLine: readLine || defaultReadLine,
        getenv: (name) => process.env[name],
    };
}

// Synchronous so output is complete and ordered even if the process exits right after.
function writeAll(fd, text) {
    const buf = Buffer.from(text, 'utf8');
    let done = 0;
    while (done < buf.length) {
        try {
            done += fs.writeSync(fd, buf, done, buf.length - done);
        } catch (e) {
            if (e.code !== 'EAGAIN') throw e;
        }
    }
}
