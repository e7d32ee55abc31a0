// Prefill matrix product on integer tensor cores, exact to f32 level:
// y_t = W x_t for Q4_K / Q6_K weights and activations given as three int8
// limbs (act_limbs.wgsl). Source: quant.wgsl, matmul_smx.wgsl.
//
// Why integers: the subgroup matrices this WebGPU offers are i8 x i8 -> i32
// only. A K-quant weight is w = d * q' (- dmin * m_b for Q4_K), with d an f16
// per row and 256 columns (a superblock), and q' = scale * q a small integer
// (Q4_K: 6-bit scale times 4-bit q, 0..945; Q6_K: int8 scale times q - 32,
// -4096..4064). q' is split into two int8 limbs, q' = 128 qh + ql, and the
// activation into three (x = s_t (65536 l0 + 256 l1 + l2) / 65536), so every
// product of a superblock sums exactly in i32 (qh and ql products apart,
// combined as 128 h + l at the superblock's end). Only the per-superblock
// combination of d, the three limb sums and the Q4_K minimum term runs in f32:
//   y = s_t * sum_superblocks (d * (c0 + c1/256 + c2/65536) - sum_b dmin m_b S'_b)
// with c_l = sum over the superblock of q' l_l. The result differs from an f32
// dot product by the activation limbs' residual (~2^-23 of the token's largest
// value) and f32 rounding.
//
// Work: a stage is KC 32-column blocks. Both operands of a stage go to
// workgroup memory (both weight limbs, dequantized to integers, and the BN
// tokens' three activation limbs); then every subgroup multiplies its
// fragments. On an H200 a workgroup barrier costs as much as ~10 fragment
// products, and a fragment operation called through a WGSL function ~5x an
// inline one (tools/probe-smx.mjs): so stages are wide and the hardware inner
// loop is written out inline.
//
// Defines
//   TYPE_Q4_K | TYPE_Q6_K
//   FR2       two 16-row fragments per subgroup (else one); the 8 subgroups
//             form a 2 x 4 grid over BM x BN = 32*FR x 64
//   KC        blocks per stage: 1, 2 or 4 (workgroup memory grows with it)
//   PROF_SKIP_STAGE, PROF_SKIP_MMA, PROF_SKIP_EPI  profiling only (wrong
//             results): leave out loads after the first superblock, the
//             products, or all but the last epilogue (tools/bench-smx.mjs)
//   SMX_HW    use chromium_experimental_subgroup_matrix (16x16x32 i8 -> i32,
//             subgroups of 32); without it the same fragment operations are
//             emulated lane by lane in plain WGSL, so devices without the
//             feature test everything but the hardware inner loop (the device
//             parity test covers that one)
//
// Bindings
//   0 uniform SP
//   1 storage read       W:  array<u32>  weights, raw GGUF blocks (quant.wgsl;
//                        WVEC: array<vec4<u32>>, 16-byte weight loads)
//   2 storage read       XL: array<vec4<i32>>  limbs (act_limbs.wgsl), for tokens
//                        up to n_tok rounded up to BN (their values are never used)
//   3 storage read       XF: array<f32>  s_t and S' (act_limbs.wgsl)
//   4 storage read_write Y:  array<f32>  Y[y_off + t * y_stride + r]
// cols a multiple of 256. Dispatch (ceil(rows / BM), ceil(n_tok / 64), 1).
#ifdef SMX_HW
enable subgroups;
enable chromium_experimental_subgroup_matrix;
diagnostic(off, chromium.subgroup_matrix_uniformity);
#endif

struct SP {
    rows: u32,
    cols: u32,
    n_tok: u32,
    w_off: u32,
    y_off: u32,
    y_stride: u32,
    xl_tok: u32,   // words of XL per token (3 * cols / 4)
    xf_s: u32,
    xf_b: u32,
    nb: u32,       // cols / 32
    softcap: f32,
    pad0: u32,
}

@group(0) @binding(0) var<uniform> p: SP;
#ifdef WVEC
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;
#else
@group(0) @binding(1) var<storage, read> W: array<u32>;
#endif
@group(0) @binding(2) var<storage, read> XL: array<vec4<i32>>;
@group(0) @binding(3) var<storage, read> XF: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;

