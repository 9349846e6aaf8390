/*
 * test_scan.c - whole documents through rs_scan_document: counts across
 * 1 MiB piece cuts, and statistics that merge to the same report in any
 * grouping (host/scan.c, host/stats.c, host/report.c); and documents in
 * batches (rs_scan_documents) against one by one.
 */
#include "format.h"
#include "scan_fixture.h" /* fixture_t, report, seed_rand */

static void scan_text(fixture_t *f, rs_stats_t *st, const char *path, const char *text, size_t len)
{
    rs_scanner_t sc;
    cr_assert_eq(rs_scanner_init(&sc, &f->cfg), RS_OK);
    rs_doc_t d = {0};
    d.path = strdup(path);
    d.text = malloc(len ? len : 1);
    memcpy(d.text, text, len);
    d.len = d.bytes = len;
    cr_assert_eq(rs_scan_document(&sc, &d, st), RS_OK);
    rs_doc_free(&d);
    rs_scanner_free(&sc);
}

Test(scan, phrases_and_bigrams_across_piece_cuts)
{
    fixture_t f;
    fixture_init(&f);
    /* ~3.3 MiB in one turn: "new york city " over and over, so phrases and
     * bigrams straddle every 1 MiB piece cut at every alignment */
    const char *unit = "new york city ";
    const size_t reps = 250000, ul = strlen(unit);
    char *text = malloc(reps * ul + 16);
    memcpy(text, "Ann: ", 5);
    for (size_t i = 0; i < reps; i++)
        memcpy(text + 5 + i * ul, unit, ul);
    const size_t len = 5 + reps * ul;
    rs_stats_t st;
    stats_init(&f, &st);
    scan_text(&f, &st, "big.txt", text, len);
    cr_expect_eq(st.tokens, 3 * reps);
    cr_expect_eq(st.labelled_tokens, 3 * reps);
    cr_expect_eq(st.bigrams.n, 3);
    uint64_t bigrams = 0;
    uint64_t pos = 0;
    for (rs_pair_t e; rs_pairs_next(&st.bigrams, &pos, &e);)
        bigrams += e.count;
    cr_expect_eq(bigrams, 3 * reps - 1);
    /* "new york" at each repetition; "york city" overlaps it in the same
     * category, so it never counts */
    cr_expect_eq(st.topics.cat[0].hits, reps);
    cr_expect_eq(st.topics.pat_hits[0], reps);
    cr_expect_eq(st.topics.pat_hits[1], 0);
    rs_stats_free(&st);
    free(text);
    fixture_free(&f);
}

static const char *docs[][2] = {
    {"a.md", "**Ann Lee:** new york is secure\n\n**Bob:** is it? security first\n"},
    {"b.txt", "Bob: Ann Lee said so.\nAnn Lee: yes, in York City?\n"},
    {"c.txt", ">> captions about new york\n>> and security\n"},
    {"d.txt", "plain prose, no speakers at all\n"},
    {"e.txt", "bin\0ary"},
};

Test(scan, merge_in_any_grouping_gives_the_same_report)
{
    fixture_t f;
    fixture_init(&f);
    const size_t n = sizeof docs / sizeof docs[0];
    rs_stats_t all;
    stats_init(&f, &all);
    for (size_t i = 0; i < n; i++)
        scan_text(&f, &all, docs[i][0], docs[i][1], i == 4 ? 7 : strlen(docs[i][1]));
    cr_expect_eq(all.documents, 4);
    cr_expect_eq(all.skipped.n, 1);
    char *want = report(&f, &all);

    /* every split of the documents into two groups, merged both ways */
    for (unsigned mask = 0; mask < (1u << n); mask++) {
        for (int order = 0; order < 2; order++) {
            rs_stats_t g[2];
            stats_init(&f, &g[0]);
            stats_init(&f, &g[1]);
            for (size_t i = n; i-- > 0;) /* reverse order inside groups too */
                scan_text(&f, &g[(mask >> i) & 1], docs[i][0], docs[i][1], i == 4 ? 7 : strlen(docs[i][1]));
            rs_stats_t acc;
            stats_init(&f, &acc);
            cr_assert_eq(rs_stats_merge(&acc, &g[order]), RS_OK);
            cr_assert_eq(rs_stats_merge(&acc, &g[1 - order]), RS_OK);
            char *got = report(&f, &acc);
            cr_expect_str_eq(got, want, "grouping %u, order %d", mask, order);
            free(got);
            rs_stats_free(&acc);
            rs_stats_free(&g[0]);
            rs_stats_free(&g[1]);
        }
    }
    free(want);
    rs_stats_free(&all);
    fixture_free(&f);
}

