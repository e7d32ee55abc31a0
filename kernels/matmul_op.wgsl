// Tiled matrix product for prefill, outer-product form: y_t = W x_t for many
// tokens. Source: quant.wgsl, weight_op.wgsl, tile_fetch.wgsl,
// matmul_op.wgsl (in that order).
//
// A candidate, not yet used by the engine (tools/bench-kernels.mjs and the
// kernel suite run it): on an H200 its 8x8 tile matches matmul.wgsl's 4x8 on
// the tallest e2b matrix (30 vs 29 TFLOP/s), and split K in two lifts the
// 1536-row matrices (96 workgroups of matmul.wgsl's tile) from 17.6 to 19.3
// TFLOP/s, once a second pass adds the partial sums (docs/PERF.md).
//
// Defines
//   TYPE_<T>   weight format (as matvec.wgsl)
//   TM, TN     rows and tokens per thread (4 or 8); the 256 threads form a
//              16 x 16 grid, so a workgroup computes a BM x BN = 16*TM x 16*TN tile
//   BK         K step (8, 16 or 32); workgroup memory is (BM + BN) * BK * 4 bytes
//
// Bindings and Params: weight_op.wgsl, where any n_tok >= 1
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
// and tokens 4(ty + 16j) + 0..3 (i < TM/4, j < TN/4), so a warp's row reads
// are 16 consecutive vec4 (no bank conflicts) and its token reads are
// broadcasts. The accumulators are up to four named 4x4 matrices, never an
// array indexed in a loop: a compiler that does not unroll such a loop
// moves the array to local memory (matmul.wgsl's 8x8 tile runs at 1-2
// TFLOP/s on an H100/H200 for that reason). The next step's slices are loaded into
// registers while the current one computes.

const BM: u32 = 16u * TM;
const BN: u32 = 16u * TN;
const TM4: u32 = TM / 4u;
const TN4: u32 = TN / 4u;

var<workgroup> ws: array<vec4<f32>, BK * BM / 4u>;  // ws[k * BM/4 + m/4][m % 4]
var<workgroup> xs: array<vec4<f32>, BK * BN / 4u>;  // xs[k * BN/4 + n/4][n % 4]

// scatter 4 values along K into column e of vec4 o, o + s, o + 2s, o + 3s
fn put_w(o: u32, s: u32, e: u32, v: vec4<f32>) {
    ws[o][e] = v.x;
    ws[o + s][e] = v.y;
    ws[o + 2u * s][e] = v.z;
    ws[o + 3u * s][e] = v.w;
}
fn put_x(o: u32, s: u32, e: u32, v: vec4<f32>) {
    xs[o][e] = v.x;
    xs[o + s][e] = v.y;
    xs[o + 2u * s][e] = v.z;
    xs[o + 3u * s][e] = v.w;
}

fn stash(li: u32) {
    for (var i = 0u; i < WL; i++) {
        let c = li + 256u * i;
        if (c < WN) {
            let m = c / (BK / 8u);
            let o = 8u * (c % (BK / 8u)) * (BM / 4u) + m / 4u;
            put_w(o, BM / 4u, m % 4u, wr[i][0]);
            put_w(o + 4u * (BM / 4u), BM / 4u, m % 4u, wr[i][1]);
        }
    }
    for (var i = 0u; i < XL; i++) {
        let c = li + 256u * i;
        if (c < XN) {
            let n = c / (BK / 4u);
            put_x(4u * (c % (BK / 4u)) * (BN / 4u) + n / 4u, BN / 4u, n % 4u, xr[i]);
        }
    }
}

// m += a b^T: column c of m (four rows) gains a * b[c]
fn op(m: mat4x4<f32>, a: vec4<f32>, b: vec4<f32>) -> mat4x4<f32> {
    return mat4x4<f32>(fma(a, vec4<f32>(b.x), m[0]), fma(a, vec4<f32>(b.y), m[1]),
                       fma(a, vec4<f32>(b.z), m[2]), fma(a, vec4<f32>(b.w), m[3]));
}

// one column of a 4x4 block: token t, rows r .. r+3
fn put_y(y_off: u32, r: u32, t: u32, v: vec4<f32>) {
    if (t >= p.n_tok) { return; }
    let yo = y_off + t * p.y_stride + r;
    if (r < p.rows) { Y[yo] = softcap(v.x); }
    if (r + 1u < p.rows) { Y[yo + 1u] = softcap(v.y); }
    if (r + 2u < p.rows) { Y[yo + 2u] = softcap(v.z); }
    if (r + 3u < p.rows) { Y[yo + 3u] = softcap(v.w); }
}
fn put_block(y_off: u32, r: u32, t: u32, m: mat4x4<f32>) {
    put_y(y_off, r, t, m[0]);
    put_y(y_off, r, t + 1u, m[1]);
    put_y(y_off, r, t + 2u, m[2]);
    put_y(y_off, r, t + 3u, m[3]);
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
    // block (i, j): rows 4(tx + 16i) + 0..3, tokens 4(ty + 16j) + 0..3
    var m00 = mat4x4<f32>();
    var m01 = mat4x4<f32>();
    var m10 = mat4x4<f32>();
    var m11 = mat4x4<f32>();
    fetch(li, r0, n0, kbeg, kend, row_bytes);
    for (var k0 = kbeg; k0 < kend; k0 += BK) {
        workgroupBarrier();  // the previous step is consumed
        stash(li);
        workgroupBarrier();
        if (k0 + BK < kend) { fetch(li, r0, n0, k0 + BK, kend, row_bytes); }
        for (var k = 0u; k < BK; k++) {
            let a0 = ws[k * (BM / 4u) + tx];
            let b0 = xs[k * (BN / 4u) + ty];
            m00 = op(m00, a0, b0);
            if (TN4 > 1u) {
                let b1 = xs[k * (BN / 4u) + ty + 16u];
                m01 = op(m01, a0, b1);
                if (TM4 > 1u) { m11 = op(m11, ws[k * (BM / 4u) + tx + 16u], b1); }
            }
            if (TM4 > 1u) { m10 = op(m10, ws[k * (BM / 4u) + tx + 16u], b0); }
        }
    }
    let r = r0 + 4u * tx;
    let t = n0 + 4u * ty;
    put_block(y_off, r, t, m00);
    if (TN4 > 1u) { put_block(y_off, r, t + 64u, m01); }
    if (TM4 > 1u) { put_block(y_off, r + 64u, t, m10); }
    if (TM4 > 1u && TN4 > 1u) { put_block(y_off, r + 64u, t + 64u, m11); }
}
