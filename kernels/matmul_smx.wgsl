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
//
// Work: a workgroup is 4 x 2 subgroups; each subgroup owns 2 x 2 output
// fragments of 16 rows x 16 tokens (a workgroup: 128 rows x 64 tokens). Both
// operands are tiled so that a fragment is 512 contiguous bytes (3-4x faster
// than row-major operands, tools/probe-smx-direct.mjs). Per 32-column block a
// subgroup loads its 4 weight fragments (h and l of 2 row groups) straight
// from storage, the next block's before this block's products; the workgroup's
// 12 activation fragments (3 limbs of 4 token groups), which 4 subgroups each
// read, are staged through workgroup memory two blocks at a time (16-byte
// loads, double-buffered, one barrier a stage; tokens 48 bytes apart against
// bank conflicts): 20-26% faster than each subgroup loading them from storage.
//
// Defines
//   KS      blocks a stage (2: 36 KiB of workgroup memory with ST 12)
//   ST      words between staged tokens: 12 (48 bytes, no bank conflicts) or 8
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
// slices). Split K: slice z sums blocks [z kb_per,
// (z + 1) kb_per) into its own output, which split_sum.wgsl adds up (softcap 0
// here, applied there); for matrices too short to fill the GPU with workgroups.
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

// Staged activations: a stage is KS blocks, a block 12 fragments of FW words
// (16 tokens ST words apart), two stages' room. After the loop the same memory
// is the epilogue's scratch: three 16 x 16 i32 fragments a subgroup at 768 sg.
const FW: u32 = 16u * ST;
const SW: u32 = 12u * FW;
var<workgroup> sm: array<i32, max(2u * KS * SW, 6144u)>;

#ifdef SMX_HW
alias RT = subgroup_matrix_result<i32, 16, 16>;
fn rstore(c: RT, off: u32, lane: u32) { subgroupMatrixStore<row_major>(&sm, off, c, 16u); }
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
fn rstore(c: RT, off: u32, lane: u32) { for (var m = 0u; m < 8u; m++) { sm[off + 32u * m + lane] = c[m]; } }
#endif

// One output fragment: C2, C1, C0 through this subgroup's scratch, combined
// with the row and token scales, written for rows below `rows` and tokens
// below n_tok. Every subgroup calls it equally often (it holds barriers).
fn epilogue(c2: RT, c1: RT, c0: RT, rb: u32, tb: u32, yz: u32, sg: u32, lane: u32) {
    let scr = sg * 768u;
    rstore(c2, scr, lane);
    rstore(c1, scr + 256u, lane);
    rstore(c0, scr + 512u, lane);
    workgroupBarrier();
    let t = tb + lane % 16u;
    if (t < p.n_tok) {
        let st = XF[p.xf_s + t];
        for (var m = 0u; m < 8u; m++) {
            let e = scr + 32u * m + lane;
            let r = rb + 2u * m + lane / 16u;
            if (r < p.rows) {
                let v = 256.0 * f32(sm[e]) + f32(sm[e + 256u]) + f32(sm[e + 512u]) * (1.0 / 256.0);
                var y = bitcast<f32>(P[p.scale_off + r]) * st * v;
                if (p.softcap > 0.0) { y = p.softcap * tanh(clamp(y / p.softcap, -15.0, 15.0)); }
                Y[yz + t * p.y_stride + r] = y;
            }
        }
    }
    workgroupBarrier();
}