/* Fragments that exercise every parser path, glued at random: labels,
 * markers, front matter, timestamps, entities, links, invalid bytes. */
static const char *frags[] = {
    "**Ann:** ", "**Bob**: ", "**Note:** ", "Ann: ", "Speaker 1 (00:12): ", "[00:01:02] Bob: ", ">> ",
    ">>> ANDERSON: ", "---\n", "title: x\n", "...\n", "\\[01:46\\]", "[1:2]", "(01:02:03)", "00:02:59.11",
    "&#39;", "&#x1F600;", "&quot;", "&#", "&amp", "](http://x.y/z)", "[a](", "new york ", "city ",
    "secur", "ity ", "ann lee ", "?", "\n", "\n\n", "\r\n", " ", "\t", "\xff", "\xc3", "\xe2\x82", "\xcc\x81",
    "\xf0\x9f\x87\xba", "\xe2\x80\x99", "can't ", "3.14 ", "e.g. ", "_id ", "\xef\xbb\xbf", "*", "**", ":",
};

Test(scan, random_documents_never_crash)
{
    fixture_t f;
    fixture_init(&f);
    const unsigned seed = seed_rand("random documents");
    rs_stats_t st;
    stats_init(&f, &st);
    char buf[4096];
    const size_t nfrag = sizeof frags / sizeof frags[0];
    uint64_t docs = 0;
    for (int d = 0; d < 3000; d++) {
        size_t len = 0;
        const int parts = rand() % 60;
        for (int p = 0; p < parts; p++) {
            const char *fr = frags[(size_t)rand() % nfrag];
            const size_t fl = strlen(fr);
            if (len + fl >= sizeof buf)
                break;
            memcpy(buf + len, fr, fl);
            len += fl;
        }
        char path[32];
        snprintf(path, sizeof path, "doc%d", d);
        scan_text(&f, &st, path, buf, len);
        docs++;
    }
    cr_expect_eq(st.documents + st.skipped.n, docs, "seed %u: every document counted or skipped", seed);
    cr_expect_leq(st.labelled_tokens, st.tokens, "seed %u", seed);
    char *json = report(&f, &st);
    cr_expect_not_null(json);
    free(json);
    rs_stats_free(&st);
    fixture_free(&f);
}

/* A kernel table with a batched entry, as a device table has: the scalar
 * reference span by span, so that only the scanner's batching is tested
 * here (tests/unit/test_spans.c tests the device's). */
typedef struct seen {
    size_t calls, records;
    char **paths; /* the path of each record handed to done, in order */
} seen_t;

static void on_done(void *ctx, const rs_doc_t *d, const rs_docrec_t *rec)
{
    seen_t *s = ctx;
    (void)d;
    s->calls++;
    if (rec)
        s->paths[s->records++] = strdup(rec->path);
}

