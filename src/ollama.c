/* Ollama's on-disk store: root directory, name -> manifest -> blobs
 * resolution, and listing. Every file access goes through rl_host. */
#include "ollama.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "json.h"
#include "sha256.h"

/* ---- small helpers ---- */

static char *dup_str(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p) memcpy(p, s, n + 1);
    return p;
}

static char *path_join(const char *a, const char *b) {
    size_t na = strlen(a), nb = strlen(b);
    char *p = malloc(na + nb + 2);
    if (!p) return NULL;
    memcpy(p, a, na);
    p[na] = '/';
    memcpy(p + na + 1, b, nb + 1);
    return p;
}

static char fold(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

static int equal_fold(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (fold(*a) != fold(*b)) return 0;
    return *a == *b;
}

/* Directory entries collected from rl_host's callback, sorted by name. */
typedef struct {
    char **names;
    int *is_dir;
    size_t n, cap;
    int failed;
} dir_list;

static void dir_collect(void *ctx, const char *name, int is_dir) {
    dir_list *d = ctx;
    if (d->failed) return;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        char **names = realloc(d->names, cap * sizeof *names);
        if (names) d->names = names;
        int *dirs = names ? realloc(d->is_dir, cap * sizeof *dirs) : NULL;
        if (dirs) d->is_dir = dirs;
        if (!names || !dirs) {
            d->failed = 1;
            return;
        }
        d->cap = cap;
    }
    char *copy = dup_str(name);
    if (!copy) {
        d->failed = 1;
        return;
    }
    d->names[d->n] = copy;
    d->is_dir[d->n++] = is_dir;
}

static void dir_list_free(dir_list *d) {
    for (size_t i = 0; i < d->n; i++) free(d->names[i]);
    free(d->names);
    free(d->is_dir);
    memset(d, 0, sizeof *d);
}

static rl_status dir_read(rl_host *h, const char *path, dir_list *d, rl_error *err) {
    memset(d, 0, sizeof *d);
    rl_status st = h->list_dir(h, path, dir_collect, d, err);
    if (st == RL_OK && d->failed) st = rl_fail(err, RL_ERR_NOMEM, "listing %s: out of memory", path);
    if (st) {
        dir_list_free(d);
        return st;
    }
    /* insertion sort keeps name/is_dir pairs together; directories are small */
    for (size_t i = 1; i < d->n; i++) {
        for (size_t j = i; j > 0 && strcmp(d->names[j - 1], d->names[j]) > 0; j--) {
            char *t = d->names[j];
            d->names[j] = d->names[j - 1];
            d->names[j - 1] = t;
            int k = d->is_dir[j];
            d->is_dir[j] = d->is_dir[j - 1];
            d->is_dir[j - 1] = k;
        }
    }
    return RL_OK;
}

/* ---- root and formatting ---- */

rl_status rl_ollama_root(rl_host *h, char *out, size_t cap, rl_error *err) {
    const char *models = h->getenv ? h->getenv(h, "OLLAMA_MODELS") : NULL;
    int n;
    if (models && models[0]) {
        size_t len = strlen(models);
        while (len > 1 && models[len - 1] == '/') len--; /* "dir/" and "dir" are the same store */
        n = snprintf(out, cap, "%.*s", (int)len, models);
    } else {
        const char *home = h->getenv ? h->getenv(h, "HOME") : NULL;
        if (!home || !home[0])
            return rl_fail(err, RL_ERR_NOT_FOUND,
                           "cannot find the Ollama model store: neither OLLAMA_MODELS nor HOME is set "
                           "(set OLLAMA_MODELS to the models directory, e.g. ~/.ollama/models)");
        size_t len = strlen(home);
        while (len > 1 && home[len - 1] == '/') len--;
        n = snprintf(out, cap, "%.*s/.ollama/models", (int)len, home);
    }
    if (n < 0 || (size_t)n >= cap)
        return rl_fail(err, RL_ERR_LIMIT, "the Ollama model store path is longer than %zu bytes", cap - 1);
    return RL_OK;
}

