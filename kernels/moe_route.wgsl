// Mixture-of-experts router (gemma4.md §4.4), one workgroup per slot:
// p = softmax(logits * in_scale) over E experts; the K largest (ties to the
// lower index) are kept and renormalised, and each weight also carries the
// expert's output scale: W[t][k] = p_e / sum_sel p * expert_scale[e].
struct Params {
    E: u32,
    K: u32,
    es_off: u32,     // per-expert output scale in VEC
    pad0: u32,
    in_scale: f32,   // 1/sqrt(D): the router input's scale, applied to the logits (linear)
    pad1: u32,
    pad2: u32,
    pad3: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> LOGITS: array<f32>;   // [n_tok][E]
@group(0) @binding(2) var<storage, read> VEC: array<f32>;
@group(0) @binding(3) var<storage, read_write> IDS: array<u32>; // [n_tok][K]
@group(0) @binding(4) var<storage, read_write> WTS: array<f32>; // [n_tok][K]

var<workgroup> prob: array<f32, MAXE>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) li: vec3<u32>) {
    let lid = li.x;
    let t = wg.y;
    var mx = NEG_INF;
    for (var e = lid; e < p.E; e += WG) { mx = max(mx, LOGITS[t * p.E + e] * p.in_scale); }
    let M = wg_max(mx, lid);
    var sum = 0.0;
    for (var e = lid; e < p.E; e += WG) {
        let v = exp(LOGITS[t * p.E + e] * p.in_scale - M);
        prob[e] = v;
        sum += v;
    }
    let total = wg_sum(sum, lid); // also orders prob's writes before the selection
    if (lid != 0u) { return; }
    // K rounds of argmax over the unselected experts (E*K compares; E, K are small)
    var chosen: array<u32, MAXK>;
    var wsum = 0.0;
    for (var k = 0u; k < p.K; k++) {
        var best = 0xffffffffu;
        var bv = -1.0;
        for (var e = 0u; e < p.E; e++) {
            var taken = false;
            for (var j = 0u; j < k; j++) { taken = taken || chosen[j] == e; }
            if (!taken && prob[e] > bv) { bv = prob[e]; best = e; }
        }
        chosen[k] = best;
        wsum += bv / total;
    }
    for (var k = 0u; k < p.K; k++) {
        let e = chosen[k];
        IDS[t * p.K + k] = e;
        WTS[t * p.K + k] = prob[e] / total / wsum * VEC[p.es_off + e];
    }
}
