// The interface shared by the weight products (matvec.wgsl, matmul.wgsl,
// matmul_op.wgsl): y_t = W x_t with W in raw GGUF blocks. Each kernel's
// header says which n_tok, cols and grid it accepts.
//
// Bindings (group 0)
//   0 uniform Params
//   1 storage read       W: array<u32>        weights, raw GGUF blocks
//                        (array<vec4<u32>> with WVEC: quant.wgsl)
//   2 storage read       X: array<vec4<f32>>  activations, f32
//   3 storage read_write Y: array<f32>        output
//
// Params (16 x 4 bytes, all counts in elements of the binding's scalar type)
//   rows, cols   W is rows x cols; cols a multiple of the block size (float
//                types: of 4)
//   n_tok        tokens
//   w_off        byte offset of row 0 within W (expert slices); a multiple of 4
//                (F32 F16 BF16 Q4_1 Q5_1 Q2_K Q4_K Q5_K) or 2 (the others)
//   x_off        float index of token 0's x within X; multiple of 4
//   x_stride     floats from one token's x to the next; multiple of 4
//   y_off        float index of token 0's y within Y
//   y_stride     floats from one token's y to the next
//   grid_x       workgroups along x in the dispatch grid (see the kernel)
//   softcap      > 0: y = softcap * tanh(y / softcap); 0: off
//   pad0, pad1   unused unless the kernel says otherwise
//   pro_*        the mat-vec's residual prologue (PRO_RES), else unused
// Result: Y[y_off + t*y_stride + r] = sum_c W[r][c] * X[x_off + t*x_stride + c]
// for r < rows, t < n_tok; nothing else in Y is written.

struct Params {
    rows: u32,
    cols: u32,
    n_tok: u32,
    w_off: u32,
    x_off: u32,
    x_stride: u32,
    y_off: u32,
    y_stride: u32,
    grid_x: u32,
    softcap: f32,
    pad0: u32,
    pad1: u32,
    pro_w1: u32,    // matvec PRO_RES only (kernels/matvec.wgsl): float offsets in PV
    pro_w2: u32,
    pro_s: u32,
    pro_flags: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
#ifdef WVEC
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;
#else
@group(0) @binding(1) var<storage, read> W: array<u32>;
#endif
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;

fn softcap(y: f32) -> f32 {
    if (p.softcap > 0.0) {
        // clamped: some tanh implementations overflow in exp for large inputs
        return p.softcap * tanh(clamp(y / p.softcap, -15.0, 15.0));
    }
    return y;
}