void rl_human_bytes(uint64_t b, char *out, size_t cap) {
    static const struct {
        double scale;
        const char *unit;
    } units[] = {{1e12, "TB"}, {1e9, "GB"}, {1e6, "MB"}, {1e3, "KB"}};
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        if ((double)b < units[i].scale) continue;
        double v = (double)b / units[i].scale;
        if (v >= 10 || v == (double)(uint64_t)v)
            snprintf(out, cap, "%llu %s", (unsigned long long)v, units[i].unit);
        else
            snprintf(out, cap, "%.1f %s", v, units[i].unit);
        return;
    }
    snprintf(out, cap, "%llu B", (unsigned long long)b);
}

/* ---- listing ---- */

typedef struct {
    rl_model_entry *items;
    size_t n, cap;
} entry_vec;

static int entry_push(entry_vec *v, const rl_model_entry *e) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        rl_model_entry *items = realloc(v->items, cap * sizeof *items);
        if (!items) return 0;
        v->items = items;
        v->cap = cap;
    }
    v->items[v->n++] = *e;
    return 1;
}

static int entry_cmp(const void *a, const void *b) {
    return strcmp(((const rl_model_entry *)a)->name, ((const rl_model_entry *)b)->name);
}

/* Open a layer's blob: the digest's hex as written (what Ollama does), then
 * lowercased (Ollama only ever writes lowercase; a hand-edited manifest may
 * not). On success *path is malloc'd and the handle is closed. */
static rl_status find_blob(rl_host *h, const char *root, const char *digest, char **path, uint64_t *size,
                           rl_error *err) {
    rl_status st = rl_blob_path(root, digest, path, err);
    if (st) return st;
    rl_error e1 = {0};
    int fd = h->open(h, *path, size, &e1);
    if (fd < 0 && e1.code == RL_ERR_NOT_FOUND) {
        char *lower = dup_str(*path);
        if (!lower) {
            free(*path);
            *path = NULL;
            return rl_fail(err, RL_ERR_NOMEM, "cannot allocate a blob path");
        }
        for (char *p = lower + strlen(lower) - 64; *p; p++) *p = fold(*p);
        if (strcmp(lower, *path)) {
            rl_error e2 = {0};
            fd = h->open(h, lower, size, &e2);
            if (fd >= 0) {
                free(*path);
                *path = lower;
                lower = NULL;
            }
        }
        free(lower);
    }
    if (fd < 0) {
        free(*path);
        *path = NULL;
        if (err) *err = e1;
        return e1.code ? e1.code : RL_ERR_IO;
    }
    h->close(h, fd);
    return RL_OK;
}

/* Copy a string member of a config object into dst (empty if absent). */
static void copy_member(const json_value *obj, const char *key, char *dst, size_t cap) {
    const char *s = json_get_str(obj, key);
    snprintf(dst, cap, "%s", s ? s : "");
}

/* Fill family/parameter size/quantization from the config blob; best effort. */
static void entry_details(rl_host *h, const char *root, const rl_manifest *m, rl_model_entry *e) {
    char *path = NULL, *text = NULL;
    size_t len = 0;
    uint64_t size;
    rl_error err = {0};
    json_value *cfg = NULL;
    if (find_blob(h, root, m->config.digest, &path, &size, &err) == RL_OK &&
        rl_host_read_all(h, path, RL_TEXT_LAYER_MAX, &text, &len, &err) == RL_OK &&
        json_parse(text, len, &cfg, &err) == RL_OK) {
        copy_member(cfg, "model_family", e->family, sizeof e->family);
        copy_member(cfg, "model_type", e->parameter_size, sizeof e->parameter_size);
        copy_member(cfg, "file_type", e->quantization, sizeof e->quantization);
    }
    json_free(cfg);
    free(text);
    free(path);
}

