/* Ollama store: names, manifests, resolution and listing, on fake stores
 * written here with plain POSIX calls (manifests + blobs in t_tmp_dir()).
 * Expected values come from the store the test itself wrote, and name
 * validity from a reference re-derived here from the grammar in Ollama's
 * types/model/name.go. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/host.h"
#include "harness.h"
#include "ollama.h"
#include "sha256.h"

/* ---- fake store helpers (POSIX, test-only) ---- */

static void mkdirs(const char *path) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0755);
            *p = '/';
        }
    }
    mkdir(buf, 0755);
}

static void write_file(const char *path, const void *data, size_t len) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        mkdirs(dir);
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        CHECK(0, "cannot write %s: %s", path, strerror(errno));
        return;
    }
    if (len) fwrite(data, 1, len, f);
    fclose(f);
}

static const char *new_store(void) {
    static char buf[8][512];
    static int counter;
    char *p = buf[counter % 8];
    snprintf(p, sizeof buf[0], "%s/store-%d", t_tmp_dir(), counter++);
    mkdirs(p);
    return p;
}

typedef struct {
    const char *media;
    const char *text;    /* blob content (NULL: a few random bytes) */
    int upper;           /* write the digest with uppercase hex in the manifest */
    int no_blob;         /* do not write the blob file */
    long long size_delta;/* manifest size = real size + delta */
    unsigned long long sparse_size; /* nonzero: blob is a sparse file of this size */
} fake_layer;

typedef struct {
    char digest[8][72];  /* as written to the manifest; [0] is the config */
    char blob[8][600];   /* blob paths the test wrote */
    char manifest[600];
    char manifest_sha[65];
    unsigned long long total;
} fake_model;

static void digest_of(const char *content, size_t len, int upper, char out[72]) {
    char hex[65];
    rl_sha256_hex(content, len, hex);
    if (upper)
        for (char *p = hex; *p; p++)
            if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 32);
    snprintf(out, 72, "sha256:%s", hex);
}

/* Write blobs for config + layers and a manifest at manifests/<rel>. */
static void put_model(const char *root, const char *rel, const char *config, const fake_layer *layers, size_t n,
                      fake_model *fm) {
    memset(fm, 0, sizeof *fm);
    char manifest[8192];
    size_t off = 0;
    for (size_t i = 0; i <= n; i++) {
        const fake_layer *l = i ? &layers[i - 1] : NULL;
        char rnd[40];
        const char *content = i == 0 ? config : l->text;
        if (!content) {
            snprintf(rnd, sizeof rnd, "GGUF-%016llx", t_rand_u64());
            content = rnd;
        }
        size_t len = strlen(content);
        unsigned long long size = l && l->sparse_size ? l->sparse_size : len;
        if (l && l->sparse_size) {
            char tag[48];
            snprintf(tag, sizeof tag, "sparse-%llu-%016llx", size, t_rand_u64());
            digest_of(tag, strlen(tag), 0, fm->digest[i]);
        } else {
            digest_of(content, len, l && l->upper, fm->digest[i]);
        }
        char lower[72];
        snprintf(lower, sizeof lower, "%s", fm->digest[i]);
        for (char *p = lower; *p; p++)
            if (*p >= 'A' && *p <= 'F') *p = (char)(*p + 32);
        snprintf(fm->blob[i], sizeof fm->blob[i], "%s/blobs/sha256-%s", root, lower + 7);
        if (!(l && l->no_blob)) {
            if (l && l->sparse_size) {
                write_file(fm->blob[i], "", 0);
                CHECK(truncate(fm->blob[i], (off_t)size) == 0, "truncate");
            } else {
                write_file(fm->blob[i], content, len);
            }
        }
        long long msize = (long long)size + (l ? l->size_delta : 0);
        fm->total += (unsigned long long)msize;
        if (i == 0)
            off += (size_t)snprintf(manifest + off, sizeof manifest - off,
                                    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
                                    "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\","
                                    "\"digest\":\"%s\",\"size\":%lld},\"layers\":[",
                                    fm->digest[0], msize);
        else
            off += (size_t)snprintf(manifest + off, sizeof manifest - off,
                                    "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld}", i > 1 ? "," : "",
                                    l->media, fm->digest[i], msize);
    }
    off += (size_t)snprintf(manifest + off, sizeof manifest - off, "]}");
    snprintf(fm->manifest, sizeof fm->manifest, "%s/manifests/%s", root, rel);
    write_file(fm->manifest, manifest, off);
    rl_sha256_hex(manifest, off, fm->manifest_sha);
}

static const char *gemma_config =
    "{\"model_format\":\"gguf\",\"model_family\":\"gemma4\",\"model_families\":[\"gemma4\"],\"model_type\":\"5.1B\","
    "\"file_type\":\"Q4_K_M\",\"renderer\":\"gemma4\",\"parser\":\"gemma4\",\"architecture\":\"amd64\",\"os\":\"linux\","
    "\"unknown_future_field\":{\"x\":[1,2]}}";

static void put_simple(const char *root, const char *rel, fake_model *fm) {
    fake_layer l[] = {{RL_MEDIA_MODEL, NULL, 0, 0, 0, 0}};
    put_model(root, rel, gemma_config, l, 1, fm);
}

/* ---- names ---- */

static void t_name_forms(void) {
    static const struct {
        const char *spec, *host, *ns, *model, *tag, *display;
    } cases[] = {
        /* gemma4.md §1.2 forms */
        {"gemma4:e2b", "registry.ollama.ai", "library", "gemma4", "e2b", "gemma4:e2b"},
        {"gemma4", "registry.ollama.ai", "library", "gemma4", "latest", "gemma4:latest"},
        {"library/gemma4:e4b", "registry.ollama.ai", "library", "gemma4", "e4b", "gemma4:e4b"},
        {"registry.ollama.ai/library/gemma4:e2b", "registry.ollama.ai", "library", "gemma4", "e2b", "gemma4:e2b"},
        /* more */
        {"https://registry.ollama.ai/library/gemma4", "registry.ollama.ai", "library", "gemma4", "latest", "gemma4:latest"},
        {"http://example.com/team/m:v1", "example.com", "team", "m", "v1", "example.com/team/m:v1"},
        {"localhost:5000/me/my-model_2.1:q4_K_M", "localhost:5000", "me", "my-model_2.1", "q4_K_M",
         "localhost:5000/me/my-model_2.1:q4_K_M"},
        {"alice/gemma4:e2b", "registry.ollama.ai", "alice", "gemma4", "e2b", "alice/gemma4:e2b"},
        {"Gemma4:E2B", "registry.ollama.ai", "library", "Gemma4", "E2B", "Gemma4:E2B"},
        {"REGISTRY.OLLAMA.AI/Library/gemma4:x", "REGISTRY.OLLAMA.AI", "Library", "gemma4", "x", "gemma4:x"},
        {"_x/_y:_z", "registry.ollama.ai", "_x", "_y", "_z", "_x/_y:_z"},
        {"a..b", "registry.ollama.ai", "library", "a..b", "latest", "a..b:latest"}, /* dots inside are fine */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        rl_model_name n;
        rl_error err = {0};
        rl_status st = rl_model_name_parse(cases[i].spec, &n, &err);
        CHECK(st == RL_OK, "'%s': %s", cases[i].spec, err.msg);
        if (st) continue;
        CHECK(!strcmp(n.host, cases[i].host) && !strcmp(n.ns, cases[i].ns) && !strcmp(n.model, cases[i].model) &&
                  !strcmp(n.tag, cases[i].tag),
              "'%s' -> %s / %s / %s : %s", cases[i].spec, n.host, n.ns, n.model, n.tag);
        char full[1024], want[1024], disp[1024];
        rl_model_name_format(&n, full, sizeof full);
        snprintf(want, sizeof want, "%s/%s/%s:%s", cases[i].host, cases[i].ns, cases[i].model, cases[i].tag);
        CHECK(!strcmp(full, want), "format '%s': %s", cases[i].spec, full);
        rl_model_name_display(&n, disp, sizeof disp);
        CHECK(!strcmp(disp, cases[i].display), "display '%s': %s (want %s)", cases[i].spec, disp, cases[i].display);
    }
}

