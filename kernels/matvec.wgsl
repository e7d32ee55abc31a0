// Mat-vec for decode and tiny batches: y_t = W x_t for n_tok <= NT columns.
// Source: common.wgsl, quant.wgsl, quant_chunk.wgsl, weight_op.wgsl, matvec.wgsl (in that order;
// IDOT: limbs.wgsl, three limbs, before matvec.wgsl).
//
// Defines
//   TYPE_<T>   weight format (F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K Q5_K Q6_K)
//   WG=<n>     threads per workgroup
//   ROWS=<n>   rows per workgroup
//   RPT=<n>    rows per thread, 1 (default) or 2 (ROWS a multiple of it): the
//              workgroup has ROWS / RPT row slots, TPR = WG * RPT / ROWS threads
//              share a slot (a power of two, 1 .. WG), and each thread works on
//              RPT rows, so RPT chunk loads are in flight per step
//   NT=<n>     tokens the variant computes (1..8); any n_tok <= NT works, so
//              use NT = n_tok rounded up to 1, 2, 4 or 8
//   XS=<n>     stage x in workgroup memory, n floats (a multiple of 256 * NT):
//              tiles of KT = n / NT columns of every token, one load per
//              workgroup instead of one per row. Without XS each thread reads
//              its x from the storage buffer.
//   STEPS=<n>  chunks per thread (ceil(cols / CH / TPR)), without XS tiles: the
//              chunk loop gets a constant trip count, so the compiler can unroll
//              it and issue every step's loads before the first one returns.
//              Measured 2-3% slower end to end on an H100 (docs/PERF.md), so
//              the planner leaves it off; RULLAMA_TUNE=unroll=1 turns it on
//   LC=<n>     threads of a row slot that sit side by side (a power of two
//              dividing TPR; default TPR): see "Work split"
//   WVEC       W bound as array<vec4<u32>> (quant.wgsl): 16-byte weight loads
//   SUBGROUPS  reduce with subgroup shuffles (needs the `subgroups` feature)
//   IDOT       (NT 1; limbs.wgsl before this file) integer products, x as int8
//              limbs: see "Integer dot products" below. TYPE_Q4_K with PRO_RES
//              (the limbs made by the prologue), or TYPE_Q4_K / TYPE_Q6_K with
//   XLIMBS     the limbs read from XL / XF (bindings 4, 5), made by x's producer
//   LIMBS_OUT  (EPI_PAIR, PRO_RES, 32 outputs a workgroup, LIMBS_FLAT) the
//              outputs also as limbs for the next product's XLIMBS: see below
//   PRO_ATTN   (one token, XS = cols; AH heads, at most AS splits) x is the
//              decode attention's unmerged key splits (attn_decode.wgsl
//              PART_VEC), merged by every workgroup on its way in: see below
//   (src/gpu/matvec_cfg.c picks WG, ROWS, RPT, LC, WVEC, XS and NT.)
//
// Bindings and Params: weight_op.wgsl, with
//   n_tok        1 <= n_tok <= NT
//   grid_x       workgroup (x, y) computes rows [(y*grid_x + x)*ROWS, +ROWS);
//                dispatch (grid_x, ceil(ceil(rows/ROWS) / grid_x), 1) with
//                grid_x <= 65535; workgroups past the last row do nothing
//   pad0, pad1   EPI_GEGLU: where the gate B of token t starts (below);
//                EPI_PAIR: pad0 = rows between a gate row and its up row;
//                TWO_TYPES: the second matrix's first row and byte offset;
//                XLIMBS: pad0 = where x's block sums start in XF (Q4_K)
//   pro_s, pro_flags  XLIMBS: where x's scale starts in XF, and its stride per
//                32-column block (0: one scale for the token, 1: one a block)
//
// Work split: slot s of the workgroup holds rows row0 + s + (ROWS / RPT) * j,
// j < RPT. The TPR threads of a slot take the chunks (quant_chunk.wgsl) of its
// rows round-robin: thread li = c + LC * (s + SLOTS * k) is lane c + LC * k of
// slot s, so runs of LC threads read neighbouring bytes of one row. With LC <
// TPR a warp spans several rows at the same columns: its x loads are shared
// (one address serves the rows) while each row still gets whole 128-byte
// lines of weights; with LC = TPR a warp reads 32 different x vectors. A thread
// does chunk g of all its RPT rows in one step, and keeps RPT * NT partial
// sums, reduced across the TPR threads at the end (subgroup shuffles when
// SUBGROUPS is defined, else workgroup memory). No private array is indexed
// by anything but a token loop (the second row's sums are swapped in and out
// whole): an array the compiler cannot keep in registers goes to local memory,
// which cost up to 3x per chunk on an H100/H200. Subgroups are assumed to be
// runs of subgroup_size consecutive local_invocation_index values (true of
// the Vulkan, Metal and D3D12 backends for 1-D workgroups).
//
// Why x can go through workgroup memory (XS): with NT tokens each weight
// byte of a 4-bit format meets 7 * NT bytes of x, read by thousands of
// threads at once; staged, they are read once per workgroup. It pays for
// several tokens on tall matrices (docs/PERF.md), not for one token.

