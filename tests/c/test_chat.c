/* Chat format tests: renderer and output parser against Ollama's test vectors
 * (model/renderers/gemma4_reference_test.go, model/renderers/image_tags_test.go,
 * model/parsers/gemma4_test.go), the official Jinja templates, and randomized
 * properties (split invariance of the streaming parser, render->parse round
 * trips of assistant messages). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "chat_internal.h"
#include "harness.h"

#include "chat_vectors.h"

#define Q "<|\"|>"

/* ---- helpers ---- */

static json_value *J(const char *text) {
    json_value *v = NULL;
    rl_error err = {0};
    if (json_parse(text, strlen(text), &v, &err) != RL_OK) {
        CHECK(0, "test JSON does not parse (%s): %s", err.msg, text);
        return NULL;
    }
    return v;
}

static int json_equal(const json_value *a, const json_value *b) {
    if (a->type != b->type) return 0;
    switch (a->type) {
    case JSON_NULL: return 1;
    case JSON_BOOL: return a->boolean == b->boolean;
    case JSON_NUMBER: return a->number == b->number;
    case JSON_STRING: return a->str_len == b->str_len && memcmp(a->str, b->str, a->str_len) == 0;
    case JSON_ARRAY:
        if (a->count != b->count) return 0;
        for (size_t i = 0; i < a->count; i++)
            if (!json_equal(&a->items[i], &b->items[i])) return 0;
        return 1;
    case JSON_OBJECT:
        if (a->count != b->count) return 0;
        for (size_t i = 0; i < a->count; i++) {
            const json_value *bv = chat_get(b, a->keys[i]);
            if (!bv || !json_equal(&a->items[i], bv)) return 0;
        }
        return 1;
    }
    return 0;
}

static void report_diff(const char *name, const char *want, const char *got) {
    size_t i = 0;
    while (want[i] && want[i] == got[i]) i++;
    size_t from = i > 40 ? i - 40 : 0;
    CHECK(0, "%s: output differs at byte %zu\n      want ...%.80s\n      got  ...%.80s", name, i, want + from,
          got + from);
}

static void check_render(const char *name, const char *messages, const char *tools, int think, int large,
                         const char *expected) {
    json_value *m = J(messages), *t = tools ? J(tools) : NULL;
    rl_chat_opts o = {think, large, 1};
    strbuf out;
    sb_init(&out);
    rl_error err = {0};
    rl_status st = rl_chat_render(m, t, &o, &out, &err);
    CHECK(st == RL_OK, "%s: render failed: %s", name, err.msg);
    if (st == RL_OK && strcmp(out.s ? out.s : "", expected) != 0) report_diff(name, expected, out.s ? out.s : "");
    sb_free(&out);
    json_free(m);
    json_free(t);
}

static char *render_str(const char *messages, const char *tools, int think, int large) {
    json_value *m = J(messages), *t = tools ? J(tools) : NULL;
    rl_chat_opts o = {think, large, 1};
    strbuf out;
    sb_init(&out);
    rl_error err = {0};
    rl_status st = rl_chat_render(m, t, &o, &out, &err);
    CHECK(st == RL_OK, "render failed: %s", err.msg);
    json_free(m);
    json_free(t);
    return sb_take(&out);
}

/* ---- renderer vectors ---- */

static void test_render_ollama_vectors(void) {
    for (size_t i = 0; i < sizeof OLLAMA_RENDER_CASES / sizeof *OLLAMA_RENDER_CASES; i++) {
        const render_case *c = &OLLAMA_RENDER_CASES[i];
        check_render(c->name, c->messages, c->tools, c->think, c->large, c->expected);
    }
}

static void test_render_jinja_vectors(void) {
    for (size_t i = 0; i < sizeof JINJA_RENDER_CASES / sizeof *JINJA_RENDER_CASES; i++) {
        const render_case *c = &JINJA_RENDER_CASES[i];
        check_render(c->name, c->messages, c->tools, c->think, c->large, c->expected);
    }
}

/* TestGemma4RendererNormalizesSimpleAnyOfToTypedUnion,
 * TestGemma4RendererToolResponseWithoutNameOrIDUsesUnknown and
 * TestGemma4RendererKnownJinja2Differences (Ollama's side of each difference). */
static void test_render_fragments(void) {
    char *s = render_str("[{\"role\":\"user\",\"content\":\"Pick\"}]", ANYOF_TOOL_JSON, 0, 0);
    CHECK(s && strstr(s, "value:{description:" Q "Value" Q ",type:" Q "['STRING', 'NUMBER']" Q "}"), "anyOf union: %s",
          s);
    free(s);
    const char *calls = "{\"role\":\"user\",\"content\":\"List and read\"},{\"role\":\"assistant\",\"content\":\"\","
                        "\"tool_calls\":[{\"function\":{\"name\":\"bash\",\"arguments\":{\"command\":\"ls\"}}},"
                        "{\"function\":{\"name\":\"read\",\"arguments\":{\"path\":\"go.mod\"}}}]}";
    char msgs[1024];
    snprintf(msgs, sizeof msgs, "[%s,{\"role\":\"tool\",\"content\":\"payload\"}]", calls);
    s = render_str(msgs, BASH_AND_READ_JSON, 0, 0);
    CHECK(s && strstr(s, "response:unknown{value:" Q "payload" Q "}") && !strstr(s, "response:read{"),
          "tool result without name or id: %s", s);
    free(s);
    snprintf(msgs, sizeof msgs, "[%s,{\"role\":\"tool\",\"tool_name\":\"bash\",\"content\":\"payload\"}]", calls);
    s = render_str(msgs, BASH_AND_READ_JSON, 0, 0);
    CHECK(s && strstr(s, "response:bash{value:" Q "payload" Q "}"), "tool result name without id: %s", s);
    free(s);
}

/* Image tags: the cases of image_tags_test.go (TestRenderContentWithImageTags),
 * placed in messages; the offset runs across the conversation. */
static void test_render_images(void) {
    static const struct {
        const char *name, *messages, *expected_body;
    } cases[] = {
        {"prefixes when there are no placeholders",
         "[{\"role\":\"user\",\"content\":\"describe this image\",\"images\":[\"a\",\"b\"]}]",
         "<|turn>user\n[img-0][img-1] describe this image<turn|>\n"},
        {"replaces explicit placeholders in order (offset 3)",
         "[{\"role\":\"user\",\"content\":\"x\",\"images\":[\"a\",\"b\",\"c\"]},"
         "{\"role\":\"user\",\"content\":\"compare [img] and [img]\",\"images\":[\"a\",\"b\"]}]",
         "<|turn>user\n[img-0][img-1][img-2] x<turn|>\n<|turn>user\ncompare [img-3] and [img-4]<turn|>\n"},
        {"prefixes extra images after placeholders are exhausted",
         "[{\"role\":\"user\",\"content\":\"compare [img]\",\"images\":[\"a\",\"b\"]}]",
         "<|turn>user\n[img-1] compare [img-0]<turn|>\n"},
        {"leaves leftover placeholders when there are fewer images",
         "[{\"role\":\"user\",\"content\":\"compare [img] and [img]\",\"images\":[\"a\"]}]",
         "<|turn>user\ncompare [img-0] and [img]<turn|>\n"},
        {"preserves already-numbered placeholders",
         "[{\"role\":\"user\",\"content\":\"compare [img-0] and [img-1]\",\"images\":[\"a\",\"b\"]},"
         "{\"role\":\"user\",\"content\":\"next\",\"images\":[\"a\"]}]",
         "<|turn>user\ncompare [img-0] and [img-1]<turn|>\n<|turn>user\n[img-2] next<turn|>\n"},
        {"no space before text starting with whitespace (tool result, untrimmed)",
         "[{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":{}}}]},"
         "{\"role\":\"tool\",\"tool_name\":\"f\",\"content\":\"\\nout\",\"images\":[\"a\"]},{\"role\":\"user\",\"content\":\"ok\"}]",
         "<|turn>model\n<|tool_call>call:f{}<tool_call|><|tool_response>response:f{value:" Q "[img-0]\nout" Q
         "}<tool_response|><turn|>\n<|turn>user\nok<turn|>\n"},
        {"image only", "[{\"role\":\"user\",\"content\":\"  \",\"images\":[\"a\"]}]", "<|turn>user\n[img-0]<turn|>\n"},
        {"model turn with image",
         "[{\"role\":\"assistant\",\"content\":\"<|channel>x<channel|> seen\",\"images\":[\"a\"]},{\"role\":\"user\",\"content\":\"ok\"}]",
         "<|turn>model\n[img-0] seen<turn|>\n<|turn>user\nok<turn|>\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char want[1024];
        snprintf(want, sizeof want, "<bos>%s<|turn>model\n", cases[i].expected_body);
        check_render(cases[i].name, cases[i].messages, NULL, 0, 0, want);
    }
}

