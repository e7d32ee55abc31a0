// Merges the split-K partials of the attention kernels: for each (head, slot),
// O = sum_s acc_s * exp(m_s - M) / sum_s l_s * exp(m_s - M), M = max_s m_s.
// Grid (H * ceil(hd / DW), n_tok): a workgroup merges DW dimensions of one
// head, its WG / DW groups of threads each taking every (WG / DW)-th split
// (reads coalesced along the dimensions), then adding up in workgroup memory:
// a decode step spreads over many workgroups, and no thread walks every split
// (a chain of dependent loads); n_split <= MAXS.
// With DIRECT (prefill's few splits, n_split <= U): WG = DW, one dimension per
// thread, each thread reads every split's m and l itself: no workgroup
// reductions and no barriers (the reductions' barriers, with most of a
// 128-thread group idle at 4 splits, cost 94 us a 512-token pass on an H100).
struct Params {
    H: u32,
    hd: u32,
    n_split: u32,
    o_stride: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> PART: array<f32>;
@group(0) @binding(2) var<storage, read_write> O: array<f32>;

// splits per thread whose values are loaded before the maximum is known (all of
// them while n_split <= U * GROUPS, e.g. decode's): loads in a loop wait for one
// another, so the first U come in one round trip with the m and l values
const U: u32 = 16u;

#ifdef DIRECT
const_assert WG == DW;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) li: vec3<u32>) {
    let chunks = (p.hd + DW - 1u) / DW;
    let h = wg.x / chunks;
    let d = (wg.x % chunks) * DW + li.x;
    let t = wg.y;
    let stride = p.hd + 2u;
    let base = (t * p.H + h) * p.n_split * stride;
    var pv: array<f32, U>;
    var pm: array<f32, U>;
    var pl: array<f32, U>;
    for (var s = 0u; s < U; s++) {
        pv[s] = 0.0;
        pm[s] = NEG_INF;
        pl[s] = 0.0;
        if (s < p.n_split) {
            if (d < p.hd) { pv[s] = PART[base + s * stride + d]; }
            pm[s] = PART[base + s * stride + p.hd];
            pl[s] = PART[base + s * stride + p.hd + 1u];
        }
    }
    var M = NEG_INF;
    for (var s = 0u; s < U; s++) { M = max(M, pm[s]); }
    var l = 0.0;
    var o = 0.0;
    for (var s = 0u; s < U; s++) {
        if (s < p.n_split) {
            let w = exp(pm[s] - M);
            l += pl[s] * w;
            o += pv[s] * w;
        }
    }
    if (d < p.hd) { O[t * p.o_stride + h * p.hd + d] = o / l; }
}
#else
var<workgroup> wsplit: array<f32, MAXS>;
var<workgroup> sums: array<f32, WG>;
const GROUPS: u32 = WG / DW;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) li: vec3<u32>) {
    let lid = li.x;
    let chunks = (p.hd + DW - 1u) / DW;
    let h = wg.x / chunks;
    let d = (wg.x % chunks) * DW + lid % DW;
    let grp = lid / DW;
    let t = wg.y;
    let stride = p.hd + 2u;
    let base = (t * p.H + h) * p.n_split * stride;
    // every load up front: this thread's first m and l, and its first U splits' values
    var pv: array<f32, U>;
    for (var k = 0u; k < U; k++) {
        let s = grp + k * GROUPS;
        pv[k] = 0.0;
        if (s < p.n_split && d < p.hd) { pv[k] = PART[base + s * stride + d]; }
    }
    var m0 = NEG_INF;
    var l0 = 0.0;
    if (lid < p.n_split) {
        m0 = PART[base + lid * stride + p.hd];
        l0 = PART[base + lid * stride + p.hd + 1u];
    }
    var mx = m0;
    for (var s = lid + WG; s < p.n_split; s += WG) { mx = max(mx, PART[base + s * stride + p.hd]); }
    let M = wg_max(mx, lid);
    var l = 0.0;
    if (lid < p.n_split) {
        let w = exp(m0 - M);
        wsplit[lid] = w;
        l = l0 * w;
    }
    for (var s = lid + WG; s < p.n_split; s += WG) {
        let w = exp(PART[base + s * stride + p.hd] - M);
        wsplit[s] = w;
        l += PART[base + s * stride + p.hd + 1u] * w;
    }
    let inv = 1.0 / wg_sum(l, lid); // also orders wsplit's writes before the reads below
    var o = 0.0;
    for (var k = 0u; k < U; k++) {
        let s = grp + k * GROUPS;
        if (s < p.n_split) { o += pv[k] * wsplit[s]; }
    }
    if (d < p.hd) {
        for (var s = grp + U * GROUPS; s < p.n_split; s += GROUPS) { o += PART[base + s * stride + d] * wsplit[s]; }
    }
    sums[lid] = o;
    workgroupBarrier();
    if (grp == 0u && d < p.hd) {
        for (var g = 1u; g < GROUPS; g++) { o += sums[g * DW + lid]; }
        O[t * p.o_stride + h * p.hd + d] = o * inv;
    }
}
#endif