/* Read and parse one manifest into an entry; 0 if it should be skipped. */
static int list_one(rl_host *h, const char *root, const char *path, const rl_model_name *n, rl_model_entry *e) {
    char *text = NULL;
    size_t len = 0;
    rl_error err = {0};
    rl_manifest m;
    if (rl_host_read_all(h, path, RL_MANIFEST_MAX, &text, &len, &err)) return 0;
    if (rl_manifest_parse(text, len, path, &m, &err)) {
        free(text);
        return 0;
    }
    memset(e, 0, sizeof *e);
    rl_model_name_display(n, e->name, sizeof e->name);
    rl_model_name_format(n, e->full_name, sizeof e->full_name);
    rl_sha256_hex(text, len, e->manifest_digest);
    free(text);
    e->size = m.config.size;
    for (size_t i = 0; i < m.n_layers; i++) {
        e->size += m.layers[i].size;
        if (!e->digest[0] && !strcmp(m.layers[i].media_type, RL_MEDIA_MODEL))
            snprintf(e->digest, sizeof e->digest, "%s", m.layers[i].digest);
    }
    entry_details(h, root, &m, e);
    rl_manifest_free(&m);
    return 1;
}

/* Walk manifests/<host>/<ns>/<model>/<tag> (exactly 4 levels, like Ollama's
 * glob); path components that are not valid name parts are skipped. */
static rl_status list_level(rl_host *h, const char *root, const char *dir, int level, rl_model_name *n,
                            entry_vec *v, rl_error *err) {
    dir_list d;
    rl_error lerr = {0};
    if (dir_read(h, dir, &d, &lerr)) {
        if (lerr.code == RL_ERR_NOMEM) return rl_fail(err, RL_ERR_NOMEM, "%s", lerr.msg);
        return RL_OK; /* unreadable subdirectory: skip, like a broken manifest */
    }
    char *parts[4] = {n->host, n->ns, n->model, n->tag};
    size_t caps[4] = {sizeof n->host, sizeof n->ns, sizeof n->model, sizeof n->tag};
    rl_status st = RL_OK;
    for (size_t i = 0; i < d.n && st == RL_OK; i++) {
        const char *name = d.names[i];
        if (d.is_dir[i] != (level < 3) || rl_model_name_part_problem(level, name, strlen(name))) continue;
        snprintf(parts[level], caps[level], "%s", name);
        char *sub = path_join(dir, name);
        if (!sub) {
            st = rl_fail(err, RL_ERR_NOMEM, "listing %s: out of memory", dir);
            break;
        }
        if (level < 3) {
            st = list_level(h, root, sub, level + 1, n, v, err);
        } else {
            rl_model_entry e;
            if (list_one(h, root, sub, n, &e) && !entry_push(v, &e))
                st = rl_fail(err, RL_ERR_NOMEM, "listing %s: out of memory", dir);
        }
        free(sub);
    }
    dir_list_free(&d);
    return st;
}

rl_status rl_ollama_list(rl_host *h, const char *root, rl_model_entry **out, size_t *n, rl_error *err) {
    *out = NULL;
    *n = 0;
    char *manifests = path_join(root, "manifests");
    if (!manifests) return rl_fail(err, RL_ERR_NOMEM, "out of memory");
    entry_vec v = {0};
    rl_model_name name;
    memset(&name, 0, sizeof name);
    dir_list probe;
    rl_error perr = {0};
    rl_status st = dir_read(h, manifests, &probe, &perr);
    if (st == RL_ERR_NOT_FOUND) {
        free(manifests);
        return RL_OK; /* no store yet: an empty list */
    }
    if (st) {
        free(manifests);
        if (err) *err = perr;
        return st;
    }
    dir_list_free(&probe);
    st = list_level(h, root, manifests, 0, &name, &v, err);
    free(manifests);
    if (st) {
        free(v.items);
        return st;
    }
    if (v.n) qsort(v.items, v.n, sizeof *v.items, entry_cmp);
    *out = v.items;
    *n = v.n;
    return RL_OK;
}

