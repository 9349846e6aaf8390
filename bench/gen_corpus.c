/*
 * gen_corpus.c - a deterministic transcript generator: writes a tar archive
 * (POSIX ustar) of made-up transcripts of any size, to stdout or a file,
 * for measuring rostrum on archives larger than any real corpus at hand.
 *
 *   gen_corpus [--size N[K|M|G]] [--seed S] [--doc-size N] [--out FILE]
 *
 * Each document is a show episode with 2 to 5 named speakers (a share of
 * them with non-ASCII names), turns of Zipf-distributed words from a
 * made-up vocabulary of 30,000 words, topic words (economy, health,
 * elections, ...), about 10% of words in other scripts (Latin with
 * diacritics, Cyrillic, Greek, CJK), and 0.3% rare words drawn from a
 * million more, so that the number of distinct terms (and bigrams) keeps
 * growing with the archive as in real text, until about a million. Formats: Markdown "**Name:**" (45%), "Name:" text (20%),
 * SubRip (10%), WebVTT (10%), JSON Lines (10%), captions with ">>" (5%).
 * Document i depends only on the seed and i, so any archive is reproduced
 * byte for byte by the same command. The output stops at the first
 * document that reaches --size (default 1G); docs/formats.md describes the
 * formats, bench/RESULTS.md the measurements made with it.
 *
 * Standalone on purpose (no librostrum, no libarchive): build with
 *   cc -O2 -std=c11 -D_DEFAULT_SOURCE -o gen_corpus bench/gen_corpus.c -lm
 * One thread; memory: one document and the vocabulary.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- randomness: splitmix64, one stream per document ---------------------- */

typedef struct rng {
    uint64_t s;
} rng_t;

