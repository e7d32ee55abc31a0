// Mixture-of-experts output (gemma4.md §4.4), one workgroup per slot:
// y = sum_k WTS[t][k] * OUT[t][k];  D[t] = D[t] + RMSNorm(y; post_ffw_norm_2)
// (D holds the dense branch after its own post-norm).
struct Params {
    n: u32,        // D
    K: u32,
    w_off: u32,    // post_ffw_norm_2 in VEC
    pad0: u32,
    eps: f32,
    pad1: u32,
    pad2: u32,
    pad3: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> OUT: array<f32>;   // [n_tok][K][n]
@group(0) @binding(2) var<storage, read> WTS: array<f32>;   // [n_tok][K]
@group(0) @binding(3) var<storage, read> VEC: array<f32>;
@group(0) @binding(4) var<storage, read_write> DST: array<f32>; // [n_tok][n]

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) li: vec3<u32>) {
    let lid = li.x;
    let t = wg.y;
    var ss = 0.0;
    for (var i = lid; i < p.n; i += WG) {
        var y = 0.0;
        for (var k = 0u; k < p.K; k++) { y += WTS[t * p.K + k] * OUT[(t * p.K + k) * p.n + i]; }
        ss += y * y;
    }
    let inv = inverseSqrt(wg_sum(ss, lid) / f32(p.n) + p.eps);
    for (var i = lid; i < p.n; i += WG) {
        var y = 0.0;
        for (var k = 0u; k < p.K; k++) { y += WTS[t * p.K + k] * OUT[(t * p.K + k) * p.n + i]; }
        DST[t * p.n + i] += y * inv * VEC[p.w_off + i];
    }
}
