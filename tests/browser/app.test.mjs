// The web app (web/) in real headless Chromium: the folder, file and URL
// flows, the capability check, loading, greedy chat against the CLI's text for
// the same prompt, multi-turn KV reuse, stop, actionable errors, device loss
// and the CPU fallback without WebGPU. WebGPU here is SwiftShader (seconds per
// token), so the GPU test generates only a few tokens; the CPU engine does the
// longer conversations.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { test, run, assert, assertEq, tmpDir as harnessTmpDir, repoRoot, fixturesDir } from '../node/harness.mjs';
import { GGUFWriter } from '../node/lib/gguf-writer.mjs';
import { ChatSession } from '../../js/session.mjs';
import { nodeHost } from '../../js/node/host.mjs';
import { startServer } from '../../js/node/server.mjs';
import { serve } from './lib/server.mjs';
import { putModel, tinyModel } from './lib/store.mjs';
import { launch, openApp } from './lib/browser.mjs';

const fixture = path.join(fixturesDir() || '', 'gemma4-tiny/model.gguf');
const scratch = [];  // removed at the end: the stores hold tens of MB
const tmpDir = (name) => { const d = harnessTmpDir(name); scratch.push(d); return d; };
const NAME = 'gemma4:tiny';
const store = tmpDir('web-store');
const { blob, source: modelSource } = tinyModel(repoRoot, store, NAME, fixture);
console.error(`model: ${modelSource === 'gen' ? 'tools/gen.mjs --preset tiny, 8192-token vocabulary' : 'the external gemma4-tiny fixture'} in an Ollama store`);
const ggufCopy = path.join(tmpDir('web-file'), 'tiny.gguf');
fs.copyFileSync(blob, ggufCopy);
// a model of another family in the same store: listed, but not offered
const other = path.join(tmpDir('web-other'), 'other.gguf');
fs.writeFileSync(other, 'GGUF');
putModel(store, 'llama3:tiny', other, { family: 'llama' });

// `rullama run` for the same prompt: the text the app must show. The GPU
// test compares with the CLI on the GPU (--gpu) and on the CPU; the others
// with the CPU engine, which the CLI itself picks on a software adapter.
function cli(prompt, options, { gpu = false, model = NAME } = {}) {
    const args = [path.join(repoRoot, 'bin/rullama'), 'run', model, prompt, '--verbose', ...Object.entries(options).flatMap(([k, v]) => [`--${k}`, String(v)])];
    args.push(gpu ? '--gpu' : '--cpu');
    const env = { VK_ICD_FILENAMES: '/usr/lib/chromium/vk_swiftshader_icd.json', ...process.env, OLLAMA_MODELS: store };
    const p = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
    assertEq(p.status, 0, `rullama run failed: ${p.stderr}`);
    assert(p.stdout.endsWith('\n'), 'CLI output ends with its newline');
    return { text: p.stdout.slice(0, -1), evalCount: Number(/^eval count:\s+(\d+)/m.exec(p.stderr)?.[1]) };
}
const cliText = (prompt, n) => cli(prompt, { temperature: 0, 'num-predict': n }).text;

const requests = [];
const server = await serve(repoRoot, {
    files: { '/models/tiny.gguf': ggufCopy, '/slow/tiny.gguf': ggufCopy },
    dirs: { '/store/': store },
    slow: { '/slow/tiny.gguf': 50 },
    log: requests,
});
const appUrl = `${server.url}/web/`;
let gpuBrowser = null;
const browser = async () => (gpuBrowser ||= await launch());

// Wait for a selector or for the error box, whichever comes first; fail with the error's text.
async function waitOrError(page, selector, timeout = 60000) {
    await page.waitForSelector(`${selector}, #error:not([hidden])`, { timeout });
    if (await page.isVisible('#error')) throw new Error(`app error: ${await page.locator('#error').innerText()}`);
}

async function loadModel(page, engine, timeout = 60000) {
    await waitOrError(page, '#check-body .verdict');
    await page.selectOption('#engine', engine);
    await page.click('#load');
    await page.waitForFunction(() => !document.querySelector('#prompt').disabled || !document.querySelector('#error').hidden, null, { timeout });
    if (await page.isVisible('#error')) throw new Error(`load failed: ${await page.locator('#error').innerText()}`);
}