#ifdef EPI_GEGLU
// Y = gelu_tanh(W x) * B[pad0 + t*pad1 + r]: the per-layer-embedding gate (gemma4.md §4.4)
@group(0) @binding(4) var<storage, read> B: array<f32>;

// B of the thread's two rows (j = 0, 1), loaded when the thread starts rather
// than after its sums (a load there would add a memory round trip at the end)
var<private> gate_b: array<array<f32, NT>, 2>;

fn gate_load(r0: u32, r1: u32) {
    for (var t = 0u; t < NT; t++) {
        let b = p.pad0 + min(t, p.n_tok - 1u) * p.pad1;
        gate_b[0][t] = B[b + min(r0, p.rows - 1u)];
        gate_b[1][t] = B[b + min(r1, p.rows - 1u)];
    }
}

fn epilogue(y: f32, t: u32, j: u32) -> f32 { return gelu_tanh(y) * gate_b[j][t]; }
#else
fn epilogue(y: f32, t: u32, j: u32) -> f32 { return y; }
#endif

#ifdef PRO_RES
// PRO_RES (one token, XS = cols): the residual step before this product runs in
// its prologue instead of in a norm pass of its own (gemma4.md §4.4):
//   h' = (h + RMSNorm(X; w1)) * s          s = PV[pro_s] when pro_flags & 1, else 1
//                                          (pro_flags & 4: h' = h * s, X unused: a
//                                          pass's first pre-norm, with no residual yet)
//   x  = RMSNorm(h'; w2) when pro_flags & 2 (the next pre-norm), else h'
// and the product is W x. Every workgroup computes x for itself (two block
// sums over cols floats, from L2) into the staged tile; the first one also
// writes h' to HOUT and x to UOUT for the operations after this one. HIN and
// HOUT are different buffers (the engine alternates them), so no workgroup
// reads what another writes.
@group(0) @binding(5) var<storage, read> HIN: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> PV: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> HOUT: array<vec4<f32>>;
#ifndef LIMBS_OUT
@group(0) @binding(8) var<storage, read_write> UOUT: array<vec4<f32>>;
#endif
#endif

#ifdef LIMBS_OUT
// LIMBS_OUT (EPI_PAIR, one token, 32 outputs a workgroup; with LIMBS_FLAT): the
// GeGLU outputs are the input of the MLP's down product, which reads them as
// limbs (XLIMBS). A workgroup's 32 outputs are its x-block b = row0 / 32: it
// writes their limbs to XLO (limbs.wgsl LIMBS_FLAT) with a scale of their own,
// at word 24 nb + b, and their sum at word 25 nb + b (f32 bits; nb = rows / 32,
// rows a multiple of 32). Binding 8 is XLO instead of UOUT: the prologue's
// normed input is then not written (nothing reads it after this product).
@group(0) @binding(8) var<storage, read_write> XLO: array<u32>;
const_assert OUT_ROWS == 32u && NT == 1u;
var<workgroup> gout: array<f32, 32>;

fn limbs_out(row0: u32, li: u32) {
    workgroupBarrier();  // gout is written
    if (li < 8u) {
        var mx = 0.0;
        for (var k = 0u; k < 32u; k++) { mx = max(mx, abs(gout[k])); }
        let sc = limb_scale(mx);
        let b = row0 / 32u;
        let nb = p.rows / 32u;
        limb_put_out(limb_word(0u, 8u * b + li, nb), nb,
                     limb_digits(vec4<f32>(gout[4u * li], gout[4u * li + 1u], gout[4u * li + 2u], gout[4u * li + 3u]), sc.k));
        if (li == 0u) {
            var sum = 0.0;
            for (var k = 0u; k < 32u; k++) { sum += gout[k]; }
            XLO[24u * nb + b] = bitcast<u32>(sc.s);
            XLO[25u * nb + b] = bitcast<u32>(sum);
        }
    }
}