static void t_name_invalid(void) {
    char long_model[100], long_host[400], ok_model[90], ok_host[400];
    memset(long_model, 'm', 81), long_model[81] = 0;
    memset(ok_model, 'm', 80), ok_model[80] = 0;
    memset(long_host, 'h', 351), memcpy(long_host + 351, "/ns/m", 6);
    memset(ok_host, 'h', 350), memcpy(ok_host + 350, "/ns/m", 6);
    const char *bad[] = {
        "", ":", "gemma4:", ":e2b", "/gemma4", "library/", "/library/gemma4", "a//b", "../../etc/passwd", "..",
        "../gemma4", ".hidden", "a/../b", "lib.x/gemma4", "a/b/c/d", "a/b/c/d:e", "gemma4@sha256:abc", "gem ma",
        "gemma4\n", "gemma4:e2b:x", "-gemma4", "gemma4:-tag", "gemma4:.tag", "host/-ns/m", "-host/ns/m", "gem%ma",
        "gemma4:t/ag", "h/ns:1/m", "://ns/m", "gemma\\4", "gemma4:t~", "x/y/\xC3\xA9", long_model, long_host,
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rl_model_name n;
        rl_error err = {0};
        rl_status st = rl_model_name_parse(bad[i], &n, &err);
        CHECK(st == RL_ERR_INVALID, "'%.40s' should be invalid, got %s", bad[i], rl_status_name(st));
        CHECK(strstr(err.msg, "model name") != NULL, "'%.40s': message: %s", bad[i], err.msg);
    }
    const char *good[] = {ok_model, ok_host};
    for (size_t i = 0; i < 2; i++) {
        rl_model_name n;
        rl_error err = {0};
        CHECK(rl_model_name_parse(good[i], &n, &err) == RL_OK, "boundary length %zu: %s", strlen(good[i]), err.msg);
    }
}

/* Reference validity of a part, straight from the grammar comment in
 * Ollama's name.go: first char alnum or '_', then alnum, '_', '-', '.' (not
 * in a namespace) or ':' (host only); lengths 1..350 (host) / 1..80. */
static int ref_part_ok(int kind, const char *s, size_t len) {
    if (len < 1 || len > (kind == 0 ? 350u : 80u)) return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int alnum_ = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (i == 0 ? !alnum_ : !(alnum_ || c == '-' || (c == '.' && kind != 1) || (c == ':' && kind == 0))) return 0;
    }
    return 1;
}

/* Reference parse: split a string into parts the way name.go describes and
 * say whether it is valid. */
static int ref_name_ok(const char *s) {
    size_t len = strlen(s);
    const char *ls = strrchr(s, '/'), *lc = strrchr(s, ':');
    size_t end = len;
    if (lc && (!ls || lc > ls)) {
        if (!ref_part_ok(3, lc + 1, len - (size_t)(lc - s) - 1)) return 0;
        end = (size_t)(lc - s);
    }
    /* split [0,end) at '/' into up to 3 pieces from the right */
    size_t cuts[3];
    int nc = 0;
    for (size_t i = end; i-- > 0 && nc < 2;)
        if (s[i] == '/') cuts[nc++] = i;
    if (nc == 0) return ref_part_ok(2, s, end);
    if (!ref_part_ok(2, s + cuts[0] + 1, end - cuts[0] - 1)) return 0;
    if (nc == 1) return ref_part_ok(1, s, cuts[0]);
    if (!ref_part_ok(1, s + cuts[1] + 1, cuts[0] - cuts[1] - 1)) return 0;
    const char *host = s;
    size_t hlen = cuts[1];
    const char *scheme = strstr(s, "://");
    if (scheme && (size_t)(scheme - s) + 3 <= cuts[1]) {
        host = scheme + 3;
        hlen = cuts[1] - (size_t)(host - s);
    }
    return ref_part_ok(0, host, hlen);
}

