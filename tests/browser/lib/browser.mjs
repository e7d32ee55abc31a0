// Headless Debian Chromium through playwright-core. The machine has no network,
// and Chromium stalls when it tries to reach Google hosts: these flags keep it
// local. webgpu: false launches without WebGPU (the app's CPU fallback path).
import { chromium } from 'playwright-core';

const BASE = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run',
    '--disable-default-apps', '--disable-sync', '--metrics-recording-only', '--no-default-browser-check'];
const WEBGPU = ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader'];

export async function launch({ webgpu = true } = {}) {
    return chromium.launch({
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        args: [...BASE, ...(webgpu ? WEBGPU : ['--disable-gpu'])],
    });
}

// A page that forwards its console errors and worker errors to the test log.
export async function openApp(browser, url, { viewport = { width: 1280, height: 860 } } = {}) {
    const page = await browser.newPage({ viewport });
    page.on('pageerror', (e) => console.error(`  [page] ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') console.error(`  [console] ${m.text()}`); });
    await page.goto(url);
    return page;
}
