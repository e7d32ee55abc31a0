/* What Ollama's POST /api/show returns for a model, built from the store entry
 * (template, system, license, params, config) and the GGUF header alone, so it
 * works for any architecture in the store, not only ones rullama can run.
 * Used by `rullama show` and the server (wasm export in server_api.c).
 * modified_at is left to the host (the core has no file times). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/strbuf.h"
#include "gguf_load.h"
#include "json.h"
#include "quant.h"

/* Arrays longer than this are shown empty unless verbose, as Ollama does
 * (tokenizer vocabularies would otherwise make the answer megabytes long). */
#define SHOW_ARRAY_MAX 5

/* llama.cpp's general.file_type ids, for models whose config names none. */
static const char *file_type_name(int64_t id) {
    static const struct {
        int id;
        const char *name;
    } rows[] = {
        {0, "F32"},     {1, "F16"},     {2, "Q4_0"},    {3, "Q4_1"},    {7, "Q8_0"},     {8, "Q5_0"},
        {9, "Q5_1"},    {10, "Q2_K"},   {11, "Q3_K_S"}, {12, "Q3_K_M"}, {13, "Q3_K_L"},  {14, "Q4_K_S"},
        {15, "Q4_K_M"}, {16, "Q5_K_S"}, {17, "Q5_K_M"}, {18, "Q6_K"},   {32, "BF16"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        if (rows[i].id == id) return rows[i].name;
    return "";
}

/* Shortest decimal that reads back as the same float (Go prints float32 KVs so). */
static void put_float(strbuf *sb, double v, int single) {
    if (!isfinite(v)) {
        sb_puts(sb, "null");
        return;
    }
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        double back = strtod(buf, NULL);
        if (single ? (float)back == (float)v : back == v) break;
    }
    sb_puts(sb, buf);
}

static void put_elem(strbuf *sb, const gguf_kv *kv, uint64_t i) {
    switch (kv->elem_type) {
    case GGUF_STRING: {
        gguf_str s = gguf_arr_str(kv, i);
        sb_json_str(sb, s.ptr ? s.ptr : "", (size_t)s.len);
        break;
    }
    case GGUF_BOOL: sb_puts(sb, gguf_arr_int(kv, i) ? "true" : "false"); break;
    case GGUF_F32: put_float(sb, gguf_arr_f64(kv, i), 1); break;
    case GGUF_F64: put_float(sb, gguf_arr_f64(kv, i), 0); break;
    case GGUF_U64: {
        /* gguf_arr_int saturates at INT64_MAX; read the raw bits for the full range */
        uint64_t u = 0;
        if (kv->data && i < kv->count) memcpy(&u, kv->data + 8 * i, 8);
        sb_printf(sb, "%llu", (unsigned long long)u);
        break;
    }
    default: sb_printf(sb, "%lld", (long long)gguf_arr_int(kv, i)); break;
    }
}

static void put_kv_value(strbuf *sb, const gguf_kv *kv, int verbose) {
    if (kv->type != GGUF_ARRAY) {
        put_elem(sb, kv, 0);
        return;
    }
    sb_putc(sb, '[');
    if (kv->elem_type != GGUF_ARRAY && (verbose || kv->count <= SHOW_ARRAY_MAX))
        for (uint64_t i = 0; i < kv->count; i++) {
            if (i) sb_putc(sb, ',');
            put_elem(sb, kv, i);
        }
    sb_putc(sb, ']');
}

static uint64_t tensor_elements(const gguf_tensor *t) {
    uint64_t n = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) n *= t->ne[d];
    return n;
}

/* "5.1B", "7.7M", "12K": one decimal unless whole, like Ollama's HumanNumber. */
static void human_number(uint64_t n, char *out, size_t cap) {
    static const struct {
        double scale;
        const char *unit;
    } units[] = {{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "K"}};
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        if ((double)n < units[i].scale) continue;
        double v = (double)n / units[i].scale;
        if (v == floor(v)) snprintf(out, cap, "%.0f%s", v, units[i].unit);
        else snprintf(out, cap, "%.1f%s", v, units[i].unit);
        return;
    }
    snprintf(out, cap, "%llu", (unsigned long long)n);
}

static void model_info(strbuf *sb, const gguf_file *g, uint64_t n_params, int verbose) {
    sb_puts(sb, "\"model_info\":{");
    int first = 1;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const gguf_kv *kv = &g->kv[i];
        /* Ollama leaves these two out: the name is the store's, the template is huge */
        if (gguf_str_eq(kv->key, "general.name") || gguf_str_eq(kv->key, "tokenizer.chat_template")) continue;
        if (!first) sb_putc(sb, ',');
        first = 0;
        sb_json_str(sb, kv->key.ptr, (size_t)kv->key.len);
        sb_putc(sb, ':');
        put_kv_value(sb, kv, verbose);
    }
    if (!gguf_find_kv(g, "general.parameter_count"))
        sb_printf(sb, "%s\"general.parameter_count\":%llu", first ? "" : ",", (unsigned long long)n_params);
    sb_puts(sb, "}");
}

static void tensors(strbuf *sb, const gguf_file *g) {
    sb_puts(sb, "\"tensors\":[");
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        const rl_type_info *ti = rl_type_get(t->type);
        sb_puts(sb, i ? ",{\"name\":" : "{\"name\":");
        sb_json_str(sb, t->name.ptr, (size_t)t->name.len);
        if (ti) sb_printf(sb, ",\"type\":\"%s\",\"shape\":[", ti->name);
        else sb_printf(sb, ",\"type\":\"type%u\",\"shape\":[", t->type);
        for (uint32_t d = 0; d < t->n_dims; d++) sb_printf(sb, "%s%llu", d ? "," : "", (unsigned long long)t->ne[d]);
        sb_puts(sb, "]}");
    }
    sb_puts(sb, "]");
}

