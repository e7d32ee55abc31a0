/* wasm exports for chat/generation sessions (CPU or GPU), driven by the JS
 * CLI, server and browser worker with the step protocol:
 *   h = rl_api_session_open(spec, caps_json | "", n_ctx)
 *   rl_api_session_chat(h, body_json) / rl_api_session_generate(h, body_json)
 *   loop: f = rl_api_session_step(h); f & 1: await flush; f & 2: read text/thinking; f & 4: done
 *   rl_api_session_result(h) -> JSON (malloc'd; caller frees) */
#include <stdlib.h>
#include <string.h>

#include "cli/caps_json.h"
#include "json.h"
#include "platform/wasm.h"
#include "session.h"

static rl_error last_err; /* the API boundary's only state */

RL_EXPORT(rl_api_session_error) const char *rl_api_session_error(void) { return last_err.msg; }

/* caps_json empty: CPU engine; otherwise js/gpu.mjs caps() for the GPU engine. */
/* flags: bit 0 = keep the per-layer-embedding table in the file (GPU). */
RL_EXPORT(rl_api_session_open)
rl_session *rl_api_session_open(const char *spec, const char *caps_json, int n_ctx, int flags) {
    rl_error_clear(&last_err);
    rl_gpu_caps caps = {0};
    rl_session_opts opts = {.n_ctx = n_ctx, .ple_on_host = flags & 1};
    if (caps_json && caps_json[0]) {
        if (rl_caps_from_json(caps_json, &caps, &last_err) != RL_OK) return NULL;
        opts.gpu = 1;
        opts.caps = &caps;
    }
    rl_session *s = NULL;
    if (rl_session_open(rl_host_default(), spec, &opts, &s, &last_err) != RL_OK) return NULL;
    return s;
}

RL_EXPORT(rl_api_session_close) void rl_api_session_close(rl_session *s) { rl_session_free(s); }
RL_EXPORT(rl_api_session_packed_bytes) double rl_api_session_packed_bytes(rl_session *s) {
    return (double)rl_session_packed_bytes(s);
}

RL_EXPORT(rl_api_session_upload_bytes) double rl_api_session_upload_bytes(rl_session *s) {
    return (double)rl_session_upload_bytes(s);
}

static int begin(rl_session *s, const char *body_json, int chat) {
    rl_error_clear(&last_err);
    json_value *body = NULL;
    if (json_parse(body_json, strlen(body_json), &body, &last_err) != RL_OK) return -1;
    rl_status st = chat ? rl_session_chat(s, body, &last_err) : rl_session_generate(s, body, &last_err);
    json_free(body);
    return st == RL_OK ? 0 : -1;
}

RL_EXPORT(rl_api_session_chat) int rl_api_session_chat(rl_session *s, const char *body_json) { return begin(s, body_json, 1); }
RL_EXPORT(rl_api_session_generate) int rl_api_session_generate(rl_session *s, const char *body_json) {
    return begin(s, body_json, 0);
}

RL_EXPORT(rl_api_session_step) int rl_api_session_step(rl_session *s) {
    rl_error_clear(&last_err);
    return rl_gen_step(rl_session_gen(s), &last_err);
}

RL_EXPORT(rl_api_session_text) const char *rl_api_session_text(rl_session *s) { return rl_gen_text(rl_session_gen(s), NULL); }
RL_EXPORT(rl_api_session_thinking) const char *rl_api_session_thinking(rl_session *s) {
    return rl_gen_thinking(rl_session_gen(s), NULL);
}
RL_EXPORT(rl_api_session_cancel) void rl_api_session_cancel(rl_session *s) { rl_gen_cancel(rl_session_gen(s)); }

RL_EXPORT(rl_api_session_result) char *rl_api_session_result(rl_session *s) {
    strbuf out;
    sb_init(&out);
    rl_session_result_json(s, NULL, NULL, &out);
    return sb_take(&out);
}
