/*
 * test_pool.c - Criterion tests for host/pool.c and the parallel scan of
 * host/run.c.
 *
 *   - The JSON report (outside "run") is byte-identical for -j 1..4, shard
 *     sizes from 4 KB to the default, and any input order, on the fixtures
 *     (tests/data/formats/ and sample/, every format, with lexicons) and on
 *     the real corpus archives in /work/shared/corpora (skipped, with the
 *     reason printed, when there are none; RS_CORPORA_DIR overrides the
 *     directory).
 *   - The bounded queue: while the reader feeds, documents read but not yet
 *     scanned never hold more than (workers + 2) shards' bytes.
 *   - A cancel: every document is either counted whole or dropped, nothing
 *     is lost or half counted, and the run says it is partial.
 *   - Documents in pieces (pieces.h) straight into the pool: counted as
 *     whole; one that breaks off, or a cancel inside one, counts nothing
 *     of it and never hangs.
 *   - Progress: counters only grow and end equal.
 *   - Topology: a description, a default worker count, pinning recorded.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <glob.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pieces.h"  /* rs_pieces_t: documents fed in pieces */
#include "pool.h"    /* rs_pool_t */
#include "rostrum.h" /* rs_scan_run */

#ifndef RS_SOURCE_DIR
#define RS_SOURCE_DIR "."
#endif
#define FMTDIR RS_SOURCE_DIR "/tests/data/formats"
#define SAMPLEDIR RS_SOURCE_DIR "/sample/transcripts"
#define TOPICS RS_SOURCE_DIR "/sample/lexicons/topics.yml"
#define ENTITIES RS_SOURCE_DIR "/sample/lexicons/entities.yml"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

typedef struct run_cfg {
    unsigned jobs;
    uint64_t shard;
    int lexicons;
    size_t flush; /* rs_scan_opts_t.flush_entries */
} run_cfg_t;

/* The report without its run line; *run_out (when not NULL) gets the run
 * line. */
static char *report(const char *const *paths, size_t n, run_cfg_t c, rs_run_info_t *run_out)
{
    static const char *const topics[] = {TOPICS}, *const entities[] = {ENTITIES};
    rs_scan_opts_t o = {.paths = paths, .npaths = n, .jobs = c.jobs, .shard_bytes = c.shard,
                       .flush_entries = c.flush};
    if (c.lexicons) {
        o.topic_files = topics;
        o.ntopic_files = 1;
        o.entity_files = entities;
        o.nentity_files = 1;
    }
    rs_scan_result_t r;
    rs_error_t err = {0};
    cr_assert_eq(rs_scan_run(&o, &r, &err), RS_OK, "%s", err.msg);
    cr_assert_eq(r.run.threads, c.jobs ? c.jobs : rs_default_workers());
    cr_assert_eq(r.run.partial, 0);
    static char topo[256];
    if (run_out) {
        *run_out = r.run;
        snprintf(topo, sizeof topo, "%s", r.run.topology ? r.run.topology : "");
        run_out->topology = topo; /* r is freed below */
    }
    rs_report_view_t v;
    cr_assert_eq(rs_report_view_build(&v, &r.stats, &r.topics, &r.entities, 100), RS_OK);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(rs_report_json(f, &v, &r.run), RS_OK);
    fclose(f);
    char *run = strstr(buf, "\n  \"run\": ");
    cr_assert_not_null(run);
    run[1] = '\0';
    rs_report_view_free(&v);
    rs_scan_result_free(&r);
    return buf;
}

/* Regular files of dir (not recursive), sorted; caller frees. */
static size_t list_files(const char *dir, char ***out)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s", dir);
    char **v = NULL;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        v = realloc(v, (n + 1) * sizeof *v);
        const size_t len = strlen(dir) + strlen(e->d_name) + 2;
        v[n] = malloc(len);
        snprintf(v[n], len, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    for (size_t i = 1; i < n; i++) /* insertion sort: a handful of names */
        for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
            char *t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    *out = v;
    return n;
}

/* ------------------------------------------------------------------------ */
/* Identity on the fixtures                                                 */

