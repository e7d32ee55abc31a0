// Expert mat-vec: for each slot t and chosen expert k (grid (ceil(rows/ROWS), K, n_tok)),
// Y[y_off + (t*K + k)*y_stride + r] = sum_c W_e[r][c] * X[x_off + t*x_stride_t + k*x_stride_k + c]
// with e = IDS[t*K + k] and W_e the e-th matrix of a 3-D expert tensor
// (expert_bytes apart). Source: quant.wgsl, moe_matvec.wgsl. TPR = WG / ROWS
// threads share a row, each taking 8-element groups round-robin (dq8).
struct Params {
    rows: u32,
    cols: u32,
    K: u32,
    expert_bytes: u32,
    x_off: u32,
    x_stride_t: u32,
    x_stride_k: u32,
    y_off: u32,
    y_stride: u32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<u32>;
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(4) var<storage, read> IDS: array<u32>;

const TPR: u32 = WG / ROWS;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let slot = li / TPR;
    let lane = li % TPR;
    let t = wid.z;
    let k = wid.y;
    let r = wid.x * ROWS + slot;
    let e = IDS[t * p.K + k];
    let rb = e * p.expert_bytes + min(r, p.rows - 1u) * ((p.cols / QK) * QB);
    let xb = (p.x_off + t * p.x_stride_t + k * p.x_stride_k) / 4u;
    var acc = 0.0;
    for (var j = lane; j < p.cols / 8u; j += TPR) {
        let v = dq8(rb, j);
        acc += dot(v[0], X[xb + 2u * j]) + dot(v[1], X[xb + 2u * j + 1u]);
    }
    red[li] = acc;
    workgroupBarrier();
    for (var s = TPR / 2u; s > 0u; s >>= 1u) {
        if (lane < s) { red[li] += red[li + s]; }
        workgroupBarrier();
    }
    if (lane == 0u && r < p.rows) { Y[p.y_off + (t * p.K + k) * p.y_stride + r] = red[li]; }
}
