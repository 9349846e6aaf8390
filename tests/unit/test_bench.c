/*
 * test_bench.c - the library side of `rostrum bench` (host/bench.c): the
 * generator is deterministic and its speakers and turns are what a scan
 * finds, the lexicon generator is deterministic, the checker refuses a
 * result that differs from the reference, a JSON result reads back as
 * written, and --compare's ratios are B over A; every OpenCL device is
 * measured and checked, and one that falls back to the CPU is not reported
 * as the device. No test looks at a speed.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "hash.h"
#include "matcher.h"
#include "opencl.h"
#include "scan.h"

static void gen(rs_bench_corpus_t *c, uint64_t bytes, uint64_t seed, double non_ascii)
{
    const rs_bench_gen_t g = {.bytes = bytes, .seed = seed, .non_ascii = non_ascii};
    rs_error_t err = {0};
    cr_assert_eq(rs_bench_generate(c, &g, &err), RS_OK, "%s", err.msg);
}

/* Every document of c scanned with the scalar reference and empty lexicons. */
typedef struct scanned {
    rs_lexicon_t none;
    rs_matcher_t m;
    rs_headings_t heads;
    rs_scan_cfg_t cfg;
    rs_stats_t st;
} scanned_t;

static void scan_corpus(scanned_t *s, const rs_bench_corpus_t *c)
{
    memset(s, 0, sizeof *s);
    cr_assert_eq(rs_matcher_build(&s->m, &s->none), RS_OK);
    cr_assert_eq(rs_headings_init_default(&s->heads), RS_OK);
    s->cfg = (rs_scan_cfg_t){.kernels = &rs_kernels_scalar, .format = RS_FORMAT_AUTO, .headings = &s->heads,
                             .topics = &s->m, .entities = &s->m};
    cr_assert_eq(rs_stats_init(&s->st, 0, 0, 0, 0), RS_OK);
    rs_scanner_t sc;
    cr_assert_eq(rs_scanner_init(&sc, &s->cfg), RS_OK);
    for (size_t i = 0; i < c->n; i++) {
        rs_doc_t d = {0};
        d.path = strdup(c->doc[i].name);
        d.text = malloc(c->doc[i].len);
        memcpy(d.text, c->doc[i].text, c->doc[i].len);
        d.len = d.bytes = c->doc[i].len;
        cr_assert_eq(rs_scan_document(&sc, &d, &s->st), RS_OK);
        rs_doc_free(&d);
    }
    rs_scanner_free(&sc);
}

static void scanned_free(scanned_t *s)
{
    rs_stats_free(&s->st);
    rs_matcher_free(&s->m);
    rs_lexicon_free(&s->none);
    rs_headings_free(&s->heads);
}

Test(bench, generator_same_seed_same_bytes)
{
    rs_bench_corpus_t a, b, d;
    gen(&a, 300000, 7, 0.05);
    gen(&b, 300000, 7, 0.05);
    gen(&d, 300000, 8, 0.05);
    cr_assert_gt(a.n, 1);
    cr_assert_geq(a.bytes, 300000);
    cr_assert_eq(a.n, b.n);
    cr_assert_eq(a.bytes, b.bytes);
    for (size_t i = 0; i < a.n; i++) {
        cr_assert_str_eq(a.doc[i].name, b.doc[i].name);
        cr_assert_eq(a.doc[i].len, b.doc[i].len);
        cr_assert(memcmp(a.doc[i].text, b.doc[i].text, a.doc[i].len) == 0, "document %zu differs", i);
    }
    cr_expect(a.doc[0].len != d.doc[0].len || memcmp(a.doc[0].text, d.doc[0].text, a.doc[0].len) != 0,
              "another seed gave the same first document");
    rs_bench_corpus_free(&a);
    rs_bench_corpus_free(&b);
    rs_bench_corpus_free(&d);
}

Test(bench, generator_non_ascii_share)
{
    rs_bench_corpus_t c;
    gen(&c, 200000, 3, 0.0);
    cr_expect_eq(c.nonascii_bytes, 0, "--non-ascii 0 must give pure ASCII");
    rs_bench_corpus_free(&c);
    gen(&c, 400000, 3, 0.2);
    const double share = (double)c.nonascii_bytes / (double)c.bytes;
    cr_expect(share > 0.17 && share < 0.23, "non-ASCII share %f, asked 0.2", share);
    rs_bench_corpus_free(&c);
    rs_bench_gen_t bad = {.bytes = 1000, .seed = 1, .non_ascii = 0.95};
    rs_error_t err = {0};
    cr_expect_eq(rs_bench_generate(&c, &bad, &err), RS_ERR_USAGE);
    rs_bench_corpus_free(&c);
}

