// Embedding gather: OUT[t*out_stride + c] = dequant(W row IDS[ids_off + t])[c] * scale.
// Grid: (ceil(cols / WG), n_tok).
struct Params {
    cols: u32,
    n_tok: u32,
    ids_off: u32,
    out_stride: u32,
    scale: f32,
    w_off: u32,
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<u32>;
@group(0) @binding(2) var<storage, read> IDS: array<u32>;
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    let t = gid.y;
    if (c >= p.cols) { return; }
    let row = p.w_off + IDS[p.ids_off + t] * row_bytes(p.cols);
    OUT[t * p.out_stride + c] = dq(row, c) * p.scale;
}
