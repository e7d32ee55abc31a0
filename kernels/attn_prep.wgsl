// Attention inputs for one layer, one workgroup per head and slot. QKV holds
// each slot's projections side by side: q at 0, k at k_off, v at v_off (v_off =
// k_off on K=V layers, where V is the raw K projection):
//   query heads (wg.x < H): q = RoPE(RMSNorm(q; q_norm)) in place
//   KV heads (H <= wg.x < H + kvh, layers that own their cache):
//     KC[slot] = RoPE(RMSNorm(k; k_norm)), VC[slot] = RMSNorm(v) (unweighted)
// RoPE is NeoX (pairs j, j + rope_dims/2) with cos/sin from a per-slot table
// the host computes in double (RT: [n_tok][rt_stride], pairs at rt_col).
// slot = position % kv_cap (sliding layers keep a ring).
struct Params {
    H: u32,
    kvh: u32,
    hd: u32,
    rope_dims: u32,
    q_stride: u32,   // floats between tokens in QKV
    kv_stride: u32,  // floats between positions in the caches (kvh*hd)
    kv_cap: u32,
    rt_stride: u32,
    rt_col: u32,
    qn_off: u32,     // q_norm weight offset in VEC
    kn_off: u32,     // k_norm weight offset in VEC
    eps: f32,
    k_off: u32,
    v_off: u32,
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> step: Step;
@group(0) @binding(2) var<storage, read_write> Q: array<f32>;
@group(0) @binding(3) var<storage, read> VEC: array<f32>;
@group(0) @binding(4) var<storage, read> RT: array<f32>;
@group(0) @binding(5) var<storage, read_write> KC: array<f32>;
@group(0) @binding(6) var<storage, read_write> VC: array<f32>;

var<workgroup> vals: array<f32, MAX_HD>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) li: vec3<u32>) {
    let lid = li.x;
    let t = wg.y;
    let is_q = wg.x < p.H;
    let g = wg.x - p.H; // KV head (when !is_q)
    var src = t * p.q_stride + wg.x * p.hd;
    if (!is_q) { src = t * p.q_stride + p.k_off + g * p.hd; }
    let vsrc = t * p.q_stride + p.v_off + g * p.hd;
    let slot = (step.pos0 + t) % p.kv_cap;
    let dst = slot * p.kv_stride + g * p.hd;

    // K/Q: weighted norm then RoPE
    var ss = 0.0;
    for (var i = lid; i < p.hd; i += WG) {
        let v = Q[src + i];
        vals[i] = v;
        ss += v * v;
    }
    let inv = inverseSqrt(wg_sum(ss, lid) / f32(p.hd) + p.eps);
    var w_off = p.kn_off;
    if (is_q) { w_off = p.qn_off; }
    for (var i = lid; i < p.hd; i += WG) { vals[i] = vals[i] * inv * VEC[w_off + i]; }
    workgroupBarrier();
    let half = p.rope_dims / 2u;
    let rt = t * p.rt_stride + p.rt_col;
    for (var i = lid; i < p.hd; i += WG) {
        var v = vals[i];
        if (i < half) {
            v = vals[i] * RT[rt + 2u * i] - vals[i + half] * RT[rt + 2u * i + 1u];
        } else if (i < p.rope_dims) {
            let j = i - half;
            v = vals[j] * RT[rt + 2u * j + 1u] + vals[i] * RT[rt + 2u * j];
        }
        if (is_q) { Q[src + i] = v; } else { KC[dst + i] = v; }
    }
    if (is_q) { return; }

    // V: unweighted norm, no RoPE (read from the projections, which are not
    // modified for KV heads: the normed k went to the cache)
    workgroupBarrier();
    ss = 0.0;
    for (var i = lid; i < p.hd; i += WG) {
        let v = Q[vsrc + i];
        ss += v * v;
    }
    let vinv = inverseSqrt(wg_sum(ss, lid) / f32(p.hd) + p.eps);
    for (var i = lid; i < p.hd; i += WG) { VC[dst + i] = Q[vsrc + i] * vinv; }
}
