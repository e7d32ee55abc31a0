// Tiled matrix product for prefill: y_t = W x_t for many tokens.
// Source: quant.wgsl, weight_op.wgsl, tile_fetch.wgsl, matmul.wgsl (in that
// order).
//
// Defines
//   TYPE_<T>   weight format (as matvec.wgsl)
//   TM, TN     rows and tokens per thread (1, 2, 4 or 8); the 256 threads form a
//              16 x 16 grid, so a workgroup computes a BM x BN = 16*TM x 16*TN tile
//   BK         K step (8, 16 or 32); workgroup memory is (BM + BN) * (BK + 4) * 4 bytes
//   (src/gpu/matvec_cfg.c: rl_matmul_config picks them. It never picks 8 x 8:
//   the 64 accumulators, an array indexed in loops, end up in local memory
//   on NVIDIA's Vulkan compiler, 1-2 TFLOP/s; 4 x 8 reaches 29 on an H100/H200.)
//
// Bindings and Params: weight_op.wgsl, where any n_tok >= 1
// works, cols needs only be a multiple of 4 for float types (the K tail is
// zero-filled), and grid_x is ignored: dispatch
// (ceil(rows / BM), ceil(n_tok / BN), 1).
//
// Each K step dequantizes a BM x BK slice of W (dq8 from quant.wgsl) and a
// BN x BK slice of X into workgroup memory, row-major with one vec4 of padding
// per row (conflict-free vec4 reads), then every thread accumulates its
// TM x TN outputs (rows tx + 16i, tokens ty + 16j) with fused multiply-adds
// over the step's K. The next step's slices are loaded into registers while
// the current one computes (one workgroup barrier pair per step).

const BM: u32 = 16u * TM;
const BN: u32 = 16u * TN;
const KS: u32 = BK / 4u + 1u;  // row stride of the tiles, in vec4

var<workgroup> ws: array<vec4<f32>, BM * KS>;
var<workgroup> xs: array<vec4<f32>, BN * KS>;

// fetch() fills the registers wr, xr (tile_fetch.wgsl); stash() writes them to the tiles
fn stash(li: u32) {
    for (var i = 0u; i < WL; i++) {
        let c = li + 256u * i;
        if (c < WN) {
            let o = (c / (BK / 8u)) * KS + 2u * (c % (BK / 8u));
            ws[o] = wr[i][0];
            ws[o + 1u] = wr[i][1];
        }
    }
    for (var i = 0u; i < XL; i++) {
        let c = li + 256u * i;
        if (c < XN) { xs[(c / (BK / 4u)) * KS + c % (BK / 4u)] = xr[i]; }
    }
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let tx = li & 15u;
    let ty = li >> 4u;
    let r0 = wid.x * BM;
    let n0 = wid.y * BN;
    let row_bytes = (p.cols / QK) * QB;
    var acc: array<f32, TM * TN>;
    let nk = (p.cols + BK - 1u) / BK;
    fetch(li, r0, n0, 0u, p.cols, row_bytes);
    for (var kt = 0u; kt < nk; kt++) {
        stash(li);
        workgroupBarrier();
        if (kt + 1u < nk) { fetch(li, r0, n0, (kt + 1u) * BK, p.cols, row_bytes); }
        for (var kq = 0u; kq < BK / 4u; kq++) {
            var a: array<vec4<f32>, TM>;
            var b: array<vec4<f32>, TN>;
            for (var i = 0u; i < TM; i++) { a[i] = ws[(tx + 16u * i) * KS + kq]; }
            for (var j = 0u; j < TN; j++) { b[j] = xs[(ty + 16u * j) * KS + kq]; }
            for (var i = 0u; i < TM; i++) {
                for (var j = 0u; j < TN; j++) {
                    var s = acc[i * TN + j];
                    s = fma(a[i].x, b[j].x, s);
                    s = fma(a[i].y, b[j].y, s);
                    s = fma(a[i].z, b[j].z, s);
                    s = fma(a[i].w, b[j].w, s);
                    acc[i * TN + j] = s;
                }
            }
        }
        workgroupBarrier();
    }
    for (var j = 0u; j < TN; j++) {
        let t = n0 + ty + 16u * j;
        for (var i = 0u; i < TM; i++) {
            let r = r0 + tx + 16u * i;
            if (r < p.rows && t < p.n_tok) { Y[p.y_off + t * p.y_stride + r] = softcap(acc[i * TN + j]); }
        }
    }
}
