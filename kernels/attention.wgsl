// Attention for one layer (gemma4.md §4.4): scale 1.0, GQA with contiguous
// groups, keys k with 0 <= pos - k < window (window 0 = causal only).
//
// Grid (n_split, kvh * head_chunks, n_tok). A workgroup takes up to HC query
// heads that share one KV head and one slice of that slot's keys, so every K/V
// row it loads serves HC heads. It walks the slice in chunks of KCH keys with an
// online softmax. Each chunk's K and V rows are staged through workgroup memory
// in slices of SD dimensions with coalesced vec4 loads (decode attention is
// latency-bound: a thread walking a 512-long row alone waits on every load).
// With n_split = 1 it writes the normalised output; otherwise it writes its
// partial (max, sum, unnormalised output) and attn_combine.wgsl merges the
// slices (split-K: one decode token still spreads over many workgroups).
struct Params {
    H: u32,
    kvh: u32,
    hd: u32,
    window: u32,
    q_stride: u32,
    q_off: u32,
    kv_stride: u32,
    kv_cap: u32,
    o_stride: u32,
    n_split: u32,
    head_chunks: u32, // ceil((H / kvh) / HC)
    pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> step: Step;
@group(0) @binding(2) var<storage, read> Q: array<f32>;
@group(0) @binding(3) var<storage, read> KCACHE: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> VCACHE: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> O: array<f32>;      // n_split == 1: [n_tok][H*hd]
@group(0) @binding(6) var<storage, read_write> PART: array<f32>;   // n_split > 1: [n_tok][H][n_split][hd + 2]

const SD4: u32 = SD / 4u;          // vec4 per row slice
const TS: u32 = SD4 + 1u;          // tile row stride: one vec4 of padding, so a warp's 32 keys
                                   // (same dims, different rows) fall in different banks
const PAIRS: u32 = HC * KCH;       // (head, key) scores per chunk
const OUTS: u32 = HC * SD;         // (head, dim) outputs per slice
const OPT: u32 = (OUTS + WG - 1u) / WG;          // outputs per invocation per slice
const SLICES: u32 = MAX_HD / SD;
const SPT: u32 = (PAIRS + WG - 1u) / WG;         // scores per invocation

var<workgroup> qs: array<vec4<f32>, HC * MAX_HD / 4u>;
var<workgroup> tile: array<vec4<f32>, KCH * TS>;   // one chunk's K or V rows, SD dims at a time
var<workgroup> sc: array<f32, PAIRS>;
var<workgroup> rowoff: array<u32, KCH>;            // vec4 offset of each chunk key's row in the caches
var<workgroup> m_run: array<f32, HC>;
var<workgroup> l_run: array<f32, HC>;
var<workgroup> rescale: array<f32, HC>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) li: vec3<u32>) {
    let lid = li.x;
    let split = wg.x;
    let g = wg.y / p.head_chunks;                 // KV head
    let group = p.H / p.kvh;
    let h0 = g * group + (wg.y % p.head_chunks) * HC; // first query head of this workgroup
    let nh = min(HC, g * group + group - h0);    // heads in this workgroup
    let t = wg.z;
    let pos = step.pos0 + t;
    var lo = 0u;
    if (p.window > 0u && pos + 1u > p.window) { lo = pos + 1u - p.window; }
    let n = pos + 1u - lo;
    let per = (n + p.n_split - 1u) / p.n_split;
    let k_begin = lo + min(split * per, n);
    let k_end = lo + min(split * per + per, n);
    let hd4 = p.hd / 4u;
    let slices = p.hd / SD;

    for (var i = lid; i < nh * hd4; i += WG) {
        let h = i / hd4;
        let d = i % hd4;
        let qb = p.q_off + t * p.q_stride + (h0 + h) * p.hd + 4u * d;
        qs[h * (MAX_HD / 4u) + d] = vec4<f32>(Q[qb], Q[qb + 1u], Q[qb + 2u], Q[qb + 3u]);
    }
    if (lid < HC) {
        m_run[lid] = NEG_INF;
        l_run[lid] = 0.0;
    }
    var acc: array<f32, SLICES * OPT>;
    for (var j = 0u; j < SLICES * OPT; j++) { acc[j] = 0.0; }
    workgroupBarrier();

    for (var k0 = k_begin; k0 < k_end; k0 += KCH) {
        let nk = min(KCH, k_end - k0);
        if (lid < KCH) { rowoff[lid] = (((k0 + min(lid, nk - 1u)) % p.kv_cap) * p.kv_stride + g * p.hd) / 4u; }
        var part: array<f32, SPT>;
        for (var j = 0u; j < SPT; j++) { part[j] = 0.0; }
        workgroupBarrier();
        // scores: q . k over SD-wide slices of the chunk's K rows
        for (var sl = 0u; sl < SLICES; sl++) { // constant bound: acc[] stays in registers
            if (sl >= slices) { break; }
            for (var i = lid; i < KCH * SD4; i += WG) {
                tile[(i / SD4) * TS + i % SD4] = KCACHE[rowoff[i / SD4] + sl * SD4 + i % SD4];
            }
            workgroupBarrier();
            for (var j = 0u; j < SPT; j++) {
                let pi = lid + j * WG;
                let h = pi / KCH;
                let kk = pi % KCH;
                if (h < nh) {
                    var d4 = vec4<f32>(0.0);
                    for (var d = 0u; d < SD4; d++) { d4 += qs[h * (MAX_HD / 4u) + sl * SD4 + d] * tile[kk * TS + d]; }
                    part[j] += d4.x + d4.y + d4.z + d4.w;
                }
            }
            workgroupBarrier();
        }
        for (var j = 0u; j < SPT; j++) {
            let pi = lid + j * WG;
            if (pi < PAIRS) {
                var s = part[j];
                if (pi % KCH >= nk) { s = NEG_INF; }
                sc[pi] = s;
            }
        }
        workgroupBarrier();
        // online softmax per head
        if (lid < nh) {
            var cm = NEG_INF;
            for (var kk = 0u; kk < nk; kk++) { cm = max(cm, sc[lid * KCH + kk]); }
            let m_new = max(m_run[lid], cm);
            let r = exp(m_run[lid] - m_new);
            var sum = 0.0;
            for (var kk = 0u; kk < KCH; kk++) {
                var e = 0.0;
                if (kk < nk) { e = exp(sc[lid * KCH + kk] - m_new); }
                sc[lid * KCH + kk] = e;
                sum += e;
            }
            m_run[lid] = m_new;
            l_run[lid] = l_run[lid] * r + sum;
            rescale[lid] = r;
        }
        workgroupBarrier();
        // outputs: probabilities times the chunk's V rows, slice by slice
        for (var sl = 0u; sl < SLICES; sl++) { // constant bound: acc[] stays in registers
            if (sl >= slices) { break; }
            for (var i = lid; i < KCH * SD4; i += WG) {
                tile[(i / SD4) * TS + i % SD4] = VCACHE[rowoff[i / SD4] + sl * SD4 + i % SD4];
            }
            workgroupBarrier();
            for (var j = 0u; j < OPT; j++) {
                let oi = lid + j * WG;
                let h = oi / SD;
                if (h < nh) {
                    let d = oi % SD;
                    var a = acc[sl * OPT + j] * rescale[h];
                    for (var kk = 0u; kk < KCH; kk++) { a += sc[h * KCH + kk] * tile[kk * TS + d / 4u][d % 4u]; }
                    acc[sl * OPT + j] = a;
                }
            }
            workgroupBarrier();
        }
    }

    for (var sl = 0u; sl < SLICES; sl++) { // constant bound: acc[] stays in registers
            if (sl >= slices) { break; }
        for (var j = 0u; j < OPT; j++) {
            let oi = lid + j * WG;
            let h = oi / SD;
            if (h < nh) {
                let d = sl * SD + oi % SD;
                if (p.n_split == 1u) {
                    O[t * p.o_stride + (h0 + h) * p.hd + d] = acc[sl * OPT + j] / l_run[h];
                } else {
                    let base = ((t * p.H + h0 + h) * p.n_split + split) * (p.hd + 2u);
                    PART[base + d] = acc[sl * OPT + j];
                    if (d == 0u) {
                        PART[base + p.hd] = m_run[h];
                        PART[base + p.hd + 1u] = l_run[h];
                    }
                }
            }
        }
    }
}
