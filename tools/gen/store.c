/* A fake Ollama store (gemma4.md §1): blobs named by their SHA-256 and a Docker
 * v2 manifest, laid out the way `ollama create` writes them (server/create.go,
 * manifest/manifest.go): layers model, template, license, params; a config blob whose
 * rootfs lists the layer digests; compact JSON with a trailing newline. */
#include <stdio.h>
#include <string.h>

#include "core/strbuf.h"
#include "gen.h"
#include "ollama.h"

/* The prompt template is ignored when the config names a renderer (§1.5); this
 * one only sketches the gemma4 turn format for tools that still read it. */
static const char template_text[] =
    "{{- range .Messages }}<|turn>{{ if eq .Role \"assistant\" }}model{{ else }}{{ .Role }}{{ end }}\n"
    "{{ .Content }}<turn|>\n{{ end }}<|turn>model\n";
static const char license_text[] =
    "Synthetic model written by rullama-gen: random weights, no trained parameters.\n"
    "Not Gemma; for testing only.\n";
/* Gemma's generation_config values and the stop Ollama adds for gemma4 (§8.4);
 * keys sorted as Go's encoding/json writes a map. */
static const char params_json[] = "{\"stop\":[\"<turn|>\"],\"temperature\":1,\"top_k\":64,\"top_p\":0.95}\n";

typedef struct {
    const char *media;
    char digest[72]; /* "sha256:<64 hex>" */
    uint64_t size;
} layer;

static void digest_str(const uint8_t d[32], char out[72]) {
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "sha256:", 7);
    for (int i = 0; i < 32; i++) out[7 + 2 * i] = hex[d[i] >> 4], out[8 + 2 * i] = hex[d[i] & 15];
    out[71] = '\0';
}

static void blob_path(const char *root, const char *digest, char *out, size_t cap) {
    snprintf(out, cap, "%s/blobs/sha256-%s", root, digest + 7);
}

static rl_status write_small_blob(rl_host *h, const char *root, const char *media, const char *data, size_t len,
                                  layer *l, rl_error *err) {
    uint8_t d[32];
    char path[4096];
    rl_sha256 sha;
    rl_sha256_init(&sha);
    rl_sha256_update(&sha, data, len);
    rl_sha256_final(&sha, d);
    l->media = media, l->size = len;
    digest_str(d, l->digest);
    blob_path(root, l->digest, path, sizeof path);
    int fd = h->create(h, path, err);
    if (fd < 0) return err ? err->code : RL_ERR_IO;
    int64_t n = h->write(h, fd, data, len, err);
    h->close(h, fd);
    return n == (int64_t)len ? RL_OK : rl_fail(err, RL_ERR_IO, "%s: short write", path);
}

/* Ollama's format.HumanNumber: "5.1B", "25.83M", "120K". */
static void human_number(uint64_t n, char *out, size_t cap) {
    double v;
    if (n >= 1000000000ull) {
        v = (double)n / 1e9;
        snprintf(out, cap, v == (double)(uint64_t)v ? "%.0fB" : "%.1fB", v);
    } else if (n >= 1000000ull) {
        v = (double)n / 1e6;
        snprintf(out, cap, v == (double)(uint64_t)v ? "%.0fM" : "%.2fM", v);
    } else if (n >= 1000) {
        snprintf(out, cap, "%.0fK", (double)n / 1e3);
    } else {
        snprintf(out, cap, "%llu", (unsigned long long)n);
    }
}

static void json_layer(strbuf *sb, const layer *l) {
    sb_printf(sb, "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%llu}", l->media, l->digest,
              (unsigned long long)l->size);
}

rl_status gen_write_store(const gen_model *m, rl_host *h, const char *root, const char *name, const gen_write_opts *o,
                          rl_error *err) {
    char path[4096], tmp[4096];
    rl_model_name nm;
    rl_status st = rl_model_name_parse(name, &nm, err);
    if (st) return st;
    if (!h->mkdirs || !h->rename || !h->create) return rl_fail(err, RL_ERR_UNSUPPORTED, "this host cannot write a store");
    snprintf(path, sizeof path, "%s/blobs", root);
    if ((st = h->mkdirs(h, path, err))) return st;
    snprintf(path, sizeof path, "%s/manifests/%s/%s/%s", root, nm.host, nm.ns, nm.model);
    if ((st = h->mkdirs(h, path, err))) return st;

    layer layers[4], config;
    uint8_t d[32];
    snprintf(tmp, sizeof tmp, "%s/blobs/sha256-rullama-gen-%s-%s-partial", root, nm.model, nm.tag);
    if ((st = gen_write_file(m, h, tmp, o, d, err))) return st;
    layers[0].media = "application/vnd.ollama.image.model";
    layers[0].size = m->file_bytes;
    digest_str(d, layers[0].digest);
    blob_path(root, layers[0].digest, path, sizeof path);
    if ((st = h->rename(h, tmp, path, err))) return st;
    if ((st = write_small_blob(h, root, "application/vnd.ollama.image.template", template_text, sizeof template_text - 1,
                               &layers[1], err)) ||
        (st = write_small_blob(h, root, "application/vnd.ollama.image.license", license_text, sizeof license_text - 1,
                               &layers[2], err)) ||
        (st = write_small_blob(h, root, "application/vnd.ollama.image.params", params_json, sizeof params_json - 1,
                               &layers[3], err)))
        return st;

    char model_type[32];
    human_number(m->n_params, model_type, sizeof model_type);
    strbuf sb;
    sb_init(&sb);
    sb_printf(&sb,
              "{\"model_format\":\"gguf\",\"model_family\":\"gemma4\",\"model_families\":[\"gemma4\"],"
              "\"model_type\":\"%s\",\"file_type\":\"%s\",\"renderer\":\"gemma4\",\"parser\":\"gemma4\","
              "\"requires\":\"0.20.0\",\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[",
              model_type, gen_file_type_name(&m->cfg));
    for (int i = 0; i < 4; i++) sb_printf(&sb, "%s\"%s\"", i ? "," : "", layers[i].digest);
    sb_puts(&sb, "]}}\n");
    st = sb.failed ? rl_fail(err, RL_ERR_NOMEM, "config JSON")
                   : write_small_blob(h, root, "application/vnd.docker.container.image.v1+json", sb.s, sb.len, &config, err);
    sb_reset(&sb);
    if (!st) {
        sb_puts(&sb, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"config\":");
        json_layer(&sb, &config);
        sb_puts(&sb, ",\"layers\":[");
        for (int i = 0; i < 4; i++) {
            if (i) sb_putc(&sb, ',');
            json_layer(&sb, &layers[i]);
        }
        sb_puts(&sb, "]}\n");
        snprintf(path, sizeof path, "%s/manifests/%s/%s/%s/%s", root, nm.host, nm.ns, nm.model, nm.tag);
        int fd = sb.failed ? -1 : h->create(h, path, err);
        if (fd < 0) st = sb.failed ? rl_fail(err, RL_ERR_NOMEM, "manifest JSON") : (err ? err->code : RL_ERR_IO);
        else {
            if (h->write(h, fd, sb.s, sb.len, err) != (int64_t)sb.len) st = rl_fail(err, RL_ERR_IO, "%s: short write", path);
            h->close(h, fd);
        }
    }
    sb_free(&sb);
    return st;
}