Test(pool, fixtures_identical_for_any_jobs_and_shards)
{
    const char *paths[] = {FMTDIR, SAMPLEDIR};
    char *want = report(paths, 2, (run_cfg_t){1, 0, 1, 0}, NULL);
    cr_assert(strstr(want, "\"documents\": ") != NULL);
    static const uint64_t shards[] = {4096, 16384, 65536, 0};
    for (unsigned j = 1; j <= 4; j++)
        for (size_t s = 0; s < sizeof shards / sizeof shards[0]; s++) {
            rs_run_info_t run;
            char *got = report(paths, 2, (run_cfg_t){j, shards[s], 1, 0}, &run);
            cr_expect_str_eq(got, want, "-j %u --shard-size %llu differs from -j 1", j, (unsigned long long)shards[s]);
            cr_expect_eq(run.shard_bytes, shards[s] ? shards[s] : RS_DEFAULT_SHARD_BYTES);
            free(got);
        }
    free(want);
}

/* Workers that flush their tables into the pool's after every shard (and
 * so merge into tables that already hold other workers' counts, many times
 * over) give the same report as one worker that never flushes. */
Test(pool, fixtures_identical_when_workers_flush_after_every_shard)
{
    const char *paths[] = {FMTDIR, SAMPLEDIR};
    char *want = report(paths, 2, (run_cfg_t){1, 0, 1, 0}, NULL);
    for (unsigned j = 2; j <= 4; j++) {
        char *got = report(paths, 2, (run_cfg_t){j, 4096, 1, 1}, NULL);
        cr_expect_str_eq(got, want, "-j %u, 4 KiB shards, flushing after every shard, differs from -j 1", j);
        free(got);
    }
    free(want);
}

Test(pool, fixtures_identical_in_any_order)
{
    char **a, **b;
    const size_t na = list_files(FMTDIR, &a), nb = list_files(SAMPLEDIR, &b);
    const size_t n = na + nb;
    const char **fwd = malloc(n * sizeof *fwd), **rev = malloc(n * sizeof *rev), **mix = malloc(n * sizeof *mix);
    for (size_t i = 0; i < na; i++)
        fwd[i] = a[i];
    for (size_t i = 0; i < nb; i++)
        fwd[na + i] = b[i];
    for (size_t i = 0; i < n; i++)
        rev[i] = mix[i] = fwd[n - 1 - i];
    const unsigned seed = (unsigned)time(NULL);
    srand(seed);
    for (size_t i = n; i > 1; i--) {
        const size_t k = (size_t)rand() % i;
        const char *t = mix[i - 1];
        mix[i - 1] = mix[k];
        mix[k] = t;
    }
    char *want = report(fwd, n, (run_cfg_t){1, 0, 1, 0}, NULL);
    char *r1 = report(rev, n, (run_cfg_t){3, 4096, 1, 0}, NULL);
    char *r2 = report(mix, n, (run_cfg_t){2, 8192, 1, 0}, NULL);
    cr_expect_str_eq(r1, want, "reversed order differs");
    cr_expect_str_eq(r2, want, "shuffled order differs (seed %u)", seed);
    free(want);
    free(r1);
    free(r2);
    for (size_t i = 0; i < na; i++)
        free(a[i]);
    for (size_t i = 0; i < nb; i++)
        free(b[i]);
    free(a);
    free(b);
    free(fwd);
    free(rev);
    free(mix);
}

/* ------------------------------------------------------------------------ */
/* Identity on the real corpus                                              */

Test(pool, corpus_identical_for_any_jobs_and_shards, .timeout = 900)
{
    const char *dir = getenv("RS_CORPORA_DIR") ? getenv("RS_CORPORA_DIR") : "/work/shared/corpora";
    char pattern[512];
    snprintf(pattern, sizeof pattern, "%s/*.tar*", dir);
    glob_t g;
    if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
        fprintf(stderr, "test_pool: SKIP corpus identity: no archive matches %s\n", pattern);
        cr_skip_test("no corpus archive matches %s", pattern);
        return;
    }
    const char *paths[] = {g.gl_pathv[0]};
    fprintf(stderr, "test_pool: corpus identity on %s\n", paths[0]);
    char *want = report(paths, 1, (run_cfg_t){1, 0, 1, 0}, NULL);
    cr_assert(strstr(want, "\"skipped\": []") != NULL, "the corpus scan skipped documents");
    /* the last two flush workers' tables into the pool's many times */
    static const run_cfg_t cfgs[] = {{2, 4096, 1, 0},      {3, 262144, 1, 0},       {4, 1u << 20, 1, 0},
                                     {2, 0, 1, 0},         {2, 1u << 20, 1, 1u << 16}, {3, 65536, 1, 1}};
    for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
        char *got = report(paths, 1, cfgs[i], NULL);
        cr_expect_str_eq(got, want, "-j %u --shard-size %llu (flushing at %zu entries) differs from -j 1",
                         cfgs[i].jobs, (unsigned long long)cfgs[i].shard, cfgs[i].flush);
        free(got);
    }
    free(want);
    globfree(&g);
}