Test(scan, batches_give_the_same_report_as_one_by_one, .timeout = 300)
{
    fixture_t f;
    fixture_init(&f);
    const unsigned seed = seed_rand("batches");
    enum { NDOCS = 400, BIG = 250 }; /* doc250 is larger than a batch */
    rs_doc_t *docs_a = calloc(NDOCS, sizeof *docs_a), *docs_b = calloc(NDOCS, sizeof *docs_b);
    rs_doc_t **ptrs = calloc(NDOCS, sizeof *ptrs);
    cr_assert(docs_a && docs_b && ptrs);
    const size_t nfrag = sizeof frags / sizeof frags[0];
    for (int i = 0; i < NDOCS; i++) {
        size_t len = 0, cap = i == BIG ? RS_SCAN_BATCH_BYTES + (1u << 20) : 4096;
        char *buf = malloc(cap);
        cr_assert(buf);
        while (len + 32 < cap) {
            const char *fr = frags[(size_t)rand() % nfrag];
            const size_t fl = strlen(fr);
            memcpy(buf + len, fr, fl);
            len += fl;
            if (i != BIG && rand() % 40 == 0)
                break;
        }
        char path[32];
        snprintf(path, sizeof path, "doc%03d", i);
        for (int k = 0; k < 2; k++) {
            rs_doc_t *d = k ? &docs_b[i] : &docs_a[i];
            d->path = strdup(path);
            d->text = malloc(len ? len : 1);
            memcpy(d->text, buf, len);
            d->len = d->bytes = len;
        }
        free(buf);
    }
    /* one by one, the scalar table */
    rs_stats_t one;
    stats_init(&f, &one);
    rs_scanner_t sc;
    cr_assert_eq(rs_scanner_init(&sc, &f.cfg), RS_OK);
    for (int i = 0; i < NDOCS; i++)
        cr_assert_eq(rs_scan_document(&sc, &docs_a[i], &one), RS_OK);
    rs_scanner_free(&sc);
    char *want = report(&f, &one);

    /* in batches, the fake table: the big document on its own (piece by
     * piece, with the scalar table's tokenize, which the fake lacks) */
    rs_scan_cfg_t cfg = f.cfg;
    cfg.kernels = &fake_batched;
    rs_stats_t bat;
    stats_init(&f, &bat);
    cr_assert_eq(rs_scanner_init(&sc, &cfg), RS_OK);
    seen_t seen = {0, 0, calloc(NDOCS, sizeof(char *))};
    for (int i = 0; i < NDOCS; i++)
        ptrs[i] = &docs_b[i];
    fake_batches = 0;
    cr_assert_eq(rs_scan_documents(&sc, ptrs, NDOCS, &bat, on_done, &seen), RS_OK);
    rs_scanner_free(&sc);
    cr_expect_geq(fake_batches, 2, "seed %u: %zu batches (the big document splits them)", seed, fake_batches);
    cr_expect_eq(seen.calls, NDOCS, "seed %u: done called %zu times", seed, seen.calls);
    cr_expect_eq(seen.records, bat.ndocs, "seed %u", seed);
    for (size_t i = 1; i < seen.records; i++)
        cr_expect(strcmp(seen.paths[i - 1], seen.paths[i]) < 0, "seed %u: done out of order: %s then %s", seed,
                  seen.paths[i - 1], seen.paths[i]);
    int big_seen = 0;
    for (size_t i = 0; i < seen.records; i++)
        big_seen |= strcmp(seen.paths[i], "doc250") == 0;
    cr_expect(big_seen, "seed %u: the document larger than a batch was not counted", seed);
    cr_expect_gt(bat.documents, NDOCS / 2, "seed %u: %llu documents counted", seed, (unsigned long long)bat.documents);
    char *got = report(&f, &bat);
    cr_expect_str_eq(got, want, "seed %u: batched report differs", seed);
    for (size_t i = 0; i < seen.records; i++)
        free(seen.paths[i]);
    free(seen.paths);
    free(got);
    free(want);
    for (int i = 0; i < NDOCS; i++) {
        rs_doc_free(&docs_a[i]);
        rs_doc_free(&docs_b[i]);
    }
    free(docs_a);
    free(docs_b);
    free(ptrs);
    rs_stats_free(&one);
    rs_stats_free(&bat);
    fixture_free(&f);
}

