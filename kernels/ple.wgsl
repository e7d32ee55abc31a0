// Per-layer embeddings (gemma4.md §4.3), in place on the projection, one
// workgroup per (layer, slot):
//   c = RMSNorm(proj * in_scale; ple_norm);  e = table[token] * table_scale
//   PLE = (c + e) * combine
// The BF16 table can exceed one binding: it is split by rows into up to four
// chunk buffers of rows_per_chunk rows each.
struct Params {
    P: u32,
    L: u32,
    rows_per_chunk: u32,
    w_off: u32,        // ple norm weight in VEC
    in_scale: f32,     // 1/sqrt(D)
    table_scale: f32,  // sqrt(P)
    combine: f32,      // 1/sqrt(2)
    eps: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> IDS: array<u32>;
@group(0) @binding(2) var<storage, read> VEC: array<f32>;
@group(0) @binding(3) var<storage, read_write> PROJ: array<f32>;
@group(0) @binding(4) var<storage, read> T0: array<u32>;
@group(0) @binding(5) var<storage, read> T1: array<u32>;
@group(0) @binding(6) var<storage, read> T2: array<u32>;
@group(0) @binding(7) var<storage, read> T3: array<u32>;

// element e (bf16) of table row `row` (row length L*P)
fn table(row: u32, e: u32) -> f32 {
    let c = row / p.rows_per_chunk;
    let idx = (row - c * p.rows_per_chunk) * p.L * p.P + e;
    var w = 0u;
    switch c {
        case 0u: { w = T0[idx / 2u]; }
        case 1u: { w = T1[idx / 2u]; }
        case 2u: { w = T2[idx / 2u]; }
        default: { w = T3[idx / 2u]; }
    }
    if ((idx & 1u) == 0u) { return bitcast<f32>(w << 16u); }
    return bitcast<f32>(w & 0xffff0000u);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) li: vec3<u32>) {
    let lid = li.x;
    let l = wg.x;
    let t = wg.y;
    let base = (t * p.L + l) * p.P;
    var ss = 0.0;
    for (var i = lid; i < p.P; i += WG) {
        let v = PROJ[base + i] * p.in_scale;
        ss += v * v;
    }
    let inv = inverseSqrt(wg_sum(ss, lid) / f32(p.P) + p.eps);
    let tok = IDS[t];
    for (var i = lid; i < p.P; i += WG) {
        let c = PROJ[base + i] * p.in_scale * inv * VEC[p.w_off + i];
        PROJ[base + i] = (c + table(tok, l * p.P + i) * p.table_scale) * p.combine;
    }
}
