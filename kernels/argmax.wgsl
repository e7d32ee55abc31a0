// Greedy pick in two passes (a single workgroup over 262144 logits is
// latency-bound): pass 0 (grid (NB, n_tok)) reduces slice wg.x of row t to a
// (value, index) pair in PART; pass 1 (grid (1, n_tok)) reduces the NB pairs
// and writes OUT[out_off + t] (and, with ids_on, row ids_t's pick to IDS[0]).
// Ties go to the lowest index.
struct Params {
    n: u32,
    x_off: u32,
    x_stride: u32,
    out_off: u32,
    nb: u32,       // slices per row
    pass_id: u32,
    ids_t: u32,    // pass 1 with ids_on: row ids_t's pick also goes to IDS[0]
    ids_on: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> PART: array<f32>; // [n_tok][nb][2] (index bits in the second)
@group(0) @binding(3) var<storage, read_write> OUT: array<u32>;
// the next pass's first token id: a greedy chain's next step reads its token from
// here (src/gpu/engine.c), with no copy between the two passes
@group(0) @binding(4) var<storage, read_write> IDS: array<u32>;

var<workgroup> best_v: array<f32, WG>;
var<workgroup> best_i: array<u32, WG>;

fn better(v: f32, i: u32, bv: f32, bi: u32) -> bool { return v > bv || (v == bv && i < bi); }

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) li: vec3<u32>) {
    let lid = li.x;
    let t = wg.y;
    var bv = NEG_INF;
    var bi = 0xffffffffu;
    if (p.pass_id == 0u) {
        let per = (p.n + p.nb - 1u) / p.nb;
        let lo = wg.x * per;
        let hi = min(p.n, lo + per);
        let base = p.x_off + t * p.x_stride;
        for (var i = lo + lid; i < hi; i += WG) {
            let v = X[base + i];
            if (better(v, i, bv, bi)) { bv = v; bi = i; }
        }
    } else {
        for (var s = lid; s < p.nb; s += WG) {
            let v = PART[(t * p.nb + s) * 2u];
            let i = bitcast<u32>(PART[(t * p.nb + s) * 2u + 1u]);
            if (better(v, i, bv, bi)) { bv = v; bi = i; }
        }
    }
    best_v[lid] = bv;
    best_i[lid] = bi;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if (lid < s && better(best_v[lid + s], best_i[lid + s], best_v[lid], best_i[lid])) {
            best_v[lid] = best_v[lid + s];
            best_i[lid] = best_i[lid + s];
        }
        workgroupBarrier();
    }
    if (lid != 0u) { return; }
    if (p.pass_id == 0u) {
        PART[(t * p.nb + wg.x) * 2u] = best_v[0];
        PART[(t * p.nb + wg.x) * 2u + 1u] = bitcast<f32>(best_i[0]);
    } else {
        OUT[p.out_off + t] = best_i[0];
        if (p.ids_on != 0u && t == p.ids_t) { IDS[0] = best_i[0]; }
    }
}
