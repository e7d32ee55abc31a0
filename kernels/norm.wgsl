// RMSNorm over groups of n values (gemma4.md §4.1), one workgroup per group:
//   plain:     Y[y] = X[x] * inv_rms(X) * w           (w from VEC, or 1)
//   residual:  Y[y] = (Y[y] + X[x] * inv_rms * w) * s (post-norm add, then the layer scalar)
//   in place:  reads Y instead of X (WebGPU forbids binding one buffer both ways)
//   next:      also Z[y] = Y[y] * inv_rms(Y) * nw     (the next block's pre-norm, so
//              the mat-vec that follows reads a ready input: one dispatch fewer)
// LIMBS: the last output (Z with next, else Y) also as the integer matmul's
//   int8 limbs (limbs.wgsl; LIMBS2: two) into XL / XF, for the product that reads it
//   next (one group a token, n a multiple of 32), instead of act_limbs.wgsl's pass.
// Grid: (groups_per_tok, n_tok). X is pre-scaled by in_scale before the norm.
// n and every offset are multiples of 4: rows move as vec4, each invocation
// keeps its NV vectors in registers (one load per element: decode is latency-bound).
struct Params {
    n: u32,
    groups: u32,      // groups per token
    x_off: u32,
    x_stride: u32,    // floats between tokens (groups are contiguous, n apart)
    y_off: u32,
    y_stride: u32,    // also Z's layout
    w_off: u32,       // float offset of the weight in VEC; ignored without FLAG_WEIGHT
    s_off: u32,       // float offset of the scalar s in VEC; ignored without FLAG_SCALE
    flags: u32,
    eps: f32,
    in_scale: f32,
    nw_off: u32,      // the next norm's weight in VEC (FLAG_NEXT)
}
const FLAG_WEIGHT: u32 = 1u;
const FLAG_RESIDUAL: u32 = 2u;
const FLAG_SCALE: u32 = 4u;
const FLAG_IN_PLACE: u32 = 8u;
const FLAG_NEXT: u32 = 16u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> VEC: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> Y: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> Z: array<vec4<f32>>;
#ifdef LIMBS
@group(0) @binding(5) var<storage, read_write> XL: array<u32>;
@group(0) @binding(6) var<storage, read_write> XF: array<f32>;
#endif

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) li: vec3<u32>) {
    let lid = li.x;
    let n4 = p.n / 4u;
    let xb = (p.x_off + wg.y * p.x_stride + wg.x * p.n) / 4u;
    let yb = (p.y_off + wg.y * p.y_stride + wg.x * p.n) / 4u;
    let in_place = (p.flags & FLAG_IN_PLACE) != 0u;
    // every load up front, so one memory round trip serves the whole kernel
    // (decode norms are a single workgroup: latency, not bandwidth, is the cost)
    var v: array<vec4<f32>, NV>;
    var wv: array<vec4<f32>, NV>;
    var hv: array<vec4<f32>, NV>;
    var nv: array<vec4<f32>, NV>;
    let weighted = (p.flags & FLAG_WEIGHT) != 0u;
    let residual = (p.flags & FLAG_RESIDUAL) != 0u;
    let next = (p.flags & FLAG_NEXT) != 0u;
    var ss = 0.0;
    for (var j = 0u; j < NV; j++) {
        let i = lid + j * WG;
        var x = vec4<f32>(0.0);
        wv[j] = vec4<f32>(1.0);
        if (i < n4) {
            if (in_place) { x = Y[yb + i]; } else { x = X[xb + i]; }
            x *= p.in_scale;
            if (weighted) { wv[j] = VEC[p.w_off / 4u + i]; }
            if (residual) { hv[j] = Y[yb + i]; }
            if (next) { nv[j] = VEC[p.nw_off / 4u + i]; }
        }
        v[j] = x;
        ss += dot(x, x);
    }
    var s = 1.0;
    if ((p.flags & FLAG_SCALE) != 0u) { s = VEC[p.s_off / 4u][p.s_off % 4u]; }
    let inv = inverseSqrt(wg_sum(ss, lid) / f32(p.n) + p.eps);
    var ss2 = 0.0;
    for (var j = 0u; j < NV; j++) {
        let i = lid + j * WG;
        if (i < n4) {
            var y = v[j] * inv * wv[j];
            if (residual) { y = (hv[j] + y) * s; }
            Y[yb + i] = y;
            v[j] = y;
            ss2 += dot(y, y);
        }
    }
    if (next) {
        let inv2 = inverseSqrt(wg_sum(ss2, lid) / f32(p.n) + p.eps);
        for (var j = 0u; j < NV; j++) {
            let i = lid + j * WG;
            if (i < n4) {
                v[j] = v[j] * inv2 * nv[j];
                Z[yb + i] = v[j];
            }
        }
    }
#ifdef LIMBS
    var m = 0.0;
    for (var j = 0u; j < NV; j++) {
        let a = abs(v[j]);
        if (lid + j * WG < n4) { m = max(m, max(max(a.x, a.y), max(a.z, a.w))); }
    }
    let sc = limb_scale(wg_max(m, lid));
    let nb = p.n / 32u;
    for (var j = 0u; j < NV; j++) {
        let i = lid + j * WG;
        if (i < n4) { limb_put(limb_word(wg.y, i, nb), nb, limb_digits(v[j], sc.k)); }
    }
    if (lid == 0u) { XF[wg.y] = sc.s; }
#endif
}
