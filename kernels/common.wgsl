// Shared declarations for every rullama kernel. The C core prepends variant
// constants (NAME = VALUE) and selects #ifdef blocks (src/gpu/wgsl.c).

// Per-call values that change between steps without rebuilding bind groups:
// written by the host before each submit (src/gpu/engine.c, struct gpu_step).
struct Step {
    pos0: u32,   // absolute position of the first slot in this batch
    n_tok: u32,  // slots in this batch
    pad0: u32,
    pad1: u32,
}

const NEG_INF: f32 = -3.4028234663852886e38;

fn gelu_tanh(x: f32) -> f32 {
    // tanh form (gemma4.md §4.1); tanh via exp of a clamped argument avoids
    // inf/inf for large |x|
    let u = clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), -15.0, 15.0);
    let e = exp(2.0 * u);
    return 0.5 * x * (1.0 + (e - 1.0) / (e + 1.0));
}

fn tanh_safe(x: f32) -> f32 {
    let u = clamp(x, -15.0, 15.0);
    let e = exp(2.0 * u);
    return (e - 1.0) / (e + 1.0);
}
