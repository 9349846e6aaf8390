/*
 * test_spans.c - batched tokenization (kernels.h rs_tokenize_spans_fn):
 * the rule it rests on (a '\n' between two texts makes each tokenize as
 * if alone, on the scalar reference), and rs_opencl_tokenize_spans on
 * every OpenCL device against the scalar reference called span by span:
 * random spans of random UTF-8 and bytes, empty spans, spans that end or
 * begin inside a join rule, windows much shorter than the batch, faults;
 * and the term numbers the device gives a batch that asks for them; and
 * rs_opencl_count_spans, the batch counted on the device, against counting
 * the reference's tokens one by one, and its lexicons matched there against
 * rs_matcher_run on the reference's tokens.
 * Seeds are printed; RS_TEST_SEED repeats a run.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>

#include "kernels.h" /* rs_span_t, rs_tokens_t, rs_counts_t */
#include "cl_devices.h" /* need_devices */
#include "dict.h"       /* rs_dict_t: the counts' views */
#include "hash.h"       /* rs_hash64 */
#include "lexicon.h"    /* rs_lexicon_load_mem */
#include "matcher.h"    /* rs_matcher_run, rs_matcher_take: the device's matches */
#include "opencl.h"     /* rs_opencl_* */
#include "unicode.h" /* rs_scalar_tokenize, rs_utf8_encode */

static uint64_t rng(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t test_seed(void)
{
    const char *env = getenv("RS_TEST_SEED");
    const uint64_t seed = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
    fprintf(stderr, "test_spans: seed %llu (RS_TEST_SEED=%llu repeats it)\n", (unsigned long long)seed,
            (unsigned long long)seed);
    return seed ? seed : 1;
}

/* Pieces that sit badly at a span's edge: join rules cut in half, CR
 * before the separator, combining marks and ZWJ first, regional
 * indicators, truncated and stray UTF-8. */
static const char *edges[] = {
    "can'",   "'t",     "3.",     ".14",   "1,",    ",000",  "e.g",     ".",        "U.S",  "_id",
    "x_",     "\r",     "\r\n",   "\n",    " ",     "\t",    "\xcc\x81", "\xe2\x80\x8d", "\xf0\x9f\x87\xba",
    "\xf0\x9f\x87\xb8", "\xe2\x82", "\x80",  "\xff",  "\xc3", "\xd0\x9f\xd1\x80", "\xe2\x80\x99", "\xe2\x80\x94",
    "word",   "WORD",   "\xc3\x89t\xc3\xa9", "\xe6\x9d\xb1", "\xef\xbc\x9f", "a\xc2\xad", "\xd7\x90\"", "''",
};

/* Random text: edge pieces, words, white space, random bytes. */
static size_t random_text(uint64_t *st, uint8_t *buf, size_t len)
{
    static const uint32_t cps[] = {'a', 'Z', '7', ' ', ' ', '\n', '.', '\'', 0x00E9, 0x0301, 0x200D,
                                   0x05D0, 0x30A2, 0x4E00, 0x212A, 0x1F1E6, 0x0660, 0x2019, 0x00A0};
    size_t n = 0;
    while (n + 8 <= len) {
        const uint64_t r = rng(st) % 10;
        if (r < 3) {
            const char *e = edges[rng(st) % (sizeof edges / sizeof edges[0])];
            const size_t el = strlen(e);
            memcpy(buf + n, e, el);
            n += el;
        } else if (r < 4) {
            buf[n++] = (uint8_t)rng(st);
        } else {
            n += rs_utf8_encode(cps[rng(st) % (sizeof cps / sizeof cps[0])], buf + n);
        }
    }
    return n;
}

typedef struct batch {
    uint8_t *text; /* all spans' bytes, back to back */
    rs_span_t *sp;
    size_t n, bytes;
} batch_t;

/* n spans: empty ones, single edge pieces and random texts up to maxlen. */
static void batch_make(batch_t *b, uint64_t *st, size_t n, size_t maxlen)
{
    b->text = malloc(n * (maxlen + 8) + 1);
    b->sp = calloc(n ? n : 1, sizeof *b->sp);
    cr_assert(b->text && b->sp);
    b->n = n;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const uint64_t kind = rng(st) % 8;
        size_t len = 0;
        if (kind == 0) {
            len = 0;
        } else if (kind == 1) {
            const char *e = edges[rng(st) % (sizeof edges / sizeof edges[0])];
            len = strlen(e);
            memcpy(b->text + at, e, len);
        } else {
            len = random_text(st, b->text + at, 8 + rng(st) % (maxlen + 1));
        }
        b->sp[i] = (rs_span_t){b->text + at, len};
        at += len;
    }
    b->bytes = at;
}

static void batch_free(batch_t *b)
{
    free(b->text);
    free(b->sp);
}

static void tokens_init(rs_tokens_t *t, size_t bytes)
{
    memset(t, 0, sizeof *t);
    t->tok_cap = bytes + 1;
    t->fold_cap = 2 * bytes + 8;
    t->tok = malloc(t->tok_cap * sizeof *t->tok);
    t->fold = malloc(t->fold_cap);
    cr_assert(t->tok && t->fold);
}

static void tokens_free(rs_tokens_t *t)
{
    free(t->tok);
    free(t->fold);
}

/* The reference: scalar, span by span. */
static void reference(const batch_t *b, rs_tokens_t *t, size_t *ntok)
{
    for (size_t i = 0; i < b->n; i++) {
        const size_t before = t->n;
        if (b->sp[i].len)
            rs_scalar_tokenize(b->sp[i].text, b->sp[i].len, t);
        ntok[i] = t->n - before;
    }
}

