/* SHA-256 against published FIPS 180-4 example digests and, for random
 * inputs, against the system's sha256sum (an independent implementation). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "sha256.h"

static void t_known_vectors(void) {
    static const struct {
        const char *msg, *hex;
    } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        char hex[65];
        rl_sha256_hex(v[i].msg, strlen(v[i].msg), hex);
        CHECK(!strcmp(hex, v[i].hex), "vector %zu: %s", i, hex);
    }
    /* one million 'a', fed in uneven chunks */
    rl_sha256 s;
    rl_sha256_init(&s);
    char chunk[997];
    memset(chunk, 'a', sizeof chunk);
    size_t left = 1000000;
    while (left) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        rl_sha256_update(&s, chunk, n);
        left -= n;
    }
    unsigned char d[32];
    rl_sha256_final(&s, d);
    char hex[65];
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
    CHECK(!strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"), "million a: %s", hex);
}

/* Random lengths around the 55/56/64-byte padding boundaries and beyond,
 * hashed in random pieces, compared with sha256sum of the same bytes. */
static void t_random_vs_sha256sum(void) {
    if (access("/usr/bin/sha256sum", X_OK) != 0) {
        fprintf(stderr, "    (sha256sum not available; random comparison skipped)\n");
        return;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/sha-input", t_tmp_dir());
    for (int iter = 0; iter < 40; iter++) {
        size_t len = iter < 20 ? 50 + (size_t)iter : (size_t)(t_rand_u64() % 5000);
        unsigned char *buf = malloc(len + 1);
        for (size_t i = 0; i < len; i++) buf[i] = (unsigned char)t_rand_u64();
        FILE *f = fopen(path, "wb");
        if (!f) { CHECK(0, "cannot write %s", path); free(buf); return; }
        fwrite(buf, 1, len, f);
        fclose(f);
        char cmd[600], want[80] = {0};
        snprintf(cmd, sizeof cmd, "/usr/bin/sha256sum '%s'", path);
        FILE *p = popen(cmd, "r");
        if (!p || !fgets(want, sizeof want, p)) { CHECK(0, "sha256sum failed"); if (p) pclose(p); free(buf); return; }
        pclose(p);
        want[64] = '\0';
        rl_sha256 s;
        rl_sha256_init(&s);
        for (size_t off = 0; off < len;) {
            size_t n = 1 + (size_t)(t_rand_u64() % 130);
            if (n > len - off) n = len - off;
            rl_sha256_update(&s, buf + off, n);
            off += n;
        }
        unsigned char d[32];
        rl_sha256_final(&s, d);
        char got[65];
        for (int i = 0; i < 32; i++) snprintf(got + 2 * i, 3, "%02x", d[i]);
        CHECK(!strcmp(got, want), "len %zu: got %s want %s", len, got, want);
        free(buf);
    }
}

const t_case T_CASES[] = {
    {"known_vectors", t_known_vectors},
    {"random_vs_sha256sum", t_random_vs_sha256sum},
    {0},
};
const char *T_SUITE = "sha256";
