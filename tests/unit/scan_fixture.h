/*
 * scan_fixture.h - what the scan tests share (test_scan.c, test_pieces.c):
 * a scan configuration with small lexicons (phrases of two and four words,
 * a glob, an entity), statistics tables for it, the JSON report without its
 * run line (to compare two scans byte for byte), a batched kernel table
 * made of the scalar one, and a seeded rand().
 * Static functions: each test file gets its own copy.
 */
#ifndef RS_TEST_SCAN_FIXTURE_H
#define RS_TEST_SCAN_FIXTURE_H

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"  /* rs_report_json */
#include "scan.h"    /* rs_scan_cfg_t */
#include "unicode.h" /* rs_kernels_scalar */

typedef struct fixture {
    rs_lexicon_t topics, entities;
    rs_matcher_t mt, me;
    rs_headings_t heads;
    rs_scan_cfg_t cfg;
} fixture_t;

static void fixture_init(fixture_t *f)
{
    memset(f, 0, sizeof *f);
    const char *tsv = "places\tnew york\nplaces\tyork city\nsec\tsecur*\nlong\tthe state of the\n";
    const char *ent = "Ann Lee\tann lee\n";
    rs_error_t err = {0};
    cr_assert_eq(rs_lexicon_load_mem(&f->topics, "t.tsv", tsv, strlen(tsv), RS_LEXFMT_TSV, &err), RS_OK);
    cr_assert_eq(rs_lexicon_load_mem(&f->entities, "e.tsv", ent, strlen(ent), RS_LEXFMT_TSV, &err), RS_OK);
    cr_assert_eq(rs_matcher_build(&f->mt, &f->topics), RS_OK);
    cr_assert_eq(rs_matcher_build(&f->me, &f->entities), RS_OK);
    cr_assert_eq(rs_headings_init_default(&f->heads), RS_OK);
    f->cfg = (rs_scan_cfg_t){.kernels = &rs_kernels_scalar, .format = RS_FORMAT_AUTO, .headings = &f->heads,
                             .topics = &f->mt, .entities = &f->me};
}

static void fixture_free(fixture_t *f)
{
    rs_matcher_free(&f->mt);
    rs_matcher_free(&f->me);
    rs_lexicon_free(&f->topics);
    rs_lexicon_free(&f->entities);
    rs_headings_free(&f->heads);
}

static void stats_init(fixture_t *f, rs_stats_t *st)
{
    cr_assert_eq(rs_stats_init(st, f->mt.ncat, f->mt.npat_total, f->me.ncat, f->me.npat_total), RS_OK);
}

/* The JSON report without its run line. */
static char *report(fixture_t *f, const rs_stats_t *st)
{
    rs_report_view_t v;
    cr_assert_eq(rs_report_view_build(&v, st, &f->topics, &f->entities, 200), RS_OK);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    const rs_run_info_t run = {.backend = "scalar", .threads = 1, .seconds = 0.0, .version = "test"};
    cr_assert_eq(rs_report_json(m, &v, &run), RS_OK);
    fclose(m);
    rs_report_view_free(&v);
    char *line = strstr(buf, "\n  \"run\": ");
    cr_assert(line);
    *line = '\0';
    return buf;
}

/* A batched kernel table for tests: the scalar tokenizer, span by span,
 * through tokenize_spans (what a device backend offers); fake_batches
 * counts its calls. */
static size_t fake_batches;
static void fake_spans(const rs_span_t *sp, size_t n, rs_tokens_t *out, size_t *ntok)
{
    fake_batches++;
    for (size_t i = 0; i < n; i++) {
        const size_t before = out->n;
        if (sp[i].len)
            rs_scalar_tokenize(sp[i].text, sp[i].len, out);
        ntok[i] = out->n - before;
    }
}

static const rs_kernels_t fake_batched = {
    .name = "batched",
    .description = "test: scalar, span by span, through tokenize_spans",
    .tokenize = rs_scalar_tokenize, /* for a document too large for a batch */
    .tokenize_spans = fake_spans,
};

/* Seeds rand() from RS_TEST_SEED, else the clock, and logs the seed. */
static unsigned seed_rand(const char *what)
{
    unsigned seed = (unsigned)time(NULL);
    const char *env = getenv("RS_TEST_SEED");
    if (env)
        seed = (unsigned)strtoul(env, NULL, 10);
    cr_log_info("%s: seed %u (RS_TEST_SEED=%u repeats it)", what, seed, seed);
    srand(seed);
    return seed;
}

#endif
