/* WGSL sources embedded in the binary, and the tiny preprocessor that makes
 * kernel variants from one source. A kernel's source is the concatenation of
 * its files; lines "#ifdef NAME", "#ifndef NAME", "#else", "#endif" select
 * text by the variant's defines, and each define NAME=VALUE also becomes
 * "const NAME = VALUE;" at the top (defines without a value are flags only).
 * Directive lines ("enable ...;", "requires ...;", "diagnostic(...);") are
 * moved before those consts, since WGSL wants directives first.
 * Two weight types in one kernel: a file listed as "F@2" is included once more
 * for the type of a "TYPE2_<T>" define (with TYPE_<T> and TYPES_ONLY in place
 * of the kernel's TYPE_ define), every fn, const and struct it declares renamed NAME_2;
 * without a TYPE2_ define it is left out. */
#ifndef RL_WGSL_H
#define RL_WGSL_H

#include "core/err.h"
#include "core/strbuf.h"

typedef struct {
    const char *name; /* file name, e.g. "matvec.wgsl" */
    const char *text;
} rl_wgsl_file;

extern const rl_wgsl_file rl_wgsl_files[]; /* terminated by {0, 0} */

const char *rl_wgsl_find(const char *name);

/* defines: "NAME" or "NAME=VALUE" entries, NULL-terminated (may be NULL).
 * files: NULL-terminated list of embedded file names. */
rl_status rl_wgsl_build(const char *const *files, const char *const *defines, strbuf *out, rl_error *err);

#endif
