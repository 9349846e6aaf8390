/*
 * test_opencl.c - Criterion tests of the OpenCL backend (host/opencl.h):
 * on every OpenCL device present, the device's tokens equal
 * rs_scalar_tokenize's exactly (tokens, offsets, folded bytes, hashes,
 * invalid bytes), appended after earlier tokens, on
 *   - every line of WordBreakTest.txt (RS_WORDBREAKTEST);
 *   - seeded random bytes and random UTF-8 of every length 0..400, with
 *     sub-chunks of 1, 3, 16 bytes and the device default, so that the
 *     work-items' own cuts fall everywhere;
 *   - join rules (WB3 to WB16) placed on every offset around sub-chunk edges;
 *   - texts longer than a device window, with and without safe cuts;
 *   - the podcast corpus when ../shared/corpora is beside the checkout (or
 *     RS_CORPUS_DIR names an unpacked copy);
 * and the backend's seams: the binary cache, a failed build and a kernel
 * fault (both fall back to the CPU, exact, with a warning), concurrent
 * callers, and rs_kernels_select("opencl..."). With no OpenCL platform, or
 * a build without OpenCL, each test is skipped and says why.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"    /* rs_hash64 */
#include "kernels.h" /* rs_kernels_select */
#include "cl_devices.h" /* need_devices */
#include "opencl.h"     /* rs_opencl_* */
#include "unicode.h" /* rs_scalar_tokenize, rs_utf8_encode */
#include "../wordbreak_line.h" /* rs_wordbreak_line */

#ifndef RS_WORDBREAKTEST
#define RS_WORDBREAKTEST "/usr/share/unicode/auxiliary/WordBreakTest.txt"
#endif
#ifndef RS_SOURCE_DIR
#define RS_SOURCE_DIR "."
#endif

/* ------------------------------------------------------------------ */
/* Helpers */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static rs_opencl_t *open_dev(const rs_opencl_devinfo_t *di, uint32_t sub)
{
    rs_error_t err = {0};
    const rs_opencl_opts_t o = {.subchunk_bytes = sub};
    rs_opencl_t *h = rs_opencl_open(di->platform, di->device, &o, &err);
    cr_assert(h != NULL, "opencl:%u:%u: %s", di->platform, di->device, err.msg);
    if (!rs_opencl_usable(h)) {
        rs_strlist_t w = {0};
        rs_opencl_take_warnings(h, &w);
        cr_assert_fail("opencl:%u:%u (%s): not usable: %s; %s", di->platform, di->device, di->device_name,
                       rs_opencl_info(h)->status, w.n ? w.s[0] : "");
    }
    return h;
}

typedef struct out {
    rs_tokens_t t;
} out_t;

/* An output with exactly the documented capacity for a prefix of plen
 * bytes and a text of len bytes. */
static void out_init(out_t *o, size_t plen, size_t len)
{
    memset(o, 0, sizeof *o);
    const size_t cap = plen + len;
    o->t.tok = malloc((cap ? cap : 1) * sizeof *o->t.tok);
    o->t.fold = malloc(cap ? 2 * cap : 1);
    cr_assert(o->t.tok && o->t.fold, "out of memory");
    o->t.tok_cap = cap;
    o->t.fold_cap = 2 * cap;
}

static void out_free(out_t *o)
{
    free(o->t.tok);
    free(o->t.fold);
}

static const char rs_prefix[] = "Earlier TOKENS \xC3\x89t\xC3\xA9 ";

/* Tokenizes a prefix then text with both backends and compares all of it.
 * Returns 1 when equal; else reports (with label) and returns 0. */