// Send one message with greedy sampling; returns {text, stats} of the reply.
async function say(page, prompt, n, timeout = 60000) {
    await page.fill('#temperature', '0');
    await page.fill('#num_predict', String(n));
    const before = await page.locator('.msg.assistant').count();
    await page.fill('#prompt', prompt);
    await page.press('#prompt', 'Enter');
    const reply = page.locator('.msg.assistant').nth(before);
    await waitOrError(page, `.msg.assistant:nth-child(${2 * before + 2}) .stats`, timeout);
    return { text: await reply.locator('.content').textContent(), stats: await reply.locator('.stats').textContent() };
}

const statNum = (stats, label) => Number(new RegExp(`(\\d+) ${label}`).exec(stats)?.[1]);

test('folder flow on WebGPU: list, check, load with progress, greedy text equals the CLI; device loss offers a reload', async () => {
    const page = await openApp(await browser(), appUrl);
    await page.setInputFiles('#folder-input', store); // the <input webkitdirectory> fallback of showDirectoryPicker
    await page.waitForSelector(`#models button[data-spec="${NAME}"]`);
    assert(await page.isDisabled('#models button[data-spec="llama3:tiny"]'), 'the llama model is listed but disabled');
    await waitOrError(page, '#check-body .verdict');
    const check = await page.locator('#check-body').innerText();
    assert(/about [\d.]+ MB of GPU memory: weights [\d.]+ MB \+ KV cache and work buffers [\d.]+ MB at context 4096/.test(check), `estimate shown: ${check}`);
    assert(/swiftshader/i.test(check) && /software/.test(check), `adapter named, software renderer flagged: ${check}`);
    await loadModel(page, 'gpu');
    assert(/WebGPU/.test(await page.locator('#status').innerText()), 'status names the GPU engine');
    assert(/^Loaded [\d.]+ MB in [\d.]+ s\.$/.test(await page.locator('#progress-text').innerText()), 'progress ends with the loaded bytes');
    const t0 = performance.now();
    const { text, stats } = await say(page, 'Hi', 12, 120000);
    console.error(`    browser gpu: 12 tokens in ${((performance.now() - t0) / 1000).toFixed(1)} s (${stats})`);
    const t1 = performance.now();
    assertEq(text, cli('Hi', { temperature: 0, 'num-predict': 12 }, { gpu: true }).text, 'greedy text vs rullama run --gpu');
    console.error(`    cli gpu: ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    assertEq(text, cliText('Hi', 12), 'greedy text vs rullama run --cpu');
    assertEq(statNum(stats, 'tokens'), 12, 'eval count');
    assert(/tokens\/s/.test(stats), 'tokens/s shown');

    await page.evaluate(() => window.rullama.loseDevice());
    await page.waitForSelector('#error:not([hidden])');
    assertEq(await page.locator('#error .title').innerText(), 'The GPU device was lost');
    assert(await page.isVisible('#error button[data-action="reload-model"]'), 'reload offered');
    assert(await page.isDisabled('#prompt'), 'chat disabled until reloaded');
    await page.click('#error button[data-action="reload-model"]');
    await page.waitForFunction(() => !document.querySelector('#prompt').disabled, null, { timeout: 60000 });
    assert(await page.isHidden('#error'), 'error cleared after the reload');
    assertEq(await page.locator('.msg.assistant .content').textContent(), text, 'the conversation is kept');
    await page.close();
});

test('file flow on the CPU engine: greedy text equals the CLI; a second turn reuses the KV cache', async () => {
    const page = await openApp(await browser(), appUrl);
    await page.setInputFiles('#file-input', blob);
    await loadModel(page, 'cpu');
    const one = await say(page, 'Hello there', 12);
    assertEq(one.text, cliText('Hello there', 12), 'turn 1 vs rullama run');

    const two = await say(page, 'And then?', 10);
    // reference: a fresh CPU session in Node over the same wasm, given the whole conversation
    const s = await ChatSession.open({ wasm: fs.readFileSync(path.join(repoRoot, 'build/wasm/rullama.wasm')), host: nodeHost(), model: blob, nCtx: 4096, gpu: false });
    const ref = await s.run('chat', {
        messages: [{ role: 'user', content: 'Hello there' }, { role: 'assistant', content: one.text }, { role: 'user', content: 'And then?' }],
        options: { temperature: 0, num_predict: 10 },
    });
    s.close();
    assertEq(two.text, ref.content, 'turn 2 vs a fresh session with the full history');
    const evaluated = statNum(two.stats, 'prompt tokens evaluated');
    assert(evaluated < ref.prompt_eval_count, `turn 2 evaluated ${evaluated} prompt tokens, a fresh session ${ref.prompt_eval_count}: the cached prefix was reused`);

    await page.click('#new-chat');
    assertEq(await page.locator('.msg').count(), 0, 'new chat clears the conversation');
    const again = await say(page, 'Hello there', 12);
    assertEq(again.text, one.text, 'after New chat, the first answer again');
    await page.close();
});

// The next two search seeds for a random model's behaviour: the external
// fixture (1024-token vocabulary, fast) makes that quick.
test('thinking streams into a collapsed <details>, apart from the answer', async () => {
    // a seed for which the random model opens a thought channel (found with a Node session)
    const s = await ChatSession.open({ wasm: fs.readFileSync(path.join(repoRoot, 'build/wasm/rullama.wasm')), host: nodeHost(), model: fixture, nCtx: 4096, gpu: false });
    const options = { temperature: 1.5, top_k: 0, top_p: 1, num_predict: 300 };
    let ref = null, seed = 0;
    while (!ref?.thinking && seed < 40) ref = await s.run('chat', { messages: [{ role: 'user', content: 'Hi' }], think: true, options: { ...options, seed: ++seed } });
    s.close();
    assert(ref.thinking, 'no seed in 1..40 makes the model think');
    const page = await openApp(await browser(), appUrl);
    await page.setInputFiles('#file-input', fixture);
    await loadModel(page, 'cpu');
    await page.check('#think');
    for (const [k, v] of Object.entries({ ...options, seed })) await page.fill(`#${k}`, String(v));
    await page.fill('#prompt', 'Hi');
    await page.click('#send');
    await waitOrError(page, '.msg.assistant .stats');
    const reply = page.locator('.msg.assistant');
    assertEq(await reply.locator('details .thinking').textContent(), ref.thinking, 'thinking text');
    assertEq(await reply.locator('.content').textContent(), ref.content, 'answer text');
    assertEq(await reply.locator('details').getAttribute('open'), null, 'collapsed');
    assertEq(await reply.locator('details summary').innerText(), 'Thinking');
    await page.close();
});

test('stop ends a long generation early', async () => {
    // a seed whose full answer is long (the CLI runs it to the end), so stopping shows
    const sampling = { temperature: 2, 'top-k': 0, 'top-p': 1, 'num-predict': 3000 };
    let seed = 0, full = 0;
    while (full < 400 && seed < 20) full = cli('Tell me a long story', { ...sampling, seed: ++seed }, { model: fixture, gpu: false }).evalCount;
    assert(full >= 400, `no seed in 1..20 gives a long answer (last: ${full} tokens)`);
    const page = await openApp(await browser(), appUrl);
    await page.setInputFiles('#file-input', fixture);
    await loadModel(page, 'cpu');
    for (const [k, v] of [['temperature', 2], ['top_k', 0], ['top_p', 1], ['seed', seed], ['num_predict', 3000]]) await page.fill(`#${k}`, String(v));
    await page.fill('#prompt', 'Tell me a long story');
    await page.click('#send');
    await page.waitForFunction(() => document.querySelector('.msg.assistant .content')?.textContent.length > 0);
    await page.click('#stop');
    await waitOrError(page, '.msg.assistant .stats');
    const stats = await page.locator('.msg.assistant .stats').innerText();
    assert(/stopped/.test(stats) && statNum(stats, 'tokens') < full, `stopped before the ${full} tokens of the full answer: ${stats}`);
    await page.close();
});

// showDirectoryPicker cannot be driven headless: stand in an OPFS folder
// (also a FileSystemDirectoryHandle) holding the store, so the handle walk, the
// IndexedDB memory of the folder and "Reopen" run for real.
test('folder picker flow: the handle is walked, remembered, and reopened after a reload', async () => {
    const page = await openApp(await browser(), appUrl);
    const files = [];
    (function walk(d) {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) e.isDirectory() ? walk(path.join(d, e.name)) : files.push(path.relative(store, path.join(d, e.name)));
    })(store);
    await page.evaluate(async (list) => {
        const top = await (await navigator.storage.getDirectory()).getDirectoryHandle('ollama-models', { create: true });
        for (const f of list) {
            const parts = f.split('/');
            let d = top;
            for (const p of parts.slice(0, -1)) d = await d.getDirectoryHandle(p, { create: true });
            const w = await (await d.getFileHandle(parts.at(-1), { create: true })).createWritable();
            await w.write(await (await fetch(`/store/${f}`)).blob());
            await w.close();
        }
        window.showDirectoryPicker = async () => top;
    }, files);
    await page.click('#pick-folder');
    await page.waitForSelector(`#models button[data-spec="${NAME}"].selected`);
    await waitOrError(page, '#check-body .verdict');
    await page.reload();
    await page.waitForSelector('#reopen:not([hidden])');
    assertEq(await page.locator('#reopen').innerText(), 'Reopen “ollama-models”');
    await page.click('#reopen');
    await waitOrError(page, '#check-body .verdict');
    await loadModel(page, 'cpu');
    assertEq((await say(page, 'Hi', 4)).text, cliText('Hi', 4), 'greedy text vs rullama run');
    await page.evaluate(async () => (await navigator.storage.getDirectory()).removeEntry('ollama-models', { recursive: true }));
    await page.close();
});

