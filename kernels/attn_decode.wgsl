// Attention for few query tokens per pass (decode), built for latency
// (gemma4.md §4.4: scale 1.0, GQA with contiguous groups, keys k with
// 0 <= pos - k < window, window 0 = causal only).
//
// Grid (n_split, kvh * head_chunks, n_tok). A workgroup takes up to HC query
// heads that share one KV head, one token, and one slice of its keys, walked
// in blocks of KB keys with an online softmax. K and V rows go straight from
// the caches into registers, the K and V loads of a block issued together (one
// memory round trip per block, no staging through workgroup memory), and
// every K/V element a thread loads serves all HC heads:
//   scores  thread (key lid / P, part lid % P) dots P-interleaved vec4s of its
//           key's row with the HC queries (coalesced: P consecutive threads
//           read P consecutive vec4s); the P partial sums meet in workgroup memory
//   P.V     thread (column, part) accumulates one vec4 of every head's output
//           over its NPV-th of the block's keys (NPV = WG / C4 parts); the parts
//           are added at the end: through workgroup memory (NPV = 2: column
//           lid % C4, part lid / C4), or with LANE_PARTS (SUBGROUPS, NPV <= SGMIN)
//           by shuffles, the parts of a column being neighbouring lanes (column
//           lid / NPV, part lid % NPV). More parts take more keys a block (KB =
//           4 NPV keeps every thread's loads as NPV = 2 has them): a split
//           covers more keys at the same latency, so fewer partials.
// With n_split = 1 it writes the normalised output, else its partial (max,
// sum, unnormalised output): for attn_combine.wgsl, or with PART_VEC (one
// token) in the layout matvec.wgsl's PRO_ATTN prologue merges on its way in.
// WG must be a multiple of HD / 4.
//
// PREP (one token per pass): the attention inputs are prepared here instead
// of in attn_prep.wgsl's pass (same maths): the workgroup's queries become
// RoPE(RMSNorm(q; q_norm)) in workgroup memory, and the split that holds the
// token's own position writes K = RoPE(RMSNorm(k; k_norm)) and V = RMSNorm(v)
// of its KV head to the caches (prep_flags & 1: layers that own a cache)
// before it reads them. No other split reads that position, so no workgroup
// waits for another's write.

// SUBGROUPS (with SGMIN, the device's smallest subgroup): PREP's sums of squares
// take one subgroup sum per row and one barrier instead of a log2(WG)-level tree,
// and the P partial dots of a key meet by shuffles (P <= SGMIN) instead of
// through workgroup memory and a barrier.
#ifdef SUBGROUPS
enable subgroups;
#endif

const C4: u32 = HD / 4u;     // vec4 per row
const P: u32 = WG / KB;      // threads per key (scores)
const DP: u32 = C4 / P;      // vec4 of a key's row per thread (scores)
const NPV: u32 = WG / C4;    // P.V parts
const KH: u32 = KB / NPV;    // keys per thread (P.V: its part of the block)
const_assert NPV * C4 == WG && KH * NPV == KB;
#ifdef LANE_PARTS
const_assert NPV <= SGMIN;
#endif

var<workgroup> qs: array<vec4<f32>, HC * C4>;  // the queries; after the last block, the second part's sums (NPV = 2)
var<workgroup> part_sc: array<f32, WG * (HC + 2u)>; // per-thread partial scores (PREP: row sums first)
var<workgroup> sc: array<f32, HC * KB>;        // scores, then probabilities, of the block
var<workgroup> m_run: array<f32, HC>;
var<workgroup> l_run: array<f32, HC>;
var<workgroup> rescale: array<f32, HC>;

// vec4 index of key k's row of KV head g in the caches (a ring of kv_cap rows)
fn row_of(k: u32, g: u32) -> u32 { return (k % p.kv_cap) * (p.kv_stride / 4u) + g * C4; }

#ifdef PREP
const NR: u32 = HC + 2u;                    // rows prepared: the queries, k, v
const QI: u32 = (HC * C4 + WG - 1u) / WG;   // query vec4s per invocation
var<workgroup> kvs: array<vec4<f32>, 2u * C4>;  // raw, then prepared k and v of this token
var<workgroup> inv_r: array<f32, NR>;

