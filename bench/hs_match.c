/*
 * hs_match.c - a small Hyperscan harness for the peer benchmark
 * (bench/peers.sh): counts the occurrences of a list of fixed phrases as
 * whole words, case-insensitively, in a set of files.
 *
 *   hs_match [--per-pattern OUT] PATTERNS PATH...
 *
 * PATTERNS has one phrase a line. Each becomes the expression
 * \b<phrase>\b (every byte that is not an ASCII letter or digit escaped as
 * \xHH), compiled with HS_FLAG_CASELESS into one block-mode database. Word
 * boundaries are therefore ASCII ones (\w = [A-Za-z0-9_]): Hyperscan does
 * not support \b with HS_FLAG_UCP, so next to a non-ASCII letter ("café")
 * it sees a boundary where rg, grep and rostrum see none. A PATH is a file or a directory, walked recursively
 * (hidden entries skipped) for *.md, *.txt, *.markdown and *.text files;
 * each file is read whole and scanned as one block. Hyperscan reports every
 * match of every pattern, so overlapping matches of different patterns all
 * count; a single pattern's matches of a whole word cannot overlap.
 *
 * Prints "matches<TAB>files<TAB>bytes<TAB>compile_seconds<TAB>scan_seconds";
 * --per-pattern writes "count<TAB>pattern" lines in pattern order.
 * Single-threaded. Exit status: 0, 2 usage or unreadable input, 3 Hyperscan
 * errors.
 */
#define _GNU_SOURCE /* nftw with FTW_ACTIONRETVAL */
#include <ftw.h>
#include <hs/hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

static char **files;
static size_t nfiles, capfiles;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int want(const char *path)
{
    static const char *const exts[] = {".md", ".txt", ".markdown", ".text"};
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/'))
        return 0;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (strcasecmp(dot, exts[i]) == 0)
            return 1;
    return 0;
}

static void add_file(const char *p)
{
    if (nfiles == capfiles) {
        capfiles = capfiles ? capfiles * 2 : 256;
        files = realloc(files, capfiles * sizeof *files);
        if (!files)
            exit(3);
    }
    files[nfiles++] = strdup(p);
}

static int walk_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    const char *base = path + ftw->base;
    if (ftw->level > 0 && base[0] == '.')
        return type == FTW_D ? FTW_SKIP_SUBTREE : FTW_CONTINUE;
    if (type == FTW_F && want(path))
        add_file(path);
    return FTW_CONTINUE;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    for (size_t r; b && (r = fread(b + n, 1, cap - n, f)) > 0;) {
        n += r;
        if (n == cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb)
                free(b);
            b = nb;
        }
    }
    fclose(f);
    *len = n;
    return b;
}

typedef struct counts {
    unsigned long long total;
    unsigned long long *per;
} counts_t;

static int on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags, void *ctx)
{
    (void)from;
    (void)to;
    (void)flags;
    counts_t *c = ctx;
    c->total++;
    c->per[id]++;
    return 0;
}

int main(int argc, char **argv)
{
    int a = 1;
    const char *per_out = NULL;
    for (; a < argc && argv[a][0] == '-'; a++) {
        if (strcmp(argv[a], "--per-pattern") == 0 && a + 1 < argc)
            per_out = argv[++a];
        else
            break;
    }
    if (argc - a < 2) {
        fputs("usage: hs_match [--per-pattern OUT] PATTERNS PATH...\n", stderr);
        return 2;
    }
    size_t plen;
    char *ptext = read_all(argv[a], &plen);
    if (!ptext) {
        perror(argv[a]);
        return 2;
    }
    /* patterns -> expressions */
    size_t npat = 0;
    char **pats = NULL, **expr = NULL;
    for (char *save = NULL, *line = strtok_r(ptext, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r')
            line[--l] = 0;
        if (!l)
            continue;
        pats = realloc(pats, (npat + 1) * sizeof *pats);
        expr = realloc(expr, (npat + 1) * sizeof *expr);
        char *e = malloc(4 * l + 8);
        if (!pats || !expr || !e)
            return 3;
        size_t k = 0;
        k += (size_t)sprintf(e + k, "\\b");
        for (size_t i = 0; i < l; i++) {
            const unsigned char ch = (unsigned char)line[i];
            if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
                e[k++] = (char)ch;
            else
                k += (size_t)sprintf(e + k, "\\x%02x", ch);
        }
        k += (size_t)sprintf(e + k, "\\b");
        e[k] = 0;
        pats[npat] = line;
        expr[npat] = e;
        npat++;
    }
    unsigned *flags = malloc((npat + 1) * sizeof *flags), *ids = malloc((npat + 1) * sizeof *ids);
    if (!flags || !ids)
        return 3;
    for (size_t i = 0; i < npat; i++) {
        flags[i] = HS_FLAG_CASELESS;
        ids[i] = (unsigned)i;
    }
    const double t0 = now();
    hs_database_t *db = NULL;
    hs_compile_error_t *cerr = NULL;
    if (hs_compile_multi((const char *const *)expr, flags, ids, (unsigned)npat, HS_MODE_BLOCK, NULL, &db, &cerr)
        != HS_SUCCESS) {
        fprintf(stderr, "hs_match: compile failed (pattern %d): %s\n", cerr ? cerr->expression : -1,
                cerr ? cerr->message : "?");
        return 3;
    }
    const double t1 = now();
    hs_scratch_t *scratch = NULL;
    if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS) {
        fputs("hs_match: cannot allocate scratch\n", stderr);
        return 3;
    }
    for (int i = a + 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 2;
        }
        if (S_ISDIR(st.st_mode)) {
            const size_t before = nfiles;
            if (nftw(argv[i], walk_cb, 32, FTW_PHYS | FTW_ACTIONRETVAL) != 0) {
                perror(argv[i]);
                return 2;
            }
            qsort(files + before, nfiles - before, sizeof *files, cmp_str);
        } else {
            add_file(argv[i]);
        }
    }
    counts_t c = {0, calloc(npat + 1, sizeof *c.per)};
    if (!c.per)
        return 3;
    unsigned long long bytes = 0;
    for (size_t i = 0; i < nfiles; i++) {
        size_t len;
        char *buf = read_all(files[i], &len);
        if (!buf) {
            perror(files[i]);
            return 2;
        }
        if (hs_scan(db, buf, (unsigned)len, 0, scratch, on_match, &c) != HS_SUCCESS) {
            fprintf(stderr, "hs_match: scan failed on %s\n", files[i]);
            return 3;
        }
        bytes += len;
        free(buf);
    }
    const double t2 = now();
    printf("%llu\t%zu\t%llu\t%.3f\t%.3f\n", c.total, nfiles, bytes, t1 - t0, t2 - t1);
    if (per_out) {
        FILE *f = fopen(per_out, "w");
        if (!f) {
            perror(per_out);
            return 2;
        }
        for (size_t i = 0; i < npat; i++)
            fprintf(f, "%llu\t%s\n", c.per[i], pats[i]);
        fclose(f);
    }
    hs_free_scratch(scratch);
    hs_free_database(db);
    return 0;
}
