/* Opening a model file: read the GGUF header through the host (growing the
 * prefix as the parser asks), bind it as gemma4, and give access to tensor
 * bytes — mapped natively, loaded into memory in wasm, or gathered row by row
 * from the file for tables too large to hold (the per-layer-embedding table). */
#ifndef RL_MODEL_FILE_H
#define RL_MODEL_FILE_H

#include <stdint.h>

#include "core/err.h"
#include "core/host.h"
#include "gguf.h"
#include "model.h"

typedef struct rl_model_file {
    rl_host *host;
    int fd;
    uint64_t size;
    char *path;
    gguf_file *gguf;
    rl_model model;
    /* tensor data: either one mapping of the whole data section, or per-tensor buffers */
    const uint8_t *mapped;     /* base of the data section, or NULL */
    uint64_t mapped_len;
    uint8_t **loaded;          /* per tensor index, NULL if not loaded */
} rl_model_file;

/* Open and bind. Header only: no tensor data is read except rope_freqs. */
rl_status rl_model_file_open(rl_host *h, const char *path, rl_model_file *mf, rl_error *err);
void rl_model_file_close(rl_model_file *mf);

/* Make the text model's tensors addressable for the CPU engine: map the file if
 * the host can, else read each text tensor into memory. Tensors listed as
 * row-gathered (per_layer_token_embd) stay on disk when not mapped. */
rl_status rl_model_file_load_text(rl_model_file *mf, rl_error *err);

/* Pointer to a tensor's bytes, or NULL if not resident. */
const uint8_t *rl_tensor_data(const rl_model_file *mf, const gguf_tensor *t);
/* Dequantize row `row` (of ne[0] elements) of a 2-D tensor into dst, from
 * memory if resident, else by reading the row from the file. */
rl_status rl_tensor_row_f32(const rl_model_file *mf, const gguf_tensor *t, uint64_t row, float *dst, rl_error *err);

#endif
