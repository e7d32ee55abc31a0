// Prefill matrix product on integer tensor cores: y_t = W x_t for weights packed
// at load as 16-bit integer rows (smx_pack.wgsl: w = s_r (256 h + l)) and
// activations as three int8 limbs (act_limbs.wgsl: x = s_t (65536 a0 + 256 a1
// + a2) / 65536). The subgroup matrices this WebGPU offers are i8 x i8 -> i32,
// so the product is a sum of limb products, each summed exactly in i32 over
// the whole row (|h|, |l|, |a| <= 128, so two products a column stay below 2^15
// and a row of 65536 columns below 2^31):
//   y = s_r s_t (256 C2 + C1 + C0 / 256),
//   C2 = sum h a0,  C1 = sum h a1 + l a0,  C0 = sum h a2 + l a1.
// l a2 (2^-24 of the leading term) is left out. Against the f32 product of the
// file's weights the result differs by the 16-bit rounding of the weights
// (2^-16 of the row's largest), the activations' residual (2^-23 of the
// token's largest) and f32 rounding.
// LIMBS2: activations as two limbs, x = s_t (256 a0 + a1), rounded to 16 bits
// like the weights (2^-16 of the token's largest); then y = s_r s_t (65536 C2 +
// 256 C1), C2 = sum h a0, C1 = sum h a1 + l a0, and l a1 (2^-16 of the leading
// term) is left out: 3 products and 2 accumulators a token group instead of 5
// and 3, so a subgroup needs far fewer registers.
//
// Work: a workgroup is 8 subgroups, 128 rows x 64 tokens; a subgroup owns 16
// rows x 64 tokens (4 output fragments). Both operands are tiled so that a
// fragment is 512 contiguous bytes (3-4x faster than row-major operands,
// tools/probe-smx-direct.mjs). Per 32-column block a subgroup loads its 2
// weight fragments (h and l of its row group) straight from storage, the next
// block's before this block's products, and reads the workgroup's 12 (LIMBS2: 8)
// activation fragments (NL limbs of 4 token groups) from workgroup memory,
// where they are staged two blocks at a time (16-byte loads, double-buffered,
// one barrier a stage; tokens 48 bytes apart against bank conflicts). On an
// H100 that took e2b's 512-token products from 52.5 ms (every subgroup loading
// 4 weight and 6 activation fragments from storage) to 36 ms.
//
// Defines
//   KS      blocks a stage (2: 36 KiB of workgroup memory with ST 12)
//   ST      words between staged tokens: 12 (48 bytes, no bank conflicts) or 8
//   LIMBS2  two activation limbs (limbs.wgsl) instead of three
//   SMX_HW  chromium_experimental_subgroup_matrix (16x16x32 i8 -> i32, subgroups
//           of 32); without it the same fragment operations are emulated lane by
//           lane in plain WGSL, so devices without the feature test everything
//           but the hardware loads and products (tools/smx-parity.mjs covers those)
//
// Bindings
//   0 uniform SP
//   1 storage read       P:  array<i32>  packed weights (smx_pack.wgsl); the
//                        run's tiles at word tile_off, its row scales (f32 bits)
//                        at scale_off
//   2 storage read       XL: array<vec4<i32>>  activation limbs (act_limbs.wgsl),
//                        for tokens up to n_tok rounded up to 64
//   3 storage read       XF: array<f32>  s_t at xf_s + t
//   4 storage read_write Y:  array<f32>  Y[y_off + z * part + t * y_stride + r]
// rows a multiple of 16, cols of 32. Dispatch (ceil(n_tok / 64), ceil(rows / 128),
// slices). Split K, for matrices too short to fill the GPU with workgroups: slice z
// sums blocks [z kb_per, (z + 1) kb_per) into its own output, which split_sum.wgsl
// adds up (softcap 0 here, applied there).
#ifdef SMX_HW
enable subgroups;
enable chromium_experimental_subgroup_matrix;
diagnostic(off, chromium.subgroup_matrix_uniformity);
#endif

