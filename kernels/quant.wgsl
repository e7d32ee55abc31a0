// GGUF weight formats on the GPU: the raw block bytes, read out of u32 words.
// The including kernel declares `W: array<u32>` (the weights) at module scope
// and puts this file first (it carries the `enable` directive). Exactly one
// TYPE_* define selects the format.
//
// Every type provides:
//   QK, QB          elements and bytes per block (float types: blocks of 4)
//   dq8(rb, j)      elements [8j, 8j+8) of the row starting at byte rb, exactly
//                   as the C reference (src/quant_*.c) dequantizes them
// quant_chunk.wgsl adds the bulk path the mat-vec uses.
//
// Alignment: rb must be a multiple of 4 for F32, F16, BF16, Q4_1, Q5_1, Q2_K,
// Q4_K, Q5_K (their blocks are whole words) and a multiple of 2 for Q4_0,
// Q5_0, Q8_0, Q3_K, Q6_K (18/22/34/110/210-byte blocks sit at 2 mod 4 every
// other block; those are read with a funnel shift of two words). Q6_K with
// Q6K_PAD (224-byte blocks) needs a multiple of 16.
//
// Small integers become floats by OR-ing them into the mantissa of 2^23 and
// subtracting (exact, and cheaper than an int->float conversion on most GPUs).
// Products d*scale*q are exact in f32 (f16 d, <= 8-bit scale, <= 8-bit q), so
// each value is rounded at most once, in the subtraction of a min term, as in C.
// TYPES_ONLY: a second type's inclusion (src/gpu/wgsl.h "F@2") leaves out the
// shared helpers, which the first inclusion provides.
#ifndef TYPES_ONLY
#ifdef SUBGROUPS
enable subgroups;
#endif

const MAG: u32 = 0x4B000000u;  // bits of 2^23
const MAGF: f32 = 8388608.0;

// Word access. By default W is array<u32>. With WVEC (the mat-vec's variant)
// W is array<vec4<u32>>: every access is one 16-byte load and one bounds clamp
// (Dawn clamps each access, which keeps the compiler from merging four word
// loads into one), and a warp's loads of neighbouring chunks coalesce. WVEC
// needs W bound with a size that is a multiple of 16 bytes, and rows of the
// types that use w16 (F32, Q4_K, Q5_K) starting 16-byte aligned.
#ifdef WVEC
fn wd(i: u32) -> u32 { return W[i >> 2u][i & 3u]; }

// words s .. s+3 of the eight words a, n (s <= 4)
fn words4(a: vec4<u32>, n: vec4<u32>, s: u32) -> vec4<u32> {
    let lo = select(vec4<u32>(a.yzw, n.x), a, s == 0u);
    let mid = select(vec4<u32>(a.w, n.xyz), vec4<u32>(a.zw, n.xy), s == 2u);
    return select(select(n, mid, s < 4u), lo, s < 2u);
}

// words i .. i+3 (any i): two 16-byte loads
fn wd4(i: u32) -> vec4<u32> { return words4(W[i >> 2u], W[(i >> 2u) + 1u], i & 3u); }

// words i .. i+4, the first four and the fifth as .w of the second (any i)
fn wd5(i: u32) -> array<vec4<u32>, 2> {
    let a = W[i >> 2u];
    let n = W[(i >> 2u) + 1u];
    return array<vec4<u32>, 2>(words4(a, n, i & 3u), words4(a, n, (i & 3u) + 1u));
}

// 16 bytes at byte offset b (b % 16 == 0)
fn w16(b: u32) -> vec4<u32> { return W[b >> 4u]; }
#else
fn wd(i: u32) -> u32 { return W[i]; }
fn wd4(i: u32) -> vec4<u32> { return vec4<u32>(W[i], W[i + 1u], W[i + 2u], W[i + 3u]); }
fn wd5(i: u32) -> array<vec4<u32>, 2> {
    let a = wd4(i);
    return array<vec4<u32>, 2>(a, vec4<u32>(a.yzw, W[i + 4u]));
}
fn w16(b: u32) -> vec4<u32> { return wd4(b >> 2u); }
#endif

// u32 at byte offset b (b % 4 == 0)
fn w4(b: u32) -> u32 { return wd(b >> 2u); }