static int compare(rs_opencl_t *h, const uint8_t *text, size_t len, const char *label)
{
    const size_t plen = sizeof rs_prefix - 1;
    out_t a, b;
    out_init(&a, plen, len);
    out_init(&b, plen, len);
    rs_scalar_tokenize((const uint8_t *)rs_prefix, plen, &a.t);
    rs_scalar_tokenize(text, len, &a.t);
    rs_opencl_tokenize(h, (const uint8_t *)rs_prefix, plen, &b.t);
    rs_opencl_tokenize(h, text, len, &b.t);
    int ok = 1;
    if (a.t.n != b.t.n || a.t.fold_len != b.t.fold_len || a.t.invalid_bytes != b.t.invalid_bytes) {
        cr_expect_fail("%s: scalar %zu tokens, %zu fold bytes, %llu invalid; device %zu, %zu, %llu", label, a.t.n,
                       a.t.fold_len, (unsigned long long)a.t.invalid_bytes, b.t.n, b.t.fold_len,
                       (unsigned long long)b.t.invalid_bytes);
        ok = 0;
    } else if (memcmp(a.t.fold, b.t.fold, a.t.fold_len) != 0) {
        cr_expect_fail("%s: folded bytes differ", label);
        ok = 0;
    } else {
        for (size_t i = 0; i < a.t.n && ok; i++) {
            const rs_token_t *x = &a.t.tok[i], *y = &b.t.tok[i];
            if (x->off != y->off || x->len != y->len || x->hash != y->hash) {
                cr_expect_fail("%s: token %zu: scalar {%u, %u, %016llx} \"%.*s\", device {%u, %u, %016llx}", label, i,
                               x->off, x->len, (unsigned long long)x->hash, (int)x->len, (const char *)a.t.fold + x->off,
                               y->off, y->len, (unsigned long long)y->hash);
                ok = 0;
            }
        }
    }
    out_free(&a);
    out_free(&b);
    return ok;
}

static void expect_no_warnings(rs_opencl_t *h, const char *label)
{
    rs_strlist_t w = {0};
    rs_opencl_take_warnings(h, &w);
    cr_expect_eq(w.n, 0, "%s: unexpected warning: %s", label, w.n ? w.s[0] : "");
    rs_strlist_free(&w);
    const rs_opencl_counts_t c = rs_opencl_counts(h);
    cr_expect_eq(c.cpu_calls + c.short_calls, 0, "%s: %llu pieces ran on the CPU", label,
                 (unsigned long long)(c.cpu_calls + c.short_calls));
}

/* Random UTF-8 from characters of every Word_Break class the rules name,
 * white space included so that sub-chunk cuts occur. */
static size_t random_utf8(uint64_t *st, uint8_t *buf, size_t len)
{
    static const uint32_t cps[] = {
        'a',    'Z',    'k',    '7',    '0',     ' ',     ' ',     '\t',    '\n',    '\r',    '.',
        ',',    '\'',   '"',    ':',    ';',     '_',     '-',     '?',     0x00E9,  0x00C9,  0x0301,
        0x00AD, 0x200D, 0x200B, 0x05D0, 0x05D1,  0x30A2,  0x30FC,  0x4E00,  0x3042,  0x212A,  0x023A,
        0x1E9E, 0x03A3, 0x0130, 0xFF9E, 0x1F600, 0x1F3FB, 0x1F1E6, 0x1F1E8, 0x0660,  0x2019,  0x00A0,
        0x3000, 0x2028, 0x0085, 0x000B, 0x2060,  0xFE0F,  0x0E01,  0xFFFD,  0x10400, 0x1D7CE, 0x2764,
    };
    size_t n = 0;
    while (n + 4 <= len) {
        const uint32_t cp = cps[rng_next(st) % (sizeof cps / sizeof cps[0])];
        n += rs_utf8_encode(cp, buf + n);
    }
    while (n < len)
        buf[n++] = (uint8_t)(' ' + rng_next(st) % 90);
    return n;
}

/* ------------------------------------------------------------------ */
/* Discovery and the seams */

Test(opencl, every_device_builds)
{
    const devs_t d = need_devices();
    free(d.v);
    rs_opencl_devinfo_t *v = NULL;
    size_t n = 0;
    rs_error_t err = {0};
    cr_assert_eq(rs_opencl_devices(&v, &n, 1, &err), RS_OK, "%s", err.msg);
    for (size_t i = 0; i < n; i++) {
        cr_log_info("opencl:%u:%u %s (%s, %s): %u compute units, %llu MiB, near %s; kernels %s", v[i].platform,
                    v[i].device, v[i].device_name, v[i].platform_name, v[i].driver_version, v[i].compute_units,
                    (unsigned long long)(v[i].global_mem_bytes >> 20), v[i].near, v[i].status);
        cr_expect(strcmp(v[i].near, "all PUs") == 0 || strncmp(v[i].near, "PUs ", 4) == 0,
                  "opencl:%u:%u: locality \"%s\"", v[i].platform, v[i].device, v[i].near);
        cr_expect_eq(v[i].built, 1, "opencl:%u:%u (%s): %s", v[i].platform, v[i].device, v[i].device_name,
                     v[i].status);
    }
    free(v);
}

