// Writing limbs (limbs.wgsl's digits and layout) to the XL binding of the pass
// that includes this file after limbs.wgsl (act_limbs.wgsl; norm.wgsl LIMBS).

// the words of limbs 0 .. NL - 1 at word o (limb_word) of a layout of nb blocks
fn limb_put(o: u32, nb: u32, w: vec3<u32>) {
    let ls = limb_stride(nb);
    XL[o] = w.x;
    XL[o + ls] = w.y;
    if (NL == 3u) { XL[o + 2u * ls] = w.z; }
}