#ifdef FR2
const FR: u32 = 2u;
#else
const FR: u32 = 1u;
#endif
const BM: u32 = 32u * FR;
const BN: u32 = 64u;
// Staged stage: row r's 32 KC qh bytes at word r * WRW, its ql bytes at
// XQL + r * WRW; token t's limb l (32 KC bytes) at word XS0 + t * XTW + 8 KC l. The 16 bytes of padding per
// row make the row strides odd multiples of 16 bytes, which spreads fragment
// loads over the banks (strides of 32 or 64 bytes measured 2x slower). After
// a superblock the same memory is the epilogue's scratch: three 16 x 16 i32
// fragments per subgroup at word 768 sg.
const WRW: u32 = 8u * KC + 4u;
const XTW: u32 = 24u * KC + 4u;
const XQL: u32 = BM * WRW;
const XS0: u32 = 2u * BM * WRW;
const SMN: u32 = max(XS0 + BN * XTW, 8u * 768u);
var<workgroup> sm: array<i32, SMN>;
var<workgroup> wds: array<f32, BM>;              // d of each row this superblock
#ifdef TYPE_Q4_K
var<workgroup> wmin: array<vec4<f32>, 2u * BM>;  // dmin * m_b, b = 0..7
#endif

// ---- fragment types and the operations outside the inner loop ----
#ifdef SMX_HW
alias LM = subgroup_matrix_left<i8, 32, 16>;
alias RM = subgroup_matrix_right<i8, 16, 32>;
alias RT = subgroup_matrix_result<i32, 16, 16>;
fn rscale(c: RT, f: i32, lane: u32) -> RT { return subgroupMatrixScalarMultiply(c, f); }
fn rzero() -> RT { return RT(); }
// row-major 16 x 16 at word off of sm: element (r, c) at off + 16 r + c
fn rstore(c: RT, off: u32, lane: u32) { subgroupMatrixStore<row_major>(&sm, off, c, 16u); }
#else
// lane L holds elements 32 m + L (row 2 m + L / 16, column L % 16), m = 0..7
alias RT = array<i32, 8>;
fn sbyte(w: i32, k: u32) -> i32 { return (w << (24u - 8u * (k & 3u))) >> 24u; }
// c + A B: A 16 rows x 32 bytes at word a (rows sa words apart), B 32 bytes x
// 16 tokens at word b (tokens sb words apart), both in sm
fn mma(a: u32, sa: u32, b: u32, sb: u32, c: RT, lane: u32) -> RT {
    var r = c;
    let col = lane % 16u;
    for (var m = 0u; m < 8u; m++) {
        let row = 2u * m + lane / 16u;
        var s = 0;
        for (var k = 0u; k < 32u; k++) { s += sbyte(sm[a + row * sa + k / 4u], k) * sbyte(sm[b + col * sb + k / 4u], k); }
        r[m] += s;
    }
    return r;
}
fn rscale(c: RT, f: i32, lane: u32) -> RT {
    var r = c;
    for (var m = 0u; m < 8u; m++) { r[m] *= f; }
    return r;
}
fn rzero() -> RT { return RT(); }
fn rstore(c: RT, off: u32, lane: u32) { for (var m = 0u; m < 8u; m++) { sm[off + 32u * m + lane] = c[m]; } }
#endif