static void rm_rf(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0, "%s", cmd);
}

Test(opencl, binary_cache_is_written_then_used)
{
    const devs_t d = need_devices();
    char dir[] = "/tmp/rs_clcache_XXXXXX";
    cr_assert(mkdtemp(dir) != NULL);
    char sub[sizeof dir + 16];
    snprintf(sub, sizeof sub, "%s/a/b", dir); /* made on demand */
    const rs_opencl_opts_t o = {.cache_dir = sub};
    static const char text[] = "The Kelvin sign \xE2\x84\xAA folds; so does \xC8\xBA.";
    for (size_t i = 0; i < d.n; i++) {
        rs_error_t err = {0};
        rs_opencl_t *h = rs_opencl_open(d.v[i].platform, d.v[i].device, &o, &err);
        cr_assert(h && rs_opencl_usable(h), "%s", h ? rs_opencl_info(h)->status : err.msg);
        cr_expect_eq(rs_opencl_info(h)->from_cache, 0, "a fresh cache directory gave a cached binary");
        cr_expect_str_eq(rs_opencl_info(h)->status, "built");
        rs_opencl_close(h);
        h = rs_opencl_open(d.v[i].platform, d.v[i].device, &o, &err);
        cr_assert(h && rs_opencl_usable(h));
        cr_expect_eq(rs_opencl_info(h)->from_cache, 1, "the second open did not use the cache: %s",
                     rs_opencl_info(h)->status);
        compare(h, (const uint8_t *)text, sizeof text - 1, "cached binary");
        expect_no_warnings(h, "cached binary");
        rs_opencl_close(h);
    }
    /* a damaged entry is rebuilt, not trusted */
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "for f in '%s'/*.clbin; do head -c 40 \"$f\" > \"$f.x\" && mv \"$f.x\" \"$f\"; done", sub);
    cr_assert_eq(system(cmd), 0);
    rs_error_t err = {0};
    rs_opencl_t *h = rs_opencl_open(d.v[0].platform, d.v[0].device, &o, &err);
    cr_assert(h && rs_opencl_usable(h), "a damaged cache entry broke the open");
    cr_expect_eq(rs_opencl_info(h)->from_cache, 0);
    compare(h, (const uint8_t *)text, sizeof text - 1, "after a damaged cache entry");
    rs_opencl_close(h);
    rm_rf(dir);
    free(d.v);
}

Test(opencl, failed_build_runs_on_the_cpu_with_the_log)
{
    const devs_t d = need_devices();
    const rs_opencl_opts_t o = {.cache_dir = "", .build_options = "-DRS_FAULT_BUILD"};
    static const char text[] = "Nothing is lost: every word still counts.";
    rs_error_t err = {0};
    rs_opencl_t *h = rs_opencl_open(d.v[0].platform, d.v[0].device, &o, &err);
    cr_assert(h != NULL, "%s", err.msg);
    cr_expect_eq(rs_opencl_usable(h), 0);
    cr_expect_eq(rs_opencl_info(h)->built, 0);
    cr_expect(strstr(rs_opencl_info(h)->status, "build failed") != NULL, "status: %s", rs_opencl_info(h)->status);
    cr_expect(compare(h, (const uint8_t *)text, sizeof text - 1, "failed build"));
    rs_strlist_t w = {0};
    cr_assert_eq(rs_opencl_take_warnings(h, &w), RS_OK);
    cr_assert_eq(w.n, 1, "%zu warnings", w.n);
    cr_expect(strstr(w.s[0], "did not build") && strstr(w.s[0], "Build log") && strstr(w.s[0], "RS_FAULT_BUILD"),
              "warning: %s", w.s[0]);
    const rs_opencl_counts_t c = rs_opencl_counts(h);
    cr_expect(c.cpu_calls >= 2 && c.device_calls == 0);
    rs_strlist_free(&w);
    rs_opencl_close(h);
    free(d.v);
}

