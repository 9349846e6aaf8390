/*
 * bench_tokenize.c - throughput of each kernel table on texts in memory:
 * tokenize + fold + hash, tokenize + count every term into an rs_dict_t
 * (what a scan does per token, without the matchers and bigrams), and
 * tokenize + match a lexicon (host/matcher.c, as a scan runs it per turn).
 *
 *   bench_tokenize [options] PATH...     files, or directories walked
 *   bench_tokenize [options] --gen KIND BYTES
 *                                        a generated text: cyrillic (Russian
 *                                        words), greek (modern Greek words
 *                                        with tonos and final sigma) or latin
 *                                        (French, Czech, German, Polish words
 *                                        with accents)
 * options:
 *   --backends LIST   comma-separated table names (default: every table this
 *                     CPU runs)
 *   --mode M          tokenize, count or both (default both); with
 *                     --lexicon, match too (M may also be match)
 *   --lexicon FILE    a lexicon (any format rostrum reads: TSV, quanteda
 *                     YAML, LIWC, Lexicoder): also time tokenize + match,
 *                     every hit counted per pattern, as a scan's --topics
 *   --min-time S      seconds per timed run (default 1)
 *   --runs N          timed runs, the median is reported (default 5)
 *   --piece N         cut each text into pieces of at most N bytes at
 *                     rs_safe_cut points, one tokenize call each (default:
 *                     whole texts; a scan makes one call per turn, a few
 *                     hundred bytes)
 *   --save FILE       write the inputs (one after the other) to FILE and exit
 *   --no-ratio        do not time scalar (still checked against): for
 *                     profiling one backend
 *
 * Method (after zstd's benchfn): each text is one tokenize call, as a scan
 * makes one per piece; an untimed warm-up pass over all inputs, one pass to
 * calibrate the repetitions to at least --min-time seconds, then --runs
 * timed runs; MB/s = input bytes x repetitions / seconds (MB = 10^6
 * bytes); the median, min and max of the runs, and the ratio of the medians
 * to scalar (always run first). Time is the thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID), so that other work on a shared machine does
 * not count; the benchmark is single-threaded (pin it with taskset). Before
 * any figure is printed every backend's output is checked against the
 * scalar reference: a checksum of every token (offset, length, hash), of
 * the folded bytes and of the invalid byte count, of the counted
 * dictionary, and of the hits of each lexicon pattern.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dict.h"    /* rs_dict_t */
#include "lexicon.h" /* rs_lexicon_load */
#include "matcher.h" /* rs_matcher_t */
#include "hash.h"    /* rs_hash64 */
#include "kernels.h" /* rs_kernels_t, rs_kernels_all, rs_cpu_features */

typedef struct bench_text {
    uint8_t *data;
    size_t len;
} bench_text_t;

typedef struct bench_input {
    bench_text_t *v;
    size_t n, cap;
    size_t bytes, max_len;
} bench_input_t;

static void die(const char *msg, const char *arg)
{
    fprintf(stderr, "bench_tokenize: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    exit(2);
}

static void input_add(bench_input_t *in, uint8_t *data, size_t len)
{
    if (in->n == in->cap) {
        in->cap = in->cap ? 2 * in->cap : 256;
        in->v = realloc(in->v, in->cap * sizeof *in->v);
        if (!in->v)
            die("out of memory", NULL);
    }
    in->v[in->n++] = (bench_text_t){data, len};
    in->bytes += len;
    if (len > in->max_len)
        in->max_len = len;
}

static void load_path(bench_input_t *in, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        die(strerror(errno), path);
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d)
            die(strerror(errno), path);
        /* sorted, so that runs read the files in the same order */
        char **names = NULL;
        size_t n = 0, cap = 0;
        for (struct dirent *e; (e = readdir(d)) != NULL;) {
            if (e->d_name[0] == '.')
                continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                names = realloc(names, cap * sizeof *names);
                if (!names)
                    die("out of memory", NULL);
            }
            const size_t l = strlen(path) + strlen(e->d_name) + 2;
            names[n] = malloc(l);
            if (!names[n])
                die("out of memory", NULL);
            snprintf(names[n++], l, "%s/%s", path, e->d_name);
        }
        closedir(d);
        qsort(names, n, sizeof *names, (int (*)(const void *, const void *))strcmp);
        for (size_t i = 0; i < n; i++) {
            load_path(in, names[i]);
            free(names[i]);
        }
        free(names);
        return;
    }
    if (!S_ISREG(st.st_mode))
        return;
    FILE *f = fopen(path, "rb");
    if (!f)
        die(strerror(errno), path);
    uint8_t *data = malloc(st.st_size ? (size_t)st.st_size : 1);
    if (!data)
        die("out of memory", NULL);
    const size_t got = fread(data, 1, (size_t)st.st_size, f);
    fclose(f);
    input_add(in, data, got);
}

