/* Small wasm exports used by the Node and browser test suites to reach C
 * reference code directly (block formats, WGSL assembly). */
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "gpu/matvec_cfg.h"
#include "gpu/wgsl.h"
#include "platform/wasm.h"
#include "quant.h"

/* Dequantize n values of `type` from src into dst; returns 0, or -1 if unsupported. */
RL_EXPORT(rl_test_dequant) int rl_test_dequant(uint32_t type, const void *src, float *dst, uint32_t n) {
    const rl_type_info *t = rl_type_get(type);
    if (!t || !t->dequant || n % t->block_size) return -1;
    t->dequant(src, dst, n);
    return 0;
}

RL_EXPORT(rl_test_quantize) int rl_test_quantize(uint32_t type, const float *src, void *dst, uint32_t n) {
    const rl_type_info *t = rl_type_get(type);
    if (!t || !t->quantize || n % t->block_size) return -1;
    t->quantize(src, dst, n);
    return 0;
}

/* Row size in bytes of n values of type (0 if n is not a multiple of the block). */
RL_EXPORT(rl_test_row_bytes) uint32_t rl_test_row_bytes(uint32_t type, uint32_t n) { return (uint32_t)rl_row_bytes(type, n); }

/* Fused dot product of one row with x (the CPU engine's mat-vec primitive). */
RL_EXPORT(rl_test_dot) float rl_test_dot(uint32_t type, const void *row, const float *x, uint32_t n) {
    const rl_type_info *t = rl_type_get(type);
    return t && t->dot ? t->dot(row, x, n) : 0.0f;
}

/* Build WGSL from comma-separated embedded file names and defines; returns a
 * malloc'd NUL-terminated string (caller frees), or NULL with the error text
 * written to err (cap bytes). */
RL_EXPORT(rl_test_wgsl) char *rl_test_wgsl(const char *files_csv, const char *defines_csv, char *errbuf, uint32_t cap) {
    char *fcopy = strdup(files_csv), *dcopy = strdup(defines_csv ? defines_csv : "");
    const char *files[16] = {0}, *defs[32] = {0};
    int nf = 0, nd = 0;
    for (char *t = strtok(fcopy, ","); t && nf < 15; t = strtok(NULL, ",")) files[nf++] = t;
    char *save = NULL;
    for (char *t = strtok_r(dcopy, ",", &save); t && nd < 31; t = strtok_r(NULL, ",", &save)) defs[nd++] = t;
    strbuf sb;
    sb_init(&sb);
    rl_error err = {0};
    char *out = NULL;
    if (rl_wgsl_build(files, defs, &sb, &err) == RL_OK) out = sb_take(&sb);
    else if (errbuf && cap) {
        strncpy(errbuf, err.msg, cap - 1);
        errbuf[cap - 1] = '\0';
    }
    sb_free(&sb);
    free(fcopy);
    free(dcopy);
    return out;
}

/* Kernel variant choice (src/gpu/matvec_cfg.h) for a device with the given
 * limits: out[0..2] = WG, ROWS, NT of the mat-vec, out[3..5] = TM, TN, BK of
 * the matmul, out[6..11] = RPT, XS, LC, WVEC, STEPS and elements per chunk of
 * the mat-vec (12 words). */
RL_EXPORT(rl_test_matvec_config)
void rl_test_matvec_config(uint32_t type, uint32_t rows, uint32_t cols, uint32_t n_tok, uint32_t max_invocations,
                           uint32_t max_wg_storage, uint32_t *out) {
    rl_gpu_caps caps = {0};
    caps.max_invocations = max_invocations;
    caps.max_wg_storage = max_wg_storage;
    rl_matvec_variant v;
    rl_matvec_config(type, rows, cols, n_tok, &caps, &v);
    out[0] = v.wg, out[1] = v.rows, out[2] = v.nt, out[6] = v.rpt, out[7] = v.xs, out[8] = v.lc, out[9] = v.wvec, out[10] = v.steps;
    out[11] = rl_matvec_chunk(type);
    rl_matmul_config(rows, n_tok, &caps, 0, &out[3], &out[4], &out[5]);
}
