/* SHA-256: FIPS 180-4 / NIST example vectors, chunking invariance, and random
 * inputs against the system's sha256sum (an independent implementation). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"
#include "harness.h"

const char *T_SUITE = "sha256";

static void hex_of(const void *p, size_t n, char out[65]) {
    uint8_t d[32];
    rl_sha256_buf(p, n, d);
    rl_sha256_hex(d, out);
}

static void test_vectors(void) {
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
        hex_of(v[i].msg, strlen(v[i].msg), hex);
        CHECK(!strcmp(hex, v[i].hex), "vector %zu: got %s want %s", i, hex, v[i].hex);
    }
    /* one million 'a', fed in odd-sized pieces */
    static char a[1000];
    memset(a, 'a', sizeof a);
    rl_sha256 s;
    rl_sha256_init(&s);
    size_t done = 0;
    for (size_t k = 1; done < 1000000; k = k % 997 + 1) {
        size_t n = k < 1000000 - done ? k : 1000000 - done;
        rl_sha256_update(&s, a, n);
        done += n;
    }
    uint8_t d[32];
    char hex[65];
    rl_sha256_final(&s, d);
    rl_sha256_hex(d, hex);
    CHECK(!strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"), "million a: %s", hex);
}

/* Random lengths around the 55/56/64-byte padding edges and beyond, hashed in
 * random pieces, compared with sha256sum of the same bytes. */
static void test_random_vs_sha256sum(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/sha_input.bin", t_tmp_dir());
    for (int iter = 0; iter < 24; iter++) {
        size_t len = iter < 12 ? (size_t)(50 + iter * 2) : (size_t)(t_rand_u64() % 300000);
        uint8_t *buf = malloc(len + 1);
        for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)t_rand_u64();
        rl_sha256 s;
        rl_sha256_init(&s);
        for (size_t off = 0; off < len;) {
            size_t n = (size_t)(t_rand_u64() % 200);
            if (n > len - off) n = len - off;
            rl_sha256_update(&s, buf + off, n);
            off += n;
        }
        uint8_t d[32];
        char mine[65], ref[65] = {0};
        rl_sha256_final(&s, d);
        rl_sha256_hex(d, mine);
        FILE *f = fopen(path, "wb");
        CHECK(f && fwrite(buf, 1, len, f) == len, "writing %s", path);
        if (f) fclose(f);
        char cmd[600];
        snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
        FILE *p = popen(cmd, "r");
        CHECK(p && fscanf(p, "%64s", ref) == 1, "running sha256sum");
        if (p) pclose(p);
        CHECK(!strcmp(mine, ref), "length %zu: ours %s, sha256sum %s", len, mine, ref);
        free(buf);
    }
    remove(path);
}

const t_case T_CASES[] = {
    {"vectors", test_vectors},
    {"random_vs_sha256sum", test_random_vs_sha256sum},
    {0},
};