// This thread's share of a stage (blocks b0 .. b0 + KS - 1 of the workgroup's 4
// token groups from token group tg0; blocks past kb1 repeat its last): 16 bytes
// a vector, 384 vectors a block
const SV: u32 = (384u * KS + 255u) / 256u;
struct Stage { v: array<vec4<i32>, SV> }
fn fetch(li: u32, tg0: u32, b0: u32, kb1: u32) -> Stage {
    var r: Stage;
    for (var i = 0u; i < SV; i++) {
        if (li + 256u * i >= 384u * KS) { break; }
        let w = 4u * (li + 256u * i);       // word of the stage, data order
        let blk = min(b0 + w / 1536u, kb1 - 1u);
        let ww = w % 1536u;                 // fragment ww / 128, token (ww % 128) / 8
        r.v[i] = XL[(((tg0 * 3u + ww / 128u) * p.nb + blk) * 128u + ww % 128u) / 4u];
    }
    return r;
}
fn stash(st: Stage, li: u32, buf: u32) {
    for (var i = 0u; i < SV; i++) {
        if (li + 256u * i >= 384u * KS) { break; }
        let w = 4u * (li + 256u * i);
        let ww = w % 1536u;
        let o = buf * KS * SW + (w / 1536u) * SW + (ww / 128u) * FW + ((ww % 128u) / 8u) * ST + ww % 8u;
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
    let r0 = wid.y * 128u + (sg / 2u) * 32u; // this subgroup's rows r0 .. r0 + 31
    let t0 = wid.x * 64u + (sg % 2u) * 32u;  // and tokens t0 .. t0 + 31
    let ng = p.rows / 16u;
    // weight tiles: 256 words a block (h then l) of a row group
    let g0 = min(r0 / 16u, ng - 1u); // groups past the matrix repeat its last (never written)
    let g1 = min(r0 / 16u + 1u, ng - 1u);
    let a0 = p.tile_off + g0 * p.nb * 256u;
    let a1 = p.tile_off + g1 * p.nb * 256u;
    let tg0 = wid.x * 4u;              // the workgroup's first token group
    let xw = (sg % 2u) * 6u * FW;      // this subgroup's first staged fragment within a block
    let kb0 = wid.z * p.kb_per;
    let kb1 = min(kb0 + p.kb_per, p.nb);
    let yz = p.y_off + wid.z * p.part;
    var c002: RT; var c001: RT; var c000: RT; var c012: RT; var c011: RT; var c010: RT;
    var c102: RT; var c101: RT; var c100: RT; var c112: RT; var c111: RT; var c110: RT;
    stash(fetch(li, tg0, kb0, kb1), li, 0u);
    workgroupBarrier();
#ifdef SMX_HW
    var ah0 = subgroupMatrixLoad<subgroup_matrix_left<i8, 32, 16>, row_major>(&P, a0 + kb0 * 256u, 8u);
    var al0 = subgroupMatrixLoad<subgroup_matrix_left<i8, 32, 16>, row_major>(&P, a0 + 128u + kb0 * 256u, 8u);
    var ah1 = subgroupMatrixLoad<subgroup_matrix_left<i8, 32, 16>, row_major>(&P, a1 + kb0 * 256u, 8u);
    var al1 = subgroupMatrixLoad<subgroup_matrix_left<i8, 32, 16>, row_major>(&P, a1 + 128u + kb0 * 256u, 8u);
#endif
    for (var s0 = kb0; s0 < kb1; s0 += KS) {
        let more = s0 + KS < kb1;
        var next: Stage;
        if (more) { next = fetch(li, tg0, s0 + KS, kb1); } // in flight during this stage's products
        let buf = ((s0 - kb0) / KS) % 2u;
        for (var bi = 0u; bi < KS; bi++) {
            let b = s0 + bi;
            if (b >= kb1) { break; } // uniform: kb1 is the workgroup's
            let xo = buf * KS * SW + bi * SW + xw;
#ifdef SMX_HW
            // the next block's weight fragments (the last block reloads itself)
            let bn = min(b + 1u, kb1 - 1u);
            let nah0 = subgroupMatrixLoad<subgroup_matrix_left<i8, 32, 16>, row_major>(&P, a0 + bn * 256u, 8u);
            let nal0 = subgroupMatrixLoad<subgroup_matrix_left<i8, 32, 16>, row_major>(&P, a0 + bn * 256u + 128u, 8u);
            let nah1 = subgroupMatrixLoad<subgroup_matrix_left<i8, 32, 16>, row_major>(&P, a1 + bn * 256u, 8u);
            let nal1 = subgroupMatrixLoad<subgroup_matrix_left<i8, 32, 16>, row_major>(&P, a1 + bn * 256u + 128u, 8u);
            let x00 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo, ST);
            let x01 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo + FW, ST);
            let x02 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo + 2u * FW, ST);
            let x10 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo + 3u * FW, ST);
            let x11 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo + 4u * FW, ST);
            let x12 = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>, col_major>(&sm, xo + 5u * FW, ST);
            c002 = subgroupMatrixMultiplyAccumulate(ah0, x00, c002);
            c001 = subgroupMatrixMultiplyAccumulate(ah0, x01, c001);
            c001 = subgroupMatrixMultiplyAccumulate(al0, x00, c001);
            c000 = subgroupMatrixMultiplyAccumulate(ah0, x02, c000);
            c000 = subgroupMatrixMultiplyAccumulate(al0, x01, c000);
            c012 = subgroupMatrixMultiplyAccumulate(ah0, x10, c012);
            c011 = subgroupMatrixMultiplyAccumulate(ah0, x11, c011);
            c011 = subgroupMatrixMultiplyAccumulate(al0, x10, c011);
            c010 = subgroupMatrixMultiplyAccumulate(ah0, x12, c010);
            c010 = subgroupMatrixMultiplyAccumulate(al0, x11, c010);
            c102 = subgroupMatrixMultiplyAccumulate(ah1, x00, c102);
            c101 = subgroupMatrixMultiplyAccumulate(ah1, x01, c101);
            c101 = subgroupMatrixMultiplyAccumulate(al1, x00, c101);
            c100 = subgroupMatrixMultiplyAccumulate(ah1, x02, c100);
            c100 = subgroupMatrixMultiplyAccumulate(al1, x01, c100);
            c112 = subgroupMatrixMultiplyAccumulate(ah1, x10, c112);
            c111 = subgroupMatrixMultiplyAccumulate(ah1, x11, c111);
            c111 = subgroupMatrixMultiplyAccumulate(al1, x10, c111);
            c110 = subgroupMatrixMultiplyAccumulate(ah1, x12, c110);
            c110 = subgroupMatrixMultiplyAccumulate(al1, x11, c110);
            ah0 = nah0; al0 = nal0; ah1 = nah1; al1 = nal1;
