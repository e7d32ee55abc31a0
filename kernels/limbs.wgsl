// Activations as int8 limbs for the integer matmul (matmul_smx.wgsl): the
// digits and the tiled layout, shared by the passes that write them
// (act_limbs.wgsl; norm.wgsl LIMBS; limbs_put.wgsl writes them), and the digits
// by the mat-vec's integer products (matvec.wgsl IDOT). Token t's values x share
// one scale s_t.
// Three limbs (the default):
//   s_t = 2^(E-6), where max_c |x[t][c]| = f * 2^E with f in [0.5, 1), so
//   every |x / s_t| < 64;
//   n = round(x * 65536 / s_t), an integer below 2^22 in magnitude, written as
//   three balanced base-256 digits n = 65536 l0 + 256 l1 + l2 (each in
//   [-128, 127]); x = s_t n / 65536 to within s_t / 2^17, i.e. about 2^-23 of the
//   token's largest value (f32's own epsilon is 2^-24).
// Two limbs (LIMBS2), the same 16 bits as the packed weights (smx_pack.wgsl):
//   s_t = max_c |x[t][c]| / 32512, n = round(x / s_t) in [-32512, 32512] as
//   n = 256 l0 + l1; x = s_t n to within s_t / 2, 2^-16 of the token's largest.
// Layout (tiled, so that one 16-token x 32-column fragment is 512 contiguous
// bytes, which the matmul loads straight from storage): token t's limb l,
// columns 32 b .. 32 b + 31, are bytes [32 (t % 16), 32 (t % 16) + 32) of the
// 128-word tile ((t / 16) * NL + l) * nb + b, for NL limbs and nb = cols / 32.
#ifdef LIMBS2
const NL: u32 = 2u;
#else
const NL: u32 = 3u;
#endif

// A token's scale, from its largest |value| mx: what limb_digits takes (LIMBS2: 1 / s_t,
// else the exponent E as a float) and s_t itself
struct LimbScale { k: f32, s: f32 }
fn limb_scale(mx: f32) -> LimbScale {
#ifdef LIMBS2
    if (mx > 0.0) { return LimbScale(32512.0 / mx, mx / 32512.0); }
    return LimbScale(0.0, 0.0);
#else
    var e = 0;
    if (mx > 0.0) { e = frexp(mx).exp; }
    return LimbScale(f32(e), ldexp(1.0, e - 6));
#endif
}

// LIMBS_FLAT (decode's one-token products, matvec.wgsl XLIMBS): token t's blocks one after
// another instead, 8 words a limb: block b's limb l is words 24 b + 8 l .. + 7 of token t's
// 24 nb (as the mat-vec's workgroup copy, vec4s 6 b + 2 l and + 1).

// the word of limb 0 holding token t's columns 4 g .. 4 g + 3; limb l's is limb_stride(nb) * l further
#ifdef LIMBS_FLAT
fn limb_word(t: u32, g: u32, nb: u32) -> u32 { return t * 24u * nb + (g / 8u) * 24u + g % 8u; }
fn limb_stride(nb: u32) -> u32 { return 8u; }
#else
fn limb_word(t: u32, g: u32, nb: u32) -> u32 { return ((t / 16u) * NL * nb + g / 8u) * 128u + (t % 16u) * 8u + g % 8u; }
fn limb_stride(nb: u32) -> u32 { return nb * 128u; }
#endif

// four values' digits as the words of limbs 0, 1 (, 2)
fn limb_digits(v: vec4<f32>, k: f32) -> vec3<u32> {
    var w = vec3<u32>(0u);
    for (var i = 0u; i < 4u; i++) {
#ifdef LIMBS2
        let n = clamp(i32(round(v[i] * k)), -32512, 32512);
        let l1 = ((n + 128) & 255) - 128;
        let l0 = (n - l1) >> 8u;
        w |= (vec3<u32>(u32(l0), u32(l1), 0u) & vec3<u32>(255u)) << vec3<u32>(8u * i);
#else
        let n = i32(round(ldexp(v[i], 22 - i32(k))));
        let l2 = ((n + 128) & 255) - 128;
        let n1 = (n - l2) >> 8u;
        let l1 = ((n1 + 128) & 255) - 128;
        let l0 = (n1 - l1) >> 8u;
        w |= (vec3<u32>(u32(l0), u32(l1), u32(l2)) & vec3<u32>(255u)) << vec3<u32>(8u * i);
#endif
    }
    return w;
}
