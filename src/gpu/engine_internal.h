/* Internals of the GPU engine shared by its files: the engine struct, the
 * weight placement (placement.c), the recording primitives (record.c), the
 * decoder layer (layer.c) and the entry points (engine.c). */
#ifndef RL_GPU_ENGINE_INTERNAL_H
#define RL_GPU_ENGINE_INTERNAL_H

#include <stdint.h>

#include "gpu/device.h"
#include "gpu/engine.h"
#include "model_file.h"

#define DEFAULT_UBATCH 512 /* slots per prefill pass unless asked otherwise (halved while a buffer would
                              exceed the binding limit); the matmul reuses each weight tile over more
                              tokens, and bench measures what users get */
#define PREFILL_LISTS 4 /* command lists a prefill pass is handed over in (RULLAMA_TUNE lists=N) */
#define LOGIT_ROWS 8 /* output rows computed per pass when every row's logits are wanted */
#define MAX_HD 512
#define ATTN_WG 128
#define ATTN_HC 8  /* most query heads per attention workgroup (of one KV group) */
#define ATTN_DEC_REREAD (8u << 20) /* decode attention: most K/V bytes a pass reads again (once per head chunk
                                      after the first); fewer heads per workgroup measured faster on the H100 */
#define ATTN_DEC_KB 8      /* keys per block of the decode attention (kernels/attn_decode.wgsl), at most hd / 2:
                              8 measured 70-80 us a step faster than 16 on e2b at 640 positions on an H100
                              (twice the workgroups, half the serial work each), 4 no better, 64 2x slower
                              (docs/PERF.md) */
#define ATTN_DEC_SPLITS 128 /* most key splits of a decode attention pass (each merged by attn_combine; its
                               MAXS is 256): 128 against 64 took a 3,072-position step 2.76 -> 2.68 ms */
#define ATTN_PLAN_KEYS 64 /* decode plans its attention for its key count rounded up to this: the plan (splits,
                             heads per workgroup) changes every 64 positions, not every 8, so a replayed step
                             is re-recorded that much less often (splits past the keys find none and merge as
                             nothing) */
#define ATTN_DEC_NPV 2 /* most P.V parts of the decode attention (kernels/attn_decode.wgsl NPV, a block of 4 NPV
                          keys a workgroup; more than 2 need subgroups of at least that many lanes) when
                          attn_combine merges its splits: 8 took an e2b step at 640 positions 2.232 -> 2.265 ms,
                          4 changed nothing (H100, docs/PERF.md) */
#define ATTN_FUSE_SPLITS 8 /* one token: up to this many key splits, each walking up to ATTN_FUSE_BLOCKS blocks,
                              are merged by the attention output's mat-vec on its way in (matvec.wgsl PRO_ATTN)
                              instead of by attn_combine's dispatch (RULLAMA_TUNE fuse=N, 0: off). Every o-proj
                              workgroup rereads the partials: on e2b at 640 positions 35 dispatches fewer a
                              token for 0.14 ms more GPU time (H100 step 2.23 -> 2.37 ms; 16 splits of one block:
                              2.42), which paid wherever the host's WebGPU calls were the bottleneck (docs/PERF.md) */
#define ATTN_FUSE_NPV 8     /* ... with this many P.V parts (blocks of 32 keys): a 512-key window is 8 splits of 2 */
#define ATTN_FUSE_BLOCKS 3  /* longer contexts (past 768 keys at 32-key blocks) keep attn_combine */
#define ATTN_COMBINE_DW 32 /* dimensions per attn_combine workgroup (decode's grouped variant) */
#define ATTN_COMBINE_WG 128 /* ... and its invocations: WG / DW groups take every (WG / DW)-th split */
#define ATTN_COMBINE_DIRECT_DW 128  /* dimensions per workgroup of its DIRECT variant (one per thread) */
#define ATTN_COMBINE_DIRECT_MAXS 16 /* most splits the DIRECT variant merges (kernels/attn_combine.wgsl U) */
/* Mat-vecs with a residual prologue (not the GeGLU pair, which has its own 256) in workgroups of
 * 256 instead of matvec_cfg.c's 128: every workgroup repeats the prologue, and half as many of
 * them took 20-35 us off an H100 decode step (64: +150 us, 512: no gain; docs/PERF.md) */