/* One params value the way Ollama's `parameters` text shows it (Go's %#v):
 * strings quoted, numbers shortest, booleans bare. */
static void param_value(strbuf *sb, const json_value *v) {
    if (v->type == JSON_STRING) sb_json_str(sb, v->str, v->str_len);
    else if (v->type == JSON_NUMBER) put_float(sb, v->number, 0);
    else json_write(sb, v);
}

/* "stop                           \"<turn|>\"" lines, one per value (arrays expand). */
static void parameters_text(strbuf *text, const json_value *params, int modelfile) {
    for (size_t i = 0; params && i < params->count; i++) {
        const json_value *v = &params->items[i];
        size_t n = v->type == JSON_ARRAY ? v->count : 1;
        for (size_t j = 0; j < n; j++) {
            if (text->len && !modelfile) sb_putc(text, '\n');
            if (modelfile) sb_printf(text, "PARAMETER %s ", params->keys[i]);
            else sb_printf(text, "%-30s ", params->keys[i]);
            param_value(text, v->type == JSON_ARRAY ? &v->items[j] : v);
            if (modelfile) sb_putc(text, '\n');
        }
    }
}

static void str_field(strbuf *sb, const char *key, const char *value) {
    if (!value || !value[0]) return;
    sb_printf(sb, "\"%s\":", key);
    sb_json_str(sb, value, strlen(value));
    sb_putc(sb, ',');
}

static void modelfile(strbuf *mf, const rl_model_ref *ref, const json_value *params) {
    sb_puts(mf, "# Modelfile generated by \"rullama show\"\n");
    sb_printf(mf, "FROM %s\n", ref->model_path);
    if (ref->template_text) sb_printf(mf, "TEMPLATE \"\"\"%s\"\"\"\n", ref->template_text);
    if (ref->system_text) sb_printf(mf, "SYSTEM \"\"\"%s\"\"\"\n", ref->system_text);
    parameters_text(mf, params, 1);
    if (ref->license_text) sb_printf(mf, "LICENSE \"\"\"%s\"\"\"\n", ref->license_text);
}

rl_status cli_show_json(rl_host *h, const char *spec, int verbose, strbuf *out, rl_error *err) {
    char root[4096];
    rl_error rerr = {0};
    if (rl_ollama_root(h, root, sizeof root, &rerr) != RL_OK) root[0] = '\0';
    rl_model_ref ref;
    rl_status st = rl_model_resolve(h, root, spec, &ref, err);
    if (st) return st;
    gguf_file *g = NULL;
    json_value *params = NULL;
    if ((st = gguf_load_header(h, ref.model_path, &g, NULL, err))) goto done;
    if (ref.params_json && (st = json_parse(ref.params_json, strlen(ref.params_json), &params, err))) goto done;

    uint64_t n_params = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) n_params += tensor_elements(&g->tensors[i]);
    gguf_str arch = {0};
    rl_error ignore = {0};
    char arch_s[64] = "", size_s[32], quant_s[32] = "";
    if (gguf_get_str(g, "general.architecture", &arch, &ignore) == RL_OK)
        snprintf(arch_s, sizeof arch_s, "%.*s", (int)(arch.len < 63 ? arch.len : 63), arch.ptr);
    const char *family = ref.model_family ? ref.model_family : arch_s;
    human_number(n_params, size_s, sizeof size_s);
    const gguf_kv *ft = gguf_find_kv(g, "general.file_type");
    if (ft && ft->type != GGUF_ARRAY && ft->elem_type != GGUF_STRING)
        snprintf(quant_s, sizeof quant_s, "%s", file_type_name(gguf_arr_int(ft, 0)));

    sb_putc(out, '{');
    str_field(out, "license", ref.license_text);
    strbuf text;
    sb_init(&text);
    modelfile(&text, &ref, params);
    str_field(out, "modelfile", text.s);
    sb_reset(&text);
    parameters_text(&text, params, 0);
    str_field(out, "parameters", text.s);
    sb_free(&text);
    str_field(out, "template", ref.template_text);
    str_field(out, "system", ref.system_text);
    str_field(out, "renderer", ref.renderer);
    str_field(out, "parser", ref.parser);
    sb_puts(out, "\"details\":{\"parent_model\":\"\",\"format\":\"gguf\",\"family\":");
    sb_json_str(out, family, strlen(family));
    sb_puts(out, ",\"families\":[");
    if (family[0]) sb_json_str(out, family, strlen(family));
    sb_puts(out, "],\"parameter_size\":");
    const char *psize = ref.model_type ? ref.model_type : size_s;
    sb_json_str(out, psize, strlen(psize));
    sb_puts(out, ",\"quantization_level\":");
    const char *quant = ref.file_type ? ref.file_type : quant_s;
    sb_json_str(out, quant, strlen(quant));
    sb_puts(out, "},");
    model_info(out, g, n_params, verbose);
    sb_putc(out, ',');
    tensors(out, g);
    /* Text only for now: vision and audio towers exist in gemma4 files but the
     * engine does not run them yet, so clients must not be told to send images. */
    if (!strcmp(arch_s, "gemma4")) sb_puts(out, ",\"capabilities\":[\"completion\",\"tools\",\"thinking\"]");
    else sb_puts(out, ",\"capabilities\":[]");
    sb_putc(out, '}');
    if (out->failed) st = rl_fail(err, RL_ERR_NOMEM, "show: out of memory");
done:
    json_free(params);
    gguf_free(g);
    rl_model_ref_free(&ref);
    return st;
}