/* ------------------------------------------------------------------ */
/* Generated texts: words drawn from a fixed list with weight 1/(r + 8) for
 * rank r (Zipf-like, flattened so that the shortest words do not dominate
 * as they do in a 60-word list with 1/r), sentences of 4-20 words with a
 * capital first letter, commas, dashes, guillemets and numbers now and then.
 * xorshift64*, fixed seed: the same text every time. */

static const char *const gen_cyrillic[] = {
    "и", "в", "не", "на", "что", "я", "с", "он", "как", "это", "по", "но", "они", "мы", "к", "у",
    "из", "за", "вы", "так", "же", "от", "сказать", "этот", "который", "весь", "год", "только",
    "знать", "мочь", "человек", "время", "говорить", "дело", "жизнь", "новый", "работа", "сейчас",
    "вопрос", "правительство", "государство", "предложение", "экономика", "развитие", "общество",
    "решение", "закон", "страна", "сегодня", "президент", "министр", "проблема", "интервью",
    "ответственность", "возможность", "обязательно", "ещё", "объём", "подъезд", "Москва", "Россия",
};

static const char *const gen_latin[] = {
    "le", "de", "la", "et", "à", "être", "été", "très", "après", "où", "déjà", "français", "société",
    "problème", "réponse", "économie", "gouvernement", "créé", "deuxième", "hôpital", "garçon",
    "naïve", "cœur", "Noël", "élève", "ça", "über", "für", "Straße", "größer", "Mädchen", "schön",
    "Ärger", "Österreich", "příliš", "žluťoučký", "kůň", "úpěl", "ďábelské", "ódy", "řeč", "čas",
    "Łódź", "źdźbło", "zażółć", "gęślą", "jaźń", "mañana", "niño", "está", "acción", "sí",
    "corazón", "São", "coração", "não", "ação", "Škoda", "Dvořák",
};

static const char *const gen_greek[] = {
    "και", "το", "να", "του", "η", "της", "σε", "με", "για", "την", "από", "ότι", "δεν", "θα", "είναι",
    "στην", "που", "οι", "τα", "των", "στο", "ένα", "μια", "αλλά", "πολύ", "όπως", "έχει", "μας", "όταν",
    "κυβέρνηση", "πρωθυπουργός", "υπουργός", "οικονομία", "Ευρώπη", "χώρα", "σήμερα", "ερώτηση",
    "απάντηση", "Αθήνα", "Ελλάδα", "δημοκρατία", "εκλογές", "βουλή", "νόμος", "πρόβλημα", "συνέντευξη",
    "ευθύνη", "δυνατότητα", "οπωσδήποτε", "ανάπτυξη", "κοινωνία", "απόφαση", "άνθρωποι", "εργασία",
    "χρόνος", "ζωή", "ώρα", "ήδη", "ίδιος", "ύστερα", "Βόλος", "Θεσσαλονίκη", "προϋπολογισμός", "ΗΠΑ",
};