/* 1 when a and b hold the same tokens, folded bytes and invalid count. */
static int same_tokens(const rs_tokens_t *a, const rs_tokens_t *b, const char *label)
{
    if (a->n != b->n || a->fold_len != b->fold_len || a->invalid_bytes != b->invalid_bytes) {
        cr_expect_fail("%s: reference %zu tokens, %zu fold bytes, %llu invalid; got %zu, %zu, %llu", label, a->n,
                       a->fold_len, (unsigned long long)a->invalid_bytes, b->n, b->fold_len,
                       (unsigned long long)b->invalid_bytes);
        return 0;
    }
    if (memcmp(a->fold, b->fold, a->fold_len) != 0) {
        cr_expect_fail("%s: folded bytes differ", label);
        return 0;
    }
    for (size_t i = 0; i < a->n; i++)
        if (a->tok[i].off != b->tok[i].off || a->tok[i].len != b->tok[i].len || a->tok[i].hash != b->tok[i].hash) {
            cr_expect_fail("%s: token %zu differs: \"%.*s\" against \"%.*s\"", label, i, (int)a->tok[i].len,
                           (const char *)a->fold + a->tok[i].off, (int)b->tok[i].len,
                           (const char *)b->fold + b->tok[i].off);
            return 0;
        }
    return 1;
}

static int same_counts(const size_t *a, const size_t *b, size_t n, const char *label)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) {
            cr_expect_fail("%s: span %zu: reference %zu tokens, got %zu", label, i, a[i], b[i]);
            return 0;
        }
    return 1;
}

Test(spans, newline_between_texts_makes_each_tokenize_alone)
{
    uint64_t st = test_seed();
    for (int round = 0; round < 3000; round++) {
        batch_t b;
        batch_make(&b, &st, 1 + rng(&st) % 12, 1 + rng(&st) % 64);
        uint8_t *join = malloc(b.bytes + b.n + 1);
        size_t jl = 0;
        for (size_t i = 0; i < b.n; i++) {
            memcpy(join + jl, b.sp[i].text, b.sp[i].len);
            jl += b.sp[i].len;
            join[jl++] = '\n';
        }
        rs_tokens_t ref, got;
        tokens_init(&ref, b.bytes);
        tokens_init(&got, jl);
        size_t *ntok = calloc(b.n, sizeof *ntok);
        reference(&b, &ref, ntok);
        rs_scalar_tokenize(join, jl, &got);
        char label[64];
        snprintf(label, sizeof label, "round %d", round);
        const int ok = same_tokens(&ref, &got, label);
        free(ntok);
        free(join);
        tokens_free(&ref);
        tokens_free(&got);
        batch_free(&b);
        if (!ok)
            break;
    }
}

static rs_opencl_t *open_with(const rs_opencl_devinfo_t *di, const rs_opencl_opts_t *o)
{
    rs_error_t err = {0};
    rs_opencl_t *h = rs_opencl_open(di->platform, di->device, o, &err);
    cr_assert(h != NULL, "opencl:%u:%u: %s", di->platform, di->device, err.msg);
    cr_assert(o->fault || rs_opencl_usable(h), "opencl:%u:%u: not usable: %s", di->platform, di->device,
              rs_opencl_info(h)->status);
    return h;
}

static const rs_tokens_t *sort_tokens; /* for cmp_fold */

