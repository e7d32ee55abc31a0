/* Ollama's on-disk model store: name parsing, manifest resolution, listing.
 * All file access goes through rl_host, so the browser (which supplies
 * directory listings and file reads from a picked folder) resolves names with
 * the same code as Node. */
#ifndef RL_OLLAMA_H
#define RL_OLLAMA_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/host.h"

/* Part limits from Ollama's types/model/name.go: host 1..350 bytes, the others 1..80. */
#define RL_NAME_HOST_MAX 350
#define RL_NAME_PART_MAX 80

typedef struct {
    char host[RL_NAME_HOST_MAX + 1], ns[RL_NAME_PART_MAX + 1], model[RL_NAME_PART_MAX + 1], tag[RL_NAME_PART_MAX + 1];
} rl_model_name;

/* Parse "gemma4", "gemma4:e2b", "library/gemma4:e4b", "registry.ollama.ai/library/gemma4:e2b"
 * (an "http://" or "https://" before the host is dropped).
 * Fills defaults (registry.ollama.ai, library, latest). Rejects empty parts,
 * path traversal ("..", leading "/"), and characters Ollama does not allow:
 * every part starts with [A-Za-z0-9_] and continues with [A-Za-z0-9_.-]
 * (namespace: no '.'; host: ':' also allowed, for a port). */
rl_status rl_model_name_parse(const char *spec, rl_model_name *out, rl_error *err);
/* "host/ns/model:tag" */
void rl_model_name_format(const rl_model_name *n, char *out, size_t cap);
/* The short form `ollama list` prints: "model:tag", "ns/model:tag" when the
 * namespace is not "library", "host/ns/model:tag" when the host is not
 * registry.ollama.ai (defaults compared case-insensitively). */
void rl_model_name_display(const rl_model_name *n, char *out, size_t cap);
/* Validate one part (0 host, 1 namespace, 2 model, 3 tag); NULL if valid,
 * else a short reason. */
const char *rl_model_name_part_problem(int part, const char *s, size_t len);

/* ---- manifests (Docker distribution v2 schema, as Ollama writes them) ---- */

#define RL_MEDIA_TYPE_MAX 127

typedef struct {
    char media_type[RL_MEDIA_TYPE_MAX + 1];
    char digest[72];       /* "sha256:<64 hex>" or "sha256-<64 hex>", as written */
    uint64_t size;
} rl_manifest_layer;

typedef struct {
    rl_manifest_layer config;
    rl_manifest_layer *layers;
    size_t n_layers;
} rl_manifest;

/* Parse manifest JSON text (no file access, so it can be fuzzed). `where`
 * names the manifest in messages ("manifest <where>: layers[2].digest: ...").
 * Requires schemaVersion 2, a config object and a layers array whose entries
 * have a string mediaType, a valid digest and a non-negative integer size.
 * Unknown fields are ignored. Free with rl_manifest_free. */
rl_status rl_manifest_parse(const char *text, size_t len, const char *where, rl_manifest *out, rl_error *err);
void rl_manifest_free(rl_manifest *m);

/* Media types (gemma4.md §1.5). */
#define RL_MEDIA_MODEL "application/vnd.ollama.image.model"
#define RL_MEDIA_PROJECTOR "application/vnd.ollama.image.projector"
#define RL_MEDIA_PARAMS "application/vnd.ollama.image.params"
#define RL_MEDIA_TEMPLATE "application/vnd.ollama.image.template"
#define RL_MEDIA_PROMPT "application/vnd.ollama.image.prompt"
#define RL_MEDIA_SYSTEM "application/vnd.ollama.image.system"
#define RL_MEDIA_LICENSE "application/vnd.ollama.image.license"

/* Largest text layer (params/template/system/license) and config blob read. */
#define RL_TEXT_LAYER_MAX ((size_t)16 << 20)
/* Largest manifest file read (safetensors models list one layer per tensor). */
#define RL_MANIFEST_MAX ((size_t)16 << 20)

/* "<root>/blobs/sha256-<hex>" (malloc'd) for a valid digest. The hex is kept as
 * written, like Ollama; resolution also tries the lowercase form. */
