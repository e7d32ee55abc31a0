// Activations as int8 limbs (limbs.wgsl: digits, scale, layout; LIMBS2: two), for the
// integer tensor-core matmul (matmul_smx.wgsl). One workgroup per token t.
//
// With GLU, the values are a GeGLU's output, gelu(X[c]) * B[c] (gemma4.md
// §4.1), made here instead of by a pass of their own: the MLP's gate and up
// halves, or the per-layer-embedding gate and its slice of the PLE input.
//
// Bindings
//   0 uniform LP
//   1 storage read       X:  array<f32>   activations (GLU: the gate)
//   2 storage read_write XL: array<u32>   limbs (above)
//   3 storage read_write XF: array<f32>   s_t at xf_s + t
//   4 storage read       B:  array<f32>   GLU only: the multiplier, token t's at b_off + t * b_stride
// Source: common.wgsl, reduce.wgsl (wg_max), limbs.wgsl, limbs_put.wgsl, act_limbs.wgsl. Defines: WG = 256
// (with SUBGROUPS: SGMIN, as reduce.wgsl), GLU, LIMBS2.
// cols must be a multiple of 32. Dispatch (n_tok, 1, 1).

struct LP {
    cols: u32,
    n_tok: u32,
    x_off: u32,
    x_stride: u32,
    xf_s: u32,
    nb: u32,       // cols / 32
    b_off: u32,    // GLU only
    b_stride: u32,
}

@group(0) @binding(0) var<uniform> p: LP;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> XL: array<u32>;
@group(0) @binding(3) var<storage, read_write> XF: array<f32>;
#ifdef GLU
@group(0) @binding(4) var<storage, read> B: array<f32>;
#endif

// value c of token t (at xo, bo)
fn value(xo: u32, bo: u32, c: u32) -> f32 {
#ifdef GLU
    return gelu_tanh(X[xo + c]) * B[bo + c];
#else
    return X[xo + c];
#endif
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let t = wid.x;
    let xo = p.x_off + t * p.x_stride;
    let bo = p.b_off + t * p.b_stride;
    var m = 0.0;
    for (var c = li; c < p.cols; c += WG) { m = max(m, abs(value(xo, bo, c))); }
    let sc = limb_scale(wg_max(m, li));
    for (var g = li; g < p.cols / 4u; g += WG) {
        let c = 4u * g;
        let v = vec4<f32>(value(xo, bo, c), value(xo, bo, c + 1u), value(xo, bo, c + 2u), value(xo, bo, c + 3u));
        limb_put(limb_word(t, g, p.nb), p.nb, limb_digits(v, sc.k));
    }
    if (li == 0u) { XF[p.xf_s + t] = sc.s; }
}