#define MV_PRO_WG 256
#define MV_ATTN_WG 256 /* ... and that of the mat-vec that merges the attention's splits (PRO_ATTN) */
#define NORM_WG 256
#define ATTN_TARGET_WG 256 /* split the keys until a pass has about this many attention workgroups (MAXS) */
#define ATTN_TILED_MIN_T 16 /* passes of at least this many slots use the tiled attention kernel */
#define ATTN_TILED_SPLITS 4 /* split-K partials per slot of 512-dim heads that the partial buffer holds */
#define SMALL_WG 64
#define MATVEC_MAX_TOK 8  /* up to this many slots use the mat-vec kernel, more use mat-mat */
#define ARGMAX_SLICES 128 /* first pass of the greedy pick: slices per logit row */
#define TOPK_WG 256
#define SMX_SPLIT_GROUPS 384 /* the integer matmul splits K until a product has this many workgroups (about 3 an SM of an H100: a 96-workgroup product in 4 slices fills 2.9 waves of 132, in 3 only 2.2) */
#define SMX_SPLIT_BELOW 128 /* ... when it has fewer than this many without splitting (RULLAMA_TUNE smxkb, smxk; a 512-token e2b prefill on an H100: 44.0 ms against 45.7 with the 96-workgroup products whole and the rest split to 264, 45.5 with 8 slices; docs/PERF.md) */
#define SMX_MAX_SLICES 8
#define TOPK_EPT 32       /* logits per invocation in the top-k kernel's first pass */

typedef struct {
    uint32_t buffer;
    uint64_t offset; /* bytes within buffer (256-aligned) */
    uint64_t size;
} placed;

/* A matrix packed for the integer matmul (kernels/smx_pack.wgsl): its tiles and row scales within an arena,
 * in 32-bit words, and the rows from it to the end of its packed run (q|k|v, gate|up: one taller matrix) */
typedef struct {
    uint32_t buffer, tile_word, scale_word, run_rows;
} smx_placed;

typedef struct {
    uint32_t pos0, n_tok, pad0, pad1;
} gpu_step;

/* A residual step: h' = (h + RMSNorm(x; w1)) * scale [scale optional], then
 * with next xn = RMSNorm(h'; next). x is b_x, h is b_h. It runs as a norm pass
 * of its own (gpu_residual) or, with one slot, as the next mat-vec's prologue
 * (kernels/matvec.wgsl PRO_RES), which writes h' to b_h_alt (then the two
 * swap) and, with next, xn to b_xn (its own input is xn, else h'). */
typedef struct {
    const gguf_tensor *w1, *scale, *next;
} gpu_prologue;
/* w1 NULL (with next set): no residual yet, only xn = RMSNorm(h; next) (a pass's first
 * pre-norm, on the first mat-vec's prologue). A pending prologue has w1 or next set. */
static inline int gpu_prologue_pending(const gpu_prologue *p) { return p->w1 || p->next; }

/* Limbs of one slot's activations in b_dl (kernels/limbs.wgsl LIMBS_FLAT), written by the
 * pass that made them for the product that reads them next (matvec.wgsl XLIMBS): of the
 * `cols` floats at buf/off; per_block, a scale per 32-column block and block sums after the
 * limbs (the gate|up pair's LIMBS_OUT), else one scale in b_dlf (a norm's). buf 0: none.
 * Set by the producer, cleared by the next weight product whether it reads them or not. */
typedef struct {
    uint32_t buf, off, cols, per_block;
} gpu_dlimbs;
enum { XL_HEAD = 1, XL_DOWN = 2 };

/* Workgroup bytes of matmul_smx: its staged activations (two stages of ks blocks, each 4 nl
 * fragments of 16 tokens st words apart: kernels/matmul_smx.wgsl KS, ST) or, if larger, the
 * epilogue's scratch in the same memory (8 subgroups, nl fragments of 16 rows 20 words apart) */
static inline uint32_t gpu_smx_stage_bytes(uint32_t ks, uint32_t st, uint32_t nl) {
    const uint32_t stage = 2 * ks * 4 * nl * 16 * st * 4, scratch = 8 * nl * 16 * 20 * 4;
    return stage > scratch ? stage : scratch;
}

/* The SGMIN define's value: the device's smallest subgroup, at least 4 (kernels/reduce.wgsl) */
static inline uint32_t gpu_sgmin(const rl_gpu_caps *c) { return c->subgroup_min >= 4 ? c->subgroup_min : 4; }

