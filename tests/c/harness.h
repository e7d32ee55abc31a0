/* Minimal test harness for the native C suites. A test is a function; it fails
 * if any CHECK in it fails. main() (harness.c) runs the suite's tests and prints
 * "RESULT <suite> passed=N failed=M", which scripts/test.sh sums. */
#ifndef RL_HARNESS_H
#define RL_HARNESS_H

#include <stdio.h>

extern int t_current_failed;
void t_note_failure(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (!(cond)) t_note_failure(__FILE__, __LINE__, __VA_ARGS__);     \
    } while (0)

/* Each suite defines: const t_case T_CASES[]; (terminated by {0}) and T_SUITE. */
typedef struct {
    const char *name;
    void (*fn)(void);
} t_case;

extern const t_case T_CASES[];
extern const char *T_SUITE;

/* Fixture directory (../shared/fixtures or $RULLAMA_FIXTURES), NULL if absent. */
const char *t_fixtures_dir(void);
/* Scratch directory for files a test writes (created, unique per run). */
const char *t_tmp_dir(void);
/* Deterministic RNG for tests: seeded from $RULLAMA_TEST_SEED or the time (printed). */
unsigned long long t_rand_u64(void);
double t_rand_uniform(void); /* [0,1) */
double t_rand_normal(void);

#endif