// ---- integer weights: run_hl, the two limbs of q' for elements 8 run .. 8 run + 7
// of the superblock at byte bb; row_d, its d ----
#ifdef TYPE_Q4_K
// (header: k4_sm in quant.wgsl) q' = scale_j * q, j = run / 4
fn sm6(bb: u32, j: u32) -> vec2<u32> {
    let hd = k4_hdr(bb);
    let hi = j >= 4u;
    let sc = select(hd.y & 0x3F3F3F3Fu, (hd.w & 0x0F0F0F0Fu) | ((hd.y >> 2u) & 0x30303030u), hi);
    let mn = select(hd.z & 0x3F3F3F3Fu, ((hd.w >> 4u) & 0x0F0F0F0Fu) | ((hd.z >> 2u) & 0x30303030u), hi);
    let sh = (j & 3u) * 8u;
    return vec2<u32>((sc >> sh) & 0xFFu, (mn >> sh) & 0xFFu);
}
fn row_d(bb: u32) -> f32 { return unpack2x16float(w4(bb)).x; }
// the run's limbs packed four to a word: (qh of elements 0-3, 4-7, ql of 0-3, 4-7).
// Products of a byte pair at a time in 16-bit lanes (scale * q <= 945 < 2^16).
fn run_hl(bb: u32, run: u32) -> vec4<u32> {
    let e = 8u * run;
    let o = bb + 16u + 32u * (e >> 6u) + (e & 31u);
    let sh = 4u * ((e >> 5u) & 1u);
    let sc = sm6(bb, run / 4u).x;
    var r: vec4<u32>;
    for (var i = 0u; i < 2u; i++) {
        let q = (w4(o + 4u * i) >> sh) & 0x0F0F0F0Fu;
        let pe = (q & 0x00FF00FFu) * sc;          // elements 0, 2 of the word
        let po = ((q >> 8u) & 0x00FF00FFu) * sc;  // elements 1, 3
        r[i] = ((pe >> 7u) & 0x00FF00FFu) | (((po >> 7u) & 0x00FF00FFu) << 8u);
        r[2u + i] = (pe & 0x007F007Fu) | ((po & 0x007F007Fu) << 8u);
    }
    return r;
}
#endif
#ifdef TYPE_Q6_K
// (layout: dq8 in quant.wgsl) q' = scale * (q - 32), one int8 scale per 16
fn run_q(bb: u32, run: u32) -> array<i32, 8> {
    let e = 8u * run;
    let h = e >> 7u;
    let k = (e >> 5u) & 3u;
    let l = e & 31u;
    let sc = i32(s8at(bb + 192u + 8u * h + (l >> 4u) + 2u * k));
    let o = bb + 64u * h + l + 32u * (k & 1u);
    let sh = 4u * (k >> 1u);
    let ho = bb + 128u + 32u * h + l;
    let hs = 2u * k;
    let q = array<u32, 2>(((q6w(o) >> sh) & 0x0F0F0F0Fu) | (((q6w(ho) >> hs) & 0x03030303u) << 4u),
                          ((q6w(o + 4u) >> sh) & 0x0F0F0F0Fu) | (((q6w(ho + 4u) >> hs) & 0x03030303u) << 4u));
    var r: array<i32, 8>;
    for (var i = 0u; i < 8u; i++) { r[i] = sc * (i32((q[i / 4u] >> (8u * (i & 3u))) & 0xFFu) - 32); }
    return r;
}
fn row_d(bb: u32) -> f32 { return f16at(bb + 208u); }
fn run_hl(bb: u32, run: u32) -> vec4<u32> {
    let q = run_q(bb, run);
    var r = vec4<u32>(0u);
    for (var e = 0u; e < 8u; e++) {
        r[e / 4u] |= (u32(q[e] >> 7u) & 0xFFu) << (8u * (e & 3u));
        r[2u + e / 4u] |= (u32(q[e]) & 0x7Fu) << (8u * (e & 3u));
    }
    return r;
}
#endif

// A stage (blocks s KC .. s KC + KC - 1 of superblock kb) in two halves, so
// that its loads overlap the previous stage's products (the f32 matmul's
// register prefetch): fetch() reads both weight limbs of rows r0 .. r0 + BM - 1
// (rows past the matrix repeat the last; dequantized on the way) and the three
// activation limbs of tokens n0 .. n0 + BN - 1 into registers; stash() writes
// them to workgroup memory, with d and the minimum terms of the blocks it
// starts.
const WRUNS: u32 = (BM * 4u * KC + 255u) / 256u; // weight runs (8 weights) per thread
const XV: u32 = (BN * 6u * KC + 255u) / 256u;    // activation vec4s per thread
struct Staged {
    w: array<vec4<u32>, WRUNS>, // qh of elements 0-3, 4-7, ql of 0-3, 4-7
    m: array<vec2<f32>, WRUNS>, // d, dmin * m_b of the run's row and block
    x: array<vec4<i32>, XV>,
}