test('cancel stops a slow load; loading again works', async () => {
    const page = await openApp(await browser(), appUrl);
    await page.fill('#url', `${server.url}/slow/tiny.gguf`);
    await page.click('#url-form button');
    await waitOrError(page, '#check-body .verdict', 60000);
    await page.selectOption('#engine', 'cpu');
    await page.click('#load');
    await page.waitForSelector('#progress:not([hidden])');
    assert(await page.isDisabled('#prompt'), 'still loading when cancelled');
    await page.click('#cancel');
    await page.waitForSelector('#progress', { state: 'hidden' });
    assertEq(await page.locator('#status').innerText(), 'Loading cancelled.');
    assert(await page.isDisabled('#prompt'), 'nothing loaded');
    await loadModel(page, 'cpu', 120000);
    assertEq((await say(page, 'Hi', 4)).text, cliText('Hi', 4), 'greedy text vs rullama run');
    await page.close();
});

test('a copy kept in browser storage (OPFS) reopens after a page reload', async () => {
    const page = await openApp(await browser(), appUrl);
    await page.setInputFiles('#file-input', ggufCopy);
    await waitOrError(page, '#check-body .verdict');
    await page.check('#opfs');
    await loadModel(page, 'cpu');
    const first = await say(page, 'Hi', 6);
    await page.reload();
    const saved = page.locator('#saved-list button[data-name="tiny.gguf"]');
    await saved.waitFor();
    assert(/\d MB$/.test(await saved.innerText()), 'saved copy listed with its size');
    await saved.click();
    await loadModel(page, 'cpu');
    assertEq((await say(page, 'Hi', 6)).text, first.text, 'same answer from the copy');
    await page.click('#saved-list button[aria-label="Delete tiny.gguf"]');
    await page.waitForSelector('#saved', { state: 'hidden' });
    await page.close();
});