static void rand_part(char *out, int kind, size_t max) {
    static const char first[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
    static const char rest_ns[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
    static const char rest[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.";
    static const char rest_host[] = "abcdefghijklmnopqrstuvwxyz0123456789_-.:";
    size_t len = 1 + (size_t)(t_rand_u64() % (t_rand_u64() % 4 == 0 ? max : 12));
    out[0] = first[t_rand_u64() % (sizeof first - 1)];
    const char *set = kind == 0 ? rest_host : kind == 1 ? rest_ns : rest;
    size_t setn = strlen(set);
    for (size_t i = 1; i < len; i++) out[i] = set[t_rand_u64() % setn];
    out[len] = '\0';
}

static void t_random_name_round_trip(void) {
    for (int iter = 0; iter < 3000; iter++) {
        char host[351], ns[81], model[81], tag[81], spec[700];
        if (t_rand_u64() % 3 == 0) strcpy(host, "registry.ollama.ai");
        else rand_part(host, 0, 350);
        if (t_rand_u64() % 3 == 0) strcpy(ns, "library");
        else rand_part(ns, 1, 80);
        rand_part(model, 2, 80);
        rand_part(tag, 3, 80);
        snprintf(spec, sizeof spec, "%s/%s/%s:%s", host, ns, model, tag);
        rl_model_name n, n2;
        rl_error err = {0};
        rl_status st = rl_model_name_parse(spec, &n, &err);
        CHECK(st == RL_OK, "iter %d '%s': %s", iter, spec, err.msg);
        if (st) return;
        CHECK(!strcmp(n.host, host) && !strcmp(n.ns, ns) && !strcmp(n.model, model) && !strcmp(n.tag, tag),
              "iter %d: parts differ for %s", iter, spec);
        char full[1024], disp[1024];
        rl_model_name_format(&n, full, sizeof full);
        CHECK(!strcmp(full, spec), "iter %d: format %s != %s", iter, full, spec);
        rl_model_name_display(&n, disp, sizeof disp);
        st = rl_model_name_parse(disp, &n2, &err);
        CHECK(st == RL_OK && !strcmp(n2.host, host) && !strcmp(n2.ns, ns) && !strcmp(n2.model, model) &&
                  !strcmp(n2.tag, tag),
              "iter %d: display '%s' does not parse back to %s (%s)", iter, disp, spec, err.msg);
        if (t_current_failed) return;
    }
}

/* Random strings from a mixed alphabet: accepted exactly when the reference
 * says so. */
static void t_random_name_validity(void) {
    static const char *const tokens[] = {"a", "Z", "9", "_", "-", ".", ":", "/", "..", "gemma4", "library",
                                         "registry.ollama.ai", "://", "https://", " ", "@", "%", "\xC3\xA9", ""};
    int ok = 0, bad = 0;
    for (int iter = 0; iter < 20000; iter++) {
        char s[200] = "";
        int ntok = 1 + (int)(t_rand_u64() % 8);
        for (int k = 0; k < ntok; k++) strcat(s, tokens[t_rand_u64() % (sizeof tokens / sizeof *tokens)]);
        rl_model_name n;
        rl_error err = {0};
        int got = rl_model_name_parse(s, &n, &err) == RL_OK, want = ref_name_ok(s);
        CHECK(got == want, "'%s': parser says %d, reference %d (%s)", s, got, want, err.msg);
        if (got) {
            ok++;
            /* nothing accepted may escape the store directory */
            const char *parts[4] = {n.host, n.ns, n.model, n.tag};
            for (int p = 0; p < 4; p++)
                CHECK(!strchr(parts[p], '/') && parts[p][0] != '.' && parts[p][0], "'%s': unsafe part '%s'", s, parts[p]);
        } else {
            bad++;
        }
        if (t_current_failed) return;
    }
    CHECK(ok > 500 && bad > 500, "both outcomes exercised (%d valid, %d invalid)", ok, bad);
}

/* ---- root ---- */

static void restore_env(const char *name, const char *saved) {
    if (saved) setenv(name, saved, 1);
    else unsetenv(name);
}

static void t_root(void) {
    rl_host *h = rl_host_default();
    char *om = getenv("OLLAMA_MODELS") ? strdup(getenv("OLLAMA_MODELS")) : NULL;
    char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    char root[4096];
    rl_error err = {0};

    setenv("OLLAMA_MODELS", "/srv/models/", 1);
    setenv("HOME", "/home/someone", 1);
    CHECK(rl_ollama_root(h, root, sizeof root, &err) == RL_OK && !strcmp(root, "/srv/models"), "override: %s", root);

    setenv("OLLAMA_MODELS", "", 1);
    CHECK(rl_ollama_root(h, root, sizeof root, &err) == RL_OK && !strcmp(root, "/home/someone/.ollama/models"),
          "empty OLLAMA_MODELS falls back to HOME: %s", root);
    unsetenv("OLLAMA_MODELS");
    CHECK(rl_ollama_root(h, root, sizeof root, &err) == RL_OK && !strcmp(root, "/home/someone/.ollama/models"),
          "HOME: %s", root);

    unsetenv("HOME");
    rl_status st = rl_ollama_root(h, root, sizeof root, &err);
    CHECK(st != RL_OK && strstr(err.msg, "OLLAMA_MODELS") && strstr(err.msg, "HOME"), "no HOME: %s", err.msg);

    setenv("OLLAMA_MODELS", "/xyzw", 1);
    char tiny[4];
    CHECK(rl_ollama_root(h, tiny, sizeof tiny, &err) == RL_ERR_LIMIT, "too small buffer must fail, not truncate");

    restore_env("OLLAMA_MODELS", om);
    restore_env("HOME", home);
    free(om);
    free(home);
}

/* ---- resolution ---- */

static rl_status resolve(const char *root, const char *spec, rl_model_ref *ref, rl_error *err) {
    memset(err, 0, sizeof *err);
    return rl_model_resolve(rl_host_default(), root, spec, ref, err);
}

static void t_resolve_forms(void) {
    const char *root = new_store();
    fake_model e2b, latest, e4b, other;
    put_simple(root, "registry.ollama.ai/library/gemma4/e2b", &e2b);
    put_simple(root, "registry.ollama.ai/library/gemma4/latest", &latest);
    put_simple(root, "registry.ollama.ai/library/gemma4/e4b", &e4b);
    put_simple(root, "example.com/team/m/v1", &other);
    const struct {
        const char *spec, *name;
        fake_model *fm;
    } cases[] = {
        {"gemma4:e2b", "registry.ollama.ai/library/gemma4:e2b", &e2b},
        {"gemma4", "registry.ollama.ai/library/gemma4:latest", &latest},
        {"library/gemma4:e4b", "registry.ollama.ai/library/gemma4:e4b", &e4b},
        {"registry.ollama.ai/library/gemma4:e2b", "registry.ollama.ai/library/gemma4:e2b", &e2b},
        {"example.com/team/m:v1", "example.com/team/m:v1", &other},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        rl_model_ref r;
        rl_error err;
        rl_status st = resolve(root, cases[i].spec, &r, &err);
        CHECK(st == RL_OK, "%s: %s", cases[i].spec, err.msg);
        if (st) continue;
        CHECK(r.name && !strcmp(r.name, cases[i].name), "%s: name %s", cases[i].spec, r.name);
        CHECK(r.model_path && !strcmp(r.model_path, cases[i].fm->blob[1]), "%s: path %s want %s", cases[i].spec,
              r.model_path, cases[i].fm->blob[1]);
        CHECK(r.model_digest && !strcmp(r.model_digest, cases[i].fm->digest[1]), "%s: digest", cases[i].spec);
        CHECK(r.model_size == 21, "%s: size %llu", cases[i].spec, (unsigned long long)r.model_size); /* "GGUF-" + 16 hex */
        CHECK(r.manifest_path && !strcmp(r.manifest_path, cases[i].fm->manifest), "%s: manifest path", cases[i].spec);
        CHECK(r.renderer && !strcmp(r.renderer, "gemma4") && r.parser && !strcmp(r.parser, "gemma4"), "renderer/parser");
        CHECK(r.model_family && !strcmp(r.model_family, "gemma4") && r.architecture &&
                  !strcmp(r.architecture, "amd64") && r.model_type && !strcmp(r.model_type, "5.1B") && r.file_type &&
                  !strcmp(r.file_type, "Q4_K_M"),
              "config fields");
        CHECK(r.config_json && !strcmp(r.config_json, gemma_config), "config text");
        CHECK(!r.projector_path && !r.template_text && !r.system_text && !r.license_text && !r.params_json,
              "no optional layers");
        rl_model_ref_free(&r);
    }
}

static void t_resolve_text_layers(void) {
    const char *root = new_store();
    fake_model fm;
    fake_layer l[] = {
        {RL_MEDIA_MODEL, NULL, 0, 0, 0, 0},
        {RL_MEDIA_PROJECTOR, "projector-gguf", 0, 0, 0, 0},
        {RL_MEDIA_PROMPT, "legacy {{ .Prompt }}", 0, 0, 0, 0},
        {RL_MEDIA_TEMPLATE, "{{ .Prompt }} template", 0, 0, 0, 0},
        {RL_MEDIA_SYSTEM, "You are helpful.", 0, 0, 0, 0},
        {RL_MEDIA_LICENSE, "LICENSE ONE", 0, 0, 0, 0},
        {RL_MEDIA_LICENSE, "LICENSE TWO", 0, 0, 0, 0},
        {RL_MEDIA_PARAMS, "{\"stop\":[\"<turn|>\"],\"temperature\":1,\"top_k\":64}", 0, 0, 0, 0},
    };
    put_model(root, "registry.ollama.ai/library/gemma4/e2b", gemma_config, l, 8, &fm);
    rl_model_ref r;
    rl_error err;
    rl_status st = resolve(root, "gemma4:e2b", &r, &err);
    CHECK(st == RL_OK, "%s", err.msg);
    if (st) return;
    CHECK(r.projector_path && !strcmp(r.projector_path, fm.blob[2]), "projector path");
    CHECK(r.template_text && !strcmp(r.template_text, l[3].text), "template wins over legacy prompt: %s", r.template_text);
    CHECK(r.system_text && !strcmp(r.system_text, l[4].text), "system");
    CHECK(r.license_text && strstr(r.license_text, "LICENSE ONE") && strstr(r.license_text, "LICENSE TWO"),
          "both licenses kept: %s", r.license_text);
    CHECK(r.params_json && !strcmp(r.params_json, l[7].text), "params");
    rl_model_ref_free(&r);

    /* legacy prompt layer alone becomes the template */
    const char *root2 = new_store();
    fake_layer l2[] = {{RL_MEDIA_MODEL, NULL, 0, 0, 0, 0}, {RL_MEDIA_PROMPT, "old style", 0, 0, 0, 0}};
    put_model(root2, "registry.ollama.ai/library/old/latest", "{}", l2, 2, &fm);
    st = resolve(root2, "old", &r, &err);
    CHECK(st == RL_OK && r.template_text && !strcmp(r.template_text, "old style"), "legacy prompt: %s", err.msg);
    CHECK(st != RL_OK || (!r.renderer && !r.model_family), "empty config gives no renderer/family");
    rl_model_ref_free(&r);
}

static void t_case_insensitive(void) {
    const char *root = new_store();
    fake_model upper, lower;
    put_simple(root, "registry.ollama.ai/library/Gemma4/E2B", &upper);
    rl_model_ref r;
    rl_error err;
    rl_status st = resolve(root, "gemma4:e2b", &r, &err);
    CHECK(st == RL_OK, "fallback scan: %s", err.msg);
    if (st == RL_OK) {
        CHECK(!strcmp(r.model_path, upper.blob[1]), "found the on-disk model");
        CHECK(!strcmp(r.name, "registry.ollama.ai/library/Gemma4:E2B"), "name uses the on-disk spelling: %s", r.name);
        rl_model_ref_free(&r);
    }
    st = resolve(root, "REGISTRY.OLLAMA.AI/LIBRARY/GEMMA4:E2B", &r, &err);
    CHECK(st == RL_OK, "all-caps spec: %s", err.msg);
    rl_model_ref_free(&r);
    /* when both spellings exist, the exact one wins */
    put_simple(root, "registry.ollama.ai/library/gemma4/e2b", &lower);
    st = resolve(root, "gemma4:e2b", &r, &err);
    CHECK(st == RL_OK && !strcmp(r.model_path, lower.blob[1]), "exact path preferred: %s", err.msg);
    rl_model_ref_free(&r);
    st = resolve(root, "Gemma4:E2B", &r, &err);
    CHECK(st == RL_OK && !strcmp(r.model_path, upper.blob[1]), "exact path preferred (upper): %s", err.msg);
    rl_model_ref_free(&r);
    /* the scan backtracks: the first case-insensitive match may be a dead end */
    const char *root2 = new_store();
    fake_model dead, live;
    put_simple(root2, "registry.ollama.ai/library/Gemma4/other", &dead);
    put_simple(root2, "registry.ollama.ai/library/gemma4/E2B", &live);
    st = resolve(root2, "GEMMA4:e2b", &r, &err);
    CHECK(st == RL_OK && !strcmp(r.model_path, live.blob[1]) && !strcmp(r.name, "registry.ollama.ai/library/gemma4:E2B"),
          "backtracking scan: %s", err.msg);
    if (st == RL_OK) rl_model_ref_free(&r);
    /* exact-case entries win at each level when the full path is not exact */
    put_simple(root2, "registry.ollama.ai/library/Gemma4/e2b", &dead);
    st = resolve(root2, "gemma4:e2b", &r, &err);
    CHECK(st == RL_OK && !strcmp(r.model_path, live.blob[1]), "exact-case directory preferred: %s", err.msg);
    if (st == RL_OK) rl_model_ref_free(&r);
    /* a directory where the tag file should be is not a manifest */
    char dir[700];
    snprintf(dir, sizeof dir, "%s/manifests/registry.ollama.ai/library/dironly/latest", root);
    mkdirs(dir);
    st = resolve(root, "dironly", &r, &err);
    CHECK(st == RL_ERR_NOT_FOUND, "directory in place of a manifest: %s", err.msg);
}

static void t_env_override_resolution(void) {
    /* OLLAMA_MODELS wins over HOME; HOME/.ollama/models used otherwise */
    char *om = getenv("OLLAMA_MODELS") ? strdup(getenv("OLLAMA_MODELS")) : NULL;
    char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    const char *store_a = new_store();
    char fake_home[600], store_b[700];
    snprintf(fake_home, sizeof fake_home, "%s/home-%llx", t_tmp_dir(), t_rand_u64());
    snprintf(store_b, sizeof store_b, "%s/.ollama/models", fake_home);
    mkdirs(store_b);
    fake_model a, b;
    put_simple(store_a, "registry.ollama.ai/library/gemma4/e2b", &a);
    put_simple(store_b, "registry.ollama.ai/library/gemma4/e2b", &b);
    rl_host *h = rl_host_default();
    char root[4096];
    rl_error err = {0};
    rl_model_ref r;

    setenv("HOME", fake_home, 1);
    setenv("OLLAMA_MODELS", store_a, 1);
    CHECK(rl_ollama_root(h, root, sizeof root, &err) == RL_OK, "%s", err.msg);
    CHECK(resolve(root, "gemma4:e2b", &r, &err) == RL_OK && !strcmp(r.model_path, a.blob[1]), "OLLAMA_MODELS: %s",
          err.msg);
    rl_model_ref_free(&r);

    unsetenv("OLLAMA_MODELS");
    CHECK(rl_ollama_root(h, root, sizeof root, &err) == RL_OK, "%s", err.msg);
    CHECK(resolve(root, "gemma4:e2b", &r, &err) == RL_OK && !strcmp(r.model_path, b.blob[1]), "HOME: %s", err.msg);
    rl_model_ref_free(&r);

    restore_env("OLLAMA_MODELS", om);
    restore_env("HOME", home);
    free(om);
    free(home);
}

static void t_path_spec(void) {
    const char *root = new_store();
    char path[700];
    snprintf(path, sizeof path, "%s/some-model.gguf", root);
    write_file(path, "GGUF\3\0\0\0 and more", 17);
    rl_model_ref r;
    rl_error err;
    rl_status st = resolve(root, path, &r, &err);
    CHECK(st == RL_OK, "%s", err.msg);
    if (st == RL_OK) {
        CHECK(!strcmp(r.model_path, path) && r.model_size == 17 && !r.name && !r.model_digest && !r.manifest_path,
              "path spec fields");
        rl_model_ref_free(&r);
    }
    /* a directory is not a model file, and not a name either */
    st = resolve(root, root, &r, &err);
    CHECK(st == RL_ERR_INVALID && strstr(err.msg, "neither a file nor a model name"), "directory: %s", err.msg);
    /* without a store only files resolve */
    st = resolve("", "gemma4", &r, &err);
    CHECK(st == RL_ERR_NOT_FOUND && strstr(err.msg, "no Ollama model store"), "no root: %s", err.msg);
    st = resolve("", path, &r, &err);
    CHECK(st == RL_OK, "file without a root: %s", err.msg);
    if (st == RL_OK) rl_model_ref_free(&r);
    char missing[700];
    snprintf(missing, sizeof missing, "%s/nope.gguf", root);
    st = resolve(root, missing, &r, &err);
    CHECK(st != RL_OK && strstr(err.msg, "nope.gguf"), "missing path: %s", err.msg);
}

static void t_unknown_model(void) {
    const char *root = new_store();
    fake_model fm;
    put_simple(root, "registry.ollama.ai/library/gemma4/e2b", &fm);
    put_simple(root, "registry.ollama.ai/alice/tiny/latest", &fm);
    rl_model_ref r;
    rl_error err;
    rl_status st = resolve(root, "gemma4:e4b", &r, &err);
    CHECK(st == RL_ERR_NOT_FOUND, "unknown: %s", rl_status_name(st));
    char want[700];
    snprintf(want, sizeof want, "model 'gemma4:e4b' not found in %s; available: ", root);
    CHECK(strstr(err.msg, want) && strstr(err.msg, "gemma4:e2b") && strstr(err.msg, "alice/tiny:latest"),
          "message: %s", err.msg);

    const char *empty = new_store();
    st = resolve(empty, "gemma4", &r, &err);
    CHECK(st == RL_ERR_NOT_FOUND && strstr(err.msg, "has no models") && strstr(err.msg, empty), "empty store: %s",
          err.msg);
    char nowhere[700];
    snprintf(nowhere, sizeof nowhere, "%s/does-not-exist", root);
    st = resolve(nowhere, "gemma4", &r, &err);
    CHECK(st == RL_ERR_NOT_FOUND && strstr(err.msg, "has no models"), "missing store: %s", err.msg);
}

static void t_traversal(void) {
    const char *root = new_store();
    /* a file that a traversal would reach */
    char secret[700];
    snprintf(secret, sizeof secret, "%s/manifests/secret", root);
    write_file(secret, "{}", 2);
    const char *specs[] = {"../../etc/passwd", "registry.ollama.ai/../secret", "../secret:latest",
                           "registry.ollama.ai/library/..:..", "x/../../secret"};
    /* An existing file is a path spec by design, so run from a directory where
     * none of these relative paths exist: only name handling is under test. */
    char cwd[4096], deep[700];
    if (!getcwd(cwd, sizeof cwd)) cwd[0] = '\0';
    snprintf(deep, sizeof deep, "%s/cwd/a/b/c/d", root);
    mkdirs(deep);
    CHECK(chdir(deep) == 0, "chdir %s", deep);
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        rl_model_ref r;
        rl_error err;
        rl_status st = resolve(root, specs[i], &r, &err);
        CHECK(st == RL_ERR_INVALID, "'%s' must be rejected as a name, got %s: %s", specs[i], rl_status_name(st), err.msg);
        if (st == RL_OK) rl_model_ref_free(&r);
    }
    if (cwd[0]) CHECK(chdir(cwd) == 0, "chdir back");
}

/* ---- malformed manifests ---- */

static const char *D1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

static void t_manifest_parse_errors(void) {
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"{\"schemaVersion\":2,\"config\":", "not valid JSON: line 1, column 29"},
        {"", "not valid JSON"},
        {"[]", "expected a JSON object at the top level, found an array"},
        {"{\"config\":{},\"layers\":[]}", "schemaVersion: missing"},
        {"{\"schemaVersion\":\"2\"}", "schemaVersion: expected a number, found a string"},
        {"{\"schemaVersion\":1}", "schemaVersion: expected 2, found 1"},
        {"{\"schemaVersion\":2,\"layers\":[]}", "config: missing"},
        {"{\"schemaVersion\":2,\"config\":[],\"layers\":[]}", "config: expected an object, found an array"},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":5,\"size\":1},\"layers\":[]}",
         "config.digest: expected a string, found a number"},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"@D1\"}}", "config.size: missing"},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"@D1\",\"size\":1}}", "layers: missing"},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"@D1\",\"size\":1},\"layers\":{}}",
         "layers: expected an array, found an object"},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"@D1\",\"size\":1},\"layers\":[1]}",
         "layers[0]: expected an object, found a number"},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"@D1\",\"size\":1},\"layers\":["
         "{\"mediaType\":\"a\",\"digest\":\"@D1\",\"size\":1},{\"mediaType\":\"a\",\"digest\":\"@D1\",\"size\":1},"
         "{\"mediaType\":\"a\",\"digest\":7,\"size\":1}]}",
         "layers[2].digest: expected a string"},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"@D1\",\"size\":1},\"layers\":["
         "{\"digest\":\"@D1\",\"size\":1}]}",
         "layers[0].mediaType: missing"},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"@D1\",\"size\":1},\"layers\":["
         "{\"mediaType\":3,\"digest\":\"@D1\",\"size\":1}]}",
         "layers[0].mediaType: expected a string, found a number"},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"@D1\",\"size\":1},\"layers\":["
         "{\"mediaType\":\"\",\"digest\":\"@D1\",\"size\":1}]}",
         "layers[0].mediaType: '' is not a plausible media type"},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"@D1\",\"size\":1},\"layers\":["
         "{\"mediaType\":\"a\",\"size\":1}]}",
         "layers[0].digest: missing"},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"@D1\",\"size\":1},\"layers\":["
         "{\"mediaType\":\"a\",\"digest\":\"@D1\",\"size\":\"12\"}]}",
         "layers[0].size: expected a non-negative integer, found a string"},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"@D1\",\"size\":1},\"layers\":["
         "{\"mediaType\":\"a\",\"digest\":\"@D1\",\"size\":-1}]}",
         "layers[0].size: expected a non-negative integer"},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"@D1\",\"size\":1},\"layers\":["
         "{\"mediaType\":\"a\",\"digest\":\"@D1\",\"size\":1.5}]}",
         "layers[0].size: expected a non-negative integer"},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"@D1\",\"size\":1},\"layers\":["
         "{\"mediaType\":\"a\",\"digest\":\"@D1\",\"size\":1e300}]}",
         "layers[0].size: expected a non-negative integer"},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"@D1\",\"size\":1},\"layers\":["
         "{\"mediaType\":\"a\",\"digest\":null,\"size\":1}]}",
         "layers[0].digest: expected a string, found null"},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"@D1\",\"size\":1},\"layers\":["
         "{\"mediaType\":\"a\",\"digest\":\"sha256:xyz\",\"size\":1}]}",
         "layers[0].digest: 'sha256:xyz' is not a sha256 digest"},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"@D1\",\"size\":1},\"layers\":["
         "{\"mediaType\":\"a\",\"digest\":\"sha256:../../../../../../../../../etc/passwd/../../../../../../../..\",\"size\":1}]}",
         "is not a sha256 digest"},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"sha512:1111111111111111111111111111111111111111111111111111111111111111\",\"size\":1},\"layers\":[]}",
         "config.digest: 'sha512:"},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:111111111111111111111111111111111111111111111111111111111111111\",\"size\":1},\"layers\":[]}",
         "config.digest:"}, /* 63 hex */
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:11111111111111111111111111111111111111111111111111111111111111111\",\"size\":1},\"layers\":[]}",
         "config.digest:"}, /* 65 hex */
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:111111111111111111111111111111111111111111111111111111111111111g\",\"size\":1},\"layers\":[]}",
         "config.digest:"},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:1111111111111111111111111111111111111111111111111111111111111111\\u0000\",\"size\":1},\"layers\":[]}",
         "config.digest:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        /* "@D1" stands for a valid digest */
        char json[2048];
        size_t o = 0;
        for (const char *p = cases[i].json; *p && o < sizeof json - 80;) {
            if (!strncmp(p, "@D1", 3)) {
                o += (size_t)snprintf(json + o, sizeof json - o, "%s", D1);
                p += 3;
            } else {
                json[o++] = *p++;
            }
        }
        json[o] = '\0';
        rl_manifest m;
        rl_error err = {0};
        rl_status st = rl_manifest_parse(json, o, "/x/m", &m, &err);
        CHECK(st != RL_OK, "case %zu should fail", i);
        CHECK(!strncmp(err.msg, "manifest /x/m: ", 15) && strstr(err.msg, cases[i].want), "case %zu: want '%s' in '%s'",
              i, cases[i].want, err.msg);
        if (st == RL_OK) rl_manifest_free(&m);
    }
}