fn fetch(st: ptr<function, Staged>, li: u32, r0: u32, n0: u32, kb: u32, s: u32, row_bytes: u32) {
    for (var k = 0u; k < WRUNS; k++) {
        let i = li + 256u * k;
        if (i < BM * 4u * KC) {
            let rl = i / (4u * KC);
            let run = s * 4u * KC + i % (4u * KC); // run within the superblock (block run / 4)
            let bb = p.w_off + min(r0 + rl, p.rows - 1u) * row_bytes + kb * QB;
            (*st).w[k] = run_hl(bb, run);
            var m = vec2<f32>(row_d(bb), 0.0);
#ifdef TYPE_Q4_K
            m.y = unpack2x16float(w4(bb)).y * f32(sm6(bb, run / 4u).y);
#endif
            (*st).m[k] = m;
        }
    }
    // activations: 16-byte loads (a token's limb at xl_tok / 4 * t + cols / 16 * l vec4s)
    let xo = (kb * 256u + 32u * KC * s) / 16u;
    for (var k = 0u; k < XV; k++) {
        let i = li + 256u * k;
        if (i < BN * 6u * KC) {
            let t = i / (6u * KC);
            let l = (i % (6u * KC)) / (2u * KC);
            (*st).x[k] = XL[(n0 + t) * (p.xl_tok / 4u) + l * (p.cols / 16u) + xo + i % (2u * KC)];
        }
    }
}

fn stash(st: ptr<function, Staged>, li: u32, s: u32) {
    for (var k = 0u; k < WRUNS; k++) {
        let i = li + 256u * k;
        if (i < BM * 4u * KC) {
            let rl = i / (4u * KC);
            let ri = i % (4u * KC);
            let run = s * 4u * KC + ri;
            let v = bitcast<vec4<i32>>((*st).w[k]);
            let o = rl * WRW + 2u * ri;
            sm[o] = v.x;
            sm[o + 1u] = v.y;
            sm[XQL + o] = v.z;
            sm[XQL + o + 1u] = v.w;
            if ((run & 3u) == 0u) {
                let b = run / 4u;
                if (b == 0u) { wds[rl] = (*st).m[k].x; }
#ifdef TYPE_Q4_K
                wmin[2u * rl + b / 4u][b & 3u] = (*st).m[k].y;
#endif
            }
        }
    }
    for (var k = 0u; k < XV; k++) {
        let i = li + 256u * k;
        if (i < BN * 6u * KC) {
            let t = i / (6u * KC);
            let l = (i % (6u * KC)) / (2u * KC);
            let d = XS0 + t * XTW + 8u * KC * l + 4u * (i % (2u * KC));
            let v = (*st).x[k];
            sm[d] = v.x;
            sm[d + 1u] = v.y;
            sm[d + 2u] = v.z;
            sm[d + 3u] = v.w;
        }
    }
}

// One fragment's superblock into o: its qh sums (h0..h2) and ql sums
// (l0..l2) pass through this subgroup's scratch (word 768 sg of sm), and
// c_l = 128 h_l + l_l is combined with d and the Q4_K minimum term. Row
// fragment i of this subgroup, tokens tb .. tb + 15.
fn epilogue(o: ptr<function, array<f32, 8>>, h0: RT, h1: RT, h2: RT, l0: RT, l1: RT, l2: RT, sg: u32, i: u32,
            tb: u32, kb: u32, lane: u32) {
    let scr = sg * 768u;
    let sr = sg / 4u;
    var c: array<vec3<i32>, 8>;
    workgroupBarrier();
    rstore(h0, scr, lane); rstore(h1, scr + 256u, lane); rstore(h2, scr + 512u, lane);
    workgroupBarrier();
    for (var m = 0u; m < 8u; m++) {
        let e = scr + 32u * m + lane;
        c[m] = 128 * vec3<i32>(sm[e], sm[e + 256u], sm[e + 512u]);
    }
    workgroupBarrier();
    rstore(l0, scr, lane); rstore(l1, scr + 256u, lane); rstore(l2, scr + 512u, lane);
    workgroupBarrier();
#ifdef TYPE_Q4_K
    let t = min(tb + lane % 16u, p.n_tok - 1u);
    let sb = p.xf_b + t * p.nb + 8u * kb;
    let s0 = vec4<f32>(XF[sb], XF[sb + 1u], XF[sb + 2u], XF[sb + 3u]);
    let s1 = vec4<f32>(XF[sb + 4u], XF[sb + 5u], XF[sb + 6u], XF[sb + 7u]);
#endif
    for (var m = 0u; m < 8u; m++) {
        let e = scr + 32u * m + lane;
        let cm = c[m] + vec3<i32>(sm[e], sm[e + 256u], sm[e + 512u]);
        let rr = sr * 16u * FR + 16u * i + 2u * m + lane / 16u;
        let v = f32(cm.x) + f32(cm.y) * (1.0 / 256.0) + f32(cm.z) * (1.0 / 65536.0);
        var d = wds[rr] * v;
#ifdef TYPE_Q4_K
        d -= dot(wmin[2u * rr], s0) + dot(wmin[2u * rr + 1u], s1);
#endif
        (*o)[m] += d;
    }
}