/* ------------------------------------------------------------------------ */
/* The pool on its own                                                      */

typedef struct env {
    rs_lexicon_t lex;
    rs_matcher_t m;
    rs_headings_t h;
    rs_scan_cfg_t scan;
} env_t;

static void env_init(env_t *e)
{
    memset(e, 0, sizeof *e);
    cr_assert_eq(rs_matcher_build(&e->m, &e->lex), RS_OK);
    cr_assert_eq(rs_headings_init_default(&e->h), RS_OK);
    e->scan = (rs_scan_cfg_t){
        .kernels = rs_kernels_select("auto"), .headings = &e->h, .topics = &e->m, .entities = &e->m};
}

static void env_free(env_t *e)
{
    rs_matcher_free(&e->m);
    rs_lexicon_free(&e->lex);
    rs_headings_free(&e->h);
}

/* A labelled document of about size bytes, number i. */
static void make_doc(rs_doc_t *d, unsigned i, size_t size)
{
    memset(d, 0, sizeof *d);
    char name[32];
    snprintf(name, sizeof name, "doc%05u.txt", i);
    d->path = strdup(name);
    d->text = malloc(size + 64);
    size_t n = 0;
    while (n < size) {
        const int w = snprintf((char *)d->text + n, size + 64 - n, "Speaker %u: word%u and more words\n", i % 7,
                               (unsigned)(n % 13));
        n += (size_t)w;
    }
    d->len = d->bytes = n;
}

typedef struct watch {
    uint64_t bound;
    uint64_t max_held;
    uint64_t calls;
    uint64_t last_done, last_read;
    int regress;
} watch_t;

static void on_progress(void *ctx, const rs_progress_t *p)
{
    watch_t *w = ctx;
    w->calls++;
    const uint64_t held = p->bytes_read - p->bytes_done;
    if (held > w->max_held)
        w->max_held = held;
    if (p->bytes_done < w->last_done || p->bytes_read < w->last_read || p->bytes_done > p->bytes_read)
        w->regress = 1;
    w->last_done = p->bytes_done;
    w->last_read = p->bytes_read;
}

Test(pool, queue_bounds_memory)
{
    env_t e;
    env_init(&e);
    watch_t w = {0};
    const uint64_t shard = 4096;
    const size_t doc = 1500;
    rs_pool_cfg_t pc = {.workers = 2,
                        .shard_bytes = shard,
                        .scan = &e.scan,
                        .progress = on_progress,
                        .progress_ctx = &w,
                        .progress_interval = 1e-9};
    rs_pool_t *p;
    rs_error_t err = {0};
    cr_assert_eq(rs_pool_start(&p, &pc, &err), RS_OK, "%s", err.msg);
    /* one document larger than a shard travels alone */
    for (unsigned i = 0; i < 3000; i++) {
        rs_doc_t d;
        make_doc(&d, i, i == 1500 ? 3 * shard : doc);
        cr_assert_eq(rs_pool_add(p, &d), RS_OK);
    }
    rs_stats_t st;
    cr_assert_eq(rs_stats_init(&st, 0, 0, 0, 0), RS_OK);
    rs_strlist_t warn = {0};
    cr_assert_eq(rs_pool_finish(p, &st, &warn, &err), RS_OK, "%s", err.msg);
    cr_expect_eq(st.documents, 3000);
    cr_expect_gt(w.calls, 100, "progress called %llu times", (unsigned long long)w.calls);
    cr_expect(!w.regress, "progress went backwards");
    cr_expect_eq(w.last_done, w.last_read, "final progress: %llu of %llu", (unsigned long long)w.last_done,
                 (unsigned long long)w.last_read);
    /* (workers + 2) shards, a shard being at most max(shard, largest doc) */
    const uint64_t bound = (2 + 2) * (3 * shard + 64);
    cr_expect_leq(w.max_held, bound, "held %llu bytes, bound %llu", (unsigned long long)w.max_held,
                  (unsigned long long)bound);
    fprintf(stderr, "test_pool: at most %llu bytes read but not scanned (bound %llu)\n",
            (unsigned long long)w.max_held, (unsigned long long)bound);
    rs_pool_free(p);
    rs_stats_free(&st);
    rs_strlist_free(&warn);
    env_free(&e);
}