Test(bench, generated_speakers_and_turns_are_found_by_the_scan)
{
    rs_bench_corpus_t c;
    gen(&c, 600000, 11, 0.1);
    scanned_t s;
    scan_corpus(&s, &c);
    cr_expect_eq(s.st.documents, c.n);
    cr_expect_eq(s.st.skipped.n, 0);
    cr_expect_eq(s.st.turns, c.turns, "scan found %llu turns, the generator wrote %llu",
                 (unsigned long long)s.st.turns, (unsigned long long)c.turns);
    cr_expect_eq(s.st.speakers.n, c.speakers.n);
    for (size_t i = 0; i < c.speakers.n; i++) {
        size_t len;
        const char *name = rs_dict_key(&c.speakers, i, &len);
        const int64_t id = rs_dict_get(&s.st.speakers, name, len, rs_hash64(name, len));
        cr_assert_geq(id, 0, "speaker '%s' not found by the scan", name);
        const rs_speaker_val_t *v = rs_dict_val(&s.st.speakers, (size_t)id);
        cr_expect_eq(v->turns, *(const uint64_t *)rs_dict_val(&c.speakers, i), "turns of '%s'", name);
    }
    /* both label formats were generated and detected */
    int md = 0, labeled = 0;
    for (size_t i = 0; i < s.st.ndocs; i++) {
        md += s.st.docs[i].format == RS_FORMAT_MARKDOWN;
        labeled += s.st.docs[i].format == RS_FORMAT_LABELED;
    }
    cr_expect_gt(md, 0);
    cr_expect_gt(labeled, 0);
    cr_expect_eq((size_t)(md + labeled), c.n);
    scanned_free(&s);
    rs_bench_corpus_free(&c);
}

Test(bench, lexicon_is_deterministic_with_words_phrases_and_globs)
{
    rs_bench_corpus_t c;
    gen(&c, 400000, 5, 0.05);
    scanned_t s;
    scan_corpus(&s, &c);
    rs_lexicon_t a = {0}, b = {0};
    char *ta = NULL, *tb = NULL;
    rs_error_t err = {0};
    cr_assert_eq(rs_bench_lexicon(&a, &s.st, 500, 1, &ta, &err), RS_OK, "%s", err.msg);
    cr_assert_eq(rs_bench_lexicon(&b, &s.st, 500, 1, &tb, &err), RS_OK, "%s", err.msg);
    cr_expect_str_eq(ta, tb);
    size_t n = 0, globs = 0, phrases = 0;
    for (size_t i = 0; i < a.n; i++)
        for (size_t k = 0; k < a.cat[i].n; k++) {
            const char *p = a.cat[i].pat[k].text;
            n++;
            globs += p[strlen(p) - 1] == '*';
            phrases += strchr(p, ' ') != NULL;
        }
    cr_expect_eq(n, 500);
    cr_expect_eq(a.n, 50);
    cr_expect_gt(globs, 25);
    cr_expect_gt(phrases, 50);
    cr_expect_gt(n - globs - phrases, 200);
    free(ta);
    free(tb);
    rs_lexicon_free(&a);
    rs_lexicon_free(&b);
    scanned_free(&s);
    rs_bench_corpus_free(&c);
}

