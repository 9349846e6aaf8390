/*
 * opencl_bench.c - tokenize throughput of the OpenCL backend against the
 * CPU kernel tables on the same input (bench/RESULTS.md, "OpenCL").
 *
 *   rs_opencl_bench [--device P:D] [--sub BYTES] [--piece BYTES] [--runs N]
 *                   [--threads N] [--window BYTES] [--lexicon FILE] PATH...
 *
 * Reads the files (directories walked, *.md and *.txt) into one buffer, one
 * document after another, and measures, each as the best of --runs timed
 * runs after an untimed warm-up:
 *   cpu-1t, cpu-Nt     the best CPU table ("auto") and scalar, on pieces of
 *                      --piece bytes cut at safe cuts, on 1 and N threads;
 *   kernel             the three device kernels with the text already on the
 *                      device, window by window (--window bytes, default
 *                      RS_OPENCL_WINDOW; a GPU needs larger ones to amortise
 *                      its launches), nothing read back but the totals
 *                      (rs_opencl_bench_kernels); then with the three
 *                      term-numbering kernels after them; then with the
 *                      counting kernels too (tokenize_terms_count.cl);
 *                      with --lexicon, then with its matching too
 *                      (tokenize_terms_match.cl);
 *   e2e-1t, e2e-Nt     rs_opencl_tokenize on the same pieces: upload,
 *                      kernels, read-back into rs_tokens_t, on 1 and N
 *                      threads (the handle's lanes overlap them).
 * Before any figure is printed, each backend's tokens are checked against
 * the scalar reference (count, folded bytes, invalid bytes and an order-
 * dependent checksum of the hashes); a mismatch exits 1.
 * One process, one thread per worker; prints a table to stdout.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "kernels.h" /* rs_kernels_select, rs_safe_cut */
#include "lexicon.h" /* rs_lexicon_load: --lexicon */
#include "matcher.h" /* rs_matcher_build */
#include "opencl.h"  /* rs_opencl_* */
#include "unicode.h" /* rs_scalar_tokenize */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf_t;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    fprintf(stderr, "rs_opencl_bench: %s\n", what);
    exit(2);
}

static void buf_add_file(buf_t *b, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    for (;;) {
        if (b->cap - b->n < (1u << 16)) {
            b->cap = b->cap ? b->cap * 2 : 1u << 24;
            b->p = realloc(b->p, b->cap);
            if (!b->p)
                die("out of memory");
        }
        const size_t got = fread(b->p + b->n, 1, b->cap - b->n, f);
        if (got == 0)
            break;
        b->n += got;
    }
    fclose(f);
    if (b->n && b->p[b->n - 1] != '\n')
        b->p[b->n++] = '\n'; /* the next document starts at a safe cut */
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void buf_add_path(buf_t *b, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        const char *dot = strrchr(path, '.');
        if (dot && (strcmp(dot, ".md") == 0 || strcmp(dot, ".txt") == 0))
            buf_add_file(b, path);
        return;
    }
    DIR *d = opendir(path);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        names = realloc(names, (n + 1) * sizeof *names);
        if (!names || asprintf(&names[n], "%s/%s", path, e->d_name) < 0)
            die("out of memory");
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str); /* the same order every time */
    for (size_t i = 0; i < n; i++) {
        buf_add_path(b, names[i]);
        free(names[i]);
    }
    free(names);
}

/* Pieces of at most piece bytes cut at safe cuts (as host/scan.c cuts). */
typedef struct pieces {
    size_t *off; /* n + 1 offsets */
    size_t n;
} pieces_t;

static pieces_t cut_pieces(const uint8_t *s, size_t len, size_t piece)
{
    pieces_t p = {malloc((len / 16 + 2) * sizeof(size_t)), 0};
    if (!p.off)
        die("out of memory");
    size_t pos = 0;
    p.off[0] = 0;
    while (pos < len) {
        size_t end = len;
        if (len - pos > piece) {
            size_t cut = rs_safe_cut(s + pos, piece + 1);
            if (cut == 0) {
                cut = piece;
                while (cut > 1 && (s[pos + cut] & 0xC0) == 0x80)
                    cut--;
            }
            end = pos + cut;
        }
        p.off[++p.n] = end;
        pos = end;
    }
    return p;
}

/* What a run produced, to check against the reference. */
typedef struct digest {
    uint64_t tokens, fold_bytes, invalid, sum;
} digest_t;

typedef struct job {
    const uint8_t *s;
    const pieces_t *pc;
    size_t first, last; /* pieces [first, last) */
    rs_tokenize_fn fn;
    rs_opencl_t *h;
    uint64_t *piece_sum; /* per piece, so that any split digests alike */
    digest_t d;
} job_t;

