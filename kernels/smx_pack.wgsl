// Weights for the integer tensor-core matmul (matmul_smx.wgsl), made once at
// load from the GPU copy of a quantized matrix: each row r becomes a 16-bit
// integer row n_r with one f32 scale, w ~ s_r n, s_r = max_c |w_rc| / 32512,
// n = round(w / s_r); n is kept as two balanced int8 limbs, n = 256 h + l with
// l in [-128, 127] (|n| <= 32512 keeps h in [-127, 127]). The rounding is
// 2^-16 of the row's largest weight, far below the 4-6 bit quantization the
// weights come from; in exchange a row's whole dot product sums exactly in
// i32, with no per-block scales in the inner loop.
//
// Layout: rows in groups of 16, columns in blocks of 32; group g, block b is a
// 256-word tile at tile_off + (g * nb + b) * 256: the 16 rows' h bytes (row
// rr's 32 bytes at word 8 rr), then their l bytes (word 128 + 8 rr). So one
// 16 x 32 fragment is 512 contiguous bytes. Scales at scale_off + r (f32 bits).
// A run of matrices packed back to back (tiles, then all their scales) is one
// taller matrix, as in the quantized arenas.
//
// Bindings
//   0 uniform PP
//   1 storage read       W: array<u32>  the quantized matrix (quant.wgsl), rows at w_off
//   2 storage read_write P: array<u32>  the packed arena
// Source: common.wgsl, reduce.wgsl (wg_max), quant.wgsl, smx_pack.wgsl. Defines:
// TYPE_<T> and its layout define (as the mat-vec), WG = 256 (with SUBGROUPS: SGMIN).
// rows a multiple of 16, cols of 32. Dispatch (grid_x, ceil(rows / grid_x), 1):
// one workgroup per row.

struct PP {
    rows: u32,
    cols: u32,
    w_off: u32,      // bytes
    tile_off: u32,   // words
    scale_off: u32,  // words
    grid_x: u32,
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<uniform> pp: PP;
@group(0) @binding(1) var<storage, read> W: array<u32>;
@group(0) @binding(2) var<storage, read_write> P: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let r = wid.y * pp.grid_x + wid.x;
    if (r >= pp.rows) { return; } // uniform per workgroup
    let rb = pp.w_off + r * (pp.cols / QK) * QB;
    var m = 0.0;
    for (var j = li; j < pp.cols / 8u; j += WG) {
        let v = dq8(rb, j);
        m = max(m, max(max(abs(v[0]).x, abs(v[0]).y), max(abs(v[0]).z, abs(v[0]).w)));
        m = max(m, max(max(abs(v[1]).x, abs(v[1]).y), max(abs(v[1]).z, abs(v[1]).w)));
    }
    let mx = wg_max(m, li);
    var inv = 0.0;
    if (mx > 0.0) { inv = 32512.0 / mx; }
    let nb = pp.cols / 32u;
    let tile = pp.tile_off + (r / 16u) * nb * 256u + (r % 16u) * 8u;
    for (var j = li; j < pp.cols / 8u; j += WG) {
        let v = dq8(rb, j);
        var hw = vec2<u32>(0u);
        var lw = vec2<u32>(0u);
        for (var i = 0u; i < 8u; i++) {
            let n = clamp(i32(round(v[i / 4u][i % 4u] * inv)), -32512, 32512);
            let l = ((n + 128) & 255) - 128;
            let h = (n - l) >> 8u;
            hw[i / 4u] |= (u32(h) & 255u) << (8u * (i % 4u));
            lw[i / 4u] |= (u32(l) & 255u) << (8u * (i % 4u));
        }
        let o = tile + (j / 4u) * 256u + (j % 4u) * 2u;
        P[o] = hw.x;
        P[o + 1u] = hw.y;
        P[o + 128u] = lw.x;
        P[o + 129u] = lw.y;
    }
    if (li == 0u) { P[pp.scale_off + r] = bitcast<u32>(mx / 32512.0); }
}
