// Greedy pick: OUT[out_off + t] = argmax over n logits of row t (lowest index
// wins ties), one workgroup per row.
struct Params {
    n: u32,
    x_off: u32,
    x_stride: u32,
    out_off: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<u32>;

var<workgroup> best_v: array<f32, WG>;
var<workgroup> best_i: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) li: vec3<u32>) {
    let lid = li.x;
    let base = p.x_off + wg.y * p.x_stride;
    var bv = NEG_INF;
    var bi = 0xffffffffu;
    for (var i = lid; i < p.n; i += WG) {
        let v = X[base + i];
        if (v > bv) { bv = v; bi = i; } // strided scan: first hit per lane is its lowest index
    }
    best_v[lid] = bv;
    best_i[lid] = bi;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if (lid < s) {
            let ov = best_v[lid + s];
            let oi = best_i[lid + s];
            if (ov > best_v[lid] || (ov == best_v[lid] && oi < best_i[lid])) {
                best_v[lid] = ov;
                best_i[lid] = oi;
            }
        }
        workgroupBarrier();
    }
    if (lid == 0u) { OUT[p.out_off + wg.y] = best_i[0]; }
}