/* ---- resolution ---- */

/* "model 'x' not found in <root>; available: a, b, c" (or why the store is empty). */
static rl_status not_found(rl_host *h, const char *root, const char *spec, rl_error *err) {
    rl_model_entry *items = NULL;
    size_t n = 0;
    rl_error lerr = {0};
    if (rl_ollama_list(h, root, &items, &n, &lerr) != RL_OK || n == 0) {
        free(items);
        return rl_fail(err, RL_ERR_NOT_FOUND,
                       "model '%.200s' not found: the Ollama store %s has no models (pull one with 'ollama pull', "
                       "or set OLLAMA_MODELS to the directory that holds manifests/ and blobs/)",
                       spec, root);
    }
    strbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < n; i++) {
        if (sb.len > 200) {
            sb_printf(&sb, ", ... (%zu more)", n - i);
            break;
        }
        sb_printf(&sb, "%s%s", i ? ", " : "", items[i].name);
    }
    free(items);
    rl_status st = rl_fail(err, RL_ERR_NOT_FOUND, "model '%.120s' not found in %s; available: %s", spec, root,
                           sb.s ? sb.s : "");
    sb_free(&sb);
    return st;
}

/* Case-insensitive search below dir for parts[level..3]: directories for the
 * first three levels, a file for the tag. Exact-case entries are tried first,
 * then the other spellings in name order, backtracking if a branch dead-ends.
 * Depth is fixed at 4, and only entries equal to the wanted part (ignoring
 * ASCII case) are followed, so the walk stays small. */
static rl_status scan_fold(rl_host *h, const char *dir, const char *const parts[4], int level, char *fparts[4],
                           const size_t caps[4], char **path) {
    dir_list d;
    rl_error e = {0};
    if (dir_read(h, dir, &d, &e)) return e.code == RL_ERR_NOMEM ? RL_ERR_NOMEM : RL_ERR_NOT_FOUND;
    rl_status st = RL_ERR_NOT_FOUND;
    for (int pass = 0; pass < 2 && st == RL_ERR_NOT_FOUND; pass++) {
        for (size_t i = 0; i < d.n && st == RL_ERR_NOT_FOUND; i++) {
            const char *name = d.names[i];
            int exact = !strcmp(name, parts[level]);
            if (d.is_dir[i] != (level < 3) || exact != (pass == 0) || !equal_fold(name, parts[level])) continue;
            char *sub = path_join(dir, name);
            if (!sub) {
                st = RL_ERR_NOMEM;
                break;
            }
            snprintf(fparts[level], caps[level], "%s", name);
            if (level == 3) {
                *path = sub;
                st = RL_OK;
            } else {
                st = scan_fold(h, sub, parts, level + 1, fparts, caps, path);
                free(sub);
            }
        }
    }
    dir_list_free(&d);
    return st;
}

/* Find the manifest for n: the exact path, then a case-insensitive scan (the
 * spelling on disk may differ from what was typed, as on macOS, where Ollama
 * finds it through the filesystem). Fills *found with the on-disk spelling.
 * Returns RL_ERR_NOT_FOUND (without a message) if absent. */
static rl_status find_manifest(rl_host *h, const char *root, const rl_model_name *n, char **path,
                               rl_model_name *found) {
    const char *const parts[4] = {n->host, n->ns, n->model, n->tag};
    char *fparts[4] = {found->host, found->ns, found->model, found->tag};
    const size_t caps[4] = {sizeof found->host, sizeof found->ns, sizeof found->model, sizeof found->tag};
    *found = *n;
    *path = NULL;
    char *dir = path_join(root, "manifests");
    if (!dir) return RL_ERR_NOMEM;
    strbuf sb;
    sb_init(&sb);
    sb_printf(&sb, "%s/%s/%s/%s/%s", dir, n->host, n->ns, n->model, n->tag);
    if (sb.failed) {
        free(dir);
        sb_free(&sb);
        return RL_ERR_NOMEM;
    }
    uint64_t size;
    rl_error e = {0};
    int fd = h->open(h, sb.s, &size, &e);
    if (fd >= 0) {
        h->close(h, fd);
        free(dir);
        *path = sb_take(&sb);
        return RL_OK;
    }
    sb_free(&sb);
    rl_status st = scan_fold(h, dir, parts, 0, fparts, caps, path);
    free(dir);
    if (st) *found = *n;
    return st;
}