Test(bench, checker_rejects_a_different_result)
{
    const rs_bench_sum_t ref = {.items = 1000, .bytes = 4000, .checksum = 0x1234};
    rs_bench_sum_t got = ref;
    rs_error_t err = {0};
    cr_expect_eq(rs_bench_check_sum("tokenize/x", &ref, &got, &err), RS_OK);
    got.items = 999;
    cr_expect_eq(rs_bench_check_sum("tokenize/x", &ref, &got, &err), RS_ERR_INTERNAL);
    cr_expect(strstr(err.msg, "999") && strstr(err.msg, "tokenize/x"), "message: %s", err.msg);
    got = ref;
    got.checksum ^= 1;
    cr_expect_eq(rs_bench_check_sum("tokenize/x", &ref, &got, &err), RS_ERR_INTERNAL);

    rs_bench_corpus_t c;
    gen(&c, 150000, 9, 0.05);
    scanned_t s1, s2;
    scan_corpus(&s1, &c);
    scan_corpus(&s2, &c);
    cr_expect_eq(rs_bench_check_stats("scan/x", &s1.st, &s2.st, &err), RS_OK, "%s", err.msg);
    /* one term counted once more */
    rs_term_val_t *v = rs_dict_val(&s2.st.terms, 3);
    v->count++;
    cr_expect_eq(rs_bench_check_stats("scan/x", &s1.st, &s2.st, &err), RS_ERR_INTERNAL);
    cr_expect(strstr(err.msg, "term '") != NULL, "message: %s", err.msg);
    v->count--;
    /* one bigram counted once more (then once more in s1 too: both scans
     * gave the same term ids) */
    rs_pair_t g;
    uint64_t pos = 0;
    cr_assert(rs_pairs_next(&s2.st.bigrams, &pos, &g));
    const uint64_t gh = rs_stats_bigram_hash(&s2.st, g.key);
    cr_assert_eq(rs_pairs_add(&s2.st.bigrams, g.key, gh, 1), 0);
    cr_expect_eq(rs_bench_check_stats("scan/x", &s1.st, &s2.st, &err), RS_ERR_INTERNAL);
    cr_expect(strstr(err.msg, "bigram '") != NULL, "message: %s", err.msg);
    cr_assert_eq(rs_pairs_add(&s1.st.bigrams, g.key, gh, 1), 0);
    cr_expect_eq(rs_bench_check_stats("scan/x", &s1.st, &s2.st, &err), RS_OK, "%s", err.msg);
    /* a total */
    s2.st.tokens += 1;
    cr_expect_eq(rs_bench_check_stats("scan/x", &s1.st, &s2.st, &err), RS_ERR_INTERNAL);
    s2.st.tokens -= 1;
    /* a speaker's turns */
    ((rs_speaker_val_t *)rs_dict_val(&s2.st.speakers, 0))->turns += 2;
    cr_expect_eq(rs_bench_check_stats("scan/x", &s1.st, &s2.st, &err), RS_ERR_INTERNAL);
    cr_expect(strstr(err.msg, "speaker '") != NULL, "message: %s", err.msg);
    scanned_free(&s1);
    scanned_free(&s2);
    rs_bench_corpus_free(&c);
}

static rs_bench_row_t row(const char *kernel, const char *backend, unsigned threads, double gmed, double gmin,
                          double gmax)
{
    rs_bench_row_t r;
    memset(&r, 0, sizeof r);
    snprintf(r.kernel, sizeof r.kernel, "%s", kernel);
    snprintf(r.backend, sizeof r.backend, "%s", backend);
    r.threads = threads;
    r.bytes = 1000000000;
    r.gbps = (rs_bench_stat_t){gmed, gmin, gmax};
    r.sec = (rs_bench_stat_t){1.0 / gmed, 1.0 / gmax, 1.0 / gmin};
    r.runs = 5;
    r.reps = 1;
    snprintf(r.check, sizeof r.check, "reference");
    return r;
}

Test(bench, compare_ratios_are_b_over_a)
{
    rs_bench_result_t a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    rs_bench_row_t r;
    r = row("tokenize+fold+hash", "scalar", 1, 0.2, 0.1, 0.25);
    cr_assert_eq(rs_bench_result_add(&a, &r), RS_OK);
    r = row("scan", "scalar", 1, 0.05, 0.04, 0.05);
    cr_assert_eq(rs_bench_result_add(&a, &r), RS_OK);
    r = row("tokenize+fold+hash", "scalar", 1, 0.5, 0.4, 0.6);
    cr_assert_eq(rs_bench_result_add(&b, &r), RS_OK);
    r = row("tokenize+fold+hash", "avx2", 1, 1.0, 1.0, 1.0);
    cr_assert_eq(rs_bench_result_add(&b, &r), RS_OK);
    rs_bench_cmp_t *v;
    size_t n;
    cr_assert_eq(rs_bench_compare(&a, &b, &v, &n), RS_OK);
    cr_assert_eq(n, 3);
    cr_expect(v[0].a == &a.row[0] && v[0].b == &b.row[0]);
    cr_expect(fabs(v[0].ratio - 2.5) < 1e-12, "ratio %f", v[0].ratio);
    cr_expect(fabs(v[0].ratio_lo - 0.4 / 0.25) < 1e-12, "lo %f", v[0].ratio_lo);
    cr_expect(fabs(v[0].ratio_hi - 0.6 / 0.1) < 1e-12, "hi %f", v[0].ratio_hi);
    cr_expect(v[1].a == &a.row[1] && v[1].b == NULL && v[1].ratio == 0.0, "scan only in A");
    cr_expect(v[2].a == NULL && v[2].b == &b.row[1] && v[2].ratio == 0.0, "avx2 only in B");
    free(v);
    rs_bench_result_free(&a);
    rs_bench_result_free(&b);
}