/* A decode step's recorded body (embeddings through the last layer; a greedy
 * step's LM head and argmax passes too), kept for replay: key is
 * gpu_attention_key's with the greedy flag, the only parts of the body that
 * change with the position or the pass (engine.c step_body_record). */
#define STEP_CACHE 4
typedef struct {
    uint64_t key;
    uint32_t h_in;         /* b_h when it was recorded (fused residuals swap b_h and b_h_alt) */
    uint32_t h_out, h_alt_out;
    gpu_dlimbs dl_out;     /* the limbs its last pass left for the LM head (gpu_dlimbs): replay leaves them too */
    uint32_t *words;
    size_t n_words;
    uint32_t n_dispatch;
} step_body;


struct rl_gpu_engine {
    rl_model_file mf;
    const rl_model *m;
    rl_gpu_device *dev;
    placed *where;    /* per tensor index: weight placement (buffer 0 = not on the GPU) */
    uint32_t *vec_at; /* per tensor index: float offset in the vec buffer (1-D F32 tensors) */
    uint32_t vec_buf;
    uint32_t ple_chunk[4];
    uint32_t ple_rows_per_chunk;
    uint64_t upload_bytes;
    /* activations */
    /* h: residual stream; xn: the next mat-vec's normed input; x: mat-vec outputs that feed a residual;
     * q: [q | k | v] per slot; f: [gate | up] per slot */
    uint32_t b_step, b_ids, b_h, b_x, b_xn, b_q, b_o, b_part, b_f, b_ple, b_logits, b_argpart, b_argmax,
        b_dummy;
    uint32_t b_h_alt;      /* the residual stream's other buffer: fused residual steps write h' there, then swap */
    gpu_prologue pend;     /* a residual step the next layer's first mat-vec takes over (gpu_prologue_pending) */
    /* mixture of experts: router logits, chosen ids and weights, expert input, gate|up, outputs */
    uint32_t b_router, b_eids, b_ewts, b_x2, b_egu, b_eout;
    uint32_t b_tkpart, b_tkout;
    /* the integer tensor-core matmul (kernels/smx_pack.wgsl, act_limbs.wgsl, matmul_smx.wgsl): activation
     * limbs and scales for up to smx_cols inputs, whether it runs (smx; 0: the f32 matmul), the packed
     * weights per tensor index (smx_where, buffer 0: not packed) and their bytes */
    uint32_t b_xl, b_xf, smx, smx_cols;
    smx_placed *smx_where;
    uint64_t smx_bytes;
    int smx_on, smx_emu;   /* on where the device offers it (RULLAMA_TUNE smx=0: off); smx=2: the emulated variant
                            * on any device (tests) */
    uint32_t smx_min_rows; /* RULLAMA_TUNE smxr=N: only matrices of at least N rows */
    int smx_label;         /* RULLAMA_TUNE smxlabel=1: profile lines per product shape */
    uint64_t smx_budget;   /* RULLAMA_TUNE smxmax=MiB: most bytes packed (with smx_budget_set; default the model's own) */
    int smx_budget_set;
    uint32_t smx_nl;       /* activation limbs: 3, or 2 (RULLAMA_TUNE smxlimbs=2; kernels/limbs.wgsl LIMBS2) */
    uint32_t smx_ks, smx_st; /* the activations' staging (smx_plan: 2 blocks, 12 words where the memory allows;
                              * RULLAMA_TUNE smxks=N, smxst=8|12) */
    uint32_t smx_groups;   /* split K until a product has this many workgroups (RULLAMA_TUNE smxk=N; 0: never) */
    uint32_t smx_split_below; /* ... but only products of fewer workgroups than this (smxkb=N) */
    uint32_t b_smx_part, smx_part_floats, p_split_sum; /* split-K slices' outputs, their room, the sum kernel */
    uint32_t p_norm_limbs; /* norm.wgsl LIMBS: a residual step that also writes its output's limbs */
    uint32_t limbs_buf, limbs_off, limbs_cols; /* b_xl / b_xf hold the limbs of these activations (a norm wrote
                                                * them for the next product), limbs_tok slots; buf 0: none */
    int limbs_tok;
    int ple_on_host;              /* table rows uploaded per step into b_ple_rows (row ids 0..T-1) */
    int mv_lc, mv_wvec, mv_unroll, mv_wg, mv_steps; /* RULLAMA_TUNE overrides of the mat-vec variant
                                                     * (0 / -1 / -1 / 0 / 0: the planner's) */
    int head_wg, head_tpr, head_rpt, head_unroll; /* RULLAMA_TUNE head=WGxTPRxRPT[,headu=1]: the LM head's
                                                   * one-slot mat-vec variant (0: the planner's) */
    int mv_threads;               /* RULLAMA_TUNE mvt=N: the fewest threads a mat-vec gets (0: MV_MIN_THREADS) */
    int mv_pro_wg;                /* the workgroup size of mat-vecs with a residual prologue but no GeGLU pair
                                   * (q|k|v, the per-layer-embedding gate): MV_PRO_WG, or RULLAMA_TUNE pwg=N
                                   * (0: matvec_cfg.c's, as for the others) */
    int mv_idot;                  /* a Q4_K GeGLU pair (gate|up) with a residual prologue uses integer dot
                                   * products (kernels/matvec.wgsl IDOT; RULLAMA_TUNE idot=0: off) */
    int mv_xl;                    /* one-slot products whose input's producer wrote its limbs use integer dot
                                   * products (matvec.wgsl XLIMBS): XL_HEAD the LM head (after the last
                                   * residual's norm), XL_DOWN the MLP's down (after the gate|up pair);
                                   * RULLAMA_TUNE xl=N sets the bits (default none) */
    uint32_t b_dl, b_dlf, p_norm_dlimbs; /* those limbs (limbs.wgsl LIMBS_FLAT, one slot; with a scale per block
                                          * and block sums after them), a norm's one scale, norm.wgsl's variant */
    gpu_dlimbs dl;                /* what b_dl holds, for the next product only (gpu_dlimbs) */
    int attn_splits, attn_hc, attn_kb; /* RULLAMA_TUNE: decode attention's most key splits, heads and keys
                                        * per block (0: ATTN_DEC_SPLITS, ATTN_HC, ATTN_DEC_KB) */
    int attn_noprep;                   /* RULLAMA_TUNE prep=0: q, k, v prepared in a pass of their own */
    int mv_attn_wg;                    /* the mat-vec merging attention splits (PRO_ATTN): its workgroup size
                                        * (RULLAMA_TUNE awg=N; default MV_ATTN_WG) */
    int attn_npv, attn_fuse, attn_fuse_blocks; /* RULLAMA_TUNE npv=N, fuse=N (0: off), fuseb=N: ATTN_FUSE_NPV
                                                * (ATTN_DEC_NPV with fuse=0), ATTN_FUSE_SPLITS, ATTN_FUSE_BLOCKS */
    uint32_t combine_wg, combine_dw;   /* attn_combine's grouped variant (RULLAMA_TUNE cwg=N, cdw=N) */
    uint32_t b_ple_rows, b_ple_rowids; /* top-k candidates: slice winners, then the sorted K */
    uint32_t top_k, *top_pairs; /* set while eval_top records: where the K pairs land */
    uint32_t top_buf[2 * RL_GPU_TOP_K_MAX];
    float *top_vals;
    int32_t *top_ids;
    uint32_t *kc, *vc; /* per layer (0 for layers that read a donor's cache) */
    int *cap;
    int n_ctx, n_past, ubatch, rt_stride;
    int kv_hi;      /* one past the highest position ever written to the caches (rollbacks keep it) */
    int has_pick;   /* the last pass left its greedy pick in b_ids[0] (a chained step's token) */
    /* host staging for per-step writes */
    uint8_t *step_rows; /* b_step's bytes for a pass: the gpu_step header, then RoPE rows from rope_off */
    uint32_t rope_off;
    double *rope_freq; /* per table pair: angle per position and its rope_freqs divisor (rope_freq_table) */
    uint32_t *ids_rows;
    step_body bodies[STEP_CACHE]; /* decode step bodies for replay; the oldest goes first */
    uint32_t n_bodies, next_body;
    int prefill_lists;            /* PREFILL_LISTS, or RULLAMA_TUNE lists=N */
    int mm_tm, mm_tn;             /* RULLAMA_TUNE mmt=TMxTN: the matmul tile where it fits (0: the planner's) */
    int mm_bk;                    /* RULLAMA_TUNE mmbk=8|16|32: the matmul's K step where its tiles fit (0: the planner's) */
    int mm_min_groups;            /* RULLAMA_TUNE mmg=N: the prefill matmul's tile keeps N workgroups (0: MM_MIN_GROUPS) */
    int combine_grouped;          /* RULLAMA_TUNE combine=0: prefill merges its splits with decode's attn_combine */
    int no_replay;                /* RULLAMA_TUNE replay=0: record every step (bench's A/B) */
    int q6_raw;                   /* RULLAMA_TUNE q6pad=0: Q6_K stays in 210-byte blocks on the GPU (A/B) */
    int no_two_types;             /* RULLAMA_TUNE two=0: a v of another type than q|k gets its own mat-vec (A/B) */
    uint32_t repack_stage;        /* RULLAMA_TUNE q6stage=KiB: the repack's staging size (tests; 0: REPACK_STAGE) */
    uint64_t replays;             /* steps replayed (tests) */
    /* pipelines */
    uint32_t p_norm, p_prep, p_combine, p_combine_direct, p_glu, p_ple, p_argmax, p_route, p_moe_combine, p_topk;
    uint32_t p_limbs, p_limbs_glu; /* act_limbs (and its GeGLU variant), when the integer matmul is on (smx) */
};