/* Orders token indices by their folded bytes. */
static int cmp_fold(const void *pa, const void *pb)
{
    const rs_token_t *a = &sort_tokens->tok[*(const size_t *)pa], *b = &sort_tokens->tok[*(const size_t *)pb];
    const size_t n = a->len < b->len ? a->len : b->len;
    const int c = memcmp(sort_tokens->fold + a->off, sort_tokens->fold + b->off, n);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* Whether t's term numbers keep kernels.h's promise: each below nterms,
 * one number for one string of folded bytes; with one_pass (the batch fit
 * one device pass), also one number for each string. */
static int same_terms(const rs_tokens_t *t, int one_pass, const char *label)
{
    size_t *first = malloc((t->nterms ? t->nterms : 1) * sizeof *first); /* a token of each number */
    cr_assert(first);
    for (size_t k = 0; k < t->nterms; k++)
        first[k] = SIZE_MAX;
    int ok = 1;
    size_t used = 0;
    for (size_t i = 0; i < t->n && ok; i++) {
        const uint32_t m = t->term[i];
        if (m >= t->nterms) {
            cr_expect_fail("%s: token %zu has number %u of %zu", label, i, m, t->nterms);
            ok = 0;
        } else if (first[m] == SIZE_MAX) {
            first[m] = i;
            used++;
        } else {
            const rs_token_t *a = &t->tok[first[m]], *b = &t->tok[i];
            if (a->len != b->len || memcmp(t->fold + a->off, t->fold + b->off, a->len) != 0) {
                cr_expect_fail("%s: tokens %zu and %zu share number %u but not their folded bytes", label, first[m],
                             i, m);
                ok = 0;
            }
        }
    }
    if (ok && used != t->nterms) {
        cr_expect_fail("%s: %zu numbers given, %zu used", label, t->nterms, used);
        ok = 0;
    }
    /* one pass: distinct numbers must be distinct strings (sorted by their
     * bytes, neighbours differ) */
    if (ok && one_pass) {
        sort_tokens = t;
        qsort(first, t->nterms, sizeof *first, cmp_fold);
        for (size_t a = 1; ok && a < t->nterms; a++)
            if (cmp_fold(&first[a - 1], &first[a]) == 0) {
                cr_expect_fail("%s: one pass gave numbers %u and %u to the same term", label, t->term[first[a - 1]],
                             t->term[first[a]]);
                ok = 0;
            }
    }
    free(first);
    return ok;
}

/* How a check hands a batch to the code under test. */
typedef void (*spans_call_fn)(const void *under_test, const batch_t *b, rs_tokens_t *out, size_t *ntok);

static void call_handle(const void *h, const batch_t *b, rs_tokens_t *out, size_t *ntok)
{
    rs_opencl_tokenize_spans((rs_opencl_t *)h, b->sp, b->n, out, ntok);
}

static void call_table(const void *k, const batch_t *b, rs_tokens_t *out, size_t *ntok)
{
    ((const rs_kernels_t *)k)->tokenize_spans(b->sp, b->n, out, ntok);
}

/* One batch through the code under test (asking for term numbers) and the
 * reference; 1 when equal. numbered: 1 the terms must be numbered (2: in
 * one pass), 0 they must not (the batch ran on the CPU), -1 either. */
static int check_batch_via(spans_call_fn call, const void *under_test, const batch_t *b, int numbered,
                           const char *label)
{
    rs_tokens_t ref, got;
    tokens_init(&ref, b->bytes);
    tokens_init(&got, b->bytes);
    got.term = malloc(got.tok_cap * sizeof *got.term);
    cr_assert(got.term);
    size_t *nr = calloc(b->n ? b->n : 1, sizeof *nr), *ng = calloc(b->n ? b->n : 1, sizeof *ng);
    reference(b, &ref, nr);
    call(under_test, b, &got, ng);
    int ok = same_tokens(&ref, &got, label) && same_counts(nr, ng, b->n, label);
    if (ok && numbered >= 0 && got.numbered != (numbered != 0)) {
        cr_expect_fail("%s: numbered is %d, not %d", label, got.numbered, numbered != 0);
        ok = 0;
    }
    if (ok && got.numbered)
        ok = same_terms(&got, numbered == 2, label);
    free(got.term);
    free(nr);
    free(ng);
    tokens_free(&ref);
    tokens_free(&got);
    return ok;
}

static int check_batch_terms(rs_opencl_t *h, const batch_t *b, int numbered, const char *label)
{
    return check_batch_via(call_handle, h, b, numbered, label);
}

static int check_batch_terms_with(const rs_kernels_t *k, const batch_t *b, const char *label)
{
    return check_batch_via(call_table, k, b, -1, label);
}

static int check_batch(rs_opencl_t *h, const batch_t *b, const char *label)
{
    return check_batch_terms(h, b, b->bytes > 0, label);
}

Test(spans, device_batches_equal_the_reference_span_by_span, .timeout = 600)
{
    const devs_t d = need_devices();
    uint64_t st = test_seed();
    for (size_t i = 0; i < d.n; i++) {
        /* windows of 4 KiB: a batch of up to a few hundred KiB takes many passes */
        const rs_opencl_opts_t o = {.subchunk_bytes = 64, .window_bytes = 4096, .min_device_bytes = 0, .terms = 1};
        rs_opencl_t *h = open_with(&d.v[i], &o);
        int ok = 1;
        for (int round = 0; round < 200 && ok; round++) {
            batch_t b;
            const size_t n = round < 10 ? (size_t)round : 1 + rng(&st) % 600;
            batch_make(&b, &st, n, round % 7 == 0 ? 3000 : 200);
            char label[96];
            snprintf(label, sizeof label, "opencl:%u:%u round %d (%zu spans, %zu bytes)", d.v[i].platform,
                     d.v[i].device, round, b.n, b.bytes);
            ok = check_batch(h, &b, label);
            batch_free(&b);
        }
        const rs_opencl_counts_t c = rs_opencl_counts(h);
        cr_expect_gt(c.device_calls, 0, "no batch reached the device");
        cr_expect_gt(c.paired_calls, 0, "no batch was double-buffered over two lanes");
        cr_expect_eq(c.cpu_calls, 0, "%llu batches went to the CPU", (unsigned long long)c.cpu_calls);
        cr_expect_eq(c.numbered_calls, c.device_calls, "%llu of %llu batches numbered",
                     (unsigned long long)c.numbered_calls, (unsigned long long)c.device_calls);
        rs_strlist_t w = {0};
        rs_opencl_take_warnings(h, &w);
        cr_expect_eq(w.n, 0, "warning: %s", w.n ? w.s[0] : "");
        rs_strlist_free(&w);
        cr_log_info("opencl:%u:%u: %llu batches on the device (%llu double-buffered), %llu bytes", d.v[i].platform,
                    d.v[i].device, (unsigned long long)c.device_calls, (unsigned long long)c.paired_calls,
                    (unsigned long long)c.device_bytes);
        rs_opencl_close(h);
    }
    free(d.v);
}

Test(spans, one_pass_numbers_each_term_once, .timeout = 600)
{
    const devs_t d = need_devices();
    uint64_t st = test_seed();
    for (size_t i = 0; i < d.n; i++) {
        /* the default window: every batch here is one pass */
        const rs_opencl_opts_t o = {.subchunk_bytes = 64, .min_device_bytes = 0, .terms = 1};
        rs_opencl_t *h = open_with(&d.v[i], &o);
        int ok = 1;
        for (int round = 0; round < 40 && ok; round++) {
            batch_t b;
            batch_make(&b, &st, 1 + rng(&st) % 800, round % 5 == 0 ? 3000 : 200);
            char label[96];
            snprintf(label, sizeof label, "opencl:%u:%u one pass, round %d (%zu spans, %zu bytes)", d.v[i].platform,
                     d.v[i].device, round, b.n, b.bytes);
            ok = check_batch_terms(h, &b, b.bytes ? 2 : 0, label);
            batch_free(&b);
        }
        cr_expect(ok);
        rs_opencl_close(h);
    }
    free(d.v);
}

/* One batch of n spans of up to maxlen bytes through a new handle on the
 * first device, opened with o, checked with numbered = 0 (kernels.h: the
 * batch must come back without term numbers); the handle's counters, and
 * the batch's bytes in *bytes. */
static rs_opencl_counts_t one_unnumbered_batch(const rs_opencl_opts_t *o, size_t n, size_t maxlen, const char *label,
                                               size_t *bytes)
{
    const devs_t d = need_devices();
    uint64_t st = test_seed();
    rs_opencl_t *h = open_with(&d.v[0], o);
    batch_t b;
    batch_make(&b, &st, n, maxlen);
    cr_expect(check_batch_terms(h, &b, 0, label));
    const rs_opencl_counts_t c = rs_opencl_counts(h);
    *bytes = b.bytes;
    batch_free(&b);
    rs_opencl_close(h);
    free(d.v);
    return c;
}

Test(spans, terms_off_gives_no_numbers)
{
    const rs_opencl_opts_t o = {.min_device_bytes = 0, .terms = -1};
    size_t bytes;
    const rs_opencl_counts_t c = one_unnumbered_batch(&o, 100, 300, "terms off", &bytes);
    cr_expect_eq(c.device_calls, 1);
    cr_expect_eq(c.numbered_calls, 0);
}

Test(spans, a_fault_gives_the_reference_and_a_warning)
{
    const devs_t d = need_devices();
    uint64_t st = test_seed();
    const rs_opencl_opts_t o = {.fault = 1, .min_device_bytes = 0, .window_bytes = 4096};
    rs_opencl_t *h = open_with(&d.v[0], &o);
    for (int round = 0; round < 5; round++) {
        batch_t b;
        batch_make(&b, &st, 50, 300);
        cr_expect(check_batch_terms(h, &b, 0, "fault"));
        batch_free(&b);
    }
    cr_expect_eq(rs_opencl_usable(h), 0, "still marked usable after a fault");
    rs_strlist_t w = {0};
    rs_opencl_take_warnings(h, &w);
    cr_assert_eq(w.n, 1, "%zu warnings", w.n);
    cr_expect(strstr(w.s[0], "run on the CPU") != NULL, "warning: %s", w.s[0]);
    rs_strlist_free(&w);
    rs_opencl_close(h);
    free(d.v);
}

Test(spans, a_short_batch_runs_on_the_cpu)
{
    const rs_opencl_opts_t o = {.min_device_bytes = 1 << 20};
    size_t bytes;
    const rs_opencl_counts_t c = one_unnumbered_batch(&o, 100, 100, "short batch", &bytes);
    cr_expect_eq(c.device_calls, 0);
    cr_expect_eq(c.short_calls, 1);
    cr_expect_eq(c.short_bytes, bytes);
}

/* ------------------------------------------------------------------ */
/* Counting on the device (rs_opencl_count_spans, kernels.h rs_counts_t) */

/* What a batch's counts mean, whoever made them: terms by folded bytes in
 * order of first occurrence (ids), each with its count and documents
 * (value: count, docs, last document + 1), and bigrams by pairs of those
 * ids in order of first occurrence (value: count). */
typedef struct view {
    rs_dict_t terms, pairs;
} view_t;

static void view_init(view_t *v)
{
    rs_dict_init(&v->terms, 3 * sizeof(uint64_t));
    rs_dict_init(&v->pairs, sizeof(uint64_t));
}

static void view_free(view_t *v)
{
    rs_dict_free(&v->terms);
    rs_dict_free(&v->pairs);
}

static size_t view_term(view_t *v, const uint8_t *key, size_t len, uint64_t count, uint64_t docs, uint64_t lo,
                        uint64_t hi)
{
    const int64_t id = rs_dict_put(&v->terms, key, len, rs_hash64(key, len), NULL);
    cr_assert(id >= 0);
    uint64_t *t = rs_dict_val(&v->terms, (size_t)id);
    t[0] += count;
    t[1] += docs - (t[2] == lo + 1);
    t[2] = hi + 1;
    return (size_t)id;
}

static void view_pair(view_t *v, size_t a, size_t b, uint64_t count)
{
    const uint32_t key[2] = {(uint32_t)a, (uint32_t)b};
    const int64_t id = rs_dict_put(&v->pairs, key, sizeof key, rs_hash64(key, sizeof key), NULL);
    cr_assert(id >= 0);
    *(uint64_t *)rs_dict_val(&v->pairs, (size_t)id) += count;
}

/* The reference view: scalar tokens span by span, counted one by one. */
static void view_of_tokens(view_t *v, const batch_t *b, const uint32_t *doc, size_t *ntok, uint64_t *invalid)
{
    rs_tokens_t t;
    tokens_init(&t, b->bytes);
    reference(b, &t, ntok);
    *invalid = t.invalid_bytes;
    size_t k = 0;
    for (size_t s = 0; s < b->n; s++) {
        size_t prev = SIZE_MAX;
        for (size_t j = 0; j < ntok[s]; j++, k++) {
            const size_t id = view_term(v, t.fold + t.tok[k].off, t.tok[k].len, 1, 1, doc[s], doc[s]);
            if (prev != SIZE_MAX)
                view_pair(v, prev, id, 1);
            prev = id;
        }
    }
    tokens_free(&t);
}

/* 1 when c keeps the promises of kernels.h (records in token order, each
 * hash that of its bytes) and, put into a view, equals ref. */
static int same_view(const view_t *ref, const rs_counts_t *c, const char *label)
{
    view_t v;
    view_init(&v);
    size_t *id = malloc((c->nterm + 1) * sizeof *id);
    cr_assert(id);
    int ok = 1;
    for (size_t r = 0; r < c->nterm && ok; r++) {
        const rs_count_term_t *t = &c->term[r];
        if ((r && t->first <= c->term[r - 1].first) || t->off + (size_t)t->len > c->fold_len
            || t->hash != rs_hash64(c->fold + t->off, t->len) || t->doc_lo > t->doc_hi) {
            cr_expect_fail("%s: term record %zu breaks the contract", label, r);
            ok = 0;
            break;
        }
        id[r] = view_term(&v, c->fold + t->off, t->len, t->count, t->docs, t->doc_lo, t->doc_hi);
    }
    for (size_t k = 0; k < c->npair && ok; k++) {
        const rs_count_pair_t *p = &c->pair[k];
        if ((k && p->first <= c->pair[k - 1].first) || p->a >= c->nterm || p->b >= c->nterm) {
            cr_expect_fail("%s: pair record %zu breaks the contract", label, k);
            ok = 0;
            break;
        }
        view_pair(&v, id[p->a], id[p->b], p->count);
    }
    if (ok && (v.terms.n != ref->terms.n || v.pairs.n != ref->pairs.n)) {
        cr_expect_fail("%s: %zu terms and %zu bigrams, the reference %zu and %zu", label, v.terms.n, v.pairs.n,
                       ref->terms.n, ref->pairs.n);
        ok = 0;
    }
    for (size_t i = 0; i < v.terms.n && ok; i++) {
        size_t la, lb;
        const char *a = rs_dict_key(&ref->terms, i, &la), *b = rs_dict_key(&v.terms, i, &lb);
        const uint64_t *x = rs_dict_val(&ref->terms, i), *y = rs_dict_val(&v.terms, i);
        if (la != lb || memcmp(a, b, la) != 0 || x[0] != y[0] || x[1] != y[1] || x[2] != y[2]) {
            cr_expect_fail("%s: term %zu: reference \"%.*s\" %llu times in %llu documents, got \"%.*s\" %llu in %llu",
                           label, i, (int)la, a, (unsigned long long)x[0], (unsigned long long)x[1], (int)lb, b,
                           (unsigned long long)y[0], (unsigned long long)y[1]);
            ok = 0;
        }
    }
    for (size_t i = 0; i < v.pairs.n && ok; i++) {
        size_t la, lb;
        const char *a = rs_dict_key(&ref->pairs, i, &la), *b = rs_dict_key(&v.pairs, i, &lb);
        if (memcmp(a, b, 8) != 0
            || *(const uint64_t *)rs_dict_val(&ref->pairs, i) != *(const uint64_t *)rs_dict_val(&v.pairs, i)) {
            cr_expect_fail("%s: bigram %zu differs from the reference's", label, i);
            ok = 0;
        }
    }
    free(id);
    view_free(&v);
    return ok;
}

/* One batch counted on the device against the reference; its documents:
 * runs of 1 to 4 spans; with tokens, the device also gives the tokens,
 * which must be the reference's. Returns 1 when equal, or when the device
 * declined and may (may_decline). */
static int check_counted(rs_opencl_t *h, const batch_t *b, uint64_t *st, rs_counts_t *c, int tokens, int may_decline,
                         const char *label)
{
    const size_t n = b->n ? b->n : 1;
    uint32_t *doc = malloc(n * sizeof *doc);
    size_t *nr = calloc(n, sizeof *nr), *ng = calloc(n, sizeof *ng);
    cr_assert(doc && nr && ng);
    uint32_t d = 0;
    for (size_t i = 0; i < b->n; i++) {
        doc[i] = d;
        d += rng(st) % 3 == 0;
    }
    view_t ref;
    view_init(&ref);
    uint64_t invalid;
    view_of_tokens(&ref, b, doc, nr, &invalid);
    int ok = 1;
    rs_tokens_t tref, got;
    tokens_init(&tref, b->bytes);
    tokens_init(&got, b->bytes);
    size_t *nt = calloc(n, sizeof *nt);
    cr_assert(nt);
    reference(b, &tref, nt);
    if (!rs_opencl_count_spans(h, b->sp, doc, b->n, c, tokens ? &got : NULL, ng)) {
        if (!may_decline) {
            cr_expect_fail("%s: the device did not count the batch", label);
            ok = 0;
        }
    } else {
        ok = same_counts(nr, ng, b->n, label) && same_view(&ref, c, label);
        if (ok && tokens)
            ok = same_tokens(&tref, &got, label);
        if (ok && !tokens && got.n) {
            cr_expect_fail("%s: tokens came back unasked", label);
            ok = 0;
        }
        if (ok && c->invalid_bytes != invalid) {
            cr_expect_fail("%s: %llu invalid bytes, the reference %llu", label, (unsigned long long)c->invalid_bytes,
                           (unsigned long long)invalid);
            ok = 0;
        }
    }
    view_free(&ref);
    tokens_free(&tref);
    tokens_free(&got);
    free(nt);
    free(doc);
    free(nr);
    free(ng);
    return ok;
}

static void counts_free(rs_counts_t *c)
{
    free(c->term);
    free(c->pair);
    free(c->fold);
    free(c->hit[0]);
    free(c->hit[1]);
}

Test(spans, device_counts_equal_counting_the_reference_tokens, .timeout = 600)
{
    const devs_t d = need_devices();
    uint64_t st = test_seed();
    for (size_t i = 0; i < d.n; i++) {
        /* windows of 1 to 4 KiB: spans, documents and bigrams cross passes */
        const rs_opencl_opts_t o = {.subchunk_bytes = 64, .window_bytes = 1024u << (i % 3), .min_device_bytes = 0,
                                    .count = 1};
        rs_opencl_t *h = open_with(&d.v[i], &o);
        rs_counts_t c = {0};
        int ok = 1;
        for (int round = 0; round < 150 && ok; round++) {
            batch_t b;
            const size_t n = round < 10 ? (size_t)round : 1 + rng(&st) % 400;
            /* rounds of few words repeated: many bigrams and documents per term */
            batch_make(&b, &st, n, round % 7 == 0 ? 3000 : round % 3 ? 200 : 24);
            char label[96];
            snprintf(label, sizeof label, "opencl:%u:%u round %d (%zu spans, %zu bytes)", d.v[i].platform,
                     d.v[i].device, round, b.n, b.bytes);
            ok = check_counted(h, &b, &st, &c, round % 2, b.bytes == 0, label);
            batch_free(&b);
        }
        const rs_opencl_counts_t k = rs_opencl_counts(h);
        cr_expect_gt(k.counted_calls, 100, "%llu batches counted", (unsigned long long)k.counted_calls);
        cr_expect_gt(k.paired_calls, 0, "no batch was double-buffered over two lanes");
        rs_strlist_t w = {0};
        rs_opencl_take_warnings(h, &w);
        cr_expect_eq(w.n, 0, "warning: %s", w.n ? w.s[0] : "");
        rs_strlist_free(&w);
        cr_log_info("opencl:%u:%u: %llu batches counted on the device, %llu bytes", d.v[i].platform, d.v[i].device,
                    (unsigned long long)k.counted_calls, (unsigned long long)k.device_bytes);
        counts_free(&c);
        rs_opencl_close(h);
    }
    free(d.v);
}

Test(spans, counting_declines_when_off_short_or_after_a_fault)
{
    const devs_t d = need_devices();
    uint64_t st = test_seed();
    batch_t b;
    batch_make(&b, &st, 50, 300);
    uint32_t doc[50] = {0};
    size_t ntok[50];
    rs_counts_t c = {0};
    const rs_opencl_opts_t off = {.min_device_bytes = 0, .count = -1}, shrt = {.min_device_bytes = 1 << 20, .count = 1},
                           fault = {.min_device_bytes = 0, .count = 1, .fault = 1, .window_bytes = 4096};
    const rs_opencl_opts_t *os[3] = {&off, &shrt, &fault};
    for (int k = 0; k < 3; k++) {
        rs_opencl_t *h = open_with(&d.v[0], os[k]);
        cr_expect_eq(rs_opencl_count_spans(h, b.sp, doc, b.n, &c, NULL, ntok), 0, "case %d counted", k);
        cr_expect_eq(rs_opencl_counts(h).counted_calls, 0);
        rs_strlist_t w = {0};
        rs_opencl_take_warnings(h, &w);
        cr_expect_eq(w.n, k == 2, "case %d: %zu warnings", k, w.n);
        if (k == 2) {
            cr_expect_eq(rs_opencl_usable(h), 0, "still marked usable after a fault");
            /* and the batch then tokenizes on the CPU, exactly */
            cr_expect(check_batch_terms(h, &b, 0, "after a counting fault"));
        }
        rs_strlist_free(&w);
        rs_opencl_close(h);
    }
    counts_free(&c);
    batch_free(&b);
    free(d.v);
}

/* ------------------------------------------------------------------ */
/* Lexicons matched on the device (rs_counts_t.match, tokenize_terms_match.cl) */

/* Words the lexicons below are made of, in other cases and with the
 * prefixes their globs take, and words of nothing. */
static const char *const mwords[] = {
    "the",   "The",  "THE",  "end",   "ending", "endless", "e",   "E",     "of",       "new",     "New",
    "york",  "YORK", "city", "café",  "CAFÉ",   "cafe",    "cafeteria", "ca", "c",     "o",       "oh",
    "over",  "été",  "ÉTÉ",  "can't", "3.14",   "3",       "x",   "yo",    "yorkshire", "the-end", "endemic",
};
static const char *const mseps[] = {" ", " ", " ", ", ", ". ", " - ", "\t", "!? "};

/* A span of 0 to maxw of those words. */
static size_t word_text(uint64_t *st, uint8_t *buf, size_t maxw)
{
    size_t n = 0, nw = rng(st) % (maxw + 1);
    for (size_t w = 0; w < nw; w++) {
        const char *x = mwords[rng(st) % (sizeof mwords / sizeof mwords[0])];
        const char *sep = mseps[rng(st) % (sizeof mseps / sizeof mseps[0])];
        memcpy(buf + n, x, strlen(x));
        n += strlen(x);
        memcpy(buf + n, sep, strlen(sep));
        n += strlen(sep);
    }
    return n;
}

static void word_batch(batch_t *b, uint64_t *st, size_t n, size_t maxw)
{
    b->text = malloc(n * (maxw + 1) * 16 + 1);
    b->sp = calloc(n ? n : 1, sizeof *b->sp);
    cr_assert(b->text && b->sp);
    b->n = n;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const size_t len = word_text(st, b->text + at, maxw);
        b->sp[i] = (rs_span_t){b->text + at, len};
        at += len;
    }
    b->bytes = at;
}