Test(pool, cancel_counts_whole_documents_only)
{
    env_t e;
    env_init(&e);
    atomic_int cancel = 0;
    rs_pool_cfg_t pc = {.workers = 3, .shard_bytes = 2048, .scan = &e.scan, .cancel = &cancel};
    rs_pool_t *p;
    rs_error_t err = {0};
    cr_assert_eq(rs_pool_start(&p, &pc, &err), RS_OK);
    const unsigned n = 400;
    for (unsigned i = 0; i < n; i++) {
        if (i == n / 2)
            atomic_store(&cancel, 1);
        rs_doc_t d;
        make_doc(&d, i, 1000);
        cr_assert_eq(rs_pool_add(p, &d), RS_OK);
    }
    rs_stats_t st;
    cr_assert_eq(rs_stats_init(&st, 0, 0, 0, 0), RS_OK);
    rs_strlist_t warn = {0};
    cr_assert_eq(rs_pool_finish(p, &st, &warn, &err), RS_OK);
    const uint64_t dropped = rs_pool_dropped(p);
    cr_expect_eq(st.documents + dropped, n, "%llu counted + %llu dropped", (unsigned long long)st.documents,
                 (unsigned long long)dropped);
    cr_expect_geq(dropped, n / 2, "documents after the cancel must be dropped");
    uint64_t tokens = 0, bytes = 0;
    for (size_t i = 0; i < st.ndocs; i++) {
        tokens += st.docs[i].tokens;
        bytes += st.docs[i].bytes;
    }
    cr_expect_eq(tokens, st.tokens, "a document was half counted");
    cr_expect_eq(bytes, st.bytes);
    cr_expect_eq(st.ndocs, st.documents);
    rs_pool_free(p);
    rs_stats_free(&st);
    rs_strlist_free(&warn);
    env_free(&e);
}

/* Documents in pieces straight through the pool (pieces.h as the reader):
 * the same counts as whole; a cancel in the middle of one never hangs and
 * never half counts it; one that breaks off counts nothing. */
typedef struct feed {
    rs_pool_t *pool;
    atomic_int *cancel;
    unsigned pieces, cancel_at; /* cancel_at: set the cancel at this piece (0: never) */
    unsigned broken;            /* broken pieces sent */
} feed_t;

static rs_err_e feed_piece(void *ctx, rs_doc_t *d)
{
    feed_t *f = ctx;
    if (++f->pieces == f->cancel_at)
        atomic_store(f->cancel, 1);
    f->broken += d->broken;
    return rs_pool_add(f->pool, d);
}

/* Pours d into the pool in pieces of about split bytes, or stops 100 KB
 * before its end with rs_pieces_abort. Returns what rs_pieces_* returned. */
static rs_err_e feed_doc(feed_t *f, rs_doc_t *d, uint64_t split, int abort_early)
{
    const rs_ingest_cfg_t cfg = {.split_bytes = split, .on_doc = feed_piece, .ctx = f};
    rs_pieces_t pc;
    rs_pieces_init(&pc, &cfg, strdup(d->path), d->len);
    rs_err_e e = RS_OK;
    for (size_t off = 0; off < d->len && e == RS_OK;) {
        if (abort_early && off + 100000 >= d->len) {
            e = rs_pieces_abort(&pc);
            rs_doc_free(d);
            return e;
        }
        uint8_t *at;
        size_t room;
        cr_assert_eq(rs_pieces_room(&pc, &at, &room), RS_OK);
        const size_t k = room < 5000 ? room : 5000;
        const size_t n = k < d->len - off ? k : d->len - off;
        memcpy(at, d->text + off, n);
        off += n;
        e = rs_pieces_add(&pc, n);
    }
    if (e == RS_OK)
        e = rs_pieces_end(&pc);
    else
        rs_pieces_abort(&pc);
    rs_doc_free(d);
    return e;
}

