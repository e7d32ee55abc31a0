// Tiled matrix product for prefill: y_t = W x_t for many tokens.
// Source: quant.wgsl, weight_op.wgsl, matmul.wgsl (in that order).
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

// Per K step, each thread loads WL runs of 8 weights and XL vec4 of X; the
// next step's are fetched into registers while this step computes.
const WN: u32 = BM * (BK / 8u);
const XN: u32 = BN * (BK / 4u);
const WL: u32 = (WN + 255u) / 256u;
const XL: u32 = (XN + 255u) / 256u;

var<private> wr: array<array<vec4<f32>, 2>, WL>;
var<private> xr: array<vec4<f32>, XL>;

// W slice: BM rows x BK/8 runs of 8 (runs of a row on neighbouring threads);
// X slice: BN tokens x BK/4 vec4 (tokens past n_tok repeat the last one).
fn fetch(li: u32, r0: u32, n0: u32, k0: u32, row_bytes: u32) {
    for (var i = 0u; i < WL; i++) {
        let c = li + 256u * i;
        if (c < WN) {
            let m = c / (BK / 8u);
            let k = k0 + 8u * (c % (BK / 8u));
            let v = dq8(p.w_off + min(r0 + m, p.rows - 1u) * row_bytes, k >> 3u);
            // K tail (float types only: quant rows are whole blocks of >= 32)
            wr[i][0] = select(v[0], vec4<f32>(0.0), k >= p.cols);
            wr[i][1] = select(v[1], vec4<f32>(0.0), k + 4u >= p.cols);
        }
    }
    for (var i = 0u; i < XL; i++) {
        let c = li + 256u * i;
        if (c < XN) {
            let k = k0 + 4u * (c % (BK / 4u));
            let t = min(n0 + c / (BK / 4u), p.n_tok - 1u);
            var v = vec4<f32>(0.0);
            if (k < p.cols) { v = X[(p.x_off + t * p.x_stride + k) >> 2u]; }
            xr[i] = v;
        }
    }
}

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
    fetch(li, r0, n0, 0u, row_bytes);
    for (var kt = 0u; kt < nk; kt++) {
        stash(li);
        workgroupBarrier();
        if (kt + 1u < nk) { fetch(li, r0, n0, (kt + 1u) * BK, row_bytes); }
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
