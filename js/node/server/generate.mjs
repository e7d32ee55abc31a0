// One generation on the runner's queue, shared by the Ollama and OpenAI
// routes (both speak to the session in Ollama's request shape). Errors the
// engine raises while starting a request (bad options, a prompt longer than
// the context) are the client's (400); errors while generating are 500.
import { HttpError, badRequest, msToNs } from './http.mjs';

const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

// options.num_ctx selects the context size (a reload when it changes; absent:
// the server's default); the rest of the options go to the engine, which
// validates them.
export function contextSize(options) {
    if (options === undefined || options === null) return undefined;
    if (typeof options !== 'object' || Array.isArray(options)) throw badRequest('options must be an object', 'options');
    const n = options.num_ctx;
    if (n === undefined || n === null) return undefined;
    if (!Number.isInteger(n) || n <= 0) throw badRequest(`options.num_ctx must be a positive integer, got ${JSON.stringify(n)}`, 'options.num_ctx');
    return n;
}

// Returns the session's result plus loadMs and totalMs; onText(content, thinking)
// streams. `stats` (optional) receives what the request log line reports.
export async function generate(server, { kind, entry, body, nCtx, keepAliveMs, signal, onText, stats = {} }) {
    const t0 = performance.now();
    return server.runner.submit({
        entry, nCtx, keepAliveMs, signal,
        work: async (session, { loadMs }) => {
            let started = false;
            let result;
            try {
                result = await session.run(kind, body, {
                    onText,
                    signal,
                    onStep: () => { started = true; return yieldToLoop(); },
                });
            } catch (e) {
                if (e instanceof WebAssembly.RuntimeError) throw Object.assign(new HttpError(500, `engine error: ${e.message}`), { trap: true });
                throw started ? new HttpError(500, e.message) : badRequest(e.message);
            }
            // Ollama counts the whole prompt, cached prefix included
            result.prompt_eval_count = result.prompt_tokens ?? result.prompt_eval_count;
            stats.tokens = `${result.prompt_eval_count}+${result.eval_count} tok`;
            if (signal?.aborted) stats.cancelled = true;
            return { ...result, loadMs, totalMs: performance.now() - t0 };
        },
    });
}

// Ollama's final-chunk statistics.
export function metrics(r) {
    return {
        total_duration: msToNs(r.totalMs),
        load_duration: msToNs(r.loadMs),
        prompt_eval_count: r.prompt_eval_count,
        prompt_eval_duration: Math.round(r.prompt_eval_duration),
        eval_count: r.eval_count,
        eval_duration: Math.round(r.eval_duration),
    };
}

// "call_" and 8 lowercase letters/digits, like Ollama's tool call ids.
export function toolCallId() {
    const abc = 'abcdefghijklmnopqrstuvwxyz0123456789';
    let s = 'call_';
    for (let i = 0; i < 8; i++) s += abc[Math.floor(Math.random() * abc.length)];
    return s;
}
