/*
 * error.c - strings for the frozen error enum and the error record setter.
 * Pure functions; safe from any thread (each thread fills its own record).
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const rs_err_strings[RS_ERR_COUNT_] = {
    [RS_OK] = "success",
    [RS_ERR_NOMEM] = "out of memory",
    [RS_ERR_IO] = "input/output error",
    [RS_ERR_USAGE] = "usage error",
    [RS_ERR_LEXICON] = "malformed lexicon",
    [RS_ERR_FORMAT] = "malformed document",
    [RS_ERR_BINARY] = "binary file",
    [RS_ERR_TOO_LARGE] = "over a size limit",
    [RS_ERR_UNSUPPORTED] = "not supported here",
    [RS_ERR_INTERNAL] = "internal error",
    [RS_ERR_STATE] = "bad state file",
    [RS_ERR_ARCHIVE] = "bad archive",
    [RS_ERR_DEVICE] = "device error",
    [RS_ERR_MPI] = "MPI error",
};

const char *rs_err_str(rs_err_e code)
{
    if ((unsigned)code >= RS_ERR_COUNT_)
        return "unknown error";
    return rs_err_strings[code];
}

rs_err_e rs_error_set(rs_error_t *err, rs_err_e code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}
