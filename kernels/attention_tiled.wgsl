// Tiled (flash-style) attention for prefill: same maths and bindings as
// attn_decode.wgsl (scale 1.0, GQA with contiguous groups, key k visible from
// position pos iff k <= pos and (window == 0 or pos - k < window)).
//
// Grid (n_split, ceil(n_tok / BQ), kvh). A workgroup takes R query rows: BQ =
// R / G tokens times the G heads that share KV head g. It walks the union of
// its tokens' key ranges (one split of it) in blocks of BK keys, so every K/V
// row it loads serves R rows instead of one token's G (attn_decode.wgsl). Per
// block:
//   scores  S[R][BK] = Q K^T, over SD-wide dimension slices: each slice of Q
//           and K is staged in workgroup memory; an invocation owns SPT rows
//           of one key (a warp shares its rows: broadcast loads of Q).
//   softmax WG / R invocations per row keep its running max and sum.
//   output  O[R][HD] += P V over SD-wide slices of V: an invocation owns one
//           vec4 of dimensions of RPT rows in every slice, in registers.
// HD is the head dim as a constant so every register array has a constant
// size and constant indices (dynamically indexed arrays spill on NVIDIA).
// With n_split == 1 it writes O; otherwise partials for attn_combine.wgsl.

const SD4: u32 = SD / 4u;
const TS: u32 = SD4 + 1u;       // staged row stride in vec4: odd, so 8 rows' vec4s hit distinct banks
const SLICES: u32 = HD / SD;
const NRS: u32 = WG / BK;       // score row groups: invocation lid scores key lid % BK of rows lid / BK + NRS * i
const SPT: u32 = R / NRS;
const NRV: u32 = WG / SD4;      // output row groups: invocation lid owns dims 4 * (lid % SD4) of rows lid / SD4 + NRV * i
const RPT: u32 = R / NRV;
const SCS: u32 = BK + 1u;       // score row stride (odd: a warp's rows of one key hit distinct banks)
const SPR: u32 = WG / R;        // softmax: invocation lid takes keys (lid % SPR) * KPR + j of row lid / SPR
const KPR: u32 = BK / SPR;

const_assert WG % BK == 0u && R % NRS == 0u && WG % SD4 == 0u && R % NRV == 0u && HD % SD == 0u && SCS <= 4u * TS && WG % R == 0u && BK % SPR == 0u;

var<workgroup> qt: array<vec4<f32>, R * TS>;   // one slice of the R query rows; after the
                                               // scores, the R x SCS scores and probabilities
var<workgroup> kt: array<vec4<f32>, BK * TS>;  // one slice of the block's K (then V) rows
var<workgroup> qoff: array<u32, R>;            // vec4 offset of each row's query
var<workgroup> rowoff: array<u32, BK>;         // vec4 offset of each block key's cache row
var<workgroup> m_run: array<f32, R>;
var<workgroup> l_run: array<f32, R>;
var<workgroup> rescale: array<f32, R>;
var<workgroup> red_max: array<f32, WG>;        // the softmax's partial maxima and sums
var<workgroup> red_sum: array<f32, WG>;

