// Merges the split-K partials of the attention kernels: for each (head, slot),
// O = sum_s acc_s * exp(m_s - M) / sum_s l_s * exp(m_s - M), M = max_s m_s.
// Grid (H * ceil(hd / WG), n_tok): a workgroup merges WG dimensions of one
// head (each thread one, reading the partials coalesced), so a decode step
// spreads over many workgroups instead of one per head; n_split <= MAXS.
struct Params {
    H: u32,
    hd: u32,
    n_split: u32,
    o_stride: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> PART: array<f32>;
@group(0) @binding(2) var<storage, read_write> O: array<f32>;

var<workgroup> wsplit: array<f32, MAXS>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) li: vec3<u32>) {
    let lid = li.x;
    let chunks = (p.hd + WG - 1u) / WG;
    let h = wg.x / chunks;
    let d = (wg.x % chunks) * WG + lid;
    let t = wg.y;
    let stride = p.hd + 2u;
    let base = (t * p.H + h) * p.n_split * stride;
    var mx = NEG_INF;
    for (var s = lid; s < p.n_split; s += WG) { mx = max(mx, PART[base + s * stride + p.hd]); }
    let M = wg_max(mx, lid);
    var l = 0.0;
    for (var s = lid; s < p.n_split; s += WG) {
        let w = exp(PART[base + s * stride + p.hd] - M);
        wsplit[s] = w;
        l += PART[base + s * stride + p.hd + 1u] * w;
    }
    let inv = 1.0 / wg_sum(l, lid); // also orders wsplit's writes before the reads below
    if (d < p.hd) {
        var o = 0.0;
        for (var s = 0u; s < p.n_split; s++) { o += PART[base + s * stride + d] * wsplit[s]; }
        O[t * p.o_stride + h * p.hd + d] = o * inv;
    }
}