static void *job_run(void *arg)
{
    job_t *j = arg;
    size_t maxp = 0;
    for (size_t i = j->first; i < j->last; i++)
        if (j->pc->off[i + 1] - j->pc->off[i] > maxp)
            maxp = j->pc->off[i + 1] - j->pc->off[i];
    rs_tokens_t t = {0};
    t.tok = malloc((maxp + 1) * sizeof *t.tok);
    t.fold = malloc(2 * maxp + 8);
    if (!t.tok || !t.fold)
        die("out of memory");
    t.tok_cap = maxp + 1;
    t.fold_cap = 2 * maxp + 8;
    digest_t d = {0, 0, 0, 0};
    for (size_t i = j->first; i < j->last; i++) {
        t.n = 0;
        t.fold_len = 0;
        t.invalid_bytes = 0;
        const size_t a = j->pc->off[i], n = j->pc->off[i + 1] - a;
        if (j->h)
            rs_opencl_tokenize(j->h, j->s + a, n, &t);
        else
            j->fn(j->s + a, n, &t);
        d.tokens += t.n;
        d.fold_bytes += t.fold_len;
        d.invalid += t.invalid_bytes;
        uint64_t sum = 0;
        for (size_t k = 0; k < t.n; k++)
            sum = sum * 31 + t.tok[k].hash + t.tok[k].len;
        j->piece_sum[i] = sum;
    }
    free(t.tok);
    free(t.fold);
    j->d = d;
    return NULL;
}

/* One timed run on nthreads threads, each taking a contiguous share of the
 * pieces; the digest chains the pieces' checksums in order. Returns
 * seconds. */
static double run_once(const uint8_t *s, const pieces_t *pc, unsigned nthreads, rs_tokenize_fn fn, rs_opencl_t *h,
                       digest_t *out)
{
    job_t jobs[64];
    pthread_t th[64];
    if (nthreads > 64)
        nthreads = 64;
    uint64_t *sums = calloc(pc->n + 1, sizeof *sums);
    if (!sums)
        die("out of memory");
    for (unsigned i = 0; i < nthreads; i++)
        jobs[i] = (job_t){s, pc, pc->n * i / nthreads, pc->n * (i + 1) / nthreads, fn, h, sums, {0, 0, 0, 0}};
    const double t0 = now();
    for (unsigned i = 1; i < nthreads; i++)
        if (pthread_create(&th[i], NULL, job_run, &jobs[i]) != 0)
            die("pthread_create");
    job_run(&jobs[0]);
    for (unsigned i = 1; i < nthreads; i++)
        pthread_join(th[i], NULL);
    const double t = now() - t0;
    digest_t d = {0, 0, 0, 0};
    for (unsigned i = 0; i < nthreads; i++) {
        d.tokens += jobs[i].d.tokens;
        d.fold_bytes += jobs[i].d.fold_bytes;
        d.invalid += jobs[i].d.invalid;
    }
    for (size_t i = 0; i < pc->n; i++)
        d.sum = d.sum * 1000003 + sums[i];
    free(sums);
    *out = d;
    return t;
}

static int same(const digest_t *a, const digest_t *b)
{
    return a->tokens == b->tokens && a->fold_bytes == b->fold_bytes && a->invalid == b->invalid && a->sum == b->sum;
}

/* Best of runs timed runs after one warm-up; checks every run. */
static double best_of(const char *label, const uint8_t *s, const pieces_t *pc, unsigned nthreads, rs_tokenize_fn fn,
                      rs_opencl_t *h, unsigned runs, const digest_t *ref)
{
    digest_t d;
    double best = 1e30;
    for (unsigned r = 0; r <= runs; r++) {
        const double t = run_once(s, pc, nthreads, fn, h, &d);
        if (!same(&d, ref)) {
            fprintf(stderr, "rs_opencl_bench: %s: output differs from the scalar reference (tokens %llu vs %llu)\n",
                    label, (unsigned long long)d.tokens, (unsigned long long)ref->tokens);
            exit(1);
        }
        if (r > 0 && t < best)
            best = t;
    }
    return best;
}

static void row(const char *label, size_t bytes, double sec)
{
    printf("%-32s %10.4f s %10.1f MB/s\n", label, sec, (double)bytes / sec / 1e6);
}

