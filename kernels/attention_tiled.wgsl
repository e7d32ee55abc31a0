// Tiled (flash-style) attention for prefill: same maths and bindings as
// attn_decode.wgsl (scale 1.0, GQA with contiguous groups, key k visible from
// position pos iff k <= pos and (window == 0 or pos - k < window)).
//
// Grid (n_split, ceil(n_tok / BQ), kvh). A workgroup takes R query rows: BQ =
// R / G tokens times the G heads that share KV head g. It walks the union of
// its tokens' key ranges (one split of it) in blocks of BK = 16 WG / R keys,
// so every K/V row it loads serves R rows instead of one token's G
// (attn_decode.wgsl). Both products of a block are register tiles, the way
// matmul_op.wgsl computes its outer products:
//   scores  S[R][BK] = Q K^T over SD-wide dimension slices of Q and K staged in
//           workgroup memory (the next slice loaded into registers meanwhile).
//           An invocation owns a 4-row x 4-key tile: per vec4 of dimensions 4
//           loads of Q (broadcast in a warp) and 4 of K, 64 fused multiply-adds.
//   softmax WG / R invocations per row; each keeps the row's running max and
//           its part of the running sum in registers.
//   output  O[R][HD] += P V over chunks of KV keys of V staged whole (all HD
//           dims): an invocation owns OR x OD blocks of 4 rows x 4 dims, fixed
//           for the whole walk, as named 4x4 matrices (at most 64 floats). Per
//           key OR vec4 of probabilities (broadcast) and OD vec4 of V.
// Register arrays are never indexed by a value the compiler cannot unroll to a
// constant: the NVIDIA Vulkan compiler moves such arrays to local memory.
// Keys past the block's end (a split's last, partial block) cost no score
// work in whole groups of BK / 4, and no output work past the last chunk.
// With n_split == 1 it writes O; otherwise partials for attn_combine.wgsl.
//
// Defines: WG (256), R (rows: 64, or 32 for HD >= 512), SD (dims per score
// slice: 32, 16 or 8), HD (head dim). Workgroup memory: tiled_bytes in
// src/gpu/record.c.

const BK: u32 = 16u * WG / R;    // keys per block: one 4x4 score tile per invocation
const BK4: u32 = BK / 4u;
const R4: u32 = R / 4u;
const HD4: u32 = HD / 4u;
const SD4: u32 = SD / 4u;
const QS: u32 = SD4 + 1u;        // staged row stride in vec4: odd, so 8 rows' vec4s hit distinct banks
const SLICES: u32 = HD / SD;
const SROWS: u32 = R + BK;       // a slice stages the R query rows, then the BK key rows
const NS: u32 = SROWS * SD4;     // vec4 per slice
const NLS: u32 = (NS + WG - 1u) / WG;
const STN: u32 = SROWS * QS;
const KV: u32 = min(BK, 1u << firstLeadingBit(STN / HD4)); // keys per V chunk: a power of two that fits st
const NV: u32 = KV * HD4;
const NLV: u32 = (NV + WG - 1u) / WG;
const PS4: u32 = R4 + 1u;        // probability stride per key in vec4 (odd: a warp's keys hit distinct banks)
const RS4: u32 = R4 + 1u;        // tile maxima stride likewise
const SPR: u32 = WG / R;         // softmax: invocation lid takes keys (lid / R) * KPR + j of row lid % R
const KPR: u32 = BK / SPR;
const F: u32 = R * HD / WG;      // output floats per invocation
const OD: u32 = select(1u, 2u, F == 64u || (F == 32u && HD4 >= 64u));
const OR: u32 = F / (16u * OD);
const TXN: u32 = HD4 / OD;       // output: invocation lid owns dim vec4s lid % TXN + TXN a ...
const TYN: u32 = R4 / OR;        // ... of row quads lid / TXN + TYN b

const_assert R * BK == 16u * WG && BK4 % 16u == 0u && WG % SD4 == 0u && HD % SD == 0u && WG % R == 0u;
const_assert (F == 16u || F == 32u || F == 64u) && TXN * TYN == WG && KV >= 1u && NV <= STN;

var<workgroup> st: array<vec4<f32>, STN>;         // a slice of Q and K rows [row][d4], then a chunk of V [key][d4]
var<workgroup> ps: array<vec4<f32>, BK * PS4>;    // the block's scores, then probabilities: [key][row / 4]
var<workgroup> red: array<vec4<f32>, BK4 * RS4>;  // each score tile's row maxima [kx][row / 4]; at the end the row sums' parts
var<workgroup> rowoff: array<u32, BK>;            // vec4 offset of each block key's cache row
var<workgroup> rescale: array<vec4<f32>, R4>;     // per block exp(m_old - m_new); at the end each row's max