Test(opencl, kernel_fault_runs_on_the_cpu_with_a_warning)
{
    const devs_t d = need_devices();
    const rs_opencl_opts_t o = {.fault = 1};
    static const char text[] = "A fault on the device loses nothing: \xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82.";
    rs_error_t err = {0};
    rs_opencl_t *h = rs_opencl_open(d.v[0].platform, d.v[0].device, &o, &err);
    cr_assert(h && rs_opencl_usable(h), "%s", err.msg);
    cr_expect(compare(h, (const uint8_t *)text, sizeof text - 1, "kernel fault"));
    cr_expect_eq(rs_opencl_usable(h), 0, "the handle is still marked usable after a fault");
    rs_strlist_t w = {0};
    rs_opencl_take_warnings(h, &w);
    cr_assert_eq(w.n, 1, "%zu warnings", w.n);
    cr_expect(strstr(w.s[0], "fault") && strstr(w.s[0], "run on the CPU"), "warning: %s", w.s[0]);
    rs_strlist_free(&w);
    rs_opencl_close(h);
    free(d.v);
}

Test(opencl, short_texts_run_on_the_cpu)
{
    const devs_t d = need_devices();
    const rs_opencl_opts_t o = {.min_device_bytes = 100};
    rs_error_t err = {0};
    rs_opencl_t *h = rs_opencl_open(d.v[0].platform, d.v[0].device, &o, &err);
    cr_assert(h && rs_opencl_usable(h), "%s", err.msg);
    uint8_t buf[200];
    uint64_t st = 7;
    for (size_t len = 90; len < 110; len++) {
        random_utf8(&st, buf, len);
        cr_expect(compare(h, buf, len, "around min_device_bytes"));
    }
    const rs_opencl_counts_t c = rs_opencl_counts(h);
    /* the prefix (20 times) and lengths 90..99 are short; 100..109 go to
     * the device */
    cr_expect_eq(c.short_calls, 30, "%llu short", (unsigned long long)c.short_calls);
    cr_expect_eq(c.device_calls, 10, "%llu on the device", (unsigned long long)c.device_calls);
    cr_expect_eq(c.cpu_calls, 0);
    rs_opencl_close(h);
    free(d.v);
}

Test(opencl, kernels_select_finds_the_device)
{
    const devs_t d = need_devices();
    rs_opencl_register();
    const rs_kernels_t *k = rs_kernels_select("opencl");
    cr_assert(k != NULL, "rs_kernels_select(\"opencl\") found nothing");
    cr_expect(strncmp(k->name, "opencl:", 7) == 0, "name %s", k->name);
    rs_opencl_t *h = rs_opencl_of_kernels(k);
    cr_assert(h != NULL && rs_opencl_usable(h));
    char name[64];
    snprintf(name, sizeof name, "opencl:%u:%u", d.v[0].platform, d.v[0].device);
    const rs_kernels_t *k0 = rs_kernels_select(name);
    cr_expect(k0 != NULL && strcmp(k0->name, name) == 0);
    snprintf(name, sizeof name, "opencl:%u:%u+cpu", d.v[0].platform, d.v[0].device);
    const rs_kernels_t *kh = rs_kernels_select(name);
    cr_expect(kh != NULL && kh != k0, "hybrid table");
    const rs_kernels_t *ka = rs_kernels_select("auto+opencl");
    cr_expect(ka != NULL && strstr(ka->name, "+cpu") != NULL, "auto+opencl: %s", ka ? ka->name : "NULL");
    cr_expect_null(rs_kernels_select("opencl:99:0"));
    cr_expect_null(rs_kernels_select("opencl:0"));
    cr_expect_null(rs_kernels_select("openclx"));
    cr_expect_null(rs_kernels_select("opencl+gpu"));
    cr_expect_not_null(rs_kernels_select("scalar"));
    /* through the table, as host/scan.c calls it */
    static const char text[] = "Tables call the device: HELLO w\xC3\xB6rld, don't-stop 3.14";
    const size_t len = sizeof text - 1;
    out_t a, b;
    out_init(&a, 0, len);
    out_init(&b, 0, len);
    rs_scalar_tokenize((const uint8_t *)text, len, &a.t);
    kh->tokenize((const uint8_t *)text, len, &b.t);
    cr_expect(a.t.n == b.t.n && a.t.fold_len == b.t.fold_len && memcmp(a.t.fold, b.t.fold, a.t.fold_len) == 0);
    for (size_t i = 0; i < a.t.n && i < b.t.n; i++)
        cr_expect(a.t.tok[i].hash == b.t.tok[i].hash && a.t.tok[i].off == b.t.tok[i].off);
    out_free(&a);
    out_free(&b);
    rs_strlist_t w = {0};
    rs_opencl_take_warnings(NULL, &w);
    cr_expect_eq(w.n, 0, "%s", w.n ? w.s[0] : "");
    rs_strlist_free(&w);
    rs_opencl_shutdown();
    cr_expect_null(rs_opencl_of_kernels(k));
    free(d.v);
}

