/*
 * main.c - the rostrum command: argument parsing and talking to the user.
 * Everything else is in librostrum (host/, kernels/).
 *
 *   rostrum scan [options] PATH...   statistics about speakers and topics
 *   rostrum devices                  backends this machine can run
 *   rostrum version
 *
 * Exit status: 0 success, 1 some inputs were skipped, 2 usage or lexicon
 * errors (nothing scanned), 3 other failures.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rostrum.h"

#define RS_EXIT_OK 0
#define RS_EXIT_SKIPPED 1
#define RS_EXIT_USAGE 2
#define RS_EXIT_FAIL 3

static void usage(FILE *f)
{
    fputs("usage: rostrum scan [options] PATH...\n"
          "       rostrum devices\n"
          "       rostrum version\n"
          "\n"
          "scan options:\n"
          "  --format F            plain, caption, labeled, markdown (default: detected per document)\n"
          "  --topics FILE         topics lexicon (quanteda YAML, LIWC .dic, Lexicoder .lc3, TSV); repeatable\n"
          "  --entities FILE       named entities lexicon: key = canonical name, patterns = spellings; repeatable\n"
          "  --top N               rows of top terms, bigrams and table lists (default 20)\n"
          "  --json FILE           write the JSON report (docs/report.md); '-' for stdout\n"
          "  --csv DIR             write one tidy CSV table per section into DIR\n"
          "  --quiet               no summary table on stdout\n"
          "  --backend NAME        kernel backend (default auto; env ROSTRUM_BACKEND); see rostrum devices\n"
          "  --headings FILE       non-speaker headings, one per line (replaces the built-in list)\n"
          "  --ext LIST            extensions taken from directories (default " RS_DEFAULT_EXTS "; '*' for all)\n"
          "  --max-document-size N skip documents larger than N bytes (K, M, G suffixes; default 1G)\n"
          "PATH is a file, a directory (walked recursively) or '-' for stdin.\n",
          f);
}

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    uint64_t mul = 1;
    if (*end == 'K' || *end == 'k')
        mul = 1ull << 10, end++;
    else if (*end == 'M' || *end == 'm')
        mul = 1ull << 20, end++;
    else if (*end == 'G' || *end == 'g')
        mul = 1ull << 30, end++;
    if (*end)
        return -1;
    *out = v * mul;
    return 0;
}

static int cmd_devices(void)
{
    const uint32_t have = rs_cpu_features();
    const rs_kernels_t *best = rs_kernels_select("auto");
    printf("CPU features:%s%s%s%s%s\n", (have & RS_CPU_SSE42) ? " sse4.2" : "", (have & RS_CPU_AVX2) ? " avx2" : "",
           (have & RS_CPU_AVX512BW) ? " avx512bw" : "", (have & RS_CPU_NEON) ? " neon" : "", have ? "" : " (none)");
    printf("%-10s %-10s %s\n", "backend", "runs here", "description");
    for (const rs_kernels_t *const *k = rs_kernels_all(); *k; k++) {
        const int ok = (have & (*k)->required) == (*k)->required;
        printf("%-10s %-10s %s%s\n", (*k)->name, ok ? "yes" : "no", (*k)->description,
               *k == best ? "  [auto]" : "");
    }
    return RS_EXIT_OK;
}

typedef struct rs_list {
    const char **v;
    size_t n, cap;
} rs_list_t;

static void list_push(rs_list_t *l, const char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        if (!l->v) {
            fputs("rostrum: out of memory\n", stderr);
            exit(RS_EXIT_FAIL);
        }
    }
    l->v[l->n++] = s;
}

static int cmd_scan(int argc, char **argv)
{
    rs_list_t paths = {0}, topics = {0}, entities = {0};
    rs_scan_opts_t o = {0};
    const char *json = NULL, *csv = NULL;
    size_t top = 20;
    int quiet = 0, rc = RS_EXIT_OK;
    o.backend = getenv("ROSTRUM_BACKEND");
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
#define RS_OPT(name) (strcmp(a, name) == 0 && (i + 1 < argc ? (val = argv[++i], 1) : (val = NULL, 1)))
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            goto out;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            quiet = 1;
            continue;
        } else if (strcmp(a, "-") == 0 || a[0] != '-') {
            list_push(&paths, a);
            continue;
        } else if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++)
                list_push(&paths, argv[i]);
            break;
        }
        if (!(RS_OPT("--format") || RS_OPT("--topics") || RS_OPT("--entities") || RS_OPT("--top") || RS_OPT("--json")
              || RS_OPT("--csv") || RS_OPT("--backend") || RS_OPT("--headings") || RS_OPT("--ext")
              || RS_OPT("--max-document-size"))) {
            fprintf(stderr, "rostrum: unknown option '%s'\n", a);
            usage(stderr);
            rc = RS_EXIT_USAGE;
            goto out;
        }
        if (!val) {
            fprintf(stderr, "rostrum: option '%s' needs a value\n", a);
            rc = RS_EXIT_USAGE;
            goto out;
        }
        if (strcmp(a, "--format") == 0) {
            const int f = rs_format_parse(val);
            if (f < 0) {
                fprintf(stderr, "rostrum: unknown format '%s' (plain, caption, labeled, markdown, auto)\n", val);
                rc = RS_EXIT_USAGE;
                goto out;
            }
            o.format = (rs_format_e)f;
        } else if (strcmp(a, "--topics") == 0) {
            list_push(&topics, val);
        } else if (strcmp(a, "--entities") == 0) {
            list_push(&entities, val);
        } else if (strcmp(a, "--top") == 0) {
            char *end;
            const long n = strtol(val, &end, 10);
            if (*end || n < 0 || n > 1000000) {
                fprintf(stderr, "rostrum: --top needs a number from 0 to 1000000, not '%s'\n", val);
                rc = RS_EXIT_USAGE;
                goto out;
            }
            top = (size_t)n;
        } else if (strcmp(a, "--json") == 0) {
            json = val;
        } else if (strcmp(a, "--csv") == 0) {
            csv = val;
        } else if (strcmp(a, "--backend") == 0) {
            o.backend = val;
        } else if (strcmp(a, "--headings") == 0) {
            o.headings_file = val;
        } else if (strcmp(a, "--ext") == 0) {
            o.exts = val;
        } else if (strcmp(a, "--max-document-size") == 0) {
            if (parse_size(val, &o.max_doc_bytes) != 0 || o.max_doc_bytes == 0) {
                fprintf(stderr, "rostrum: bad size '%s' for --max-document-size\n", val);
                rc = RS_EXIT_USAGE;
                goto out;
            }
        }
#undef RS_OPT
    }
    if (paths.n == 0) {
        fputs("rostrum: scan needs at least one PATH\n", stderr);
        usage(stderr);
        rc = RS_EXIT_USAGE;
        goto out;
    }
    o.paths = paths.v;
    o.npaths = paths.n;
    o.topic_files = topics.v;
    o.ntopic_files = topics.n;
    o.entity_files = entities.v;
    o.nentity_files = entities.n;

    rs_scan_result_t res;
    rs_error_t err = {0};
    const rs_err_e e = rs_scan_run(&o, &res, &err);
    for (size_t i = 0; i < res.warnings.n; i++)
        fprintf(stderr, "rostrum: warning: %s\n", res.warnings.s[i]);
    if (e != RS_OK) {
        fprintf(stderr, "rostrum: %s\n", err.msg);
        rs_scan_result_free(&res);
        rc = (e == RS_ERR_LEXICON || e == RS_ERR_USAGE || e == RS_ERR_UNSUPPORTED || e == RS_ERR_IO) ? RS_EXIT_USAGE
                                                                                                     : RS_EXIT_FAIL;
        goto out;
    }
    const rs_stats_t *st = &res.stats;
    for (size_t i = 0; i < st->warnings.n; i++)
        fprintf(stderr, "rostrum: warning: %s: %s\n", st->warnings.v[i].path, st->warnings.v[i].message);
    for (size_t i = 0; i < st->skipped.n; i++)
        fprintf(stderr, "rostrum: skipped: %s\n", st->skipped.v[i].message);

    rs_report_view_t view;
    if (rs_report_view_build(&view, st, &res.topics, &res.entities, top) != RS_OK) {
        fputs("rostrum: out of memory\n", stderr);
        rs_scan_result_free(&res);
        rc = RS_EXIT_FAIL;
        goto out;
    }
    if (json) {
        FILE *f = strcmp(json, "-") == 0 ? stdout : fopen(json, "w");
        if (!f) {
            fprintf(stderr, "rostrum: %s: %s\n", json, strerror(errno));
            rc = RS_EXIT_FAIL;
        } else {
            const rs_err_e je = rs_report_json(f, &view, &res.run);
            if ((f != stdout ? fclose(f) : fflush(f)) != 0 || je != RS_OK) {
                fprintf(stderr, "rostrum: %s: write error\n", json);
                rc = RS_EXIT_FAIL;
            }
        }
    }
    if (csv && rc == RS_EXIT_OK) {
        rs_error_t cerr = {0};
        if (rs_report_csv(csv, &view, &cerr) != RS_OK) {
            fprintf(stderr, "rostrum: %s\n", cerr.msg);
            rc = RS_EXIT_FAIL;
        }
    }
    if (!quiet && !(json && strcmp(json, "-") == 0))
        rs_report_table(stdout, &view, &res.run);
    if (rc == RS_EXIT_OK && st->skipped.n)
        rc = RS_EXIT_SKIPPED;
    rs_report_view_free(&view);
    rs_scan_result_free(&res);
out:
    free(paths.v);
    free(topics.v);
    free(entities.v);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return RS_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "scan") == 0)
        return cmd_scan(argc - 2, argv + 2);
    if (strcmp(cmd, "devices") == 0)
        return cmd_devices();
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("rostrum %s\n", RS_VERSION);
        return RS_EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return RS_EXIT_OK;
    }
    fprintf(stderr, "rostrum: unknown command '%s'\n", cmd);
    usage(stderr);
    return RS_EXIT_USAGE;
}