static void test_render_options_and_roles(void) {
    /* add_generation_prompt = 0 drops exactly the generation prompt (Jinja's flag) */
    json_value *m = J("[{\"role\":\"User\",\"content\":\"Hello\"}]");
    rl_chat_opts o = {0, 1, 0};
    strbuf out;
    sb_init(&out);
    rl_error err = {0};
    CHECK(rl_chat_render(m, NULL, &o, &out, &err) == RL_OK, "%s", err.msg);
    CHECK(out.s && strcmp(out.s, "<bos><|turn>user\nHello<turn|>\n") == 0, "no generation prompt: %s", out.s);
    sb_free(&out);
    json_free(m);
    /* roles are lower-cased on input (api.Message.UnmarshalJSON); other roles pass through */
    check_render("role case", "[{\"role\":\"ASSISTANT\",\"content\":\"a\"},{\"role\":\"Critic\",\"content\":\" b \"}]", NULL,
                 0, 0, "<bos><|turn>model\na<turn|>\n<|turn>critic\nb<turn|>\n<|turn>model\n");
    /* a later system message is an ordinary turn; thinking of an assistant before the last user message is dropped */
    check_render("late system",
                 "[{\"role\":\"user\",\"content\":\"u\"},{\"role\":\"system\",\"content\":\"s\"},"
                 "{\"role\":\"assistant\",\"content\":\"a\",\"thinking\":\"t\"}]",
                 NULL, 0, 0,
                 "<bos><|turn>user\nu<turn|>\n<|turn>system\ns<turn|>\n<|turn>model\n<|channel>thought\nt\n<channel|>a"
                 "<turn|>\n<|turn>model\n");
    /* tool results with no calling assistant are dropped */
    check_render("orphan tool result", "[{\"role\":\"tool\",\"content\":\"r\"},{\"role\":\"user\",\"content\":\"u\"}]", NULL,
                 0, 0, "<bos><|turn>user\nu<turn|>\n<|turn>model\n");
    check_render("empty conversation", "[]", NULL, 0, 0, "<bos><|turn>model\n");
    /* numbers in arguments: integral values print as integers, others as Go's %v */
    check_render("argument numbers",
                 "[{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":{\"name\":\"n\",\"arguments\":"
                 "{\"a\":1e6,\"b\":1.5e-7,\"c\":-0.5,\"d\":1e300,\"e\":123456.75,\"f\":1234567.5,\"g\":-9007199254740993}}}]}]",
                 NULL, 0, 0,
                 "<bos><|turn>model\n<|tool_call>call:n{a:1000000,b:1.5e-07,c:-0.5,d:1e+300,e:123456.75,"
                 "f:1.2345675e+06,g:-9007199254740992}<tool_call|><|tool_response>");
}

/* Schema paths no Ollama test covers, expected values worked out by hand from
 * renderToolDeclaration / writeSchemaProperties / writeSchemaItemsSpec in
 * model/renderers/gemma4.go and api.ToolProperty (which keeps only
 * type/anyOf/description/enum/items/properties/required). */
static void test_render_schema_paths(void) {
    static const struct {
        const char *name, *params, *decl;
    } cases[] = {
        {"typed property drops nullable and unknown keys",
         "{\"type\":\"object\",\"properties\":{\"p\":{\"type\":\"string\",\"description\":\"P\",\"nullable\":true,"
         "\"format\":\"date\",\"default\":{\"x\":1}}}}",
         "parameters:{properties:{p:{description:" Q "P" Q ",type:" Q "STRING" Q "}},type:" Q "OBJECT" Q "}"},
        {"raw object without properties lists its object-valued keys",
         "{\"type\":\"object\",\"properties\":{\"p\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":"
         "{\"x\":{\"type\":\"object\",\"description\":\"X\",\"extra\":{\"type\":\"string\"},\"nullable\":true,\"n\":5}}}}}}",
         "parameters:{properties:{p:{items:{properties:{x:{description:" Q "X" Q ",nullable:true,properties:{extra:{type:" Q
         "STRING" Q "}},type:" Q "OBJECT" Q "}},type:" Q "OBJECT" Q "},type:" Q "ARRAY" Q "}},type:" Q "OBJECT" Q "}"},
        {"enum values print as Go's %v",
         "{\"properties\":{\"e\":{\"type\":\"string\",\"enum\":[\"a\",1,2.5,true,null,1000000,[1,\"b\"],{\"k\":2}]}}}",
         "parameters:{properties:{e:{enum:[" Q "a" Q "," Q "1" Q "," Q "2.5" Q "," Q "true" Q "," Q "<nil>" Q "," Q "1e+06" Q
         "," Q "[1 b]" Q "," Q "map[k:2]" Q "],type:" Q "STRING" Q "}}}"},
        {"property named like a standard key is skipped",
         "{\"properties\":{\"description\":{\"type\":\"string\"},\"a\":{\"type\":\"string\"}}}",
         "parameters:{properties:{a:{type:" Q "STRING" Q "}}}"},
        {"items type that names nothing still costs a comma",
         "{\"properties\":{\"l\":{\"type\":\"array\",\"items\":{\"type\":5,\"description\":\"x\"}}}}",
         "parameters:{properties:{l:{items:{description:" Q "x" Q ",},type:" Q "ARRAY" Q "}}}"},
        {"anyOf with a described branch gives no type",
         "{\"properties\":{\"v\":{\"anyOf\":[{\"type\":\"string\",\"description\":\"s\"}],\"description\":\"V\"}}}",
         "parameters:{properties:{v:{description:" Q "V" Q "}}}"},
        {"anyOf union deduplicates", "{\"properties\":{\"v\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":[\"null\",\"string\"]}]}}}",
         "parameters:{properties:{v:{type:" Q "['STRING', 'NULL']" Q "}}}"},
        {"empty properties, no type", "{\"properties\":{}}", "parameters:{}"},
        {"null property", "{\"properties\":{\"p\":null}}", "parameters:{properties:{p:{}}}"},
        {"typed object without properties shows its items",
         "{\"properties\":{\"o\":{\"type\":\"object\",\"items\":{\"type\":\"string\"},\"required\":[\"z\"]}}}",
         "parameters:{properties:{o:{properties:{items:{type:" Q "STRING" Q "}},required:[" Q "z" Q "],type:" Q "OBJECT" Q
         "}}}"},
        {"items required keeps only strings",
         "{\"properties\":{\"l\":{\"type\":\"array\",\"items\":{\"required\":[\"a\",1,\"b\"],\"type\":[\"object\",\"null\"]}}}}",
         "parameters:{properties:{l:{items:{required:[" Q "a" Q "," Q "b" Q "],type:[" Q "OBJECT" Q "," Q "NULL" Q "]},type:" Q
         "ARRAY" Q "}}}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char tools[1024], want[1024];
        snprintf(tools, sizeof tools, "[{\"type\":\"function\",\"function\":{\"name\":\"t\",\"description\":\"d\",\"parameters\":%s}}]",
                 cases[i].params);
        snprintf(want, sizeof want,
                 "<bos><|turn>system\n<|tool>declaration:t{description:" Q "d" Q ",%s}<tool|><turn|>\n<|turn>model\n",
                 cases[i].decl);
        check_render(cases[i].name, "[]", tools, 0, 0, want);
    }
    check_render("no parameters", "[]", "[{\"function\":{\"name\":\"t\",\"description\":\"d\"}}]", 0, 0,
                 "<bos><|turn>system\n<|tool>declaration:t{description:" Q "d" Q "}<tool|><turn|>\n<|turn>model\n");
    /* Go's TrimSpace trims Unicode spaces (NBSP, U+3000) too */
    check_render("unicode trim", "[{\"role\":\"user\",\"content\":\"\\u00a0 hi \\u3000\"}]", NULL, 0, 0,
                 "<bos><|turn>user\nhi<turn|>\n<|turn>model\n");
}

static void expect_render_error(const char *name, const char *messages, const char *tools, const char *needle) {
    json_value *m = J(messages), *t = tools ? J(tools) : NULL;
    rl_chat_opts o = {0, 0, 1};
    strbuf out;
    sb_init(&out);
    rl_error err = {0};
    rl_status st = rl_chat_render(m, t, &o, &out, &err);
    CHECK(st == RL_ERR_INVALID, "%s: expected RL_ERR_INVALID, got %d", name, (int)st);
    CHECK(strstr(err.msg, needle) != NULL, "%s: message \"%s\" lacks \"%s\"", name, err.msg, needle);
    CHECK(out.len == 0, "%s: output written on error", name);
    sb_free(&out);
    json_free(m);
    json_free(t);
}

static void test_render_rejects_bad_input(void) {
    expect_render_error("messages object", "{}", NULL, "messages");
    expect_render_error("content number", "[{\"role\":\"user\",\"content\":5}]", NULL, "messages[0].content");
    expect_render_error("message not object", "[{\"role\":\"user\",\"content\":\"a\"},3]", NULL, "messages[1]");
    expect_render_error("arguments string",
                        "[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}]",
                        NULL, "messages[0].tool_calls[0].function.arguments");
    expect_render_error("images not array", "[{\"role\":\"user\",\"content\":\"a\",\"images\":\"x\"}]", NULL, "images");
    expect_render_error("tools object", "[]", "{}", "tools");
    expect_render_error("property type number", "[]",
                        "[{\"function\":{\"name\":\"f\",\"parameters\":{\"properties\":{\"p\":{\"type\":5}}}}}]",
                        "tools[0].function.parameters.properties.p.type");
    expect_render_error("nested description number", "[]",
                        "[{\"function\":{\"name\":\"f\",\"parameters\":{\"properties\":{\"p\":{\"type\":\"object\","
                        "\"properties\":{\"q\":{\"description\":1}}}}}}}]",
                        "properties.p.properties.q.description");
}

/* Renderer selection (server/renderer_resolution.go): names first, then size. */
static void test_is_large(void) {
    CHECK(rl_chat_is_large("gemma4:e2b", 0) == 0, "e2b");
    CHECK(rl_chat_is_large("gemma4:E4B-it-qat", 40e9) == 0, "e4b wins over size");
    CHECK(rl_chat_is_large("gemma4:31b", 0) == 1, "31b");
    CHECK(rl_chat_is_large("library/Gemma4:26B-a4b", 0) == 1, "26b");
    CHECK(rl_chat_is_large("gemma4:12b", 1e9) == 1, "12b name wins over size");
    CHECK(rl_chat_is_large("my-model", 12e9) == 1, "12B params is large");
    CHECK(rl_chat_is_large("my-model", 11.9e9) == 0, "under 12B is small");
    CHECK(rl_chat_is_large(NULL, 0) == 0, "unknown defaults to small");
}

/* ---- parser ---- */

typedef struct {
    strbuf content, thinking;
    size_t n_calls;
    char **names, **args;
    rl_status st;
} parse_result;

static void result_free(parse_result *r) {
    sb_free(&r->content);
    sb_free(&r->thinking);
    for (size_t i = 0; i < r->n_calls; i++) {
        free(r->names[i]);
        free(r->args[i]);
    }
    free(r->names);
    free(r->args);
}

/* Parse text fed in pieces cut at cuts[0..n_cuts) (ascending). */
static parse_result parse_cut(const char *text, size_t len, int think, const json_value *msgs, const json_value *tools,
                              const size_t *cuts, size_t n_cuts) {
    parse_result r;
    memset(&r, 0, sizeof r);
    sb_init(&r.content);
    sb_init(&r.thinking);
    rl_chat_parser *p = rl_chat_parser_new(think);
    rl_error err = {0};
    r.st = rl_chat_parser_prime(p, msgs, tools, &err);
    size_t at = 0;
    for (size_t i = 0; i <= n_cuts && !r.st; i++) {
        size_t end = i < n_cuts ? cuts[i] : len;
        r.st = rl_chat_parser_feed(p, text + at, end - at, &r.content, &r.thinking, &err);
        at = end;
    }
    if (!r.st) r.st = rl_chat_parser_finish(p, &r.content, &r.thinking, &err);
    const rl_tool_call *calls;
    r.n_calls = rl_chat_parser_tool_calls(p, &calls);
    r.names = calloc(r.n_calls + 1, sizeof *r.names);
    r.args = calloc(r.n_calls + 1, sizeof *r.args);
    for (size_t i = 0; i < r.n_calls; i++) {
        r.names[i] = strdup(calls[i].name);
        r.args[i] = strdup(calls[i].arguments_json);
    }
    rl_chat_parser_free(p);
    return r;
}

static parse_result parse_whole(const char *text, int think, const json_value *msgs, const json_value *tools) {
    return parse_cut(text, strlen(text), think, msgs, tools, NULL, 0);
}

static const char *S(const strbuf *sb) { return sb->s ? sb->s : ""; }

/* expected calls: JSON array of {"name":…, "arguments":{…}} */
static void check_calls(const char *name, const parse_result *r, const char *calls_json) {
    json_value *want = J(calls_json ? calls_json : "[]");
    if (!want) return;
    CHECK(r->n_calls == want->count, "%s: %zu tool calls, want %zu", name, r->n_calls, want->count);
    for (size_t i = 0; i < r->n_calls && i < want->count; i++) {
        const json_value *wn = chat_get(&want->items[i], "name"), *wa = chat_get(&want->items[i], "arguments");
        CHECK(strcmp(r->names[i], wn->str) == 0, "%s: call %zu name %s, want %s", name, i, r->names[i], wn->str);
        json_value *got = J(r->args[i]);
        CHECK(got && json_equal(got, wa), "%s: call %zu arguments %s", name, i, r->args[i]);
        json_free(got);
    }
    json_free(want);
}

/* TestGemma4Parser (model/parsers/gemma4_test.go): whole input, done=true. */
static void test_parser_ollama_vectors(void) {
    static const struct {
        const char *name, *input, *content, *thinking, *calls;
        int think;
        const char *last_role;
    } cases[] = {
        {"simple_content", "This is a simple response.", "This is a simple response.", "", NULL, 0, NULL},
        {"thinking_then_content", "<|channel>thought\nLet me think about this...<channel|>The answer is 42.",
         "The answer is 42.", "Let me think about this...", NULL, 1, NULL},
        {"multiple_thinking_blocks", "<|channel>first thought<channel|><|channel>second thought<channel|>Final answer.",
         "Final answer.", "first thoughtsecond thought", NULL, 1, NULL},
        {"thinking_only_no_content", "<|channel>just thinking<channel|>", "", "just thinking", NULL, 1, NULL},
        {"tool_call_simple", "<|tool_call>call:get_weather{location:" Q "Paris" Q "}<tool_call|>", "", "",
         "[{\"name\":\"get_weather\",\"arguments\":{\"location\":\"Paris\"}}]", 0, NULL},
        {"tool_call_with_multiple_args",
         "<|tool_call>call:get_weather{location:" Q "Paris" Q ",units:" Q "metric" Q "}<tool_call|>", "", "",
         "[{\"name\":\"get_weather\",\"arguments\":{\"location\":\"Paris\",\"units\":\"metric\"}}]", 0, NULL},
        {"tool_call_with_number_arg", "<|tool_call>call:set_temp{value:42}<tool_call|>", "", "",
         "[{\"name\":\"set_temp\",\"arguments\":{\"value\":42}}]", 0, NULL},
        {"tool_call_with_boolean_arg", "<|tool_call>call:toggle{enabled:true}<tool_call|>", "", "",
         "[{\"name\":\"toggle\",\"arguments\":{\"enabled\":true}}]", 0, NULL},
        {"tool_call_with_null_arg", "<|tool_call>call:set_optional{value:null,nested:{value:null}}<tool_call|>", "",
         "", "[{\"name\":\"set_optional\",\"arguments\":{\"value\":null,\"nested\":{\"value\":null}}}]", 0, NULL},
        {"tool_call_with_nested_object", "<|tool_call>call:process{config:{enabled:true,name:" Q "test" Q "}}<tool_call|>",
         "", "", "[{\"name\":\"process\",\"arguments\":{\"config\":{\"enabled\":true,\"name\":\"test\"}}}]", 0, NULL},
        {"tool_call_with_array", "<|tool_call>call:process{items:[" Q "a" Q "," Q "b" Q "]}<tool_call|>", "", "",
         "[{\"name\":\"process\",\"arguments\":{\"items\":[\"a\",\"b\"]}}]", 0, NULL},
        {"tool_call_with_array_of_multiple_gemma_quoted_strings",
         "<|tool_call>call:process{items:[" Q "a" Q "," Q "b \"quoted\"" Q "," Q "c" Q "]}<tool_call|>", "", "",
         "[{\"name\":\"process\",\"arguments\":{\"items\":[\"a\",\"b \\\"quoted\\\"\",\"c\"]}}]", 0, NULL},
        {"tool_call_with_multiline_string_arg", "<|tool_call>call:bash{command:" Q "date\n" Q "}<tool_call|>", "", "",
         "[{\"name\":\"bash\",\"arguments\":{\"command\":\"date\\n\"}}]", 0, NULL},
        {"tool_call_with_escaped_double_quotes_in_string_arg",
         "<|tool_call>call:search{query:" Q "say \\\"hello\\\"" Q "}<tool_call|>", "", "",
         "[{\"name\":\"search\",\"arguments\":{\"query\":\"say \\\\\\\"hello\\\\\\\"\"}}]", 0, NULL},
        {"tool_call_with_unescaped_double_quotes_in_string_arg",
         "<|tool_call>call:search{query:" Q "say \"hello\"" Q "}<tool_call|>", "", "",
         "[{\"name\":\"search\",\"arguments\":{\"query\":\"say \\\"hello\\\"\"}}]", 0, NULL},
        {"tool_call_with_multiple_unescaped_double_quote_segments",
         "<|tool_call>call:search{query:" Q "say \"hello\", then \"goodbye\"" Q "}<tool_call|>", "", "",
         "[{\"name\":\"search\",\"arguments\":{\"query\":\"say \\\"hello\\\", then \\\"goodbye\\\"\"}}]", 0, NULL},
        {"tool_call_with_mixed_escaped_and_unescaped_double_quotes",
         "<|tool_call>call:search{query:" Q "first \\\"quoted\\\" then \"raw\"" Q "}<tool_call|>", "", "",
         "[{\"name\":\"search\",\"arguments\":{\"query\":\"first \\\\\\\"quoted\\\\\\\" then \\\"raw\\\"\"}}]", 0, NULL},
        {"tool_call_exec_with_embedded_quoted_path", "<|tool_call>call:exec{command:" Q "ls -F \"vault/\"" Q "}<tool_call|>",
         "", "", "[{\"name\":\"exec\",\"arguments\":{\"command\":\"ls -F \\\"vault/\\\"\"}}]", 0, NULL},
        {"tool_call_exec_with_embedded_quoted_url",
         "<|tool_call>call:exec{command:" Q "fetch \"https://ollama.com/library/gemma4\" --extract" Q "}<tool_call|>", "",
         "", "[{\"name\":\"exec\",\"arguments\":{\"command\":\"fetch \\\"https://ollama.com/library/gemma4\\\" --extract\"}}]",
         0, NULL},
        {"tool_call_done_flush_without_close_tag_with_unescaped_double_quotes",
         "<|tool_call>call:search{query:" Q "say \"hello\" and \"bye\"" Q "}", "", "",
         "[{\"name\":\"search\",\"arguments\":{\"query\":\"say \\\"hello\\\" and \\\"bye\\\"\"}}]", 0, NULL},
        {"tool_call_with_mixed_raw_and_gemma_quoted_values",
         "<|tool_call>call:search{query:\"raw \\\"quoted\\\"\",note:" Q "gemma \"quoted\"" Q "}<tool_call|>", "", "",
         "[{\"name\":\"search\",\"arguments\":{\"query\":\"raw \\\"quoted\\\"\",\"note\":\"gemma \\\"quoted\\\"\"}}]", 0,
         NULL},
        {"tool_call_with_array_of_objects_and_mixed_quotes",
         "<|tool_call>call:plan{steps:[{title:" Q "step \"one\"" Q ",done:false},{title:" Q "step \\\"two\\\"" Q
         ",done:true}]}<tool_call|>",
         "", "",
         "[{\"name\":\"plan\",\"arguments\":{\"steps\":[{\"title\":\"step \\\"one\\\"\",\"done\":false},"
         "{\"title\":\"step \\\\\\\"two\\\\\\\"\",\"done\":true}]}}]",
         0, NULL},
        {"tool_call_edit_with_array_of_objects_multiline_markdown_and_quotes",
         "<|tool_call>call:edit{edits:[\n  {newText:" Q "# Gemma4 + openclaude speed optimization guide\n\nUse \"nvfp4\" "
         "only after validating tool calls.\n" Q ",oldText:" Q "# Gemma4 + openclaude speed optimization guide\n\nUse the "
         "default quantization.\n" Q "},\n  {newText:" Q "## 14. Methods tried but not adopted\n\n### 1. Model "
         "quantization\nDo not enable \"mxfp8\" by default.\n" Q ",oldText:" Q "## 14. Methods tried but not adopted\n" Q
         "}\n]}<tool_call|>",
         "", "",
         "[{\"name\":\"edit\",\"arguments\":{\"edits\":[{\"newText\":\"# Gemma4 + openclaude speed optimization "
         "guide\\n\\nUse \\\"nvfp4\\\" only after validating tool calls.\\n\",\"oldText\":\"# Gemma4 + openclaude speed "
         "optimization guide\\n\\nUse the default quantization.\\n\"},{\"newText\":\"## 14. Methods tried but not "
         "adopted\\n\\n### 1. Model quantization\\nDo not enable \\\"mxfp8\\\" by default.\\n\",\"oldText\":\"## 14. "
         "Methods tried but not adopted\\n\"}]}}]",
         0, NULL},
        {"tool_call_edit_with_array_of_objects_issue_comment_spacing",
         "<|tool_call>call:edit{edits:[\n  {newText:" Q "# Gemma4 + openclaude speed optimization guide..." Q
         ",\n   oldText:" Q "# Gemma4 + openclaude speed optimization guide..." Q "},\n  {newText:" Q
         "## 14. Methods tried but not adopted\\n\\n### 1. Model quantization..." Q ",\n   oldText:" Q
         "## 14. Methods tried but not adopted\\n" Q "}\n]}<tool_call|>",
         "", "",
         "[{\"name\":\"edit\",\"arguments\":{\"edits\":[{\"newText\":\"# Gemma4 + openclaude speed optimization "
         "guide...\",\"oldText\":\"# Gemma4 + openclaude speed optimization guide...\"},{\"newText\":\"## 14. Methods "
         "tried but not adopted\\\\n\\\\n### 1. Model quantization...\",\"oldText\":\"## 14. Methods tried but not "
         "adopted\\\\n\"}]}}]",
         0, NULL},
        {"tool_call_with_windows_path_single_backslashes",
         "<|tool_call>call:open_file{path:" Q "C:\\users\\bob\\file.txt" Q "}<tool_call|>", "", "",
         "[{\"name\":\"open_file\",\"arguments\":{\"path\":\"C:\\\\users\\\\bob\\\\file.txt\"}}]", 0, NULL},
        {"multiple_tool_calls",
         "<|tool_call>call:get_weather{location:" Q "Paris" Q "}<tool_call|><|tool_call>call:get_weather{location:" Q
         "London" Q "}<tool_call|>",
         "", "",
         "[{\"name\":\"get_weather\",\"arguments\":{\"location\":\"Paris\"}},"
         "{\"name\":\"get_weather\",\"arguments\":{\"location\":\"London\"}}]",
         0, NULL},
        {"thinking_then_tool_call",
         "<|channel>thought\nI need to check the weather<channel|><|tool_call>call:get_weather{location:" Q "Paris" Q
         "}<tool_call|>",
         "", "I need to check the weather", "[{\"name\":\"get_weather\",\"arguments\":{\"location\":\"Paris\"}}]", 1, NULL},
        {"content_then_tool_call", "Let me check that for you.<|tool_call>call:get_weather{location:" Q "Paris" Q "}<tool_call|>",
         "Let me check that for you.", "", "[{\"name\":\"get_weather\",\"arguments\":{\"location\":\"Paris\"}}]", 0, NULL},
        {"thinking_disabled_channel_tags_as_content", "<|channel>this is not thinking<channel|>actual content",
         "actual content", "", NULL, 0, NULL},
        {"prefill_content_only", "Continuing content.", "Continuing content.", "", NULL, 1, "assistant"},
        /* TestGemma4Parser_ToolResponseContinuationStartsInThinking */
        {"tool_response_continuation_starts_in_thinking", "The user asked for files.<channel|>go.mod and go.sum",
         "go.mod and go.sum", "The user asked for files.", NULL, 1, "tool"},
        /* TestGemma4Parser_IgnoresExtraToolCallCloseTags / _IgnoresToolResponseBoundaryAfterToolCall */
        {"extra_close_tag", "<|tool_call>call:get_weather{location:" Q "Paris" Q "}<tool_call|><tool_call|>", "", "",
         "[{\"name\":\"get_weather\",\"arguments\":{\"location\":\"Paris\"}}]", 0, NULL},
        {"extra_close_tag_before_content",
         "<|tool_call>call:get_weather{location:" Q "Paris" Q "}<tool_call|><tool_call|>Done.", "Done.", "",
         "[{\"name\":\"get_weather\",\"arguments\":{\"location\":\"Paris\"}}]", 0, NULL},
        {"tool_response_boundary", "<|tool_call>call:get_weather{location:" Q "Paris" Q "}<tool_call|><|tool_response>", "",
         "", "[{\"name\":\"get_weather\",\"arguments\":{\"location\":\"Paris\"}}]", 0, NULL},
        {"tool_response_boundary_before_content",
         "<|tool_call>call:get_weather{location:" Q "Paris" Q "}<tool_call|><|tool_response>Done.", "Done.", "",
         "[{\"name\":\"get_weather\",\"arguments\":{\"location\":\"Paris\"}}]", 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char msgs[128];
        json_value *m = NULL;
        if (cases[i].last_role) {
            snprintf(msgs, sizeof msgs, "[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"%s\",\"content\":\"x\"}]",
                     cases[i].last_role);
            m = J(msgs);
        }
        parse_result r = parse_whole(cases[i].input, cases[i].think, m, NULL);
        CHECK(r.st == RL_OK, "%s: status %d", cases[i].name, (int)r.st);
        CHECK(strcmp(S(&r.content), cases[i].content) == 0, "%s: content \"%s\", want \"%s\"", cases[i].name,
              S(&r.content), cases[i].content);
        CHECK(strcmp(S(&r.thinking), cases[i].thinking) == 0, "%s: thinking \"%s\", want \"%s\"", cases[i].name,
              S(&r.thinking), cases[i].thinking);
        check_calls(cases[i].name, &r, cases[i].calls);
        result_free(&r);
        json_free(m);
    }
}

/* The chunked cases of gemma4_test.go (TestGemma4Parser_Streaming,
 * _StreamingToolCall, _IgnoresExtraToolCallCloseTags, _IgnoresToolResponseBoundaryAfterToolCall,
 * _StreamingSplitThinkingTag), fed with their chunk boundaries. */
static void test_parser_ollama_streaming(void) {
    static const struct {
        const char *name, *chunks[4], *content, *thinking, *calls;
        int think;
    } cases[] = {
        {"streaming", {"<|channel>thought", "\nLet me think", "...<channel|>The answer", " is 42."}, "The answer is 42.",
         "Let me think...", NULL, 1},
        {"streaming_tool_call", {"<|tool_call>call:get_", "weather{location:" Q "Par", "is" Q "}<tool_call|>"}, "", "",
         "[{\"name\":\"get_weather\",\"arguments\":{\"location\":\"Paris\"}}]", 0},
        {"split_extra_close_tag", {"<|tool_call>call:get_weather{location:" Q "Paris" Q "}<tool_call|><tool_", "call|>Done."},
         "Done.", "", "[{\"name\":\"get_weather\",\"arguments\":{\"location\":\"Paris\"}}]", 0},
        {"split_tool_response_boundary",
         {"<|tool_call>call:get_weather{location:" Q "Paris" Q "}<tool_call|><|tool_res", "ponse>Done."}, "Done.", "",
         "[{\"name\":\"get_weather\",\"arguments\":{\"location\":\"Paris\"}}]", 0},
        {"split_channel_open_tag", {"<|chan", "nel>thinking here<channel|>content"}, "content", "thinking here", NULL, 1},
        {"split_channel_close_tag", {"<|channel>thinking here<chan", "nel|>content"}, "content", "thinking here", NULL, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[512] = "";
        size_t cuts[4], n_cuts = 0;
        for (size_t k = 0; k < 4 && cases[i].chunks[k]; k++) {
            if (k) cuts[n_cuts++] = strlen(text);
            strcat(text, cases[i].chunks[k]);
        }
        parse_result r = parse_cut(text, strlen(text), cases[i].think, NULL, NULL, cuts, n_cuts);
        CHECK(strcmp(S(&r.content), cases[i].content) == 0, "%s: content \"%s\"", cases[i].name, S(&r.content));
        CHECK(strcmp(S(&r.thinking), cases[i].thinking) == 0, "%s: thinking \"%s\"", cases[i].name, S(&r.thinking));
        check_calls(cases[i].name, &r, cases[i].calls);
        result_free(&r);
    }
}

/* Behaviour the split-invariant design settles where Ollama's token-wise
 * streaming would depend on the chunking. */
static void test_parser_edges(void) {
    static const struct {
        const char *name, *input, *content, *thinking;
        int think;
    } cases[] = {
        {"whitespace before a tag is dropped", "Hello \n <|tool_call>call:f{}<tool_call|>", "Hello", "", 0},
        {"whitespace after the channel is dropped", "<|channel>thought\nT \n<channel|>\n\n  C", "C", "T", 1},
        {"trailing whitespace at the end is kept", "A  \n", "A  \n", "", 0},
        {"unterminated thought is thinking", "<|channel>thought\nstill going ", "", "still going ", 1},
        {"other channel name is kept", "<|channel>analysis\nx<channel|>y", "y", "analysis\nx", 1},
        {"partial tag at the end is content", "abc<|chan", "abc<|chan", "", 0},
        {"broken tag is content", "a<|tool_ca<|channel>t<channel|>b", "a<|tool_cab", "t", 1},
        {"tags in order of appearance", "x<|tool_call>call:f{}<tool_call|>y<|channel>t<channel|>z", "xyz", "t", 1},
        {"ideographic space before tag", "a\xe3\x80\x80<|channel>t<channel|>b", "ab", "t", 1},
        {"partial noise tag at the end is dropped", "<|tool_call>call:f{}<tool_call|> <tool_c", "", "", 0},
        {"bad tool call is dropped", "<|tool_call>nonsense<tool_call|>after", "after", "", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        parse_result r = parse_whole(cases[i].input, cases[i].think, NULL, NULL);
        CHECK(strcmp(S(&r.content), cases[i].content) == 0, "%s: content \"%s\", want \"%s\"", cases[i].name,
              S(&r.content), cases[i].content);
        CHECK(strcmp(S(&r.thinking), cases[i].thinking) == 0, "%s: thinking \"%s\", want \"%s\"", cases[i].name,
              S(&r.thinking), cases[i].thinking);
        result_free(&r);
    }
    /* dropped calls leave no entry; a good call after a bad one is kept */
    parse_result r = parse_whole("<|tool_call>call:f{a:<tool_call|><|tool_call>call:g{b:2}<tool_call|>", 0, NULL, NULL);
    check_calls("bad then good call", &r, "[{\"name\":\"g\",\"arguments\":{\"b\":2}}]");
    result_free(&r);
}

/* TestGemma4ArgsToJSON: exact converted text. */
static void test_args_to_json_vectors(void) {
    static const struct {
        const char *in, *out;
    } v[] = {
        {"{location:" Q "Paris" Q "}", "{\"location\":\"Paris\"}"},
        {"{location:" Q "Paris" Q ",units:" Q "metric" Q "}", "{\"location\":\"Paris\",\"units\":\"metric\"}"},
        {"{value:42}", "{\"value\":42}"},
        {"{enabled:true}", "{\"enabled\":true}"},
        {"{config:{enabled:true,name:" Q "test" Q "}}", "{\"config\":{\"enabled\":true,\"name\":\"test\"}}"},
        {"{edits:[{ newText:" Q "a" Q ", oldText:" Q "b" Q "} ]}", "{\"edits\":[{ \"newText\":\"a\", \"oldText\":\"b\"} ]}"},
        {"{edits:[{newText:" Q "a" Q ", oldText:" Q "b" Q "} ]}", "{\"edits\":[{\"newText\":\"a\", \"oldText\":\"b\"} ]}"},
        {"{edits:[\n  {newText:" Q "a" Q ",\n   oldText:" Q "b" Q "}\n]}",
         "{\"edits\":[\n  {\"newText\":\"a\",\n   \"oldText\":\"b\"}\n]}"},
        {"{items:[" Q "a" Q "," Q "b" Q "]}", "{\"items\":[\"a\",\"b\"]}"},
        {"{items:[" Q "a" Q "," Q "b \"quoted\"" Q "," Q "c" Q "]}", "{\"items\":[\"a\",\"b \\\"quoted\\\"\",\"c\"]}"},
        {"{}", "{}"},
        {"{name:" Q "test" Q ",count:5,active:true,tags:[" Q "a" Q "]}",
         "{\"name\":\"test\",\"count\":5,\"active\":true,\"tags\":[\"a\"]}"},
        {"{value:null}", "{\"value\":null}"},
        {"{command:" Q "date\n" Q "}", "{\"command\":\"date\\n\"}"},
        {"{query:" Q "say \\\"hello\\\"" Q "}", "{\"query\":\"say \\\\\\\"hello\\\\\\\"\"}"},
        {"{query:" Q "say \"hello\"" Q "}", "{\"query\":\"say \\\"hello\\\"\"}"},
        {"{query:" Q "say \"hello\", then \"goodbye\"" Q "}", "{\"query\":\"say \\\"hello\\\", then \\\"goodbye\\\"\"}"},
        {"{query:" Q "first \\\"quoted\\\" then \"raw\"" Q "}", "{\"query\":\"first \\\\\\\"quoted\\\\\\\" then \\\"raw\\\"\"}"},
        {"{query:" Q "a,b:{c}[d]" Q "}", "{\"query\":\"a,b:{c}[d]\"}"},
        {"{path:" Q "C:\\\\Temp\\\\file.txt" Q "}", "{\"path\":\"C:\\\\\\\\Temp\\\\\\\\file.txt\"}"},
        {"{path:" Q "C:\\users\\bob" Q "}", "{\"path\":\"C:\\\\users\\\\bob\"}"},
        {"{url:" Q "https:\\/\\/example.com\\/a" Q "}", "{\"url\":\"https:\\\\/\\\\/example.com\\\\/a\"}"},
        {"{s:" Q "snowman:\\u2603" Q "}", "{\"s\":\"snowman:\\\\u2603\"}"},
        {"{s:" Q "bad \\x escape" Q "}", "{\"s\":\"bad \\\\x escape\"}"},
        {"{s:" Q "bad \\uZZZZ escape" Q "}", "{\"s\":\"bad \\\\uZZZZ escape\"}"},
        {"{q:\"say \\\"hi\\\" and \\\"bye\\\"\"}", "{\"q\":\"say \\\"hi\\\" and \\\"bye\\\"\"}"},
        {"{q:\"keep , oldText: literal\",note:" Q "ok" Q "}", "{\"q\":\"keep , oldText: literal\",\"note\":\"ok\"}"},
        {"{q:\"keep , oldText: and \\\"quoted\\\" text\",note:" Q "ok" Q "}",
         "{\"q\":\"keep , oldText: and \\\"quoted\\\" text\",\"note\":\"ok\"}"},
        {"{meta:{title:" Q "t \"1\"" Q ",note:\"n \\\"2\\\"\"},items:[" Q "x \"3\"" Q ",\"y \\\"4\\\"\"]}",
         "{\"meta\":{\"title\":\"t \\\"1\\\"\",\"note\":\"n \\\"2\\\"\"},\"items\":[\"x \\\"3\\\"\",\"y \\\"4\\\"\"]}"},
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        strbuf out;
        sb_init(&out);
        chat_args_to_json(v[i].in, strlen(v[i].in), &out);
        CHECK(strcmp(S(&out), v[i].out) == 0, "args %zu: %s\n      got  %s\n      want %s", i, v[i].in, S(&out), v[i].out);
        sb_free(&out);
    }
}

typedef void (*repair_fn)(const char *, size_t, strbuf *);

static void check_repair(const char *what, repair_fn f, const char *in, const char *want) {
    strbuf out;
    sb_init(&out);
    f(in, strlen(in), &out);
    CHECK(strcmp(S(&out), want) == 0, "%s(%s) = %s, want %s", what, in, S(&out), want);
    sb_free(&out);
}

/* TestRepairGemma4MissingStringDelimiter, ...MissingObjectClose, ...SingleQuotedValues,
 * ...RawTerminalStringValue. */
static void test_repair_vectors(void) {
    check_repair("delim", chat_repair_missing_delimiter, "{command:" Q "ls}", "{command:" Q "ls" Q "}");
    check_repair("delim", chat_repair_missing_delimiter, "{path:" Q "/tmp" Q ",command:" Q "ls}",
                 "{path:" Q "/tmp" Q ",command:" Q "ls" Q "}");
    check_repair("delim", chat_repair_missing_delimiter, "{command:" Q "ls", "{command:" Q "ls" Q);
    check_repair("delim", chat_repair_missing_delimiter, "{command:" Q "ls" Q "}", "{command:" Q "ls" Q "}");
    check_repair("delim", chat_repair_missing_delimiter, "{command:ls}", "{command:ls}");
    check_repair("close", chat_repair_missing_object_close, "{content:" Q "hello" Q, "{content:" Q "hello" Q "}");
    check_repair("close", chat_repair_missing_object_close, "{content:" Q "hello" Q "  ", "{content:" Q "hello" Q "}  ");
    check_repair("close", chat_repair_missing_object_close, "{content:" Q "hello" Q "}", "{content:" Q "hello" Q "}");
    check_repair("close", chat_repair_missing_object_close, "content:" Q "hello" Q, "content:" Q "hello" Q);
    check_repair("single", chat_repair_single_quoted, "{pattern:':\\s*\\w+'}", "{pattern:" Q ":\\s*\\w+" Q "}");
    check_repair("single", chat_repair_single_quoted, "{include:" Q "*.py" Q ",pattern:'abc',path:" Q "/tmp" Q "}",
                 "{include:" Q "*.py" Q ",pattern:" Q "abc" Q ",path:" Q "/tmp" Q "}");
    check_repair("single", chat_repair_single_quoted, "{pattern:'abc'" Q "}", "{pattern:" Q "abc" Q "}");
    check_repair("single", chat_repair_single_quoted, "{pattern:" Q "abc" Q "}", "{pattern:" Q "abc" Q "}");
    check_repair("single", chat_repair_single_quoted, "{pattern:\"abc\"}", "{pattern:\"abc\"}");
    check_repair("single", chat_repair_single_quoted, "{pattern:'abc}", "{pattern:'abc}");

    static const struct {
        const char *name, *in, *tool, *tools, *want;
    } raw[] = {
        {"wraps_known_string_property_terminal_value", "{content:\n\n# Title", "write",
         "[{\"function\":{\"name\":\"write\",\"parameters\":{\"type\":\"object\",\"properties\":{\"content\":{\"type\":\"string\"}}}}}]",
         "{content:" Q "\n\n# Title" Q},
        {"stops_before_next_known_property", "{content:hello,mode:" Q "fast" Q "}", "write",
         "[{\"function\":{\"name\":\"write\",\"parameters\":{\"properties\":{\"content\":{\"type\":\"string\"},"
         "\"mode\":{\"type\":\"string\"}}}}}]",
         "{content:" Q "hello" Q ",mode:" Q "fast" Q "}"},
        {"does_not_repair_without_schema", "{content:hello", "write", NULL, NULL},
        {"does_not_repair_non_string_property", "{content:hello", "write",
         "[{\"function\":{\"name\":\"write\",\"parameters\":{\"properties\":{\"content\":{\"type\":\"number\"}}}}}]", NULL},
        {"does_not_repair_already_structured_value", "{content:" Q "hello" Q "}", "write",
         "[{\"function\":{\"name\":\"write\",\"parameters\":{\"properties\":{\"content\":{\"type\":\"string\"}}}}}]", NULL},
        {"does_not_repair_json_literal_start", "{content:123}", "write",
         "[{\"function\":{\"name\":\"write\",\"parameters\":{\"properties\":{\"content\":{\"type\":\"string\"}}}}}]", NULL},
        {"does_not_repair_unknown_tool", "{content:hello", "missing",
         "[{\"function\":{\"name\":\"write\",\"parameters\":{\"properties\":{\"content\":{\"type\":\"string\"}}}}}]", NULL},
        {"anyOf string branch counts", "{content:hello", "write",
         "[{\"function\":{\"name\":\"write\",\"parameters\":{\"properties\":{\"content\":{\"anyOf\":[{\"type\":\"number\"},"
         "{\"type\":\"STRING\"}]}}}}}]",
         "{content:" Q "hello" Q},
    };
    for (size_t i = 0; i < sizeof raw / sizeof *raw; i++) {
        json_value *tools = raw[i].tools ? J(raw[i].tools) : NULL;
        chat_tool_schemas ts;
        rl_error err = {0};
        CHECK(chat_tool_schemas_init(&ts, tools, &err) == RL_OK, "%s: %s", raw[i].name, err.msg);
        strbuf out;
        sb_init(&out);
        int ok = chat_repair_raw_terminal_string(raw[i].in, strlen(raw[i].in), raw[i].tool, &ts, &out);
        CHECK(ok == (raw[i].want != NULL), "%s: ok=%d", raw[i].name, ok);
        if (ok && raw[i].want) CHECK(strcmp(S(&out), raw[i].want) == 0, "%s: %s", raw[i].name, S(&out));
        sb_free(&out);
        chat_tool_schemas_free(&ts);
        json_free(tools);
    }
}

static void check_tool_call(const char *name, const char *content, const char *tools_json, const char *want_name,
                            const char *want_args) {
    json_value *tools = tools_json ? J(tools_json) : NULL;
    chat_tool_schemas ts;
    rl_error err = {0};
    chat_tool_schemas_init(&ts, tools, &err);
    char *got_name = NULL, *got_args = NULL;
    rl_status st = chat_parse_tool_call(content, strlen(content), &ts, &got_name, &got_args);
    if (!want_args) {
        CHECK(st == RL_ERR_FORMAT, "%s: expected the call to be rejected, got %s", name, got_args);
    } else {
        CHECK(st == RL_OK, "%s: status %d", name, (int)st);
        if (st == RL_OK) {
            CHECK(strcmp(got_name, want_name) == 0, "%s: name %s", name, got_name);
            json_value *g = J(got_args), *w = J(want_args);
            CHECK(g && w && json_equal(g, w), "%s: arguments %s, want %s", name, got_args, want_args);
            json_free(g);
            json_free(w);
        }
    }
    free(got_name);
    free(got_args);
    chat_tool_schemas_free(&ts);
    json_free(tools);
}

#define STRING_TOOL(name, props) \
    "[{\"type\":\"function\",\"function\":{\"name\":\"" name "\",\"parameters\":{\"type\":\"object\",\"properties\":{" props "}}}}]"
#define SP(n) "\"" n "\":{\"type\":\"string\"}"

/* The parseGemma4ToolCall tests of gemma4_test.go and TestGemma4RepairCandidates' outcomes. */
static void test_tool_call_vectors(void) {
    check_tool_call("InvalidRawQuotedEscape", "call:open_file{path:\"C:\\users\\bob\\file.txt\"}", NULL, NULL, NULL);
    check_tool_call("QuotedScalarsStayStrings", "call:foo{n:" Q "1" Q ",b:" Q "true" Q ",z:" Q "null" Q "}", NULL, "foo",
                    "{\"n\":\"1\",\"b\":\"true\",\"z\":\"null\"}");
    check_tool_call("UnquotedScalarsKeepStructuredTypes", "call:foo{n:1,b:true,z:null}", NULL, "foo",
                    "{\"n\":1,\"b\":true,\"z\":null}");
    check_tool_call("ReferenceImplementationExample",
                    "call:get_current_temperature{detail_level:0,location:" Q "Paris, France" Q ",unit:" Q "celsius" Q "}",
                    NULL, "get_current_temperature",
                    "{\"detail_level\":0,\"location\":\"Paris, France\",\"unit\":\"celsius\"}");
    const char *write_content =
        "\n\n# Project Style Guide for Autonomous Agents' Code Generation (AGENTS.md)\n\nThis document captures the "
        "*de facto* coding standards observed across the `src/` and `components/` source code, designed to ensure "
        "consistency for all generated code and modules consumed by the agent system.";
    char content[1024], want[1024];
    snprintf(content, sizeof content, "call:write{content:%s", write_content);
    strbuf esc;
    sb_init(&esc);
    sb_json_str(&esc, write_content, strlen(write_content));
    snprintf(want, sizeof want, "{\"content\":%s}", esc.s);
    sb_free(&esc);
    check_tool_call("Issue15315 raw multiline string", content, STRING_TOOL("write", SP("content")), "write", want);
    check_tool_call("Issue15315 single quoted value with dangling delimiter",
                    "call:grep{include:" Q "*.py" Q ",output_mode:" Q "content" Q ",path:" Q "/data/robotics/experiment1" Q
                    ",pattern:':\\s*\\w+'" Q "}",
                    STRING_TOOL("grep", SP("include") "," SP("output_mode") "," SP("path") "," SP("pattern")), "grep",
                    "{\"include\":\"*.py\",\"output_mode\":\"content\",\"path\":\"/data/robotics/experiment1\","
                    "\"pattern\":\":\\\\s*\\\\w+\"}");
    check_tool_call("Issue15315 unclosed gemma string before object close", "call:bash{command:" Q "ls}",
                    STRING_TOOL("bash", SP("command")), "bash", "{\"command\":\"ls\"}");
    check_tool_call("single_quoted_middle_property", "call:grep{include:" Q "*.py" Q ",pattern:'abc',path:" Q "/tmp" Q "}",
                    STRING_TOOL("grep", SP("include") "," SP("pattern") "," SP("path")), "grep",
                    "{\"include\":\"*.py\",\"pattern\":\"abc\",\"path\":\"/tmp\"}");
    check_tool_call("unclosed_gemma_string_terminal_property", "call:bash{path:" Q "/tmp" Q ",command:" Q "ls}",
                    STRING_TOOL("bash", SP("path") "," SP("command")), "bash", "{\"path\":\"/tmp\",\"command\":\"ls\"}");
    check_tool_call("raw_string_before_next_property", "call:write{content:hello,mode:" Q "fast" Q "}",
                    STRING_TOOL("write", SP("content") "," SP("mode")), "write", "{\"content\":\"hello\",\"mode\":\"fast\"}");
    check_tool_call("DoesNotRepairNonTerminalUnclosedGemmaString", "call:example{first:" Q "one,second:" Q "two" Q "}",
                    STRING_TOOL("example", SP("first") "," SP("second")), NULL, NULL);
    check_tool_call("RawQuotedStructuralString", "call:foo{q:\"a,b:c\"}", NULL, "foo", "{\"q\":\"a,b:c\"}");
    check_tool_call("candidates: raw string also gets the object close", "call:write{content:hello",
                    STRING_TOOL("write", SP("content")), "write", "{\"content\":\"hello\"}");
    check_tool_call("candidates: no object close without another repair", "call:count{n:1",
                    STRING_TOOL("count", SP("name")), NULL, NULL);
    check_tool_call("name is trimmed", "call: spaced \n{}", NULL, "spaced", "{}");
    check_tool_call("no call: prefix", "get{}", NULL, NULL, NULL);
    check_tool_call("no brace", "call:get", NULL, NULL, NULL);
    check_tool_call("top level must be an object", "call:f{a:1}x", NULL, NULL, NULL);
    check_tool_call("number overflow rejected (Go float64)", "call:f{a:1e400}", NULL, NULL, NULL);
}

/* The serialized arguments: model's key order on top, sorted below, Go's float64 JSON numbers. */
static void test_tool_call_json_text(void) {
    char *name = NULL, *args = NULL;
    const char *in = "call:f{zeta:1,alpha:{z:1,y:[2,{d:0.5,c:1e-7}]},mid:1e21,neg:-0.000001,dup:1,dup:2,s:" Q "\x01<&" Q "}";
    CHECK(chat_parse_tool_call(in, strlen(in), NULL, &name, &args) == RL_OK, "parse");
    const char *want = "{\"zeta\":1,\"alpha\":{\"y\":[2,{\"c\":1e-7,\"d\":0.5}],\"z\":1},\"mid\":1e+21,\"neg\":-0.000001,"
                       "\"dup\":2,\"s\":\"\\u0001<&\"}";
    CHECK(args && strcmp(args, want) == 0, "arguments text\n      got  %s\n      want %s", args, want);
    free(name);
    free(args);
    /* invalid UTF-8 inside a string becomes U+FFFD, as Go's decoder does */
    in = "call:f{a:" Q "x\xffy" Q ",b:\"p\xfeq\"}";
    CHECK(chat_parse_tool_call(in, strlen(in), NULL, &name, &args) == RL_OK, "parse invalid utf-8");
    CHECK(args && strcmp(args, "{\"a\":\"x\xef\xbf\xbdy\",\"b\":\"p\xef\xbf\xbdq\"}") == 0, "invalid utf-8: %s", args);
    free(name);
    free(args);
}

/* Go's float formatting: %v (strconv 'g', shortest) and encoding/json. */
static void test_go_numbers(void) {
    static const struct {
        double v;
        const char *fmt_v, *json;
    } v[] = {
        {0, "0", "0"},
        {1, "1", "1"},
        {-2.5, "-2.5", "-2.5"},
        {3.14, "3.14", "3.14"},
        {0.1, "0.1", "0.1"},
        {123456, "123456", "123456"},
        {1e6, "1e+06", "1000000"},
        {1234567.5, "1.2345675e+06", "1234567.5"},
        {0.0001, "0.0001", "0.0001"},
        {0.00001, "1e-05", "0.00001"},
        {0.000001, "1e-06", "0.000001"},
        {1.5e-7, "1.5e-07", "1.5e-7"},
        {1e20, "1e+20", "100000000000000000000"},
        {1e21, "1e+21", "1e+21"},
        {-1e-300, "-1e-300", "-1e-300"},
        {5e-324, "5e-324", "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308", "1.7976931348623157e+308"},
        {0.30000000000000004, "0.30000000000000004", "0.30000000000000004"},
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        strbuf a, b;
        sb_init(&a);
        sb_init(&b);
        chat_go_float_v(&a, v[i].v);
        chat_go_json_number(&b, v[i].v);
        CHECK(strcmp(S(&a), v[i].fmt_v) == 0, "%%v of %.17g: %s, want %s", v[i].v, S(&a), v[i].fmt_v);
        CHECK(strcmp(S(&b), v[i].json) == 0, "json of %.17g: %s, want %s", v[i].v, S(&b), v[i].json);
        sb_free(&a);
        sb_free(&b);
    }
    /* random doubles read back exactly, with no more digits than needed */
    for (int i = 0; i < 3000; i++) {
        union {
            unsigned long long u;
            double d;
        } x = {.u = t_rand_u64()};
        if (!isfinite(x.d)) continue;
        strbuf a;
        sb_init(&a);
        if (i & 1) chat_go_float_v(&a, x.d);
        else chat_go_json_number(&a, x.d);
        CHECK(strtod(S(&a), NULL) == x.d, "%.17g printed as %s", x.d, S(&a));
        /* significant digits: all digits of the mantissa minus leading and trailing zeros */
        char dig[400];
        int nd = 0;
        for (const char *c = S(&a); *c && *c != 'e' && nd < 399; c++)
            if (*c >= '0' && *c <= '9' && (nd > 0 || *c != '0')) dig[nd++] = *c;
        while (nd > 0 && dig[nd - 1] == '0') nd--;
        char buf[40];
        int need = 1;
        while (need < 17) {
            snprintf(buf, sizeof buf, "%.*e", need - 1, x.d);
            if (strtod(buf, NULL) == x.d) break;
            need++;
        }
        CHECK(nd == need, "%.17g printed as %s: %d significant digits, %d needed", x.d, S(&a), nd, need);
        sb_free(&a);
    }
}

/* ---- randomized ---- */

static size_t rnd(size_t n) { return (size_t)(t_rand_u64() % n); }

static const char *const PIECES[] = {
    "Hello", " ", "  ", "\n", "\t", "world", "\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "\xe3\x80\x80", "\xc2\xa0",
    "\xf0\x9f\x98\x80", "<", "<|", "|>", "<|chan", "<|channel>", "thought\n", "thought", "thou", "<channel|>", "<chan",
    "<|tool_call>", "call:get_weather{location:" Q "Paris" Q "}", "call:f{a:1,b:[true,null],c:{d:" Q "x\ny" Q "}}",
    "call:w{content:raw text", "<tool_call|>", "<|tool_response>", "<tool_", "<|tool_res", "{", "}", ":", ",", Q, "\"",
    "'", "x:'y'", "\xff", "\xe3\x80", "\xe3", "\xf0\x9f", "\r\n",
};

static char *random_output(size_t *len) {
    strbuf sb;
    sb_init(&sb);
    size_t n = rnd(24);
    for (size_t i = 0; i < n; i++) sb_puts(&sb, PIECES[rnd(sizeof PIECES / sizeof *PIECES)]);
    *len = sb.len;
    return sb_take(&sb);
}

static int same_result(const parse_result *a, const parse_result *b) {
    if (a->st != b->st || a->content.len != b->content.len || a->thinking.len != b->thinking.len ||
        a->n_calls != b->n_calls)
        return 0;
    if (memcmp(S(&a->content), S(&b->content), a->content.len) || memcmp(S(&a->thinking), S(&b->thinking), a->thinking.len))
        return 0;
    for (size_t i = 0; i < a->n_calls; i++)
        if (strcmp(a->names[i], b->names[i]) || strcmp(a->args[i], b->args[i])) return 0;
    return 1;
}

static void test_parser_split_invariance(void) {
    json_value *tools = J(STRING_TOOL("w", SP("content")));
    json_value *after_tool = J("[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"tool\",\"content\":\"r\"}]");
    int failures = 0;
    for (int iter = 0; iter < 400 && failures < 3; iter++) {
        size_t len;
        char *text = random_output(&len);
        int think = (int)rnd(2);
        const json_value *msgs = rnd(4) == 0 ? after_tool : NULL;
        parse_result whole = parse_cut(text, len, think, msgs, tools, NULL, 0);
        /* every single cut point */
        for (size_t cut = 1; cut < len && failures < 3; cut++) {
            parse_result r = parse_cut(text, len, think, msgs, tools, &cut, 1);
            if (!same_result(&whole, &r)) {
                CHECK(0, "split at %zu of %zu changes the result (think=%d): \"%s\"\n      whole content \"%s\" thinking \"%s\"\n"
                      "      split content \"%s\" thinking \"%s\"",
                      cut, len, think, text, S(&whole.content), S(&whole.thinking), S(&r.content), S(&r.thinking));
                failures++;
            }
            result_free(&r);
        }
        /* byte by byte, and a few random multi-cuts */
        size_t *cuts = malloc((len + 1) * sizeof *cuts);
        for (int k = 0; k < 4 && len > 1; k++) {
            size_t n_cuts = 0;
            for (size_t i = 1; i < len; i++)
                if (k == 0 || rnd(4) == 0) cuts[n_cuts++] = i;
            parse_result r = parse_cut(text, len, think, msgs, tools, cuts, n_cuts);
            if (!same_result(&whole, &r)) {
                CHECK(0, "multi-cut (%zu pieces) changes the result: \"%s\"", n_cuts + 1, text);
                failures++;
            }
            result_free(&r);
        }
        free(cuts);
        result_free(&whole);
        free(text);
    }
    json_free(tools);
    json_free(after_tool);
}

/* text without '|' (so no tags) from ASCII punctuation, whitespace and some
 * UTF-8; with trimmed set, without leading/trailing whitespace (which the
 * renderer would trim) */
static void random_text(strbuf *sb, size_t max, int trimmed) {
    static const char *const bits[] = {"a", "b", "Z", "0", "9", " ", "  ", "\n", "\t", "\"", "\\", "'", "{", "}", "[", "]",
                                       ":", ",", "<", ">", "&", "#", "\xc3\xa9", "\xe6\x97\xa5", "\xf0\x9f\x98\x80",
                                       "\xe3\x80\x80", "\x01", "\\n", "/", "call:"};
    strbuf t;
    sb_init(&t);
    size_t n = rnd(max + 1);
    for (size_t i = 0; i < n; i++) sb_puts(&t, bits[rnd(sizeof bits / sizeof *bits)]);
    const char *s = S(&t);
    size_t len = t.len;
    if (trimmed) chat_trim(&s, &len);
    sb_append(sb, s, len);
    sb_free(&t);
}

static void random_json(strbuf *sb, int depth);

static void random_key(strbuf *sb, int i) {
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
    size_t n = 1 + rnd(6);
    sb_putc(sb, '"');
    for (size_t k = 0; k < n; k++) sb_putc(sb, alpha[rnd(sizeof alpha - 1)]);
    sb_printf(sb, "%d\"", i); /* suffix keeps keys distinct */
}

static void random_json(strbuf *sb, int depth) {
    switch (rnd(depth > 2 ? 6 : 8)) {
    case 0: {
        strbuf t;
        sb_init(&t);
        random_text(&t, 12, 0);
        sb_json_str(sb, S(&t), t.len);
        sb_free(&t);
        break;
    }
    case 1: sb_printf(sb, "%lld", (long long)(t_rand_u64() % 2000001) - 1000000); break;
    case 2: sb_printf(sb, "%.17g", (t_rand_uniform() - 0.5) * pow(10, (double)rnd(40) - 20)); break;
    case 3: sb_printf(sb, "%lld", (long long)(t_rand_u64() >> 11) - (1ll << 52)); break;
    case 4: sb_puts(sb, rnd(2) ? "true" : "false"); break;
    case 5: sb_puts(sb, "null"); break;
    case 6: {
        size_t n = rnd(4);
        sb_putc(sb, '[');
        for (size_t i = 0; i < n; i++) {
            if (i) sb_putc(sb, ',');
            random_json(sb, depth + 1);
        }
        sb_putc(sb, ']');
        break;
    }
    default: {
        size_t n = rnd(4);
        sb_putc(sb, '{');
        for (size_t i = 0; i < n; i++) {
            if (i) sb_putc(sb, ',');
            random_key(sb, (int)i);
            sb_putc(sb, ':');
            random_json(sb, depth + 1);
        }
        sb_putc(sb, '}');
    }
    }
}

/* Render [user, assistant] and parse the assistant turn back. */
static void test_render_parse_round_trip(void) {
    int failures = 0;
    for (int iter = 0; iter < 500 && failures < 3; iter++) {
        strbuf content, thinking, msg;
        sb_init(&content);
        sb_init(&thinking);
        sb_init(&msg);
        random_text(&content, 10, 1);
        if (rnd(2)) random_text(&thinking, 10, 1);
        size_t n_calls = rnd(4);
        sb_puts(&msg, "[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":");
        sb_json_str(&msg, S(&content), content.len);
        sb_puts(&msg, ",\"thinking\":");
        sb_json_str(&msg, S(&thinking), thinking.len);
        sb_puts(&msg, ",\"tool_calls\":[");
        for (size_t i = 0; i < n_calls; i++) {
            static const char *const names[] = {"get_weather", "f", "run_cmd", "x_1"};
            sb_printf(&msg, "%s{\"function\":{\"name\":\"%s\",\"arguments\":{", i ? "," : "", names[rnd(4)]);
            size_t n_args = rnd(4);
            for (size_t k = 0; k < n_args; k++) {
                if (k) sb_putc(&msg, ',');
                random_key(&msg, (int)k);
                sb_putc(&msg, ':');
                random_json(&msg, 1);
            }
            sb_puts(&msg, "}}}");
        }
        sb_puts(&msg, "]}]");

        json_value *m = J(S(&msg));
        if (!m) break;
        rl_chat_opts o = {(int)rnd(2), 0, 1};
        strbuf out;
        sb_init(&out);
        rl_error err = {0};
        CHECK(rl_chat_render(m, NULL, &o, &out, &err) == RL_OK, "render: %s", err.msg);
        /* the model's part: after the generation prompt of the user turn, up to the end-of-turn token */
        const char *prefix = "<|turn>user\nq<turn|>\n<|turn>model\n";
        const char *start = strstr(S(&out), prefix);
        const char *suffix = n_calls ? "<|tool_response>" : "<turn|>\n<|turn>model\n";
        size_t out_len = out.len, sl = strlen(suffix);
        CHECK(start && out_len >= sl && strcmp(S(&out) + out_len - sl, suffix) == 0, "unexpected rendering: %s", S(&out));
        if (!start) break;
        start += strlen(prefix);
        size_t body = (size_t)(S(&out) + out_len - sl - start);

        parse_result r = parse_cut(start, body, 1, NULL, NULL, NULL, 0);
        /* Ollama drops text after a call that is the start of <tool_call|> or
         * <|tool_response> when generation ends there (here only "<" can be) */
        if (n_calls && content.len == 1 && content.s[0] == '<') sb_reset(&content);
        int ok = r.st == RL_OK && strcmp(S(&r.content), S(&content)) == 0 && strcmp(S(&r.thinking), S(&thinking)) == 0 &&
                 r.n_calls == n_calls;
        const json_value *calls = chat_get(&m->items[1], "tool_calls");
        for (size_t i = 0; ok && i < n_calls; i++) {
            const json_value *fn = chat_get(&calls->items[i], "function");
            json_value *got = J(r.args[i]);
            ok = got && strcmp(r.names[i], chat_get(fn, "name")->str) == 0 && json_equal(got, chat_get(fn, "arguments"));
            json_free(got);
        }
        if (!ok) {
            CHECK(0, "round trip differs\n      message %s\n      model text %.*s\n      content \"%s\" thinking \"%s\" calls %zu%s%s",
                  S(&msg), (int)body, start, S(&r.content), S(&r.thinking), r.n_calls, r.n_calls ? " first args " : "",
                  r.n_calls ? r.args[0] : "");
            failures++;
        }
        result_free(&r);
        sb_free(&out);
        json_free(m);
        sb_free(&content);
        sb_free(&thinking);
        sb_free(&msg);
    }
}

const char *T_SUITE = "chat";
const t_case T_CASES[] = {
    {"render_ollama_vectors", test_render_ollama_vectors},
    {"render_jinja_vectors", test_render_jinja_vectors},
    {"render_fragments", test_render_fragments},
    {"render_images", test_render_images},
    {"render_options_and_roles", test_render_options_and_roles},
    {"render_schema_paths", test_render_schema_paths},
    {"render_rejects_bad_input", test_render_rejects_bad_input},
    {"is_large", test_is_large},
    {"parser_ollama_vectors", test_parser_ollama_vectors},
    {"parser_ollama_streaming", test_parser_ollama_streaming},
    {"parser_edges", test_parser_edges},
    {"args_to_json_vectors", test_args_to_json_vectors},
    {"repair_vectors", test_repair_vectors},
    {"tool_call_vectors", test_tool_call_vectors},
    {"tool_call_json_text", test_tool_call_json_text},
    {"go_numbers", test_go_numbers},
    {"parser_split_invariance", test_parser_split_invariance},
    {"render_parse_round_trip", test_render_parse_round_trip},
    {0},
};
