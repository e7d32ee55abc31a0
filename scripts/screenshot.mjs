#!/usr/bin/env node
// Takes docs/web-app.png: the web app in headless Chromium with a tiny model
// loaded from an Ollama-style folder and a short conversation.
//   node scripts/screenshot.mjs [--cpu] [--out FILE]
// (On SwiftShader, WebGPU takes minutes for these few tokens; --cpu is quick.)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../tests/browser/lib/server.mjs';
import { tinyModel } from '../tests/browser/lib/store.mjs';
import { launch, openApp } from '../tests/browser/lib/browser.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const out = path.resolve(args.includes('--out') ? args[args.indexOf('--out') + 1] : path.join(root, 'docs/web-app.png'));
const fixtures = process.env.RULLAMA_FIXTURES || ['../shared/fixtures', '/work/shared/fixtures'].map((d) => path.resolve(root, d)).find((d) => fs.existsSync(d));
const store = fs.mkdtempSync('/tmp/rullama-shot-');
tinyModel(root, store, 'gemma4:tiny', path.join(fixtures || '', 'gemma4-tiny/model.gguf'));

const server = await serve(root);
const browser = await launch();
try {
    const page = await openApp(browser, `${server.url}/web/`, { viewport: { width: 1280, height: 800 } });
    await page.setInputFiles('#folder-input', store);
    await page.waitForSelector('#check-body .verdict', { timeout: 60000 });
    await page.selectOption('#engine', args.includes('--cpu') ? 'cpu' : 'gpu');
    await page.click('#load');
    await page.waitForFunction(() => !document.querySelector('#prompt').disabled, null, { timeout: 120000 });
    await page.fill('#num_predict', '8');
    await page.fill('#seed', '7');
    for (const [i, text] of ['Hi!', 'Tell me more.'].entries()) {
        await page.fill('#prompt', text);
        await page.click('#send');
        await page.waitForSelector(`.msg.assistant:nth-child(${2 * i + 2}) .stats, #error:not([hidden])`, { timeout: 600000 });
        if (await page.isVisible('#error')) throw new Error(await page.locator('#error').innerText());
        console.log(`turn ${i + 1}: ${await page.locator('.stats').nth(i).innerText()}`);
    }
    await page.fill('#prompt', 'Write a haiku about GPUs.');
    await page.evaluate(() => document.querySelector('aside').scrollTo(0, 0));
    fs.mkdirSync(path.dirname(out), { recursive: true });
    await page.screenshot({ path: out });
    console.log(`wrote ${path.relative(process.cwd(), out)}`);
} finally {
    await browser.close();
    await server.close();
    fs.rmSync(store, { recursive: true, force: true });
}