fn limb_put_out(o: u32, nb: u32, w: vec3<u32>) {
    let ls = limb_stride(nb);
    XLO[o] = w.x;
    XLO[o + ls] = w.y;
    XLO[o + 2u * ls] = w.z;
}
#endif

#ifndef RPT
const RPT: u32 = 1u;
#endif
// EPI_PAIR (RPT = 2): GeGLU of a [gate | up] matrix in the same pass (gemma4.md
// §4.1): a thread's second row is its first row's partner r + pad0 (the up row
// of gate row r), and Y[y_off + t*y_stride + r] = gelu_tanh(W_r x) * (W_{r+pad0} x)
// for r < rows. A workgroup then covers ROWS / 2 outputs. Saves the separate
// GeGLU pass and its 2 * F floats of traffic per token.
#ifdef EPI_PAIR
const OUT_ROWS: u32 = ROWS / 2u;
#else
const OUT_ROWS: u32 = ROWS;
#endif
const SLOTS: u32 = ROWS / RPT;
const TPR: u32 = WG / SLOTS;
#ifndef LC
const LC: u32 = TPR;
#endif

var<private> ca: array<f32, NT>;    // sums of the row being dequantized, per token
var<private> acc1: array<f32, NT>;  // the second row's sums (RPT = 2)
var<private> xt: array<u32, NT>;    // vec4 index of each token's x in X

#ifdef XS
const KT: u32 = XS / NT;  // columns per tile
var<workgroup> xs: array<vec4<f32>, XS / 4>;
var<private> x0: u32;     // first column of the current tile

fn take4(e: u32, v: vec4<f32>) {
    let q = (e - x0) >> 2u;
    for (var t = 0u; t < NT; t++) { ca[t] += dot(v, xs[t * (KT / 4u) + q]); }
}
#else
fn take4(e: u32, v: vec4<f32>) {
    let q = e >> 2u;
    for (var t = 0u; t < NT; t++) { ca[t] += dot(v, X[xt[t] + q]); }
}
#endif

// chunk g of the thread's rows (byte offsets rb0, rb1)
fn chunk_rows(rb0: u32, rb1: u32, g: u32) {
    dq_chunk(rb0, g);
    if (RPT > 1u) {
        let first = ca;
        ca = acc1;
        dq_chunk(rb1, g);
        acc1 = ca;
        ca = first;
    }
}

// every chunk of the thread's rows: lane, lane + TPR, ...
fn all_chunks(rb0: u32, rb1: u32, lane: u32) {
    let nch = p.cols / CH;
#ifdef STEPS
    for (var k = 0u; k < STEPS; k++) {
        let g = lane + k * TPR;
        if (g < nch) { chunk_rows(rb0, rb1, g); }
    }
    for (var g = lane + STEPS * TPR; g < nch; g += TPR) { chunk_rows(rb0, rb1, g); }  // STEPS too small: still right
#else
    for (var g = lane; g < nch; g += TPR) { chunk_rows(rb0, rb1, g); }
#endif
}