struct SP {
    rows: u32,
    cols: u32,
    n_tok: u32,
    tile_off: u32,
    scale_off: u32,
    y_off: u32,
    y_stride: u32,
    xf_s: u32,
    nb: u32,       // cols / 32
    softcap: f32,
    kb_per: u32,   // blocks per K slice (nb: one slice)
    part: u32,     // floats between the slices' outputs in Y
}

@group(0) @binding(0) var<uniform> p: SP;
@group(0) @binding(1) var<storage, read> P: array<i32>;
@group(0) @binding(2) var<storage, read> XL: array<vec4<i32>>;
@group(0) @binding(3) var<storage, read> XF: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;

// Staged activations: a stage is KS blocks, a block 4 NL fragments of FW words
// (16 tokens ST words apart), two stages' room. After the loop the same memory
// is the epilogue's scratch: NL 16 x 16 i32 fragments a subgroup at EW sg
// (NL: limbs.wgsl, which follows this file: WGSL directives must come first).
const FW: u32 = 16u * ST;
const SW: u32 = 4u * NL * FW;
// the epilogue's scratch: a fragment's 16 rows ES words apart (80 bytes: 16-byte
// aligned, and a half-subgroup reading one column hits each bank at most twice),
// NL fragments a subgroup
const ES: u32 = 20u;
const EW: u32 = NL * 16u * ES;
var<workgroup> sm: array<i32, max(2u * KS * SW, 8u * EW)>;

#ifdef SMX_HW
alias RT = subgroup_matrix_result<i32, 16, 16>;
fn rstore(c: RT, off: u32, lane: u32) { subgroupMatrixStore<row_major>(&sm, off, c, ES); }
#else
// lane L holds elements 32 m + L (row 2 m + L / 16, token L % 16), m = 0..7.
// A "loaded" fragment is its word offset; the product reads the words itself.
alias RT = array<i32, 8>;
fn sbyte(w: i32, k: u32) -> i32 { return (w << (24u - 8u * (k & 3u))) >> 24u; }
// c + A X: A 16 rows x 32 bytes at word a of P (rows 8 words apart), X 32 bytes
// x 16 tokens at word x of sm (tokens ST words apart)
fn mma(a: u32, x: u32, c: RT, lane: u32) -> RT {
    var r = c;
    let col = lane % 16u;
    for (var m = 0u; m < 8u; m++) {
        let row = 2u * m + lane / 16u;
        var s = 0;
        for (var k = 0u; k < 32u; k++) { s += sbyte(P[a + row * 8u + k / 4u], k) * sbyte(sm[x + col * ST + k / 4u], k); }
        r[m] += s;
    }
    return r;
}
fn rstore(c: RT, off: u32, lane: u32) { for (var m = 0u; m < 8u; m++) { sm[off + (2u * m + lane / 16u) * ES + lane % 16u] = c[m]; } }
#endif

// One output fragment: C2, C1, C0 through this subgroup's scratch (rows ES
// words apart), combined with the row and token scales, written for rows below
// `rows` and tokens below n_tok. Lanes read the scratch by row, so each half of
// the subgroup writes 16 consecutive floats of one token's output: 64-byte
// runs, where reading it by token scattered every lane's float to another
// row (Y is token-major) and the writes cost 9% of a 1536-column product.
// Every subgroup calls it equally often (it holds barriers).
fn epilogue(c2: RT, c1: RT,
#ifndef LIMBS2
            c0: RT,
#endif
            rb: u32, tb: u32, yz: u32, sg: u32, lane: u32) {
    let scr = sg * EW;
    rstore(c2, scr, lane);
    rstore(c1, scr + 16u * ES, lane);
#ifndef LIMBS2
    rstore(c0, scr + 32u * ES, lane);
#endif
    workgroupBarrier();
    let i = lane % 16u;
    let r = rb + i;
    if (r < p.rows) {
        let sr = bitcast<f32>(P[p.scale_off + r]);
        for (var m = 0u; m < 8u; m++) {
            let j = 2u * m + lane / 16u;
            let t = tb + j;
            if (t < p.n_tok) {
                let e = scr + i * ES + j;
#ifdef LIMBS2
                let v = 65536.0 * f32(sm[e]) + 256.0 * f32(sm[e + 16u * ES]);
#else
                let v = 256.0 * f32(sm[e]) + f32(sm[e + 16u * ES]) + f32(sm[e + 32u * ES]) * (1.0 / 256.0);
#endif
                var y = sr * XF[p.xf_s + t] * v;
                if (p.softcap > 0.0) { y = p.softcap * tanh(clamp(y / p.softcap, -15.0, 15.0)); }
                Y[yz + t * p.y_stride + r] = y;
            }
        }
    }
    workgroupBarrier();
}