static uint64_t rng_next(rng_t *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A well-mixed start for document i's stream: splitmix streams are one
 * sequence, so starts must not be a few steps apart. */
static rng_t rng_for(uint64_t seed, uint64_t i)
{
    rng_t t = {seed ^ (i * 0xD1B54A32D192ED03ull)};
    rng_t r = {rng_next(&t)};
    r.s ^= rng_next(&t) << 17;
    return r;
}

static uint32_t rng_below(rng_t *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static double rng_unit(rng_t *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* --- vocabulary ---------------------------------------------------------- */

#define VOCAB 30000

static const char *const syllables[] = {
    "ka", "lo", "mi", "ra", "te", "su", "po", "ne", "di", "ba", "vo", "qui", "ster", "lan", "mor", "pel",
    "tri", "gon", "sha", "fel", "ur", "an", "es", "ol", "im", "dra", "ke", "wen", "zo", "thi", "cor", "bel",
    "ax", "ith", "um", "ry", "sko", "plu", "ven", "dor",
};
#define NSYL (sizeof syllables / sizeof syllables[0])

/* Common English words take the first ranks, so texts read like speech. */
static const char *const common[] = {
    "the", "and", "to", "of", "a", "that", "I", "it", "you", "is", "in", "we", "so", "this", "like", "it's",
    "know", "was", "for", "but", "have", "just", "they", "on", "be", "think", "what", "yeah", "with", "do",
    "are", "not", "there", "can", "right", "people", "if", "about", "really", "one", "all", "at", "or", "my",
    "get", "kind", "of", "mean", "would", "that's", "going", "because", "when", "go", "lot", "thing", "from",
    "don't", "some", "more", "things", "time", "now", "how", "them", "out", "then", "other", "which", "up",
};
#define NCOMMON (sizeof common / sizeof common[0])

/* Words of other scripts (made up or everyday words). */
static const char *const foreign[] = {
    "café", "naïve", "über", "straße", "mañana", "garçon", "façade", "crème", "élan", "smörgåsbord",
    "привет", "работа", "данные", "город", "время", "γλώσσα", "λόγος", "κόσμος", "数据", "编译器",
    "東京", "会議", "経済", "사람", "시간", "ünïcödé", "jalapeño", "résumé", "Zürich", "Kraków",
};
#define NFOREIGN (sizeof foreign / sizeof foreign[0])

static const char *const topics[][6] = {
    {"economy", "jobs", "inflation", "tariffs", "wages", "markets"},
    {"health", "hospital", "vaccine", "doctors", "insurance", "clinic"},
    {"election", "voting", "ballot", "campaign", "senate", "polls"},
    {"climate", "emissions", "energy", "solar", "carbon", "drought"},
    {"software", "compiler", "kernel", "database", "release", "bugs"},
    {"education", "schools", "teachers", "students", "tuition", "exams"},
};
#define NTOPICS (sizeof topics / sizeof topics[0])

static const char *const first_names[] = {
    "Ana", "Ben", "Chloé", "Dmitri", "Elif", "Farid", "Grace", "Hiro", "Ingrid", "José", "Kwame", "Lena",
    "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Søren", "Tomás", "Uma", "Viktor", "Wen", "Yara",
};
static const char *const last_names[] = {
    "Alvarez", "Brooks", "Chen", "Dubois", "Eriksen", "Fischer", "García", "Haddad", "Ivanova", "Jensen",
    "Kowalski", "Lefèvre", "Mensah", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi", "Sato", "Müller",
};
#define NFIRST (sizeof first_names / sizeof first_names[0])
#define NLAST (sizeof last_names / sizeof last_names[0])

static char *vocab[VOCAB];
static double zipf_cdf[VOCAB];

/* Word number x written as syllables (base NSYL digits), at least k. */
static size_t spell(char *w, size_t cap, uint64_t x, int k)
{
    size_t n = 0;
    for (int d = 0; d < k || x; d++) {
        n += (size_t)snprintf(w + n, cap - n, "%s", syllables[x % NSYL]);
        x /= NSYL;
    }
    return n;
}

#define RARE_WORDS 1000000u

static void vocab_build(uint64_t seed)
{
    for (size_t i = 0; i < VOCAB; i++) {
        if (i < NCOMMON) {
            vocab[i] = strdup(common[i]);
        } else {
            /* distinct numbers, scattered by a multiplier prime to NSYL^3 */
            char w[64];
            spell(w, sizeof w, (i * 7919u + seed) % (NSYL * NSYL * NSYL), 2);
            vocab[i] = strdup(w);
        }
        if (!vocab[i]) {
            fputs("gen_corpus: out of memory\n", stderr);
            exit(1);
        }
    }
    double sum = 0;
    for (size_t i = 0; i < VOCAB; i++)
        sum += 1.0 / pow((double)(i + 1), 1.05);
    double acc = 0;
    for (size_t i = 0; i < VOCAB; i++) {
        acc += 1.0 / pow((double)(i + 1), 1.05) / sum;
        zipf_cdf[i] = acc;
    }
    zipf_cdf[VOCAB - 1] = 1.0;
}

static size_t zipf_rank(double x)
{
    size_t lo = 0, hi = VOCAB - 1;
    while (lo < hi) {
        const size_t mid = (lo + hi) / 2;
        if (zipf_cdf[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Words follow words: most of the time the next word is one of SUCC fixed
 * successors of the previous one (themselves Zipf-distributed), else any
 * word. This gives text about as many distinct bigrams per token as real
 * transcripts (2.3 million in the 21 million tokens of /tmp/corpus; the
 * generator gives a similar count at that size). */
#define SUCC 24
#define P_FOLLOW 800 /* per mille */

static uint64_t g_seed;

static const char *word(rng_t *r, int topic, size_t *prev)
{
    static char rare[64];
    const uint32_t u = rng_below(r, 1000);
    if (u < 3) {
        /* four syllables or more: apart from the vocabulary's */
        spell(rare, sizeof rare, NSYL * NSYL * NSYL + rng_below(r, RARE_WORDS), 4);
        *prev = rng_below(r, VOCAB);
        return rare;
    }
    if (u < 100)
        return foreign[rng_below(r, NFOREIGN)];
    if (u < 130)
        return topics[topic][rng_below(r, 6)];
    size_t w;
    if (rng_below(r, 1000) < P_FOLLOW) {
        rng_t h = {g_seed ^ ((uint64_t)*prev * SUCC + rng_below(r, SUCC)) * 0x9E3779B97F4A7C15ull};
        w = zipf_rank(rng_unit(&h));
    } else {
        w = zipf_rank(rng_unit(r));
    }
    *prev = w;
    return vocab[w];
}

/* --- a growing buffer ---------------------------------------------------- */

typedef struct buf {
    char *p;
    size_t n, cap;
} buf_t;

static void put(buf_t *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1 << 16;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            fputs("gen_corpus: out of memory\n", stderr);
            exit(1);
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void puts_(buf_t *b, const char *s)
{
    put(b, s, strlen(s));
}

static void printf_(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_(buf_t *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    put(b, tmp, n < (int)sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* One utterance of n words into b (no character in the words needs
 * escaping in JSON). */
static void sentence(buf_t *b, rng_t *r, int topic, int n)
{
    size_t prev = rng_below(r, 64);
    for (int i = 0; i < n; i++) {
        const char *w = word(r, topic, &prev);
        if (i == 0 && w[0] >= 'a' && w[0] <= 'z') {
            char c[2] = {(char)(w[0] - 32), 0};
            puts_(b, c);
            puts_(b, w + 1);
        } else {
            puts_(b, w);
        }
        const uint32_t p = rng_below(r, 100);
        if (i == n - 1)
            puts_(b, p < 15 ? "?" : ".");
        else if (p < 6)
            puts_(b, ",");
        if (i < n - 1)
            puts_(b, " ");
    }
}

enum { F_MD, F_TXT, F_SRT, F_VTT, F_JSONL, F_CAP };
static const char *const exts[] = {"md", "txt", "srt", "vtt", "jsonl", "txt"};

static int pick_format(rng_t *r)
{
    const uint32_t u = rng_below(r, 100);
    return u < 45 ? F_MD : u < 65 ? F_TXT : u < 75 ? F_SRT : u < 85 ? F_VTT : u < 95 ? F_JSONL : F_CAP;
}

static void timestamp(char *out, size_t n, uint64_t ms, char frac)
{
    snprintf(out, n, "%02u:%02u:%02u%c%03u", (unsigned)(ms / 3600000), (unsigned)(ms / 60000 % 60),
             (unsigned)(ms / 1000 % 60), frac, (unsigned)(ms % 1000));
}

/* Document i: about target bytes. */
static int make_doc(buf_t *b, uint64_t seed, uint64_t i, size_t target)
{
    rng_t r = rng_for(seed, i);
    b->n = 0;
    const int fmt = pick_format(&r);
    const int topic = (int)rng_below(&r, NTOPICS);
    const int nspk = 2 + (int)rng_below(&r, 4);
    char names[5][64];
    for (int s = 0; s < nspk; s++)
        snprintf(names[s], sizeof names[s], "%s %s", first_names[rng_below(&r, NFIRST)],
                 last_names[rng_below(&r, NLAST)]);
    /* documents vary in size: 0.25x to 2.5x the target */
    const size_t want = (size_t)((double)target * (0.25 + 2.25 * rng_unit(&r) * rng_unit(&r))) + 200;
    if (fmt == F_MD) {
        printf_(b, "---\ntitle: Episode %llu about %s\nspeakers: [", (unsigned long long)i, topics[topic][0]);
        for (int s = 0; s < nspk; s++)
            printf_(b, "%s%s", s ? ", " : "", names[s]);
        printf_(b, "]\ntags: [%s, generated]\n---\n\n", topics[topic][0]);
    }
    if (fmt == F_VTT)
        puts_(b, "WEBVTT\n\nNOTE generated by gen_corpus\n\n");
    uint64_t ms = 0;
    int prev = -1;
    for (unsigned cue = 1; b->n < want; cue++) {
        int s = (int)rng_below(&r, (uint32_t)nspk);
        if (s == prev && nspk > 1)
            s = (s + 1) % nspk;
        prev = s;
        const int words = 4 + (int)rng_below(&r, 60);
        const uint64_t dur = 400u * (uint64_t)words + rng_below(&r, 900);
        char t0[32], t1[32];
        switch (fmt) {
        case F_MD:
            printf_(b, "**%s:** ", names[s]);
            sentence(b, &r, topic, words);
            puts_(b, "\n\n");
            break;
        case F_TXT:
            printf_(b, "%s: ", names[s]);
            sentence(b, &r, topic, words);
            puts_(b, "\n");
            break;
        case F_CAP:
            puts_(b, ">> ");
            if (rng_below(&r, 3) == 0)
                printf_(b, "%s: ", names[s]);
            sentence(b, &r, topic, words);
            puts_(b, "\n");
            break;
        case F_SRT:
            timestamp(t0, sizeof t0, ms, ',');
            timestamp(t1, sizeof t1, ms + dur, ',');
            printf_(b, "%u\n%s --> %s\n%s: ", cue, t0, t1, names[s]);
            sentence(b, &r, topic, words);
            puts_(b, "\n\n");
            break;
        case F_VTT:
            timestamp(t0, sizeof t0, ms, '.');
            timestamp(t1, sizeof t1, ms + dur, '.');
            printf_(b, "%s --> %s\n<v %s>", t0, t1, names[s]);
            sentence(b, &r, topic, words);
            puts_(b, "\n\n");
            break;
        default: /* F_JSONL */
            printf_(b, "{\"speaker\": \"%s\", \"start\": %.3f, \"end\": %.3f, \"text\": \"", names[s],
                    (double)ms / 1000.0, (double)(ms + dur) / 1000.0);
            sentence(b, &r, topic, words);
            puts_(b, "\"}\n");
            break;
        }
        ms += dur + rng_below(&r, 400);
    }
    return fmt;
}

/* --- tar ----------------------------------------------------------------- */

static void octal(char *field, size_t width, uint64_t v)
{
    /* width - 1 digits and a NUL */
    for (size_t i = width - 1; i-- > 0;) {
        field[i] = (char)('0' + (v & 7));
        v >>= 3;
    }
    field[width - 1] = '\0';
}

static int write_all(FILE *f, const void *p, size_t n)
{
    return fwrite(p, 1, n, f) == n ? 0 : -1;
}

static int tar_member(FILE *f, const char *name, const char *data, size_t len)
{
    char h[512];
    memset(h, 0, sizeof h);
    snprintf(h, 100, "%s", name);
    octal(h + 100, 8, 0644);
    octal(h + 108, 8, 0);
    octal(h + 116, 8, 0);
    octal(h + 124, 12, len);
    octal(h + 136, 12, 1700000000);
    memset(h + 148, ' ', 8);
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    unsigned sum = 0;
    for (size_t i = 0; i < sizeof h; i++)
        sum += (unsigned char)h[i];
    snprintf(h + 148, 8, "%06o", sum);
    h[155] = ' ';
    static const char zeros[512];
    if (write_all(f, h, sizeof h) || write_all(f, data, len))
        return -1;
    return (len % 512) ? write_all(f, zeros, 512 - len % 512) : 0;
}

/* --- main ---------------------------------------------------------------- */

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    const unsigned long long v = strtoull(s, &end, 10);
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

int main(int argc, char **argv)
{
    uint64_t size = 1ull << 30, seed = 1, doc_size = 60000;
    const char *out = "-";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(a, "--size") == 0 && v)
            bad = parse_size(v, &size), i++;
        else if (strcmp(a, "--seed") == 0 && v)
            bad = parse_size(v, &seed), i++;
        else if (strcmp(a, "--doc-size") == 0 && v)
            bad = parse_size(v, &doc_size) || doc_size < 100, i++;
        else if (strcmp(a, "--out") == 0 && v)
            out = v, i++;
        else
            bad = 1;
        if (bad) {
            fputs("usage: gen_corpus [--size N[K|M|G]] [--seed S] [--doc-size N] [--out FILE|-]\n", stderr);
            return 2;
        }
    }
    FILE *f = strcmp(out, "-") == 0 ? stdout : fopen(out, "wb");
    if (!f) {
        fprintf(stderr, "gen_corpus: %s: %s\n", out, strerror(errno));
        return 1;
    }
    static char obuf[1 << 20];
    setvbuf(f, obuf, _IOFBF, sizeof obuf);
    vocab_build(seed);
    g_seed = seed;
    buf_t b = {0};
    uint64_t written = 0, docs = 0;
    while (written < size) {
        const int fmt = make_doc(&b, seed, docs, (size_t)doc_size);
        char name[64];
        snprintf(name, sizeof name, "gen/%03llu/ep%07llu.%s", (unsigned long long)(docs / 1000),
                 (unsigned long long)docs, exts[fmt]);
        if (tar_member(f, name, b.p, b.n)) {
            fprintf(stderr, "gen_corpus: write error: %s\n", strerror(errno));
            return 1;
        }
        written += 512 + (b.n + 511) / 512 * 512;
        docs++;
    }
    static const char end[1024];
    if (write_all(f, end, sizeof end) || fflush(f) != 0 || (f != stdout && fclose(f) != 0)) {
        fprintf(stderr, "gen_corpus: write error: %s\n", strerror(errno));
        return 1;
    }
    fprintf(stderr, "gen_corpus: %llu documents, %llu bytes of tar (seed %llu)\n", (unsigned long long)docs,
            (unsigned long long)(written + sizeof end), (unsigned long long)seed);
    free(b.p);
    for (size_t i = 0; i < VOCAB; i++)
        free(vocab[i]);
    return 0;
}
