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

typedef struct {
    char host[256], ns[256], model[256], tag[256];
} rl_model_name;

/* Parse "gemma4", "gemma4:e2b", "library/gemma4:e4b", "registry.ollama.ai/library/gemma4:e2b".
 * Fills defaults (registry.ollama.ai, library, latest). Rejects empty parts,
 * path traversal ("..", leading "/"), and characters Ollama does not allow. */
rl_status rl_model_name_parse(const char *spec, rl_model_name *out, rl_error *err);
/* "host/ns/model:tag" */
void rl_model_name_format(const rl_model_name *n, char *out, size_t cap);

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
} rl_model_ref;

/* The store root: $OLLAMA_MODELS if set and non-empty, else $HOME/.ollama/models. */
rl_status rl_ollama_root(rl_host *h, char *out, size_t cap, rl_error *err);

/* Resolve spec: an existing regular file path (GGUF or blob) is used as is;
 * otherwise spec is a model name looked up under root (exact path first, then a
 * case-insensitive scan). Errors: unknown model (message lists the models that
 * are available), malformed manifest, missing blob, bad digest. */
rl_status rl_model_resolve(rl_host *h, const char *root, const char *spec, rl_model_ref *out, rl_error *err);
void rl_model_ref_free(rl_model_ref *r);

typedef struct {
    char name[1024];       /* "gemma4:e2b" shortened like `ollama list` (defaults dropped) */
    char full_name[1024];  /* "registry.ollama.ai/library/gemma4:e2b" */
    char digest[80];       /* model layer digest */
    uint64_t size;         /* sum of layer sizes */
} rl_model_entry;

/* List models under root (4 path levels below manifests/). Manifests that fail
 * to parse are skipped. *out is malloc'd; free with free(). */
rl_status rl_ollama_list(rl_host *h, const char *root, rl_model_entry **out, size_t *n, rl_error *err);

/* Is "sha256:<64 hex>" or "sha256-<64 hex>"? */
int rl_digest_valid(const char *d);

#endif