// This thread's share of a stage (blocks b0 .. b0 + KS - 1 of the workgroup's 4
// token groups from token group tg0; blocks past kb1 repeat its last): 16 bytes
// a vector, BV = 128 NL vectors (BW words) a block
const BV: u32 = 128u * NL;
const BW: u32 = 4u * BV;
const SV: u32 = (BV * KS + 255u) / 256u;
struct Stage { v: array<vec4<i32>, SV> }
fn fetch(li: u32, tg0: u32, b0: u32, kb1: u32) -> Stage {
    var r: Stage;
    for (var i = 0u; i < SV; i++) {
        if (li + 256u * i >= BV * KS) { break; }
        let w = 4u * (li + 256u * i);       // word of the stage, data order
        let blk = min(b0 + w / BW, kb1 - 1u);
        let ww = w % BW;                    // fragment ww / 128, token (ww % 128) / 8
        r.v[i] = XL[(((tg0 * NL + ww / 128u) * p.nb + blk) * 128u + ww % 128u) / 4u];
    }
    return r;
}
fn stash(st: Stage, li: u32, buf: u32) {
    for (var i = 0u; i < SV; i++) {
        if (li + 256u * i >= BV * KS) { break; }
        let w = 4u * (li + 256u * i);
        let ww = w % BW;
        let o = buf * KS * SW + (w / BW) * SW + (ww / 128u) * FW + ((ww % 128u) / 8u) * ST + ww % 8u;
        sm[o] = st.v[i].x;
        sm[o + 1u] = st.v[i].y;
        sm[o + 2u] = st.v[i].z;
        sm[o + 3u] = st.v[i].w;
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
    let r0 = wid.y * 128u + sg * 16u; // this subgroup's rows r0 .. r0 + 15, tokens t0 .. t0 + 63
    let t0 = wid.x * 64u;
    let ng = p.rows / 16u;
    // the row group's weight tiles: 256 words a block (h then l); groups past the
    // matrix repeat its last (never written)
    let a0 = p.tile_off + min(r0 / 16u, ng - 1u) * p.nb * 256u;
    let tg0 = wid.x * 4u; // the workgroup's first token group
    let kb0 = wid.z * p.kb_per;
    let kb1 = min(kb0 + p.kb_per, p.nb);
    let yz = p.y_off + wid.z * p.part;
    // accumulators cJA: token group J, C2 / C1 / C0
    var c02: RT; var c01: RT; var c12: RT; var c11: RT; var c22: RT; var c21: RT; var c32: RT; var c31: RT;
#ifndef LIMBS2
    var c00: RT; var c10: RT; var c20: RT; var c30: RT;
#endif
    stash(fetch(li, tg0, kb0, kb1), li, 0u);
    workgroupBarrier();
#ifdef SMX_HW
    var ah = subgroupMatrixLoad<subgroup_matrix_left<i8, 32, 16>, row_major>(&P, a0 + kb0 * 256u, 8u);
    var al = subgroupMatrixLoad<subgroup_matrix_left<i8, 32, 16>, row_major>(&P, a0 + 128u + kb0 * 256u, 8u);
#endif
    for (var s0 = kb0; s0 < kb1; s0 += KS) {
        let more = s0 + KS < kb1;
        var next: Stage;
        if (more) { next = fetch(li, tg0, s0 + KS, kb1); } // in flight during this stage's products
        let buf = ((s0 - kb0) / KS) % 2u;
        for (var bi = 0u; bi < KS; bi++) {
            let b = s0 + bi;
            if (b >= kb1) { break; } // uniform: kb1 is the workgroup's
            let xo = buf * KS * SW + bi * SW; // the block's staged fragments: token group J, limb L at (3 J + L) FW
#ifdef SMX_HW
            // the next block's weight fragments (the last block reloads itself)
            let bn = min(b + 1u, kb1 - 1u);
            let nah = subgroupMatrixLoad<subgroup_matrix_left<i8, 32, 16>, row_major>(&P, a0 + bn * 256u, 8u);
            let nal = subgroupMatrixLoad<subgroup_matrix_left<i8, 32, 16>, row_major>(&P, a0 + bn * 256u + 128u, 8u);
#ifdef LIMBS2
            // token group by token group: only its two fragments are live
            var x0 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo, ST);
            var x1 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo + FW, ST);
            c02 = subgroupMatrixMultiplyAccumulate(ah, x0, c02);
            c01 = subgroupMatrixMultiplyAccumulate(ah, x1, c01);
            c01 = subgroupMatrixMultiplyAccumulate(al, x0, c01);
            x0 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo + 2u * FW, ST);
            x1 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo + 3u * FW, ST);
            c12 = subgroupMatrixMultiplyAccumulate(ah, x0, c12);
            c11 = subgroupMatrixMultiplyAccumulate(ah, x1, c11);
            c11 = subgroupMatrixMultiplyAccumulate(al, x0, c11);
            x0 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo + 4u * FW, ST);
            x1 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo + 5u * FW, ST);
            c22 = subgroupMatrixMultiplyAccumulate(ah, x0, c22);
            c21 = subgroupMatrixMultiplyAccumulate(ah, x1, c21);
            c21 = subgroupMatrixMultiplyAccumulate(al, x0, c21);
            x0 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo + 6u * FW, ST);
            x1 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo + 7u * FW, ST);
            c32 = subgroupMatrixMultiplyAccumulate(ah, x0, c32);
            c31 = subgroupMatrixMultiplyAccumulate(ah, x1, c31);
            c31 = subgroupMatrixMultiplyAccumulate(al, x0, c31);
