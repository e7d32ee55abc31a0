// The register prefetch shared by the tiled weight products (matmul.wgsl,
// matmul_op.wgsl): each K step, the 256 threads of a workgroup load a BM x BK
// slice of W (dequantized by dq8 from quant.wgsl) and a BN x BK slice of X
// into registers, which the kernel then stashes into its own workgroup layout
// while the next step's are fetched. Needs BM, BN and BK from the kernel and
// Params from weight_op.wgsl.

// Per K step, each thread loads WL runs of 8 weights and XL vec4 of X; the
// next step's are fetched into registers while this step computes. Run c is
// row c / (BK/8), columns 8 * (c % (BK/8)) .. +7 of the step; vec4 c of X is
// token c / (BK/4), columns 4 * (c % (BK/4)) .. +3: neighbouring threads read
// neighbouring bytes of a row.
const WN: u32 = BM * (BK / 8u);
const XN: u32 = BN * (BK / 4u);
const WL: u32 = (WN + 255u) / 256u;
const XL: u32 = (XN + 255u) / 256u;

var<private> wr: array<array<vec4<f32>, 2>, WL>;
var<private> xr: array<vec4<f32>, XL>;

// Columns [k0, k0 + BK) of rows r0.. and tokens n0..; columns >= k1 read as 0
// (the K tail, and the end of a split-K range); tokens past n_tok repeat the
// last one, rows past rows the last one.
fn fetch(li: u32, r0: u32, n0: u32, k0: u32, k1: u32, row_bytes: u32) {
    for (var i = 0u; i < WL; i++) {
        let c = li + 256u * i;
        if (c < WN) {
            let k = k0 + 8u * (c % (BK / 8u));
            let v = dq8(p.w_off + min(r0 + c / (BK / 8u), p.rows - 1u) * row_bytes, k >> 3u);
            // K tail (float types only: quant rows are whole blocks of >= 32)
            wr[i][0] = select(v[0], vec4<f32>(0.0), k >= k1);
            wr[i][1] = select(v[1], vec4<f32>(0.0), k + 4u >= k1);
        }
    }
    for (var i = 0u; i < XL; i++) {
        let c = li + 256u * i;
        if (c < XN) {
            let k = k0 + 4u * (c % (BK / 4u));
            let t = min(n0 + c / (BK / 4u), p.n_tok - 1u);
            var v = vec4<f32>(0.0);
            if (k < k1) { v = X[(p.x_off + t * p.x_stride + k) >> 2u]; }
            xr[i] = v;
        }
    }
}