/* Resolve a layer's blob, check it exists and has the manifest's size. */
static rl_status layer_blob(rl_host *h, const char *root, const char *name, const rl_manifest_layer *l,
                            char **path, rl_error *err) {
    uint64_t size = 0;
    rl_error e = {0};
    rl_status st = find_blob(h, root, l->digest, path, &size, &e);
    if (st == RL_ERR_NOT_FOUND) {
        char *want = NULL;
        rl_blob_path(root, l->digest, &want, NULL);
        st = rl_fail(err, RL_ERR_NOT_FOUND, "model '%s': the blob of its %s layer (%s) is missing: expected %s",
                     name, l->media_type, l->digest, want ? want : "?");
        free(want);
        return st;
    }
    if (st) {
        if (err) *err = e;
        return rl_fail_ctx(err, "model '%s': %s layer %s", name, l->media_type, l->digest);
    }
    if (size != l->size) {
        st = rl_fail(err, RL_ERR_TRUNCATED,
                     "model '%s': blob %s of its %s layer is %llu bytes but the manifest says %llu "
                     "(incomplete download? try 'ollama pull' again)",
                     name, *path, l->media_type, (unsigned long long)size, (unsigned long long)l->size);
        free(*path);
        *path = NULL;
    }
    return st;
}

/* Read a small text layer (template, system, license, params, config). */
static rl_status layer_text(rl_host *h, const char *root, const char *name, const rl_manifest_layer *l, char **text,
                            size_t *len, rl_error *err) {
    char *path = NULL;
    rl_status st = layer_blob(h, root, name, l, &path, err);
    if (st) return st;
    st = rl_host_read_all(h, path, RL_TEXT_LAYER_MAX, text, len, err);
    free(path);
    if (st) return rl_fail_ctx(err, "model '%s': %s layer %s", name, l->media_type, l->digest);
    return RL_OK;
}

static rl_status set_text(char **slot, char *text, int append) {
    if (append && *slot) {
        size_t a = strlen(*slot), b = strlen(text);
        char *joined = malloc(a + b + 3);
        if (!joined) {
            free(text);
            return RL_ERR_NOMEM;
        }
        memcpy(joined, *slot, a);
        memcpy(joined + a, "\n\n", 2);
        memcpy(joined + a + 2, text, b + 1);
        free(*slot);
        free(text);
        *slot = joined;
        return RL_OK;
    }
    free(*slot); /* later layers win, as in Ollama */
    *slot = text;
    return RL_OK;
}

static rl_status read_config(rl_host *h, const char *root, const char *name, const rl_manifest *m,
                             rl_model_ref *out, rl_error *err) {
    size_t len = 0;
    rl_status st = layer_text(h, root, name, &m->config, &out->config_json, &len, err);
    if (st) return st;
    json_value *cfg = NULL;
    if ((st = json_parse(out->config_json, len, &cfg, err)))
        return rl_fail_ctx(err, "model '%s': config blob %s", name, m->config.digest);
    if (cfg->type != JSON_OBJECT) {
        json_free(cfg);
        return rl_fail(err, RL_ERR_FORMAT, "model '%s': config blob %s is not a JSON object", name, m->config.digest);
    }
    static const struct {
        const char *key;
        size_t offset;
    } fields[] = {
        {"renderer", offsetof(rl_model_ref, renderer)},
        {"parser", offsetof(rl_model_ref, parser)},
        {"model_family", offsetof(rl_model_ref, model_family)},
        {"architecture", offsetof(rl_model_ref, architecture)},
        {"model_type", offsetof(rl_model_ref, model_type)},
        {"file_type", offsetof(rl_model_ref, file_type)},
    };
    for (size_t i = 0; i < sizeof fields / sizeof *fields && st == RL_OK; i++) {
        const char *s = json_get_str(cfg, fields[i].key);
        char **slot = (char **)((char *)out + fields[i].offset);
        if (s && s[0] && !(*slot = dup_str(s))) st = rl_fail(err, RL_ERR_NOMEM, "out of memory");
    }
    json_free(cfg);
    return st;
}

