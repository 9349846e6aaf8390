/*
 * run.c - a whole scan (rostrum.h): load and compile lexicons, start the
 * worker pool (pool.h), walk the inputs on the calling thread handing each
 * document to the pool, then merge the workers' counts and time it all.
 * Skip notes from the walk go straight into the result's statistics, which
 * no worker touches until rs_pool_finish has joined them all.
 */
#include "rostrum.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest.h" /* rs_ingest_paths */
#include "pool.h"   /* rs_pool_t */

double rs_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct rs_run_ctx {
    rs_pool_t *pool;
    rs_stats_t *st;
} rs_run_ctx_t;

static rs_err_e rs_run_on_doc(void *ctx, rs_doc_t *doc)
{
    rs_run_ctx_t *r = ctx;
    return rs_pool_add(r->pool, doc);
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
    uint64_t consumed = 0; /* input bytes read: the walk writes, the pool's progress reads (one thread) */
    const rs_pool_cfg_t pcfg = {
        .workers = o->jobs,
        .shard_bytes = o->shard_bytes,
        .pin = !o->no_pin,
        .flush_entries = o->flush_entries,
        .scan = &cfg,
        .topic_cats = res->topic_matcher.ncat,
        .topic_pats = res->topic_matcher.npat_total,
        .entity_cats = res->entity_matcher.ncat,
        .entity_pats = res->entity_matcher.npat_total,
        .cancel = o->cancel,
        .progress = o->progress,
        .progress_ctx = o->progress_ctx,
        .consumed = &consumed,
    };
    rs_run_ctx_t ctx = {.st = &res->stats};
    RS_FORWARD(rs_pool_start(&ctx.pool, &pcfg, err));
    const rs_ingest_cfg_t icfg = {
        .exts = o->exts ? o->exts : RS_DEFAULT_EXTS,
        .max_doc_bytes = o->max_doc_bytes ? o->max_doc_bytes : RS_DEFAULT_MAX_DOC_BYTES,
        .split_bytes = rs_pool_shard_bytes(ctx.pool), /* a document larger than a shard comes in pieces */
        .format = o->format,
        .on_doc = rs_run_on_doc,
        .on_skip = rs_run_on_skip,
        .ctx = &ctx,
        .cancel = o->cancel,
        .jsonl = &o->jsonl,
        .filter = o->filter,
        .filter_ctx = o->filter_ctx,
        .consumed = &consumed,
    };
    rs_err_e e = rs_ingest_paths(&icfg, o->paths, o->npaths);
    /* a cancel seen once the walk is over may have cut it short */
    const int cut = o->cancel && atomic_load(o->cancel);
    const rs_err_e fe = rs_pool_finish(ctx.pool, &res->stats, &res->warnings, err);
    snprintf(res->topology, sizeof res->topology, "%s", rs_pool_topology(ctx.pool));
    res->run.threads = rs_pool_workers(ctx.pool);
    res->run.shard_bytes = rs_pool_shard_bytes(ctx.pool);
    rs_pool_pieces(ctx.pool, &res->run.split_docs, &res->run.pieces);
    res->run.pinned = rs_pool_pinned(ctx.pool);
    rs_numa_use_t nu;
    rs_pool_numa(ctx.pool, &nu);
    res->run.numa_nodes = nu.nodes;
    res->run.numa_shards = nu.shards;
    res->run.numa_local = nu.local;
    res->run.numa_buffers = nu.buffers;
    res->run.numa_bound = nu.bound;
    res->run.partial = cut || rs_pool_dropped(ctx.pool) > 0;
    rs_pool_free(ctx.pool);
    if (e != RS_OK)
        return rs_error_set(err, e, "scan failed: %s", rs_err_str(e));
    if (fe != RS_OK)
        return fe;
    res->run.backend = res->kernels->name;
    res->run.topology = res->topology;
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