#ifdef IDOT
// Integer dot products. Dequantizing a Q4_K weight to f32 and multiplying costs
// about four instructions a weight, which made the wide one-token products
// (the MLP's gate|up) compute-bound: on an H100 one took 12.5 us with its loads
// removed, where a plain read of its bytes takes 9.8. Here x comes as three int8
// limbs (limbs.wgsl's digits: x = s (l0 + l1 / 256 + l2 / 65536) to within 2^-23
// of the largest |x| its scale s covers), and a 64-weight chunk is 24
// dot4I8Packed a limb set: about one instruction a weight.
//   - with PRO_RES, the prologue makes them from the values it holds in
//     registers, with one power-of-two scale s_t for the token, into workgroup
//     memory (xq, and xv4: the sum of each vec4 of x, for Q4_K's mins);
//   - with XLIMBS (no prologue), they are read from XL in the LIMBS_FLAT layout
//     of limbs.wgsl (block b's limb l: vec4s 6 b + 2 l and + 1), written by the
//     pass that made x: a norm (norm.wgsl LIMBS, one scale for the token, at
//     XF[pro_s]) or the GeGLU pair before the MLP's down (LIMBS_OUT below, a
//     scale per 32-column block at XF[pro_s + b], its sum at XF[pad0 + b]);
//     pro_flags is the scale's stride per block (0 or 1).
// A Q4_K sub-block j over x-block b (32 columns) gives
//   d sc_j s_b (S0 + S1 / 256 + S2 / 65536) - dmin m_j sum_b x,
// with S the exact integer sums of nibble times digit. A Q6_K chunk (XLIMBS) is
// four 16-weight groups, each d sc_k s_b (S0 + ...) over half of an x-block,
// its quants made signed bytes (q - 32) so that no sum of x is needed. Columns
// past the first matrix of TWO_TYPES keep the f32 path (xs is still written).
const_assert NL == 3u && NT == 1u;  // three limbs; one token
#ifdef XLIMBS
@group(0) @binding(4) var<storage, read> XL: array<vec4<u32>>;
@group(0) @binding(5) var<storage, read> XF: array<f32>;
fn xlv(i: u32) -> vec4<u32> { return XL[i]; }
fn x_scale_of(b: u32) -> f32 { return XF[p.pro_s + b * p.pro_flags]; }
fn x_sum_of(b: u32) -> f32 { return XF[p.pad0 + b]; }
#else
const XB: u32 = XS / 32u;
var<workgroup> xq: array<vec4<u32>, XB * 6u>;  // x-block b, limb l: vec4s 6 b + 2 l and + 1
var<workgroup> xv4: array<f32, XS / 4u>;        // the sum of each vec4 of x
var<private> x_scale: f32;                      // s_t
fn xlv(i: u32) -> vec4<u32> { return xq[i]; }
fn x_scale_of(b: u32) -> f32 { return x_scale; }
fn x_sum_of(b: u32) -> f32 {
    var s = 0.0;
    for (var k = 0u; k < 8u; k++) { s += xv4[8u * b + k]; }
    return s;
}
#endif

// the three limb sums (exact integers: |n| <= 32 * 15 * 128) as one value, in units of the scale
fn limb_total(n: vec3<i32>) -> f32 { return f32(n.x) + f32(n.y) * (1.0 / 256.0) + f32(n.z) * (1.0 / 65536.0); }

#ifdef TYPE_Q4_K
// sum over 32 weights (bytes of q0, q1) times x-block xb's digits, limb by limb
fn idot32(q0: vec4<u32>, q1: vec4<u32>, xb: u32) -> f32 {
    var n = vec3<i32>(0);
    for (var l = 0u; l < 3u; l++) {
        let a = xlv(6u * xb + 2u * l);
        let b = xlv(6u * xb + 2u * l + 1u);
        n[l] = dot4I8Packed(q0.x, a.x) + dot4I8Packed(q0.y, a.y) + dot4I8Packed(q0.z, a.z) + dot4I8Packed(q0.w, a.w) +
               dot4I8Packed(q1.x, b.x) + dot4I8Packed(q1.y, b.y) + dot4I8Packed(q1.z, b.z) + dot4I8Packed(q1.w, b.w);
    }
    return limb_total(n);
}

// chunk g (64 weights: sub-blocks 2cc and 2cc + 1 of block g / 4) of the row at byte rb
fn idot_chunk(rb: u32, g: u32) -> f32 {
    let bb = rb + (g >> 2u) * QB;
    let cc = g & 3u;
    let hd = k4_hdr(bb);
    let q0 = w16(bb + 16u + 32u * cc);  // elements 64 cc + 0..15 (low nibbles), + 32.. (high)
    let q1 = w16(bb + 32u + 32u * cc);  // 64 cc + 16..31, + 48..
    let s0 = k4_sm(hd, 2u * cc);
    let s1 = k4_sm(hd, 2u * cc + 1u);
    let xb = (g >> 2u) * 8u + 2u * cc;
    let m = vec4<u32>(0x0F0F0F0Fu);
    let four = vec4<u32>(4u);
    return s0.x * x_scale_of(xb) * idot32(q0 & m, q1 & m, xb) +
           s1.x * x_scale_of(xb + 1u) * idot32((q0 >> four) & m, (q1 >> four) & m, xb + 1u) -
           (s0.y * x_sum_of(xb) + s1.y * x_sum_of(xb + 1u));
}
#endif

