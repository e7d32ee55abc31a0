// The sum of a split-K product's slices (matmul_smx.wgsl with more than one
// K slice), with the product's softcap:
//   Y[y_off + t * y_stride + r] = cap(sum_z PART[z * part + t * rows + r])
// Bindings: 0 uniform QP, 1 storage read PART: array<f32>, 2 storage read_write
// Y: array<f32>. Defines: WG. Dispatch (ceil(rows / WG), n_tok, 1).

struct QP {
    rows: u32,
    n_tok: u32,
    slices: u32,
    part: u32,
    y_off: u32,
    y_stride: u32,
    softcap: f32,
    pad0: u32,
}

@group(0) @binding(0) var<uniform> q: QP;
@group(0) @binding(1) var<storage, read> PART: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let r = gid.x;
    let t = gid.y;
    if (r >= q.rows || t >= q.n_tok) { return; }
    var y = 0.0;
    for (var z = 0u; z < q.slices; z++) { y += PART[z * q.part + t * q.rows + r]; }
    if (q.softcap > 0.0) { y = q.softcap * tanh(clamp(y / q.softcap, -15.0, 15.0)); }
    Y[q.y_off + t * q.y_stride + r] = y;
}