/* ------------------------------------------------------------------ */
/* WordBreakTest.txt */

Test(opencl, wordbreaktest_lines)
{
    const devs_t d = need_devices();
    FILE *f = fopen(RS_WORDBREAKTEST, "r");
    cr_assert(f != NULL, "cannot open %s: install unicode-data", RS_WORDBREAKTEST);
    /* all lines first, then each device */
    uint8_t(*texts)[1024] = malloc(4096 * sizeof *texts);
    size_t *lens = malloc(4096 * sizeof *lens), nt = 0;
    cr_assert(texts && lens);
    char line[4096];
    while (fgets(line, sizeof line, f) && nt < 4096) {
        const size_t len = rs_wordbreak_line(line, texts[nt], sizeof texts[0]);
        if (len)
            lens[nt++] = len;
    }
    fclose(f);
    cr_assert(nt > 1000, "only %zu test lines in %s", nt, RS_WORDBREAKTEST);
    for (size_t i = 0; i < d.n; i++) {
        const uint32_t subs[] = {0, 1, 5};
        for (size_t s = 0; s < sizeof subs / sizeof subs[0]; s++) {
            rs_opencl_t *h = open_dev(&d.v[i], subs[s]);
            size_t failed = 0;
            for (size_t k = 0; k < nt && failed < 10; k++) {
                char label[128];
                snprintf(label, sizeof label, "opencl:%u:%u sub %u: WordBreakTest line %zu", d.v[i].platform,
                         d.v[i].device, subs[s], k + 1);
                failed += !compare(h, texts[k], lens[k], label);
            }
            expect_no_warnings(h, "WordBreakTest");
            rs_opencl_close(h);
        }
    }
    free(texts);
    free(lens);
    free(d.v);
}

/* ------------------------------------------------------------------ */
/* Random inputs, every length */

Test(opencl, random_bytes_and_utf8_every_length)
{
    const devs_t d = need_devices();
    const uint64_t seed = 0x0C1DE5EEDULL;
    uint8_t buf[400];
    for (size_t i = 0; i < d.n; i++) {
        const uint32_t subs[] = {0, 1, 3, 16};
        for (size_t s = 0; s < sizeof subs / sizeof subs[0]; s++) {
            rs_opencl_t *h = open_dev(&d.v[i], subs[s]);
            uint64_t st = seed + subs[s];
            size_t failed = 0;
            for (size_t len = 0; len <= 400 && failed < 5; len++) {
                char label[160];
                for (size_t k = 0; k < len; k++) /* random bytes, biased to ASCII and spaces */
                    buf[k] = rng_next(&st) % 3 == 0 ? (uint8_t)" \ta.\n'"[rng_next(&st) % 6] : (uint8_t)rng_next(&st);
                snprintf(label, sizeof label, "opencl:%u:%u sub %u seed %#llx: random bytes, length %zu",
                         d.v[i].platform, d.v[i].device, subs[s], (unsigned long long)seed, len);
                failed += !compare(h, buf, len, label);
                random_utf8(&st, buf, len);
                snprintf(label, sizeof label, "opencl:%u:%u sub %u seed %#llx: random UTF-8, length %zu",
                         d.v[i].platform, d.v[i].device, subs[s], (unsigned long long)seed, len);
                failed += !compare(h, buf, len, label);
            }
            expect_no_warnings(h, "random");
            rs_opencl_close(h);
        }
    }
    free(d.v);
}

/* ------------------------------------------------------------------ */
/* Join rules placed on sub-chunk edges */