// Y for rows rb .. rb + 15, tokens tb .. tb + 15 (lane: token tb + lane % 16, rows rb + 2m + lane / 16)
fn write_out(o: ptr<function, array<f32, 8>>, rb: u32, tb: u32, lane: u32) {
    let t = tb + lane % 16u;
    if (t >= p.n_tok) { return; }
    let s = XF[p.xf_s + t];
    for (var m = 0u; m < 8u; m++) {
        let r = rb + 2u * m + lane / 16u;
        if (r < p.rows) {
            var y = s * (*o)[m];
            if (p.softcap > 0.0) { y = p.softcap * tanh(clamp(y / p.softcap, -15.0, 15.0)); }
            Y[p.y_off + t * p.y_stride + r] = y;
        }
    }
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>
#ifdef SMX_HW
        , @builtin(subgroup_id) sgid: u32, @builtin(subgroup_invocation_id) sgl: u32
#endif
) {
#ifdef SMX_HW
    let sg = sgid;
    let lane = sgl;
#else
    let sg = li / 32u;
    let lane = li % 32u;
#endif
    let sr = sg / 4u;   // this subgroup's fragments: rows r0 + (sr FR + i) 16 .., tokens n0 + 16 sc ..
    let sc = sg % 4u;
    let r0 = wid.x * BM;
    let n0 = wid.y * BN;
    let row_bytes = (p.cols / 256u) * QB;
    let ra = sr * 16u * FR * WRW;    // this subgroup's first weight fragment in sm
    let xa = XS0 + 16u * sc * XTW;   // its activation fragments
    // accumulators cI{h,l}L: row fragment I, weight limb qh / ql, activation limb L
    var c0h0: RT; var c0h1: RT; var c0h2: RT; var c0l0: RT; var c0l1: RT; var c0l2: RT; var o0: array<f32, 8>;
#ifdef FR2
    var c1h0: RT; var c1h1: RT; var c1h2: RT; var c1l0: RT; var c1l1: RT; var c1l2: RT; var o1: array<f32, 8>;
#endif
    var st: Staged;
    fetch(&st, li, r0, n0, 0u, 0u, row_bytes);
    let nsb = p.cols / 256u;
    for (var kb = 0u; kb < nsb; kb++) {
        c0h0 = rzero(); c0h1 = rzero(); c0h2 = rzero(); c0l0 = rzero(); c0l1 = rzero(); c0l2 = rzero();
#ifdef FR2
        c1h0 = rzero(); c1h1 = rzero(); c1h2 = rzero(); c1l0 = rzero(); c1l1 = rzero(); c1l2 = rzero();
#endif
        for (var s = 0u; s < 8u / KC; s++) {
            workgroupBarrier(); // the previous stage's fragments (or epilogue) are done with sm
            stash(&st, li, s);
            workgroupBarrier();
            // the next stage's loads, in flight during this stage's products
            let last = s + 1u == 8u / KC;
#ifdef PROF_SKIP_STAGE
            if (kb == 0u && !last) { fetch(&st, li, r0, n0, kb, s + 1u, row_bytes); }
#else
            if (!last) {
                fetch(&st, li, r0, n0, kb, s + 1u, row_bytes);
            } else if (kb + 1u < nsb) {
                fetch(&st, li, r0, n0, kb + 1u, 0u, row_bytes);
            }
#endif
#ifdef PROF_SKIP_MMA
            for (var bi = 0u; bi < 0u; bi++) {
#else
            for (var bi = 0u; bi < KC; bi++) {
#endif
                let ao = ra + 8u * bi;
                let xo = xa + 8u * bi;
#ifdef SMX_HW
                let ah0 = subgroupMatrixLoad<LM, row_major>(&sm, ao, WRW);
                let al0 = subgroupMatrixLoad<LM, row_major>(&sm, XQL + ao, WRW);
#ifdef FR2
                let ah1 = subgroupMatrixLoad<LM, row_major>(&sm, ao + 16u * WRW, WRW);
                let al1 = subgroupMatrixLoad<LM, row_major>(&sm, XQL + ao + 16u * WRW, WRW);
#endif
                var x = subgroupMatrixLoad<RM, col_major>(&sm, xo, XTW);
                c0h0 = subgroupMatrixMultiplyAccumulate(ah0, x, c0h0);
                c0l0 = subgroupMatrixMultiplyAccumulate(al0, x, c0l0);
#ifdef FR2
                c1h0 = subgroupMatrixMultiplyAccumulate(ah1, x, c1h0);
                c1l0 = subgroupMatrixMultiplyAccumulate(al1, x, c1l0);
#endif
                x = subgroupMatrixLoad<RM, col_major>(&sm, xo + 8u * KC, XTW);
                c0h1 = subgroupMatrixMultiplyAccumulate(ah0, x, c0h1);
                c0l1 = subgroupMatrixMultiplyAccumulate(al0, x, c0l1);
#ifdef FR2
                c1h1 = subgroupMatrixMultiplyAccumulate(ah1, x, c1h1);
                c1l1 = subgroupMatrixMultiplyAccumulate(al1, x, c1l1);
#endif
                x = subgroupMatrixLoad<RM, col_major>(&sm, xo + 16u * KC, XTW);
                c0h2 = subgroupMatrixMultiplyAccumulate(ah0, x, c0h2);
                c0l2 = subgroupMatrixMultiplyAccumulate(al0, x, c0l2);
#ifdef FR2
                c1h2 = subgroupMatrixMultiplyAccumulate(ah1, x, c1h2);
                c1l2 = subgroupMatrixMultiplyAccumulate(al1, x, c1l2);
#endif
#else
                c0h0 = mma(ao, WRW, xo, XTW, c0h0, lane);
                c0h1 = mma(ao, WRW, xo + 8u * KC, XTW, c0h1, lane);
                c0h2 = mma(ao, WRW, xo + 16u * KC, XTW, c0h2, lane);
                c0l0 = mma(XQL + ao, WRW, xo, XTW, c0l0, lane);
                c0l1 = mma(XQL + ao, WRW, xo + 8u * KC, XTW, c0l1, lane);
                c0l2 = mma(XQL + ao, WRW, xo + 16u * KC, XTW, c0l2, lane);
#ifdef FR2
                c1h0 = mma(ao + 16u * WRW, WRW, xo, XTW, c1h0, lane);
                c1h1 = mma(ao + 16u * WRW, WRW, xo + 8u * KC, XTW, c1h1, lane);
                c1h2 = mma(ao + 16u * WRW, WRW, xo + 16u * KC, XTW, c1h2, lane);
                c1l0 = mma(XQL + ao + 16u * WRW, WRW, xo, XTW, c1l0, lane);
                c1l1 = mma(XQL + ao + 16u * WRW, WRW, xo + 8u * KC, XTW, c1l1, lane);
                c1l2 = mma(XQL + ao + 16u * WRW, WRW, xo + 16u * KC, XTW, c1l2, lane);
#endif
#endif
            }
        }
#ifdef PROF_SKIP_EPI
        if (kb + 1u < nsb) { continue; }
#endif
        epilogue(&o0, c0h0, c0h1, c0h2, c0l0, c0l1, c0l2, sg, 0u, n0 + 16u * sc, kb, lane);
#ifdef FR2
        epilogue(&o1, c1h0, c1h1, c1h2, c1l0, c1l1, c1l2, sg, 1u, n0 + 16u * sc, kb, lane);
#endif
    }
    write_out(&o0, r0 + sr * 16u * FR, n0 + 16u * sc, lane);
#ifdef FR2
    write_out(&o1, r0 + sr * 32u + 16u, n0 + 16u * sc, lane);
#endif
}