#ifdef TYPE_Q6_K
// sum over 16 weights (the signed bytes of q) times half hf of x-block xb's digits, limb by limb
fn idot16(q: vec4<u32>, xb: u32, hf: u32) -> f32 {
    var n = vec3<i32>(0);
    for (var l = 0u; l < 3u; l++) {
        let a = xlv(6u * xb + 2u * l + hf);
        n[l] = dot4I8Packed(q.x, a.x) + dot4I8Packed(q.y, a.y) + dot4I8Packed(q.z, a.z) + dot4I8Packed(q.w, a.w);
    }
    return limb_total(n);
}

// bytes holding 6-bit two's complement values, sign-extended to 8 bits
fn sext6(q: vec4<u32>) -> vec4<u32> { return q | ((q & vec4<u32>(0x20202020u)) * 6u); }

// chunk gi (quant_chunk.wgsl's q6_chunk): q - 32 = lo + 16 (hi - 2), and hi - 2 is hi with its
// top bit flipped, read as a 2-bit two's complement value
fn idot_chunk(rb: u32, gi: u32) -> f32 {
    let c = q6_chunk(rb, gi);
    let qh = c.qh ^ vec4<u32>(0xAAAAAAAAu);
    let m = vec4<u32>(0x0F0F0F0Fu);
    let q0 = sext6((c.a & m) | ((qh & vec4<u32>(0x03030303u)) << vec4<u32>(4u)));
    let q1 = sext6((c.b & m) | ((qh & vec4<u32>(0x0C0C0C0Cu)) << vec4<u32>(2u)));
    let q2 = sext6(((c.a >> vec4<u32>(4u)) & m) | (qh & vec4<u32>(0x30303030u)));
    let q3 = sext6(((c.b >> vec4<u32>(4u)) & m) | ((qh >> vec4<u32>(2u)) & vec4<u32>(0x30303030u)));
    let xb = 8u * (gi >> 2u) + 4u * ((gi >> 1u) & 1u);  // the four groups: x-blocks xb .. xb + 3, half gi & 1
    let hf = gi & 1u;
    return c.d.x * x_scale_of(xb) * idot16(q0, xb, hf) + c.d.y * x_scale_of(xb + 1u) * idot16(q1, xb + 1u, hf) +
           c.d.z * x_scale_of(xb + 2u) * idot16(q2, xb + 2u, hf) + c.d.w * x_scale_of(xb + 3u) * idot16(q3, xb + 3u, hf);
}
#endif
#endif

// TWO_TYPES (RPT = 1, without XS tiles unless PRO_RES): rows [pad0, rows) are
// a second matrix of another type, TYPE2_<T>, whose quant.wgsl and
// quant_chunk.wgsl functions the WGSL builder includes again renamed NAME_2
// (src/gpu/wgsl.h), at byte pad1 of W: a layer's v next to its q|k when the two
// types differ (Q4_K_M's Q6_K v), one dispatch instead of two.
fn row_chunks(rb0: u32, rb1: u32, lane: u32, r: u32) {
#ifdef TWO_TYPES
    if (r >= p.pad0) {
        let rb = p.pad1 + (min(r, p.rows - 1u) - p.pad0) * ((p.cols / QK_2) * QB_2);
        for (var g = lane; g < p.cols / CH_2; g += TPR) { dq_chunk_2(rb, g); }
        return;
    }
#endif
#ifdef IDOT
    for (var g = lane; g < p.cols / 64u; g += TPR) {
        ca[0] += idot_chunk(rb0, g);
        if (RPT > 1u) { acc1[0] += idot_chunk(rb1, g); }
    }
#else
    all_chunks(rb0, rb1, lane);
#endif
}

var<workgroup> red: array<f32, WG * NT>;