static void pool_run(env_t *e, int pieces, int broken, unsigned cancel_at, rs_stats_t *st, uint64_t *dropped,
                     unsigned *npieces, unsigned *nbroken)
{
    atomic_int cancel = 0;
    rs_pool_cfg_t pc = {.workers = 2, .shard_bytes = 4096, .scan = &e->scan, .cancel = &cancel};
    rs_pool_t *p;
    rs_error_t err = {0};
    cr_assert_eq(rs_pool_start(&p, &pc, &err), RS_OK);
    feed_t f = {.pool = p, .cancel = &cancel, .cancel_at = cancel_at};
    for (unsigned i = 0; i < 6; i++) {
        rs_doc_t d;
        make_doc(&d, i, i % 2 ? 1000 : (1u << 20) + 300000u * i); /* every other one larger than the first piece */
        if (pieces && i % 2 == 0) {
            const rs_err_e r = feed_doc(&f, &d, 4096, broken && i == 2);
            cr_assert(r == RS_OK || atomic_load(&cancel), "%s", rs_err_str(r));
        } else {
            const rs_err_e r = rs_pool_add(p, &d);
            cr_assert(r == RS_OK || atomic_load(&cancel), "%s", rs_err_str(r));
        }
    }
    cr_assert_eq(rs_stats_init(st, 0, 0, 0, 0), RS_OK);
    rs_strlist_t warn = {0};
    cr_assert_eq(rs_pool_finish(p, st, &warn, &err), RS_OK, "%s", err.msg);
    *dropped = rs_pool_dropped(p);
    *npieces = f.pieces;
    *nbroken = f.broken;
    rs_pool_free(p);
    rs_strlist_free(&warn);
}

Test(pool, documents_in_pieces_count_as_whole, .timeout = 120)
{
    env_t e;
    env_init(&e);
    rs_stats_t whole, inp, cut, cancelled;
    uint64_t dropped;
    unsigned pieces, broken;
    pool_run(&e, 0, 0, 0, &whole, &dropped, &pieces, &broken);
    pool_run(&e, 1, 0, 0, &inp, &dropped, &pieces, &broken);
    cr_expect_gt(pieces, 100, "%u pieces", pieces);
    cr_expect_eq(inp.documents, whole.documents);
    cr_expect_eq(inp.tokens, whole.tokens);
    cr_expect_eq(inp.turns, whole.turns);
    cr_expect_eq(inp.bytes, whole.bytes);
    cr_expect_eq(inp.terms.n, whole.terms.n);
    cr_expect_eq(inp.bigrams.n, whole.bigrams.n);
    cr_expect_eq(inp.speakers.n, whole.speakers.n);
    /* the document at 2 breaks off after pieces went out: it alone is missing */
    pool_run(&e, 1, 1, 0, &cut, &dropped, &pieces, &broken);
    cr_expect_eq(broken, 1, "%u broken pieces", broken);
    cr_expect_eq(cut.documents, whole.documents - 1);
    uint64_t big2 = 0;
    for (size_t i = 0; i < whole.ndocs; i++)
        if (strcmp(whole.docs[i].path, "doc00002.txt") == 0)
            big2 = whole.docs[i].tokens;
    cr_expect_eq(cut.tokens, whole.tokens - big2, "%llu tokens, whole %llu less %llu", (unsigned long long)cut.tokens,
                 (unsigned long long)whole.tokens, (unsigned long long)big2);
    for (size_t i = 0; i < cut.ndocs; i++)
        cr_expect_neq(strcmp(cut.docs[i].path, "doc00002.txt"), 0, "the broken document was counted");
    /* a cancel in the middle of the last document in pieces */
    pool_run(&e, 1, 0, 400, &cancelled, &dropped, &pieces, &broken);
    cr_expect_geq(dropped, 1);
    cr_expect_lt(cancelled.documents, whole.documents);
    uint64_t tokens = 0;
    for (size_t i = 0; i < cancelled.ndocs; i++)
        tokens += cancelled.docs[i].tokens;
    cr_expect_eq(tokens, cancelled.tokens, "a document was half counted");
    rs_stats_free(&whole);
    rs_stats_free(&inp);
    rs_stats_free(&cut);
    rs_stats_free(&cancelled);
    env_free(&e);
}

