// Row gather (token embedding, per-layer-embedding table):
//   Y[y_off + t*y_stride + c] = dequant(table row ids[ids_off + t])[c] * scale
// Source: quant.wgsl, get_rows.wgsl (in that order).
//
// Defines: TYPE_<T> (as matvec.wgsl), WG (threads per workgroup).
//
// Bindings (group 0)
//   0 uniform Params
//   1 storage read       W: array<u32>   the table (or a slice of it), raw GGUF blocks
//   2 storage read       ids: array<u32> row ids
//   3 storage read_write Y: array<f32>
//
// Params (12 x 4 bytes; pad0..pad2 unused)
//   n_ids     ids to gather
//   cols      row length in elements (a multiple of the block size; float
//             types: of 4)
//   row_lo    first table row held by this binding: a table larger than one
//   nrows     binding is split into slices of rows [row_lo, row_lo + nrows)
//             at byte w_off, one dispatch per slice; ids outside the slice
//             leave their Y row untouched
//   w_off     byte offset of row row_lo within W (alignment as matvec.wgsl)
//   ids_off   index of the first id within ids
//   y_off     float index of the first output row in Y
//   y_stride  floats between output rows
//   scale     f32 factor (1.0 for a plain gather); the result is
//             dequant * scale rounded once, as on the CPU
// Dispatch (ceil(cols / (8 * WG)), n_ids, 1); each thread writes 8 elements.

struct Params {
    n_ids: u32,
    cols: u32,
    row_lo: u32,
    nrows: u32,
    w_off: u32,
    ids_off: u32,
    y_off: u32,
    y_stride: u32,
    scale: f32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<u32>;
@group(0) @binding(2) var<storage, read> ids: array<u32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let t = wid.y;
    let j = gid.x;
    if (t >= p.n_ids || 8u * j >= p.cols) { return; }
    let id = ids[p.ids_off + t];
    if (id < p.row_lo || id - p.row_lo >= p.nrows) { return; }
    let v = dq8(p.w_off + (id - p.row_lo) * ((p.cols / QK) * QB), j);
    let o = p.y_off + t * p.y_stride + 8u * j;
    for (var q = 0u; q < 8u; q++) {
        if (8u * j + q < p.cols) { Y[o + q] = v[q >> 2u][q & 3u] * p.scale; }
    }
}