int main(int argc, char **argv)
{
    unsigned p = 0, d = 0, runs = 5, threads = 2;
    const char *lexicon = NULL;
    uint32_t sub = 0, window = RS_OPENCL_WINDOW;
    size_t piece = 1u << 20;
    buf_t b = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) {
            if (sscanf(argv[++i], "%u:%u", &p, &d) != 2)
                die("--device P:D");
        } else if (strcmp(argv[i], "--sub") == 0 && i + 1 < argc) {
            sub = (uint32_t)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--window") == 0 && i + 1 < argc) {
            window = (uint32_t)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--piece") == 0 && i + 1 < argc) {
            piece = strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--lexicon") == 0 && i + 1 < argc) {
            lexicon = argv[++i];
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            threads = (unsigned)strtoul(argv[++i], NULL, 10);
        } else {
            buf_add_path(&b, argv[i]);
        }
    }
    if (b.n == 0)
        die("no input (give files or directories of .md/.txt)");
    if (piece == 0 || piece > window || runs == 0 || threads == 0 || window < 4096 || window >= (1u << 30))
        die("bad --piece, --window, --runs or --threads");

    rs_error_t err = {0};
    /* terms and count: for the "kernels + terms" and "+ count" rows */
    const rs_opencl_opts_t o = {.subchunk_bytes = sub, .terms = 1, .count = 1, .window_bytes = window};
    rs_opencl_t *h = rs_opencl_open(p, d, &o, &err);
    if (!h)
        die(err.msg);
    const rs_opencl_devinfo_t *info = rs_opencl_info(h);
    if (!rs_opencl_usable(h)) {
        rs_strlist_t w = {0};
        rs_opencl_take_warnings(h, &w);
        for (size_t i = 0; i < w.n; i++)
            fprintf(stderr, "%s\n", w.s[i]);
        die("the device is not usable");
    }
    const rs_kernels_t *cpu = rs_kernels_select(NULL);
    printf("input: %zu bytes; pieces of %zu bytes; best of %u runs after a warm-up\n", b.n, piece, runs);
    printf("device: opencl:%u:%u %s (%s, %s; driver %s; %u compute units); kernels %s\n", p, d, info->device_name,
           info->platform_name, info->device_version, info->driver_version, info->compute_units, info->status);
    printf("cpu table: %s\n", cpu->name);

    const pieces_t pc = cut_pieces(b.p, b.n, piece);
    digest_t ref;
    run_once(b.p, &pc, 1, rs_scalar_tokenize, NULL, &ref);
    printf("tokens: %llu, folded bytes: %llu, invalid bytes: %llu\n", (unsigned long long)ref.tokens,
           (unsigned long long)ref.fold_bytes, (unsigned long long)ref.invalid);

    char label[64];
    row("scalar 1 thread", b.n, best_of("scalar", b.p, &pc, 1, rs_scalar_tokenize, NULL, runs, &ref));
    snprintf(label, sizeof label, "scalar %u threads", threads);
    row(label, b.n, best_of(label, b.p, &pc, threads, rs_scalar_tokenize, NULL, runs, &ref));
    if (cpu->tokenize != rs_scalar_tokenize) {
        snprintf(label, sizeof label, "%s 1 thread", cpu->name);
        row(label, b.n, best_of(label, b.p, &pc, 1, cpu->tokenize, NULL, runs, &ref));
        snprintf(label, sizeof label, "%s %u threads", cpu->name, threads);
        row(label, b.n, best_of(label, b.p, &pc, threads, cpu->tokenize, NULL, runs, &ref));
    }

    /* kernels only: windows of --window bytes, each uploaded once; then
     * with the term numbering (tokenize_terms.cl) after them, then with the
     * counting too (tokenize_terms_count.cl: each window one span) */
    const pieces_t win = cut_pieces(b.p, b.n, window);
    rs_lexicon_t lx = {0};
    rs_matcher_t m = {0};
    if (lexicon && (rs_lexicon_load(&lx, lexicon, RS_LEXFMT_AUTO, &err) != RS_OK || rs_matcher_build(&m, &lx) != RS_OK))
        die(err.msg[0] ? err.msg : "--lexicon: out of memory");
    const rs_matcher_t *const lex[2] = {&m, NULL};
    for (int terms = 0; terms <= (lexicon ? 3 : 2); terms++) {
        double kbest = 1e30;
        for (unsigned r = 0; r < runs; r++) {
            double total = 0;
            uint64_t toks = 0;
            for (size_t i = 0; i < win.n; i++) {
                double sec = 0;
                uint64_t t = 0;
                if (rs_opencl_bench_kernels(h, b.p + win.off[i], win.off[i + 1] - win.off[i], 1, terms, lex, &sec,
                                            &t, &err)
                    != RS_OK)
                    die(err.msg);
                total += sec;
                toks += t;
            }
            if (toks != ref.tokens)
                die("kernel-only run: token count differs from the scalar reference");
            if (total < kbest)
                kbest = total;
        }
        static const char *const names[4] = {"opencl kernels only", "opencl kernels + terms",
                                              "opencl kernels + terms + count", "opencl kernels + count + match"};
        row(names[terms], b.n, kbest);
    }

    row("opencl end to end 1 thread", b.n, best_of("opencl 1", b.p, &pc, 1, NULL, h, runs, &ref));
    snprintf(label, sizeof label, "opencl end to end %u thr", threads);
    row(label, b.n, best_of(label, b.p, &pc, threads, NULL, h, runs, &ref));
    const rs_opencl_counts_t c = rs_opencl_counts(h);
    printf("device pieces: %llu (%llu bytes); CPU pieces: %llu (%llu bytes)\n", (unsigned long long)c.device_calls,
           (unsigned long long)c.device_bytes, (unsigned long long)(c.cpu_calls + c.short_calls),
           (unsigned long long)(c.cpu_bytes + c.short_bytes));
    if (c.cpu_calls + c.short_calls) {
        fprintf(stderr, "rs_opencl_bench: some pieces ran on the CPU: the end-to-end figures are not the device's\n");
        return 1;
    }
    rs_matcher_free(&m);
    rs_lexicon_free(&lx);
    free(pc.off);
    free(win.off);
    free(b.p);
    rs_opencl_close(h);
    return 0;
}
