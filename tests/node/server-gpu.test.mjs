// One smoke test of `rullama serve --gpu` on the GPU engine (WebGPU through
// Dawn; SwiftShader on machines without a GPU, which is slow, so the answer
// is kept short). Its greedy answer must equal the CPU engine's, computed in-process.
// Without any WebGPU adapter the server falls back to the CPU, which is
// checked instead.
import fs from 'node:fs';
import path from 'node:path';
import { Ollama } from 'ollama';
import { test, run, assert, assertEq, tmpDir, repoRoot, fixturesDir } from './harness.mjs';
import { addModel } from './lib/store.mjs';
import { spawnServe } from './lib/serve.mjs';
import { ChatSession } from '../../js/session.mjs';
import { nodeHost } from '../../js/node/host.mjs';
import { wasmPath } from '../../js/node/cli.mjs';

const store = tmpDir('server-gpu');
addModel(store, 'gemma4:tiny', path.join(fixturesDir(), 'gemma4-tiny/model.gguf'));
process.env.OLLAMA_MODELS = store;

test('serve --gpu: the GPU engine answers like the CPU engine', async () => {
    const request = { prompt: 'Hi', raw: true, options: { temperature: 0, num_predict: 1 } }; // short: more kernel variants take ~10 s more to compile on SwiftShader
    const cpu = await ChatSession.open({ wasm: fs.readFileSync(wasmPath), host: nodeHost(), model: 'gemma4:tiny', gpu: false });
    const want = await cpu.run('generate', request);
    cpu.close();
    const srv = await spawnServe(repoRoot, { args: ['--gpu'], env: { OLLAMA_MODELS: store } });
    try {
        let text = '', r;
        for await (r of await new Ollama({ host: srv.url }).generate({ model: 'gemma4:tiny', ...request, stream: true })) text += r.response;
        const gpu = /loaded gemma4:tiny on the GPU/.test(srv.log());
        assert(gpu || /using the CPU engine/.test(srv.log()), `GPU, or a stated fallback:\n${srv.log()}`);
        if (!gpu) console.error('    (no WebGPU adapter here: checked the CPU fallback)');
        assertEq([text, r.eval_count, r.done_reason], [want.content, want.eval_count, want.done_reason], 'greedy answer, streamed');
        const ps = await fetch(`${srv.url}/api/ps`).then((x) => x.json());
        assertEq(ps.models[0].size_vram > 0, gpu, 'size_vram says where the weights are');
    } finally {
        assertEq((await srv.stop()).code, 0, 'clean exit');
    }
});

await run('server-gpu');
