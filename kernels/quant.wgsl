// Bring-up dequantization (element-wise, simple; the tuned kernels replace it).
// The including kernel declares W: array<u32> holding raw GGUF blocks.
fn qbyte(b: u32) -> u32 { return (W[b >> 2u] >> ((b & 3u) * 8u)) & 0xffu; }
fn qf16(b: u32) -> f32 { return unpack2x16float(qbyte(b) | (qbyte(b + 1u) << 8u)).x; }
fn qi8(b: u32) -> f32 { return f32(i32(qbyte(b) << 24u) >> 24u); }

#ifdef TYPE_F32
fn row_bytes(cols: u32) -> u32 { return cols * 4u; }
fn dq(row: u32, i: u32) -> f32 { return bitcast<f32>(W[(row >> 2u) + i]); }
#endif
#ifdef TYPE_F16
fn row_bytes(cols: u32) -> u32 { return cols * 2u; }
fn dq(row: u32, i: u32) -> f32 { return qf16(row + 2u * i); }
#endif
#ifdef TYPE_BF16
fn row_bytes(cols: u32) -> u32 { return cols * 2u; }
fn dq(row: u32, i: u32) -> f32 { return bitcast<f32>((qbyte(row + 2u * i) | (qbyte(row + 2u * i + 1u) << 8u)) << 16u); }
#endif
#ifdef TYPE_Q8_0
fn row_bytes(cols: u32) -> u32 { return cols / 32u * 34u; }
fn dq(row: u32, i: u32) -> f32 {
    let base = row + (i / 32u) * 34u;
    return qf16(base) * qi8(base + 2u + i % 32u);
}
#endif
#ifdef TYPE_Q4_K
fn row_bytes(cols: u32) -> u32 { return cols / 256u * 144u; }
fn dq(row: u32, i: u32) -> f32 {
    let base = row + (i / 256u) * 144u;
    let j = i % 256u;
    let s = j / 32u;
    var sc = 0u;
    var m = 0u;
    if (s < 4u) {
        sc = qbyte(base + 4u + s) & 63u;
        m = qbyte(base + 8u + s) & 63u;
    } else {
        sc = (qbyte(base + 8u + s) & 15u) | ((qbyte(base + s) >> 6u) << 4u);
        m = (qbyte(base + 8u + s) >> 4u) | ((qbyte(base + 4u + s) >> 6u) << 4u);
    }
    let q = (qbyte(base + 16u + 32u * (j / 64u) + j % 32u) >> (4u * (s & 1u))) & 15u;
    return qf16(base) * f32(sc) * f32(q) - qf16(base + 2u) * f32(m);
}
#endif
#ifdef TYPE_Q6_K
fn row_bytes(cols: u32) -> u32 { return cols / 256u * 210u; }
fn dq(row: u32, i: u32) -> f32 {
    let base = row + (i / 256u) * 210u;
    let j = i % 256u;
    let half = j / 128u;
    let g = (j % 128u) / 32u;
    let l = j % 32u;
    let ql = qbyte(base + 64u * half + l + (g & 1u) * 32u);
    var nib = ql & 15u;
    if (g >= 2u) { nib = ql >> 4u; }
    let hb = (qbyte(base + 128u + 32u * half + l) >> (2u * g)) & 3u;
    let q = f32(i32(nib | (hb << 4u)) - 32);
    return qf16(base + 208u) * qi8(base + 192u + 8u * half + 2u * g + l / 16u) * q;
}
#endif