static uint64_t gen_rng(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void generate(bench_input_t *in, const char *kind, size_t bytes)
{
    const int cyr = strcmp(kind, "cyrillic") == 0, gr = strcmp(kind, "greek") == 0;
    if (!cyr && !gr && strcmp(kind, "latin") != 0)
        die("--gen takes cyrillic, greek or latin", kind);
    const char *const *words = cyr ? gen_cyrillic : gr ? gen_greek : gen_latin;
    const size_t nw = cyr  ? sizeof gen_cyrillic / sizeof *gen_cyrillic
                      : gr ? sizeof gen_greek / sizeof *gen_greek
                           : sizeof gen_latin / sizeof *gen_latin;
    double *cum = malloc(nw * sizeof *cum), total = 0;
    uint8_t *t = malloc(bytes + 64);
    if (!cum || !t)
        die("out of memory", NULL);
    for (size_t i = 0; i < nw; i++)
        cum[i] = (total += 1.0 / (double)(i + 8));
    uint64_t st = 0x5EEDB0B5ULL;
    size_t len = 0, in_sentence = 0, sentence_len = 0;
    while (len < bytes) {
        const double r = (double)(gen_rng(&st) >> 11) / 9007199254740992.0 * total;
        size_t k = 0;
        while (k + 1 < nw && cum[k] < r)
            k++;
        const char *w = words[k];
        size_t wl = strlen(w);
        if (len + wl + 16 > bytes)
            break;
        const uint64_t dice = gen_rng(&st) % 100;
        if (in_sentence == 0) {
            sentence_len = 4 + gen_rng(&st) % 17;
            if (dice < 10) {
                memcpy(t + len, "\xE2\x80\x94 ", 4); /* dialogue dash */
                len += 4;
            }
        }
        if (dice >= 95) { /* a quoted word */
            memcpy(t + len, "\xC2\xAB", 2);
            len += 2;
        }
        memcpy(t + len, w, wl);
        if (in_sentence == 0) { /* capitalise: two-byte letters of these alphabets */
            uint8_t *c = t + len;
            if (c[0] == 0xD0 && c[1] >= 0xB0 && c[1] <= 0xBF)
                c[1] -= 0x20;
            else if (c[0] == 0xD1 && c[1] >= 0x80 && c[1] <= 0x8F)
                c[0] = 0xD0, c[1] += 0x20;
            else if (c[0] == 0xCE && c[1] >= 0xB1 && c[1] <= 0xBF) /* Greek alpha to omicron */
                c[1] -= 0x20;
            else if (c[0] == 0xCF && c[1] >= 0x80 && c[1] <= 0x89 && c[1] != 0x82) /* pi to omega */
                c[0] = 0xCE, c[1] += 0x20;
            else if (c[0] == 0xCE && c[1] == 0xAC) /* alpha with tonos */
                c[1] = 0x86;
            else if (c[0] == 0xCE && c[1] >= 0xAD && c[1] <= 0xAF) /* epsilon, eta, iota with tonos */
                c[1] -= 0x25;
            else if (c[0] == 0xCF && c[1] == 0x8C) /* omicron with tonos */
                c[0] = 0xCE;
            else if (c[0] == 0xCF && (c[1] == 0x8D || c[1] == 0x8E)) /* upsilon, omega with tonos */
                c[0] = 0xCE, c[1] += 1;
            else if (c[0] >= 'a' && c[0] <= 'z')
                c[0] -= 0x20;
            else if (c[0] == 0xC3 && c[1] >= 0xA0 && c[1] <= 0xBE && c[1] != 0xB7)
                c[1] -= 0x20;
        }
        len += wl;
        if (dice >= 95) {
            memcpy(t + len, "\xC2\xBB", 2);
            len += 2;
        }
        if (dice == 50)
            len += (size_t)snprintf((char *)t + len, 16, " %u", (unsigned)(gen_rng(&st) % 10000));
        if (++in_sentence == sentence_len) {
            t[len++] = dice < 80 ? '.' : dice < 90 ? '?' : '!';
            t[len++] = dice % 7 == 0 ? '\n' : ' ';
            in_sentence = 0;
        } else if (dice < 8) {
            memcpy(t + len, ", ", 2);
            len += 2;
        } else if (dice < 10) {
            memcpy(t + len, " \xE2\x80\x94 ", 5);
            len += 5;
        } else {
            t[len++] = ' ';
        }
    }
    free(cum);
    input_add(in, t, len);
}

/* The texts of in cut into pieces of at most max bytes, as a scan cuts
 * (host/scan.c): at the last rs_safe_cut point within max bytes, else at a
 * UTF-8 character boundary. The pieces point into the texts (kept). */
static bench_input_t cut_pieces(const bench_input_t *in, size_t max)
{
    bench_input_t out = {0};
    for (size_t i = 0; i < in->n; i++) {
        const uint8_t *s = in->v[i].data;
        const size_t len = in->v[i].len;
        for (size_t pos = 0; pos < len;) {
            size_t cut = len - pos;
            if (cut > max) {
                cut = rs_safe_cut(s + pos, max + 1);
                if (cut == 0) {
                    cut = max;
                    while (cut > 1 && (s[pos + cut] & 0xC0) == 0x80)
                        cut--;
                }
            }
            input_add(&out, (uint8_t *)(uintptr_t)(s + pos), cut);
            pos += cut;
        }
    }
    return out;
}

/* ------------------------------------------------------------------ */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct bench_out {
    rs_tokens_t t;
    rs_dict_t dict;
    const rs_matcher_t *m; /* --lexicon */
    rs_match_state_t ms;
    uint64_t *hits; /* per pattern (npat_total) */
    uint64_t abs;   /* tokens matched so far, over all passes (the state's blocked[] is by it) */
} bench_out_t;

typedef uint64_t (*bench_pass_fn)(const rs_kernels_t *k, const bench_input_t *in, bench_out_t *o);

static uint64_t mix(uint64_t h, uint64_t v)
{
    return (h ^ v) * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;
}

/* One pass: every text tokenized; returns a checksum of all tokens. */
static uint64_t pass_tokenize(const rs_kernels_t *k, const bench_input_t *in, bench_out_t *o)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < in->n; i++) {
        o->t.n = 0;
        o->t.fold_len = 0;
        o->t.invalid_bytes = 0;
        k->tokenize(in->v[i].data, in->v[i].len, &o->t);
        uint64_t h = mix(o->t.n, o->t.fold_len);
        h = mix(h, o->t.invalid_bytes);
        for (size_t j = 0; j < o->t.n; j++)
            h += o->t.tok[j].hash ^ ((uint64_t)o->t.tok[j].off << 32 | o->t.tok[j].len);
        sum = mix(sum, h);
    }
    return sum;
}

