// The interface of the attention kernels (attn_decode.wgsl, attention_tiled.wgsl):
// one Params struct (src/gpu/record.c attn_params) and bindings 0-6; PREP
// (attn_decode only) makes the caches writable and adds the norm weights and
// the RoPE table.
struct Params {
    H: u32,
    kvh: u32,
    hd: u32,          // = HD
    window: u32,
    q_stride: u32,
    q_off: u32,
    kv_stride: u32,
    kv_cap: u32,
    o_stride: u32,
    n_split: u32,
    head_chunks: u32, // ceil((H / kvh) / HC) (attn_decode)
    n_tok: u32,
    qn_off: u32,      // PREP: q_norm / k_norm weights in VEC
    kn_off: u32,
    eps: f32,
    rope_dims: u32,
    rt_col: u32,      // PREP: this head size's first (cos, sin) pair in RT
    k_off: u32,       // PREP: raw k and v within Q (v_off = k_off on K=V layers)
    v_off: u32,
    prep_flags: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> step: Step;
@group(0) @binding(2) var<storage, read> Q: array<vec4<f32>>;
#ifdef PREP
@group(0) @binding(3) var<storage, read_write> KCACHE: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> VCACHE: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read> VEC: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read> RT: array<f32>;
#else
@group(0) @binding(3) var<storage, read> KCACHE: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> VCACHE: array<vec4<f32>>;
#endif
@group(0) @binding(5) var<storage, read_write> O: array<f32>;      // n_split == 1: [n_tok][H*hd]
@group(0) @binding(6) var<storage, read_write> PART: array<f32>;   // n_split > 1: [n_tok][H][n_split][hd + 2]
