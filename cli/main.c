/*
 * main.c - the rostrum command: argument parsing and talking to the user.
 * Everything else is in librostrum (host/, kernels/).
 *
 *   rostrum scan [options] PATH...   statistics about speakers and topics
 *   rostrum merge [options] STATE... one report from saved partial results
 *   rostrum devices                  backends this machine can run
 *   rostrum version
 *
 * Under an MPI launcher, scan is run by every rank (cluster.h); only rank 0
 * talks and writes.
 *
 * Exit status: 0 success, 1 some inputs were skipped, 2 usage or lexicon
 * errors (nothing scanned), or a state file refused by merge (nothing
 * written), 3 other failures.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h> /* mallopt */
#endif

#include "cluster.h" /* rs_cluster_begin, rs_cluster_scan, rs_cluster_end */
#include "opencl.h"  /* rs_opencl_devices, rs_opencl_register, rs_opencl_take_warnings */
#include "rostrum.h"
#include "state.h"   /* rs_state_save, rs_state_load, rs_state_merge */

int rs_cli_bench(int argc, char **argv); /* cli/bench.c */

#define RS_EXIT_OK 0
#define RS_EXIT_SKIPPED 1
#define RS_EXIT_USAGE 2
#define RS_EXIT_FAIL 3
#define RS_EXIT_INTERRUPTED 130 /* Ctrl-C: the partial report was written */