/* The same keys in the same slots of the same parts of two bigram tables. */
static void expect_same_bigram_slots(const rs_pairs_t *a, const rs_pairs_t *b, unsigned seed)
{
    cr_expect_eq(a->n, b->n, "seed %u: %zu bigrams against %zu", seed, a->n, b->n);
    for (size_t q = 0; q < RS_PAIRS_PARTS; q++) {
        const rs_pairs_part_t *x = &a->part[q], *y = &b->part[q];
        cr_assert_eq(x->cap, y->cap, "seed %u: part %zu has %u slots against %u", seed, q, x->cap, y->cap);
        cr_assert(x->cap == 0 || memcmp(x->slot, y->slot, x->cap * sizeof *x->slot) == 0,
                  "seed %u: part %zu: slots differ", seed, q);
    }
}

Test(scan, bigrams_held_across_documents_as_if_added_at_once, .timeout = 300)
{
    fixture_t f;
    fixture_init(&f);
    const unsigned seed = seed_rand("held bigrams");
    /* documents of words from a small vocabulary, skewed, so that the
     * commonest bigrams' parts fill their batch buckets many times; the
     * documents go to two rs_stats_t in turns (each switch flushes) */
    enum { NDOCS = 240, WORDS = 4000, VOCAB = 48 };
    rs_stats_t held[2], once[2];
    rs_scanner_t sh, so;
    cr_assert_eq(rs_scanner_init(&sh, &f.cfg), RS_OK);
    cr_assert_eq(rs_scanner_init(&so, &f.cfg), RS_OK);
    sh.hold_bigrams = 1;
    sh.bigrams.from = 0; /* hold them at once, small as the tables are */
    for (int t = 0; t < 2; t++) {
        stats_init(&f, &held[t]);
        stats_init(&f, &once[t]);
    }
    size_t waited = 0;
    for (int i = 0; i < NDOCS; i++) {
        char *buf = malloc(WORDS * 8 + 16);
        cr_assert(buf);
        size_t len = (size_t)sprintf(buf, "Ann: ");
        for (int w = 0; w < WORDS; w++) {
            const unsigned r = (unsigned)rand() % VOCAB, v = r * (unsigned)(rand() % VOCAB) / VOCAB;
            len += (size_t)sprintf(buf + len, "w%u%c", v, w % 97 == 96 ? '\n' : ' ');
        }
        char path[32];
        snprintf(path, sizeof path, "doc%03d", i);
        const int t = (i / 40) % 2;
        for (int k = 0; k < 2; k++) {
            rs_doc_t d = {0};
            d.path = strdup(path);
            d.text = malloc(len);
            memcpy(d.text, buf, len);
            d.len = d.bytes = len;
            cr_assert_eq(rs_scan_document(k ? &so : &sh, &d, k ? &once[t] : &held[t]), RS_OK);
            rs_doc_free(&d);
        }
        cr_expect_eq(so.bigrams.n, 0, "seed %u: a scanner that does not hold flushes at each call", seed);
        if (sh.bigrams.n > waited)
            waited = sh.bigrams.n;
        free(buf);
    }
    cr_expect_gt(waited, (size_t)RS_PAIRS_BATCH, "seed %u: %zu bigrams waited at most", seed, waited);
    cr_assert_eq(rs_scanner_flush(&sh), RS_OK);
    for (int t = 0; t < 2; t++) {
        expect_same_bigram_slots(&held[t].bigrams, &once[t].bigrams, seed);
        char *a = report(&f, &held[t]), *b = report(&f, &once[t]);
        cr_expect_str_eq(a, b, "seed %u: reports differ", seed);
        free(a);
        free(b);
        rs_stats_free(&held[t]);
        rs_stats_free(&once[t]);
    }
    rs_scanner_free(&sh);
    rs_scanner_free(&so);
    fixture_free(&f);
}
