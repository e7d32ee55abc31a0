// Merges the split-K partials of attention.wgsl: for each (head, slot),
// O = sum_s acc_s * exp(m_s - M) / sum_s l_s * exp(m_s - M), M = max_s m_s.
// Grid (H, n_tok).
struct Params {
    H: u32,
    hd: u32,
    n_split: u32,
    o_stride: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> PART: array<f32>;
@group(0) @binding(2) var<storage, read_write> O: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) li: vec3<u32>) {
    let h = wg.x;
    let t = wg.y;
    let stride = p.hd + 2u;
    let base = (t * p.H + h) * p.n_split * stride;
    var M = NEG_INF;
    for (var s = 0u; s < p.n_split; s++) { M = max(M, PART[base + s * stride + p.hd]); }
    var L = 0.0;
    for (var s = 0u; s < p.n_split; s++) {
        L += PART[base + s * stride + p.hd + 1u] * exp(PART[base + s * stride + p.hd] - M);
    }
    for (var d = li.x; d < p.hd; d += WG) {
        var o = 0.0;
        for (var s = 0u; s < p.n_split; s++) {
            o += PART[base + s * stride + d] * exp(PART[base + s * stride + p.hd] - M);
        }
        O[t * p.o_stride + h * p.hd + d] = o / L;
    }
}