/* An activation operand: a buffer, the float offset of slot 0, floats between slots. */
typedef struct {
    uint32_t buf, off, stride;
} act;

/* Slots (token x split) of n_head partial rows that the split-K buffer b_part holds. */
static inline uint64_t attn_part_slots(uint64_t ubatch) {
    const uint64_t decode = ATTN_TARGET_WG + ubatch, tiled = ATTN_TILED_SPLITS * ubatch;
    return decode > tiled ? decode : tiled;
}

static inline uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

typedef struct {
    uint32_t n, groups, x_off, x_stride, y_off, y_stride, w_off, s_off, flags;
    float eps, in_scale;
    uint32_t nw_off;
} norm_params;
enum { NF_WEIGHT = 1, NF_RESIDUAL = 2, NF_SCALE = 4, NF_IN_PLACE = 8, NF_NEXT = 16 };

typedef struct {
    uint32_t n, mode, a_off, a_stride, y_off, y_stride, pad0, pad1;
} glu_params;

/* placement.c */
/* K slices of an integer-matmul product of `rows` rows, nb 32-column blocks and T tokens (tiles of 128 x 64):
 * enough for e->smx_groups workgroups, at least 8 blocks a slice, at most SMX_MAX_SLICES */
static inline uint32_t gpu_smx_slices(const rl_gpu_engine *e, uint32_t rows, uint32_t nb, uint32_t T) {
    const uint32_t groups = (rows + 127) / 128 * ((T + 63) / 64);
    if (!e->smx_groups || groups >= e->smx_groups || groups >= e->smx_split_below) return 1;
    uint32_t s = (e->smx_groups + groups - 1) / groups;
    if (s > nb / 8) s = nb / 8;
    if (s > SMX_MAX_SLICES) s = SMX_MAX_SLICES;
    return s ? s : 1;
}