Test(opencl, join_rules_around_subchunk_edges)
{
    const devs_t d = need_devices();
    /* each joins (or must not join) across where a cut might be tried */
    static const char *const frags[] = {
        "can't",  "3.14",  "1,000.5",     "e.g.",  "x86_64", "a\xCC\x81" "b", "\r\n",    " \t ",  "  a",
        "\t\tb",  "\n\nc", " \xC2\xAD" "d", "\xE2\x80\x8D\xF0\x9F\x98\x80", "\xF0\x9F\x87\xA6\xF0\x9F\x87\xA8\xF0\x9F\x87\xA6",
        "\xD7\x90\"\xD7\x91", "\xD7\x90'",  "\xE3\x82\xA2\xE3\x83\xBC\xE3\x82\xA2", "a_b", "_\xE3\x82\xA2",
        "\xFF" "a", "\xE2\x82" "A",  "\xF0\x9F\x98", "a \xCC\x81", " \xE2\x80\x8D ", "1'2", "A.B.", "\xE2\x84\xAA" "K",
    };
    static const char *const fills[] = {" ", "x", " x", "\t", "\n", "a ", ". "};
    for (size_t i = 0; i < d.n; i++) {
        const uint32_t subs[] = {1, 2, 4, 8};
        for (size_t s = 0; s < sizeof subs / sizeof subs[0]; s++) {
            rs_opencl_t *h = open_dev(&d.v[i], subs[s]);
            size_t failed = 0;
            for (size_t fi = 0; fi < sizeof frags / sizeof frags[0]; fi++)
                for (size_t fl = 0; fl < sizeof fills / sizeof fills[0]; fl++)
                    for (size_t off = 0; off <= 2 * subs[s] + 2 && failed < 5; off++) {
                        uint8_t buf[256];
                        size_t n = 0;
                        const size_t fll = strlen(fills[fl]);
                        while (n < off) /* the fill, cut to length off */
                            buf[n] = (uint8_t)fills[fl][n % fll], n++;
                        memcpy(buf + n, frags[fi], strlen(frags[fi]));
                        n += strlen(frags[fi]);
                        memcpy(buf + n, frags[fi], strlen(frags[fi])); /* twice: edges inside too */
                        n += strlen(frags[fi]);
                        buf[n++] = ' ';
                        buf[n++] = 'z';
                        char label[200];
                        snprintf(label, sizeof label, "opencl:%u:%u sub %u: fragment %zu after %zu bytes of fill %zu",
                                 d.v[i].platform, d.v[i].device, subs[s], fi, off, fl);
                        failed += !compare(h, buf, n, label);
                    }
            expect_no_warnings(h, "edges");
            rs_opencl_close(h);
        }
    }
    free(d.v);
}

/* ------------------------------------------------------------------ */
/* Longer than a device window */

Test(opencl, texts_longer_than_a_window)
{
    const devs_t d = need_devices();
    const size_t len = 2 * (size_t)RS_OPENCL_WINDOW + 12345;
    uint8_t *buf = malloc(len);
    cr_assert(buf);
    uint64_t st = 42;
    random_utf8(&st, buf, len);
    /* a stretch of more than a window with no safe cut in the middle */
    uint8_t *nospace = malloc(len);
    cr_assert(nospace);
    for (size_t k = 0; k < len; k++)
        nospace[k] = (uint8_t)("ab\xC3\xA9" "c"[k % 4]);
    memcpy(nospace, "start here ", 11);
    memcpy(nospace + len - 10, " then end", 9);
    nospace[len - 1] = '\n';
    for (size_t i = 0; i < d.n; i++) {
        rs_opencl_t *h = open_dev(&d.v[i], 0);
        cr_expect(compare(h, buf, len, "random UTF-8 over two windows"));
        expect_no_warnings(h, "long");
        cr_expect(compare(h, nospace, len, "no safe cut for more than a window"));
        const rs_opencl_counts_t c = rs_opencl_counts(h);
        cr_expect(c.cpu_calls >= 1, "the stretch without a safe cut should have run on the CPU");
        rs_strlist_t w = {0};
        rs_opencl_take_warnings(h, &w);
        cr_expect_eq(w.n, 0, "a long stretch without a cut is not a fault: %s", w.n ? w.s[0] : "");
        rs_strlist_free(&w);
        cr_expect(rs_opencl_usable(h));
        rs_opencl_close(h);
    }
    free(buf);
    free(nospace);
    free(d.v);
}

/* ------------------------------------------------------------------ */
/* Concurrent callers share one handle */

typedef struct thr {
    rs_opencl_t *h;
    uint64_t seed;
    int ok;
} thr_t;

