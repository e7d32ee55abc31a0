/* Ollama manifest JSON -> rl_manifest, digests and blob paths. Pure functions
 * of their input (no file access) so the parser can be fuzzed directly. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "ollama.h"

static int is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/* ^sha256[:-][0-9a-fA-F]{64}$, the pattern Ollama's BlobsPath accepts. */
int rl_digest_valid(const char *d) {
    if (!d || strncmp(d, "sha256", 6) || (d[6] != ':' && d[6] != '-')) return 0;
    for (int i = 0; i < 64; i++)
        if (!is_hex(d[7 + i])) return 0;
    return d[71] == '\0';
}

rl_status rl_blob_path(const char *root, const char *digest, char **out, rl_error *err) {
    *out = NULL;
    if (!rl_digest_valid(digest))
        return rl_fail(err, RL_ERR_FORMAT, "'%.80s' is not a sha256 digest (expected sha256:<64 hex digits>)", digest);
    size_t n = strlen(root) + sizeof "/blobs/sha256-" + 64;
    char *p = malloc(n);
    if (!p) return rl_fail(err, RL_ERR_NOMEM, "cannot allocate a blob path");
    snprintf(p, n, "%s/blobs/sha256-%s", root, digest + 7);
    *out = p;
    return RL_OK;
}

/* Messages: "manifest <where>: <field>: <what>". */
#define MF_FAIL(code, ...) manifest_fail(err, code, where, __VA_ARGS__)
static rl_status manifest_fail(rl_error *err, rl_status code, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static rl_status manifest_fail(rl_error *err, rl_status code, const char *where, const char *fmt, ...) {
    char what[RL_ERR_MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return rl_fail(err, code, "manifest %s: %s", where, what);
}

static const char *json_type_name(json_type t) {
    static const char *const names[] = {"null", "a boolean", "a number", "a string", "an array", "an object"};
    return (unsigned)t < sizeof names / sizeof *names ? names[t] : "an unknown value";
}

/* Sizes are byte counts: non-negative integers a double holds exactly. */
static int is_byte_count(const json_value *v) {
    return v->type == JSON_NUMBER && v->number >= 0 && v->number <= 9007199254740992.0 && floor(v->number) == v->number;
}

static rl_status parse_layer(const json_value *obj, const char *field, const char *where, rl_manifest_layer *out,
                             rl_error *err) {
    memset(out, 0, sizeof *out);
    if (obj->type != JSON_OBJECT)
        return MF_FAIL(RL_ERR_FORMAT, "%s: expected an object, found %s", field, json_type_name(obj->type));
    const json_value *mt = json_get(obj, "mediaType"), *dg = json_get(obj, "digest"), *sz = json_get(obj, "size");
    if (!mt) return MF_FAIL(RL_ERR_FORMAT, "%s.mediaType: missing", field);
    if (mt->type != JSON_STRING)
        return MF_FAIL(RL_ERR_FORMAT, "%s.mediaType: expected a string, found %s", field, json_type_name(mt->type));
    if (mt->str_len == 0 || mt->str_len > RL_MEDIA_TYPE_MAX || strlen(mt->str) != mt->str_len)
        return MF_FAIL(RL_ERR_FORMAT, "%s.mediaType: '%.60s' is not a plausible media type", field, mt->str);
    if (!dg) return MF_FAIL(RL_ERR_FORMAT, "%s.digest: missing", field);
    if (dg->type != JSON_STRING)
        return MF_FAIL(RL_ERR_FORMAT, "%s.digest: expected a string, found %s", field, json_type_name(dg->type));
    if (strlen(dg->str) != dg->str_len || !rl_digest_valid(dg->str))
        return MF_FAIL(RL_ERR_FORMAT, "%s.digest: '%.80s' is not a sha256 digest (expected sha256:<64 hex digits>)",
                       field, dg->str);
    if (!sz) return MF_FAIL(RL_ERR_FORMAT, "%s.size: missing", field);
    if (!is_byte_count(sz))
        return MF_FAIL(RL_ERR_FORMAT, "%s.size: expected a non-negative integer, found %s", field,
                       sz->type == JSON_NUMBER ? "a fraction, a negative or an out-of-range number" : json_type_name(sz->type));
    memcpy(out->media_type, mt->str, mt->str_len + 1);
    memcpy(out->digest, dg->str, dg->str_len + 1);
    out->size = (uint64_t)sz->number;
    return RL_OK;
}

rl_status rl_manifest_parse(const char *text, size_t len, const char *where, rl_manifest *out, rl_error *err) {
    memset(out, 0, sizeof *out);
    json_value *root = NULL;
    rl_status st = json_parse(text, len, &root, err);
    if (st) return rl_fail_ctx(err, "manifest %s: not valid JSON", where);
    if (root->type != JSON_OBJECT) {
        st = MF_FAIL(RL_ERR_FORMAT, "expected a JSON object at the top level, found %s", json_type_name(root->type));
        goto done;
    }
    const json_value *ver = json_get(root, "schemaVersion");
    if (!ver) {
        st = MF_FAIL(RL_ERR_FORMAT, "schemaVersion: missing");
        goto done;
    }
    if (ver->type != JSON_NUMBER) {
        st = MF_FAIL(RL_ERR_FORMAT, "schemaVersion: expected a number, found %s", json_type_name(ver->type));
        goto done;
    }
    if (ver->number != 2) {
        st = MF_FAIL(RL_ERR_UNSUPPORTED, "schemaVersion: expected 2, found %g", ver->number);
        goto done;
    }
    const json_value *cfg = json_get(root, "config");
    if (!cfg) {
        st = MF_FAIL(RL_ERR_FORMAT, "config: missing");
        goto done;
    }
    if ((st = parse_layer(cfg, "config", where, &out->config, err))) goto done;
    const json_value *layers = json_get(root, "layers");
    if (!layers) {
        st = MF_FAIL(RL_ERR_FORMAT, "layers: missing");
        goto done;
    }
    if (layers->type != JSON_ARRAY) {
        st = MF_FAIL(RL_ERR_FORMAT, "layers: expected an array, found %s", json_type_name(layers->type));
        goto done;
    }
    if (layers->count) {
        /* count is bounded by the parsed input (each element took bytes) */
        out->layers = calloc(layers->count, sizeof *out->layers);
        if (!out->layers) {
            st = MF_FAIL(RL_ERR_NOMEM, "cannot allocate %zu layers", layers->count);
            goto done;
        }
    }
    for (size_t i = 0; i < layers->count; i++) {
        char field[40];
        snprintf(field, sizeof field, "layers[%zu]", i);
        if ((st = parse_layer(&layers->items[i], field, where, &out->layers[i], err))) goto done;
        out->n_layers = i + 1;
    }
done:
    json_free(root);
    if (st) rl_manifest_free(out);
    return st;
}

void rl_manifest_free(rl_manifest *m) {
    free(m->layers);
    memset(m, 0, sizeof *m);
}