rl_status gpu_place_weights(rl_gpu_engine *e, rl_error *err);
/* the weights' copies for the integer matmul (e->smx), made on the GPU from the placed ones */
rl_status gpu_pack_smx(rl_gpu_engine *e, rl_error *err);
/* GPU weight layout: Q6_K blocks are padded to 224 bytes there, repacked at load
 * (kernels/quant.wgsl Q6K_PAD, kernels/repack.wgsl); every other type keeps the
 * file's bytes. Row and tensor sizes in GPU memory, and the define a weight
 * kernel of `type` needs next to its TYPE_ one. */
uint64_t gpu_row_bytes(const rl_gpu_engine *e, uint32_t type, uint64_t cols);
uint64_t gpu_tensor_bytes(const rl_gpu_engine *e, const gguf_tensor *t);
const char *gpu_layout_def(const rl_gpu_engine *e, uint32_t type);
uint32_t gpu_vec_off(const rl_gpu_engine *e, const gguf_tensor *t);
rl_gbind gpu_wbind(const rl_gpu_engine *e, const gguf_tensor *t);
int gpu_adjacent(const rl_gpu_engine *e, const gguf_tensor *a, const gguf_tensor *b);

/* record.c: one dispatch (or two) each */
rl_status gpu_matmul(rl_gpu_engine *e, const gguf_tensor *W, uint32_t rows, act x, act y, int T, float softcap,
                     const act *geglu, rl_error *err);
/* The same with a residual prologue when pro is non-NULL (T == 1: x is ignored,
 * the input is the prologue's; see gpu_prologue) */