/* Two lexicons: exact words, phrases sharing first words, globs of 1 to 5
 * bytes (several lengths at one token), the same pattern in two
 * categories, a category whose patterns overlap. */
static const char lex_a[] = "a\tthe\na\tthe end\na\tend*\na\te*\na\tnew york city\na\tnew york\n"
                            "b\tyork*\nb\tca*\nb\tcafé\nb\tthe end of\nb\tof the\nc\to*\nc\tover\nc\tcafeteria\n"
                            "c\tthe\nd\tété\nd\tcan't\nd\t3.14\nd\tthe-end\nd\tthe the\ne\tc*\ne\tendl*\ne\tca* c*\n";
static const char lex_b[] = "x\tnew\nx\tnew york\ny\tyo*\ny\tyorksh*\nz\tend of the\nz\tof\n";

typedef struct mhit {
    size_t span;
    uint32_t cat, gpat;
} mhit_t;

typedef struct mhits {
    mhit_t *v;
    size_t n, cap;
    size_t span;
} mhits_t;

static void mhit_add(void *ctx, uint32_t cat, uint32_t gpat)
{
    mhits_t *h = ctx;
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 256;
        h->v = realloc(h->v, h->cap * sizeof *h->v);
        cr_assert(h->v);
    }
    h->v[h->n++] = (mhit_t){h->span, cat, gpat};
}