Test(bench, json_reads_back_as_written)
{
    rs_bench_result_t a, b;
    memset(&a, 0, sizeof a);
    rs_bench_machine(&a.machine);
    snprintf(a.corpus, sizeof a.corpus, "files: \"quoted\\path\"");
    a.docs = 3;
    a.bytes = 12345;
    a.tokens = 2000;
    a.min_time = 0.25;
    a.runs = 7;
    a.lexicon_entries[0] = 500;
    a.lexicon_entries[1] = 4999;
    rs_bench_row_t r = row("scan-pool", "avx2", 4, 0.125, 0.1, 0.2);
    r.efficiency = 0.75;
    r.speedup = 3.0;
    cr_assert_eq(rs_bench_result_add(&a, &r), RS_OK);
    char path[] = "/tmp/rs_bench_json_XXXXXX";
    const int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    cr_assert_eq(rs_bench_write_json(f, &a), RS_OK);
    fclose(f);
    rs_error_t err = {0};
    cr_assert_eq(rs_bench_read_json(path, &b, &err), RS_OK, "%s", err.msg);
    remove(path);
    cr_expect_str_eq(b.corpus, a.corpus);
    cr_expect_str_eq(b.machine.cpu, a.machine.cpu);
    cr_expect_str_eq(b.machine.flags, a.machine.flags);
    cr_expect_eq(b.machine.cores, a.machine.cores);
    cr_expect_eq(b.machine.nopencl, a.machine.nopencl);
    for (unsigned i = 0; i < a.machine.nopencl && i < b.machine.nopencl; i++)
        cr_expect_str_eq(b.machine.opencl[i], a.machine.opencl[i]);
    cr_expect_eq(b.bytes, 12345);
    cr_expect_eq(b.tokens, 2000);
    cr_expect_eq(b.runs, 7);
    cr_expect_eq(b.lexicon_entries[1], 4999);
    cr_assert_eq(b.n, 1);
    cr_expect_str_eq(b.row[0].kernel, "scan-pool");
    cr_expect_str_eq(b.row[0].backend, "avx2");
    cr_expect_eq(b.row[0].threads, 4);
    cr_expect(fabs(b.row[0].gbps.median - 0.125) < 1e-9);
    cr_expect(fabs(b.row[0].efficiency - 0.75) < 1e-9);
    rs_bench_result_free(&a);
    rs_bench_result_free(&b);
    /* not a bench result */
    cr_expect_neq(rs_bench_read_json("/nonexistent/x.json", &b, &err), RS_OK);
    rs_bench_result_free(&b);
}

static size_t rows_seen;
static void count_row(void *ctx, const rs_bench_row_t *r)
{
    (void)ctx;
    cr_expect(r->check[0] != '\0');
    rows_seen++;
}

Test(bench, a_short_run_checks_every_backend, .timeout = 120)
{
    rs_bench_corpus_t c;
    gen(&c, 100000, 2, 0.1);
    const unsigned threads[] = {2};
    const rs_bench_opts_t o = {.min_time = 0.001, .runs = 1, .threads = threads, .nthreads = 1, .seed = 1,
                               .no_opencl = 1, .on_row = count_row};
    rs_bench_result_t res;
    rs_error_t err = {0};
    rows_seen = 0;
    cr_assert_eq(rs_bench_run(&c, &o, &res, &err), RS_OK, "%s", err.msg);
    size_t backends = 0;
    const uint32_t have = rs_cpu_features();
    for (const rs_kernels_t *const *k = rs_kernels_all(); *k; k++)
        backends += (have & (*k)->required) == (*k)->required;
    /* tokenize and scan per backend, fold+hash, match-500, match-5000 and
     * count once, scan-pool with 1 and 2 workers */
    cr_expect_eq(res.n, 2 * backends + 4 + 2, "rows %zu for %zu backends", res.n, backends);
    const rs_bench_row_t *fold = NULL, *tok = NULL;
    for (size_t i = 0; i < res.n; i++) {
        if (strcmp(res.row[i].kernel, "fold+hash") == 0)
            fold = &res.row[i];
        if (strcmp(res.row[i].kernel, "tokenize+fold+hash") == 0 && strcmp(res.row[i].backend, "scalar") == 0)
            tok = &res.row[i];
        cr_expect(strncmp(res.row[i].backend, "opencl", 6) != 0, "no_opencl, yet a row for %s", res.row[i].backend);
    }
    cr_assert(fold && tok, "no fold+hash or scalar tokenize row");
    cr_expect_str_eq(fold->check, "= scalar tokenize");
    cr_expect_eq(fold->items, tok->items, "fold+hash saw %llu tokens, tokenize %llu", (unsigned long long)fold->items,
                 (unsigned long long)tok->items);
    cr_expect_eq(rows_seen, res.n);
    cr_expect_gt(res.tokens, 0);
    for (size_t i = 0; i < res.n; i++) {
        cr_expect(res.row[i].sec.median > 0, "row %zu has no time", i);
        cr_expect(res.row[i].sec.min <= res.row[i].sec.median && res.row[i].sec.median <= res.row[i].sec.max);
    }
    rs_bench_result_free(&res);
    rs_bench_corpus_free(&c);
}