// Sums of v over the TPR threads of a row slot (valid in its lane 0); ri =
// slot * TPR + lane, the thread's place in red.
fn reduce(v: array<f32, NT>, ri: u32, lane: u32
#ifdef SUBGROUPS
          , sg: u32
#endif
) -> array<f32, NT> {
    var a = v;
#ifdef SUBGROUPS
    // butterfly over the bits of li that name the lane (c below LC, k from
    // LC * SLOTS up) inside a subgroup, then across subgroups
    for (var o = 1u; o < sg && o < WG; o <<= 1u) {
        if (o < LC || o >= LC * SLOTS) {
            for (var t = 0u; t < NT; t++) { a[t] += subgroupShuffleXor(a[t], o); }
        }
    }
    let per_sg = min(TPR, max(min(LC, sg), sg / SLOTS));  // a slot's threads in one subgroup
    if (TPR > per_sg) {
        workgroupBarrier();  // red is free (an earlier row's sums are read)
        for (var t = 0u; t < NT; t++) { red[t * WG + ri] = a[t]; }
        workgroupBarrier();
        if (lane == 0u) {
            for (var t = 0u; t < NT; t++) {
                var s = 0.0;
                for (var k = 0u; k < TPR; k += per_sg) { s += red[t * WG + ri + k]; }
                a[t] = s;
            }
        }
    }
#else
    if (TPR > 1u) {
        workgroupBarrier();
        for (var t = 0u; t < NT; t++) { red[t * WG + ri] = a[t]; }
        workgroupBarrier();
        for (var s = TPR / 2u; s > 0u; s >>= 1u) {
            if (lane < s) {
                for (var t = 0u; t < NT; t++) { red[t * WG + ri] += red[t * WG + ri + s]; }
            }
            workgroupBarrier();
        }
        for (var t = 0u; t < NT; t++) { a[t] = red[t * WG + ri]; }
    }
#endif
    return a;
}

#ifdef PRO_RES
// Sum of v over the workgroup (every thread gets it).
fn block_sum(v: f32, li: u32
#ifdef SUBGROUPS
             , sg: u32
#endif
) -> f32 {
#ifdef SUBGROUPS
    // one subgroup sum, one barrier (not a tree of log2(WG) barriers)
    let t = subgroupAdd(v);
    workgroupBarrier();  // red is free
    if (li % sg == 0u) { red[li / sg] = t; }
    workgroupBarrier();
    var s = 0.0;
    for (var k = 0u; k < (WG + sg - 1u) / sg; k++) { s += red[k]; }
    return s;
#else
    workgroupBarrier();  // red is free
    red[li] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (li < s) { red[li] += red[li + s]; }
        workgroupBarrier();
    }
    return red[0];
#endif
}

#ifdef IDOT
// Largest v over the workgroup (every thread gets it), as block_sum.
fn block_max(v: f32, li: u32
#ifdef SUBGROUPS
             , sg: u32
#endif
) -> f32 {
#ifdef SUBGROUPS
    let t = subgroupMax(v);
    workgroupBarrier();  // red is free
    if (li % sg == 0u) { red[li / sg] = t; }
    workgroupBarrier();
    var m = 0.0;
    for (var k = 0u; k < (WG + sg - 1u) / sg; k++) { m = max(m, red[k]); }
    return m;
#else
    workgroupBarrier();  // red is free
    red[li] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (li < s) { red[li] = max(red[li], red[li + s]); }
        workgroupBarrier();
    }
    return red[0];
#endif
}
#endif

// vec4 of the prologue's vectors per thread (XS = cols)
const PN: u32 = (XS / 4u + WG - 1u) / WG;

