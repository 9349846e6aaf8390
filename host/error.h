/*
 * error.h - the one frozen enum of error codes, and the error record that
 * carries a message naming the file and line.
 *
 * Values are never renumbered: new codes are appended before RS_ERR_COUNT_.
 * The library never prints: a failing call returns a code and, when given an
 * rs_error_t, fills it with a message ("file:line: what is wrong"); only cli/
 * shows it to the user.
 */
#ifndef RS_ERROR_H
#define RS_ERROR_H

#include <stddef.h>

typedef enum rs_err_e {
    RS_OK = 0,
    RS_ERR_NOMEM = 1,       /* out of memory */
    RS_ERR_IO = 2,          /* a file could not be opened, read or written */
    RS_ERR_USAGE = 3,       /* bad option or argument */
    RS_ERR_LEXICON = 4,     /* a malformed lexicon file */
    RS_ERR_FORMAT = 5,      /* a document that cannot be parsed in its format */
    RS_ERR_BINARY = 6,      /* a binary (not text) document */
    RS_ERR_TOO_LARGE = 7,   /* a document or field over a documented limit */
    RS_ERR_UNSUPPORTED = 8, /* a feature or backend not available here */
    RS_ERR_INTERNAL = 9,    /* a broken invariant: a bug in rostrum */
    RS_ERR_STATE = 10,      /* a bad, truncated or mismatched state file */
    RS_ERR_ARCHIVE = 11,    /* a bad archive or archive member */
    RS_ERR_DEVICE = 12,     /* an OpenCL device or platform failure */
    RS_ERR_MPI = 13,        /* an MPI failure */
    RS_ERR_COUNT_
} rs_err_e;

#define RS_ERROR_MSG_MAX 1024

typedef struct rs_error {
    rs_err_e code;
    char msg[RS_ERROR_MSG_MAX];
} rs_error_t;

/* Short fixed description of a code; never NULL. */
const char *rs_err_str(rs_err_e code);

/* Records code and a printf-style message in err (which may be NULL) and
 * returns code, so that error paths read: return rs_error_set(err, ...). */
rs_err_e rs_error_set(rs_error_t *err, rs_err_e code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#define RS_RETURN_IF(cond, err, code, ...)                                     \
    do {                                                                       \
        if (cond)                                                              \
            return rs_error_set((err), (code), __VA_ARGS__);                   \
    } while (0)

#define RS_FORWARD(expr)                                                       \
    do {                                                                       \
        const rs_err_e rs_fwd_e_ = (expr);                                     \
        if (rs_fwd_e_ != RS_OK)                                                \
            return rs_fwd_e_;                                                  \
    } while (0)

#endif