// u32 at byte offset b (b % 2 == 0)
fn w2(b: u32) -> u32 {
    let i = b >> 2u;
    let s = (b & 2u) * 8u;
    return (wd(i) >> s) | ((wd(i + 1u) << 16u) << (16u - s));
}

// four consecutive u32 at byte offset b (b % 4 == 0)
fn w4x4(b: u32) -> vec4<u32> { return wd4(b >> 2u); }

// four consecutive u32 at byte offset b (b % 2 == 0): five words, one funnel shift
fn w2x4(b: u32) -> vec4<u32> {
    let s = vec4<u32>((b & 2u) * 8u);
    let q = wd5(b >> 2u);
    return (q[0] >> s) | ((q[1] << vec4<u32>(16u)) << (vec4<u32>(16u) - s));
}

// f16 at byte offset b (b % 2 == 0)
fn f16at(b: u32) -> f32 { return unpack2x16float(wd(b >> 2u) >> ((b & 2u) * 8u)).x; }

// signed byte i (0..3) of the word w
fn s8of(w: u32, i: u32) -> f32 { return f32(i32(w << (24u - i * 8u)) >> 24u); }

// signed byte at byte offset b
fn s8at(b: u32) -> f32 { return s8of(wd(b >> 2u), b & 3u); }

// the four bytes of q as floats, minus off (exact for bytes and small offsets)
fn u8x4(q: u32, off: f32) -> vec4<f32> {
    let m = vec4<u32>(q & 0xFFu, (q >> 8u) & 0xFFu, (q >> 16u) & 0xFFu, q >> 24u) | vec4<u32>(MAG);
    return bitcast<vec4<f32>>(m) - vec4<f32>(MAGF + off);
}

// bits 0..3 of x moved to bit 0 of bytes 0..3 (the 5th bits of Q5 blocks)
fn bit4(x: u32) -> u32 { return ((x & 0xFu) * 0x00204081u) & 0x01010101u; }

fn bf16x2(w: u32) -> vec2<f32> { return vec2<f32>(bitcast<f32>(w << 16u), bitcast<f32>(w & 0xFFFF0000u)); }
#endif

#ifdef TYPE_F32
const QK: u32 = 4u;
const QB: u32 = 16u;
fn dq8(rb: u32, j: u32) -> array<vec4<f32>, 2> {
    let b = rb + 32u * j;
    return array<vec4<f32>, 2>(bitcast<vec4<f32>>(w16(b)), bitcast<vec4<f32>>(w16(b + 16u)));
}
#endif

#ifdef TYPE_F16
const QK: u32 = 4u;
const QB: u32 = 8u;
fn dq8(rb: u32, j: u32) -> array<vec4<f32>, 2> {
    let q = w4x4(rb + 16u * j);
    return array<vec4<f32>, 2>(vec4<f32>(unpack2x16float(q.x), unpack2x16float(q.y)),
                               vec4<f32>(unpack2x16float(q.z), unpack2x16float(q.w)));
}
#endif

#ifdef TYPE_BF16
const QK: u32 = 4u;
const QB: u32 = 8u;
fn dq8(rb: u32, j: u32) -> array<vec4<f32>, 2> {
    let q = w4x4(rb + 16u * j);
    return array<vec4<f32>, 2>(vec4<f32>(bf16x2(q.x), bf16x2(q.y)), vec4<f32>(bf16x2(q.z), bf16x2(q.w)));
}
#endif

// ---- 32-element blocks: element i < 16 is the low nibble of byte i, i+16 the high one ----

#ifdef TYPE_Q4_0
// f16 d, qs[16]; d*(q-8)
const QK: u32 = 32u;
const QB: u32 = 18u;
fn dq8(rb: u32, j: u32) -> array<vec4<f32>, 2> {
    let bb = rb + (j >> 2u) * QB;
    let e = (j & 3u) * 8u;
    let o = bb + 2u + (e & 15u);
    let sh = (e >> 4u) * 4u;
    let d = f16at(bb);
    return array<vec4<f32>, 2>(d * u8x4((w2(o) >> sh) & 0x0F0F0F0Fu, 8.0),
                               d * u8x4((w2(o + 4u) >> sh) & 0x0F0F0F0Fu, 8.0));
}
#endif

