/*
 * run.c - a whole scan on the calling thread (rostrum.h): load and compile
 * lexicons, walk the inputs, scan each document as it is read, time it.
 */
#include "rostrum.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest.h" /* rs_ingest_paths */
#include "scan.h"   /* rs_scanner_t, rs_scan_document */

double rs_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct rs_run_ctx {
    rs_scanner_t sc;
    rs_stats_t *st;
} rs_run_ctx_t;

static rs_err_e rs_run_on_doc(void *ctx, rs_doc_t *doc)
{
    rs_run_ctx_t *r = ctx;
    const rs_err_e e = rs_scan_document(&r->sc, doc, r->st);
    rs_doc_free(doc);
    return e;
}

static rs_err_e rs_run_on_skip(void *ctx, const char *path, const char *why)
{
    rs_run_ctx_t *r = ctx;
    return rs_notes_add(&r->st->skipped, path, why);
}

static rs_err_e rs_load_all(rs_lexicon_t *lex, const char *const *files, size_t n, rs_error_t *err)
{
    for (size_t i = 0; i < n; i++)
        RS_FORWARD(rs_lexicon_load(lex, files[i], RS_LEXFMT_AUTO, err));
    return RS_OK;
}

static rs_err_e rs_copy_warnings(rs_strlist_t *dst, const rs_strlist_t *src)
{
    for (size_t i = 0; i < src->n; i++)
        if (rs_strlist_push(dst, src->s[i], strlen(src->s[i])) < 0)
            return RS_ERR_NOMEM;
    return RS_OK;
}

rs_err_e rs_scan_run(const rs_scan_opts_t *o, rs_scan_result_t *res, rs_error_t *err)
{
    memset(res, 0, sizeof *res);
    const double t0 = rs_now();
    res->kernels = rs_kernels_select(o->backend);
    if (!res->kernels)
        return rs_error_set(err, RS_ERR_UNSUPPORTED, "backend '%s' is not available on this machine (see rostrum devices)",
                            o->backend ? o->backend : "auto");
    RS_FORWARD(rs_load_all(&res->topics, o->topic_files, o->ntopic_files, err));
    RS_FORWARD(rs_load_all(&res->entities, o->entity_files, o->nentity_files, err));
    if (rs_headings_init_default(&res->headings) != RS_OK)
        return rs_error_set(err, RS_ERR_NOMEM, "out of memory");
    if (o->headings_file)
        RS_FORWARD(rs_headings_load(&res->headings, o->headings_file, err));
    if (rs_matcher_build(&res->topic_matcher, &res->topics) != RS_OK
        || rs_matcher_build(&res->entity_matcher, &res->entities) != RS_OK)
        return rs_error_set(err, RS_ERR_NOMEM, "out of memory compiling the lexicons");
    RS_FORWARD(rs_copy_warnings(&res->warnings, &res->topic_matcher.warnings));
    RS_FORWARD(rs_copy_warnings(&res->warnings, &res->entity_matcher.warnings));
    if (rs_stats_init(&res->stats, res->topic_matcher.ncat, res->topic_matcher.npat_total,
                      res->entity_matcher.ncat, res->entity_matcher.npat_total) != RS_OK)
        return rs_error_set(err, RS_ERR_NOMEM, "out of memory");

    const rs_scan_cfg_t cfg = {
        .kernels = res->kernels,
        .format = o->format,
        .headings = &res->headings,
        .topics = &res->topic_matcher,
        .entities = &res->entity_matcher,
    };
    rs_run_ctx_t ctx = {.st = &res->stats};
    if (rs_scanner_init(&ctx.sc, &cfg) != RS_OK)
        return rs_error_set(err, RS_ERR_NOMEM, "out of memory");
    const rs_ingest_cfg_t icfg = {
        .exts = o->exts ? o->exts : RS_DEFAULT_EXTS,
        .max_doc_bytes = o->max_doc_bytes ? o->max_doc_bytes : RS_DEFAULT_MAX_DOC_BYTES,
        .on_doc = rs_run_on_doc,
        .on_skip = rs_run_on_skip,
        .ctx = &ctx,
    };
    const rs_err_e e = rs_ingest_paths(&icfg, o->paths, o->npaths);
    rs_scanner_free(&ctx.sc);
    if (e != RS_OK)
        return rs_error_set(err, e, "scan failed: %s", rs_err_str(e));
    res->run.backend = res->kernels->name;
    res->run.threads = 1;
    res->run.seconds = rs_now() - t0;
    res->run.version = RS_VERSION;
    return RS_OK;
}

void rs_scan_result_free(rs_scan_result_t *res)
{
    rs_stats_free(&res->stats);
    rs_matcher_free(&res->topic_matcher);
    rs_matcher_free(&res->entity_matcher);
    rs_lexicon_free(&res->topics);
    rs_lexicon_free(&res->entities);
    rs_headings_free(&res->headings);
    rs_strlist_free(&res->warnings);
    memset(res, 0, sizeof *res);
}