/* Same, checking the folded bytes too (once per backend, untimed). */
static uint64_t pass_check(const rs_kernels_t *k, const bench_input_t *in, bench_out_t *o)
{
    uint64_t sum = pass_tokenize(k, in, o);
    for (size_t i = 0; i < in->n; i++) {
        o->t.n = 0;
        o->t.fold_len = 0;
        k->tokenize(in->v[i].data, in->v[i].len, &o->t);
        sum = mix(sum, rs_hash64(o->t.fold, o->t.fold_len));
    }
    return sum;
}

/* One pass: every token counted into a fresh dictionary. */
static uint64_t pass_count(const rs_kernels_t *k, const bench_input_t *in, bench_out_t *o)
{
    rs_dict_init(&o->dict, sizeof(uint64_t));
    for (size_t i = 0; i < in->n; i++) {
        o->t.n = 0;
        o->t.fold_len = 0;
        k->tokenize(in->v[i].data, in->v[i].len, &o->t);
        for (size_t j = 0; j < o->t.n; j++) {
            const rs_token_t *tk = &o->t.tok[j];
            /* the prefetches of host/scan.c's rs_win_consume (RS_PREFETCH_AHEAD 32), so
             * that this row times the dictionary as a scan uses it */
            if (j + 32 < o->t.n)
                rs_dict_prefetch(&o->dict, o->t.tok[j + 32].hash);
            if (j + 16 < o->t.n)
                rs_dict_prefetch_rec(&o->dict, o->t.tok[j + 16].hash);
            const int64_t id = rs_dict_put_in(&o->dict, o->t.fold + tk->off, tk->len, tk->hash,
                                                o->t.fold + o->t.fold_cap, NULL);
            if (id < 0)
                die("out of memory", NULL);
            (*(uint64_t *)rs_dict_val(&o->dict, (size_t)id))++;
        }
    }
    uint64_t sum = mix(0, o->dict.n);
    for (size_t id = 0; id < o->dict.n; id++) {
        size_t kl;
        const char *key = rs_dict_key(&o->dict, id, &kl);
        sum += rs_hash64(key, kl) * (*(uint64_t *)rs_dict_val(&o->dict, id) | 1);
    }
    rs_dict_free(&o->dict);
    return sum;
}

static void on_hit(void *ctx, uint32_t cat, uint32_t gpat)
{
    (void)cat;
    ((uint64_t *)ctx)[gpat]++;
}

/* One pass: every text tokenized and matched, hits counted per pattern;
 * the checksum is over the per-pattern counts. */
