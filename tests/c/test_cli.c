/* The command line on good and malformed models: `inspect` reports the right
 * facts for the external fixture, and every file in a corpus of malformed ones
 * (truncations, flipped bytes, absurd header fields, wrong architecture,
 * missing or misshapen tensors) gets a clear message and a non-zero exit, with
 * no crash under the sanitizers. Runs rl_cli_main in-process with a host that
 * captures output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/host.h"
#include "core/strbuf.h"
#include "harness.h"

static strbuf cap_out, cap_err;
static rl_host capture;

static void capture_out(rl_host *h, int stream, const char *s, size_t len) {
    (void)h;
    sb_append(stream == 2 ? &cap_err : &cap_out, s, len);
}

static int run_cli(int argc, const char **argv) {
    sb_reset(&cap_out);
    sb_reset(&cap_err);
    capture = *rl_host_default();
    capture.out = capture_out;
    return rl_cli_main(&capture, argc, (char **)argv);
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len);
    if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *n = (size_t)len;
    return b;
}

static void spit(const char *path, const unsigned char *b, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(b, 1, n, f);
        fclose(f);
    }
}

static const char *fixture_model(void) {
    static char path[4096];
    const char *fx = t_fixtures_dir();
    if (!fx) return NULL;
    snprintf(path, sizeof path, "%s/gemma4-tiny/model.gguf", fx);
    return path;
}

static void inspect_fixture(void) {
    const char *model = fixture_model();
    CHECK(model != NULL, "fixture not found");
    if (!model) return;
    const char *argv[] = {"rullama", "inspect", model, "--json"};
    int rc = run_cli(4, argv);
    CHECK(rc == 0, "inspect failed: %s", cap_err.s ? cap_err.s : "");
    const char *o = cap_out.s ? cap_out.s : "";
    /* facts from the fixture's README */
    CHECK(strstr(o, "\"block_count\":6") != NULL, "block_count");
    CHECK(strstr(o, "\"embedding_length\":256") != NULL, "embedding_length");
    CHECK(strstr(o, "\"vocab_size\":1024") != NULL, "vocab");
    CHECK(strstr(o, "\"sliding_window\":16") != NULL, "window");
    CHECK(strstr(o, "\"shared_kv_layers\":3") != NULL, "shared kv");
    CHECK(strstr(o, "\"key_length\":128,\"key_length_swa\":64") != NULL, "head dims");
    CHECK(strstr(o, "\"vision\":true,\"audio\":true,\"projector\":true") != NULL, "towers");
    /* layers 3-5 share the KV of layers 1, 1, 2 */
    const char *l3 = strstr(o, "\"layers\":[");
    int donors[6] = {-9, -9, -9, -9, -9, -9}, n = 0;
    for (const char *p = l3; p && n < 6 && (p = strstr(p, "\"kv_donor\":")); p++) donors[n++] = atoi(p + 11);
    CHECK(donors[3] == 1 && donors[4] == 1 && donors[5] == 2, "kv donors %d %d %d", donors[3], donors[4], donors[5]);
    const char *argv2[] = {"rullama", "inspect", model};
    CHECK(run_cli(3, argv2) == 0 && cap_out.s && strstr(cap_out.s, "pattern SSFSSF"), "text inspect: %s",
          cap_out.s ? cap_out.s : "");
}

/* Every malformed file: non-zero exit, a message on stderr, nothing on stdout. */
static int expect_rejected(const char *path, const char *what) {
    const char *argv[] = {"rullama", "inspect", path};
    int rc = run_cli(3, argv);
    int ok = rc != 0 && cap_err.len > 10 && cap_out.len == 0;
    if (!ok) t_note_failure(__FILE__, __LINE__, "%s: rc %d, stderr '%s'", what, rc, cap_err.s ? cap_err.s : "");
    return ok;
}

static size_t find(const unsigned char *b, size_t n, const char *s) {
    size_t m = strlen(s);
    for (size_t i = 0; i + m <= n; i++)
        if (!memcmp(b + i, s, m)) return i;
    return (size_t)-1;
}

