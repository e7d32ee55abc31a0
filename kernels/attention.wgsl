// Attention for one layer: one workgroup per (query head, slot). Keys are the
// cached positions k with 0 <= pos - k < window (window 0 = causal only),
// scale 1.0 (gemma4.md §4.4), GQA with contiguous groups (kv head = h*kvh/H).
// Online softmax over chunks of WG keys: each invocation scores one key of the
// chunk, then every invocation accumulates its DPT output dims over the chunk.
struct Params {
    H: u32,
    kvh: u32,
    hd: u32,
    window: u32,
    q_stride: u32,
    kv_stride: u32,
    kv_cap: u32,
    pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> step: Step;
@group(0) @binding(2) var<storage, read> Q: array<f32>;
@group(0) @binding(3) var<storage, read> KC: array<f32>;
@group(0) @binding(4) var<storage, read> VC: array<f32>;
@group(0) @binding(5) var<storage, read_write> O: array<f32>;

var<workgroup> qs: array<f32, MAX_HD>;
var<workgroup> probs: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) li: vec3<u32>) {
    let lid = li.x;
    let h = wg.x;
    let t = wg.y;
    let g = h * p.kvh / p.H;
    let pos = step.pos0 + t;
    var lo = 0u;
    if (p.window > 0u && pos + 1u > p.window) { lo = pos + 1u - p.window; }
    let qb = t * p.q_stride + h * p.hd;
    for (var i = lid; i < p.hd; i += WG) { qs[i] = Q[qb + i]; }
    workgroupBarrier();

    var m = NEG_INF;
    var l = 0.0;
    var acc: array<f32, DPT>;
    for (var j = 0u; j < DPT; j++) { acc[j] = 0.0; }

    for (var k0 = lo; k0 <= pos; k0 += WG) {
        let k = k0 + lid;
        var s = NEG_INF;
        if (k <= pos) {
            let kb = (k % p.kv_cap) * p.kv_stride + g * p.hd;
            var d = 0.0;
            for (var i = 0u; i < p.hd; i++) { d += qs[i] * KC[kb + i]; }
            s = d;
        }
        let cmax = wg_max(s, lid);
        let m_new = max(m, cmax);
        let rescale = exp(m - m_new);
        var pk = 0.0;
        if (k <= pos) { pk = exp(s - m_new); }
        probs[lid] = pk;
        let psum = wg_sum(pk, lid); // also a barrier: probs is complete
        l = l * rescale + psum;
        m = m_new;
        let n = min(WG, pos + 1u - k0);
        for (var j = 0u; j < DPT; j++) {
            let d = lid + j * WG;
            if (d < p.hd) {
                var a = acc[j] * rescale;
                for (var kk = 0u; kk < n; kk++) {
                    a += probs[kk] * VC[((k0 + kk) % p.kv_cap) * p.kv_stride + g * p.hd + d];
                }
                acc[j] = a;
            }
        }
        workgroupBarrier(); // probs is rewritten by the next chunk
    }
    let ob = t * p.q_stride + h * p.hd;
    for (var j = 0u; j < DPT; j++) {
        let d = lid + j * WG;
        if (d < p.hd) { O[ob + d] = acc[j] / l; }
    }
}