#ifdef TYPE_Q4_1
// f16 d, f16 m, qs[16]; d*q + m
const QK: u32 = 32u;
const QB: u32 = 20u;
fn dq8(rb: u32, j: u32) -> array<vec4<f32>, 2> {
    let bb = rb + (j >> 2u) * QB;
    let e = (j & 3u) * 8u;
    let o = bb + 4u + (e & 15u);
    let sh = (e >> 4u) * 4u;
    let dm = unpack2x16float(w4(bb));
    return array<vec4<f32>, 2>(u8x4((w4(o) >> sh) & 0x0F0F0F0Fu, 0.0) * dm.x + dm.y,
                               u8x4((w4(o + 4u) >> sh) & 0x0F0F0F0Fu, 0.0) * dm.x + dm.y);
}
#endif

#ifdef TYPE_Q5_0
// f16 d, u32 qh (bit i: 5th bit of element i), qs[16]; d*(q-16)
const QK: u32 = 32u;
const QB: u32 = 22u;
fn dq8(rb: u32, j: u32) -> array<vec4<f32>, 2> {
    let bb = rb + (j >> 2u) * QB;
    let e = (j & 3u) * 8u;
    let o = bb + 6u + (e & 15u);
    let sh = (e >> 4u) * 4u;
    let d = f16at(bb);
    let qh = w2(bb + 2u) >> e;
    return array<vec4<f32>, 2>(d * u8x4(((w2(o) >> sh) & 0x0F0F0F0Fu) | (bit4(qh) << 4u), 16.0),
                               d * u8x4(((w2(o + 4u) >> sh) & 0x0F0F0F0Fu) | (bit4(qh >> 4u) << 4u), 16.0));
}
#endif

#ifdef TYPE_Q5_1
// f16 d, f16 m, u32 qh, qs[16]; d*q + m
const QK: u32 = 32u;
const QB: u32 = 24u;
fn dq8(rb: u32, j: u32) -> array<vec4<f32>, 2> {
    let bb = rb + (j >> 2u) * QB;
    let e = (j & 3u) * 8u;
    let o = bb + 8u + (e & 15u);
    let sh = (e >> 4u) * 4u;
    let dm = unpack2x16float(w4(bb));
    let qh = w4(bb + 4u) >> e;
    return array<vec4<f32>, 2>(u8x4(((w4(o) >> sh) & 0x0F0F0F0Fu) | (bit4(qh) << 4u), 0.0) * dm.x + dm.y,
                               u8x4(((w4(o + 4u) >> sh) & 0x0F0F0F0Fu) | (bit4(qh >> 4u) << 4u), 0.0) * dm.x + dm.y);
}
#endif

#ifdef TYPE_Q8_0
// f16 d, int8 qs[32]; d*q
const QK: u32 = 32u;
const QB: u32 = 34u;
fn dq8(rb: u32, j: u32) -> array<vec4<f32>, 2> {
    let bb = rb + (j >> 2u) * QB;
    let o = bb + 2u + (j & 3u) * 8u;
    let d = f16at(bb);
    return array<vec4<f32>, 2>(d * u8x4(w2(o) ^ 0x80808080u, 128.0), d * u8x4(w2(o + 4u) ^ 0x80808080u, 128.0));
}
#endif

// ---- 256-element super-blocks ----

#ifdef TYPE_Q2_K
// scales[16] (lo nibble scale, hi nibble min), qs[64], f16 d, f16 dmin.
// Element 128h + 32j + l: bits 2j..2j+1 of qs[32h + l], sub-block 8h + 2j + l/16.
const QK: u32 = 256u;
const QB: u32 = 84u;
fn dq8(rb: u32, j: u32) -> array<vec4<f32>, 2> {
    let bb = rb + (j >> 5u) * QB;
    let e = (j & 31u) * 8u;
    let h = e >> 7u;
    let jj = (e >> 5u) & 3u;
    let l = e & 31u;
    let sub = 8u * h + 2u * jj + (l >> 4u);
    let sc = (w4(bb + (sub & ~3u)) >> ((sub & 3u) * 8u)) & 0xFFu;
    let dm = unpack2x16float(w4(bb + 80u));
    let dl = dm.x * f32(sc & 0xFu);
    let ml = dm.y * f32(sc >> 4u);
    let o = bb + 16u + 32u * h + l;
    let sh = 2u * jj;
    return array<vec4<f32>, 2>(dl * u8x4((w4(o) >> sh) & 0x03030303u, 0.0) - ml,
                               dl * u8x4((w4(o + 4u) >> sh) & 0x03030303u, 0.0) - ml);
}
#endif

