// Bulk dequantization for the mat-vec (include after quant.wgsl).
//   CH              elements per chunk; a row has cols / CH chunks
//   dq_chunk(rb, g) dequantizes chunk g of the row at byte rb and hands each
//                   run of 4 consecutive elements to the including kernel's
//                   `fn take4(e: u32, v: vec4<f32>)` (e: element index in the
//                   row, a multiple of 4)
// A chunk is the unit of work of one thread per step: whole words of quants
// (loaded together), the block header decoded once, then every nibble/byte
// of those words used. Chunks of a block are adjacent, so neighbouring
// threads read neighbouring bytes. The values are those of dq8.
// CH per type must match src/gpu/matvec_cfg.c.

#ifdef TYPE_F32
const CH: u32 = 4u;
fn dq_chunk(rb: u32, g: u32) { take4(4u * g, bitcast<vec4<f32>>(w16(rb + 16u * g))); }
#endif

#ifdef TYPE_F16
const CH: u32 = 4u;
fn dq_chunk(rb: u32, g: u32) {
    let i = (rb >> 2u) + 2u * g;
    take4(4u * g, vec4<f32>(unpack2x16float(wd(i)), unpack2x16float(wd(i + 1u))));
}
#endif

#ifdef TYPE_BF16
const CH: u32 = 4u;
fn dq_chunk(rb: u32, g: u32) {
    let i = (rb >> 2u) + 2u * g;
    take4(4u * g, vec4<f32>(bf16x2(wd(i)), bf16x2(wd(i + 1u))));
}
#endif

#ifdef TYPE_Q4_0
const CH: u32 = 32u;  // one block
fn dq_chunk(rb: u32, g: u32) {
    let bb = rb + g * QB;
    let d = f16at(bb);
    let q = w2x4(bb + 2u);
    let lo = q & vec4<u32>(0x0F0F0F0Fu);
    let hi = (q >> vec4<u32>(4u)) & vec4<u32>(0x0F0F0F0Fu);
    let e = 32u * g;
    for (var i = 0u; i < 4u; i++) {
        take4(e + 4u * i, d * u8x4(lo[i], 8.0));
        take4(e + 16u + 4u * i, d * u8x4(hi[i], 8.0));
    }
}
#endif

#ifdef TYPE_Q4_1
const CH: u32 = 32u;
fn dq_chunk(rb: u32, g: u32) {
    let bb = rb + g * QB;
    let dm = unpack2x16float(w4(bb));
    let q = w4x4(bb + 4u);
    let lo = q & vec4<u32>(0x0F0F0F0Fu);
    let hi = (q >> vec4<u32>(4u)) & vec4<u32>(0x0F0F0F0Fu);
    let e = 32u * g;
    for (var i = 0u; i < 4u; i++) {
        take4(e + 4u * i, u8x4(lo[i], 0.0) * dm.x + dm.y);
        take4(e + 16u + 4u * i, u8x4(hi[i], 0.0) * dm.x + dm.y);
    }
}
#endif

#ifdef TYPE_Q5_0
const CH: u32 = 32u;
fn dq_chunk(rb: u32, g: u32) {
    let bb = rb + g * QB;
    let d = f16at(bb);
    let qh = w2(bb + 2u);
    let q = w2x4(bb + 6u);
    let lo = q & vec4<u32>(0x0F0F0F0Fu);
    let hi = (q >> vec4<u32>(4u)) & vec4<u32>(0x0F0F0F0Fu);
    let e = 32u * g;
    for (var i = 0u; i < 4u; i++) {
        take4(e + 4u * i, d * u8x4(lo[i] | (bit4(qh >> (4u * i)) << 4u), 16.0));
        take4(e + 16u + 4u * i, d * u8x4(hi[i] | (bit4(qh >> (16u + 4u * i)) << 4u), 16.0));
    }
}
#endif

#ifdef TYPE_Q5_1
const CH: u32 = 32u;
fn dq_chunk(rb: u32, g: u32) {
    let bb = rb + g * QB;
    let dm = unpack2x16float(w4(bb));
    let qh = w4(bb + 4u);
    let q = w4x4(bb + 8u);
    let lo = q & vec4<u32>(0x0F0F0F0Fu);
    let hi = (q >> vec4<u32>(4u)) & vec4<u32>(0x0F0F0F0Fu);
    let e = 32u * g;
    for (var i = 0u; i < 4u; i++) {
        take4(e + 4u * i, u8x4(lo[i] | (bit4(qh >> (4u * i)) << 4u), 0.0) * dm.x + dm.y);
        take4(e + 16u + 4u * i, u8x4(hi[i] | (bit4(qh >> (16u + 4u * i)) << 4u), 0.0) * dm.x + dm.y);
    }
}
#endif

