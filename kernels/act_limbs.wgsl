// Activations as three int8 limbs, for the integer tensor-core matmul
// (matmul_smx.wgsl). One workgroup per token t:
//   s_t = 2^(E-6), where max_c |x[t][c]| = f * 2^E with f in [0.5, 1), so
//   every |x / s_t| < 64;
//   n = round(x * 65536 / s_t), an integer below 2^22 in magnitude, written as
//   three balanced base-256 digits n = 65536 l0 + 256 l1 + l2 (each in
//   [-128, 127]); x = s_t n / 65536 to within s_t / 2^17, i.e. about 2^-23 of the
//   token's largest value (f32's own epsilon is 2^-24).
//
// Layout (tiled, so that one 16-token x 32-column fragment is 512 contiguous
// bytes, which the matmul loads straight from storage): token t's limb l,
// columns 32 b .. 32 b + 31, are bytes [32 (t % 16), 32 (t % 16) + 32) of the
// 128-word tile ((t / 16) * 3 + l) * nb + b.
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
// Source: common.wgsl, reduce.wgsl (wg_max), act_limbs.wgsl. Defines: WG = 256
// (with SUBGROUPS: SGMIN, as reduce.wgsl), GLU.
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

// x as the integer n (see above) for the token's exponent e
fn fixed(x: f32, e: i32) -> i32 { return i32(round(ldexp(x, 22 - e))); }

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let t = wid.x;
    let xo = p.x_off + t * p.x_stride;
    let bo = p.b_off + t * p.b_stride;
    var m = 0.0;
    for (var c = li; c < p.cols; c += WG) { m = max(m, abs(value(xo, bo, c))); }
    let mx = wg_max(m, li);
    var e = 0;
    if (mx > 0.0) { e = frexp(mx).exp; }
    let tile0 = (t / 16u) * 3u * p.nb;   // limb 0's first tile of this token's group
    let inner = (t % 16u) * 8u;          // the token's first word within a tile
    for (var g = li; g < p.cols / 4u; g += WG) {
        var w0 = 0u;
        var w1 = 0u;
        var w2 = 0u;
        for (var i = 0u; i < 4u; i++) {
            let n = fixed(value(xo, bo, 4u * g + i), e);
            let l2 = ((n + 128) & 255) - 128;
            let n1 = (n - l2) >> 8u;
            let l1 = ((n1 + 128) & 255) - 128;
            let l0 = (n1 - l1) >> 8u;
            w0 |= (u32(l0) & 255u) << (8u * i);
            w1 |= (u32(l1) & 255u) << (8u * i);
            w2 |= (u32(l2) & 255u) << (8u * i);
        }
        let o = (tile0 + g / 8u) * 128u + inner + g % 8u;
        XL[o] = w0;
        XL[o + p.nb * 128u] = w1;
        XL[o + 2u * p.nb * 128u] = w2;
    }
    if (li == 0u) { XF[p.xf_s + t] = ldexp(1.0, e - 6); }
}
