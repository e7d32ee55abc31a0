/* GGUF reader (v2, v3). Parses the header (metadata + tensor infos) from the
 * leading bytes of a file; tensor data is never touched. Every read is bounds
 * checked; malformed input yields an error naming what and where. */
#ifndef RL_GGUF_H
#define RL_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef enum {
    GGUF_U8 = 0, GGUF_I8 = 1, GGUF_U16 = 2, GGUF_I16 = 3, GGUF_U32 = 4, GGUF_I32 = 5,
    GGUF_F32 = 6, GGUF_BOOL = 7, GGUF_STRING = 8, GGUF_ARRAY = 9, GGUF_U64 = 10,
    GGUF_I64 = 11, GGUF_F64 = 12,
    GGUF_TYPE_COUNT
} gguf_vtype;

typedef struct {
    const char *ptr; /* points into the parser's copy of the header; NOT NUL-terminated */
    uint64_t len;
} gguf_str;

typedef struct {
    gguf_str key;
    gguf_vtype type;       /* value type; GGUF_ARRAY for arrays */
    gguf_vtype elem_type;  /* element type when type == GGUF_ARRAY; equal to type for scalars */
    uint64_t count;        /* array length (1 for scalars) */
    const uint8_t *data;   /* scalar/array payload (little-endian, unaligned) */
    const gguf_str *strs;  /* string values (scalar string: strs[0]); NULL otherwise */
} gguf_kv;
/* Arrays of arrays are rejected (RL_ERR_UNSUPPORTED): no GGUF writer we read emits them. */

#define GGUF_MAX_DIMS 4

typedef struct {
    gguf_str name;
    uint32_t n_dims;
    uint64_t ne[GGUF_MAX_DIMS]; /* unused dims are 1 */
    uint32_t type;              /* ggml type id (see quant.h) */
    uint64_t offset;            /* relative to data section start */
    uint64_t nbytes;            /* computed from type and shape */
} gguf_tensor;

typedef struct gguf_file {
    uint32_t version;
    uint64_t n_kv, n_tensors;
    gguf_kv *kv;
    gguf_tensor *tensors;
    uint32_t alignment;   /* general.alignment or 32 */
    uint64_t header_size; /* bytes of header before padding */
    uint64_t data_offset; /* absolute file offset of the data section */
    uint64_t file_size;   /* as given to the parser (0 = unknown: no end checks) */
    /* internals */
    uint8_t *buf;         /* owned copy of the header bytes */
    gguf_str *str_pool;   /* owned storage for string values */
    uint32_t *kv_slots;   /* open-addressing name index: entry index + 1, 0 = empty */
    uint32_t *tensor_slots;
    uint64_t kv_mask, tensor_mask; /* slot count - 1 (power of two) */
} gguf_file;

/* Sanity limits that make hostile headers fail fast instead of allocating. */
#define GGUF_MAX_HEADER_BYTES ((uint64_t)1 << 30)  /* 1 GiB of metadata */
#define GGUF_MAX_KV ((uint64_t)1 << 20)
#define GGUF_MAX_TENSORS ((uint64_t)1 << 20)
#define GGUF_MAX_STRING ((uint64_t)1 << 26)
#define GGUF_MAX_ARRAY ((uint64_t)1 << 28)         /* elements in one metadata array */

/* Parse a header from the first len bytes of a file of file_size bytes.
 * Returns RL_OK and a new gguf_file in *out; or RL_NEED_MORE with *need set to
 * a byte count to retry with (the host reads more and calls again); or an error.
 * The buffer is copied; the caller may free it afterwards.
 * file_size 0 means unknown: then nothing is checked against the end of the file
 * (tensor data placement included) and a short prefix always gives RL_NEED_MORE.
 * With a known size, a structure that runs past it is RL_ERR_TRUNCATED, as is
 * tensor data past it; bytes of buf beyond file_size are ignored. *need is at
 * least the exact minimum known so far and usually about twice len (so a host
 * loop takes O(log n) rounds), never above file_size or GGUF_MAX_HEADER_BYTES;
 * it is 0 unless RL_NEED_MORE. need and err may be NULL. Counts are checked
 * against the bytes present before anything is allocated for them, so memory
 * stays O(len). */
rl_status gguf_parse(const uint8_t *buf, size_t len, uint64_t file_size, gguf_file **out,
                     uint64_t *need, rl_error *err);
void gguf_free(gguf_file *g);

/* Lookups. Keys compare byte-exactly. */
const gguf_kv *gguf_find_kv(const gguf_file *g, const char *key);
const gguf_tensor *gguf_find_tensor(const gguf_file *g, const char *name);
int gguf_str_eq(gguf_str s, const char *c);

/* Typed getters with integer/float coercion where lossless. Return RL_ERR_NOT_FOUND
 * if absent, RL_ERR_FORMAT (message names the key and the type found) on mismatch. */
rl_status gguf_get_u32(const gguf_file *g, const char *key, uint32_t *out, rl_error *err);
rl_status gguf_get_f32(const gguf_file *g, const char *key, float *out, rl_error *err);
rl_status gguf_get_bool(const gguf_file *g, const char *key, int *out, rl_error *err);
rl_status gguf_get_str(const gguf_file *g, const char *key, gguf_str *out, rl_error *err);

/* Array element access; kv must be an array of a numeric/bool/string type. A scalar
 * reads as an array of one element. Check elem_type and count first: an index out
 * of range or an element of the wrong kind gives 0 (or an empty string); u64
 * values above INT64_MAX read as INT64_MAX. */
int64_t gguf_arr_int(const gguf_kv *kv, uint64_t i);  /* any integer/bool element */
double gguf_arr_f64(const gguf_kv *kv, uint64_t i);   /* any numeric/bool element */
gguf_str gguf_arr_str(const gguf_kv *kv, uint64_t i); /* string element */

const char *gguf_vtype_name(gguf_vtype t);

#endif
