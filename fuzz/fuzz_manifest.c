/* libFuzzer target for the manifest parser (rl_manifest_parse) and the model
 * name parser. Invariants checked on success: every digest passes
 * rl_digest_valid and yields a blob path inside <root>/blobs, media types are
 * non-empty, and sizes are integers a double holds exactly. A parsed name
 * must format and re-parse to itself, with no part able to leave the store. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ollama.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_layer(const rl_manifest_layer *l) {
    if (!rl_digest_valid(l->digest) || !l->media_type[0] || l->size > (1ull << 53)) abort();
    char *path = NULL;
    if (rl_blob_path("/root", l->digest, &path, NULL) != RL_OK) abort();
    if (strncmp(path, "/root/blobs/sha256-", 19) || strlen(path) != 19 + 64 || strchr(path + 19, '/')) abort();
    free(path);
}

static void check_name(const uint8_t *data, size_t size) {
    char spec[600];
    if (size >= sizeof spec) return;
    memcpy(spec, data, size);
    spec[size] = '\0';
    rl_model_name n, n2;
    rl_error err = {0};
    if (rl_model_name_parse(spec, &n, &err) != RL_OK) return;
    const char *parts[4] = {n.host, n.ns, n.model, n.tag};
    for (int i = 0; i < 4; i++)
        if (!parts[i][0] || parts[i][0] == '.' || strchr(parts[i], '/') || rl_model_name_part_problem(i, parts[i], strlen(parts[i])))
            abort();
    char full[1024];
    rl_model_name_format(&n, full, sizeof full);
    if (rl_model_name_parse(full, &n2, &err) != RL_OK || memcmp(&n, &n2, sizeof n)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rl_manifest m;
    rl_error err = {0};
    if (rl_manifest_parse((const char *)data, size, "fuzz", &m, &err) == RL_OK) {
        check_layer(&m.config);
        for (size_t i = 0; i < m.n_layers; i++) check_layer(&m.layers[i]);
        rl_manifest_free(&m);
    } else if (strncmp(err.msg, "manifest fuzz: ", 15)) {
        abort();
    }
    check_name(data, size);
    return 0;
}