static void t_manifest_parse_ok(void) {
    char json[2048];
    snprintf(json, sizeof json,
             "{\"schemaVersion\":2,\"mediaType\":\"whatever\",\"extra\":{\"deep\":[1,{\"x\":null}]},"
             "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"digest\":\"%s\",\"size\":485,\"urls\":[]},"
             "\"layers\":[{\"mediaType\":\"application/vnd.ollama.image.model\",\"digest\":\"sha256-%s\",\"size\":7162394016,"
             "\"from\":\"/some/path\",\"name\":\"x\"},"
             "{\"mediaType\":\"application/vnd.ollama.image.license\",\"digest\":\"%s\",\"size\":0}]}",
             D1, "ABCDEFabcdef0123456789abcdef0123456789abcdef0123456789abcdef0123", D1);
    rl_manifest m;
    rl_error err = {0};
    rl_status st = rl_manifest_parse(json, strlen(json), "t", &m, &err);
    CHECK(st == RL_OK, "%s", err.msg);
    if (st) return;
    CHECK(m.config.size == 485 && !strcmp(m.config.digest, D1), "config");
    CHECK(m.n_layers == 2 && m.layers[0].size == 7162394016ull && !strcmp(m.layers[0].media_type, RL_MEDIA_MODEL) &&
              !strncmp(m.layers[0].digest, "sha256-ABCDEF", 13) && m.layers[1].size == 0,
          "layers");
    rl_manifest_free(&m);
}