fn prologue(li: u32, first: bool
#ifdef SUBGROUPS
            , sg: u32
#endif
) {
    // every input up front, in one memory round trip: none depends on another
    // (a loop that waits for each load in turn cost a round trip per step)
    let xb = p.x_off / 4u;
    var xv: array<vec4<f32>, PN>;
    var hv: array<vec4<f32>, PN>;
    var w1: array<vec4<f32>, PN>;
    var w2: array<vec4<f32>, PN>;
    for (var k = 0u; k < PN; k++) {
        let i = min(li + k * WG, XS / 4u - 1u);  // past the end: a repeat, never used
        xv[k] = X[xb + i];
        hv[k] = HIN[i];
        w1[k] = PV[p.pro_w1 / 4u + i];
        w2[k] = PV[p.pro_w2 / 4u + i];
    }
    var s = 1.0;
    if ((p.pro_flags & 1u) != 0u) { s = PV[p.pro_s / 4u][p.pro_s % 4u]; }
    let nores = (p.pro_flags & 4u) != 0u;  // uniform: the block sum's barriers stay in uniform control flow
    var inv1 = 0.0;
    if (!nores) {
        var ss = 0.0;
        for (var k = 0u; k < PN; k++) {
            if (li + k * WG < XS / 4u) { ss += dot(xv[k], xv[k]); }
        }
        inv1 = inverseSqrt(block_sum(ss, li
#ifdef SUBGROUPS
                                     , sg
#endif
                                     ) / f32(XS) + EPS);
    }
    var ss2 = 0.0;
    for (var k = 0u; k < PN; k++) {
        let i = li + k * WG;
        let h = (hv[k] + select(xv[k] * inv1 * w1[k], vec4<f32>(0.0), nores)) * s;
        hv[k] = h;
        if (i < XS / 4u) {
            xs[i] = h;
            ss2 += dot(h, h);
            if (first) { HOUT[i] = h; }
        }
    }
    if ((p.pro_flags & 2u) != 0u) {
        let inv2 = inverseSqrt(block_sum(ss2, li
#ifdef SUBGROUPS
                                         , sg
#endif
                                         ) / f32(XS) + EPS);
        for (var k = 0u; k < PN; k++) {
            let i = li + k * WG;
            if (i < XS / 4u) {
                let u = hv[k] * inv2 * w2[k];
                xs[i] = u;
                hv[k] = u;  // IDOT: the product's input, for its limbs
#ifndef LIMBS_OUT
                if (first) { UOUT[i] = u; }
#endif
            }
        }
    }
#ifdef IDOT
    // the product's input (now in hv) as limbs, with the token's scale
    var mx = 0.0;
    for (var k = 0u; k < PN; k++) {
        if (li + k * WG < XS / 4u) {
            let a = abs(hv[k]);
            mx = max(mx, max(max(a.x, a.y), max(a.z, a.w)));
        }
    }
    let sc = limb_scale(block_max(mx, li
#ifdef SUBGROUPS
                                  , sg
#endif
                                  ));
    x_scale = sc.s;
    for (var k = 0u; k < PN; k++) {
        let i = li + k * WG;
        if (i < XS / 4u) {
            let w = limb_digits(hv[k], sc.k);
            let b = i / 8u;
            let j = i % 8u;
            xq[6u * b + j / 4u][j % 4u] = w.x;
            xq[6u * b + 2u + j / 4u][j % 4u] = w.y;
            xq[6u * b + 4u + j / 4u][j % 4u] = w.z;
            xv4[i] = (hv[k].x + hv[k].y) + (hv[k].z + hv[k].w);
        }
    }
#endif
    workgroupBarrier();
}
#endif

#ifdef PRO_ATTN
// PRO_ATTN: X holds pro_w2 key splits of the attention of AH heads of pro_w1
// dimensions (attn_decode.wgsl PART_VEC): [AH][n_split][hd] unnormalised
// outputs, then [AH][n_split] (m, l) pairs. Every workgroup merges them into its
// staged row (attn_combine.wgsl's maths: x = sum_s acc_s e^(m_s - M) / sum_s
// l_s e^(m_s - M)), which saves attn_combine's dispatch. The splits are few
// (src/gpu/record.c caps them at AS), but every workgroup rereads all of them
// from L2: on an H100 that costs more GPU time than attn_combine's pass, and
// pays only while the host's per-dispatch work is the bottleneck (docs/PERF.md).
var<workgroup> aw: array<f32, AH * AS>;  // each split's weight e^(m_s - M) / L, by head

fn attn_prologue(li: u32) {
    // every load unconditional (indices clamped to the last split, whose weight past ns is 0), so
    // each phase's loads go out together: a load under `if (s < ns)` waits for the one before it
    let hd = p.pro_w1;
    let ns = p.pro_w2;
    if (li < AH) {
        var m: array<f32, AS>;
        var l: array<f32, AS>;
        for (var s = 0u; s < AS; s++) {
            let i = AH * ns * hd + 2u * (li * ns + min(s, ns - 1u));  // even: m and l share a vec4
            let v = X[i / 4u];
            m[s] = select(NEG_INF, v[i % 4u], s < ns);
            l[s] = select(0.0, v[i % 4u + 1u], s < ns);
        }
        var mx = NEG_INF;
        for (var s = 0u; s < AS; s++) { mx = max(mx, m[s]); }
        var sum = 0.0;
        for (var s = 0u; s < AS; s++) { sum += l[s] * exp(m[s] - mx); }  // empty splits: l = 0, m = -inf
        for (var s = 0u; s < AS; s++) { aw[li * AS + s] = exp(m[s] - mx) / sum; }
    }
    workgroupBarrier();
    for (var i = li; i < XS / 4u; i += WG) {
        let h = 4u * i / hd;
        let v0 = (h * ns * hd + 4u * i % hd) / 4u;  // split 0's vec4 of this column
        var part: array<vec4<f32>, AS>;
        for (var s = 0u; s < AS; s++) { part[s] = X[v0 + min(s, ns - 1u) * (hd / 4u)]; }
        var v = vec4<f32>(0.0);
        for (var s = 0u; s < AS; s++) { v += part[s] * aw[h * AS + s]; }
        xs[i] = v;
    }
    workgroupBarrier();
}
#endif