static void malformed_corpus(void) {
    const char *model = fixture_model();
    if (!model) return;
    size_t n;
    unsigned char *orig = slurp(model, &n);
    CHECK(orig != NULL, "read fixture");
    if (!orig) return;
    unsigned char *b = malloc(n);
    char path[512];
    snprintf(path, sizeof path, "%s/bad.gguf", t_tmp_dir());
    int cases = 0;
    /* truncations: every 97th byte through the header, then a spread over the data */
    const size_t header_end = find(orig, n, "token_embd.weight") + 20000;
    for (size_t len = 0; len < n; len += len < header_end ? 97 : n / 37) {
        spit(path, orig, len);
        char what[64];
        snprintf(what, sizeof what, "truncated to %zu bytes", len);
        /* a file cut inside tensor data still parses; inspect needs only the header,
         * but rope_freqs (read at open) or the data range check reject it */
        expect_rejected(path, what);
        cases++;
    }
    /* random byte flips in the header region */
    for (int k = 0; k < 300; k++) {
        memcpy(b, orig, n);
        size_t at = (size_t)(t_rand_u64() % (header_end < n ? header_end : n));
        b[at] ^= (unsigned char)(1 + t_rand_u64() % 255);
        spit(path, b, n);
        const char *argv[] = {"rullama", "inspect", path};
        int rc = run_cli(3, argv);
        /* a flip may land in a string's text and stay valid; it must never crash,
         * and a failure must explain itself */
        if (rc != 0) CHECK(cap_err.len > 10, "flip at %zu: silent failure", at);
        cases++;
    }
    /* absurd header fields */
    struct {
        size_t off;
        unsigned char bytes[8];
        const char *what;
    } fields[] = {
        {4, {9, 0, 0, 0}, "version 9"},
        {4, {1, 0, 0, 0}, "version 1"},
        {8, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "tensor count 2^64-1"},
        {16, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, "kv count 2^63-1"},
        {0, {'G', 'G', 'U', 'X'}, "bad magic"},
    };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        memcpy(b, orig, n);
        memcpy(b + fields[i].off, fields[i].bytes, fields[i].off == 0 || fields[i].off == 4 ? 4 : 8);
        spit(path, b, n);
        expect_rejected(path, fields[i].what);
        cases++;
    }
    /* wrong architecture: the message names what was found */
    size_t arch = find(orig, n, "gemma4\x0e");
    (void)arch;
    size_t val = find(orig, n, "general.architecture");
    if (val != (size_t)-1) {
        memcpy(b, orig, n);
        /* key, u32 type, u64 length, then the 6-byte value "gemma4" */
        size_t v = val + strlen("general.architecture") + 4 + 8;
        memcpy(b + v, "llama4", 6);
        spit(path, b, n);
        if (expect_rejected(path, "architecture llama4"))
            CHECK(strstr(cap_err.s, "llama4") && strstr(cap_err.s, "gemma4"), "message: %s", cap_err.s);
        cases++;
    }
    /* a required tensor renamed away, and a tensor with the wrong shape */
    size_t t = find(orig, n, "blk.2.attn_q.weight");
    if (t != (size_t)-1) {
        memcpy(b, orig, n);
        b[t + 6] = 'X';
        spit(path, b, n);
        if (expect_rejected(path, "missing attn_q"))
            CHECK(strstr(cap_err.s, "blk.2.attn_q.weight") != NULL, "message names the tensor: %s", cap_err.s);
        memcpy(b, orig, n);
        /* name, then u32 n_dims, then ne[0] (u64): make it 128 instead of 256 */
        size_t ne0 = t + strlen("blk.2.attn_q.weight") + 4;
        const unsigned char v128[8] = {128, 0, 0, 0, 0, 0, 0, 0};
        memcpy(b + ne0, v128, 8);
        spit(path, b, n);
        expect_rejected(path, "attn_q with the wrong shape");
        cases += 2;
    }
    /* missing file and a directory */
    expect_rejected("/nonexistent/model.gguf", "missing file");
    cases++;
    fprintf(stderr, "    %d malformed variants\n", cases);
    free(b);
    free(orig);
}

static void usage_errors(void) {
    const char *a1[] = {"rullama", "frobnicate"};
    CHECK(run_cli(2, a1) == 2 && strstr(cap_err.s, "unknown command"), "unknown command");
    const char *a2[] = {"rullama", "inspect"};
    CHECK(run_cli(2, a2) == 2 && strstr(cap_err.s, "usage"), "inspect without a model");
    const char *a3[] = {"rullama", "logits", "x", "--tokens", "1,a,3", "--out", "/tmp/x"};
    CHECK(run_cli(7, a3) == 2, "bad token list");
}

const char *T_SUITE = "cli";
const t_case T_CASES[] = {
    {"inspect_fixture", inspect_fixture},
    {"malformed_corpus", malformed_corpus},
    {"usage_errors", usage_errors},
    {0},
};