static void t_digest_valid(void) {
    char d[100];
    for (int iter = 0; iter < 2000; iter++) {
        /* random strings near the valid shape; reference check written here */
        static const char pool[] = "0123456789abcdefABCDEFgxG:-";
        int len = 60 + (int)(t_rand_u64() % 8);
        const char *pre = t_rand_u64() % 4 ? "sha256:" : t_rand_u64() % 2 ? "sha256-" : "sha265:";
        snprintf(d, sizeof d, "%s", pre);
        for (int i = 0; i < len; i++) d[7 + i] = t_rand_u64() % 8 ? "0123456789abcdefABCDEF"[t_rand_u64() % 22] : pool[t_rand_u64() % 27];
        d[7 + len] = '\0';
        int want = len == 64 && strncmp(pre, "sha265", 6);
        for (int i = 0; i < len && want; i++) want = strchr("0123456789abcdefABCDEF", d[7 + i]) != NULL;
        CHECK(rl_digest_valid(d) == want, "'%s': want %d", d, want);
        if (t_current_failed) return;
    }
    CHECK(!rl_digest_valid(NULL) && !rl_digest_valid("") && !rl_digest_valid("sha256"), "short strings");
}

static void t_resolve_layer_errors(void) {
    rl_model_ref r;
    rl_error err;
    fake_model fm;
    rl_status st;

    /* two model layers */
    const char *root = new_store();
    fake_layer two[] = {{RL_MEDIA_MODEL, "m1", 0, 0, 0, 0}, {RL_MEDIA_MODEL, "m2", 0, 0, 0, 0}};
    put_model(root, "registry.ollama.ai/library/two/latest", "{}", two, 2, &fm);
    st = resolve(root, "two", &r, &err);
    CHECK(st != RL_OK && strstr(err.msg, "has 2 application/vnd.ollama.image.model layers; expected exactly one"),
          "two model layers: %s", err.msg);

    /* no model layer; safetensors hint */
    fake_layer none[] = {{RL_MEDIA_LICENSE, "lic", 0, 0, 0, 0}};
    put_model(root, "registry.ollama.ai/library/none/latest", "{}", none, 1, &fm);
    st = resolve(root, "none", &r, &err);
    CHECK(st != RL_OK && strstr(err.msg, "has no application/vnd.ollama.image.model layer") && strstr(err.msg, fm.manifest),
          "no model layer: %s", err.msg);
    fake_layer mlx[] = {{"application/vnd.ollama.image.tensor", "t", 0, 0, 0, 0}};
    put_model(root, "registry.ollama.ai/library/mlx/latest", "{}", mlx, 1, &fm);
    st = resolve(root, "mlx", &r, &err);
    CHECK(st != RL_OK && strstr(err.msg, "safetensors"), "MLX hint: %s", err.msg);

    /* two projectors */
    fake_layer proj2[] = {{RL_MEDIA_MODEL, NULL, 0, 0, 0, 0}, {RL_MEDIA_PROJECTOR, "p1", 0, 0, 0, 0},
                          {RL_MEDIA_PROJECTOR, "p2", 0, 0, 0, 0}};
    put_model(root, "registry.ollama.ai/library/proj2/latest", "{}", proj2, 3, &fm);
    st = resolve(root, "proj2", &r, &err);
    CHECK(st != RL_OK && strstr(err.msg, "projector layers; expected at most one"), "two projectors: %s", err.msg);

    /* uppercase digest in the manifest, blob stored lowercase (as Ollama writes it) */
    fake_layer up[] = {{RL_MEDIA_MODEL, "upper-digest-model", 1, 0, 0, 0}};
    put_model(root, "registry.ollama.ai/library/upper/latest", "{}", up, 1, &fm);
    st = resolve(root, "upper", &r, &err);
    CHECK(st == RL_OK && !strcmp(r.model_path, fm.blob[1]) && !strcmp(r.model_digest, fm.digest[1]),
          "uppercase digest: %s", err.msg);
    if (st == RL_OK) rl_model_ref_free(&r);

    /* missing model blob: names media type, digest and the expected path */
    fake_layer miss[] = {{RL_MEDIA_MODEL, "never written", 0, 1, 0, 0}};
    put_model(root, "registry.ollama.ai/library/miss/latest", "{}", miss, 1, &fm);
    st = resolve(root, "miss", &r, &err);
    CHECK(st == RL_ERR_NOT_FOUND && strstr(err.msg, RL_MEDIA_MODEL) && strstr(err.msg, fm.digest[1]) &&
              strstr(err.msg, fm.blob[1]),
          "missing blob: %s", err.msg);
    /* missing text blob too */
    fake_layer miss2[] = {{RL_MEDIA_MODEL, NULL, 0, 0, 0, 0}, {RL_MEDIA_TEMPLATE, "tmpl never written", 0, 1, 0, 0}};
    put_model(root, "registry.ollama.ai/library/miss2/latest", "{}", miss2, 2, &fm);
    st = resolve(root, "miss2", &r, &err);
    CHECK(st == RL_ERR_NOT_FOUND && strstr(err.msg, RL_MEDIA_TEMPLATE) && strstr(err.msg, fm.blob[2]),
          "missing template blob: %s", err.msg);
    /* missing config blob */
    fake_layer ok1[] = {{RL_MEDIA_MODEL, NULL, 0, 0, 0, 0}};
    put_model(root, "registry.ollama.ai/library/nocfg/latest", "{\"config-not-written\":1}", ok1, 1, &fm);
    unlink(fm.blob[0]);
    st = resolve(root, "nocfg", &r, &err);
    CHECK(st == RL_ERR_NOT_FOUND && strstr(err.msg, "application/vnd.docker.container.image.v1+json"),
          "missing config blob: %s", err.msg);

    /* blob size differs from the manifest */
    fake_layer trunc[] = {{RL_MEDIA_MODEL, "short blob", 0, 0, 100, 0}};
    put_model(root, "registry.ollama.ai/library/trunc/latest", "{}", trunc, 1, &fm);
    st = resolve(root, "trunc", &r, &err);
    CHECK(st == RL_ERR_TRUNCATED && strstr(err.msg, "10 bytes but the manifest says 110"), "size mismatch: %s", err.msg);

    /* oversized text layer (sparse file, 16 MiB + 1) */
    fake_layer big[] = {{RL_MEDIA_MODEL, NULL, 0, 0, 0, 0}, {RL_MEDIA_LICENSE, "", 0, 0, 0, RL_TEXT_LAYER_MAX + 1}};
    put_model(root, "registry.ollama.ai/library/big/latest", "{}", big, 2, &fm);
    st = resolve(root, "big", &r, &err);
    CHECK(st == RL_ERR_LIMIT && strstr(err.msg, RL_MEDIA_LICENSE) && strstr(err.msg, "limit"), "oversized: %s", err.msg);
    /* exactly at the cap is fine */
    fake_layer cap[] = {{RL_MEDIA_MODEL, NULL, 0, 0, 0, 0}, {RL_MEDIA_SYSTEM, "", 0, 0, 0, RL_TEXT_LAYER_MAX}};
    put_model(root, "registry.ollama.ai/library/cap/latest", "{}", cap, 2, &fm);
    st = resolve(root, "cap", &r, &err);
    CHECK(st == RL_OK && r.system_text, "text layer at the cap: %s", err.msg);
    if (st == RL_OK) rl_model_ref_free(&r);

    /* params that are not a JSON object, config that is not JSON */
    fake_layer badp[] = {{RL_MEDIA_MODEL, NULL, 0, 0, 0, 0}, {RL_MEDIA_PARAMS, "{\"stop\": [", 0, 0, 0, 0}};
    put_model(root, "registry.ollama.ai/library/badp/latest", "{}", badp, 2, &fm);
    st = resolve(root, "badp", &r, &err);
    CHECK(st != RL_OK && strstr(err.msg, "params layer") && strstr(err.msg, "line 1"), "bad params: %s", err.msg);
    fake_layer arrp[] = {{RL_MEDIA_MODEL, NULL, 0, 0, 0, 0}, {RL_MEDIA_PARAMS, "[1]", 0, 0, 0, 0}};
    put_model(root, "registry.ollama.ai/library/arrp/latest", "{}", arrp, 2, &fm);
    st = resolve(root, "arrp", &r, &err);
    CHECK(st != RL_OK && strstr(err.msg, "not a JSON object"), "array params: %s", err.msg);
    put_model(root, "registry.ollama.ai/library/badcfg/latest", "{\"renderer\": gemma4}", ok1, 1, &fm);
    st = resolve(root, "badcfg", &r, &err);
    CHECK(st != RL_OK && strstr(err.msg, "config blob") && strstr(err.msg, "column"), "bad config: %s", err.msg);

    /* a malformed manifest on disk: message names the manifest path */
    char path[700];
    snprintf(path, sizeof path, "%s/manifests/registry.ollama.ai/library/broken/latest", root);
    write_file(path, "{\"schemaVersion\":2,\"config\":{", 29);
    st = resolve(root, "broken", &r, &err);
    char want[800];
    snprintf(want, sizeof want, "manifest %s: not valid JSON", path);
    CHECK(st != RL_OK && strstr(err.msg, want), "broken manifest: %s", err.msg);
}