test('URL flow on WebGPU streams the file with HTTP Range requests', async () => {
    const page = await openApp(await browser(), appUrl);
    requests.length = 0;
    await page.fill('#url', `${server.url}/models/tiny.gguf`);
    await page.click('#url-form button');
    await loadModel(page, 'gpu'); // the header through synchronous XHR, the weights through fetch, both ranged
    const { text } = await say(page, 'Hi', 4);
    assertEq(text, cliText('Hi', 4), 'greedy text vs rullama run');
    await page.close();
    const gets = requests.filter((r) => r.path === '/models/tiny.gguf' && r.method === 'GET');
    const size = fs.statSync(ggufCopy).size;
    assert(gets.length > 1, `several reads: ${gets.length}`);
    for (const { range } of gets) {
        const m = /^bytes=(\d+)-(\d+)$/.exec(range || '');
        assert(m && Number(m[2]) - Number(m[1]) + 1 < size, `every read is a part of the file: ${range}`);
    }
});

test('served by rullama serve: the app at /, the model streamed from /api/blobs/', async () => {
    process.env.OLLAMA_MODELS = store; // the server's store
    const srv = await startServer({ host: '127.0.0.1', port: 0, cpu: true, wasmPath: path.join(repoRoot, 'build/wasm/rullama.wasm'), log: () => {} });
    try {
        const page = await openApp(await browser(), `${srv.url}/`);
        const digest = path.basename(blob).replace('sha256-', 'sha256:');
        await page.fill('#url', `${srv.url}/api/blobs/${digest}`);
        await page.click('#url-form button');
        await loadModel(page, 'cpu');
        assertEq((await say(page, 'Hi', 4)).text, cliText('Hi', 4), 'greedy text vs rullama run');
        await page.close();
    } finally {
        await srv.close();
    }
});