#ifdef TYPE_Q3_K
// hmask[32], qs[64], scales[12] (16 signed 6-bit), f16 d.
// Element 128h + 32j + l: low bits 2j..2j+1 of qs[32h + l], high bit 4h+j of
// hmask[l]; q = low | high<<2, value d*sc*(q-4); sub-block 8h + 2j + l/16.
const QK: u32 = 256u;
const QB: u32 = 110u;
// Scale k: low 4 bits from byte k%8 (low nibble for k < 8, high for k >= 8),
// top 2 bits at shift 2(k/4) of byte 8 + k%4; stored +32.
fn q3_scale(bb: u32, k: u32) -> f32 {
    let lo = (w2(bb + 96u + (k & 4u)) >> ((k & 3u) * 8u + (k >> 3u) * 4u)) & 0xFu;
    let hi = (w2(bb + 104u) >> ((k & 3u) * 8u + (k >> 2u) * 2u)) & 3u;
    return f32(i32(lo | (hi << 4u)) - 32);
}
fn dq8(rb: u32, j: u32) -> array<vec4<f32>, 2> {
    let bb = rb + (j >> 5u) * QB;
    let e = (j & 31u) * 8u;
    let h = e >> 7u;
    let jj = (e >> 5u) & 3u;
    let l = e & 31u;
    let d = f16at(bb + 108u) * q3_scale(bb, 8u * h + 2u * jj + (l >> 4u));
    let o = bb + 32u + 32u * h + l;
    let sh = 2u * jj;
    let hs = 4u * h + jj;
    let q0 = ((w2(o) >> sh) & 0x03030303u) | (((w2(bb + l) >> hs) & 0x01010101u) << 2u);
    let q1 = ((w2(o + 4u) >> sh) & 0x03030303u) | (((w2(bb + l + 4u) >> hs) & 0x01010101u) << 2u);
    return array<vec4<f32>, 2>(d * u8x4(q0, 4.0), d * u8x4(q1, 4.0));
}
#endif

// Q4_K/Q5_K header: f16 d, f16 dmin, then 8 (scale, min) pairs of 6 bits in
// 12 bytes: pairs 0..3 in the low 6 bits of bytes 0..3 (scale) and 4..7 (min);
// pairs 4..7 take their low 4 bits from the nibbles of bytes 8..11 and their
// top 2 bits from the top bits of bytes 0..3 / 4..7. Returns (d*sc, dmin*m).
// k4_hdr(bb) loads the header (one 16-byte load with WVEC), k4_sm decodes it.
#ifndef TYPES_ONLY
fn k4_hdr(bb: u32) -> vec4<u32> { return w16(bb); }

fn k4_sm(hd: vec4<u32>, s: u32) -> vec2<f32> {
    let dm = unpack2x16float(hd.x);
    let a = hd.y;
    let b = hd.z;
    let c = hd.w;
    let hi = s >= 4u;
    let sc = select(a & 0x3F3F3F3Fu, (c & 0x0F0F0F0Fu) | ((a >> 2u) & 0x30303030u), hi);
    let mn = select(b & 0x3F3F3F3Fu, ((c >> 4u) & 0x0F0F0F0Fu) | ((b >> 2u) & 0x30303030u), hi);
    let sh = (s & 3u) * 8u;
    return vec2<f32>(dm.x * f32((sc >> sh) & 0xFFu), dm.y * f32((mn >> sh) & 0xFFu));
}
#endif