/* A run stopped before it starts (Ctrl-C during lexicon loading, say):
 * nothing is counted and the report says it is partial, in the JSON run
 * object and in the table. (Stopping in the middle is the test above.) */
Test(pool, cancelled_run_says_partial)
{
    const char *paths[] = {FMTDIR, SAMPLEDIR};
    atomic_int cancel = 1;
    rs_scan_opts_t o = {.paths = paths, .npaths = 2, .jobs = 2, .cancel = &cancel};
    rs_scan_result_t r;
    rs_error_t err = {0};
    cr_assert_eq(rs_scan_run(&o, &r, &err), RS_OK, "%s", err.msg);
    cr_expect_eq(r.run.partial, 1);
    cr_expect_eq(r.stats.documents, 0);
    rs_report_view_t v;
    cr_assert_eq(rs_report_view_build(&v, &r.stats, &r.topics, &r.entities, 10), RS_OK);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(rs_report_json(f, &v, &r.run), RS_OK);
    fclose(f);
    cr_expect(strstr(buf, "\"partial\": true") != NULL);
    free(buf);
    buf = NULL;
    f = open_memstream(&buf, &len);
    cr_assert_eq(rs_report_table(f, &v, &r.run), RS_OK);
    fclose(f);
    cr_expect(strstr(buf, "PARTIAL") != NULL, "%s", buf);
    free(buf);
    rs_report_view_free(&v);
    rs_scan_result_free(&r);
}

/* ------------------------------------------------------------------------ */
/* Topology                                                                 */

Test(pool, topology_and_pinning)
{
    char buf[4096];
    const rs_err_e e = rs_topology_describe(buf, sizeof buf);
    if (e == RS_ERR_UNSUPPORTED) {
        fprintf(stderr, "test_pool: SKIP topology: %s", buf);
        cr_skip_test("hwloc cannot load the topology here");
        return;
    }
    cr_expect(strncmp(buf, "topology: ", 10) == 0 && strstr(buf, "core") && strstr(buf, "PU"), "%s", buf);
    cr_expect_geq(rs_default_workers(), 1);
    const char *paths[] = {FMTDIR};
    rs_run_info_t run;
    free(report(paths, 1, (run_cfg_t){2, 0, 0, 0}, &run));
    cr_expect_eq(run.threads, 2);
    cr_assert_not_null(run.topology);
    cr_expect(strstr(run.topology, "core") != NULL, "%s", run.topology);
    /* binding may be refused (containers); then it is a warning, not an error */
    fprintf(stderr, "test_pool: workers %s pinned on %s\n", run.pinned ? "were" : "were not", run.topology);
}

/* ------------------------------------------------------------------------ */
/* Two NUMA nodes: hwloc's synthetic topology stands in for a machine that  */
/* has them (hwloc binds nothing on it, and says it did).                   */

#define TWO_NODES "node:2 core:2 pu:1"

/* Shards queued per node, their text copied into buffers of that node, and
 * workers that take another node's shard when idle: the report is that of
 * one worker on one node, for any -j and shard size. */