#else
            let ah0 = a0 + b * 256u;
            let ah1 = a1 + b * 256u;
            c002 = mma(ah0, xo, c002, lane);
            c001 = mma(ah0, xo + FW, c001, lane);
            c001 = mma(ah0 + 128u, xo, c001, lane);
            c000 = mma(ah0, xo + 2u * FW, c000, lane);
            c000 = mma(ah0 + 128u, xo + FW, c000, lane);
            c012 = mma(ah0, xo + 3u * FW, c012, lane);
            c011 = mma(ah0, xo + 4u * FW, c011, lane);
            c011 = mma(ah0 + 128u, xo + 3u * FW, c011, lane);
            c010 = mma(ah0, xo + 5u * FW, c010, lane);
            c010 = mma(ah0 + 128u, xo + 4u * FW, c010, lane);
            c102 = mma(ah1, xo, c102, lane);
            c101 = mma(ah1, xo + FW, c101, lane);
            c101 = mma(ah1 + 128u, xo, c101, lane);
            c100 = mma(ah1, xo + 2u * FW, c100, lane);
            c100 = mma(ah1 + 128u, xo + FW, c100, lane);
            c112 = mma(ah1, xo + 3u * FW, c112, lane);
            c111 = mma(ah1, xo + 4u * FW, c111, lane);
            c111 = mma(ah1 + 128u, xo + 3u * FW, c111, lane);
            c110 = mma(ah1, xo + 5u * FW, c110, lane);
            c110 = mma(ah1 + 128u, xo + 4u * FW, c110, lane);
#endif
        }
        // the other buffer was last read a stage ago, before the barrier that ended it
        if (more) { stash(next, li, 1u - buf); }
        workgroupBarrier();
    }
    epilogue(c002, c001, c000, r0, t0, yz, sg, lane);
    epilogue(c012, c011, c010, r0, t0 + 16u, yz, sg, lane);
    epilogue(c102, c101, c100, r0 + 16u, t0, yz, sg, lane);
    epilogue(c112, c111, c110, r0 + 16u, t0 + 16u, yz, sg, lane);
}
