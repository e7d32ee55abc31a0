// The K best logits of each row, exactly as the C sampler picks its top-k
// (src/sampler.c): higher value first, then lower index; NaN and -inf are never
// candidates and +inf counts as the largest finite value. The host reads back
// only these K (value, index) pairs and samples from them, instead of the
// whole 262144-entry row.
//
// Pass 0 (grid (nb, n_tok)): each workgroup takes one slice of its row and
// finds the slice's top K by radix select on order-preserving u32 keys (four
// 8-bit digits, a 256-bin histogram per digit in workgroup atomics); ties at the
// threshold go to the lowest indices. Pass 1 (grid (1, n_tok)) selects the top K
// of the nb*K slice winners the same way (ties: lowest index) and writes them
// sorted. The global top K is always among the slice winners.
struct Params {
    n: u32,
    x_off: u32,
    x_stride: u32,
    K: u32,
    nb: u32,
    pass_id: u32,
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> PART: array<u32>; // [n_tok][nb][K] (value bits, index)
@group(0) @binding(3) var<storage, read_write> OUT: array<u32>;  // [n_tok][K] (value bits, index), sorted

const NONE: u32 = 0xffffffffu;
const FLT_MAX: f32 = 3.4028234663852886e38;

var<workgroup> hist: array<atomic<u32>, 256>;
var<workgroup> n_gt: atomic<u32>;
var<workgroup> prefix: u32;
var<workgroup> need: u32;
var<workgroup> eq_count: array<u32, WG>;
var<workgroup> sel_v: array<f32, MAXK>;
var<workgroup> sel_i: array<u32, MAXK>;
var<workgroup> total: atomic<u32>;

// order-preserving key of a usable value (larger value, larger key)
fn key_of(v: f32) -> u32 {
    let b = bitcast<u32>(v);
    if ((b & 0x80000000u) != 0u) { return ~b; }
    return b | 0x80000000u;
}

// not NaN, not -inf (by bits: WGSL has no infinite constants, and fast math may fold v == v)
fn usable(v: f32) -> bool {
    let b = bitcast<u32>(v);
    return (b & 0x7fffffffu) <= 0x7f800000u && b != 0xff800000u;
}
fn clamp_inf(v: f32) -> f32 { return min(v, FLT_MAX); }

fn better(va: f32, ia: u32, vb: f32, ib: u32) -> bool { return va > vb || (va == vb && ia < ib); }

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) li: vec3<u32>) {
    let lid = li.x;
    let t = wg.y;
    // this invocation's elements: values and indices (index NONE = not a candidate)
    var v: array<f32, EPT>;
    var ix: array<u32, EPT>;
    var cnt = 0u;
    if (p.pass_id == 0u) {
        let sl = (p.n + p.nb - 1u) / p.nb;
        let lo = wg.x * sl;
        let hi = min(p.n, lo + sl);
        for (var j = 0u; j < EPT; j++) {
            let i = lo + lid * EPT + j; // contiguous per invocation: index order = (invocation, j)
            ix[j] = NONE;
            if (i < hi) {
                let x = X[p.x_off + t * p.x_stride + i];
                if (usable(x)) { v[j] = clamp_inf(x); ix[j] = i; cnt++; }
            }
        }
    } else {
        let m = p.nb * p.K;
        for (var j = 0u; j < EPT; j++) {
            let c = lid * EPT + j;
            ix[j] = NONE;
            if (c < m) {
                let i = PART[(t * m + c) * 2u + 1u];
                if (i != NONE) { v[j] = bitcast<f32>(PART[(t * m + c) * 2u]); ix[j] = i; cnt++; }
            }
        }
    }
    if (lid == 0u) { atomicStore(&total, 0u); atomicStore(&n_gt, 0u); prefix = 0u; }
    atomicStore(&hist[lid % 256u], 0u);
    workgroupBarrier();
    atomicAdd(&total, cnt);
    workgroupBarrier();
    let k = min(p.K, atomicLoad(&total));
    if (lid == 0u) { need = k; }
    workgroupBarrier();

    // radix select: the k-th largest key, digit by digit from the top
    var mask = 0u;
    for (var d = 0u; d < 4u; d++) {
        let shift = 24u - 8u * d;
        let pre = prefix;
        for (var j = 0u; j < EPT; j++) {
            if (ix[j] != NONE) {
                let kk = key_of(v[j]);
                if ((kk & mask) == pre) { atomicAdd(&hist[(kk >> shift) & 255u], 1u); }
            }
        }
        workgroupBarrier();
        if (lid == 0u && k > 0u) {
            var cum = 0u;
            for (var b = 255i; b >= 0; b--) {
                let h = atomicLoad(&hist[u32(b)]);
                if (cum + h >= need) {
                    prefix = pre | (u32(b) << shift);
                    need = need - cum; // how many of this bucket are still to take
                    break;
                }
                cum += h;
            }
        }
        workgroupBarrier();
        atomicStore(&hist[lid % 256u], 0u);
        mask |= 255u << shift;
        workgroupBarrier();
    }
    let tau = prefix;
    let take_eq = need;   // elements equal to the threshold still to take
    let n_above = k - take_eq;

    // gather: everything above the threshold, then the lowest-index equals
    var my_eq = 0u;
    for (var j = 0u; j < EPT; j++) {
        if (ix[j] != NONE) {
            let kk = key_of(v[j]);
            if (kk > tau) {
                let s = atomicAdd(&n_gt, 1u);
                sel_v[s] = v[j];
                sel_i[s] = ix[j];
            } else if (kk == tau) { my_eq++; }
        }
    }
    eq_count[lid] = my_eq;
    workgroupBarrier();
    if (p.pass_id == 0u) {
        // index order is invocation order here: rank equals by an exclusive prefix count
        var rank = 0u;
        for (var q = 0u; q < lid; q++) { rank += eq_count[q]; }
        for (var j = 0u; j < EPT; j++) {
            if (ix[j] != NONE && key_of(v[j]) == tau) {
                if (rank < take_eq) { sel_v[n_above + rank] = v[j]; sel_i[n_above + rank] = ix[j]; }
                rank++;
            }
        }
        workgroupBarrier();
        let m = p.nb * p.K;
        for (var s = lid; s < p.K; s += WG) {
            let o = (t * m + wg.x * p.K + s) * 2u;
            if (s < k) { PART[o] = bitcast<u32>(sel_v[s]); PART[o + 1u] = sel_i[s]; } else { PART[o + 1u] = NONE; }
        }
        return;
    }
    // pass 1: candidates are not in index order; equals are rare, one invocation takes the lowest ids
    workgroupBarrier();
    if (lid == 0u && take_eq > 0u) {
        var last = 0u;
        var first = true;
        for (var r = 0u; r < take_eq; r++) {
            var best = NONE;
            for (var c = 0u; c < p.nb * p.K; c++) {
                let i = PART[(t * p.nb * p.K + c) * 2u + 1u];
                if (i == NONE) { continue; }
                let x = bitcast<f32>(PART[(t * p.nb * p.K + c) * 2u]);
                if (key_of(x) == tau && (first || i > last) && i < best) { best = i; }
            }
            sel_i[n_above + r] = best;
            last = best;
            first = false;
        }
        // the value of a threshold key, back from its bits
        let b = select(tau & 0x7fffffffu, ~tau, (tau & 0x80000000u) == 0u);
        for (var r = 0u; r < take_eq; r++) { sel_v[n_above + r] = bitcast<f32>(b); }
    }
    workgroupBarrier();
    // sort the k winners: each finds its rank among them
    for (var s = lid; s < k; s += WG) {
        var rank = 0u;
        for (var q = 0u; q < k; q++) {
            if (better(sel_v[q], sel_i[q], sel_v[s], sel_i[s])) { rank++; }
        }
        OUT[(t * p.K + rank) * 2u] = bitcast<u32>(sel_v[s]);
        OUT[(t * p.K + rank) * 2u + 1u] = sel_i[s];
    }
    for (var s = k + lid; s < p.K; s += WG) { OUT[(t * p.K + s) * 2u + 1u] = NONE; }
}