rl_status gpu_matmul_pro(rl_gpu_engine *e, const gguf_tensor *W, uint32_t rows, act x, act y, int T,
                         const act *geglu, const gpu_prologue *pro, rl_error *err);
/* One slot through [Wa's rows_a rows; Wb's rows_b rows] of two weight types in one mat-vec
 * (kernels/matvec.wgsl TWO_TYPES), when gpu_can_two_types: Wb sits in Wa's buffer after
 * a_last (the end of Wa's run) with the same width */
int gpu_can_two_types(const rl_gpu_engine *e, const gguf_tensor *a_last, const gguf_tensor *b, int T);
rl_status gpu_matvec_two(rl_gpu_engine *e, const gguf_tensor *Wa, uint32_t rows_a, const gguf_tensor *Wb,
                         uint32_t rows_b, act x, act y, const gpu_prologue *pro, rl_error *err);
/* act_limbs.wgsl's pipeline for the engine's limbs (GLU: the GeGLU variant; label: a
 * LABEL_ define for a profile line of its own, or NULL) */
uint32_t gpu_limbs_pipeline(rl_gpu_engine *e, int glu, const char *label, rl_error *err);
/* Whether the integer matmul takes y = W x over `rows` rows for T slots; then
 * gpu_matmul_glu takes y = W (gelu(g) * m), the GeGLU made by its limbs pass
 * (kernels/act_limbs.wgsl GLU) instead of a pass of its own */
int gpu_smx_takes(const rl_gpu_engine *e, const gguf_tensor *W, uint32_t rows, int T);
rl_status gpu_matmul_glu(rl_gpu_engine *e, const gguf_tensor *W, uint32_t rows, act g, act m, act y, int T,
                         rl_error *err);
/* Whether a residual step can ride on the next mat-vec of a T-slot pass */
int gpu_can_fuse_residual(const rl_gpu_engine *e, int T);
/* y = gelu(gate x) * (up x) in one mat-vec pass (T <= MATVEC_MAX_TOK); up's F rows follow gate's */
rl_status gpu_gate_up_geglu(rl_gpu_engine *e, const gguf_tensor *gate, uint32_t F, act x, act y, int T,
                            const gpu_prologue *pro, int limbs_out, rl_error *err);
/* Whether a one-slot product y = W x (W's type, its input from a producer that can write limbs)
 * takes x as limbs (matvec.wgsl XLIMBS) under the engine's xl bits `which` (XL_HEAD, XL_DOWN):
 * what to ask of the producer (gpu_residual's limbs = 2, gpu_gate_up_geglu's limbs_out) */
int gpu_xl_takes(const rl_gpu_engine *e, const gguf_tensor *W, int T, int which);
rl_status gpu_norm(rl_gpu_engine *e, uint32_t x_buf, uint32_t y_buf, norm_params p, int T, rl_error *err);
/* limbs: the step's output also as limbs for the product that reads it next: 1 the integer matmul's
 * (prefill), 2 a one-slot mat-vec's (XLIMBS: decode's LM head) */
rl_status gpu_residual(rl_gpu_engine *e, const gpu_prologue *r, int T, int limbs, rl_error *err);
rl_status gpu_glu(rl_gpu_engine *e, uint32_t a_buf, uint32_t y_buf, glu_params p, int T, rl_error *err);
rl_status gpu_attn_prep(rl_gpu_engine *e, int li, int T, uint32_t qs, rl_error *err);
/* *fused: the key splits left unmerged for the attention output's mat-vec (gpu_matvec_attn), else 0 */
rl_status gpu_attention(rl_gpu_engine *e, int li, int T, uint32_t q_stride, uint32_t *fused, rl_error *err);
/* y = W x, x being the attention's n_split unmerged partials of head size hd (matvec.wgsl PRO_ATTN) */
rl_status gpu_matvec_attn(rl_gpu_engine *e, const gguf_tensor *W, uint32_t rows, uint32_t hd, uint32_t n_split,
                          act y, rl_error *err);
/* A hash of every layer's attention plan for T slots at the current n_past:
 * equal keys record equal attention commands */
uint64_t gpu_attention_key(const rl_gpu_engine *e, int T);
/* Whether gpu_attention prepares q, k, v itself (then gpu_attn_prep is not recorded) */
int gpu_attention_preps(const rl_gpu_engine *e, int li, int T);

/* layer.c */
rl_status gpu_layer(rl_gpu_engine *e, int li, int T, rl_error *err);

#endif
