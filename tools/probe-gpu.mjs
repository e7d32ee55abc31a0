#!/usr/bin/env node
// What this machine's WebGPU (Dawn in Node) offers beyond the core: the adapter's
// features with and without Dawn's allow_unsafe_apis toggle, the subgroup-matrix
// configurations (tensor cores, chromium-experimental-subgroup-matrix) and the WGSL
// language features. A fact-finding tool for the prefill's next kernels.
//   node tools/probe-gpu.mjs
import * as webgpu from 'webgpu';

Object.assign(globalThis, webgpu.globals);
for (const toggles of [[], ['enable-dawn-features=allow_unsafe_apis']]) {
    const gpu = webgpu.create(toggles);
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) { console.log('no adapter'); process.exit(1); }
    const info = adapter.info ?? {};
    console.log(`== toggles ${JSON.stringify(toggles)}: ${info.vendor} ${info.architecture} ${info.device} ${info.description}`);
    console.log(`features: ${[...adapter.features].sort().join(' ')}`);
    const cfgs = adapter.info?.subgroupMatrixConfigs ?? adapter.subgroupMatrixConfigs;
    if (cfgs) for (const c of cfgs) console.log(`subgroup matrix: ${c.componentType} x ${c.componentType} -> ${c.resultComponentType}, M ${c.M} N ${c.N} K ${c.K}`);
    else console.log('subgroup matrix configs: not exposed');
    const lf = gpu.wgslLanguageFeatures;
    if (lf) console.log(`wgsl language features: ${[...lf].sort().join(' ')}`);
    if (adapter.features.has('chromium-experimental-subgroup-matrix')) {
        const device = await adapter.requestDevice({ requiredFeatures: ['chromium-experimental-subgroup-matrix', ...(adapter.features.has('shader-f16') ? ['shader-f16'] : [])] });
        const info2 = device.adapterInfo ?? {};
        const c2 = info2.subgroupMatrixConfigs;
        if (c2) for (const c of c2) console.log(`device subgroup matrix: ${c.componentType} -> ${c.resultComponentType}, M ${c.M} N ${c.N} K ${c.K}`);
        device.destroy();
    }
}
process.exit(0);