// row r, the thread's first (j = 0) or second (j = 1) row
fn store(r: u32, y: array<f32, NT>, j: u32) {
    if (r >= p.rows) { return; }
    for (var t = 0u; t < NT; t++) {
        if (t < p.n_tok) { Y[p.y_off + t * p.y_stride + r] = epilogue(softcap(y[t]), t, j); }
    }
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>
#ifdef SUBGROUPS
        , @builtin(subgroup_size) sg: u32
#endif
) {
    let row0 = (wid.y * p.grid_x + wid.x) * OUT_ROWS;
    if (row0 >= p.rows) { return; }
    let slot = (li / LC) % SLOTS;
    let lane = li % LC + LC * (li / (LC * SLOTS));
    let ri = slot * TPR + lane;
    let row_bytes = (p.cols / QK) * QB;
    let rb0 = p.w_off + min(row0 + slot, p.rows - 1u) * row_bytes;
#ifdef EPI_PAIR
    let rb1 = rb0 + p.pad0 * row_bytes;
#else
    let rb1 = p.w_off + min(row0 + slot + SLOTS, p.rows - 1u) * row_bytes;
#endif
#ifdef EPI_GEGLU
    gate_load(row0 + slot, row0 + slot + SLOTS);
#endif
    for (var t = 0u; t < NT; t++) {
        ca[t] = 0.0;
        acc1[t] = 0.0;
        // tokens past n_tok repeat the last one: in bounds, never stored
        xt[t] = (p.x_off + min(t, p.n_tok - 1u) * p.x_stride) >> 2u;
    }
#ifdef PRO_RES
    prologue(li, row0 == 0u
#ifdef SUBGROUPS
             , sg
#endif
    );
    x0 = 0u;
    row_chunks(rb0, rb1, lane, row0 + slot);
#else
#ifdef PRO_ATTN
    attn_prologue(li);
    x0 = 0u;
    row_chunks(rb0, rb1, lane, row0 + slot);
#else
#ifdef XS
    for (var e0 = 0u; e0 < p.cols; e0 += KT) {
        let kt = min(KT, p.cols - e0);
        workgroupBarrier();  // the previous tile is used up
        for (var i = li; i < XS / 4u; i += WG) {
            let c = i % (KT / 4u);
            let t = min(i / (KT / 4u), p.n_tok - 1u);
            if (4u * c < kt) { xs[i] = X[((p.x_off + t * p.x_stride + e0) >> 2u) + c]; }
        }
        workgroupBarrier();
        x0 = e0;
        // tiles are whole blocks and chunks (KT % 256 == 0)
        for (var g = e0 / CH + lane; g < (e0 + kt) / CH; g += TPR) { chunk_rows(rb0, rb1, g); }
    }
#else
    row_chunks(rb0, rb1, lane, row0 + slot);
#endif
#endif
#endif

    let y0 = reduce(ca, ri, lane
#ifdef SUBGROUPS
                    , sg
#endif
    );
    var y1 = y0;
    if (RPT > 1u) {
        y1 = reduce(acc1, ri, lane
#ifdef SUBGROUPS
                    , sg
#endif
        );
    }
    if (lane == 0u) {
#ifdef EPI_PAIR
        var g: array<f32, NT>;
        for (var t = 0u; t < NT; t++) { g[t] = gelu_tanh(y0[t]) * y1[t]; }
        store(row0 + slot, g, 0u);
#ifdef LIMBS_OUT
        gout[slot] = g[0];
#endif
#else
        store(row0 + slot, y0, 0u);
        if (RPT > 1u) { store(row0 + slot + SLOTS, y1, 1u); }
#endif
    }
#ifdef LIMBS_OUT
    limbs_out(row0, li);
#endif
}