test('actionable errors: not a GGUF, wrong architecture, missing blob, a folder without models', async () => {
    const dir = tmpDir('web-bad');
    const junk = path.join(dir, 'notes.gguf');
    fs.writeFileSync(junk, 'this is not a model file, just some text\n'.repeat(20));
    const llama = path.join(dir, 'llama.gguf');
    const w = new GGUFWriter();
    w.kv('general.architecture', 'str', 'llama');
    w.kv('llama.block_count', 'u32', 1);
    w.tensor('token_embd.weight', [4, 4], 0, new Uint8Array(64).fill(1));
    fs.writeFileSync(llama, w.toBytes());
    const broken = tmpDir('web-missing');
    fs.rmSync(putModel(broken, 'gemma4:gone', fixture));
    const empty = tmpDir('web-empty');
    fs.writeFileSync(path.join(empty, 'readme.txt'), 'nothing here');

    const page = await openApp(await browser(), appUrl);
    const expectError = async (title, pattern) => {
        await page.waitForSelector('#error:not([hidden])');
        assertEq(await page.locator('#error .title').innerText(), title);
        const detail = await page.locator('#error .detail').innerText();
        assert(pattern.test(detail), `${title}: detail ${JSON.stringify(detail)}`);
        assert((await page.locator('#error .hint').innerText()).length > 20, `${title}: a hint`);
    };
    await page.setInputFiles('#file-input', junk);
    await expectError('This is not a valid model file', /not a GGUF file/);
    await page.setInputFiles('#file-input', llama);
    await expectError('Not a Gemma 4 model', /llama/);
    await page.setInputFiles('#folder-input', broken);
    await expectError('A model file is missing', /gemma4:gone.*missing/);
    await page.setInputFiles('#folder-input', empty);
    await expectError('No models in this folder', /no manifests/);
    await page.close();
});

test('without WebGPU: the check says so and the CPU engine runs', async () => {
    const b = await launch({ webgpu: false });
    try {
        const page = await openApp(b, appUrl);
        await page.setInputFiles('#folder-input', store);
        await waitOrError(page, '#check-body .verdict');
        const check = await page.locator('#check-body').innerText();
        assert(/no WebGPU|no GPU adapter/i.test(check), `says why: ${check}`);
        assertEq(await page.inputValue('#engine'), 'cpu', 'CPU engine preselected');
        assert(await page.locator('#engine option[value=gpu]').isDisabled(), 'GPU option disabled');
        await loadModel(page, 'cpu');
        const { text } = await say(page, 'Hi', 5);
        assertEq(text, cliText('Hi', 5), 'greedy text vs rullama run');
    } finally {
        await b.close();
    }
});

try {
    await run('browser-app');
} finally {
    await gpuBrowser?.close();
    await server.close();
    for (const d of scratch) fs.rmSync(d, { recursive: true, force: true });
}
