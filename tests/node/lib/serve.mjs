// Starting `rullama serve` for tests: a child process on an ephemeral port
// (--port 0; the URL is read from its "listening on" line), its stderr kept
// for assertions on the request log.
import { spawn } from 'node:child_process';
import path from 'node:path';

export function spawnServe(repoRoot, { args = ['--cpu'], env = {}, port = '0' } = {}) {
    const proc = spawn(process.execPath, [path.join(repoRoot, 'bin/rullama'), 'serve', ...(port === null ? [] : ['--port', port]), ...args], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    let exited = null;
    proc.on('exit', (code, signal) => { exited = { code, signal }; });
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start:\n${log}`)), 20000);
        proc.stderr.on('data', (d) => {
            log += d;
            const m = /listening on (http:\/\/\S+)/.exec(log);
            if (m && timer) {
                clearTimeout(timer);
                resolve({
                    url: m[1],
                    proc,
                    log: () => log,
                    alive: () => exited === null,
                    // wait until the log matches re (the log line comes when a response closes)
                    waitLog: async (re, ms = 5000) => {
                        const t0 = Date.now();
                        while (!re.test(log)) {
                            if (Date.now() - t0 > ms) throw new Error(`log never matched ${re}:\n${log}`);
                            await new Promise((r) => setTimeout(r, 20));
                        }
                        return re.exec(log);
                    },
                    stop: () => new Promise((r) => { if (exited) return r(exited); proc.once('exit', (code, signal) => r({ code, signal })); proc.kill('SIGTERM'); }),
                });
            }
        });
        proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`serve exited with ${code}:\n${log}`)); });
    });
}