#else
            let x00 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo, ST);
            let x01 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo + FW, ST);
            let x02 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo + 2u * FW, ST);
            let x10 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo + 3u * FW, ST);
            let x11 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo + 4u * FW, ST);
            let x12 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo + 5u * FW, ST);
            let x20 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo + 6u * FW, ST);
            let x21 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo + 7u * FW, ST);
            let x22 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo + 8u * FW, ST);
            let x30 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo + 9u * FW, ST);
            let x31 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo + 10u * FW, ST);
            let x32 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo + 11u * FW, ST);
            c02 = subgroupMatrixMultiplyAccumulate(ah, x00, c02);
            c01 = subgroupMatrixMultiplyAccumulate(ah, x01, c01);
            c01 = subgroupMatrixMultiplyAccumulate(al, x00, c01);
            c00 = subgroupMatrixMultiplyAccumulate(ah, x02, c00);
            c00 = subgroupMatrixMultiplyAccumulate(al, x01, c00);
            c12 = subgroupMatrixMultiplyAccumulate(ah, x10, c12);
            c11 = subgroupMatrixMultiplyAccumulate(ah, x11, c11);
            c11 = subgroupMatrixMultiplyAccumulate(al, x10, c11);
            c10 = subgroupMatrixMultiplyAccumulate(ah, x12, c10);
            c10 = subgroupMatrixMultiplyAccumulate(al, x11, c10);
            c22 = subgroupMatrixMultiplyAccumulate(ah, x20, c22);
            c21 = subgroupMatrixMultiplyAccumulate(ah, x21, c21);
            c21 = subgroupMatrixMultiplyAccumulate(al, x20, c21);
            c20 = subgroupMatrixMultiplyAccumulate(ah, x22, c20);
            c20 = subgroupMatrixMultiplyAccumulate(al, x21, c20);
            c32 = subgroupMatrixMultiplyAccumulate(ah, x30, c32);
            c31 = subgroupMatrixMultiplyAccumulate(ah, x31, c31);
            c31 = subgroupMatrixMultiplyAccumulate(al, x30, c31);
            c30 = subgroupMatrixMultiplyAccumulate(ah, x32, c30);
            c30 = subgroupMatrixMultiplyAccumulate(al, x31, c30);
