// Tiled matrix product for prefill: y_t = W x_t for many tokens.
// Source: quant.wgsl, matmul.wgsl (in that order).
//
// Defines
//   TYPE_<T>   weight format (as matvec.wgsl)
//   TM, TN     rows and tokens per thread (4 or 8); the 256 threads form a
//              16 x 16 grid, so a workgroup computes a BM x BN = 16*TM x 16*TN tile
//   BK         K step (8, 16 or 32); workgroup memory is (BM + BN) * BK * 4 bytes
//   (src/gpu/matvec_cfg.c: rl_matmul_config picks them.)
//
// Bindings and Params: exactly as matvec.wgsl, except that any n_tok >= 1
// works, cols needs only be a multiple of 4 for float types (the K tail is
// zero-filled), grid_x is ignored, and pad0 may split K: pad0 = 0 computes
// the whole sum; pad0 = kc > 0 (a multiple of BK) makes workgroup z sum
// columns [z*kc, (z+1)*kc) and write its partial sums at y_off + z*pad1.
// Dispatch (ceil(rows / BM), ceil(n_tok / BN), splits).
//
// Each K step dequantizes a BM x BK slice of W (dq8 from quant.wgsl) and a
// BN x BK slice of X into workgroup memory, both K-major ([k][row] and
// [k][token], four rows or tokens per vec4), then every thread accumulates
// its TM x TN outputs as outer products: per k, TM/4 + TN/4 vec4 reads and
// TM*TN fused multiply-adds. Thread (tx, ty) owns rows 4(tx + 16i) + 0..3
// and tokens 4(ty + 16j) + 0..3, so a warp's row reads are 16 consecutive
// vec4 (no bank conflicts) and its token reads are broadcasts. The next
// step's slices are loaded into registers while the current one computes.

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
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<u32>;
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;

const BM: u32 = 16u * TM;
const BN: u32 = 16u * TN;
const TM4: u32 = TM / 4u;
const TN4: u32 = TN / 4u;

var<workgroup> ws: array<vec4<f32>, BK * BM / 4u>;  // ws[k * BM/4 + m/4][m % 4]
var<workgroup> xs: array<vec4<f32>, BK * BN / 4u>;  // xs[k * BN/4 + n/4][n % 4]

fn softcap(y: f32) -> f32 {
    if (p.softcap > 0.0) { return p.softcap * tanh(clamp(y / p.softcap, -15.0, 15.0)); }
    return y;
}

// Per K step, each thread loads WL runs of 8 weights and XL vec4 of X; the
// next step's are fetched into registers while this step computes. Run c is
// row c % BM, columns 8 * (c / BM) .. +7 of the step; vec4 c of X is token
// c % BN, columns 4 * (c / BN) .. +3: neighbouring threads store to
// neighbouring words of workgroup memory.
const WN: u32 = BM * (BK / 8u);
const XN: u32 = BN * (BK / 4u);
const WL: u32 = (WN + 255u) / 256u;
const XL: u32 = (XN + 255u) / 256u;

var<private> wr: array<array<vec4<f32>, 2>, WL>;
var<private> xr: array<vec4<f32>, XL>;

fn fetch(li: u32, r0: u32, n0: u32, k0: u32, k1: u32, row_bytes: u32) {
    for (var i = 0u; i < WL; i++) {
        let c = li + 256u * i;
        if (c < WN) {
            let k = k0 + 8u * (c / BM);
            let v = dq8(p.w_off + min(r0 + c % BM, p.rows - 1u) * row_bytes, k >> 3u);
            // K tail (float types only: quant rows are whole blocks of >= 32)
            wr[i][0] = select(v[0], vec4<f32>(0.0), k >= k1);
            wr[i][1] = select(v[1], vec4<f32>(0.0), k + 4u >= k1);
        }
    }
    for (var i = 0u; i < XL; i++) {
        let c = li + 256u * i;
        if (c < XN) {
            let k = k0 + 4u * (c / BN);
            let t = min(n0 + c % BN, p.n_tok - 1u);
            var v = vec4<f32>(0.0);
            if (k < k1) { v = X[(p.x_off + t * p.x_stride + k) >> 2u]; }
            xr[i] = v;
        }
    }
}