#ifdef TYPE_Q4_K
// header (16 bytes, see k4_sm), qs[128]. Element 64c + l is the low nibble of
// qs[32c + l] (sub-block 2c), element 64c + 32 + l the high one (2c + 1).
const QK: u32 = 256u;
const QB: u32 = 144u;
fn dq8(rb: u32, j: u32) -> array<vec4<f32>, 2> {
    let bb = rb + (j >> 5u) * QB;
    let e = (j & 31u) * 8u;
    let c = e >> 6u;
    let half = (e >> 5u) & 1u;
    let l = e & 31u;
    let sm = k4_sm(k4_hdr(bb), 2u * c + half);
    let o = bb + 16u + 32u * c + l;
    let sh = 4u * half;
    return array<vec4<f32>, 2>(sm.x * u8x4((w4(o) >> sh) & 0x0F0F0F0Fu, 0.0) - sm.y,
                               sm.x * u8x4((w4(o + 4u) >> sh) & 0x0F0F0F0Fu, 0.0) - sm.y);
}
#endif

#ifdef TYPE_Q5_K
// as Q4_K with qh[32] before qs[128]: the 5th bit of element 64c + l is bit 2c
// of qh[l], of element 64c + 32 + l bit 2c + 1.
const QK: u32 = 256u;
const QB: u32 = 176u;
fn dq8(rb: u32, j: u32) -> array<vec4<f32>, 2> {
    let bb = rb + (j >> 5u) * QB;
    let e = (j & 31u) * 8u;
    let c = e >> 6u;
    let half = (e >> 5u) & 1u;
    let l = e & 31u;
    let sm = k4_sm(k4_hdr(bb), 2u * c + half);
    let o = bb + 48u + 32u * c + l;
    let sh = 4u * half;
    let hs = 2u * c + half;
    let q0 = ((w4(o) >> sh) & 0x0F0F0F0Fu) | (((w4(bb + 16u + l) >> hs) & 0x01010101u) << 4u);
    let q1 = ((w4(o + 4u) >> sh) & 0x0F0F0F0Fu) | (((w4(bb + 20u + l) >> hs) & 0x01010101u) << 4u);
    return array<vec4<f32>, 2>(sm.x * u8x4(q0, 0.0) - sm.y, sm.x * u8x4(q1, 0.0) - sm.y);
}
#endif

#ifdef TYPE_Q6_K
// ql[128], qh[64], int8 scales[16], f16 d. Half h (128 elements) uses
// ql[64h..], qh[32h..], scales[8h..]. Element 128h + 32k + l (l < 32): low
// nibble (k = 0, 1) or high nibble (k = 2, 3) of ql[64h + l + 32(k&1)], top two
// bits at shift 2k of qh[32h + l], scale scales[8h + l/16 + 2k]; d*sc*(q-32).
const QK: u32 = 256u;
#ifdef Q6K_PAD
// Q6K_PAD: the engine keeps Q6_K blocks padded to 224 bytes on the GPU (the
// same fields, 14 zero bytes after d; src/gpu/placement.c, kernels/repack.wgsl).
// With rows 16-byte aligned, ql, qh and the scales are whole 16-byte words and
// every word load is a single aligned one instead of a funnel shift of two.
const QB: u32 = 224u;
fn q6w(b: u32) -> u32 { return w4(b); }
#else
const QB: u32 = 210u;
fn q6w(b: u32) -> u32 { return w2(b); }
#endif
fn dq8(rb: u32, j: u32) -> array<vec4<f32>, 2> {
    let bb = rb + (j >> 5u) * QB;
    let e = (j & 31u) * 8u;
    let h = e >> 7u;
    let k = (e >> 5u) & 3u;
    let l = e & 31u;
    let d = f16at(bb + 208u) * s8at(bb + 192u + 8u * h + (l >> 4u) + 2u * k);
    let o = bb + 64u * h + l + 32u * (k & 1u);
    let sh = 4u * (k >> 1u);
    let ho = bb + 128u + 32u * h + l;
    let hs = 2u * k;
    let q0 = ((q6w(o) >> sh) & 0x0F0F0F0Fu) | (((q6w(ho) >> hs) & 0x03030303u) << 4u);
    let q1 = ((q6w(o + 4u) >> sh) & 0x0F0F0F0Fu) | (((q6w(ho + 4u) >> hs) & 0x03030303u) << 4u);
    return array<vec4<f32>, 2>(d * u8x4(q0, 32.0), d * u8x4(q1, 32.0));
}
#endif
