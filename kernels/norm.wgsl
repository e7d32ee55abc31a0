// RMSNorm over groups of n values (gemma4.md §4.1), one workgroup per group:
//   plain:     Y[y] = X[x] * inv_rms(X) * w           (w from VEC, or 1)
//   residual:  Y[y] = (Y[y] + X[x] * inv_rms * w) * s (post-norm add, then the layer scalar)
//   in place:  reads Y instead of X (WebGPU forbids binding one buffer both ways)
// Grid: (groups_per_tok, n_tok). X is pre-scaled by in_scale before the norm.
struct Params {
    n: u32,
    groups: u32,      // groups per token
    x_off: u32,
    x_stride: u32,    // floats between tokens (groups are contiguous, n apart)
    y_off: u32,
    y_stride: u32,
    w_off: u32,       // float offset of the weight in VEC; ignored without FLAG_WEIGHT
    s_off: u32,       // float offset of the scalar s in VEC; ignored without FLAG_SCALE
    flags: u32,
    eps: f32,
    in_scale: f32,
    pad0: u32,
}
const FLAG_WEIGHT: u32 = 1u;
const FLAG_RESIDUAL: u32 = 2u;
const FLAG_SCALE: u32 = 4u;
const FLAG_IN_PLACE: u32 = 8u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> VEC: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;

fn load_x(i: u32, xb: u32, yb: u32) -> f32 {
    if ((p.flags & FLAG_IN_PLACE) != 0u) { return Y[yb + i] * p.in_scale; }
    return X[xb + i] * p.in_scale;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) li: vec3<u32>) {
    let lid = li.x;
    let xb = p.x_off + wg.y * p.x_stride + wg.x * p.n;
    let yb = p.y_off + wg.y * p.y_stride + wg.x * p.n;
    var ss = 0.0;
    for (var i = lid; i < p.n; i += WG) {
        let v = load_x(i, xb, yb);
        ss += v * v;
    }
    let inv = inverseSqrt(wg_sum(ss, lid) / f32(p.n) + p.eps);
    var s = 1.0;
    if ((p.flags & FLAG_SCALE) != 0u) { s = VEC[p.s_off]; }
    for (var i = lid; i < p.n; i += WG) {
        var v = load_x(i, xb, yb) * inv;
        if ((p.flags & FLAG_WEIGHT) != 0u) { v *= VEC[p.w_off + i]; }
        if ((p.flags & FLAG_RESIDUAL) != 0u) { v = (Y[yb + i] + v) * s; }
        Y[yb + i] = v;
    }
}