// score i (row * SCS + key) lives in qt's memory: Q is not needed once the scores are
// summed, and sharing it keeps R = 64, SD = 64 within 32 KiB
fn sc_get(i: u32) -> f32 { return qt[i / 4u][i % 4u]; }
fn sc_set(i: u32, v: f32) { qt[i / 4u][i % 4u] = v; }

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) li: vec3<u32>) {
    let lid = li.x;
    let split = wg.x;
    let g = wg.z;                                  // KV head
    let G = p.H / p.kvh;                           // query heads per KV head (<= R)
    let BQ = R / G;                                // tokens per workgroup
    let NR = BQ * G;                               // rows in use
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

    if (lid < R) {
        let t = min(t0 + lid / G, p.n_tok - 1u);   // rows past the pass read a real query; never written
        qoff[lid] = (p.q_off + t * p.q_stride + (g * G + lid % G) * HD) / 4u;
        m_run[lid] = NEG_INF;
        l_run[lid] = 0.0;
    }
    let kk = lid % BK;                             // this invocation's key in the score phase
    let rs = lid / BK;
    let dv = lid % SD4;                            // this invocation's vec4 of dims in the output phase
    let rv = lid / SD4;
    let sr = lid / SPR;                            // this invocation's row and part in the softmax
    let sq = lid % SPR;
    var acc: array<vec4<f32>, SLICES * RPT>;
    for (var j = 0u; j < SLICES * RPT; j++) { acc[j] = vec4<f32>(0.0); }

    for (var k0 = k_begin; k0 < k_end; k0 += BK) {
        let nk = min(BK, k_end - k0);
        if (lid < BK) { rowoff[lid] = (((k0 + min(lid, nk - 1u)) % p.kv_cap) * p.kv_stride + g * HD) / 4u; }
        var part: array<f32, SPT>;
        for (var i = 0u; i < SPT; i++) { part[i] = 0.0; }
        workgroupBarrier();
        for (var sl = 0u; sl < SLICES; sl++) {
            for (var i = lid; i < R * SD4; i += WG) { qt[(i / SD4) * TS + i % SD4] = Q[qoff[i / SD4] + sl * SD4 + i % SD4]; }
            for (var i = lid; i < BK * SD4; i += WG) { kt[(i / SD4) * TS + i % SD4] = KCACHE[rowoff[i / SD4] + sl * SD4 + i % SD4]; }
            workgroupBarrier();
            for (var d = 0u; d < SD4; d++) {
                let kv = kt[kk * TS + d];
                for (var i = 0u; i < SPT; i++) { part[i] += dot(qt[(rs + NRS * i) * TS + d], kv); }
            }
            workgroupBarrier();
        }
        let k = k0 + kk;
        for (var i = 0u; i < SPT; i++) {
            let r = rs + NRS * i;
            let pos = pos_first + r / G;
            let seen = kk < nk && k <= pos && (p.window == 0u || pos - k < p.window);
            sc_set(r * SCS + kk, select(NEG_INF, part[i], seen));
        }
        workgroupBarrier();
        // online softmax: SPR invocations per row, each over BK / SPR keys
        var cm = NEG_INF;
        for (var j = 0u; j < KPR; j++) { cm = max(cm, sc_get(sr * SCS + sq * KPR + j)); }
        red_max[lid] = cm;
        workgroupBarrier();
        var m_new = m_run[sr];
        for (var q = 0u; q < SPR; q++) { m_new = max(m_new, red_max[sr * SPR + q]); }
        var sum = 0.0;
        for (var j = 0u; j < KPR; j++) {
            let s = sc_get(sr * SCS + sq * KPR + j);
            let e = select(0.0, exp(s - m_new), s > NEG_INF); // masked keys weigh 0 even while m_new is NEG_INF
            sc_set(sr * SCS + sq * KPR + j, e);
            sum += e;
        }
        red_sum[lid] = sum;
        workgroupBarrier();
        if (sq == 0u) {
            for (var q = 1u; q < SPR; q++) { sum += red_sum[sr * SPR + q]; }
            let r = exp(m_run[sr] - m_new);
            l_run[sr] = l_run[sr] * r + sum;
            m_run[sr] = m_new;
            rescale[sr] = r;
        }
        for (var sl = 0u; sl < SLICES; sl++) {
            for (var i = lid; i < BK * SD4; i += WG) { kt[(i / SD4) * TS + i % SD4] = VCACHE[rowoff[i / SD4] + sl * SD4 + i % SD4]; }
            workgroupBarrier(); // (the first one also publishes the probabilities)
            for (var i = 0u; i < RPT; i++) {
                let r = rv + NRV * i;
                var a = acc[sl * RPT + i] * rescale[r];
                for (var j = 0u; j < BK; j++) { a += sc_get(r * SCS + j) * kt[j * TS + dv]; }
                acc[sl * RPT + i] = a;
            }
            workgroupBarrier();
        }
    }
    workgroupBarrier(); // m_run and l_run, also when this split had no keys

    for (var sl = 0u; sl < SLICES; sl++) {
        for (var i = 0u; i < RPT; i++) {
            let r = rv + NRV * i;
            let t = t0 + r / G;
            if (r < NR && t < p.n_tok) {
                let h = g * G + r % G;
                let d = sl * SD + 4u * dv;
                let a = acc[sl * RPT + i];
                if (p.n_split == 1u) {
                    let o = t * p.o_stride + h * HD + d;
                    let inv = 1.0 / l_run[r];
                    O[o] = a.x * inv;
                    O[o + 1u] = a.y * inv;
                    O[o + 2u] = a.z * inv;
                    O[o + 3u] = a.w * inv;
                } else {
                    let b = ((t * p.H + h) * p.n_split + split) * (HD + 2u);
                    PART[b + d] = a.x;
                    PART[b + d + 1u] = a.y;
                    PART[b + d + 2u] = a.z;
                    PART[b + d + 3u] = a.w;
                    if (d == 0u) {
                        PART[b + HD] = m_run[r];
                        PART[b + HD + 1u] = l_run[r];
                    }
                }
            }
        }
    }
}
