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
//   P.V     thread (column lid % C4, half lid / C4) accumulates one vec4 of
//           every head's output over half the block's keys; the halves are
//           added at the end
// With n_split = 1 it writes the normalised output, else its partial (max,
// sum, unnormalised output) for attn_combine.wgsl. WG must be 2 * HD / 4.
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
const KH: u32 = KB / 2u;     // keys per thread (P.V: two halves of the block)

var<workgroup> qs: array<vec4<f32>, HC * C4>;  // the queries; after the last block, the second half's sums
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
    let col = lid % C4;  // P.V: this thread's output column
    let half = lid / C4; //      and half of the block's keys
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
            let kk = half * KH + q;
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
        workgroupBarrier();
        // P.V over this thread's half of the keys
        for (var h = 0u; h < HC; h++) { acc[h] *= rescale[h]; }
        for (var q = 0u; q < KH; q++) {
            let kk = half * KH + q;
            if (kk < nk) {
                for (var h = 0u; h < HC; h++) { acc[h] += sc[h * KB + kk] * vreg[q]; }
            }
        }
        workgroupBarrier(); // sc and rescale are rewritten by the next block
    }

    // the second half's sums join the first half's (qs is free now)
    if (half == 1u) {
        for (var h = 0u; h < HC; h++) { qs[h * C4 + col] = acc[h]; }
    }
    workgroupBarrier();
    if (half == 1u) { return; }
    for (var h = 0u; h < nh; h++) {
        let a = acc[h] + qs[h * C4 + col];
        if (p.n_split == 1u) {
            let o = t * p.o_stride + (h0 + h) * HD + 4u * col;
            let v = a / l_run[h];
            O[o] = v.x;
            O[o + 1u] = v.y;
            O[o + 2u] = v.z;
            O[o + 3u] = v.w;
        } else {
            let base = ((t * p.H + h0 + h) * p.n_split + split) * (HD + 2u);
            PART[base + 4u * col] = a.x;
            PART[base + 4u * col + 1u] = a.y;
            PART[base + 4u * col + 2u] = a.z;
            PART[base + 4u * col + 3u] = a.w;
            if (col == 0u) {
                PART[base + HD] = m_run[h];
                PART[base + HD + 1u] = l_run[h];
            }
        }
    }
}
