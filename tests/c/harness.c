#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <math.h>

int t_current_failed;
static unsigned long long rng_state;

void t_note_failure(const char *file, int line, const char *fmt, ...) {
    t_current_failed = 1;
    fprintf(stderr, "    FAIL %s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

const char *t_fixtures_dir(void) {
    static char buf[4096];
    const char *env = getenv("RULLAMA_FIXTURES");
    const char *cands[] = {env, "../shared/fixtures", "/work/shared/fixtures"};
    for (size_t i = 0; i < sizeof cands / sizeof *cands; i++) {
        struct stat st;
        if (cands[i] && stat(cands[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            snprintf(buf, sizeof buf, "%s", cands[i]);
            return buf;
        }
    }
    return NULL;
}

const char *t_tmp_dir(void) {
    static char buf[256];
    if (!buf[0]) {
        snprintf(buf, sizeof buf, "/tmp/rullama-test-%s-%ld", T_SUITE, (long)getpid());
        mkdir(buf, 0755);
    }
    return buf;
}

unsigned long long t_rand_u64(void) {
    /* splitmix64 */
    unsigned long long z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double t_rand_uniform(void) { return (double)(t_rand_u64() >> 11) * (1.0 / 9007199254740992.0); }

double t_rand_normal(void) {
    double u1 = t_rand_uniform(), u2 = t_rand_uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int main(int argc, char **argv) {
    const char *seed_env = getenv("RULLAMA_TEST_SEED");
    rng_state = seed_env ? strtoull(seed_env, NULL, 0) : (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32);
    fprintf(stderr, "suite %s (RULLAMA_TEST_SEED=%llu)\n", T_SUITE, rng_state);
    const char *only = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0;
    for (const t_case *c = T_CASES; c->name; c++) {
        if (only && !strstr(c->name, only)) continue;
        t_current_failed = 0;
        c->fn();
        if (t_current_failed) {
            failed++;
            fprintf(stderr, "  not ok %s\n", c->name);
        } else {
            passed++;
            fprintf(stderr, "  ok %s\n", c->name);
        }
    }
    printf("RESULT %s passed=%d failed=%d\n", T_SUITE, passed, failed);
    return failed ? 1 : 0;
}