fn stash(li: u32) {
    for (var i = 0u; i < WL; i++) {
        let c = li + 256u * i;
        if (c < WN) {
            let m = c % BM;
            let o = 8u * (c / BM) * (BM / 4u) + m / 4u;
            let e = m % 4u;
            for (var q = 0u; q < 4u; q++) {
                ws[o + q * (BM / 4u)][e] = wr[i][0][q];
                ws[o + (q + 4u) * (BM / 4u)][e] = wr[i][1][q];
            }
        }
    }
    for (var i = 0u; i < XL; i++) {
        let c = li + 256u * i;
        if (c < XN) {
            let n = c % BN;
            let o = 4u * (c / BN) * (BN / 4u) + n / 4u;
            for (var q = 0u; q < 4u; q++) { xs[o + q * (BN / 4u)][n % 4u] = xr[i][q]; }
        }
    }
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let tx = li & 15u;
    let ty = li >> 4u;
    let r0 = wid.x * BM;
    let n0 = wid.y * BN;
    let row_bytes = (p.cols / QK) * QB;
    var kbeg = 0u;
    var kend = p.cols;
    var y_off = p.y_off;
    if (p.pad0 > 0u) {
        kbeg = wid.z * p.pad0;
        kend = min(p.cols, kbeg + p.pad0);
        y_off += wid.z * p.pad1;
    }
    var acc: array<vec4<f32>, TM * TN / 4u>;  // [(i * TN4 + j) * 4 + c]: rows of token 4(ty+16j)+c
    fetch(li, r0, n0, kbeg, kend, row_bytes);
    for (var k0 = kbeg; k0 < kend; k0 += BK) {
        workgroupBarrier();  // the previous step is consumed
        stash(li);
        workgroupBarrier();
        if (k0 + BK < kend) { fetch(li, r0, n0, k0 + BK, kend, row_bytes); }
        for (var k = 0u; k < BK; k++) {
            var a: array<vec4<f32>, TM4>;
            var b: array<vec4<f32>, TN4>;
            for (var i = 0u; i < TM4; i++) { a[i] = ws[k * (BM / 4u) + tx + 16u * i]; }
            for (var j = 0u; j < TN4; j++) { b[j] = xs[k * (BN / 4u) + ty + 16u * j]; }
            for (var i = 0u; i < TM4; i++) {
                for (var j = 0u; j < TN4; j++) {
                    let o = (i * TN4 + j) * 4u;
                    acc[o] = fma(a[i], vec4<f32>(b[j].x), acc[o]);
                    acc[o + 1u] = fma(a[i], vec4<f32>(b[j].y), acc[o + 1u]);
                    acc[o + 2u] = fma(a[i], vec4<f32>(b[j].z), acc[o + 2u]);
                    acc[o + 3u] = fma(a[i], vec4<f32>(b[j].w), acc[o + 3u]);
                }
            }
        }
    }
    for (var j = 0u; j < TN4; j++) {
        for (var c = 0u; c < 4u; c++) {
            let t = n0 + 4u * (ty + 16u * j) + c;
            if (t < p.n_tok) {
                for (var i = 0u; i < TM4; i++) {
                    let r = r0 + 4u * (tx + 16u * i);
                    let v = acc[(i * TN4 + j) * 4u + c];
                    let yo = y_off + t * p.y_stride + r;
                    if (r < p.rows) { Y[yo] = softcap(v.x); }
                    if (r + 1u < p.rows) { Y[yo + 1u] = softcap(v.y); }
                    if (r + 2u < p.rows) { Y[yo + 2u] = softcap(v.z); }
                    if (r + 3u < p.rows) { Y[yo + 3u] = softcap(v.w); }
                }
            }
        }
    }
}