// cos and sin of the rotation pairs of vec4 column c (pairs j, j + rope_dims / 2)
fn rot_of(c: u32) -> array<vec4<f32>, 2> {
    let h4 = p.rope_dims / 8u;
    var r: array<vec4<f32>, 2>;
    if (c >= 2u * h4) { return r; }
    let b = p.rt_col + 8u * select(c - h4, c, c < h4);
    r[0] = vec4<f32>(RT[b], RT[b + 2u], RT[b + 4u], RT[b + 6u]);
    r[1] = vec4<f32>(RT[b + 1u], RT[b + 3u], RT[b + 5u], RT[b + 7u]);
    return r;
}

// NeoX RoPE of vec4 column c of a row x, its partner column's values and c's rotation
fn rope4(x: vec4<f32>, partner: vec4<f32>, c: u32, rot: array<vec4<f32>, 2>) -> vec4<f32> {
    let h4 = p.rope_dims / 8u;
    if (c >= 2u * h4) { return x; }
    if (c < h4) { return x * rot[0] - partner * rot[1]; }
    return partner * rot[1] + x * rot[0];
}

// the partner column of c for RoPE (c itself past rope_dims)
fn partner_of(c: u32) -> u32 {
    let h4 = p.rope_dims / 8u;
    if (c < h4) { return c + h4; }
    if (c < 2u * h4) { return c - h4; }
    return c;
}