var<private> sreg: array<vec4<f32>, NLS>;         // the next slice, in flight
var<private> soff: array<u32, NLS>;               // vec4 offset of the row each slot loads from
var<private> vreg: array<vec4<f32>, NLV>;         // the next V chunk, in flight

// Slot i of a slice is vec4 c % SD4 of staged row c / SD4, c = lid + WG i: neighbouring
// invocations read neighbouring bytes of a row, and store to distinct banks.
fn fetch_s(lid: u32, sl: u32) {
    for (var i = 0u; i < NLS; i++) {
        let c = lid + WG * i;
        if (c < NS) {
            let o = soff[i] + sl * SD4 + c % SD4;
            if (c / SD4 < R) { sreg[i] = Q[o]; } else { sreg[i] = KCACHE[o]; }
        }
    }
}
fn stash_s(lid: u32) {
    for (var i = 0u; i < NLS; i++) {
        let c = lid + WG * i;
        if (c < NS) { st[(c / SD4) * QS + c % SD4] = sreg[i]; }
    }
}
// V chunk from key c0 of the block: vec4 c % HD4 of key c0 + c / HD4
fn fetch_v(lid: u32, c0: u32) {
    for (var i = 0u; i < NLV; i++) {
        let c = lid + WG * i;
        if (c < NV) { vreg[i] = VCACHE[rowoff[c0 + c / HD4] + c % HD4]; }
    }
}
fn stash_v(lid: u32) {
    for (var i = 0u; i < NLV; i++) {
        let c = lid + WG * i;
        if (c < NV) { st[c] = vreg[i]; }
    }
}

// s += the dot products of 4 rows with key k over one vec4 of dims, as fused
// multiply-adds: a<c> holds dim c of the 4 rows (a dot() per row would add a
// multiply and an add per 4 products)
fn dots(s: vec4<f32>, a0: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>, a3: vec4<f32>, k: vec4<f32>) -> vec4<f32> {
    return fma(a3, vec4<f32>(k.w), fma(a2, vec4<f32>(k.z), fma(a1, vec4<f32>(k.y), fma(a0, vec4<f32>(k.x), s))));
}

// One slice's score tile: rows 4 ry .. 4 ry + 3 (vector components) of keys
// kx + BK4 i (column i), for the na key groups that hold keys of the block.
fn slice_scores(ry: u32, kx: u32, na: u32) -> mat4x4<f32> {
    var s0 = vec4<f32>(0.0);
    var s1 = vec4<f32>(0.0);
    var s2 = vec4<f32>(0.0);
    var s3 = vec4<f32>(0.0);
    let qb = 4u * ry * QS;
    let kb = (R + kx) * QS;
    for (var d = 0u; d < SD4; d++) {
        // the rows' vec4s, transposed: free in registers
        let q = transpose(mat4x4<f32>(st[qb + d], st[qb + QS + d], st[qb + 2u * QS + d], st[qb + 3u * QS + d]));
        s0 = dots(s0, q[0], q[1], q[2], q[3], st[kb + d]);
        if (na > 1u) { s1 = dots(s1, q[0], q[1], q[2], q[3], st[kb + BK4 * QS + d]); }
        if (na > 2u) { s2 = dots(s2, q[0], q[1], q[2], q[3], st[kb + 2u * BK4 * QS + d]); }
        if (na > 3u) { s3 = dots(s3, q[0], q[1], q[2], q[3], st[kb + 3u * BK4 * QS + d]); }
    }
    return mat4x4<f32>(s0, s1, s2, s3);
}

// Scores of block key `key` (absolute position k) for rows at positions rpos;
// invisible ones become NEG_INF. Published as one vec4 of ps.
fn mask_put(s: vec4<f32>, key: u32, nk: u32, k: u32, rpos: vec4<u32>, ry: u32) -> vec4<f32> {
    let kv = vec4<u32>(k);
    let in_win = vec4<bool>(p.window == 0u) | (rpos - kv < vec4<u32>(p.window)); // (wraps where k > pos: masked anyway)
    let seen = vec4<bool>(key < nk) & (kv <= rpos) & in_win;
    let m = select(vec4<f32>(NEG_INF), s, seen);
    ps[key * PS4 + ry] = m;
    return m;
}

