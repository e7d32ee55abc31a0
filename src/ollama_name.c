/* Ollama model names: "[host/][namespace/]model[:tag]".
 *
 * Rules (facts read from Ollama's types/model/name.go, ParseNameBare and
 * isValidPart): the tag is what follows the last ':' if that ':' comes after
 * the last '/'; then the model is cut at the last '/', the namespace at the
 * next, and whatever remains is the host (a "scheme://" in front of it is
 * dropped). A separator with nothing on one side makes the name invalid.
 * Each part starts with [A-Za-z0-9_] and continues with [A-Za-z0-9_.-];
 * the namespace may not contain '.', and the host may also contain ':' (a
 * port). Host length 1..350, the other parts 1..80. Defaults:
 * registry.ollama.ai / library / latest.
 *
 * Because no part may contain '/', start with '.', or be empty, a valid name
 * can never climb out of the manifests directory. */
#include <stdio.h>
#include <string.h>

#include "ollama.h"

static const char *const part_names[4] = {"host", "namespace", "model", "tag"};
static const char *const part_defaults[4] = {"registry.ollama.ai", "library", NULL, "latest"};

static int is_word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

const char *rl_model_name_part_problem(int part, const char *s, size_t len) {
    size_t max = part == 0 ? RL_NAME_HOST_MAX : RL_NAME_PART_MAX;
    if (len == 0) return "is empty";
    if (len > max) return part == 0 ? "is longer than 350 characters" : "is longer than 80 characters";
    if (!is_word_char(s[0])) return "must start with a letter, a digit or '_'";
    for (size_t i = 1; i < len; i++) {
        char c = s[i];
        if (is_word_char(c) || c == '-') continue;
        if (c == '.' && part != 1) continue;
        if (c == ':' && part == 0) continue;
        if (c == '.') return "may not contain '.'";
        if (c == '/') return "may not contain '/'";
        return "contains a character Ollama does not allow (allowed: letters, digits, '_', '-', '.')";
    }
    return NULL;
}

/* Write the part [s, s+len) into dst after validating it. */
static rl_status set_part(const char *spec, int part, const char *s, size_t len, char *dst, rl_error *err) {
    const char *why = rl_model_name_part_problem(part, s, len);
    if (why) {
        if (len == 0)
            return rl_fail(err, RL_ERR_INVALID, "invalid model name '%.200s': the %s %s", spec, part_names[part], why);
        return rl_fail(err, RL_ERR_INVALID, "invalid model name '%.200s': %s '%.*s' %s", spec, part_names[part],
                       len > 100 ? 100 : (int)len, s, why);
    }
    memcpy(dst, s, len);
    dst[len] = '\0';
    return RL_OK;
}

static const char *last_of(const char *s, size_t len, char c) {
    for (size_t i = len; i-- > 0;)
        if (s[i] == c) return s + i;
    return NULL;
}

rl_status rl_model_name_parse(const char *spec, rl_model_name *out, rl_error *err) {
    memset(out, 0, sizeof *out);
    if (!spec || !spec[0]) return rl_fail(err, RL_ERR_INVALID, "empty model name");
    size_t len = strlen(spec);
    /* longest valid form: scheme + host/ns/model:tag */
    if (len > 16 + RL_NAME_HOST_MAX + 3 * RL_NAME_PART_MAX + 3)
        return rl_fail(err, RL_ERR_INVALID, "invalid model name '%.60s...': %zu characters is too long", spec, len);
    const char *end = spec + len;
    const char *slash = last_of(spec, len, '/'), *colon = last_of(spec, len, ':');
    rl_status st;
    if (colon && (!slash || colon > slash)) {
        if ((st = set_part(spec, 3, colon + 1, (size_t)(end - colon - 1), out->tag, err))) return st;
        end = colon;
    } else {
        strcpy(out->tag, part_defaults[3]);
    }
    const char *cut = last_of(spec, (size_t)(end - spec), '/');
    if (!cut) {
        st = set_part(spec, 2, spec, (size_t)(end - spec), out->model, err);
        if (st) return st;
        strcpy(out->ns, part_defaults[1]);
        strcpy(out->host, part_defaults[0]);
        return RL_OK;
    }
    if ((st = set_part(spec, 2, cut + 1, (size_t)(end - cut - 1), out->model, err))) return st;
    end = cut;
    cut = last_of(spec, (size_t)(end - spec), '/');
    if (!cut) {
        if ((st = set_part(spec, 1, spec, (size_t)(end - spec), out->ns, err))) return st;
        strcpy(out->host, part_defaults[0]);
        return RL_OK;
    }
    if ((st = set_part(spec, 1, cut + 1, (size_t)(end - cut - 1), out->ns, err))) return st;
    end = cut;
    const char *host = spec;
    for (const char *p = spec; p + 3 <= end; p++) {
        if (!memcmp(p, "://", 3)) {
            host = p + 3;
            break;
        }
    }
    return set_part(spec, 0, host, (size_t)(end - host), out->host, err);
}

void rl_model_name_format(const rl_model_name *n, char *out, size_t cap) {
    snprintf(out, cap, "%s/%s/%s:%s", n->host, n->ns, n->model, n->tag);
}

static int ascii_equal_fold(const char *a, const char *b) {
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
        if (x != y) return 0;
    }
    return *a == *b;
}

void rl_model_name_display(const rl_model_name *n, char *out, size_t cap) {
    if (!ascii_equal_fold(n->host, part_defaults[0]))
        snprintf(out, cap, "%s/%s/%s:%s", n->host, n->ns, n->model, n->tag);
    else if (!ascii_equal_fold(n->ns, part_defaults[1]))
        snprintf(out, cap, "%s/%s:%s", n->ns, n->model, n->tag);
    else
        snprintf(out, cap, "%s:%s", n->model, n->tag);
}