/* A layer's role: which rl_model_ref field it fills. */
typedef enum { ROLE_OTHER, ROLE_MODEL, ROLE_PROJECTOR, ROLE_PARAMS, ROLE_TEMPLATE, ROLE_PROMPT, ROLE_SYSTEM, ROLE_LICENSE } layer_role;

static layer_role role_of(const char *media_type) {
    static const struct {
        const char *media;
        layer_role role;
    } roles[] = {
        {RL_MEDIA_MODEL, ROLE_MODEL},       {RL_MEDIA_PROJECTOR, ROLE_PROJECTOR}, {RL_MEDIA_PARAMS, ROLE_PARAMS},
        {RL_MEDIA_TEMPLATE, ROLE_TEMPLATE}, {RL_MEDIA_PROMPT, ROLE_PROMPT},       {RL_MEDIA_SYSTEM, ROLE_SYSTEM},
        {RL_MEDIA_LICENSE, ROLE_LICENSE},
    };
    for (size_t i = 0; i < sizeof roles / sizeof *roles; i++)
        if (!strcmp(media_type, roles[i].media)) return roles[i].role;
    return ROLE_OTHER;
}

static rl_status resolve_layers(rl_host *h, const char *root, const rl_manifest *m, rl_model_ref *out, rl_error *err) {
    const char *name = out->name;
    const rl_manifest_layer *model = NULL, *projector = NULL;
    size_t n_model = 0, n_projector = 0, n_tensor = 0;
    for (size_t i = 0; i < m->n_layers; i++) {
        layer_role r = role_of(m->layers[i].media_type);
        if (r == ROLE_MODEL) n_model++, model = model ? model : &m->layers[i];
        if (r == ROLE_PROJECTOR) n_projector++, projector = projector ? projector : &m->layers[i];
        if (!strcmp(m->layers[i].media_type, "application/vnd.ollama.image.tensor")) n_tensor++;
    }
    if (n_model == 0)
        return rl_fail(err, RL_ERR_UNSUPPORTED, "model '%s': manifest %s has no %s layer (no GGUF file)%s", name,
                       out->manifest_path, RL_MEDIA_MODEL,
                       n_tensor ? "; it is a safetensors (MLX) model, which rullama cannot run" : "");
    if (n_model > 1)
        return rl_fail(err, RL_ERR_UNSUPPORTED, "model '%s': manifest %s has %zu %s layers; expected exactly one",
                       name, out->manifest_path, n_model, RL_MEDIA_MODEL);
    if (n_projector > 1)
        return rl_fail(err, RL_ERR_UNSUPPORTED, "model '%s': manifest %s has %zu %s layers; expected at most one",
                       name, out->manifest_path, n_projector, RL_MEDIA_PROJECTOR);
    rl_status st = layer_blob(h, root, name, model, &out->model_path, err);
    if (st) return st;
    out->model_size = model->size;
    if (!(out->model_digest = dup_str(model->digest))) return rl_fail(err, RL_ERR_NOMEM, "out of memory");
    if (projector && (st = layer_blob(h, root, name, projector, &out->projector_path, err))) return st;

    char *prompt = NULL;
    for (size_t i = 0; i < m->n_layers && st == RL_OK; i++) {
        const rl_manifest_layer *l = &m->layers[i];
        layer_role r = role_of(l->media_type);
        char **slot = r == ROLE_PARAMS ? &out->params_json : r == ROLE_TEMPLATE ? &out->template_text
                    : r == ROLE_PROMPT ? &prompt : r == ROLE_SYSTEM ? &out->system_text
                    : r == ROLE_LICENSE ? &out->license_text : NULL;
        if (!slot) continue;
        char *text = NULL;
        size_t len = 0;
        if ((st = layer_text(h, root, name, l, &text, &len, err))) break;
        if (r == ROLE_PARAMS) {
            json_value *p = NULL;
            st = json_parse(text, len, &p, err);
            if (st) rl_fail_ctx(err, "model '%s': params layer %s", name, l->digest);
            else if (p->type != JSON_OBJECT)
                st = rl_fail(err, RL_ERR_FORMAT, "model '%s': params layer %s is not a JSON object", name, l->digest);
            json_free(p);
            if (st) {
                free(text);
                break;
            }
        }
        if (set_text(slot, text, r == ROLE_LICENSE)) st = rl_fail(err, RL_ERR_NOMEM, "out of memory");
    }
    if (st == RL_OK && !out->template_text) { /* the legacy "prompt" layer is a template */
        out->template_text = prompt;
        prompt = NULL;
    }
    free(prompt);
    if (st) return st;
    return read_config(h, root, name, m, out, err);
}