// m += v p^T: column c (row c of the quad) gains p[c] * v (four dims)
fn op(m: mat4x4<f32>, v: vec4<f32>, p4: vec4<f32>) -> mat4x4<f32> {
    return mat4x4<f32>(fma(v, vec4<f32>(p4.x), m[0]), fma(v, vec4<f32>(p4.y), m[1]),
                       fma(v, vec4<f32>(p4.z), m[2]), fma(v, vec4<f32>(p4.w), m[3]));
}
fn scale(m: mat4x4<f32>, r: vec4<f32>) -> mat4x4<f32> {
    return mat4x4<f32>(m[0] * r.x, m[1] * r.y, m[2] * r.z, m[3] * r.w);
}

// Row r's four dims from d: to O (normalized) or to this split's partial.
fn put_row(v: vec4<f32>, r: u32, d: u32, l: f32, m: f32, t0: u32, g: u32, G: u32, split: u32) {
    let t = t0 + r / G;
    if (r >= (R / G) * G || t >= p.n_tok) { return; }
    let h = g * G + r % G;
    if (p.n_split == 1u) {
        let o = t * p.o_stride + h * HD + d;
        let inv = 1.0 / l;
        O[o] = v.x * inv;
        O[o + 1u] = v.y * inv;
        O[o + 2u] = v.z * inv;
        O[o + 3u] = v.w * inv;
    } else {
        let b = ((t * p.H + h) * p.n_split + split) * (HD + 2u);
        PART[b + d] = v.x;
        PART[b + d + 1u] = v.y;
        PART[b + d + 2u] = v.z;
        PART[b + d + 3u] = v.w;
        if (d == 0u) {
            PART[b + HD] = m;
            PART[b + HD + 1u] = l;
        }
    }
}
// A 4x4 output block: rows 4 rq .. 4 rq + 3, dims d .. d + 3
fn put_block(o: mat4x4<f32>, rq: u32, d: u32, t0: u32, g: u32, G: u32, split: u32) {
    var l = red[rq];
    for (var q = 1u; q < SPR; q++) { l += red[q * R4 + rq]; }
    let m = rescale[rq];
    put_row(o[0], 4u * rq, d, l.x, m.x, t0, g, G, split);
    put_row(o[1], 4u * rq + 1u, d, l.y, m.y, t0, g, G, split);
    put_row(o[2], 4u * rq + 2u, d, l.z, m.z, t0, g, G, split);
    put_row(o[3], 4u * rq + 3u, d, l.w, m.w, t0, g, G, split);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let split = wg.x;
    let g = wg.z;                                  // KV head
    let G = p.H / p.kvh;                           // query heads per KV head (<= R)
    let BQ = R / G;                                // tokens per workgroup
    let t0 = wg.y * BQ;
    let t_last = min(t0 + BQ, p.n_tok) - 1u;
    let pos_first = step.pos0 + t0;
    // union of the tokens' key ranges, then this split's share in whole blocks
    var lo = 0u;
    if (p.window > 0u && pos_first + 1u > p.window) { lo = pos_first + 1u - p.window; }
    let n = step.pos0 + t_last + 1u - lo;
    let per = ((n + p.n_split - 1u) / p.n_split + BK - 1u) / BK * BK;
    let k_begin = lo + min(split * per, n);
    let k_end = lo + min(split * per + per, n);

    // score tile: rows 4 ry + 0..3, keys kx + BK4 i; a warp spans 16 keys of 2 row quads
    let kx = lid % 16u + 16u * (lid / (16u * R4));
    let ry = (lid / 16u) % R4;
    let rpos = pos_first + vec4<u32>(4u * ry, 4u * ry + 1u, 4u * ry + 2u, 4u * ry + 3u) / vec4<u32>(G);
    // softmax: row sr, keys sq * KPR + j
    let sr = lid % R;
    let sq = lid / R;
    var m_run = NEG_INF;
    var l_run = 0.0;
    // output: dims 4 (tx + TXN a) + 0..3 of rows 4 (ty + TYN b) + column, in o<a><b>
    let tx = lid % TXN;
    let ty = lid / TXN;
    var o00 = mat4x4<f32>();
    var o01 = mat4x4<f32>();
    var o10 = mat4x4<f32>();
    var o11 = mat4x4<f32>();

    // query rows' offsets (rows past the pass read a real query; never written)
    for (var i = 0u; i < NLS; i++) {
        let row = (lid + WG * i) / SD4;
        if (row < R) {
            let t = min(t0 + row / G, p.n_tok - 1u);
            soff[i] = (p.q_off + t * p.q_stride + (g * G + row % G) * HD) / 4u;
        }
    }

    for (var k0 = k_begin; k0 < k_end; k0 += BK) {
        let nk = min(BK, k_end - k0);
        // key rows past the block's end repeat its last key (their scores are masked)
        for (var i = 0u; i < NLS; i++) {
            let row = (lid + WG * i) / SD4;
            if (row >= R && row < SROWS) { soff[i] = (((k0 + min(row - R, nk - 1u)) % p.kv_cap) * p.kv_stride + g * HD) / 4u; }
        }
        fetch_s(lid, 0u);
        workgroupBarrier(); // the previous block is done with st, ps, red and rowoff
        if (lid < BK) { rowoff[lid] = (((k0 + min(lid, nk - 1u)) % p.kv_cap) * p.kv_stride + g * HD) / 4u; }
        stash_s(lid);
        workgroupBarrier();

        let na = (nk + BK4 - 1u) / BK4;            // key groups holding keys of the block
        var s = mat4x4<f32>();
        for (var sl = 0u; sl < SLICES; sl++) {
            if (sl + 1u < SLICES) { fetch_s(lid, sl + 1u); }
            if (na == 4u) { s += slice_scores(ry, kx, 4u); } else { s += slice_scores(ry, kx, na); }
            workgroupBarrier();
            if (sl + 1u < SLICES) {
                stash_s(lid);
                workgroupBarrier();
            }
        }
        // mask and publish the scores and the tile's row maxima; the first V chunk starts loading
        let m0 = mask_put(s[0], kx, nk, k0 + kx, rpos, ry);
        let m1 = mask_put(s[1], kx + BK4, nk, k0 + kx + BK4, rpos, ry);
        let m2 = mask_put(s[2], kx + 2u * BK4, nk, k0 + kx + 2u * BK4, rpos, ry);
        let m3 = mask_put(s[3], kx + 3u * BK4, nk, k0 + kx + 3u * BK4, rpos, ry);
        red[kx * RS4 + ry] = max(max(m0, m1), max(m2, m3));
        fetch_v(lid, 0u);
        workgroupBarrier();

        // online softmax of row sr: the block's max, then its probabilities and their sum
        var mb = NEG_INF;
        for (var x = 0u; x < BK4; x++) { mb = max(mb, red[x * RS4 + sr / 4u][sr % 4u]); }
        let m_new = max(m_run, mb);
        var sum = 0.0;
        for (var j = 0u; j < KPR; j++) {
            let a = (sq * KPR + j) * PS4 + sr / 4u;
            let sc = ps[a][sr % 4u];
            let e = select(0.0, exp(sc - m_new), sc > NEG_INF); // masked keys weigh 0 even while m_new is NEG_INF
            ps[a][sr % 4u] = e;
            sum += e;
        }
        let r = exp(m_run - m_new);
        l_run = l_run * r + sum;
        m_run = m_new;
        if (sq == 0u) { rescale[sr / 4u][sr % 4u] = r; }
        stash_v(lid);   // st's slices were consumed before the last slice's barrier
        workgroupBarrier();

        // output: rescale, then the chunks of V up to the block's last key
        let rs0 = rescale[ty];
        o00 = scale(o00, rs0);
        if (OD > 1u) { o10 = scale(o10, rs0); }
        if (OR > 1u) {
            let rs1 = rescale[ty + TYN];
            o01 = scale(o01, rs1);
            if (OD > 1u) { o11 = scale(o11, rs1); }
        }
        for (var c0 = 0u; c0 < nk; c0 += KV) {
            if (c0 + KV < nk) { fetch_v(lid, c0 + KV); }
            for (var j = 0u; j < KV; j++) {
                let pa = (c0 + j) * PS4 + ty;
                let p0 = ps[pa];
                let v0 = st[j * HD4 + tx];
                o00 = op(o00, v0, p0);
                var p1 = p0;
                if (OR > 1u) {
                    p1 = ps[pa + TYN];
                    o01 = op(o01, v0, p1);
                }
                if (OD > 1u) {
                    let v1 = st[j * HD4 + tx + TXN];
                    o10 = op(o10, v1, p0);
                    if (OR > 1u) { o11 = op(o11, v1, p1); }
                }
            }
            if (c0 + KV < nk) {
                workgroupBarrier();
                stash_v(lid);
                workgroupBarrier();
            }
        }
    }
    workgroupBarrier(); // the last block is done with red and rescale (also when this split had no keys)
    red[sq * R4 + sr / 4u][sr % 4u] = l_run;
    if (sq == 0u) { rescale[sr / 4u][sr % 4u] = m_run; }
    workgroupBarrier();

    put_block(o00, ty, 4u * tx, t0, g, G, split);
    if (OD > 1u) { put_block(o10, ty, 4u * (tx + TXN), t0, g, G, split); }
    if (OR > 1u) {
        put_block(o01, ty + TYN, 4u * tx, t0, g, G, split);
        if (OD > 1u) { put_block(o11, ty + TYN, 4u * (tx + TXN), t0, g, G, split); }
    }
}