#endif
            ah = nah;
            al = nal;
#else
            let ah = a0 + b * 256u;
#ifdef LIMBS2
            c02 = mma(ah, xo, c02, lane);
            c01 = mma(ah, xo + FW, c01, lane);
            c01 = mma(ah + 128u, xo, c01, lane);
            c12 = mma(ah, xo + 2u * FW, c12, lane);
            c11 = mma(ah, xo + 3u * FW, c11, lane);
            c11 = mma(ah + 128u, xo + 2u * FW, c11, lane);
            c22 = mma(ah, xo + 4u * FW, c22, lane);
            c21 = mma(ah, xo + 5u * FW, c21, lane);
            c21 = mma(ah + 128u, xo + 4u * FW, c21, lane);
            c32 = mma(ah, xo + 6u * FW, c32, lane);
            c31 = mma(ah, xo + 7u * FW, c31, lane);
            c31 = mma(ah + 128u, xo + 6u * FW, c31, lane);
#else
            c02 = mma(ah, xo, c02, lane);
            c01 = mma(ah, xo + FW, c01, lane);
            c01 = mma(ah + 128u, xo, c01, lane);
            c00 = mma(ah, xo + 2u * FW, c00, lane);
            c00 = mma(ah + 128u, xo + FW, c00, lane);
            c12 = mma(ah, xo + 3u * FW, c12, lane);
            c11 = mma(ah, xo + 4u * FW, c11, lane);
            c11 = mma(ah + 128u, xo + 3u * FW, c11, lane);
            c10 = mma(ah, xo + 5u * FW, c10, lane);
            c10 = mma(ah + 128u, xo + 4u * FW, c10, lane);
            c22 = mma(ah, xo + 6u * FW, c22, lane);
            c21 = mma(ah, xo + 7u * FW, c21, lane);
            c21 = mma(ah + 128u, xo + 6u * FW, c21, lane);
            c20 = mma(ah, xo + 8u * FW, c20, lane);
            c20 = mma(ah + 128u, xo + 7u * FW, c20, lane);
            c32 = mma(ah, xo + 9u * FW, c32, lane);
            c31 = mma(ah, xo + 10u * FW, c31, lane);
            c31 = mma(ah + 128u, xo + 9u * FW, c31, lane);
            c30 = mma(ah, xo + 11u * FW, c30, lane);
            c30 = mma(ah + 128u, xo + 10u * FW, c30, lane);
#endif
#endif
        }
        // the other buffer was last read a stage ago, before the barrier that ended it
        if (more) { stash(next, li, 1u - buf); }
        workgroupBarrier();
    }
#ifdef LIMBS2
    epilogue(c02, c01, r0, t0, yz, sg, lane);
    epilogue(c12, c11, r0, t0 + 16u, yz, sg, lane);
    epilogue(c22, c21, r0, t0 + 32u, yz, sg, lane);
    epilogue(c32, c31, r0, t0 + 48u, yz, sg, lane);
#else
    epilogue(c02, c01, c00, r0, t0, yz, sg, lane);
    epilogue(c12, c11, c10, r0, t0 + 16u, yz, sg, lane);
    epilogue(c22, c21, c20, r0, t0 + 32u, yz, sg, lane);
    epilogue(c32, c31, c30, r0, t0 + 48u, yz, sg, lane);
#endif
}