Test(pool, fixtures_identical_with_shards_on_two_numa_nodes)
{
    const char *paths[] = {FMTDIR, SAMPLEDIR};
    char *want = report(paths, 2, (run_cfg_t){1, 0, 1, 0}, NULL);
    cr_assert_eq(setenv("HWLOC_SYNTHETIC", TWO_NODES, 1), 0);
    static const uint64_t shards[] = {4096, 16384, 0};
    for (unsigned j = 1; j <= 4; j++)
        for (size_t s = 0; s < sizeof shards / sizeof shards[0]; s++) {
            rs_run_info_t run;
            char *got = report(paths, 2, (run_cfg_t){j, shards[s], 1, 0}, &run);
            cr_expect_str_eq(got, want, "two nodes, -j %u --shard-size %llu differs from -j 1", j,
                             (unsigned long long)shards[s]);
            cr_expect(strstr(run.topology, "2 NUMA nodes") != NULL, "%s", run.topology);
            if (j == 1) { /* hwloc_distrib puts one worker on one node */
                cr_expect_eq(run.numa_nodes, 1);
            } else {
                cr_expect_eq(run.numa_nodes, 2, "-j %u: %u nodes", j, run.numa_nodes);
                cr_expect_gt(run.numa_shards, 0);
                cr_expect_leq(run.numa_local, run.numa_shards);
                cr_expect_gt(run.numa_buffers, 0);
                cr_expect_leq(run.numa_bound, run.numa_buffers);
            }
            free(got);
        }
    unsetenv("HWLOC_SYNTHETIC");
    free(want);
}

/* The pool fed directly on two nodes: each node gets its share of the
 * shards, every document is counted once, the buffers are reused (a few a
 * node at once, not one a shard), and documents read but not scanned stay
 * within (workers + 1 + nodes) shards. */
Test(pool, two_numa_nodes_share_the_shards_and_reuse_buffers)
{
    cr_assert_eq(setenv("HWLOC_SYNTHETIC", TWO_NODES, 1), 0);
    env_t e;
    env_init(&e);
    watch_t w = {0};
    const uint64_t shard = 4096;
    rs_pool_cfg_t pc = {.workers = 4,
                        .shard_bytes = shard,
                        .pin = 1,
                        .scan = &e.scan,
                        .progress = on_progress,
                        .progress_ctx = &w,
                        .progress_interval = 1e-9};
    rs_pool_t *p;
    rs_error_t err = {0};
    cr_assert_eq(rs_pool_start(&p, &pc, &err), RS_OK, "%s", err.msg);
    /* documents of every size up to a shard, and one larger than a shard
     * (read whole: it keeps its own memory) */
    for (unsigned i = 0; i < 2000; i++) {
        rs_doc_t d;
        make_doc(&d, i, i == 1000 ? 3 * shard : 100 + (i * 37) % 1900);
        cr_assert_eq(rs_pool_add(p, &d), RS_OK);
    }
    rs_stats_t st;
    cr_assert_eq(rs_stats_init(&st, 0, 0, 0, 0), RS_OK);
    rs_strlist_t warn = {0};
    cr_assert_eq(rs_pool_finish(p, &st, &warn, &err), RS_OK, "%s", err.msg);
    cr_expect_eq(st.documents, 2000);
    rs_numa_use_t nu;
    rs_pool_numa(p, &nu);
    cr_expect_eq(nu.nodes, 2);
    cr_expect_gt(nu.shards, 300, "%llu shards", (unsigned long long)nu.shards);
    cr_expect_leq(nu.local, nu.shards);
    cr_expect_gt(nu.buffers, 0);
    cr_expect_leq(nu.buffers, nu.shards);
    /* in shards (a worker's each, one queued a node, one being filled) or spare (2 a node) */
    cr_expect_leq(nu.peak, 4 + 2 + 1 + 2 * 2, "%llu buffers at once", (unsigned long long)nu.peak);
    const uint64_t bound = (4 + 1 + 2) * (3 * shard + 64);
    cr_expect_leq(w.max_held, bound, "held %llu bytes, bound %llu", (unsigned long long)w.max_held,
                  (unsigned long long)bound);
    fprintf(stderr,
            "test_pool: two nodes: %llu shards, %llu taken by their own node; %llu buffers, %llu bound, at most %llu "
            "at once; at most %llu bytes held\n",
            (unsigned long long)nu.shards, (unsigned long long)nu.local, (unsigned long long)nu.buffers,
            (unsigned long long)nu.bound, (unsigned long long)nu.peak, (unsigned long long)w.max_held);
    rs_pool_free(p);
    rs_stats_free(&st);
    rs_strlist_free(&warn);
    env_free(&e);
    unsetenv("HWLOC_SYNTHETIC");
}
