// GeGLU (gemma4.md §4.1), elementwise, in place on Y:
//   mode 0: Y[y] = gelu(Y[a]) * Y[y]   (gate and up side by side in one buffer: the MLP)
//   mode 1: Y[y] = gelu(Y[y]) * A[a]   (Y = gate, A = per-layer embedding slice: PLE)
// Grid: (ceil(n / WG), n_tok).
struct Params {
    n: u32,
    mode: u32,
    a_off: u32,
    a_stride: u32,
    y_off: u32,
    y_stride: u32,
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= p.n) { return; }
    let ai = p.a_off + gid.y * p.a_stride + i;
    let yi = p.y_off + gid.y * p.y_stride + i;
    if (p.mode == 0u) { Y[yi] = gelu_tanh(Y[ai]) * Y[yi]; } else { Y[yi] = gelu_tanh(Y[yi]) * A[ai]; }
}