rl_status rl_blob_path(const char *root, const char *digest, char **out, rl_error *err);

/* "7.2 GB": decimal units like `ollama list` (under 10 with one decimal unless
 * whole, 10 and above truncated to an integer, under 1000 bytes as "N B"). */
void rl_human_bytes(uint64_t bytes, char *out, size_t cap);

/* What a model reference resolves to. Paths are absolute or relative to the
 * current directory; text fields are the blob contents (NULL when absent). */
typedef struct {
    char *name;            /* canonical name, or NULL when resolved from a file path */
    char *model_path;      /* the GGUF (application/vnd.ollama.image.model) */
    uint64_t model_size;   /* from the manifest (or the file) */
    char *model_digest;    /* "sha256:..." or NULL for a path */
    char *projector_path;  /* application/vnd.ollama.image.projector, or NULL */
    char *params_json;     /* application/vnd.ollama.image.params */
    char *template_text;   /* application/vnd.ollama.image.template (or legacy .prompt) */
    char *system_text;     /* application/vnd.ollama.image.system */
    char *license_text;    /* application/vnd.ollama.image.license */
    char *config_json;     /* the manifest's config blob */
    char *renderer;        /* config "renderer" (e.g. "gemma4"), or NULL */
    char *parser;          /* config "parser", or NULL */
    char *model_family;    /* config "model_family" (e.g. "gemma4"), or NULL */
    char *architecture;    /* config "architecture" (e.g. "amd64"), or NULL */
    char *model_type;      /* config "model_type" (parameter count, e.g. "5.1B"), or NULL */
    char *file_type;       /* config "file_type" (e.g. "Q4_K_M"), or NULL */
    char *manifest_path;   /* the manifest file read, or NULL for a path */
} rl_model_ref;

/* The store root: $OLLAMA_MODELS if set and non-empty, else $HOME/.ollama/models. */
rl_status rl_ollama_root(rl_host *h, char *out, size_t cap, rl_error *err);

/* Resolve spec: an existing regular file path (GGUF or blob) is used as is;
 * otherwise spec is a model name looked up under root (exact path first, then a
 * case-insensitive scan). Requires exactly one model layer and at most one
 * projector; every referenced blob must exist (hex as written, then lowercase)
 * and have the manifest's size. Text layers and the config blob are read (at
 * most RL_TEXT_LAYER_MAX each); params must be a JSON object; later template/
 * system/params layers win, license layers are joined with a blank line, and a
 * legacy prompt layer is the template when there is no template layer.
 * Errors: unknown model (message lists the models that are available),
 * malformed manifest, missing blob (media type, digest, expected path), bad
 * digest, size mismatch, oversized text layer. */
rl_status rl_model_resolve(rl_host *h, const char *root, const char *spec, rl_model_ref *out, rl_error *err);
void rl_model_ref_free(rl_model_ref *r);

typedef struct {
    char name[1024];       /* "gemma4:e2b" shortened like `ollama list` (defaults dropped) */
    char full_name[1024];  /* "registry.ollama.ai/library/gemma4:e2b" */
    char digest[80];       /* model layer digest ("" if the manifest has none) */
    char manifest_digest[65]; /* SHA-256 of the manifest file (hex): `ollama list` shows its first 12 as ID */
    uint64_t size;         /* sum of layer sizes plus the config blob, as Ollama reports */
    char family[64];       /* config model_family, "" if unknown */
    char parameter_size[32]; /* config model_type, "" if unknown */
    char quantization[32]; /* config file_type, "" if unknown */
} rl_model_entry;

/* List models under root (4 path levels below manifests/), sorted by name.
 * Manifests that fail to parse or whose path is not a valid name are skipped.
 * A missing manifests/ directory is an empty store (RL_OK, *n = 0).
 * *out is malloc'd; free with free(). */
rl_status rl_ollama_list(rl_host *h, const char *root, rl_model_entry **out, size_t *n, rl_error *err);

/* Is "sha256:<64 hex>" or "sha256-<64 hex>"? */
int rl_digest_valid(const char *d);

#endif