/* ---- listing ---- */

static void t_list(void) {
    const char *root = new_store();
    fake_model a, b, c, d;
    put_simple(root, "registry.ollama.ai/library/gemma4/e2b", &a);
    fake_layer two[] = {{RL_MEDIA_MODEL, NULL, 0, 0, 0, 0}, {RL_MEDIA_LICENSE, "license text", 0, 0, 0, 0}};
    put_model(root, "registry.ollama.ai/library/gemma4/latest", gemma_config, two, 2, &b);
    put_model(root, "registry.ollama.ai/alice/tiny/v1", "{}", two, 2, &c);
    put_simple(root, "example.com/team/m/v2", &d);
    /* things that must be skipped */
    char p[800];
    snprintf(p, sizeof p, "%s/manifests/registry.ollama.ai/library/broken/latest", root);
    write_file(p, "{not json", 9);
    snprintf(p, sizeof p, "%s/manifests/registry.ollama.ai/library/.hidden/latest", root);
    write_file(p, "{}", 2);
    snprintf(p, sizeof p, "%s/manifests/registry.ollama.ai/library/deep/er/latest", root); /* 5 levels */
    write_file(p, "{}", 2);
    snprintf(p, sizeof p, "%s/manifests/registry.ollama.ai/library/stray", root); /* file at level 3 */
    write_file(p, "{}", 2);
    snprintf(p, sizeof p, "%s/manifests/registry.ollama.ai/lib.dot/m/latest", root); /* invalid namespace */
    write_file(p, "{}", 2);

    rl_model_entry *e = NULL;
    size_t n = 0;
    rl_error err = {0};
    rl_status st = rl_ollama_list(rl_host_default(), root, &e, &n, &err);
    CHECK(st == RL_OK, "%s", err.msg);
    CHECK(n == 4, "4 models listed, got %zu", n);
    if (st || n != 4) {
        free(e);
        return;
    }
    /* sorted by short name */
    const char *names[] = {"alice/tiny:v1", "example.com/team/m:v2", "gemma4:e2b", "gemma4:latest"};
    const char *full[] = {"registry.ollama.ai/alice/tiny:v1", "example.com/team/m:v2",
                          "registry.ollama.ai/library/gemma4:e2b", "registry.ollama.ai/library/gemma4:latest"};
    fake_model *fms[] = {&c, &d, &a, &b};
    for (size_t i = 0; i < 4; i++) {
        CHECK(!strcmp(e[i].name, names[i]), "entry %zu name %s", i, e[i].name);
        CHECK(!strcmp(e[i].full_name, full[i]), "entry %zu full name %s", i, e[i].full_name);
        CHECK(e[i].size == fms[i]->total, "entry %zu size %llu want %llu", i, (unsigned long long)e[i].size,
              fms[i]->total);
        CHECK(!strcmp(e[i].digest, fms[i]->digest[1]), "entry %zu model digest", i);
        CHECK(!strcmp(e[i].manifest_digest, fms[i]->manifest_sha), "entry %zu manifest digest", i);
    }
    CHECK(!strcmp(e[2].family, "gemma4") && !strcmp(e[2].parameter_size, "5.1B") && !strcmp(e[2].quantization, "Q4_K_M"),
          "details from config");
    CHECK(e[0].family[0] == '\0', "empty config gives empty details");
    free(e);

    /* empty and missing stores are empty lists */
    st = rl_ollama_list(rl_host_default(), new_store(), &e, &n, &err);
    CHECK(st == RL_OK && n == 0, "empty store");
    free(e);
    snprintf(p, sizeof p, "%s/nothing-here", root);
    st = rl_ollama_list(rl_host_default(), p, &e, &n, &err);
    CHECK(st == RL_OK && n == 0, "missing store");
    free(e);
}

