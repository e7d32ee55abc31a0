// Activations as three int8 limbs for the integer matmul (matmul_smx.wgsl): the
// digits and the tiled layout, shared by the passes that write them
// (act_limbs.wgsl; norm.wgsl LIMBS). Token t's values x share one scale:
//   s_t = 2^(E-6), where max_c |x[t][c]| = f * 2^E with f in [0.5, 1), so
//   every |x / s_t| < 64;
//   n = round(x * 65536 / s_t), an integer below 2^22 in magnitude, written as
//   three balanced base-256 digits n = 65536 l0 + 256 l1 + l2 (each in
//   [-128, 127]); x = s_t n / 65536 to within s_t / 2^17, i.e. about 2^-23 of the
//   token's largest value (f32's own epsilon is 2^-24).
// Layout (tiled, so that one 16-token x 32-column fragment is 512 contiguous
// bytes, which the matmul loads straight from storage): token t's limb l,
// columns 32 b .. 32 b + 31, are bytes [32 (t % 16), 32 (t % 16) + 32) of the
// 128-word tile ((t / 16) * 3 + l) * nb + b, for nb = cols / 32 blocks.

// the exponent E of a token whose largest |value| is mx (0 for a zero token)
fn limb_exp(mx: f32) -> i32 {
    if (mx > 0.0) { return frexp(mx).exp; }
    return 0;
}

fn limb_scale(e: i32) -> f32 { return ldexp(1.0, e - 6); }

// the word of limb 0 holding token t's columns 4 g .. 4 g + 3; limb l's is nb * 128 * l further
fn limb_word(t: u32, g: u32, nb: u32) -> u32 { return ((t / 16u) * 3u * nb + g / 8u) * 128u + (t % 16u) * 8u + g % 8u; }

// four values' digits as the words of limbs 0, 1, 2
fn limb_digits(v: vec4<f32>, e: i32) -> vec3<u32> {
    var w = vec3<u32>(0u);
    for (var i = 0u; i < 4u; i++) {
        let n = i32(round(ldexp(v[i], 22 - e)));
        let l2 = ((n + 128) & 255) - 128;
        let n1 = (n - l2) >> 8u;
        let l1 = ((n1 + 128) & 255) - 128;
        let l0 = (n1 - l1) >> 8u;
        w |= (vec3<u32>(u32(l0), u32(l1), u32(l2)) & vec3<u32>(255u)) << vec3<u32>(8u * i);
    }
    return w;
}