#ifdef TYPE_Q8_0
const CH: u32 = 16u;  // half a block
fn dq_chunk(rb: u32, g: u32) {
    let bb = rb + (g >> 1u) * QB;
    let c = g & 1u;
    let d = f16at(bb);
    let q = w2x4(bb + 2u + 16u * c) ^ vec4<u32>(0x80808080u);
    let e = 16u * g;
    for (var i = 0u; i < 4u; i++) { take4(e + 4u * i, d * u8x4(q[i], 128.0)); }
}
#endif

#ifdef TYPE_Q2_K
// chunk c = 2h + g of a block: qs[32h + 16g .. +16), i.e. elements
// 128h + 32j + 16g + (0..15) for j = 0..3, sub-blocks 8h + 2j + g
const CH: u32 = 64u;
fn dq_chunk(rb: u32, gi: u32) {
    let bb = rb + (gi >> 2u) * QB;
    let h = (gi >> 1u) & 1u;
    let g = gi & 1u;
    let q = w4x4(bb + 16u + 32u * h + 16u * g);
    let s0 = w4(bb + 8u * h);
    let s1 = w4(bb + 8u * h + 4u);
    let dm = unpack2x16float(w4(bb + 80u));
    let e0 = 256u * (gi >> 2u) + 128u * h + 16u * g;
    for (var j = 0u; j < 4u; j++) {
        let sc = (select(s0, s1, j >= 2u) >> (8u * (g + 2u * (j & 1u)))) & 0xFFu;
        let dl = dm.x * f32(sc & 0xFu);
        let ml = dm.y * f32(sc >> 4u);
        let qj = (q >> vec4<u32>(2u * j)) & vec4<u32>(0x03030303u);
        for (var i = 0u; i < 4u; i++) { take4(e0 + 32u * j + 4u * i, dl * u8x4(qj[i], 0.0) - ml); }
    }
}
#endif

#ifdef TYPE_Q3_K
// chunks as Q2_K, plus hmask[16g .. +16)
const CH: u32 = 64u;
fn dq_chunk(rb: u32, gi: u32) {
    let bb = rb + (gi >> 2u) * QB;
    let h = (gi >> 1u) & 1u;
    let g = gi & 1u;
    let q = w2x4(bb + 32u + 32u * h + 16u * g);
    let hm = w2x4(bb + 16u * g);
    let d = f16at(bb + 108u);
    let e0 = 256u * (gi >> 2u) + 128u * h + 16u * g;
    for (var j = 0u; j < 4u; j++) {
        let dl = d * q3_scale(bb, 8u * h + 2u * j + g);
        let qj = ((q >> vec4<u32>(2u * j)) & vec4<u32>(0x03030303u)) |
                 (((hm >> vec4<u32>(4u * h + j)) & vec4<u32>(0x01010101u)) << vec4<u32>(2u));
        for (var i = 0u; i < 4u; i++) { take4(e0 + 32u * j + 4u * i, dl * u8x4(qj[i], 4.0)); }
    }
}
#endif

#ifdef TYPE_Q4_K
// chunk c = 2cc + u of a block: qs[32cc + 16u .. +16), i.e. elements
// 64cc + 16u + (0..15) (sub-block 2cc) and 64cc + 32 + 16u + (0..15) (2cc + 1)
const CH: u32 = 32u;
fn dq_chunk(rb: u32, gi: u32) {
    let bb = rb + (gi >> 3u) * QB;
    let cc = (gi >> 1u) & 3u;
    let u = gi & 1u;
    let q = w16(bb + 16u + 32u * cc + 16u * u);
    let hd = k4_hdr(bb);
    let s0 = k4_sm(hd, 2u * cc);
    let s1 = k4_sm(hd, 2u * cc + 1u);
    let e0 = 256u * (gi >> 3u) + 64u * cc + 16u * u;
    let lo = q & vec4<u32>(0x0F0F0F0Fu);
    let hi = (q >> vec4<u32>(4u)) & vec4<u32>(0x0F0F0F0Fu);
    for (var i = 0u; i < 4u; i++) {
        take4(e0 + 4u * i, s0.x * u8x4(lo[i], 0.0) - s0.y);
        take4(e0 + 32u + 4u * i, s1.x * u8x4(hi[i], 0.0) - s1.y);
    }
}
#endif