rl_status rl_model_resolve(rl_host *h, const char *root, const char *spec, rl_model_ref *out, rl_error *err) {
    memset(out, 0, sizeof *out);
    if (!spec || !spec[0]) return rl_fail(err, RL_ERR_INVALID, "no model given");
    /* An existing regular file is used as is (a GGUF or a blob). */
    uint64_t size = 0;
    rl_error ferr = {0};
    int fd = h->open(h, spec, &size, &ferr);
    if (fd >= 0) {
        h->close(h, fd);
        out->model_path = dup_str(spec);
        out->model_size = size;
        return out->model_path ? RL_OK : rl_fail(err, RL_ERR_NOMEM, "out of memory");
    }
    rl_model_name n, found;
    rl_error nerr = {0};
    if (rl_model_name_parse(spec, &n, &nerr))
        return rl_fail(err, RL_ERR_INVALID, "'%.200s' is neither a file nor a model name (%s)", spec, nerr.msg);
    if (!root || !root[0])
        return rl_fail(err, RL_ERR_NOT_FOUND,
                       "'%.200s' is not a file, and no Ollama model store is known to look it up in "
                       "(set OLLAMA_MODELS to the directory that holds manifests/ and blobs/)",
                       spec);

    char *path = NULL;
    rl_status st = find_manifest(h, root, &n, &path, &found);
    if (st == RL_ERR_NOMEM) return rl_fail(err, st, "out of memory");
    if (st) return not_found(h, root, spec, err);
    out->manifest_path = path;
    char full[1024];
    rl_model_name_format(&found, full, sizeof full);
    if (!(out->name = dup_str(full))) {
        rl_model_ref_free(out);
        return rl_fail(err, RL_ERR_NOMEM, "out of memory");
    }

    char *text = NULL;
    size_t len = 0;
    rl_manifest m;
    st = rl_host_read_all(h, path, RL_MANIFEST_MAX, &text, &len, err);
    if (st == RL_OK) {
        st = rl_manifest_parse(text, len, path, &m, err);
        free(text);
        if (st == RL_OK) {
            st = resolve_layers(h, root, &m, out, err);
            rl_manifest_free(&m);
        }
    }
    if (st) rl_model_ref_free(out);
    return st;
}

void rl_model_ref_free(rl_model_ref *r) {
    char *fields[] = {r->name,          r->model_path,  r->model_digest, r->projector_path, r->params_json,
                      r->template_text, r->system_text, r->license_text, r->config_json,    r->renderer,
                      r->parser,        r->model_family, r->architecture, r->model_type,    r->file_type,
                      r->manifest_path};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) free(fields[i]);
    memset(r, 0, sizeof *r);
}