fn prep(lid: u32, nh: u32, g: u32, writes_kv: bool, pos: u32) {
    // every global load up front (one memory round trip): this invocation's column c is the
    // same for all its query items (WG = 2 * C4) and for k, so are its weights and rotation
    let c = lid % C4;
    let pc = partner_of(c);
    let wq = VEC[p.qn_off / 4u + c];
    let wqp = VEC[p.qn_off / 4u + pc];
    let wk = VEC[p.kn_off / 4u + c];
    let wkp = VEC[p.kn_off / 4u + pc];
    let rot = rot_of(c);
    if (writes_kv) {
        for (var cc = lid; cc < C4; cc += WG) {
            kvs[cc] = Q[(p.k_off + g * HD) / 4u + cc];
            kvs[C4 + cc] = Q[(p.v_off + g * HD) / 4u + cc];
        }
    }
    workgroupBarrier();
    // sums of squares of every row
    for (var r = 0u; r < NR; r++) {
        var v = 0.0;
        for (var c = lid; c < C4; c += WG) {
            var x = vec4<f32>(0.0);
            if (r < HC) { x = qs[r * C4 + c]; } else if (writes_kv) { x = kvs[(r - HC) * C4 + c]; }
            v += dot(x, x);
        }
#ifdef SUBGROUPS
        // a subgroup's sum at its leader (leaders sit at multiples of SGMIN), zeros elsewhere
        let sv = subgroupAdd(v);
        part_sc[r * WG + lid] = select(0.0, sv, subgroupElect());
#else
        part_sc[r * WG + lid] = v;
#endif
    }
    workgroupBarrier();
#ifdef SUBGROUPS
    if (lid < NR) {
        var t = 0.0;
        for (var k = 0u; k < WG; k += SGMIN) { t += part_sc[lid * WG + k]; }
        inv_r[lid] = inverseSqrt(t / f32(HD) + p.eps);
    }
#else
    for (var st = WG / 2u; st > 0u; st >>= 1u) {  // a tree over the invocations
        if (lid < st) {
            for (var r = 0u; r < NR; r++) { part_sc[r * WG + lid] += part_sc[r * WG + lid + st]; }
        }
        workgroupBarrier();
    }
    if (lid < NR) { inv_r[lid] = inverseSqrt(part_sc[lid * WG] / f32(HD) + p.eps); }
#endif
    workgroupBarrier();
    // the queries: weighted norm, then RoPE (through registers: RoPE mixes columns)
    var qn: array<vec4<f32>, QI>;
    for (var k = 0u; k < QI; k++) {
        let i = lid + k * WG;
        if (i < HC * C4) {
            let h = i / C4;
            qn[k] = rope4(qs[i] * inv_r[h] * wq, qs[h * C4 + pc] * inv_r[h] * wqp, c, rot);
        }
    }
    var kn = vec4<f32>(0.0);
    var vn = vec4<f32>(0.0);
    if (writes_kv && lid < C4) {
        kn = rope4(kvs[lid] * inv_r[HC] * wk, kvs[pc] * inv_r[HC] * wkp, c, rot);
        vn = kvs[C4 + lid] * inv_r[HC + 1u];
    }
    workgroupBarrier();
    for (var k = 0u; k < QI; k++) {
        let i = lid + k * WG;
        if (i < HC * C4) { qs[i] = select(vec4<f32>(0.0), qn[k], i / C4 < nh); }
    }
    if (writes_kv && lid < C4) {
        KCACHE[row_of(pos, g) + lid] = kn;
        VCACHE[row_of(pos, g) + lid] = vn;
    }
    storageBarrier();   // the cache rows are read back by this workgroup below
    workgroupBarrier();
}
#endif

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) li: vec3<u32>) {
    let lid = li.x;
    let split = wg.x;
    let g = wg.y / p.head_chunks;                      // KV head
    let group = p.H / p.kvh;
    let h0 = g * group + (wg.y % p.head_chunks) * HC;  // first query head of this workgroup
    let nh = min(HC, g * group + group - h0);          // heads in this workgroup
    let t = wg.z;
    let pos = step.pos0 + t;
    var lo = 0u;
    if (p.window > 0u && pos + 1u > p.window) { lo = pos + 1u - p.window; }
    let n = pos + 1u - lo;
    let per = (n + p.n_split - 1u) / p.n_split;
    let k_begin = lo + min(split * per, n);
    let k_end = lo + min(split * per + per, n);

    for (var i = lid; i < HC * C4; i += WG) {
        let h = i / C4;
        var q = vec4<f32>(0.0);
        if (h < nh) { q = Q[(p.q_off + t * p.q_stride + (h0 + h) * HD) / 4u + i % C4]; }
        qs[i] = q;
    }
    if (lid < HC) {
        m_run[lid] = NEG_INF;
        l_run[lid] = 0.0;
    }
#ifdef PREP
    prep(lid, nh, g, (p.prep_flags & 1u) != 0u && pos >= k_begin && pos < k_end, pos);
#endif
    let key = lid / P;   // scores: this thread's key in the block
    let j = lid % P;     //         and its part of the row
#ifdef LANE_PARTS
    let col = lid / NPV;  // P.V: this thread's output column
    let part = lid % NPV; //      and part of the block's keys
#else
    let col = lid % C4;
    let part = lid / C4;
#endif
    var acc: array<vec4<f32>, HC>;
    for (var h = 0u; h < HC; h++) { acc[h] = vec4<f32>(0.0); }
    workgroupBarrier();

    for (var kb = k_begin; kb < k_end; kb += KB) {
        let nk = min(KB, k_end - kb);
        // every load of the block at once: the K slices for the scores and the V rows for P.V,
        // which do not depend on the scores (one memory round trip per block, not two)
        var kreg: array<vec4<f32>, DP>;
        var vreg: array<vec4<f32>, KH>;
        if (key < nk) {
            let r = row_of(kb + key, g);
            for (var d = 0u; d < DP; d++) { kreg[d] = KCACHE[r + j + d * P]; }
        }
        for (var q = 0u; q < KH; q++) {
            let kk = part * KH + q;
            if (kk < nk) { vreg[q] = VCACHE[row_of(kb + kk, g) + col]; }
        }
        // scores: partial dots of P-interleaved slices of the key's row
        var s: array<f32, HC>;
        for (var h = 0u; h < HC; h++) { s[h] = 0.0; }
        if (key < nk) {
            for (var d = 0u; d < DP; d++) {
                let c = j + d * P;
                for (var h = 0u; h < HC; h++) { s[h] += dot(qs[h * C4 + c], kreg[d]); }
            }
        }
#ifdef SUBGROUPS
        if (P <= SGMIN) {
            // the key's P threads are neighbouring lanes of one subgroup: a butterfly over them
            for (var o = 1u; o < P; o <<= 1u) {
                for (var h = 0u; h < HC; h++) { s[h] += subgroupShuffleXor(s[h], o); }
            }
            if (j == 0u) {
                for (var h = 0u; h < HC; h++) { sc[h * KB + key] = select(NEG_INF, s[h], key < nk); }
            }
            workgroupBarrier();
        } else {
#endif
        for (var h = 0u; h < HC; h++) { part_sc[lid * HC + h] = s[h]; }
        workgroupBarrier();
        for (var i = lid; i < HC * KB; i += WG) {
            let h = i / KB;
            let kk = i % KB;
            var sum = 0.0;
            for (var q = 0u; q < P; q++) { sum += part_sc[(kk * P + q) * HC + h]; }
            sc[i] = select(NEG_INF, sum, kk < nk);
        }
        workgroupBarrier();
#ifdef SUBGROUPS
        }
#endif
        // online softmax per head
#ifdef SUBGROUPS
        if (KB <= SGMIN && HC * KB <= WG) {
            // thread (head i / KB, key i % KB): the block's max and sum by shuffles over its KB
            // neighbouring lanes (every thread takes part: uniform control flow)
            let i = lid % (HC * KB);
            let h = i / KB;
            let kk = i % KB;
            let sv = sc[i];  // NEG_INF past nk
            var bm = sv;
            for (var o = 1u; o < KB; o <<= 1u) { bm = max(bm, subgroupShuffleXor(bm, o)); }
            let m_old = m_run[h];
            let m_new = max(m_old, bm);
            let e = select(0.0, exp(sv - m_new), kk < nk);
            var sum = e;
            for (var o = 1u; o < KB; o <<= 1u) { sum += subgroupShuffleXor(sum, o); }
            workgroupBarrier();  // m_run and sc are read above and written below
            if (lid < HC * KB && h < nh) {
                sc[i] = e;
                if (kk == 0u) {
                    let r = exp(m_old - m_new);
                    m_run[h] = m_new;
                    l_run[h] = l_run[h] * r + sum;
                    rescale[h] = r;
                }
            }
        } else {
#endif
        if (lid < nh) {
            var cm = NEG_INF;
            for (var kk = 0u; kk < nk; kk++) { cm = max(cm, sc[lid * KB + kk]); }
            let m_new = max(m_run[lid], cm);
            let r = exp(m_run[lid] - m_new);
            var sum = 0.0;
            for (var kk = 0u; kk < KB; kk++) {
                var e = 0.0;
                if (kk < nk) { e = exp(sc[lid * KB + kk] - m_new); }
                sc[lid * KB + kk] = e;
                sum += e;
            }
            m_run[lid] = m_new;
            l_run[lid] = l_run[lid] * r + sum;
            rescale[lid] = r;
        }
#ifdef SUBGROUPS
        }
#endif
        workgroupBarrier();
        // P.V over this thread's part of the keys
        for (var h = 0u; h < HC; h++) { acc[h] *= rescale[h]; }
        for (var q = 0u; q < KH; q++) {
            let kk = part * KH + q;
            if (kk < nk) {
                for (var h = 0u; h < HC; h++) { acc[h] += sc[h * KB + kk] * vreg[q]; }
            }
        }
        workgroupBarrier(); // sc and rescale are rewritten by the next block
    }

#ifdef LANE_PARTS
    // a column's parts are neighbouring lanes: a butterfly leaves every lane with their sum,
    // and lane `part` writes heads part, part + NPV, ...
    for (var o = 1u; o < NPV; o <<= 1u) {
        for (var h = 0u; h < HC; h++) { acc[h] += subgroupShuffleXor(acc[h], o); }
    }
    for (var h = 0u; h < HC; h++) {
        if (h % NPV == part && h < nh) { put(h, acc[h], t, h0, col, split); }
    }
#else
    // the second part's sums join the first's (qs is free now)
    const_assert NPV == 2u;
    if (part == 1u) {
        for (var h = 0u; h < HC; h++) { qs[h * C4 + col] = acc[h]; }
    }
    workgroupBarrier();
    if (part == 1u) { return; }
    for (var h = 0u; h < nh; h++) { put(h, acc[h] + qs[h * C4 + col], t, h0, col, split); }
#endif
}

// head h0 + h's output, column col: normalised (one split), or the split's partial
fn put(h: u32, a: vec4<f32>, t: u32, h0: u32, col: u32, split: u32) {
    if (p.n_split == 1u) {
        let o = t * p.o_stride + (h0 + h) * HD + 4u * col;
        let v = a / l_run[h];
        O[o] = v.x;
        O[o + 1u] = v.y;
        O[o + 2u] = v.z;
        O[o + 3u] = v.w;
        return;
    }
#ifdef PART_VEC
    // one token: [H][n_split][HD] values (whole vec4s), then [H][n_split] (m, l) pairs
    let base = ((h0 + h) * p.n_split + split) * HD + 4u * col;
    let ml = p.H * p.n_split * HD + 2u * ((h0 + h) * p.n_split + split);
#else
    let base = ((t * p.H + h0 + h) * p.n_split + split) * (HD + 2u) + 4u * col;
    let ml = base - 4u * col + HD;
#endif
    PART[base] = a.x;
    PART[base + 1u] = a.y;
    PART[base + 2u] = a.z;
    PART[base + 3u] = a.w;
    if (col == 0u) {
        PART[ml] = m_run[h];
        PART[ml + 1u] = l_run[h];
    }
}