#ifdef TYPE_Q5_K
const CH: u32 = 32u;
fn dq_chunk(rb: u32, gi: u32) {
    let bb = rb + (gi >> 3u) * QB;
    let cc = (gi >> 1u) & 3u;
    let u = gi & 1u;
    let q = w16(bb + 48u + 32u * cc + 16u * u);
    let qh = w16(bb + 16u + 16u * u);
    let hd = k4_hdr(bb);
    let s0 = k4_sm(hd, 2u * cc);
    let s1 = k4_sm(hd, 2u * cc + 1u);
    let e0 = 256u * (gi >> 3u) + 64u * cc + 16u * u;
    let m = vec4<u32>(0x0F0F0F0Fu);
    let b = vec4<u32>(0x01010101u);
    let lo = (q & m) | (((qh >> vec4<u32>(2u * cc)) & b) << vec4<u32>(4u));
    let hi = ((q >> vec4<u32>(4u)) & m) | (((qh >> vec4<u32>(2u * cc + 1u)) & b) << vec4<u32>(4u));
    for (var i = 0u; i < 4u; i++) {
        take4(e0 + 4u * i, s0.x * u8x4(lo[i], 0.0) - s0.y);
        take4(e0 + 32u + 4u * i, s1.x * u8x4(hi[i], 0.0) - s1.y);
    }
}
#endif

#ifdef TYPE_Q6_K
// chunk c = 2h + s of a block: l = 16s .. 16s+15 of half h, all four k. Its
// fields (also for the mat-vec's integer products, matvec.wgsl IDOT): the
// quants' words a (ql, l), b (ql, l + 32), qh, and the four 16-element groups'
// scales d * scales[8h + s + 2k]
const CH: u32 = 64u;
struct Q6Chunk { a: vec4<u32>, b: vec4<u32>, qh: vec4<u32>, d: vec4<f32> }
fn q6_chunk(rb: u32, gi: u32) -> Q6Chunk {
    let bb = rb + (gi >> 2u) * QB;
    let h = (gi >> 1u) & 1u;
    let s = gi & 1u;
    var c: Q6Chunk;
#ifdef Q6K_PAD
    // 224-byte blocks at 16-byte alignment: five aligned loads, scales [8h + s + 2i] from two words
    c.a = w16(bb + 64u * h + 16u * s);
    c.b = w16(bb + 64u * h + 32u + 16u * s);
    c.qh = w16(bb + 128u + 32u * h + 16u * s);
    let sc = w16(bb + 192u);
    let d = unpack2x16float(w4(bb + 208u)).x;
    let s01 = select(sc.x, sc.z, h == 1u);
    let s23 = select(sc.y, sc.w, h == 1u);
    c.d = d * vec4<f32>(s8of(s01, s), s8of(s01, s + 2u), s8of(s23, s), s8of(s23, s + 2u));
#else
    c.a = w2x4(bb + 64u * h + 16u * s);
    c.b = w2x4(bb + 64u * h + 32u + 16u * s);
    c.qh = w2x4(bb + 128u + 32u * h + 16u * s);
    let d = f16at(bb + 208u);
    let sb = bb + 192u + 8u * h + s;
    c.d = d * vec4<f32>(s8at(sb), s8at(sb + 2u), s8at(sb + 4u), s8at(sb + 6u));
#endif
    return c;
}
fn dq_chunk(rb: u32, gi: u32) {
    let c = q6_chunk(rb, gi);
    let e0 = 256u * (gi >> 2u) + 128u * ((gi >> 1u) & 1u) + 16u * (gi & 1u);
    let m = vec4<u32>(0x0F0F0F0Fu);
    let q0 = (c.a & m) | ((c.qh & vec4<u32>(0x03030303u)) << vec4<u32>(4u));
    let q1 = (c.b & m) | ((c.qh & vec4<u32>(0x0C0C0C0Cu)) << vec4<u32>(2u));
    let q2 = ((c.a >> vec4<u32>(4u)) & m) | (c.qh & vec4<u32>(0x30303030u));
    let q3 = ((c.b >> vec4<u32>(4u)) & m) | ((c.qh >> vec4<u32>(2u)) & vec4<u32>(0x30303030u));
    for (var i = 0u; i < 4u; i++) {
        take4(e0 + 4u * i, c.d.x * u8x4(q0[i], 32.0));
        take4(e0 + 32u + 4u * i, c.d.y * u8x4(q1[i], 32.0));
        take4(e0 + 64u + 4u * i, c.d.z * u8x4(q2[i], 32.0));
        take4(e0 + 96u + 4u * i, c.d.w * u8x4(q3[i], 32.0));
    }
}
#endif