static void usage(FILE *f)
{
    fputs("usage: rostrum scan [options] PATH...\n"
          "       rostrum merge [options] STATE...\n"
          "       rostrum bench [PATH...] [options]  (rostrum bench --help)\n"
          "       rostrum devices\n"
          "       rostrum version\n"
          "\n"
          "scan options:\n"
          "  --format F            plain, caption, labeled, markdown, srt, vtt, jsonl, whisper\n"
          "                        (default: detected per document)\n"
          "  --topics FILE         topics lexicon (quanteda YAML, LIWC .dic, Lexicoder .lc3, TSV); repeatable\n"
          "  --entities FILE       named entities lexicon: key = canonical name, patterns = spellings; repeatable\n"
          "  --top N               rows of top terms, bigrams and table lists (default 20)\n"
          "  --json FILE           write the JSON report (docs/report.md); '-' for stdout\n"
          "  --csv DIR             write one tidy CSV table per section into DIR\n"
          "  --quiet               no summary table on stdout\n"
          "  --backend NAME        kernel backend (default auto; env ROSTRUM_BACKEND); see rostrum devices\n"
          "  --headings FILE       non-speaker headings, one per line (replaces the built-in list)\n"
          "  --ext LIST            extensions taken from directories (default " RS_DEFAULT_EXTS "; '*' for all)\n"
          "  --max-document-size N cut documents (and archive members) at their last line end within N bytes,\n"
          "                        with a warning (K, M, G; default 1G)\n"
          "  -j, --jobs N          scan workers (default: one per core); see rostrum devices\n"
          "  --shard-size N        bytes of documents handed to a worker at a time (K, M, G; default 8M);\n"
          "                        a larger document is read in pieces cut at line ends\n"
          "  --no-pin              do not bind workers to CPUs\n"
          "  --progress WHEN       progress line on stderr (documents and MB done, MB/s, ETA when the inputs'\n"
          "                        size is known): auto (when a terminal), always (else every 5 s and at the end), never\n"
          "  --jsonl-text KEY      JSON Lines: field with the text (default text)\n"
          "  --jsonl-speaker KEY   JSON Lines: field with the speaker (default speaker)\n"
          "  --jsonl-doc KEY       JSON Lines: group lines into documents by this field (@line: a line each)\n"
          "  --save-state FILE     also save the counts to FILE, for rostrum merge (docs/cluster.md)\n"
          "PATH is a file, a directory (walked recursively), an archive (.tar[.gz|.zst|.xz], .tgz, .zip)\n"
          "or compressed file (.gz, .zst, .xz), or '-' for stdin. Ctrl-C stops and writes a partial report.\n"
          "\n"
          "Started by mpirun or srun (a build with MPI), scan divides the documents among the ranks\n"
          "and rank 0 writes the report (docs/cluster.md).\n"
          "\n"
          "merge options: --json, --csv, --top, --quiet and --save-state, as for scan.\n"
          "STATE is a file written by --save-state; any number, in any order and grouping:\n"
          "the report is the one a single scan of all their documents gives.\n",
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
    /* OpenCL devices (opencl.h), each with its kernels built (or loaded
     * from the cache) to say whether it runs them: --backend opencl:P:D */
    rs_opencl_devinfo_t *dv = NULL;
    size_t ndv = 0;
    rs_error_t dverr = {0};
    if (!rs_opencl_compiled())
        puts("opencl     no         this build has no OpenCL support");
    else if (rs_opencl_devices(&dv, &ndv, 1, &dverr) != RS_OK)
        printf("opencl     no         %s\n", dverr.msg);
    else if (ndv == 0)
        puts("opencl     no         no OpenCL platform or device found");
    for (size_t i = 0; i < ndv; i++) {
        char name[32];
        snprintf(name, sizeof name, "opencl:%u:%u", dv[i].platform, dv[i].device);
        printf("%-10s %-10s OpenCL %s device %s (%s; %s; driver %s): %u compute units, %llu MiB memory, "
               "%llu MiB max allocation; near %s; kernels %s\n",
               name, dv[i].built == 1 ? "yes" : "no", dv[i].type, dv[i].device_name, dv[i].platform_name,
               dv[i].device_version, dv[i].driver_version, dv[i].compute_units,
               (unsigned long long)(dv[i].global_mem_bytes >> 20), (unsigned long long)(dv[i].max_alloc_bytes >> 20),
               dv[i].near, dv[i].status);
    }
    free(dv);
    /* what --backend auto runs: every usable GPU (or other non-CPU device)
     * with the CPU workers, else the best CPU table */
    rs_opencl_register();
    const int drivers = rs_opencl_may_have_gpu();
    const rs_kernels_t *gpus = drivers ? rs_kernels_select("opencl:gpu+cpu") : NULL;
    if (gpus)
        printf("auto: %s: %s\n", gpus->name, gpus->description);
    else
        printf("auto: %s (%s)\n", best->name,
               drivers ? "no usable OpenCL device but CPU devices, which auto leaves out: they share the CPU "
                         "workers' cores"
                       : "no OpenCL driver but POCL's, whose devices are CPUs: auto does not load it");
    rs_opencl_shutdown();
    char topo[4096];
    rs_topology_describe(topo, sizeof topo);
    fputs(topo, stdout);
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

/* The outputs both scan and merge write: JSON, CSV and the table. */
static int write_reports(const rs_stats_t *st, const rs_lexicon_t *topics, const rs_lexicon_t *entities,
                         const rs_run_info_t *run, size_t top, const char *json, const char *csv, int quiet)
{
    int rc = RS_EXIT_OK;
    rs_report_view_t view;
    if (rs_report_view_build(&view, st, topics, entities, top) != RS_OK) {
        fputs("rostrum: out of memory\n", stderr);
        return RS_EXIT_FAIL;
    }
    if (json) {
        FILE *f = strcmp(json, "-") == 0 ? stdout : fopen(json, "w");
        if (!f) {
            fprintf(stderr, "rostrum: %s: %s\n", json, strerror(errno));
            rc = RS_EXIT_FAIL;
        } else {
            const rs_err_e je = rs_report_json(f, &view, run);
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
        rs_report_table(stdout, &view, run);
    if (rc == RS_EXIT_OK && st->skipped.n)
        rc = RS_EXIT_SKIPPED;
    rs_report_view_free(&view);
    return rc;
}

/* --top's value into *top; prints the complaint. */
static int parse_top(const char *val, size_t *top)
{
    char *end;
    const long n = strtol(val, &end, 10);
    if (*end || end == val || n < 0 || n > 1000000) {
        fprintf(stderr, "rostrum: --top needs a number from 0 to 1000000, not '%s'\n", val);
        return -1;
    }
    *top = (size_t)n;
    return 0;
}

/* Ctrl-C during a scan: ask the library to stop (workers finish the
 * document in hand); a second Ctrl-C ends the process at once. */
static atomic_int scan_cancel;

static void on_interrupt(int sig)
{
    (void)sig;
    atomic_store(&scan_cancel, 1);
}

static void catch_interrupt(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

/* The progress line: redrawn in place on a terminal (about 4 times a
 * second); otherwise (--progress always) one line every 5 s and a last one
 * when the scan ends, so that even a short run writes one. With the inputs'
 * size known (input_bytes: files as stored, archives compressed), the line
 * says what share of it has been read (rs_progress_t.input_read) and an ETA
 * at the rate so far. */
typedef struct progress_ui {
    int tty;
    double last;        /* when a line was last written (scan seconds) */
    rs_progress_t now;  /* the latest snapshot */
    int have;           /* a snapshot came */
    uint64_t total;     /* bytes the input files hold as stored; 0: unknown (stdin, MPI) */
} progress_ui_t;

/* "45 s", "3 min 05 s", "2 h 07 min". */
static void format_eta(char *buf, size_t n, double s)
{
    const unsigned long long t = (unsigned long long)(s + 0.5);
    if (t < 60)
        snprintf(buf, n, "%llu s", t);
    else if (t < 3600)
        snprintf(buf, n, "%llu min %02llu s", t / 60, t % 60);
    else
        snprintf(buf, n, "%llu h %02llu min", t / 3600, t / 60 % 60);
}

/* Writes the line for ui->now; end: the scan is over ("done" or
 * "interrupted" in place of the ETA). */
static void write_progress(progress_ui_t *ui, const char *end)
{
    const rs_progress_t *p = &ui->now;
    if (ui->total && p->input_read > ui->total)
        ui->total = 0; /* more than the inputs held (a file that grew): no share or ETA from now on */
    const double mbs = p->seconds > 0 ? (double)p->bytes_done / 1e6 / p->seconds : 0.0;
    char scanned[128], tail[64] = "";
    if (ui->total) {
        /* the share of the input read, less what the reader holds ahead of
         * the workers: scaled by the share of the bytes read that is scanned */
        double f = (double)p->input_read / (double)ui->total;
        if (p->bytes_read > 0)
            f *= (double)p->bytes_done / (double)p->bytes_read;
        snprintf(scanned, sizeof scanned, "%.1f MB scanned (%.0f%% of %.1f MB of input)", (double)p->bytes_done / 1e6,
                 100.0 * f, (double)ui->total / 1e6);
        if (!end && f > 0 && p->seconds > 0) {
            char eta[32];
            format_eta(eta, sizeof eta, p->seconds * (1.0 - f) / f);
            snprintf(tail, sizeof tail, ", ETA %s", eta);
        }
    } else {
        snprintf(scanned, sizeof scanned, "%.1f MB scanned", (double)p->bytes_done / 1e6);
    }
    if (end)
        snprintf(tail, sizeof tail, ", %s", end);
    fprintf(stderr, "%srostrum: %llu document%s, %s, %.1f MB read, %.1f MB/s, %u worker%s, %.0f s%s%s",
            ui->tty ? "\r" : "", (unsigned long long)p->docs_done, p->docs_done == 1 ? "" : "s", scanned,
            (double)p->bytes_read / 1e6, mbs, p->workers, p->workers == 1 ? "" : "s", p->seconds, tail,
            ui->tty ? "\033[K" : "\n");
    fflush(stderr);
    ui->last = p->seconds;
}

static void show_progress(void *ctx, const rs_progress_t *p)
{
    progress_ui_t *ui = ctx;
    ui->now = *p;
    ui->have = 1;
    if (ui->tty || p->seconds - ui->last >= 5.0)
        write_progress(ui, NULL);
}

/* The size of the inputs, for the ETA: the files a scan would take (the
 * same walk, reading nothing: ingest.h's filter), by their sizes as stored
 * (an archive's compressed size), which is what rs_progress_t.input_read
 * counts. Made only when the line is shown; it costs one more walk of the
 * directories (names and stat, no file opened) before the scan starts.
 * Standard input leaves the size unknown. */
typedef struct input_size {
    uint64_t bytes;
    int unknown;
} input_size_t;

static int count_input(void *ctx, const char *path, uint64_t size)
{
    input_size_t *in = ctx;
    if (strcmp(path, "-") == 0)
        in->unknown = 1;
    else
        in->bytes += size;
    return 0; /* read nothing */
}

static rs_err_e ignore_doc(void *ctx, rs_doc_t *doc)
{
    (void)ctx;
    (void)doc;
    return RS_OK;
}

static rs_err_e ignore_skip(void *ctx, const char *path, const char *why)
{
    (void)ctx;
    (void)path;
    (void)why;
    return RS_OK;
}

/* Bytes the inputs of o hold; 0 when that is not known. */
static uint64_t input_bytes(const rs_scan_opts_t *o)
{
    input_size_t in = {0};
    const rs_ingest_cfg_t cfg = {
        .exts = o->exts ? o->exts : RS_DEFAULT_EXTS,
        .on_doc = ignore_doc,
        .on_skip = ignore_skip,
        .cancel = o->cancel,
        .filter = count_input,
        .filter_ctx = &in,
    };
    if (rs_ingest_paths(&cfg, o->paths, o->npaths) != RS_OK || in.unknown)
        return 0;
    return in.bytes;
}

/* Under MPI (cluster.h), ranks other than 0 parse the same arguments and
 * would say the same things: their stdout and stderr go to /dev/null, and
 * only a failure of their own goes to rank_err, the real stderr. */
static FILE *rank_err;

static void mute_rank(const rs_cluster_t *cl)
{
    if (cl->rank == 0)
        return;
    const int fd = dup(STDERR_FILENO);
    rank_err = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (rank_err)
        setvbuf(rank_err, NULL, _IOLBF, 0); /* each line out before MPI_Finalize */
    if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
        return; /* the streams are closed: silent anyway */
}

static int cmd_scan(int argc, char **argv, rs_cluster_t *cl)
{
    rs_list_t paths = {0}, topics = {0}, entities = {0};
    rs_scan_opts_t o = {0};
    const char *json = NULL, *csv = NULL, *state = NULL, *progress = "auto";
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
        } else if (strcmp(a, "--no-pin") == 0) {
            o.no_pin = 1;
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
              || RS_OPT("--max-document-size") || RS_OPT("--save-state") || RS_OPT("-j") || RS_OPT("--jobs")
              || RS_OPT("--shard-size") || RS_OPT("--progress") || RS_OPT("--jsonl-text") || RS_OPT("--jsonl-speaker")
              || RS_OPT("--jsonl-doc"))) {
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
                fprintf(stderr,
                        "rostrum: unknown format '%s' (plain, caption, labeled, markdown, srt, vtt, jsonl, whisper, auto)\n",
                        val);
                rc = RS_EXIT_USAGE;
                goto out;
            }
            o.format = (rs_format_e)f;
        } else if (strcmp(a, "--topics") == 0) {
            list_push(&topics, val);
        } else if (strcmp(a, "--entities") == 0) {
            list_push(&entities, val);
        } else if (strcmp(a, "--top") == 0) {
            if (parse_top(val, &top) != 0) {
                rc = RS_EXIT_USAGE;
                goto out;
            }
        } else if (strcmp(a, "--save-state") == 0) {
            if (strcmp(val, "-") == 0) {
                fputs("rostrum: --save-state needs a file name (a state is not written to stdout)\n", stderr);
                rc = RS_EXIT_USAGE;
                goto out;
            }
            state = val;
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
        } else if (strcmp(a, "-j") == 0 || strcmp(a, "--jobs") == 0) {
            char *end;
            const long n = strtol(val, &end, 10);
            if (*end || n < 1 || n > RS_MAX_WORKERS) {
                fprintf(stderr, "rostrum: %s needs a number from 1 to %d, not '%s'\n", a, RS_MAX_WORKERS, val);
                rc = RS_EXIT_USAGE;
                goto out;
            }
            o.jobs = (unsigned)n;
        } else if (strcmp(a, "--shard-size") == 0) {
            if (parse_size(val, &o.shard_bytes) != 0 || o.shard_bytes == 0) {
                fprintf(stderr, "rostrum: bad size '%s' for --shard-size\n", val);
                rc = RS_EXIT_USAGE;
                goto out;
            }
        } else if (strcmp(a, "--progress") == 0) {
            if (strcmp(val, "auto") != 0 && strcmp(val, "always") != 0 && strcmp(val, "never") != 0) {
                fprintf(stderr, "rostrum: --progress takes auto, always or never, not '%s'\n", val);
                rc = RS_EXIT_USAGE;
                goto out;
            }
            progress = val;
        } else if (strcmp(a, "--jsonl-text") == 0) {
            o.jsonl.text = val;
        } else if (strcmp(a, "--jsonl-speaker") == 0) {
            o.jsonl.speaker = val;
        } else if (strcmp(a, "--jsonl-doc") == 0) {
            o.jsonl.doc = val;
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

    progress_ui_t ui = {.tty = isatty(2)};
    o.cancel = &scan_cancel;
    catch_interrupt();
    if (strcmp(progress, "always") == 0 || (strcmp(progress, "auto") == 0 && ui.tty)) {
        o.progress = show_progress;
        o.progress_ctx = &ui;
        if (cl->size <= 1) /* under MPI, rank 0's line counts its share only */
            ui.total = input_bytes(&o);
    }

    rs_scan_result_t res;
    rs_error_t err = {0};
    rs_opencl_register(); /* --backend opencl[:P:D][+cpu], opencl:all+cpu, opencl:gpu+cpu */
    if (!o.backend || strcmp(o.backend, "auto") == 0) {
        /* auto: every usable GPU with the CPU workers, when there is one */
        const rs_kernels_t *gpus = rs_opencl_may_have_gpu() ? rs_kernels_select("opencl:gpu+cpu") : NULL;
        if (gpus)
            o.backend = gpus->name;
    }
    const rs_err_e e = rs_cluster_scan(cl, &o, &res, &err);
    rs_opencl_take_warnings(NULL, &res.warnings); /* device faults: pieces went to the CPU */
    rs_opencl_counts_t c;
    if (e == RS_OK && rs_opencl_kernels_counts(res.kernels, &c)) { /* what reached the device (this process's share under MPI) */
        res.run.device = 1;
        res.run.device_calls = c.device_calls;
        res.run.device_bytes = c.device_bytes;
        res.run.cpu_bytes = c.short_bytes + c.cpu_bytes;
        res.run.numbered_calls = c.numbered_calls;
        res.run.counted_calls = c.counted_calls;
        res.run.matched_calls = c.matched_calls;
    }
    signal(SIGINT, SIG_DFL);
    const char *verbose = getenv("ROSTRUM_MPI_VERBOSE"); /* each rank's share (docs/cluster.md) */
    FILE *mine = cl->rank == 0 ? stderr : rank_err;
    if (cl->size > 1 && verbose && *verbose && strcmp(verbose, "0") != 0 && mine && e == RS_OK)
        fprintf(mine,
                "rostrum: rank %d of %d: %zu of %zu input files, %llu bytes; seconds: listing %.3f, scan %.3f, "
                "waiting %.3f, reduction %.3f\n",
                cl->rank, cl->size, cl->share_files, cl->listed_files, (unsigned long long)cl->share_bytes,
                cl->seconds_list, cl->seconds_scan, cl->seconds_wait, cl->seconds_reduce);
    if (cl->rank != 0) { /* its share went to rank 0, which reports */
        if (e != RS_OK && err.msg[0] && rank_err)
            fprintf(rank_err, "rostrum: %s\n", err.msg);
        rs_scan_result_free(&res);
        rc = e == RS_OK ? RS_EXIT_OK : RS_EXIT_FAIL;
        goto out;
    }
    if (o.progress && ui.tty)
        fputs("\r\033[K", stderr);
    else if (o.progress && ui.have && e == RS_OK)
        write_progress(&ui, res.run.partial ? "interrupted" : "done");
    if (res.run.partial)
        fputs("rostrum: interrupted: the report covers only the documents finished\n", stderr);
    for (size_t i = 0; i < res.warnings.n; i++)
        fprintf(stderr, "rostrum: warning: %s\n", res.warnings.s[i]);
    if (e != RS_OK) {
        if (err.msg[0])
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

    if (state && res.run.partial) {
        fprintf(stderr, "rostrum: %s not written: a state of an interrupted scan would merge as if complete\n",
                state);
    } else if (state) {
        rs_error_t serr = {0};
        if (rs_state_save(state, st, &res.topics, &res.entities, &serr) != RS_OK) {
            fprintf(stderr, "rostrum: %s\n", serr.msg);
            rs_scan_result_free(&res);
            rc = RS_EXIT_FAIL;
            goto out;
        }
    }
    rc = write_reports(st, &res.topics, &res.entities, &res.run, top, json, csv, quiet);
    if (res.run.partial && rc != RS_EXIT_FAIL)
        rc = RS_EXIT_INTERRUPTED;
    rs_scan_result_free(&res);
out:
    rs_opencl_shutdown(); /* the device tables rs_kernels_select opened */
    free(paths.v);
    free(topics.v);
    free(entities.v);
    return rc;
}

/* Reads the states one at a time into one accumulator (the first state):
 * memory holds the running total and one state, whatever their number.
 * Every state is read before anything is written. */
static int cmd_merge(int argc, char **argv)
{
    rs_list_t files = {0};
    const char *json = NULL, *csv = NULL, *state = NULL;
    size_t top = 20;
    int quiet = 0, rc = RS_EXIT_OK;
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
        } else if (a[0] != '-') {
            list_push(&files, a);
            continue;
        } else if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++)
                list_push(&files, argv[i]);
            break;
        }
        if (!(RS_OPT("--json") || RS_OPT("--csv") || RS_OPT("--top") || RS_OPT("--save-state"))) {
            fprintf(stderr, "rostrum: unknown option '%s' for merge\n", a);
            usage(stderr);
            rc = RS_EXIT_USAGE;
            goto out;
        }
        if (!val) {
            fprintf(stderr, "rostrum: option '%s' needs a value\n", a);
            rc = RS_EXIT_USAGE;
            goto out;
        }
        if (strcmp(a, "--json") == 0) {
            json = val;
        } else if (strcmp(a, "--csv") == 0) {
            csv = val;
        } else if (strcmp(a, "--save-state") == 0) {
            if (strcmp(val, "-") == 0) {
                fputs("rostrum: --save-state needs a file name (a state is not written to stdout)\n", stderr);
                rc = RS_EXIT_USAGE;
                goto out;
            }
            state = val;
        } else if (parse_top(val, &top) != 0) {
            rc = RS_EXIT_USAGE;
            goto out;
        }
#undef RS_OPT
    }
    if (files.n == 0) {
        fputs("rostrum: merge needs at least one STATE file\n", stderr);
        usage(stderr);
        rc = RS_EXIT_USAGE;
        goto out;
    }

    const double t0 = rs_now();
    rs_state_t acc;
    rs_error_t err = {0};
    rs_err_e e = rs_state_load(&acc, files.v[0], &err);
    for (size_t i = 1; i < files.n && e == RS_OK; i++) {
        rs_state_t one;
        e = rs_state_load(&one, files.v[i], &err);
        if (e == RS_OK)
            e = rs_state_merge(&acc, files.v[0], &one, files.v[i], &err);
        rs_state_free(&one);
    }
    if (e != RS_OK) {
        fprintf(stderr, "rostrum: %s\n", err.msg);
        rs_state_free(&acc);
        rc = (e == RS_ERR_STATE || e == RS_ERR_IO) ? RS_EXIT_USAGE : RS_EXIT_FAIL;
        goto out;
    }
    const rs_stats_t *st = &acc.stats;
    for (size_t i = 0; i < st->warnings.n; i++)
        fprintf(stderr, "rostrum: warning: %s: %s\n", st->warnings.v[i].path, st->warnings.v[i].message);
    for (size_t i = 0; i < st->skipped.n; i++)
        fprintf(stderr, "rostrum: skipped: %s\n", st->skipped.v[i].message);
    if (state) {
        rs_error_t serr = {0};
        if (rs_state_save(state, st, &acc.topics, &acc.entities, &serr) != RS_OK) {
            fprintf(stderr, "rostrum: %s\n", serr.msg);
            rs_state_free(&acc);
            rc = RS_EXIT_FAIL;
            goto out;
        }
    }
    const rs_run_info_t run = {.backend = "merge", .threads = 1, .seconds = rs_now() - t0, .version = RS_VERSION};
    rc = write_reports(st, &acc.topics, &acc.entities, &run, top, json, csv, quiet);
    rs_state_free(&acc);
out:
    free(files.v);
    return rc;
}

int main(int argc, char **argv)
{
#if defined(__GLIBC__)
    /* Large blocks (the count tables and their growth) straight from and
     * back to the system: with glibc's default, the threshold rises as
     * blocks are freed, and the tables' grown-out parts stay in the heap as
     * holes (a 10 GiB scan peaked 40% higher). */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
    if (argc < 2) {
        usage(stderr);
        return RS_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "scan") == 0) {
        rs_cluster_t cl;
        rs_error_t err = {0};
        if (rs_cluster_begin(&cl, &argc, &argv, &err) != RS_OK) {
            fprintf(stderr, "rostrum: %s\n", err.msg);
            return rs_cluster_end(&cl, RS_EXIT_FAIL);
        }
        mute_rank(&cl);
        return rs_cluster_end(&cl, cmd_scan(argc - 2, argv + 2, &cl));
    }
    if (strcmp(cmd, "merge") == 0)
        return cmd_merge(argc - 2, argv + 2);
    if (strcmp(cmd, "bench") == 0) /* cli/bench.c */
        return rs_cli_bench(argc - 2, argv + 2);
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