static uint64_t pass_match(const rs_kernels_t *k, const bench_input_t *in, bench_out_t *o)
{
    const size_t np = o->m->npat_total;
    memset(o->hits, 0, (np ? np : 1) * sizeof *o->hits);
    for (size_t i = 0; i < in->n; i++) {
        o->t.n = 0;
        o->t.fold_len = 0;
        k->tokenize(in->v[i].data, in->v[i].len, &o->t);
        rs_matcher_run(o->m, &o->ms, &o->t, 0, o->t.n, o->abs, on_hit, o->hits);
        o->abs += o->t.n;
    }
    uint64_t sum = mix(0, np);
    for (size_t p = 0; p < np; p++)
        sum = mix(sum, o->hits[p]);
    return sum;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median MB/s of runs timed runs of reps passes; min and max too. */
static double measure(bench_pass_fn fn, const rs_kernels_t *k, const bench_input_t *in, bench_out_t *o,
                      double min_time, int runs, double *lo, double *hi, size_t *reps_out)
{
    fn(k, in, o); /* warm-up */
    double t0 = now();
    fn(k, in, o);
    const double one = now() - t0;
    size_t reps = one > 0 ? (size_t)(min_time / one) + 1 : 1;
    double mbs[64];
    if (runs > 64)
        runs = 64;
    for (int r = 0; r < runs; r++) {
        t0 = now();
        for (size_t i = 0; i < reps; i++)
            fn(k, in, o);
        const double dt = now() - t0;
        mbs[r] = (double)in->bytes * (double)reps / dt / 1e6;
    }
    qsort(mbs, (size_t)runs, sizeof *mbs, cmp_double);
    *lo = mbs[0];
    *hi = mbs[runs - 1];
    *reps_out = reps;
    return mbs[runs / 2];
}

int main(int argc, char **argv)
{
    bench_input_t in = {0};
    const char *backends = NULL, *mode = "both", *save = NULL, *lexicon = NULL;
    size_t piece = 0;
    int no_ratio = 0;
    double min_time = 1.0;
    int runs = 5;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--backends") == 0 && i + 1 < argc)
            backends = argv[++i];
        else if (strcmp(a, "--mode") == 0 && i + 1 < argc)
            mode = argv[++i];
        else if (strcmp(a, "--min-time") == 0 && i + 1 < argc)
            min_time = atof(argv[++i]);
        else if (strcmp(a, "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(a, "--lexicon") == 0 && i + 1 < argc)
            lexicon = argv[++i];
        else if (strcmp(a, "--save") == 0 && i + 1 < argc)
            save = argv[++i];
        else if (strcmp(a, "--no-ratio") == 0)
            no_ratio = 1;
        else if (strcmp(a, "--piece") == 0 && i + 1 < argc)
            piece = (size_t)strtoull(argv[++i], NULL, 10);
        else if (strcmp(a, "--gen") == 0 && i + 2 < argc) {
            generate(&in, argv[i + 1], (size_t)strtoull(argv[i + 2], NULL, 10));
            i += 2;
        } else if (a[0] == '-') {
            die("usage: bench_tokenize [--backends LIST] [--mode tokenize|count|both] [--min-time S] "
                "[--lexicon FILE] [--runs N] [--piece N] [--save FILE] [--no-ratio] (PATH... | --gen cyrillic|greek|latin BYTES)",
                NULL);
        } else {
            load_path(&in, a);
        }
    }
    if (in.n == 0 || in.bytes == 0)
        die("no input", NULL);
    if (runs < 1)
        runs = 1;
    if (save) {
        FILE *f = fopen(save, "wb");
        if (!f)
            die(strerror(errno), save);
        for (size_t i = 0; i < in.n; i++)
            if (fwrite(in.v[i].data, 1, in.v[i].len, f) != in.v[i].len)
                die("write error", save);
        if (fclose(f) != 0)
            die("write error", save);
        return 0;
    }
    const int only_match = strcmp(mode, "match") == 0;
    const int do_tok = strcmp(mode, "count") != 0 && !only_match;
    const int do_count = strcmp(mode, "tokenize") != 0 && !only_match;
    const int do_match = lexicon != NULL && (only_match || strcmp(mode, "both") == 0);
    if (only_match && !lexicon)
        die("--mode match needs --lexicon FILE", NULL);
    const bench_input_t texts = in;
    if (piece > 0)
        in = cut_pieces(&texts, piece);

    /* the tables to run: scalar first (the reference of the ratios) */
    const rs_kernels_t *list[16];
    size_t nk = 0;
    const uint32_t have = rs_cpu_features();
    list[nk++] = &rs_kernels_scalar;
    for (const rs_kernels_t *const *k = rs_kernels_all(); *k && nk < 16; k++) {
        if (*k == &rs_kernels_scalar)
            continue;
        const int runs_here = ((*k)->required & have) == (*k)->required;
        if (backends) {
            char want[256];
            snprintf(want, sizeof want, ",%s,", backends);
            char name[64];
            snprintf(name, sizeof name, ",%s,", (*k)->name);
            if (!strstr(want, name))
                continue;
            if (!runs_here)
                die("this CPU cannot run backend", (*k)->name);
        } else if (!runs_here) {
            printf("# skipped %s: this CPU lacks its instruction set\n", (*k)->name);
            continue;
        }
        list[nk++] = *k;
    }

    bench_out_t o = {0};
    rs_lexicon_t lex = {0};
    rs_matcher_t matcher = {0};
    if (do_match) {
        rs_error_t err = {0};
        if (rs_lexicon_load(&lex, lexicon, RS_LEXFMT_AUTO, &err) != RS_OK)
            die(err.msg, NULL);
        if (rs_matcher_build(&matcher, &lex) != RS_OK || rs_match_state_init(&o.ms, &matcher) != RS_OK)
            die("out of memory", NULL);
        o.m = &matcher;
        o.hits = calloc(matcher.npat_total ? matcher.npat_total : 1, sizeof *o.hits);
        if (!o.hits)
            die("out of memory", NULL);
    }
    o.t.tok_cap = in.max_len + 1;
    o.t.fold_cap = 2 * in.max_len + 64;
    o.t.tok = malloc(o.t.tok_cap * sizeof *o.t.tok);
    o.t.fold = malloc(o.t.fold_cap);
    if (!o.t.tok || !o.t.fold)
        die("out of memory", NULL);

    /* check every backend against the reference before timing anything */
    const uint64_t ref_tok = pass_check(list[0], &in, &o);
    const uint64_t ref_count = do_count ? pass_count(list[0], &in, &o) : 0;
    const uint64_t ref_match = do_match ? pass_match(list[0], &in, &o) : 0;
    if (do_match) {
        uint64_t hits = 0;
        for (size_t p = 0; p < matcher.npat_total; p++)
            hits += o.hits[p];
        printf("# lexicon %s: %zu categories, %zu patterns compiled; %llu hits\n", lexicon, matcher.ncat,
               matcher.npat, (unsigned long long)hits);
    }
    for (size_t i = 1; i < nk; i++) {
        if (do_match && pass_match(list[i], &in, &o) != ref_match)
            die("lexicon hits differ from the scalar reference for backend", list[i]->name);
        if (pass_check(list[i], &in, &o) != ref_tok)
            die("tokens differ from the scalar reference for backend", list[i]->name);
        if (do_count && pass_count(list[i], &in, &o) != ref_count)
            die("counts differ from the scalar reference for backend", list[i]->name);
    }

    printf("# %zu texts, %zu bytes, %zu tokenize calls; min-time %.2f s, median of %d runs; CPU time; outputs "
           "checked against scalar\n",
           texts.n, in.bytes, in.n, min_time, runs);
    printf("%-9s %-9s %10s %10s %10s %6s %8s\n", "mode", "backend", "MB/s", "min", "max", "reps", "ratio");
    static const char *const mode_names[3] = {"tokenize", "count", "match"};
    static const bench_pass_fn mode_fns[3] = {pass_tokenize, pass_count, pass_match};
    for (int m = 0; m < 3; m++) {
        if ((m == 0 && !do_tok) || (m == 1 && !do_count) || (m == 2 && !do_match))
            continue;
        const bench_pass_fn fn = mode_fns[m];
        double ref = 0;
        for (size_t i = no_ratio && nk > 1 ? 1 : 0; i < nk; i++) {
            double lo, hi;
            size_t reps;
            const double med = measure(fn, list[i], &in, &o, min_time, runs, &lo, &hi, &reps);
            if (i == 0)
                ref = med;
            printf("%-9s %-9s %10.1f %10.1f %10.1f %6zu", mode_names[m], list[i]->name, med, lo, hi, reps);
            if (ref > 0)
                printf(" %7.2fx", med / ref);
            printf("\n");
            fflush(stdout);
        }
    }
    free(o.t.tok);
    free(o.t.fold);
    free(o.hits);
    if (do_match) {
        rs_match_state_free(&o.ms);
        rs_matcher_free(&matcher);
    }
    rs_lexicon_free(&lex);
    for (size_t i = 0; i < texts.n; i++)
        free(texts.v[i].data);
    if (in.v != texts.v)
        free(in.v);
    free(texts.v);
    return 0;
}