static void t_human_bytes(void) {
    /* expectations worked out by hand from the rule Ollama's format.HumanBytes
     * follows (decimal units; >= 10 truncated; else one decimal unless whole) */
    static const struct {
        unsigned long long b;
        const char *want;
    } cases[] = {
        {0, "0 B"},           {1, "1 B"},           {999, "999 B"},          {1000, "1 KB"},
        {1500, "1.5 KB"},     {9999, "10.0 KB"},    {10000, "10 KB"},        {99999, "99 KB"},
        {999999, "999 KB"},   {1000000, "1 MB"},    {2500000, "2.5 MB"},     {7162394016ull, "7.2 GB"},
        {3000000000ull, "3 GB"}, {12345678901ull, "12 GB"}, {1000000000000ull, "1 TB"}, {1250000000000ull, "1.2 TB"},
        {123456789012345ull, "123 TB"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[32];
        rl_human_bytes(cases[i].b, out, sizeof out);
        CHECK(!strcmp(out, cases[i].want), "%llu: got '%s' want '%s'", cases[i].b, out, cases[i].want);
    }
}

const t_case T_CASES[] = {
    {"name_forms", t_name_forms},
    {"name_invalid", t_name_invalid},
    {"random_name_round_trip", t_random_name_round_trip},
    {"random_name_validity", t_random_name_validity},
    {"root", t_root},
    {"resolve_forms", t_resolve_forms},
    {"resolve_text_layers", t_resolve_text_layers},
    {"case_insensitive", t_case_insensitive},
    {"env_override_resolution", t_env_override_resolution},
    {"path_spec", t_path_spec},
    {"unknown_model", t_unknown_model},
    {"traversal", t_traversal},
    {"manifest_parse_errors", t_manifest_parse_errors},
    {"manifest_parse_ok", t_manifest_parse_ok},
    {"digest_valid", t_digest_valid},
    {"resolve_layer_errors", t_resolve_layer_errors},
    {"list", t_list},
    {"human_bytes", t_human_bytes},
    {0},
};
const char *T_SUITE = "ollama";
