// Q6_K blocks into their GPU layout (quant.wgsl Q6K_PAD): each 210-byte block
// of the file becomes 224 bytes, every field where it was and 14 zero bytes
// after d, so that rows of whole blocks stay 16-byte aligned.
// Source: repack.wgsl alone.
//
// Bindings: 0 uniform Params; 1 storage read S: array<u32> (the file's bytes,
// staged; 4 readable bytes past the last block); 2 storage read_write D.
// Params
//   n_blocks  blocks to repack
//   src_off   byte offset of the first block in S (a multiple of 4)
//   dst_off   byte offset of its padded copy in D (a multiple of 16)
//   grid_x    workgroups per grid row
// Dispatch (grid_x, ceil(n_blocks * 56 / WG / grid_x), 1): one output word per
// thread; threads past the last word do nothing.

struct Params {
    n_blocks: u32,
    src_off: u32,
    dst_off: u32,
    grid_x: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> S: array<u32>;
@group(0) @binding(2) var<storage, read_write> D: array<u32>;

const WG: u32 = 256u;
const IN_BYTES: u32 = 210u;
const OUT_WORDS: u32 = 56u;  // 224 bytes
const D_WORD: u32 = 52u;     // bytes 208..211: d, then the padding

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let i = (wid.y * p.grid_x + wid.x) * WG + li;
    if (i >= p.n_blocks * OUT_WORDS) { return; }
    let w = i % OUT_WORDS;
    var v = 0u;
    if (w <= D_WORD) {
        // blocks start at even bytes: a word at 2 mod 4 is a funnel shift of two
        let b = p.src_off + (i / OUT_WORDS) * IN_BYTES + 4u * w;
        let j = b >> 2u;
        v = S[j];
        if ((b & 2u) != 0u) { v = (v >> 16u) | (S[j + 1u] << 16u); }
        if (w == D_WORD) { v &= 0xFFFFu; }
    }
    D[(p.dst_off >> 2u) + i] = v;
}