static int same_hits(const mhits_t *a, const mhits_t *b, const char *label)
{
    if (a->n != b->n) {
        cr_expect_fail("%s: %zu hits, the reference %zu", label, b->n, a->n);
        return 0;
    }
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].span != b->v[i].span || a->v[i].cat != b->v[i].cat || a->v[i].gpat != b->v[i].gpat) {
            cr_expect_fail("%s: hit %zu: reference span %zu category %u pattern %u, got span %zu %u %u", label, i,
                           a->v[i].span, a->v[i].cat, a->v[i].gpat, b->v[i].span, b->v[i].cat, b->v[i].gpat);
            return 0;
        }
    return 1;
}

Test(spans, device_matches_equal_the_reference_matcher, .timeout = 600)
{
    const devs_t d = need_devices();
    uint64_t st = test_seed();
    rs_lexicon_t lx[2] = {{0}, {0}};
    rs_matcher_t m[2];
    rs_error_t err;
    cr_assert_eq(rs_lexicon_load_mem(&lx[0], "a.tsv", lex_a, strlen(lex_a), RS_LEXFMT_TSV, &err), RS_OK);
    cr_assert_eq(rs_lexicon_load_mem(&lx[1], "b.tsv", lex_b, strlen(lex_b), RS_LEXFMT_TSV, &err), RS_OK);
    for (int k = 0; k < 2; k++)
        cr_assert_eq(rs_matcher_build(&m[k], &lx[k]), RS_OK);
    cr_assert_gt(m[0].nglob_lens, 3, "the lexicon should have globs of several lengths");
    rs_match_state_t ms[2] = {{0}, {0}};
    for (size_t i = 0; i < d.n; i++) {
        const rs_opencl_opts_t o = {.subchunk_bytes = 64, .window_bytes = 1024u << (i % 3), .min_device_bytes = 0,
                                    .count = 1};
        rs_opencl_t *h = open_with(&d.v[i], &o);
        rs_counts_t c = {0};
        uint64_t matched = 0, declined = 0, nhits = 0;
        int ok = 1;
        for (int round = 0; round < 120 && ok; round++) {
            batch_t b;
            /* spans of up to 60 words fit any window here; every 10th round one of 400 does not */
            /* and round 3 is one span of no words: an empty batch */
            word_batch(&b, &st, round == 3 ? 1 : 1 + rng(&st) % 200, round == 3 ? 0 : round % 10 == 9 ? 400 : 60);
            const int only_b = round % 5 == 4;
            c.match[0] = only_b ? NULL : &m[0];
            c.match[1] = &m[1];
            size_t *nr = calloc(b.n, sizeof *nr), *ng = calloc(b.n, sizeof *ng);
            uint32_t *doc = calloc(b.n, sizeof *doc);
            rs_tokens_t tref, got;
            tokens_init(&tref, b.bytes);
            tokens_init(&got, b.bytes);
            cr_assert(nr && ng && doc);
            reference(&b, &tref, nr);
            char label[96];
            snprintf(label, sizeof label, "opencl:%u:%u round %d (%zu spans, %zu bytes)", d.v[i].platform,
                     d.v[i].device, round, b.n, b.bytes);
            const int counted = rs_opencl_count_spans(h, b.sp, doc, b.n, &c, &got, ng);
            if (b.bytes == 0) { /* declined: the caller has nothing to tokenize */
                if (counted || got.n) {
                    cr_expect_fail("%s: an empty batch was counted, or tokens came back", label);
                    ok = 0;
                }
            } else if (!counted) {
                cr_expect_fail("%s: the device did not count the batch", label);
                ok = 0;
            } else if (!c.matched) {
                declined++;
                ok = same_tokens(&tref, &got, label); /* then the tokens came back */
            } else {
                matched++;
                if (got.n) {
                    cr_expect_fail("%s: matched, and tokens came back too", label);
                    ok = 0;
                }
                for (int k = 0; k < 2 && ok; k++) {
                    if (!c.match[k]) {
                        if (c.nhit[k]) {
                            cr_expect_fail("%s: hits for a lexicon not given", label);
                            ok = 0;
                        }
                        continue;
                    }
                    mhits_t ref = {0}, dev = {0};
                    rs_match_state_free(&ms[k]);
                    cr_assert_eq(rs_match_state_init(&ms[k], &m[k]), RS_OK);
                    uint64_t abs = 0;
                    for (size_t s = 0; s < b.n; s++) {
                        rs_tokens_t v = tref;
                        v.tok += abs;
                        v.n = nr[s];
                        ref.span = s;
                        rs_matcher_run(&m[k], &ms[k], &v, 0, v.n, abs, mhit_add, &ref);
                        abs += nr[s];
                    }
                    rs_match_state_free(&ms[k]);
                    cr_assert_eq(rs_match_state_init(&ms[k], &m[k]), RS_OK);
                    size_t s = 0, s_end = b.n ? nr[0] : 0;
                    for (size_t j = 0; j < c.nhit[k] && ok;) {
                        size_t e = j + 1;
                        while (e < c.nhit[k] && c.hit[k][e].tok == c.hit[k][j].tok)
                            e++;
                        if ((j && c.hit[k][j].tok <= c.hit[k][j - 1].tok) || c.hit[k][j].tok >= tref.n) {
                            cr_expect_fail("%s: the hits are not in token order, or past the last token", label);
                            ok = 0;
                            break;
                        }
                        while (c.hit[k][j].tok >= s_end)
                            s_end += nr[++s];
                        dev.span = s;
                        ok = rs_matcher_take(&m[k], &ms[k], c.hit[k] + j, e - j, c.hit[k][j].tok, mhit_add, &dev) == 0;
                        j = e;
                    }
                    ok = ok && same_hits(&ref, &dev, label);
                    nhits += ref.n;
                    free(ref.v);
                    free(dev.v);
                }
            }
            tokens_free(&tref);
            tokens_free(&got);
            free(nr);
            free(ng);
            free(doc);
            batch_free(&b);
        }
        cr_expect_gt(matched, 80, "%llu batches matched on the device", (unsigned long long)matched);
        cr_expect_gt(declined, 0, "no batch with a span longer than a window declined to match");
        cr_expect_gt(nhits, 1000, "only %llu hits", (unsigned long long)nhits);
        cr_expect_eq(rs_opencl_counts(h).matched_calls, matched);
        rs_strlist_t w = {0};
        rs_opencl_take_warnings(h, &w);
        cr_expect_eq(w.n, 0, "warning: %s", w.n ? w.s[0] : "");
        rs_strlist_free(&w);
        cr_log_info("opencl:%u:%u: %llu batches matched on the device (%llu hits), %llu declined", d.v[i].platform,
                    d.v[i].device, (unsigned long long)matched, (unsigned long long)nhits,
                    (unsigned long long)declined);
        counts_free(&c);
        rs_opencl_close(h);
    }
    for (int k = 0; k < 2; k++) {
        rs_match_state_free(&ms[k]);
        rs_matcher_free(&m[k]);
        rs_lexicon_free(&lx[k]);
    }
    free(d.v);
}