/* The OpenCL devices this machine has, or a skip that says why none. */
static size_t devices_or_skip(void)
{
    if (!rs_opencl_compiled())
        cr_skip_test("built without OpenCL");
    rs_opencl_devinfo_t *dv = NULL;
    size_t n = 0;
    rs_error_t err = {0};
    if (rs_opencl_devices(&dv, &n, 0, &err) != RS_OK || n == 0) {
        free(dv);
        cr_skip_test("no OpenCL device here");
    }
    free(dv);
    return n;
}

static const rs_bench_row_t *find(const rs_bench_result_t *r, const char *kernel, const char *backend)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->row[i].kernel, kernel) == 0 && strcmp(r->row[i].backend, backend) == 0)
            return &r->row[i];
    return NULL;
}

Test(bench, each_opencl_device_is_measured_and_checked, .timeout = 300)
{
    const size_t ndev = devices_or_skip();
    rs_bench_corpus_t c;
    gen(&c, 300000, 4, 0.1);
    const rs_bench_opts_t o = {.min_time = 0.001, .runs = 1, .seed = 1};
    rs_bench_result_t res;
    rs_error_t err = {0};
    cr_assert_eq(rs_bench_run(&c, &o, &res, &err), RS_OK, "%s", err.msg);
    cr_assert_geq(res.machine.nopencl, 1);
    cr_expect(strncmp(res.machine.opencl[0], "opencl:", 7) == 0, "device line: %s", res.machine.opencl[0]);
    cr_expect(strstr(res.machine.opencl[0], "driver ") != NULL, "no driver version: %s", res.machine.opencl[0]);
    size_t measured = 0;
    for (size_t i = 0; i < ndev && i < RS_BENCH_MAX_DEVICES; i++) {
        /* the first device of a platform is "opencl:P:0" */
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(res.machine.opencl[i], " "), res.machine.opencl[i]);
        const rs_bench_row_t *t = find(&res, "tokenize+fold+hash", name), *s = find(&res, "scan", name);
        int noted = 0;
        for (size_t k = 0; k < res.notes.n; k++)
            noted |= strstr(res.notes.s[k], name) != NULL;
        cr_expect(t || noted, "%s has neither a tokenize row nor a note", name);
        if (t) {
            cr_expect_str_eq(t->check, "= scalar");
            cr_expect_eq(t->items, find(&res, "tokenize+fold+hash", "scalar")->items);
            measured++;
        }
        if (s)
            cr_expect_str_eq(s->check, "= scalar (tables)");
    }
    cr_expect_gt(measured, 0, "no device was measured");
    rs_bench_result_free(&res);
    rs_bench_corpus_free(&c);
}

Test(bench, a_device_that_falls_back_to_the_cpu_gives_a_note_and_no_row, .timeout = 300)
{
    devices_or_skip();
    rs_bench_corpus_t c;
    gen(&c, 100000, 4, 0.1);
    const rs_bench_opts_t o = {.min_time = 0.001, .runs = 1, .seed = 1, .opencl_fault = 1};
    rs_bench_result_t res;
    rs_error_t err = {0};
    cr_assert_eq(rs_bench_run(&c, &o, &res, &err), RS_OK, "%s", err.msg);
    cr_expect_null(find(&res, "tokenize+fold+hash", "opencl:0:0"), "a faulting device's CPU figures were reported");
    int noted = 0;
    for (size_t k = 0; k < res.notes.n; k++)
        noted |= strstr(res.notes.s[k], "tokenize+fold+hash/opencl:0:0: not measured") != NULL;
    cr_expect(noted, "no note says the device was not measured");
    cr_expect_not_null(find(&res, "tokenize+fold+hash", "scalar"), "the CPU rows are still there");
    rs_bench_result_free(&res);
    rs_bench_corpus_free(&c);
}