static void *thr_run(void *arg)
{
    thr_t *t = arg;
    static uint8_t bufs[4][70000];
    uint8_t *buf = bufs[t->seed % 4];
    uint64_t st = t->seed;
    t->ok = 1;
    for (int r = 0; r < 20; r++) {
        const size_t len = 1000 + rng_next(&st) % 69000;
        random_utf8(&st, buf, len);
        /* compare() uses cr_expect, which is safe from threads in Criterion's worker */
        t->ok &= compare(t->h, buf, len, "concurrent caller");
    }
    return NULL;
}

Test(opencl, concurrent_callers)
{
    const devs_t d = need_devices();
    for (int hybrid = 0; hybrid <= 1; hybrid++) {
        rs_error_t err = {0};
        const rs_opencl_opts_t o = {.subchunk_bytes = 512, .hybrid = hybrid};
        rs_opencl_t *h = rs_opencl_open(d.v[0].platform, d.v[0].device, &o, &err);
        cr_assert(h && rs_opencl_usable(h), "%s", err.msg);
        pthread_t th[4];
        thr_t t[4];
        for (int i = 0; i < 4; i++) {
            t[i] = (thr_t){h, (uint64_t)i + 100, 0};
            cr_assert_eq(pthread_create(&th[i], NULL, thr_run, &t[i]), 0);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join(th[i], NULL);
            cr_expect(t[i].ok, "thread %d, hybrid %d", i, hybrid);
        }
        const rs_opencl_counts_t c = rs_opencl_counts(h);
        cr_expect(c.device_calls > 0, "hybrid %d: nothing ran on the device", hybrid);
        if (!hybrid)
            cr_expect_eq(c.cpu_calls, 0);
        rs_strlist_t w = {0};
        rs_opencl_take_warnings(h, &w);
        cr_expect_eq(w.n, 0, "hybrid %d: %s", hybrid, w.n ? w.s[0] : "");
        rs_strlist_free(&w);
        rs_opencl_close(h);
    }
    free(d.v);
}

/* ------------------------------------------------------------------ */
/* The podcast corpus */

typedef struct walk {
    rs_opencl_t *h;
    size_t files, bytes, failed;
} walk_t;

static void walk_dir(walk_t *w, const char *dir)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return;
    for (struct dirent *e; (e = readdir(dp)) && w->failed < 5;) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            walk_dir(w, path);
            continue;
        }
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        uint8_t *buf = malloc((size_t)st.st_size + 1);
        cr_assert(buf);
        const size_t n = fread(buf, 1, (size_t)st.st_size, f);
        fclose(f);
        w->failed += !compare(w->h, buf, n, path);
        w->files++;
        w->bytes += n;
        free(buf);
    }
    closedir(dp);
}

Test(opencl, corpus_files, .timeout = 1200)
{
    const devs_t d = need_devices();
    const char *dir = getenv("RS_CORPUS_DIR");
    char tmp[] = "/tmp/rs_clcorpus_XXXXXX";
    int made = 0;
    if (!dir || !*dir) {
        const char *tarball = RS_SOURCE_DIR "/../shared/corpora/changelog-transcripts.tar.zst";
        if (access(tarball, R_OK) != 0)
            cr_skip_test("%s not present (and RS_CORPUS_DIR not set): the corpus check did not run", tarball);
        cr_assert(mkdtemp(tmp) != NULL);
        char cmd[8192];
        snprintf(cmd, sizeof cmd, "tar --zstd -xf '%s' -C '%s'", tarball, tmp);
        cr_assert_eq(system(cmd), 0, "%s", cmd);
        dir = tmp;
        made = 1;
    }
    for (size_t i = 0; i < d.n; i++) {
        walk_t w = {open_dev(&d.v[i], 0), 0, 0, 0};
        walk_dir(&w, dir);
        cr_log_info("opencl:%u:%u: %zu corpus files, %zu bytes, %zu differ", d.v[i].platform, d.v[i].device, w.files,
                    w.bytes, w.failed);
        cr_expect(w.files > 0, "no files under %s", dir);
        cr_expect_eq(w.failed, 0);
        expect_no_warnings(w.h, "corpus");
        rs_opencl_close(w.h);
    }
    if (made)
        rm_rf(tmp);
    free(d.v);
}