/* ------------------------------------------------------------------ */
/* Groups: every usable device and the CPU workers (opencl:all+cpu) */

typedef struct feeder {
    const rs_kernels_t *k;
    uint64_t seed;
    int ok;
} feeder_t;

/* 30 batches of about 1 MB through the group's tables, each checked. */
static void *feed(void *arg)
{
    feeder_t *f = arg;
    f->ok = 1;
    for (int round = 0; round < 30 && f->ok; round++) {
        batch_t b;
        batch_make(&b, &f->seed, 400, 5000);
        char label[64];
        snprintf(label, sizeof label, "%s round %d", f->k->name, round);
        f->ok = check_batch_terms_with(f->k, &b, label);
        batch_free(&b);
    }
    return NULL;
}

Test(spans, a_group_spreads_batches_over_every_device, .timeout = 600)
{
    /* POCL: two CPU devices, so that a group has two to spread over */
    setenv("POCL_DEVICES", "pthread pthread", 0);
    setenv("ROSTRUM_OPENCL_MIN_BYTES", "0", 1);
    const devs_t d = need_devices();
    if (d.n < 2) {
        free(d.v);
        cr_skip_test("one OpenCL device here (POCL_DEVICES had no effect): the group of several did not run");
    }
    rs_opencl_register();
    const rs_kernels_t *k = rs_kernels_select("opencl:all+cpu");
    cr_assert(k != NULL, "no group");
    cr_log_info("%s: %s", k->name, k->description);
    int cpu_only = 1;
    for (size_t i = 0; i < d.n; i++)
        cpu_only &= strcmp(d.v[i].type, "cpu") == 0;
    if (cpu_only)
        cr_expect_null(rs_kernels_select("opencl:gpu+cpu"), "auto's group took a CPU device");
    uint64_t st = test_seed();
    feeder_t f[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        f[i] = (feeder_t){.k = k, .seed = st + (uint64_t)i * 7919u};
        cr_assert_eq(pthread_create(&th[i], NULL, feed, &f[i]), 0);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        cr_expect(f[i].ok, "feeder %d", i);
    }
    /* every device took batches: its own hybrid slot is the group's handle */
    for (size_t i = 0; i < d.n; i++) {
        char name[48];
        snprintf(name, sizeof name, "opencl:%u:%u+cpu", d.v[i].platform, d.v[i].device);
        rs_opencl_t *h = rs_opencl_of_kernels(rs_kernels_select(name));
        cr_assert(h != NULL);
        const rs_opencl_counts_t c = rs_opencl_counts(h);
        cr_log_info("%s: %llu batches, %llu bytes on the device", name, (unsigned long long)c.device_calls,
                    (unsigned long long)c.device_bytes);
        cr_expect_gt(c.device_calls, 0, "%s took no batch of the group", name);
    }
    rs_opencl_counts_t sum;
    cr_expect(rs_opencl_kernels_counts(k, &sum));
    cr_expect_gt(sum.device_calls, 0);
    rs_strlist_t w = {0};
    rs_opencl_take_warnings(NULL, &w);
    cr_expect_eq(w.n, 0, "%s", w.n ? w.s[0] : "");
    rs_strlist_free(&w);
    rs_opencl_shutdown();
    free(d.v);
}
