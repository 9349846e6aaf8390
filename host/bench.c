/*
 * bench.c - `rostrum bench` without the printing (bench.h): the corpus
 * generator, the lexicon generator, the checks against the scalar
 * reference, the machine's facts, the timed passes, and the JSON of a run.
 *
 * Everything runs on the calling thread except the scan-pool passes, whose
 * workers the pool (pool.h) starts and joins within the pass. Memory is
 * owned by the corpus, the environment of one rs_bench_run call (freed
 * before it returns) and the result. Integer arithmetic only where output
 * must be reproducible (generator, lexicon); floating point only for times.
 */
#include "bench.h"

#include <ctype.h>
#include <errno.h>
#include <hwloc.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "format.h"   /* rs_doc_parse */
#include "hash.h"     /* rs_hash64, rs_hash_fmix */
#include "ingest.h"   /* rs_ingest_paths */
#include "kernels.h"  /* rs_kernels_all, rs_cpu_features, rs_safe_cut */
#include "labels.h"   /* rs_headings_t */
#include "matcher.h"  /* rs_matcher_t */
#include "opencl.h"   /* rs_opencl_devices, rs_opencl_open, rs_opencl_tokenize */
#include "pool.h"     /* rs_pool_start, rs_pool_add, rs_pool_finish */
#include "rostrum.h"  /* rs_now, RS_DEFAULT_MAX_DOC_BYTES */
#include "scan.h"     /* rs_scanner_t, RS_CHUNK_BYTES */
#include "unicode.h"  /* rs_utf8_encode */

#if defined(__clang__)
#define RS_BENCH_CC "clang " __clang_version__
#elif defined(__GNUC__)
#define RS_BENCH_CC "gcc " __VERSION__
#else
#define RS_BENCH_CC "unknown C compiler"
#endif
#ifndef RS_BUILD_FLAGS
#define RS_BUILD_FLAGS "(not recorded: built without the RS_BUILD_FLAGS definition)"
#endif
#ifndef RS_VERSION
#define RS_VERSION "unknown"
#endif

/* ======================================================================== */
/* Pseudo-random numbers and Zipf tables: integers only, so reproducible.   */

typedef struct rs_rng {
    uint64_t s[4];
} rs_rng_t;

static uint64_t rs_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void rs_rng_seed(rs_rng_t *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = rs_splitmix(&seed);
}

static uint64_t rs_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** */
static uint64_t rs_rng_next(rs_rng_t *r)
{
    const uint64_t res = rs_rotl(r->s[1] * 5, 7) * 9, t = r->s[1] << 17;
    r->s[2] ^= r->s[0];
    r->s[3] ^= r->s[1];
    r->s[1] ^= r->s[2];
    r->s[0] ^= r->s[3];
    r->s[2] ^= t;
    r->s[3] = rs_rotl(r->s[3], 45);
    return res;
}

/* Uniform in [0, n), n > 0 (multiply-shift; the bias is below 2^-32). */
static uint32_t rs_below(rs_rng_t *r, uint32_t n)
{
    return (uint32_t)(((rs_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static int rs_chance(rs_rng_t *r, uint32_t num, uint32_t den)
{
    return rs_below(r, den) < num;
}

/* Zipf's law with exponent 1: rank i (0-based) has weight 2^40 / (i + 1). */
typedef struct rs_zipf {
    uint64_t *cum;
    size_t n;
} rs_zipf_t;

static rs_err_e rs_zipf_init(rs_zipf_t *z, size_t n)
{
    z->n = n;
    z->cum = malloc((n ? n : 1) * sizeof *z->cum);
    if (!z->cum)
        return RS_ERR_NOMEM;
    uint64_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc += (1ull << 40) / (i + 1);
        z->cum[i] = acc;
    }
    return RS_OK;
}

static size_t rs_zipf_pick(const rs_zipf_t *z, rs_rng_t *r)
{
    const uint64_t x = rs_rng_next(r) % z->cum[z->n - 1];
    size_t lo = 0, hi = z->n - 1;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (z->cum[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static void rs_zipf_free(rs_zipf_t *z)
{
    free(z->cum);
    memset(z, 0, sizeof *z);
}

/* ======================================================================== */
/* A growing byte buffer whose failure is sticky (checked once at the end). */

typedef struct rs_buf {
    uint8_t *p;
    size_t len, cap;
    int oom;
} rs_buf_t;

static void rs_buf_put(rs_buf_t *b, const void *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void rs_buf_str(rs_buf_t *b, const char *s)
{
    rs_buf_put(b, s, strlen(s));
}

static void rs_buf_cp(rs_buf_t *b, uint32_t cp)
{
    uint8_t u[4];
    rs_buf_put(b, u, rs_utf8_encode(cp, u));
}

static void rs_buf_fmt(rs_buf_t *b, const char *fmt, unsigned a, unsigned c, unsigned d)
{
    char tmp[64];
    const int n = snprintf(tmp, sizeof tmp, fmt, a, c, d);
    if (n > 0)
        rs_buf_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A list of NUL-terminated words in one arena, with a set to refuse
 * duplicates. */
typedef struct rs_words {
    rs_buf_t arena;
    size_t *off;
    size_t n, cap;
    rs_dict_t set;
} rs_words_t;

static void rs_words_init(rs_words_t *w)
{
    memset(w, 0, sizeof *w);
    rs_dict_init(&w->set, 1);
}

static void rs_words_free(rs_words_t *w)
{
    free(w->arena.p);
    free(w->off);
    rs_dict_free(&w->set);
    memset(w, 0, sizeof *w);
}

/* 1 when added, 0 when already there, -1 when out of memory. */
static int rs_words_add(rs_words_t *w, const char *s, size_t len)
{
    int created = 0;
    if (rs_dict_put(&w->set, s, len, rs_hash64(s, len), &created) < 0)
        return -1;
    if (!created)
        return 0;
    if (w->n == w->cap) {
        const size_t cap = w->cap ? w->cap * 2 : 256;
        size_t *o = realloc(w->off, cap * sizeof *o);
        if (!o)
            return -1;
        w->off = o;
        w->cap = cap;
    }
    w->off[w->n++] = w->arena.len;
    rs_buf_put(&w->arena, s, len);
    rs_buf_put(&w->arena, "", 1);
    return w->arena.oom ? -1 : 1;
}

static const char *rs_words_at(const rs_words_t *w, size_t i)
{
    return (const char *)w->arena.p + w->off[i];
}

/* ======================================================================== */
/* The corpus generator.                                                    */

/* Frequent English words, most frequent first (the top of the Zipfian
 * vocabulary); generated words follow them. */
static const char *const rs_function_words[] = {
    "the", "and", "i", "to", "a", "you", "that", "of", "it", "is", "in", "we", "so", "like", "this",
    "but", "what", "for", "know", "just", "be", "on", "have", "with", "are", "do", "not", "think",
    "was", "they", "yeah", "can", "if", "there", "about", "it's", "i'm", "don't", "that's", "one",
    "or", "all", "right", "at", "me", "my", "get", "really", "more", "some", "your", "people",
    "would", "going", "because", "how", "then", "when", "an", "out", "go", "there's", "kind", "lot",
    "things", "thing", "as", "from", "also", "way", "he", "up", "mean", "we're", "time", "want",
    "yes", "very", "good", "now", "which", "make", "those", "where", "see", "who", "well", "work",
    "something", "other", "say", "had", "much", "were", "maybe", "them", "actually", "by", "has",
    "our", "even", "could", "than", "these", "you're", "into", "been", "here", "pretty", "sure",
    "thought", "okay", "new", "use", "said", "first", "why", "most", "doing", "got", "two",
    "little", "different", "over", "great", "part", "back", "still", "need", "always", "every",
};

static const char *const rs_onsets[] = {
    "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z",
    "b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "w", "", "", "",
    "br", "cr", "dr", "fr", "gr", "pr", "tr", "st", "sp", "sl", "pl", "bl", "cl", "fl", "ch",
    "sh", "th", "wh", "qu", "sc", "sk", "sn", "sw",
};
static const char *const rs_vowels[] = {
    "a", "e", "i", "o", "u", "a", "e", "o", "i", "a", "e", "o", "u", "ai", "ea", "ee", "oo", "ou", "ie",
    "io", "y",
};
static const char *const rs_codas[] = {
    "", "", "", "", "", "", "", "", "", "", "n", "r", "s", "t", "l", "m", "n", "r", "s", "t", "l",
    "nd", "st", "ng", "ck", "rt", "ll", "ss", "x", "p",
};
/* Onsets and vowels of the "Latin with diacritics" script (UTF-8). */
static const char *const rs_latin_onsets[] = {
    "b", "d", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "ł", "ż", "š", "č", "ñ", "ř", "ś",
};
static const char *const rs_latin_vowels[] = {
    "á", "é", "í", "ó", "ú", "ä", "ö", "ü", "å", "ø", "ë", "ã", "a", "e", "o", "i",
};

#define RS_NELEM(a) (sizeof(a) / sizeof((a)[0]))

typedef enum rs_script_e {
    RS_SC_LATIN,
    RS_SC_CYRILLIC,
    RS_SC_GREEK,
    RS_SC_ARABIC,
    RS_SC_HEBREW,
    RS_SC_DEVANAGARI,
    RS_SC_HAN,
    RS_SC_JAPANESE,
    RS_SC_HANGUL,
    RS_SC_THAI,
    RS_SC_COUNT
} rs_script_e;

static const uint32_t rs_cyr_cons[] = {0x431, 0x432, 0x433, 0x434, 0x436, 0x437, 0x43A, 0x43B, 0x43C, 0x43D,
                                       0x43F, 0x440, 0x441, 0x442, 0x444, 0x445, 0x446, 0x447, 0x448};
static const uint32_t rs_cyr_vow[] = {0x430, 0x435, 0x438, 0x43E, 0x443, 0x44B, 0x44D, 0x44E, 0x44F};
static const uint32_t rs_gr_cons[] = {0x3B2, 0x3B3, 0x3B4, 0x3B6, 0x3B8, 0x3BA, 0x3BB, 0x3BC,
                                      0x3BD, 0x3BE, 0x3C0, 0x3C1, 0x3C3, 0x3C4, 0x3C6, 0x3C7};
static const uint32_t rs_gr_vow[] = {0x3B1, 0x3B5, 0x3B7, 0x3B9, 0x3BF, 0x3C5, 0x3C9, 0x3AC, 0x3AD, 0x3AF, 0x3CC};
static const uint32_t rs_deva_signs[] = {0x93E, 0x93F, 0x940, 0x941, 0x942, 0x947, 0x948, 0x94B, 0x94C};
static const uint32_t rs_ja_particles[] = {0x306E, 0x306F, 0x304C, 0x3092, 0x306B, 0x3067, 0x3068};
static const uint32_t rs_thai_vow[] = {0xE30, 0xE32, 0xE34, 0xE35, 0xE38, 0xE39};
static const char *const rs_emoji[] = {
    "\xF0\x9F\x98\x80",                                 /* U+1F600 */
    "\xF0\x9F\x91\x8D",                                 /* U+1F44D */
    "\xE2\x9C\x8C\xEF\xB8\x8F",                         /* U+270C U+FE0F */
    "\xF0\x9F\x87\xAB\xF0\x9F\x87\xB7",                 /* regional indicators F R */
    "\xE2\x9D\xA4\xEF\xB8\x8F",                         /* U+2764 U+FE0F */
    "\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB",     /* U+1F469 ZWJ U+1F4BB */
};

#define RS_GEN_VOCAB 30000      /* generated English-like words after the function words */
#define RS_GEN_SCRIPT_VOCAB 3000 /* words per other script */
#define RS_GEN_SPEAKERS 300
#define RS_GEN_PHRASES 200
#define RS_GEN_SUCC 8 /* followers per word: speech repeats word pairs */

typedef struct rs_gen {
    rs_rng_t rng;
    uint64_t ppm; /* non-ASCII target, parts per million of bytes */
    rs_words_t vocab;
    rs_zipf_t zv;
    rs_words_t script[RS_SC_COUNT];
    rs_zipf_t zs;
    rs_words_t names;
    rs_zipf_t zn;
    uint32_t (*succ)[RS_GEN_SUCC]; /* per word: its usual followers (collocations) */
    rs_zipf_t zsucc;
    uint32_t phrase[RS_GEN_PHRASES][3]; /* vocabulary ranks; [2] may be UINT32_MAX */
    rs_bench_corpus_t *c;
    uint64_t nonascii; /* in documents finished so far, plus the current one */
    uint64_t total;
} rs_gen_t;

/* An English-like word of syl syllables into out (NUL-terminated). */
static size_t rs_gen_ascii_word(rs_rng_t *r, unsigned syl, char *out, size_t cap)
{
    size_t n = 0;
    for (unsigned s = 0; s < syl; s++) {
        const char *parts[3] = {rs_onsets[rs_below(r, RS_NELEM(rs_onsets))], rs_vowels[rs_below(r, RS_NELEM(rs_vowels))],
                                rs_codas[rs_below(r, RS_NELEM(rs_codas))]};
        for (int k = 0; k < 3; k++)
            for (const char *p = parts[k]; *p && n + 1 < cap; p++)
                out[n++] = *p;
    }
    out[n] = 0;
    return n;
}

static void rs_put_cps(rs_buf_t *b, rs_rng_t *r, const uint32_t *set, size_t n)
{
    rs_buf_cp(b, set[rs_below(r, (uint32_t)n)]);
}

/* One word of script sc into b (never empty). */
static void rs_gen_script_word(rs_rng_t *r, rs_script_e sc, rs_buf_t *b)
{
    switch (sc) {
    case RS_SC_LATIN: {
        const unsigned syl = 2 + rs_below(r, 2);
        for (unsigned s = 0; s < syl; s++) {
            rs_buf_str(b, rs_latin_onsets[rs_below(r, RS_NELEM(rs_latin_onsets))]);
            rs_buf_str(b, rs_latin_vowels[rs_below(r, RS_NELEM(rs_latin_vowels))]);
        }
        rs_buf_str(b, rs_codas[rs_below(r, RS_NELEM(rs_codas))]);
        break;
    }
    case RS_SC_CYRILLIC:
    case RS_SC_GREEK: {
        const int cy = sc == RS_SC_CYRILLIC;
        const unsigned syl = 1 + rs_below(r, 4);
        for (unsigned s = 0; s < syl; s++) {
            rs_put_cps(b, r, cy ? rs_cyr_cons : rs_gr_cons, cy ? RS_NELEM(rs_cyr_cons) : RS_NELEM(rs_gr_cons));
            rs_put_cps(b, r, cy ? rs_cyr_vow : rs_gr_vow, cy ? RS_NELEM(rs_cyr_vow) : RS_NELEM(rs_gr_vow));
        }
        if (rs_chance(r, 1, 2))
            rs_put_cps(b, r, cy ? rs_cyr_cons : rs_gr_cons, cy ? RS_NELEM(rs_cyr_cons) : RS_NELEM(rs_gr_cons));
        break;
    }
    case RS_SC_ARABIC: {
        const unsigned n = 3 + rs_below(r, 4);
        for (unsigned i = 0; i < n; i++) {
            uint32_t cp = 0x628 + rs_below(r, 0x64A - 0x628 + 1);
            if (cp >= 0x63B && cp <= 0x640) /* unassigned and tatweel */
                cp = 0x627;
            rs_buf_cp(b, cp);
        }
        break;
    }
    case RS_SC_HEBREW: {
        const unsigned n = 2 + rs_below(r, 5);
        for (unsigned i = 0; i < n; i++)
            rs_buf_cp(b, 0x5D0 + rs_below(r, 0x5EA - 0x5D0 + 1));
        break;
    }
    case RS_SC_DEVANAGARI: {
        const unsigned n = 2 + rs_below(r, 3);
        for (unsigned i = 0; i < n; i++) {
            rs_buf_cp(b, 0x915 + rs_below(r, 0x939 - 0x915 + 1));
            if (rs_chance(r, 2, 3))
                rs_put_cps(b, r, rs_deva_signs, RS_NELEM(rs_deva_signs));
        }
        if (rs_chance(r, 1, 6))
            rs_buf_cp(b, 0x902);
        break;
    }
    case RS_SC_HAN: {
        const unsigned n = 1 + rs_below(r, 3);
        for (unsigned i = 0; i < n; i++)
            rs_buf_cp(b, 0x4E00 + rs_below(r, 3000));
        break;
    }
    case RS_SC_JAPANESE: {
        const unsigned n = 2 + rs_below(r, 4);
        for (unsigned i = 0; i < n; i++)
            rs_buf_cp(b, 0x30A2 + rs_below(r, 0x30F3 - 0x30A2 + 1));
        rs_put_cps(b, r, rs_ja_particles, RS_NELEM(rs_ja_particles));
        break;
    }
    case RS_SC_HANGUL: {
        const unsigned n = 2 + rs_below(r, 3);
        for (unsigned i = 0; i < n; i++)
            rs_buf_cp(b, 0xAC00 + rs_below(r, 11172));
        break;
    }
    case RS_SC_THAI:
    default: {
        const unsigned n = 2 + rs_below(r, 2);
        for (unsigned i = 0; i < n; i++) {
            rs_buf_cp(b, 0xE01 + rs_below(r, 0xE2E - 0xE01 + 1));
            rs_put_cps(b, r, rs_thai_vow, RS_NELEM(rs_thai_vow));
            if (rs_chance(r, 1, 4))
                rs_buf_cp(b, 0xE48);
        }
        break;
    }
    }
}

static int rs_is_heading_name(const char *name)
{
    for (const char *const *h = rs_headings_default_list(); *h; h++)
        if (strcasecmp(*h, name) == 0)
            return 1;
    return 0;
}

static void rs_capitalize_ascii(char *s)
{
    if (*s >= 'a' && *s <= 'z')
        *s = (char)(*s - 'a' + 'A');
}

static rs_err_e rs_gen_init(rs_gen_t *g, const rs_bench_gen_t *o, rs_bench_corpus_t *c)
{
    memset(g, 0, sizeof *g);
    rs_rng_seed(&g->rng, o->seed);
    g->ppm = (uint64_t)(o->non_ascii * 1e6 + 0.5);
    g->c = c;
    rs_rng_t *r = &g->rng;
    char w[128];
    rs_words_init(&g->vocab);
    for (size_t i = 0; i < RS_NELEM(rs_function_words); i++)
        if (rs_words_add(&g->vocab, rs_function_words[i], strlen(rs_function_words[i])) < 0)
            return RS_ERR_NOMEM;
    while (g->vocab.n < RS_NELEM(rs_function_words) + RS_GEN_VOCAB) {
        const size_t rank = g->vocab.n;
        const unsigned syl = rank < 3000 ? 1 + rs_chance(r, 3, 10) : 2 + rs_chance(r, 3, 10);
        const size_t n = rs_gen_ascii_word(r, syl, w, sizeof w);
        if (n >= 2 && rs_words_add(&g->vocab, w, n) < 0)
            return RS_ERR_NOMEM;
    }
    RS_FORWARD(rs_zipf_init(&g->zv, g->vocab.n));
    RS_FORWARD(rs_zipf_init(&g->zsucc, RS_GEN_SUCC));
    g->succ = malloc(g->vocab.n * sizeof *g->succ);
    if (!g->succ)
        return RS_ERR_NOMEM;
    for (size_t i = 0; i < g->vocab.n; i++)
        for (int j = 0; j < RS_GEN_SUCC; j++)
            g->succ[i][j] = (uint32_t)rs_zipf_pick(&g->zv, r);
    for (int s = 0; s < RS_SC_COUNT; s++) {
        rs_words_init(&g->script[s]);
        rs_buf_t b = {0};
        for (unsigned tries = 0; g->script[s].n < RS_GEN_SCRIPT_VOCAB && tries < 20 * RS_GEN_SCRIPT_VOCAB; tries++) {
            b.len = 0;
            rs_gen_script_word(r, (rs_script_e)s, &b);
            if (b.oom || rs_words_add(&g->script[s], (const char *)b.p, b.len) < 0) {
                free(b.p);
                return RS_ERR_NOMEM;
            }
        }
        free(b.p);
    }
    RS_FORWARD(rs_zipf_init(&g->zs, RS_GEN_SCRIPT_VOCAB));
    /* Speakers: "First Last", some "First X. Last", some with diacritics. */
    rs_words_init(&g->names);
    while (g->names.n < RS_GEN_SPEAKERS) {
        rs_buf_t b = {0};
        char first[64], last[64];
        rs_gen_ascii_word(r, 1 + rs_below(r, 2), first, sizeof first);
        rs_capitalize_ascii(first);
        rs_buf_str(&b, first);
        if (rs_chance(r, 1, 10)) {
            const char mid[4] = {(char)('A' + rs_below(r, 26)), '.', ' ', 0};
            rs_buf_str(&b, " ");
            rs_buf_put(&b, mid, 2);
        }
        rs_buf_str(&b, " ");
        if (g->ppm && rs_chance(r, 3, 20)) {
            rs_buf_t l = {0};
            rs_gen_script_word(r, RS_SC_LATIN, &l);
            if (l.p && l.p[0] < 0x80)
                l.p[0] = (uint8_t)toupper(l.p[0]);
            else
                rs_buf_str(&b, "K");
            if (l.p)
                rs_buf_put(&b, l.p, l.len);
            free(l.p);
        } else {
            rs_gen_ascii_word(r, 2 + rs_below(r, 2), last, sizeof last);
            rs_capitalize_ascii(last);
            rs_buf_str(&b, last);
        }
        int added = 0;
        if (!b.oom && b.len <= RS_LABEL_MAX_BYTES && b.p[0] >= 'A' && b.p[0] <= 'Z'
            && !rs_is_heading_name((const char *)b.p))
            added = rs_words_add(&g->names, (const char *)b.p, b.len);
        const int oom = b.oom || added < 0;
        free(b.p);
        if (oom)
            return RS_ERR_NOMEM;
    }
    RS_FORWARD(rs_zipf_init(&g->zn, g->names.n));
    for (size_t i = 0; i < RS_GEN_PHRASES; i++) {
        const uint32_t span = 3000 - 150;
        g->phrase[i][0] = 150 + rs_below(r, span);
        g->phrase[i][1] = 150 + rs_below(r, span);
        g->phrase[i][2] = rs_chance(r, 1, 3) ? 150 + rs_below(r, span) : UINT32_MAX;
    }
    return RS_OK;
}

static void rs_gen_free(rs_gen_t *g)
{
    rs_words_free(&g->vocab);
    rs_zipf_free(&g->zv);
    rs_zipf_free(&g->zsucc);
    free(g->succ);
    for (int s = 0; s < RS_SC_COUNT; s++)
        rs_words_free(&g->script[s]);
    rs_zipf_free(&g->zs);
    rs_words_free(&g->names);
    rs_zipf_free(&g->zn);
}

/* An English word: contractions sometimes with a typographic apostrophe. */
static void rs_put_word(rs_gen_t *g, rs_buf_t *b, const char *w, int cap)
{
    const size_t start = b->len;
    const int curly = g->ppm && strchr(w, '\'') && rs_chance(&g->rng, 1, 3);
    for (const char *p = w; *p; p++) {
        if (*p == '\'' && curly)
            rs_buf_str(b, "\xE2\x80\x99");
        else
            rs_buf_put(b, p, 1);
    }
    if (!b->oom && b->len > start) {
        if (cap || (w[0] == 'i' && (w[1] == 0 || w[1] == '\'')))
            b->p[start] = (uint8_t)toupper(b->p[start]);
    }
}

static void rs_gen_sentence_other(rs_gen_t *g, rs_buf_t *b)
{
    rs_rng_t *r = &g->rng;
    const rs_script_e sc = (rs_script_e)rs_below(r, RS_SC_COUNT);
    const int spaced = sc != RS_SC_HAN && sc != RS_SC_JAPANESE;
    const int question = rs_chance(r, 1, 7);
    const unsigned n = 3 + rs_below(r, 10);
    for (unsigned i = 0; i < n; i++) {
        if (i && spaced)
            rs_buf_str(b, (sc != RS_SC_THAI && rs_chance(r, 1, 10)) ? ", " : " ");
        else if (i && rs_chance(r, 1, 8))
            rs_buf_cp(b, 0x3001); /* ideographic comma */
        const size_t at = b->len;
        rs_buf_str(b, rs_words_at(&g->script[sc], rs_zipf_pick(&g->zs, r)));
        if (i == 0 && !b->oom) {
            /* capitalise the first letter where the script has case */
            uint32_t cp;
            const size_t k = rs_utf8_decode(b->p, b->len, at, &cp);
            uint32_t up = cp;
            if ((cp >= 0x430 && cp <= 0x44F) || (cp >= 0x3B1 && cp <= 0x3C9 && cp != 0x3C2))
                up = cp - 0x20;
            else if (cp >= 'a' && cp <= 'z')
                up = cp - 0x20;
            if (up != cp) {
                uint8_t u[4];
                const size_t m = rs_utf8_encode(up, u);
                if (m == k)
                    memcpy(b->p + at, u, m);
            }
        }
    }
    switch (sc) {
    case RS_SC_HAN:
    case RS_SC_JAPANESE:
        rs_buf_cp(b, question ? 0xFF1F : 0x3002);
        break;
    case RS_SC_DEVANAGARI:
        rs_buf_str(b, question ? "?" : " \xE0\xA5\xA4"); /* U+0964 danda */
        break;
    case RS_SC_ARABIC:
        if (question)
            rs_buf_cp(b, 0x61F);
        else
            rs_buf_str(b, ".");
        break;
    default:
        rs_buf_str(b, question ? "?" : ".");
        break;
    }
}

static void rs_gen_sentence_ascii(rs_gen_t *g, rs_buf_t *b, const uint32_t *spk, size_t nspk)
{
    rs_rng_t *r = &g->rng;
    const unsigned n = 3 + rs_below(r, 12) + (rs_chance(r, 1, 6) ? rs_below(r, 15) : 0);
    char num[32];
    size_t prev = SIZE_MAX; /* the previous plain word, for collocations */
    for (unsigned i = 0; i < n; i++) {
        const size_t last = prev;
        prev = SIZE_MAX;
        if (i)
            rs_buf_str(b, (i > 1 && rs_chance(r, 1, 10)) ? ", " : " ");
        const int cap = i == 0;
        const uint32_t what = rs_below(r, 1000);
        if (what < 25) { /* a topic phrase */
            const uint32_t *p = g->phrase[rs_below(r, RS_GEN_PHRASES)];
            rs_put_word(g, b, rs_words_at(&g->vocab, p[0]), cap);
            rs_buf_str(b, " ");
            rs_put_word(g, b, rs_words_at(&g->vocab, p[1]), 0);
            if (p[2] != UINT32_MAX) {
                rs_buf_str(b, " ");
                rs_put_word(g, b, rs_words_at(&g->vocab, p[2]), 0);
            }
        } else if (what < 33) { /* a number */
            if (rs_chance(r, 1, 3))
                snprintf(num, sizeof num, "%u.%u", rs_below(r, 20), rs_below(r, 10));
            else
                snprintf(num, sizeof num, "%u", rs_below(r, 2100));
            rs_buf_str(b, num);
        } else if (what < 40) { /* a hyphenated compound */
            rs_put_word(g, b, rs_words_at(&g->vocab, rs_zipf_pick(&g->zv, r)), cap);
            rs_buf_str(b, "-");
            rs_put_word(g, b, rs_words_at(&g->vocab, rs_zipf_pick(&g->zv, r)), 0);
        } else if (what < 50 && nspk) { /* someone's first name */
            const char *name = rs_words_at(&g->names, spk[rs_below(r, (uint32_t)nspk)]);
            rs_buf_put(b, name, strcspn(name, " "));
        } else {
            /* mostly one of the previous word's usual followers */
            prev = last != SIZE_MAX && rs_chance(r, 3, 4) ? g->succ[last][rs_zipf_pick(&g->zsucc, r)]
                                                           : rs_zipf_pick(&g->zv, r);
            rs_put_word(g, b, rs_words_at(&g->vocab, prev), cap);
        }
    }
    const uint32_t end = rs_below(r, 100);
    rs_buf_str(b, end < 78 ? "." : end < 93 ? "?" : end < 97 ? "..." : "!");
}

static uint64_t rs_count_high(const uint8_t *s, size_t n)
{
    uint64_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] >= 0x80;
    return k;
}

static void rs_gen_sentence(rs_gen_t *g, rs_buf_t *b, const uint32_t *spk, size_t nspk)
{
    const size_t at = b->len;
    if (g->ppm && g->nonascii * 1000000u < g->ppm * g->total)
        rs_gen_sentence_other(g, b);
    else
        rs_gen_sentence_ascii(g, b, spk, nspk);
    if (g->ppm && rs_chance(&g->rng, 1, 40)) {
        rs_buf_str(b, " ");
        rs_buf_str(b, rs_emoji[rs_below(&g->rng, RS_NELEM(rs_emoji))]);
    }
    if (!b->oom) {
        g->nonascii += rs_count_high(b->p + at, b->len - at);
        g->total += b->len - at;
    }
}

static const char *const rs_interjections[] = {"Yeah.", "Right.", "Mm-hm.", "Okay.", "Exactly.", "Sure.",
                                               "Oh, wow.", "Totally.", "Yes.", "No.", "Interesting."};

/* Adds one to the turns of name in the truth table. */
static rs_err_e rs_truth_turn(rs_bench_corpus_t *c, const char *name)
{
    const size_t len = strlen(name);
    const int64_t id = rs_dict_put(&c->speakers, name, len, rs_hash64(name, len), NULL);
    if (id < 0)
        return RS_ERR_NOMEM;
    (*(uint64_t *)rs_dict_val(&c->speakers, (size_t)id))++;
    c->turns++;
    return RS_OK;
}

static rs_err_e rs_corpus_push(rs_bench_corpus_t *c, char *name, uint8_t *text, size_t len)
{
    if (c->n == c->cap) {
        const size_t cap = c->cap ? c->cap * 2 : 64;
        rs_bench_text_t *d = realloc(c->doc, cap * sizeof *d);
        if (!d)
            return RS_ERR_NOMEM;
        c->doc = d;
        c->cap = cap;
    }
    c->doc[c->n++] = (rs_bench_text_t){name, text, len};
    c->bytes += len;
    c->nonascii_bytes += rs_count_high(text, len);
    return RS_OK;
}

static rs_err_e rs_gen_doc(rs_gen_t *g, size_t target, size_t index)
{
    rs_rng_t *r = &g->rng;
    const int md = rs_chance(r, 1, 2);
    const int stamps = !md && rs_chance(r, 1, 3);
    uint32_t spk[5];
    size_t nspk = 2 + rs_below(r, 4);
    for (size_t i = 0; i < nspk; i++) {
        uint32_t s = 0;
        for (int tries = 0; tries < 50; tries++) {
            s = (uint32_t)rs_zipf_pick(&g->zn, r);
            size_t j = 0;
            while (j < i && spk[j] != s)
                j++;
            if (j == i)
                break;
        }
        spk[i] = s;
    }
    rs_buf_t b = {0};
    const uint64_t total0 = g->total, nonascii0 = g->nonascii;
    if (rs_chance(r, 1, 4)) { /* YAML front matter */
        rs_buf_str(&b, "---\ntitle: ");
        for (unsigned i = 0, n = 2 + rs_below(r, 4); i < n; i++) {
            if (i)
                rs_buf_str(&b, " ");
            rs_put_word(g, &b, rs_words_at(&g->vocab, 150 + rs_below(r, 5000)), 1);
        }
        rs_buf_fmt(&b, "\ndate: 20%02u-%02u-%02u\nspeakers: [", 15 + rs_below(r, 10), 1 + rs_below(r, 12),
                   1 + rs_below(r, 28));
        for (size_t i = 0; i < nspk; i++) {
            if (i)
                rs_buf_str(&b, ", ");
            rs_buf_str(&b, rs_words_at(&g->names, spk[i]));
        }
        rs_buf_str(&b, "]\ntags: [");
        rs_buf_str(&b, rs_words_at(&g->vocab, 200 + rs_below(r, 2000)));
        rs_buf_str(&b, ", ");
        rs_buf_str(&b, rs_words_at(&g->vocab, 200 + rs_below(r, 2000)));
        rs_buf_str(&b, "]\n---\n");
    }
    if (md && rs_chance(r, 1, 2)) {
        rs_buf_str(&b, "# ");
        for (unsigned i = 0, n = 3 + rs_below(r, 4); i < n; i++) {
            if (i)
                rs_buf_str(&b, " ");
            rs_put_word(g, &b, rs_words_at(&g->vocab, rs_zipf_pick(&g->zv, r)), 1);
        }
        rs_buf_str(&b, "\n\n");
    }
    g->total += b.len;
    unsigned secs = rs_below(r, 300);
    size_t prev = SIZE_MAX, prev2 = SIZE_MAX;
    rs_err_e e = RS_OK;
    while (b.len < target && !b.oom && e == RS_OK) {
        size_t s;
        if (prev2 != SIZE_MAX && rs_chance(r, 3, 5)) {
            s = prev2;
        } else {
            s = rs_below(r, (uint32_t)nspk);
            if (s == prev)
                s = (s + 1) % nspk;
        }
        prev2 = prev;
        prev = s;
        const char *name = rs_words_at(&g->names, spk[s]);
        const size_t at = b.len;
        if (md) {
            rs_buf_str(&b, "**");
            rs_buf_str(&b, name);
            rs_buf_str(&b, ":** ");
        } else {
            if (stamps)
                rs_buf_fmt(&b, "[%02u:%02u:%02u] ", secs / 3600, secs / 60 % 60, secs % 60);
            rs_buf_str(&b, name);
            rs_buf_str(&b, ": ");
        }
        g->total += b.len - at;
        g->nonascii += b.oom ? 0 : rs_count_high(b.p + at, b.len - at);
        e = rs_truth_turn(g->c, name);
        if (rs_chance(r, 1, 5)) {
            const char *w = rs_interjections[rs_below(r, RS_NELEM(rs_interjections))];
            rs_buf_str(&b, w);
            g->total += strlen(w);
        } else {
            unsigned nsent = 1;
            while (nsent < 10 && rs_chance(r, 2, 3))
                nsent++;
            for (unsigned i = 0; i < nsent; i++) {
                if (i)
                    rs_buf_str(&b, rs_chance(r, 1, 8) ? (md ? "\n\n" : "\n") : " ");
                rs_gen_sentence(g, &b, spk, nspk);
            }
        }
        if (rs_chance(r, 1, 25))
            rs_buf_str(&b, md ? " \\[laughs\\]" : " [laughter]");
        rs_buf_str(&b, md ? "\n\n" : (rs_chance(r, 1, 2) ? "\n\n" : "\n"));
        secs += 5 + rs_below(r, 60);
    }
    if (b.oom || e != RS_OK) {
        free(b.p);
        return RS_ERR_NOMEM;
    }
    /* keep the running share exact: recount this document */
    g->total = total0 + b.len;
    g->nonascii = nonascii0 + rs_count_high(b.p, b.len);
    char name[64];
    snprintf(name, sizeof name, "generated/%06zu.%s", index, md ? "md" : "txt");
    char *nm = strdup(name);
    if (!nm || rs_corpus_push(g->c, nm, b.p, b.len) != RS_OK) {
        free(nm);
        free(b.p);
        return RS_ERR_NOMEM;
    }
    return RS_OK;
}

rs_err_e rs_bench_generate(rs_bench_corpus_t *c, const rs_bench_gen_t *o, rs_error_t *err)
{
    memset(c, 0, sizeof *c);
    rs_dict_init(&c->speakers, sizeof(uint64_t));
    c->generated = 1;
    RS_RETURN_IF(!(o->non_ascii >= 0.0 && o->non_ascii <= 0.9), err, RS_ERR_USAGE,
                 "--non-ascii must be from 0 to 0.9, not %g", o->non_ascii);
    RS_RETURN_IF(o->bytes == 0 || o->bytes > (64ull << 30), err, RS_ERR_USAGE,
                 "the generated size must be from 1 byte to 64 GiB");
    rs_gen_t g;
    rs_err_e e = rs_gen_init(&g, o, c);
    for (size_t i = 0; e == RS_OK && c->bytes < o->bytes; i++) {
        size_t target = 24576 + rs_below(&g.rng, 73728);
        const uint64_t rem = o->bytes - c->bytes;
        if (target > rem)
            target = rem < 2048 ? 2048 : (size_t)rem;
        e = rs_gen_doc(&g, target, i);
    }
    rs_gen_free(&g);
    if (e != RS_OK)
        return rs_error_set(err, e, "generating the corpus: %s", rs_err_str(e));
    snprintf(c->source, sizeof c->source, "generated: %llu bytes asked, seed %llu, non-ASCII share %g asked",
             (unsigned long long)o->bytes, (unsigned long long)o->seed, o->non_ascii);
    return RS_OK;
}

/* ======================================================================== */
/* Reading a corpus from paths.                                             */

static rs_err_e rs_load_on_doc(void *ctx, rs_doc_t *d)
{
    rs_bench_corpus_t *c = ctx;
    const rs_err_e e = rs_corpus_push(c, d->path, d->text, d->len);
    if (e == RS_OK) {
        d->path = NULL;
        d->text = NULL;
    }
    rs_doc_free(d);
    return e;
}

typedef struct rs_load_ctx {
    rs_bench_corpus_t *c;
    rs_error_t *err;
    int failed;
} rs_load_ctx_t;

static rs_err_e rs_load_doc(void *ctx, rs_doc_t *d)
{
    rs_load_ctx_t *l = ctx;
    return rs_load_on_doc(l->c, d);
}

static rs_err_e rs_load_skip(void *ctx, const char *path, const char *why)
{
    rs_load_ctx_t *l = ctx;
    if (!l->failed)
        rs_error_set(l->err, RS_ERR_IO, "%s", why && *why ? why : path); /* the reason names the path */
    l->failed = 1;
    return RS_OK;
}

rs_err_e rs_bench_load(rs_bench_corpus_t *c, const char *const *paths, size_t n, rs_error_t *err)
{
    memset(c, 0, sizeof *c);
    rs_dict_init(&c->speakers, sizeof(uint64_t));
    rs_load_ctx_t l = {.c = c, .err = err};
    const rs_ingest_cfg_t cfg = {
        .exts = RS_DEFAULT_EXTS,
        .max_doc_bytes = RS_DEFAULT_MAX_DOC_BYTES,
        .on_doc = rs_load_doc,
        .on_skip = rs_load_skip,
        .ctx = &l,
    };
    const rs_err_e e = rs_ingest_paths(&cfg, paths, n);
    if (e != RS_OK)
        return rs_error_set(err, e, "reading the corpus: %s", rs_err_str(e));
    if (l.failed)
        return RS_ERR_IO;
    RS_RETURN_IF(c->n == 0, err, RS_ERR_USAGE, "no documents found in the given paths");
    size_t k = (size_t)snprintf(c->source, sizeof c->source, "files:");
    for (size_t i = 0; i < n && k < sizeof c->source; i++)
        k += (size_t)snprintf(c->source + k, sizeof c->source - k, " %s", paths[i]);
    return RS_OK;
}

void rs_bench_corpus_free(rs_bench_corpus_t *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->doc[i].name);
        free(c->doc[i].text);
    }
    free(c->doc);
    rs_dict_free(&c->speakers);
    memset(c, 0, sizeof *c);
}

/* mkdir -p of the directories in path (up to its last '/'). */
static int rs_mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        const int r = mkdir(path, 0777);
        *p = '/';
        if (r != 0 && errno != EEXIST)
            return -1;
    }
    return 0;
}

rs_err_e rs_bench_corpus_write(const rs_bench_corpus_t *c, const char *dir, rs_error_t *err)
{
    for (size_t i = 0; i < c->n; i++) {
        const char *name = c->doc[i].name;
        while (*name == '/')
            name++;
        const size_t n = strlen(dir) + strlen(name) + 2;
        char *path = malloc(n);
        if (!path)
            return rs_error_set(err, RS_ERR_NOMEM, "out of memory");
        snprintf(path, n, "%s/%s", dir, name);
        FILE *f = NULL;
        if (strstr(name, "..") == NULL && rs_mkdirs(path) == 0)
            f = fopen(path, "wb");
        int bad = !f;
        if (f) {
            bad = fwrite(c->doc[i].text, 1, c->doc[i].len, f) != c->doc[i].len;
            bad |= fclose(f) != 0;
        }
        if (bad) {
            rs_error_set(err, RS_ERR_IO, "%s: %s", path, strerror(errno));
            free(path);
            return RS_ERR_IO;
        }
        free(path);
    }
    return RS_OK;
}

/* ======================================================================== */
/* The lexicon generator.                                                   */

static int rs_key_cmp(const rs_dict_t *d, size_t a, size_t b)
{
    size_t la, lb;
    const char *ka = rs_dict_key(d, a, &la), *kb = rs_dict_key(d, b, &lb);
    const int c = memcmp(ka, kb, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

/* qsort has no context argument in C11: the comparators read the
 * vocabulary from here, one per thread, so concurrent callers are safe. */
static _Thread_local const rs_stats_t *rs_sort_vocab;

static int rs_term_order(const void *x, const void *y)
{
    const uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    const rs_term_val_t *va = rs_dict_val(&rs_sort_vocab->terms, a), *vb = rs_dict_val(&rs_sort_vocab->terms, b);
    if (va->count != vb->count)
        return va->count > vb->count ? -1 : 1;
    return rs_key_cmp(&rs_sort_vocab->terms, a, b);
}

static int rs_bigram_order(const void *x, const void *y)
{
    const rs_pair_t *a = x, *b = y;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    uint32_t a0, a1, b0, b1;
    rs_pair_split(a->key, &a0, &a1);
    rs_pair_split(b->key, &b0, &b1);
    const int c = rs_key_cmp(&rs_sort_vocab->terms, a0, b0);
    return c ? c : rs_key_cmp(&rs_sort_vocab->terms, a1, b1);
}

/* A rank in [0, n), log-uniform: as many picks among the first 2^k as
 * among the next 2^k, so frequent and rare words both appear. */
static size_t rs_pick_rank(rs_rng_t *r, size_t n)
{
    unsigned bits = 0;
    while (((size_t)1 << bits) < n)
        bits++;
    const unsigned k = rs_below(r, bits ? bits : 1);
    const size_t lo = ((size_t)1 << k) - 1;
    size_t hi = ((size_t)1 << (k + 1)) - 1;
    if (hi > n)
        hi = n;
    if (lo >= hi)
        return n - 1;
    return lo + rs_below(r, (uint32_t)(hi - lo));
}

#define RS_LEX_SKIP_TOP 100 /* the most frequent terms: function words, never topics */

rs_err_e rs_bench_lexicon(rs_lexicon_t *lex, const rs_stats_t *vocab, size_t entries, uint64_t seed,
                          char **tsv, rs_error_t *err)
{
    if (tsv)
        *tsv = NULL;
    const size_t nt = vocab->terms.n, nb = vocab->bigrams.n;
    uint32_t *terms = malloc((nt ? nt : 1) * sizeof *terms);
    rs_pair_t *bigr = malloc((nb ? nb : 1) * sizeof *bigr);
    uint32_t *rank = malloc((nt ? nt : 1) * sizeof *rank), *succ = malloc((nt ? nt : 1) * sizeof *succ);
    rs_buf_t out = {0};
    rs_dict_t seen;
    rs_dict_init(&seen, 1);
    rs_err_e e = RS_OK;
    if (!terms || !bigr || !rank || !succ) {
        e = RS_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < nt; i++)
        terms[i] = (uint32_t)i;
    rs_sort_vocab = vocab;
    qsort(terms, nt, sizeof *terms, rs_term_order);
    for (size_t i = 0; i < nt; i++) {
        rank[terms[i]] = (uint32_t)i;
        succ[i] = UINT32_MAX;
    }
    /* candidate words: seen twice or more, two bytes or more, not the top */
    size_t nw = 0;
    for (size_t i = RS_LEX_SKIP_TOP; i < nt; i++) {
        size_t len;
        rs_dict_key(&vocab->terms, terms[i], &len);
        const rs_term_val_t *v = rs_dict_val(&vocab->terms, terms[i]);
        if (v->count >= 2 && len >= 2)
            terms[nw++] = terms[i];
    }
    size_t nbc = 0;
    uint64_t pos = 0;
    for (rs_pair_t g; rs_pairs_next(&vocab->bigrams, &pos, &g);) {
        uint32_t a, b;
        rs_pair_split(g.key, &a, &b);
        if (g.count >= 2 && rank[a] >= RS_LEX_SKIP_TOP && rank[b] >= RS_LEX_SKIP_TOP)
            bigr[nbc++] = g;
    }
    qsort(bigr, nbc, sizeof *bigr, rs_bigram_order);
    for (size_t i = 0; i < nbc; i++) { /* the most frequent follower of each term */
        uint32_t a, b;
        rs_pair_split(bigr[i].key, &a, &b);
        if (succ[a] == UINT32_MAX)
            succ[a] = b;
    }
    rs_rng_t r;
    rs_rng_seed(&r, seed ^ 0x6C657869636F6E00ull);
    const size_t ncat = entries / 10 ? entries / 10 : 1;
    size_t made = 0;
    rs_buf_str(&out, "category\tpattern\n");
    for (size_t tries = 0; made < entries && tries < 50 * entries + 100 && (nw || nbc); tries++) {
        const uint32_t kind = rs_below(&r, 20);
        rs_buf_t p = {0};
        size_t len;
        if (kind < 12 || (kind < 17 && !nbc) || (kind >= 17 && !nw)) {
            if (!nw) {
                free(p.p);
                continue;
            }
            const char *k = rs_dict_key(&vocab->terms, terms[rs_pick_rank(&r, nw)], &len);
            rs_buf_put(&p, k, len);
        } else if (kind < 17) {
            uint32_t a, b;
            rs_pair_split(bigr[rs_pick_rank(&r, nbc)].key, &a, &b);
            const char *k = rs_dict_key(&vocab->terms, a, &len);
            rs_buf_put(&p, k, len);
            rs_buf_str(&p, " ");
            k = rs_dict_key(&vocab->terms, b, &len);
            rs_buf_put(&p, k, len);
            if (succ[b] != UINT32_MAX && rs_chance(&r, 1, 3)) {
                k = rs_dict_key(&vocab->terms, succ[b], &len);
                rs_buf_str(&p, " ");
                rs_buf_put(&p, k, len);
            }
        } else {
            const char *k = rs_dict_key(&vocab->terms, terms[rs_pick_rank(&r, nw)], &len);
            if (len < 6) {
                free(p.p);
                continue;
            }
            size_t cut = 4 + rs_below(&r, 3);
            if (cut > len - 2)
                cut = len - 2;
            while (cut > 1 && ((uint8_t)k[cut] & 0xC0) == 0x80)
                cut--;
            rs_buf_put(&p, k, cut);
            rs_buf_str(&p, "*");
        }
        int created = 0;
        if (p.oom || rs_dict_put(&seen, p.p, p.len, rs_hash64(p.p, p.len), &created) < 0) {
            free(p.p);
            e = RS_ERR_NOMEM;
            goto done;
        }
        if (created) {
            char cat[32];
            snprintf(cat, sizeof cat, "topic_%03u\t", rs_below(&r, (uint32_t)ncat) + 1);
            rs_buf_str(&out, cat);
            rs_buf_put(&out, p.p, p.len);
            rs_buf_str(&out, "\n");
            made++;
        }
        free(p.p);
    }
    if (out.oom) {
        e = RS_ERR_NOMEM;
        goto done;
    }
    e = rs_lexicon_load_mem(lex, "generated.tsv", (const char *)out.p, out.len, RS_LEXFMT_TSV, err);
    if (e == RS_OK && tsv) {
        *tsv = (char *)out.p;
        out.p = NULL;
    }
done:
    if (e == RS_ERR_NOMEM)
        rs_error_set(err, e, "out of memory generating a lexicon");
    free(out.p);
    free(terms);
    free(bigr);
    free(rank);
    free(succ);
    rs_dict_free(&seen);
    return e;
}

/* ======================================================================== */
/* Checks against the reference.                                            */

rs_err_e rs_bench_check_sum(const char *what, const rs_bench_sum_t *ref, const rs_bench_sum_t *got, rs_error_t *err)
{
    if (ref->items != got->items)
        return rs_error_set(err, RS_ERR_INTERNAL, "%s: %llu items, the scalar reference has %llu", what,
                            (unsigned long long)got->items, (unsigned long long)ref->items);
    if (ref->bytes != got->bytes)
        return rs_error_set(err, RS_ERR_INTERNAL, "%s: %llu bytes, the scalar reference has %llu", what,
                            (unsigned long long)got->bytes, (unsigned long long)ref->bytes);
    if (ref->checksum != got->checksum)
        return rs_error_set(err, RS_ERR_INTERNAL, "%s: checksum %016llx, the scalar reference has %016llx", what,
                            (unsigned long long)got->checksum, (unsigned long long)ref->checksum);
    return RS_OK;
}

#define RS_SAME(field, label)                                                                                          \
    do {                                                                                                               \
        if ((ref field) != (got field))                                                                                \
            return rs_error_set(err, RS_ERR_INTERNAL, "%s: %s is %llu, the scalar reference has %llu", what, label,   \
                                (unsigned long long)(got field), (unsigned long long)(ref field));                     \
    } while (0)

static int64_t rs_find_same_key(const rs_dict_t *from, size_t id, const rs_dict_t *in)
{
    size_t len;
    const char *k = rs_dict_key(from, id, &len);
    return rs_dict_get(in, k, len, rs_dict_hash(from, id));
}

static rs_err_e rs_check_lexstats(const char *what, const char *name, const rs_lexstats_t *ls_ref,
                                  const rs_lexstats_t *ls_got, const rs_stats_t *sref, const rs_stats_t *sgot,
                                  rs_error_t *err)
{
    const rs_lexstats_t *ref = ls_ref, *got = ls_got;
    char label[96];
    snprintf(label, sizeof label, "%s categories", name);
    RS_SAME(->ncat, label);
    snprintf(label, sizeof label, "%s patterns", name);
    RS_SAME(->npat, label);
    for (size_t c = 0; c < ref->ncat; c++) {
        snprintf(label, sizeof label, "%s category %zu hits", name, c);
        RS_SAME(->cat[c].hits, label);
        snprintf(label, sizeof label, "%s category %zu documents", name, c);
        RS_SAME(->cat[c].docs, label);
    }
    for (size_t p = 0; p < ref->npat; p++) {
        snprintf(label, sizeof label, "%s pattern %zu hits", name, p);
        RS_SAME(->pat_hits[p], label);
    }
    snprintf(label, sizeof label, "%s hits by speaker entries", name);
    RS_SAME(->by_speaker.n, label);
    for (size_t i = 0; i < ref->by_speaker.n; i++) {
        uint32_t key[2];
        memcpy(key, rs_dict_key(&ref->by_speaker, i, NULL), sizeof key);
        const int64_t s = rs_find_same_key(&sref->speakers, key[1], &sgot->speakers);
        int64_t g = -1;
        if (s >= 0) {
            const uint32_t k2[2] = {key[0], (uint32_t)s};
            g = rs_dict_get(&got->by_speaker, k2, sizeof k2, rs_hash64(k2, sizeof k2));
        }
        if (g < 0)
            return rs_error_set(err, RS_ERR_INTERNAL, "%s: %s category %u has no hits for a speaker the reference has",
                                what, name, key[0]);
        const uint64_t a = *(const uint64_t *)rs_dict_val(&ref->by_speaker, i);
        const uint64_t b = *(const uint64_t *)rs_dict_val(&got->by_speaker, (size_t)g);
        if (a != b)
            return rs_error_set(err, RS_ERR_INTERNAL, "%s: %s category %u: %llu hits by one speaker, reference %llu",
                                what, name, key[0], (unsigned long long)b, (unsigned long long)a);
    }
    return RS_OK;
}

rs_err_e rs_bench_check_stats(const char *what, const rs_stats_t *ref, const rs_stats_t *got, rs_error_t *err)
{
    RS_SAME(->documents, "documents");
    RS_SAME(->bytes, "bytes");
    RS_SAME(->tokens, "tokens");
    RS_SAME(->turns, "turns");
    RS_SAME(->invalid_bytes, "invalid bytes");
    RS_SAME(->labelled_tokens, "labelled tokens");
    RS_SAME(->terms.n, "distinct terms");
    RS_SAME(->bigrams.n, "distinct bigrams");
    RS_SAME(->speakers.n, "speakers");
    for (size_t i = 0; i < ref->terms.n; i++) {
        size_t len;
        const char *k = rs_dict_key(&ref->terms, i, &len);
        const int64_t g = rs_find_same_key(&ref->terms, i, &got->terms);
        const int kl = len > 40 ? 40 : (int)len;
        if (g < 0)
            return rs_error_set(err, RS_ERR_INTERNAL, "%s: term '%.*s' is missing", what, kl, k);
        const rs_term_val_t *a = rs_dict_val(&ref->terms, i), *b = rs_dict_val(&got->terms, (size_t)g);
        if (a->count != b->count || a->docs != b->docs)
            return rs_error_set(err, RS_ERR_INTERNAL,
                                "%s: term '%.*s' counted %llu times in %llu documents, the scalar reference %llu in %llu",
                                what, kl, k, (unsigned long long)b->count, (unsigned long long)b->docs,
                                (unsigned long long)a->count, (unsigned long long)a->docs);
    }
    uint64_t pos = 0;
    for (rs_pair_t e; rs_pairs_next(&ref->bigrams, &pos, &e);) {
        uint32_t pa, pb;
        rs_pair_split(e.key, &pa, &pb);
        const int64_t ga = rs_find_same_key(&ref->terms, pa, &got->terms);
        const int64_t gb = rs_find_same_key(&ref->terms, pb, &got->terms);
        uint64_t b = 0;
        if (ga >= 0 && gb >= 0) {
            const uint64_t key = rs_pair_key((uint32_t)ga, (uint32_t)gb);
            b = rs_pairs_get(&got->bigrams, key, rs_stats_bigram_hash(got, key));
        }
        size_t la, lb;
        const char *ka = rs_dict_key(&ref->terms, pa, &la), *kb = rs_dict_key(&ref->terms, pb, &lb);
        const int ia = la > 40 ? 40 : (int)la, ib = lb > 40 ? 40 : (int)lb;
        if (!b)
            return rs_error_set(err, RS_ERR_INTERNAL, "%s: bigram '%.*s %.*s' is missing", what, ia, ka, ib, kb);
        const uint64_t a = e.count;
        if (a != b)
            return rs_error_set(err, RS_ERR_INTERNAL, "%s: bigram '%.*s %.*s' counted %llu times, the scalar reference %llu",
                                what, ia, ka, ib, kb, (unsigned long long)b, (unsigned long long)a);
    }
    for (size_t i = 0; i < ref->speakers.n; i++) {
        size_t len;
        const char *k = rs_dict_key(&ref->speakers, i, &len);
        const int kl = len > 40 ? 40 : (int)len;
        const int64_t g = rs_find_same_key(&ref->speakers, i, &got->speakers);
        if (g < 0)
            return rs_error_set(err, RS_ERR_INTERNAL, "%s: speaker '%.*s' is missing", what, kl, k);
        const rs_speaker_val_t *a = rs_dict_val(&ref->speakers, i), *b = rs_dict_val(&got->speakers, (size_t)g);
        if (a->turns != b->turns || a->tokens != b->tokens || a->questions != b->questions || a->docs != b->docs)
            return rs_error_set(err, RS_ERR_INTERNAL,
                                "%s: speaker '%.*s' has %llu turns, %llu tokens, %llu questions, %llu documents; "
                                "the scalar reference %llu, %llu, %llu, %llu",
                                what, kl, k, (unsigned long long)b->turns, (unsigned long long)b->tokens,
                                (unsigned long long)b->questions, (unsigned long long)b->docs,
                                (unsigned long long)a->turns, (unsigned long long)a->tokens,
                                (unsigned long long)a->questions, (unsigned long long)a->docs);
    }
    RS_FORWARD(rs_check_lexstats(what, "topic", &ref->topics, &got->topics, ref, got, err));
    return rs_check_lexstats(what, "entity", &ref->entities, &got->entities, ref, got, err);
}

/* ======================================================================== */
/* The machine.                                                             */

static void rs_copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

static int rs_machine_hwloc(rs_bench_machine_t *m)
{
    hwloc_topology_t t;
    if (hwloc_topology_init(&t) != 0)
        return -1;
    if (hwloc_topology_load(t) != 0) {
        hwloc_topology_destroy(t);
        return -1;
    }
    const int np = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PACKAGE), nc = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE);
    const int nu = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU), nn = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);
    m->packages = np > 0 ? (unsigned)np : 0;
    m->cores = nc > 0 ? (unsigned)nc : 0;
    m->pus = nu > 0 ? (unsigned)nu : 0;
    m->numa_nodes = nn > 0 ? (unsigned)nn : 0;
    hwloc_obj_t pkg = hwloc_get_obj_by_type(t, HWLOC_OBJ_PACKAGE, 0);
    const char *model = pkg ? hwloc_obj_get_info_by_name(pkg, "CPUModel") : NULL;
    if (model) {
        const char *fam = hwloc_obj_get_info_by_name(pkg, "CPUFamilyNumber");
        const char *mod = hwloc_obj_get_info_by_name(pkg, "CPUModelNumber");
        if (fam && mod)
            snprintf(m->cpu, sizeof m->cpu, "%s (family %s, model %s)", model, fam, mod);
        else
            rs_copy(m->cpu, sizeof m->cpu, model);
    }
    static const hwloc_obj_type_t caches[4] = {HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L3CACHE,
                                               HWLOC_OBJ_L4CACHE};
    for (int i = 0; i < 4; i++) {
        const int n = hwloc_get_nbobjs_by_type(t, caches[i]);
        hwloc_obj_t o = n > 0 ? hwloc_get_obj_by_type(t, caches[i], 0) : NULL;
        if (o && o->attr) {
            m->cache_count[i] = (unsigned)n;
            m->cache_size[i] = o->attr->cache.size;
        }
    }
    hwloc_topology_destroy(t);
    rs_copy(m->topology_from, sizeof m->topology_from, "hwloc");
    return 0;
}

static void rs_machine_sysconf(rs_bench_machine_t *m)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0 && !m->cpu[0]) {
                const char *v = strchr(line, ':');
                if (v) {
                    v += 1 + (v[1] == ' ');
                    rs_copy(m->cpu, sizeof m->cpu, v);
                    m->cpu[strcspn(m->cpu, "\n")] = 0;
                }
            }
        }
        fclose(f);
    }
    const long pus = sysconf(_SC_NPROCESSORS_ONLN);
    m->pus = pus > 0 ? (unsigned)pus : 0;
#ifdef _SC_LEVEL1_DCACHE_SIZE
    const long l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE), l2 = sysconf(_SC_LEVEL2_CACHE_SIZE),
               l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
    m->cache_size[0] = l1 > 0 ? (uint64_t)l1 : 0;
    m->cache_size[1] = l2 > 0 ? (uint64_t)l2 : 0;
    m->cache_size[2] = l3 > 0 ? (uint64_t)l3 : 0;
#endif
    rs_copy(m->topology_from, sizeof m->topology_from, "sysconf");
}

/* The OpenCL devices, without building anything (rs_opencl_devices). */
static void rs_machine_opencl(rs_bench_machine_t *m)
{
    m->nopencl = 0;
    if (!rs_opencl_compiled()) {
        rs_copy(m->opencl[m->nopencl++], sizeof m->opencl[0], "none: this build has no OpenCL support");
        return;
    }
    rs_opencl_devinfo_t *dv = NULL;
    size_t n = 0;
    rs_error_t err = {0};
    if (rs_opencl_devices(&dv, &n, 0, &err) != RS_OK) {
        snprintf(m->opencl[m->nopencl++], sizeof m->opencl[0], "none: %.300s", err.msg);
        return;
    }
    if (n == 0)
        rs_copy(m->opencl[m->nopencl++], sizeof m->opencl[0], "none: no OpenCL platform or device found");
    for (size_t i = 0; i < n && m->nopencl < RS_BENCH_MAX_DEVICES; i++)
        snprintf(m->opencl[m->nopencl++], sizeof m->opencl[0], "opencl:%u:%u %.96s (%.12s, %u compute units, %llu MiB); %.96s; driver %.64s",
                 dv[i].platform, dv[i].device, dv[i].device_name, dv[i].type ? dv[i].type : "other",
                 dv[i].compute_units, (unsigned long long)(dv[i].global_mem_bytes >> 20), dv[i].platform_version,
                 dv[i].driver_version);
    free(dv);
}

void rs_bench_machine(rs_bench_machine_t *m)
{
    memset(m, 0, sizeof *m);
    if (rs_machine_hwloc(m) != 0)
        rs_machine_sysconf(m);
    if (!m->cpu[0]) { /* hwloc without a CPUModel (some VMs): ask /proc */
        rs_bench_machine_t s;
        memset(&s, 0, sizeof s);
        rs_machine_sysconf(&s);
        rs_copy(m->cpu, sizeof m->cpu, s.cpu[0] ? s.cpu : "unknown");
    }
    /* memory as the OS counts it (hwloc's NUMA totals miss hot-plugged
     * memory on some virtual machines) */
    const long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    if (pages > 0 && psz > 0)
        m->memory = (uint64_t)pages * (uint64_t)psz;
    const uint32_t f = rs_cpu_features();
    snprintf(m->features, sizeof m->features, "%s%s%s%s", (f & RS_CPU_SSE42) ? "sse4.2 " : "",
             (f & RS_CPU_AVX2) ? "avx2 " : "", (f & RS_CPU_AVX512BW) ? "avx512bw " : "", (f & RS_CPU_NEON) ? "neon " : "");
    size_t k = strlen(m->features);
    if (k)
        m->features[k - 1] = 0;
    else
        rs_copy(m->features, sizeof m->features, "none");
    k = 0;
    for (const rs_kernels_t *const *t = rs_kernels_all(); *t && k < sizeof m->backends; t++)
        k += (size_t)snprintf(m->backends + k, sizeof m->backends - k, "%s%s", k ? " " : "", (*t)->name);
    rs_copy(m->compiler, sizeof m->compiler, RS_BENCH_CC);
    rs_copy(m->flags, sizeof m->flags, RS_BUILD_FLAGS);
    struct utsname u;
    if (uname(&u) == 0) {
        size_t k2 = 0;
        const char *parts[3] = {u.sysname, u.release, u.machine};
        for (int i = 0; i < 3; i++) {
            const size_t l = strnlen(parts[i], sizeof m->os);
            if (k2 + l + 2 > sizeof m->os)
                break;
            if (k2)
                m->os[k2++] = ' ';
            memcpy(m->os + k2, parts[i], l);
            k2 += l;
            m->os[k2] = 0;
        }
    }
    rs_copy(m->version, sizeof m->version, RS_VERSION);
    rs_machine_opencl(m);
}

/* ======================================================================== */
/* The passes.                                                              */

/* Same cuts as host/scan.c (rs_piece_end there). */
static size_t rs_bench_piece_end(const uint8_t *s, size_t pos, size_t end)
{
    if (end - pos <= RS_CHUNK_BYTES)
        return end;
    size_t cut = rs_safe_cut(s + pos, RS_CHUNK_BYTES + 1);
    if (cut == 0) {
        cut = RS_CHUNK_BYTES;
        while (cut > 1 && (s[pos + cut] & 0xC0) == 0x80)
            cut--;
    }
    return pos + cut;
}

typedef struct rs_hitsum {
    uint64_t hits, cs;
} rs_hitsum_t;

static void rs_bench_on_hit(void *ctx, uint32_t cat, uint32_t gpat)
{
    rs_hitsum_t *h = ctx;
    h->hits++;
    h->cs += rs_hash_fmix((((uint64_t)cat << 32) | gpat) + 1);
}

typedef struct rs_env {
    const rs_bench_corpus_t *c;
    rs_doc_t *parsed; /* parsed copies; documents that failed to parse have no segments */
    size_t nparsed;
    uint64_t seg_bytes;
    size_t nseg, max_seg_tokens;
    rs_headings_t heads;
    rs_lexicon_t lex[2], none;
    rs_matcher_t m[2], mnone;
    int have_lex;
    rs_scan_cfg_t cfg;
    const rs_kernels_t *k;
    rs_tokens_t out; /* tokenize scratch */
    /* one backend's tokens, segment after segment */
    rs_token_t *tok;
    size_t ntok, tok_cap;
    uint8_t *fold;
    size_t fold_len, fold_cap;
    size_t *seg_tok, *seg_fold; /* nseg + 1 */
    uint32_t *seg_doc;
    uint64_t *bkey, *bhash;
    rs_pairs_batch_t bigrams; /* as a scanner's (scan.h) */
    /* match */
    const rs_matcher_t *mm;
    rs_match_state_t ms;
    uint64_t abs;
    /* count and scan: the stats of the last full pass */
    rs_stats_t last;
    int have_last;
    unsigned workers;
    /* tokenize+fold+hash on a device: the handle (every piece to it) and
     * the row's backend name; NULL: e->k's tokenize and name */
    rs_opencl_t *ocl;
    const char *bname;
    rs_opencl_t *ocl_scan; /* the device behind e->k in a scan row */
    uint64_t doc_tokens;  /* tokens of the whole documents (scalar) */
    uint64_t fold_bytes;  /* folded bytes of the last full tokenize pass */
    /* fold+hash: the scalar tokens' spans in the documents, (start, length)
     * pairs, document after document; doc_span[d] is d's first */
    uint32_t *span;
    size_t nspan, *doc_span;
    rs_error_t *err;
} rs_env_t;

typedef rs_err_e (*rs_pass_fn)(rs_env_t *e, int full, rs_bench_sum_t *sum);

static rs_err_e rs_pass_tokenize(rs_env_t *e, int full, rs_bench_sum_t *sum)
{
    rs_tokens_t *o = &e->out;
    uint64_t items = 0, bytes = 0, cs = 0;
    o->invalid_bytes = 0;
    for (size_t d = 0; d < e->c->n; d++) {
        const rs_bench_text_t *doc = &e->c->doc[d];
        for (size_t pos = 0; pos < doc->len;) {
            const size_t end = rs_bench_piece_end(doc->text, pos, doc->len);
            o->n = 0;
            o->fold_len = 0;
            if (e->ocl)
                rs_opencl_tokenize(e->ocl, doc->text + pos, end - pos, o);
            else
                e->k->tokenize(doc->text + pos, end - pos, o);
            items += o->n;
            if (full) {
                for (size_t i = 0; i < o->n; i++)
                    cs = (cs ^ o->tok[i].hash ^ ((uint64_t)o->tok[i].len << 56)) * RS_HASH_P1;
                bytes += o->fold_len;
            }
            pos = end;
        }
    }
    sum->items = items;
    sum->bytes = full ? bytes + o->invalid_bytes : 0;
    sum->checksum = cs;
    if (full)
        e->fold_bytes = bytes;
    return RS_OK;
}

/* Whether s[0..n) holds a word character (a token, kernels.h). */
static int rs_has_word(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += rs_utf8_decode(s, n, i, &cp);
        if (rs_unicode_props(cp) & RS_UP_WORD)
            return 1;
    }
    return 0;
}

/* The spans of the scalar tokens in the pieces rs_pass_tokenize cuts,
 * found with the reference segmentation (rs_wb_next), untimed. */
static rs_err_e rs_find_spans(rs_env_t *e)
{
    size_t cap = 0;
    e->nspan = 0;
    free(e->doc_span);
    e->doc_span = malloc((e->c->n + 1) * sizeof *e->doc_span);
    if (!e->doc_span)
        return RS_ERR_NOMEM;
    for (size_t d = 0; d < e->c->n; d++) {
        const rs_bench_text_t *doc = &e->c->doc[d];
        e->doc_span[d] = e->nspan;
        for (size_t pos = 0; pos < doc->len;) {
            const size_t end = rs_bench_piece_end(doc->text, pos, doc->len);
            const uint8_t *p = doc->text + pos;
            const size_t n = end - pos;
            for (size_t i = 0; i < n;) {
                const size_t j = rs_wb_next(p, n, i);
                if (rs_has_word(p + i, j - i)) {
                    if (e->nspan == cap) {
                        const size_t c = cap ? cap * 2 : 4096;
                        uint32_t *v = realloc(e->span, 2 * c * sizeof *v);
                        if (!v)
                            return RS_ERR_NOMEM;
                        e->span = v;
                        cap = c;
                    }
                    e->span[2 * e->nspan] = (uint32_t)(pos + i);
                    e->span[2 * e->nspan + 1] = (uint32_t)(j - i);
                    e->nspan++;
                }
                i = j;
            }
            pos = end;
        }
    }
    e->doc_span[e->c->n] = e->nspan;
    e->doc_tokens = e->nspan;
    return RS_OK;
}

/* Case folding of one token's bytes into w, as the reference folds
 * (kernels.h): ASCII A-Z down, other code points by the simple folding
 * table, an invalid byte as U+FFFD. Returns the folded length. */
static size_t rs_fold_span(const uint8_t *s, size_t n, uint8_t *w0)
{
    uint8_t *w = w0;
    for (size_t i = 0; i < n;) {
        const uint32_t b = s[i];
        if (b < 0x80) {
            *w++ = (uint8_t)(b - 0x41u < 26u ? b + 32u : b);
            i++;
            continue;
        }
        uint32_t cp;
        i += rs_utf8_decode(s, n, i, &cp);
        if (rs_unicode_props(cp) & RS_UP_FOLDS)
            cp = rs_unicode_fold(cp);
        w += rs_utf8_encode(cp, w);
    }
    return (size_t)(w - w0);
}

static rs_err_e rs_pass_fold(rs_env_t *e, int full, rs_bench_sum_t *sum)
{
    uint64_t bytes = 0, cs = 0;
    uint8_t *w = e->out.fold;
    for (size_t d = 0; d < e->c->n; d++) {
        const uint8_t *text = e->c->doc[d].text;
        for (size_t k = e->doc_span[d]; k < e->doc_span[d + 1]; k++) {
            const size_t n = rs_fold_span(text + e->span[2 * k], e->span[2 * k + 1], w);
            const uint64_t h = rs_hash64(w, n);
            cs = (cs ^ h ^ ((uint64_t)n << 56)) * RS_HASH_P1;
            bytes += n;
        }
    }
    (void)full;
    sum->items = e->nspan;
    sum->bytes = bytes;
    sum->checksum = cs;
    return RS_OK;
}

static rs_err_e rs_grow_bytes(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return RS_OK;
    size_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q)
        return RS_ERR_NOMEM;
    *p = q;
    *cap = c;
    return RS_OK;
}

/* Tokens of every segment with backend e->k, untimed. */
static rs_err_e rs_pretokenize(rs_env_t *e)
{
    e->ntok = e->fold_len = 0;
    size_t s = 0;
    e->max_seg_tokens = 0;
    for (size_t d = 0; d < e->nparsed; d++) {
        const rs_doc_t *doc = &e->parsed[d];
        for (size_t j = 0; j < doc->nseg; j++, s++) {
            const rs_segment_t *sg = &doc->seg[j];
            const size_t len = sg->end - sg->start;
            RS_FORWARD(rs_grow_bytes((void **)&e->tok, &e->tok_cap, e->ntok + len + 1, sizeof *e->tok));
            RS_FORWARD(rs_grow_bytes((void **)&e->fold, &e->fold_cap, e->fold_len + 2 * len + 8, 1));
            rs_tokens_t v = {.tok = e->tok + e->ntok, .tok_cap = e->tok_cap - e->ntok, .fold = e->fold + e->fold_len,
                             .fold_cap = e->fold_cap - e->fold_len};
            for (size_t pos = sg->start; pos < sg->end;) {
                const size_t end = rs_bench_piece_end(doc->text, pos, sg->end);
                e->k->tokenize(doc->text + pos, end - pos, &v);
                pos = end;
            }
            e->seg_tok[s] = e->ntok;
            e->seg_fold[s] = e->fold_len;
            e->seg_doc[s] = (uint32_t)d;
            e->ntok += v.n;
            e->fold_len += v.fold_len;
            if (v.n > e->max_seg_tokens)
                e->max_seg_tokens = v.n;
        }
    }
    e->seg_tok[s] = e->ntok;
    e->seg_fold[s] = e->fold_len;
    free(e->bkey);
    free(e->bhash);
    e->bkey = malloc((e->max_seg_tokens + 1) * sizeof *e->bkey);
    e->bhash = malloc((e->max_seg_tokens + 1) * sizeof *e->bhash);
    return e->bkey && e->bhash ? RS_OK : RS_ERR_NOMEM;
}

static rs_tokens_t rs_seg_view(const rs_env_t *e, size_t s)
{
    return (rs_tokens_t){.tok = e->tok + e->seg_tok[s], .n = e->seg_tok[s + 1] - e->seg_tok[s],
                         .fold = e->fold + e->seg_fold[s], .fold_len = e->seg_fold[s + 1] - e->seg_fold[s],
                         .fold_cap = e->fold_cap - e->seg_fold[s]};
}

static rs_err_e rs_pass_match(rs_env_t *e, int full, rs_bench_sum_t *sum)
{
    (void)full;
    rs_hitsum_t h = {0, 0};
    for (size_t s = 0; s < e->nseg; s++) {
        const rs_tokens_t v = rs_seg_view(e, s);
        rs_matcher_run(e->mm, &e->ms, &v, 0, v.n, e->abs, rs_bench_on_hit, &h);
        e->abs += v.n;
    }
    sum->items = h.hits;
    sum->bytes = 0;
    sum->checksum = h.cs;
    return RS_OK;
}

/* How far ahead count lookups are prefetched, as host/scan.c does. */
#define RS_BENCH_AHEAD 32

static void rs_keep_last(rs_env_t *e, rs_stats_t *st, int full)
{
    if (full) {
        if (e->have_last)
            rs_stats_free(&e->last);
        e->last = *st;
        e->have_last = 1;
    } else {
        rs_stats_free(st);
    }
}

/* Terms and bigrams of every segment, the way host/scan.c's rs_win_consume
 * counts them (keep the two alike): bigrams through a batch (pairs.h),
 * flushed at the end. */
static rs_err_e rs_pass_count(rs_env_t *e, int full, rs_bench_sum_t *sum)
{
    rs_stats_t st;
    RS_FORWARD(rs_stats_init(&st, 0, 0, 0, 0));
    uint64_t counted = 0;
    for (size_t s = 0; s < e->nseg; s++) {
        const rs_tokens_t w = rs_seg_view(e, s);
        const uint64_t doc = (uint64_t)e->seg_doc[s] + 1;
        int64_t prev = -1;
        uint64_t ph = 0;
        size_t nb = 0;
        for (size_t i = 0; i < w.n; i++) {
            const rs_token_t *k = &w.tok[i];
            if (i + RS_BENCH_AHEAD < w.n)
                rs_dict_prefetch(&st.terms, w.tok[i + RS_BENCH_AHEAD].hash);
            if (i + RS_BENCH_AHEAD / 2 < w.n)
                rs_dict_prefetch_rec(&st.terms, w.tok[i + RS_BENCH_AHEAD / 2].hash);
            const int64_t id = rs_dict_put_in(&st.terms, w.fold + k->off, k->len, k->hash, w.fold + w.fold_cap, NULL);
            if (id < 0) {
                rs_stats_free(&st);
                return RS_ERR_NOMEM;
            }
            rs_term_val_t *v = rs_dict_val(&st.terms, (size_t)id);
            v->count++;
            if (v->last_doc != doc) {
                v->last_doc = doc;
                v->docs++;
            }
            if (prev >= 0) {
                e->bkey[nb] = rs_pair_key((uint32_t)prev, (uint32_t)id);
                e->bhash[nb] = rs_pairs_bigram_hash(e->bkey[nb], ph, k->hash);
                nb++;
            }
            prev = id;
            ph = k->hash;
        }
        if (rs_pairs_batch_add_all(&e->bigrams, &st.bigrams, e->bkey, e->bhash, nb) != 0) {
            rs_pairs_batch_free(&e->bigrams); /* drops what waits for st */
            rs_stats_free(&st);
            return RS_ERR_NOMEM;
        }
        counted += w.n;
    }
    if (rs_pairs_batch_flush(&e->bigrams) != 0) {
        rs_pairs_batch_free(&e->bigrams);
        rs_stats_free(&st);
        return RS_ERR_NOMEM;
    }
    sum->items = counted;
    sum->bytes = st.terms.n;
    sum->checksum = st.bigrams.n;
    rs_keep_last(e, &st, full);
    return RS_OK;
}

static rs_err_e rs_copy_doc(const rs_bench_text_t *t, rs_doc_t *d)
{
    memset(d, 0, sizeof *d);
    d->path = strdup(t->name);
    d->text = malloc(t->len ? t->len : 1);
    if (!d->path || !d->text) {
        rs_doc_free(d);
        return RS_ERR_NOMEM;
    }
    if (t->len)
        memcpy(d->text, t->text, t->len);
    d->len = t->len;
    d->bytes = t->len;
    return RS_OK;
}

static rs_err_e rs_stats_for(const rs_env_t *e, rs_stats_t *st)
{
    return rs_stats_init(st, e->cfg.topics->ncat, e->cfg.topics->npat_total, e->cfg.entities->ncat,
                         e->cfg.entities->npat_total);
}

static rs_err_e rs_pass_scan(rs_env_t *e, int full, rs_bench_sum_t *sum)
{
    rs_stats_t st;
    RS_FORWARD(rs_stats_for(e, &st));
    rs_scanner_t sc;
    rs_err_e r = rs_scanner_init(&sc, &e->cfg);
    /* all documents at once, so that a device table gets them in batches
     * (rs_scan_documents), as the pool's shards do; CPU tables one by one */
    rs_doc_t *docs = calloc(e->c->n ? e->c->n : 1, sizeof *docs);
    rs_doc_t **ptrs = calloc(e->c->n ? e->c->n : 1, sizeof *ptrs);
    if (!docs || !ptrs)
        r = RS_ERR_NOMEM;
    size_t ncopied = 0;
    for (; r == RS_OK && ncopied < e->c->n; ncopied++) {
        r = rs_copy_doc(&e->c->doc[ncopied], &docs[ncopied]);
        ptrs[ncopied] = &docs[ncopied];
    }
    if (r == RS_OK)
        r = rs_scan_documents(&sc, ptrs, e->c->n, &st, NULL, NULL);
    for (size_t i = 0; docs && i < ncopied; i++)
        rs_doc_free(&docs[i]);
    free(docs);
    free(ptrs);
    rs_scanner_free(&sc);
    if (r != RS_OK) {
        rs_stats_free(&st);
        return r;
    }
    sum->items = st.tokens;
    sum->bytes = st.bytes;
    sum->checksum = st.terms.n;
    rs_keep_last(e, &st, full);
    return RS_OK;
}

static rs_err_e rs_pass_pool(rs_env_t *e, int full, rs_bench_sum_t *sum)
{
    rs_stats_t st;
    RS_FORWARD(rs_stats_for(e, &st));
    const rs_pool_cfg_t pc = {
        .workers = e->workers,
        .pin = 1,
        .scan = &e->cfg,
        .topic_cats = e->cfg.topics->ncat,
        .topic_pats = e->cfg.topics->npat_total,
        .entity_cats = e->cfg.entities->ncat,
        .entity_pats = e->cfg.entities->npat_total,
    };
    rs_pool_t *p = NULL;
    rs_err_e r = rs_pool_start(&p, &pc, e->err);
    if (r != RS_OK) {
        rs_stats_free(&st);
        return r;
    }
    for (size_t i = 0; r == RS_OK && i < e->c->n; i++) {
        rs_doc_t d;
        r = rs_copy_doc(&e->c->doc[i], &d);
        if (r == RS_OK)
            r = rs_pool_add(p, &d);
        rs_doc_free(&d);
    }
    rs_strlist_t warn = {0};
    const rs_err_e f = rs_pool_finish(p, &st, &warn, e->err);
    rs_pool_free(p);
    rs_strlist_free(&warn);
    if (r == RS_OK)
        r = f;
    if (r != RS_OK) {
        rs_stats_free(&st);
        return r;
    }
    sum->items = st.tokens;
    sum->bytes = st.bytes;
    sum->checksum = st.terms.n;
    rs_keep_last(e, &st, full);
    return RS_OK;
}

/* ======================================================================== */
/* Timing.                                                                  */

static int rs_dbl_cmp(const void *x, const void *y)
{
    const double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

#define RS_BENCH_MAX_RUNS 1000

/* The warm-up pass (its result in *first), calibration, then the timed
 * runs; fills row's timing fields. */
static rs_err_e rs_measure(rs_env_t *e, rs_pass_fn fn, const rs_bench_opts_t *o, rs_bench_row_t *row,
                           rs_bench_sum_t *first)
{
    double t0 = rs_now();
    RS_FORWARD(fn(e, 1, first));
    const double warm = rs_now() - t0;
    uint64_t reps = 1;
    if (warm < o->min_time)
        reps = warm > 0 ? (uint64_t)(o->min_time / warm) + 1 : 1000000;
    if (reps > 1000000)
        reps = 1000000;
    double per[RS_BENCH_MAX_RUNS];
    for (unsigned r = 0; r < o->runs; r++) {
        t0 = rs_now();
        for (uint64_t k = 0; k < reps; k++) {
            rs_bench_sum_t s;
            RS_FORWARD(fn(e, 0, &s));
            if (s.items != first->items)
                return rs_error_set(e->err, RS_ERR_INTERNAL, "%s/%s: a timed pass gave %llu items, the first %llu",
                                    row->kernel, row->backend, (unsigned long long)s.items,
                                    (unsigned long long)first->items);
        }
        per[r] = (rs_now() - t0) / (double)reps;
    }
    qsort(per, o->runs, sizeof per[0], rs_dbl_cmp);
    const unsigned n = o->runs;
    row->reps = reps;
    row->runs = n;
    row->sec.min = per[0];
    row->sec.max = per[n - 1];
    row->sec.median = n % 2 ? per[n / 2] : (per[n / 2 - 1] + per[n / 2]) / 2;
    const double b = (double)row->bytes;
    row->gbps.median = row->sec.median > 0 ? b / row->sec.median / 1e9 : 0;
    row->gbps.min = row->sec.max > 0 ? b / row->sec.max / 1e9 : 0;
    row->gbps.max = row->sec.min > 0 ? b / row->sec.min / 1e9 : 0;
    row->mtokps = row->sec.median > 0 ? (double)row->items / row->sec.median / 1e6 : 0;
    return RS_OK;
}

rs_err_e rs_bench_result_add(rs_bench_result_t *r, const rs_bench_row_t *row)
{
    if (r->n == r->cap) {
        const size_t cap = r->cap ? r->cap * 2 : 16;
        rs_bench_row_t *v = realloc(r->row, cap * sizeof *v);
        if (!v)
            return RS_ERR_NOMEM;
        r->row = v;
        r->cap = cap;
    }
    r->row[r->n++] = *row;
    return RS_OK;
}

static const rs_bench_row_t *rs_find_row(const rs_bench_result_t *r, const char *kernel, const char *backend,
                                         unsigned threads)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->row[i].kernel, kernel) == 0 && strcmp(r->row[i].backend, backend) == 0
            && r->row[i].threads == threads)
            return &r->row[i];
    return NULL;
}

/* Measures one row, checks it, records it and tells the caller. host: the
 * kernel is host code, the same whatever the backend, measured once. The
 * check: against ref_stats (every table) when given; else against *ref,
 * labelled vs, when vs is given; else the scalar row is the reference
 * (*ref receives its result) and the others are checked against *ref.
 * A device row that did not run wholly on its device is refused with
 * RS_ERR_DEVICE (err says why): its figures would be the CPU's. */
static rs_err_e rs_row_vs(rs_env_t *e, const rs_bench_opts_t *o, rs_bench_result_t *res, const char *kernel, int host,
                          unsigned threads, uint64_t bytes, uint64_t items, rs_pass_fn fn, rs_bench_sum_t *ref,
                          const rs_stats_t *ref_stats, const char *vs)
{
    const char *bn = host ? "host" : e->bname ? e->bname : e->k->name;
    const int pool = strcmp(kernel, "scan-pool") == 0;
    const int is_scalar = !host && strcmp(bn, "scalar") == 0;
    rs_bench_row_t row;
    memset(&row, 0, sizeof row);
    rs_copy(row.kernel, sizeof row.kernel, kernel);
    rs_copy(row.backend, sizeof row.backend, bn);
    row.threads = threads;
    row.bytes = bytes;
    row.items = items;
    rs_bench_sum_t got;
    RS_FORWARD(rs_measure(e, fn, o, &row, &got));
    char what[64];
    snprintf(what, sizeof what, "%s/%s%s", kernel, bn, threads > 1 ? " (workers)" : "");
    if (e->ocl) {
        const rs_opencl_counts_t n = rs_opencl_counts(e->ocl);
        if (!rs_opencl_usable(e->ocl) || n.cpu_calls || n.short_calls || !n.device_calls)
            return rs_error_set(e->err, RS_ERR_DEVICE,
                                "%s: not measured: %llu of %llu calls ran on the CPU (a device fault or a text the "
                                "device could not take)",
                                what, (unsigned long long)(n.cpu_calls + n.short_calls),
                                (unsigned long long)(n.cpu_calls + n.short_calls + n.device_calls));
    }
    if (e->ocl_scan && !rs_opencl_usable(e->ocl_scan))
        return rs_error_set(e->err, RS_ERR_DEVICE, "%s: not measured: the device faulted and its texts went to the CPU",
                            what);
    if (ref_stats) {
        RS_FORWARD(rs_bench_check_stats(what, ref_stats, &e->last, e->err));
        rs_copy(row.check, sizeof row.check, "= scalar (tables)");
    } else if (vs) {
        RS_FORWARD(rs_bench_check_sum(what, ref, &got, e->err));
        rs_copy(row.check, sizeof row.check, vs);
    } else if (host) {
        *ref = got;
        rs_copy(row.check, sizeof row.check, "host code, one version");
    } else if (is_scalar && !pool) {
        *ref = got;
        rs_copy(row.check, sizeof row.check, "reference");
    } else {
        RS_FORWARD(rs_bench_check_sum(what, ref, &got, e->err));
        rs_copy(row.check, sizeof row.check, "= scalar");
    }
    const rs_bench_row_t *base;
    if (pool)
        base = threads == 1 ? &row : rs_find_row(res, kernel, bn, 1);
    else
        base = host || is_scalar ? &row : rs_find_row(res, kernel, "scalar", 1);
    row.speedup = base && row.sec.median > 0 ? base->sec.median / row.sec.median : 0;
    if (pool)
        row.efficiency = row.speedup / (double)threads;
    if (rs_bench_result_add(res, &row) != RS_OK)
        return RS_ERR_NOMEM;
    if (o->on_row)
        o->on_row(o->ctx, &res->row[res->n - 1]);
    return RS_OK;
}

static rs_err_e rs_row(rs_env_t *e, const rs_bench_opts_t *o, rs_bench_result_t *res, const char *kernel, int host,
                       unsigned threads, uint64_t bytes, uint64_t items, rs_pass_fn fn, rs_bench_sum_t *ref,
                       const rs_stats_t *ref_stats)
{
    return rs_row_vs(e, o, res, kernel, host, threads, bytes, items, fn, ref, ref_stats, NULL);
}

static void rs_env_free(rs_env_t *e)
{
    for (size_t i = 0; i < e->nparsed; i++)
        rs_doc_free(&e->parsed[i]);
    free(e->parsed);
    rs_headings_free(&e->heads);
    for (int i = 0; i < 2; i++) {
        rs_matcher_free(&e->m[i]);
        rs_lexicon_free(&e->lex[i]);
    }
    rs_matcher_free(&e->mnone);
    rs_lexicon_free(&e->none);
    free(e->out.tok);
    free(e->out.fold);
    free(e->tok);
    free(e->fold);
    free(e->seg_tok);
    free(e->seg_fold);
    free(e->seg_doc);
    free(e->bkey);
    free(e->bhash);
    rs_pairs_batch_free(&e->bigrams);
    free(e->span);
    free(e->doc_span);
    rs_match_state_free(&e->ms);
    if (e->have_last)
        rs_stats_free(&e->last);
}

static rs_err_e rs_env_init(rs_env_t *e, const rs_bench_corpus_t *c, rs_error_t *err)
{
    memset(e, 0, sizeof *e);
    rs_pairs_batch_init(&e->bigrams);
    e->c = c;
    e->err = err;
    if (rs_headings_init_default(&e->heads) != RS_OK || rs_matcher_build(&e->mnone, &e->none) != RS_OK)
        return RS_ERR_NOMEM;
    e->parsed = calloc(c->n ? c->n : 1, sizeof *e->parsed);
    if (!e->parsed)
        return RS_ERR_NOMEM;
    for (size_t i = 0; i < c->n; i++) {
        rs_doc_t *d = &e->parsed[e->nparsed++];
        RS_FORWARD(rs_copy_doc(&c->doc[i], d));
        rs_error_t perr = {0};
        const rs_err_e pe = rs_doc_parse(d, RS_FORMAT_AUTO, &e->heads, &perr);
        if (pe == RS_ERR_NOMEM || pe == RS_ERR_INTERNAL)
            return pe;
        if (pe != RS_OK)
            d->nseg = 0; /* skipped by scan too */
        for (size_t s = 0; s < d->nseg; s++)
            e->seg_bytes += d->seg[s].end - d->seg[s].start;
        e->nseg += d->nseg;
    }
    e->seg_tok = malloc((e->nseg + 1) * sizeof *e->seg_tok);
    e->seg_fold = malloc((e->nseg + 1) * sizeof *e->seg_fold);
    e->seg_doc = malloc((e->nseg + 1) * sizeof *e->seg_doc);
    e->out.tok_cap = RS_CHUNK_BYTES + 1;
    e->out.fold_cap = 2 * (size_t)RS_CHUNK_BYTES + 8;
    e->out.tok = malloc(e->out.tok_cap * sizeof *e->out.tok);
    e->out.fold = malloc(e->out.fold_cap);
    if (!e->seg_tok || !e->seg_fold || !e->seg_doc || !e->out.tok || !e->out.fold)
        return RS_ERR_NOMEM;
    e->cfg = (rs_scan_cfg_t){.kernels = &rs_kernels_scalar, .format = RS_FORMAT_AUTO, .headings = &e->heads,
                             .topics = &e->mnone, .entities = &e->mnone};
    return RS_OK;
}

static const size_t rs_lex_sizes[2] = {500, 5000};
static const char *const rs_match_names[2] = {"match-500", "match-5000"};

/* Lexicons from the scalar tokens' vocabulary (the count pass's tables). */
static rs_err_e rs_env_lexicons(rs_env_t *e, uint64_t seed, rs_bench_result_t *res)
{
    rs_bench_sum_t s;
    RS_FORWARD(rs_pass_count(e, 1, &s));
    for (int i = 0; i < 2; i++) {
        RS_FORWARD(rs_bench_lexicon(&e->lex[i], &e->last, rs_lex_sizes[i], seed + (uint64_t)i, NULL, e->err));
        if (rs_matcher_build(&e->m[i], &e->lex[i]) != RS_OK)
            return RS_ERR_NOMEM;
        res->lexicon_entries[i] = e->m[i].npat_total;
    }
    e->cfg.topics = &e->m[0];
    e->have_lex = 1;
    return RS_OK;
}

/* Appends a note to res; RS_ERR_NOMEM when it cannot. */
static rs_err_e rs_bench_note(rs_bench_result_t *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static rs_err_e rs_bench_note(rs_bench_result_t *res, const char *fmt, ...)
{
    char note[768];
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(note, sizeof note, fmt, ap);
    va_end(ap);
    const size_t len = n < 0 ? 0 : (size_t)n < sizeof note ? (size_t)n : sizeof note - 1;
    return rs_strlist_push(&res->notes, note, len) < 0 ? RS_ERR_NOMEM : RS_OK;
}

rs_err_e rs_bench_run(const rs_bench_corpus_t *c, const rs_bench_opts_t *oin, rs_bench_result_t *res,
                      rs_error_t *err)
{
    memset(res, 0, sizeof *res);
    rs_bench_opts_t o = *oin;
    if (o.min_time <= 0)
        o.min_time = RS_BENCH_DEFAULT_MIN_TIME;
    if (o.runs == 0)
        o.runs = RS_BENCH_DEFAULT_RUNS;
    RS_RETURN_IF(o.runs > RS_BENCH_MAX_RUNS, err, RS_ERR_USAGE, "at most %d runs", RS_BENCH_MAX_RUNS);
    RS_RETURN_IF(o.nthreads > 64, err, RS_ERR_USAGE, "at most 64 thread counts");
    for (size_t i = 0; i < o.nthreads; i++)
        RS_RETURN_IF(o.threads[i] == 0 || o.threads[i] > RS_BENCH_MAX_THREADS, err, RS_ERR_USAGE,
                     "thread counts go from 1 to %d", RS_BENCH_MAX_THREADS);
    rs_bench_machine(&res->machine);
    rs_copy(res->corpus, sizeof res->corpus, c->source);
    res->docs = c->n;
    res->bytes = c->bytes;
    res->nonascii_bytes = c->nonascii_bytes;
    res->min_time = o.min_time;
    res->runs = o.runs;
    double la[1];
    res->load[0] = res->load[1] = -1;
    if (getloadavg(la, 1) == 1)
        res->load[0] = la[0];

    rs_env_t e;
    rs_err_e r = rs_env_init(&e, c, err);
    if (r != RS_OK)
        goto out;
    /* backends: scalar first (the reference), then the others this CPU runs */
    const rs_kernels_t *order[32];
    size_t nk = 0;
    order[nk++] = &rs_kernels_scalar;
    const uint32_t have = rs_cpu_features();
    for (const rs_kernels_t *const *k = rs_kernels_all(); *k && nk < 32; k++) {
        if (*k == &rs_kernels_scalar)
            continue;
        if ((have & (*k)->required) != (*k)->required) {
            char note[160];
            snprintf(note, sizeof note, "%s: not measured, this CPU lacks a feature it needs", (*k)->name);
            if (rs_strlist_push(&res->notes, note, strlen(note)) < 0) {
                r = RS_ERR_NOMEM;
                goto out;
            }
            continue;
        }
        order[nk++] = *k;
    }
    rs_bench_sum_t ref_tok = {0}, ref_match[2] = {{0}, {0}}, ref_count = {0}, ref_scan_sum = {0};
    rs_stats_t ref_scan;
    int have_ref_scan = 0;
    /* the scalar tokens: what the host kernels consume, and the vocabulary
     * the lexicons are drawn from (untimed; also warms the tables) */
    e.k = &rs_kernels_scalar;
    if ((r = rs_pretokenize(&e)) != RS_OK || (r = rs_env_lexicons(&e, o.seed, res)) != RS_OK
        || (r = rs_find_spans(&e)) != RS_OK)
        goto out;
    const uint64_t tokens = e.ntok, doc_tokens = e.doc_tokens;
    uint64_t scalar_fold = 0;
    for (size_t b = 0; b < nk && r == RS_OK; b++) {
        e.k = order[b];
        r = rs_row(&e, &o, res, "tokenize+fold+hash", 0, 1, c->bytes, doc_tokens, rs_pass_tokenize, &ref_tok, NULL);
        if (b == 0)
            scalar_fold = e.fold_bytes;
    }
    /* each OpenCL device: the same pieces, every one on the device */
    rs_opencl_devinfo_t *dv = NULL;
    size_t ndv = 0;
    if (r == RS_OK && !o.no_opencl && rs_opencl_compiled()) {
        rs_error_t derr = {0};
        if (rs_opencl_devices(&dv, &ndv, 0, &derr) != RS_OK)
            ndv = 0; /* rs_bench_machine says why */
        if (ndv > RS_BENCH_MAX_DEVICES)
            ndv = RS_BENCH_MAX_DEVICES;
    }
    e.k = &rs_kernels_scalar;
    for (size_t i = 0; i < ndv && r == RS_OK; i++) {
        char name[32];
        snprintf(name, sizeof name, "opencl:%u:%u", dv[i].platform, dv[i].device);
        rs_opencl_opts_t oo;
        memset(&oo, 0, sizeof oo); /* min_device_bytes 0: every piece to the device */
        oo.fault = o.opencl_fault;
        rs_error_t derr = {0};
        rs_opencl_t *h = rs_opencl_open(dv[i].platform, dv[i].device, &oo, &derr);
        if (!h)
            r = rs_bench_note(res, "%s: not measured: %s", name, derr.msg);
        else if (!rs_opencl_usable(h))
            r = rs_bench_note(res, "%s: not measured: its kernels did not build (%.300s)", name,
                              rs_opencl_info(h)->status);
        else {
            e.ocl = h;
            e.bname = name;
            r = rs_row(&e, &o, res, "tokenize+fold+hash", 0, 1, c->bytes, doc_tokens, rs_pass_tokenize, &ref_tok,
                       NULL);
            if (r == RS_ERR_DEVICE)
                r = rs_bench_note(res, "%s", err->msg);
            e.ocl = NULL;
            e.bname = NULL;
        }
        rs_opencl_close(h);
    }
    /* folding and hashing alone (scalar), checked to give the tokens of
     * the scalar tokenize row */
    if (r == RS_OK) {
        rs_bench_sum_t ref_fold = {ref_tok.items, scalar_fold, ref_tok.checksum};
        e.k = &rs_kernels_scalar;
        r = rs_row_vs(&e, &o, res, "fold+hash", 0, 1, c->bytes, doc_tokens, rs_pass_fold, &ref_fold, NULL,
                      "= scalar tokenize");
    }
    /* matching and counting are host code (rs_kernels_t has no entry for
     * them): one row each, over the scalar tokens */
    e.k = &rs_kernels_scalar;
    for (int i = 0; i < 2 && r == RS_OK; i++) {
        e.mm = &e.m[i];
        rs_match_state_free(&e.ms);
        if ((r = rs_match_state_init(&e.ms, e.mm)) != RS_OK)
            break;
        r = rs_row(&e, &o, res, rs_match_names[i], 1, 1, e.seg_bytes, tokens, rs_pass_match, &ref_match[i], NULL);
    }
    if (r == RS_OK)
        r = rs_row(&e, &o, res, "count", 1, 1, e.seg_bytes, tokens, rs_pass_count, &ref_count, NULL);
    for (size_t b = 0; b < nk && r == RS_OK; b++) {
        e.k = order[b];
        e.cfg.kernels = e.k;
        r = rs_row(&e, &o, res, "scan", 0, 1, c->bytes, tokens, rs_pass_scan, &ref_scan_sum,
                   have_ref_scan ? &ref_scan : NULL);
        if (r == RS_OK && !have_ref_scan) {
            ref_scan = e.last;
            e.have_last = 0;
            have_ref_scan = 1;
            res->tokens = ref_scan.tokens;
        }
    }
    /* each OpenCL device as `rostrum scan --backend opencl:P:D` runs it */
    if (r == RS_OK && ndv)
        rs_opencl_register();
    for (size_t i = 0; i < ndv && r == RS_OK && have_ref_scan; i++) {
        char name[32];
        snprintf(name, sizeof name, "opencl:%u:%u", dv[i].platform, dv[i].device);
        const rs_kernels_t *k = rs_kernels_select(name);
        rs_opencl_t *h = k ? rs_opencl_of_kernels(k) : NULL;
        if (!h || !rs_opencl_usable(h)) {
            r = rs_bench_note(res, "scan/%s: not measured: the device backend does not open or build", name);
            continue;
        }
        const rs_opencl_counts_t n0 = rs_opencl_counts(h);
        e.k = k;
        e.cfg.kernels = k;
        e.ocl_scan = h;
        r = rs_row(&e, &o, res, "scan", 0, 1, c->bytes, tokens, rs_pass_scan, &ref_scan_sum, &ref_scan);
        e.ocl_scan = NULL;
        if (r == RS_ERR_DEVICE) {
            r = rs_bench_note(res, "%s", err->msg);
            continue;
        }
        const rs_opencl_counts_t n1 = rs_opencl_counts(h);
        const rs_bench_row_t *w = &res->row[res->n - 1];
        const uint64_t passes = 1 + w->reps * w->runs; /* warm-up and timed */
        const uint64_t dc = (n1.device_calls - n0.device_calls) / passes;
        const uint64_t db = (n1.device_bytes - n0.device_bytes) / passes;
        const uint64_t all = dc + (n1.short_calls - n0.short_calls + n1.cpu_calls - n0.cpu_calls) / passes;
        const uint64_t allb = db + (n1.short_bytes - n0.short_bytes + n1.cpu_bytes - n0.cpu_bytes) / passes;
        if (r == RS_OK)
            r = rs_bench_note(res,
                              "scan/%s: per pass, %llu of %llu tokenize calls (%llu of %llu bytes) ran on the device "
                              "(a call is a batch of up to RS_SCAN_BATCH_BYTES of documents, or one piece of a larger "
                              "one); shorter ones than ROSTRUM_OPENCL_MIN_BYTES (default %u) run on the CPU",
                              name, (unsigned long long)dc, (unsigned long long)all, (unsigned long long)db,
                              (unsigned long long)allb, RS_OPENCL_MIN_BYTES);
    }
    free(dv);
    if (r == RS_OK && o.nthreads) {
        e.k = rs_kernels_select("auto");
        e.cfg.kernels = e.k;
        unsigned list[65];
        size_t nl = 0;
        list[nl++] = 1;
        for (size_t i = 0; i < o.nthreads; i++)
            if (o.threads[i] != 1)
                list[nl++] = o.threads[i];
        for (size_t i = 0; i < nl && r == RS_OK; i++) {
            e.workers = list[i];
            r = rs_row(&e, &o, res, "scan-pool", 0, list[i], c->bytes, tokens, rs_pass_pool, NULL, &ref_scan);
        }
    }
    if (have_ref_scan)
        rs_stats_free(&ref_scan);
out:
    rs_env_free(&e);
    if (getloadavg(la, 1) == 1)
        res->load[1] = la[0];
    if (r == RS_ERR_NOMEM)
        rs_error_set(err, r, "out of memory");
    return r;
}

void rs_bench_result_free(rs_bench_result_t *r)
{
    free(r->row);
    rs_strlist_free(&r->notes);
    memset(r, 0, sizeof *r);
}

/* ======================================================================== */
/* JSON.                                                                    */

static void rs_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void rs_json_stat(FILE *f, const char *key, const rs_bench_stat_t *s)
{
    fprintf(f, "\"%s\": {\"median\": %.9g, \"min\": %.9g, \"max\": %.9g}", key, s->median, s->min, s->max);
}

rs_err_e rs_bench_write_json(FILE *f, const rs_bench_result_t *r)
{
    const rs_bench_machine_t *m = &r->machine;
    fprintf(f, "{\n  \"schema\": \"%s\",\n  \"version\": ", RS_BENCH_SCHEMA);
    rs_json_str(f, m->version);
    fputs(",\n  \"machine\": {\"cpu\": ", f);
    rs_json_str(f, m->cpu);
    fputs(", \"topology_from\": ", f);
    rs_json_str(f, m->topology_from);
    fprintf(f, ", \"packages\": %u, \"cores\": %u, \"pus\": %u, \"numa_nodes\": %u, \"memory\": %llu,\n", m->packages,
            m->cores, m->pus, m->numa_nodes, (unsigned long long)m->memory);
    fprintf(f, "    \"caches\": {\"l1d\": [%u, %llu], \"l2\": [%u, %llu], \"l3\": [%u, %llu], \"l4\": [%u, %llu]},\n",
            m->cache_count[0], (unsigned long long)m->cache_size[0], m->cache_count[1],
            (unsigned long long)m->cache_size[1], m->cache_count[2], (unsigned long long)m->cache_size[2],
            m->cache_count[3], (unsigned long long)m->cache_size[3]);
    fputs("    \"features\": ", f);
    rs_json_str(f, m->features);
    fputs(", \"backends\": ", f);
    rs_json_str(f, m->backends);
    fputs(",\n    \"compiler\": ", f);
    rs_json_str(f, m->compiler);
    fputs(", \"flags\": ", f);
    rs_json_str(f, m->flags);
    fputs(", \"os\": ", f);
    rs_json_str(f, m->os);
    fputs(",\n    \"opencl_devices\": [", f);
    for (unsigned i = 0; i < m->nopencl; i++) {
        if (i)
            fputs(", ", f);
        rs_json_str(f, m->opencl[i]);
    }
    fputs("]},\n  \"corpus\": {\"source\": ", f);
    rs_json_str(f, r->corpus);
    fprintf(f, ", \"documents\": %llu, \"bytes\": %llu, \"tokens\": %llu, \"non_ascii_bytes\": %llu},\n",
            (unsigned long long)r->docs, (unsigned long long)r->bytes, (unsigned long long)r->tokens,
            (unsigned long long)r->nonascii_bytes);
    fprintf(f, "  \"lexicon_entries\": [%zu, %zu],\n", r->lexicon_entries[0], r->lexicon_entries[1]);
    fprintf(f, "  \"method\": {\"warmup_passes\": 1, \"min_time\": %.9g, \"runs\": %u, \"load_before\": %.2f, "
               "\"load_after\": %.2f},\n",
            r->min_time, r->runs, r->load[0], r->load[1]);
    fputs("  \"notes\": [", f);
    for (size_t i = 0; i < r->notes.n; i++) {
        if (i)
            fputs(", ", f);
        rs_json_str(f, r->notes.s[i]);
    }
    fputs("],\n  \"rows\": [", f);
    for (size_t i = 0; i < r->n; i++) {
        const rs_bench_row_t *w = &r->row[i];
        fputs(i ? ",\n    {\"kernel\": " : "\n    {\"kernel\": ", f);
        rs_json_str(f, w->kernel);
        fputs(", \"backend\": ", f);
        rs_json_str(f, w->backend);
        fprintf(f, ", \"threads\": %u, \"bytes\": %llu, \"tokens\": %llu, \"reps\": %llu, \"runs\": %u,\n     ",
                w->threads, (unsigned long long)w->bytes, (unsigned long long)w->items, (unsigned long long)w->reps,
                w->runs);
        rs_json_stat(f, "seconds", &w->sec);
        fputs(", ", f);
        rs_json_stat(f, "gb_per_s", &w->gbps);
        fprintf(f, ",\n     \"mtokens_per_s\": %.9g, \"speedup\": %.9g, \"efficiency\": %.9g, \"check\": ", w->mtokps,
                w->speedup, w->efficiency);
        rs_json_str(f, w->check);
        fputc('}', f);
    }
    fputs("\n  ]\n}\n", f);
    return ferror(f) ? RS_ERR_IO : RS_OK;
}

static json_object *rs_jget(json_object *o, const char *key)
{
    json_object *v = NULL;
    return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static void rs_jstr(json_object *o, const char *key, char *dst, size_t n)
{
    json_object *v = rs_jget(o, key);
    rs_copy(dst, n, v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "");
}

static uint64_t rs_jint(json_object *o, const char *key)
{
    json_object *v = rs_jget(o, key);
    return v ? (uint64_t)json_object_get_int64(v) : 0;
}

static double rs_jdbl(json_object *o, const char *key)
{
    json_object *v = rs_jget(o, key);
    return v ? json_object_get_double(v) : 0.0;
}

static void rs_jstat(json_object *o, const char *key, rs_bench_stat_t *s)
{
    json_object *v = rs_jget(o, key);
    s->median = rs_jdbl(v, "median");
    s->min = rs_jdbl(v, "min");
    s->max = rs_jdbl(v, "max");
}

rs_err_e rs_bench_read_json(const char *path, rs_bench_result_t *r, rs_error_t *err)
{
    memset(r, 0, sizeof *r);
    json_object *root = json_object_from_file(path);
    if (!root) {
        const char *why = json_util_get_last_err();
        char msg[256];
        snprintf(msg, sizeof msg, "%s", why ? why : "unknown error");
        msg[strcspn(msg, "\n")] = 0;
        return rs_error_set(err, RS_ERR_IO, "%s: cannot read it as JSON (%s)", path, msg);
    }
    rs_err_e e = RS_OK;
    json_object *schema = rs_jget(root, "schema"), *rows = rs_jget(root, "rows");
    if (!schema || strcmp(json_object_get_string(schema), RS_BENCH_SCHEMA) != 0 || !rows
        || !json_object_is_type(rows, json_type_array)) {
        e = rs_error_set(err, RS_ERR_FORMAT, "%s: not a rostrum bench result (schema %s)", path, RS_BENCH_SCHEMA);
        goto done;
    }
    rs_jstr(root, "version", r->machine.version, sizeof r->machine.version);
    json_object *m = rs_jget(root, "machine"), *c = rs_jget(root, "corpus"), *meth = rs_jget(root, "method");
    rs_jstr(m, "cpu", r->machine.cpu, sizeof r->machine.cpu);
    rs_jstr(m, "topology_from", r->machine.topology_from, sizeof r->machine.topology_from);
    r->machine.packages = (unsigned)rs_jint(m, "packages");
    r->machine.cores = (unsigned)rs_jint(m, "cores");
    r->machine.pus = (unsigned)rs_jint(m, "pus");
    r->machine.numa_nodes = (unsigned)rs_jint(m, "numa_nodes");
    r->machine.memory = rs_jint(m, "memory");
    json_object *caches = rs_jget(m, "caches");
    static const char *const cn[4] = {"l1d", "l2", "l3", "l4"};
    for (int i = 0; i < 4; i++) {
        json_object *a = rs_jget(caches, cn[i]);
        if (a && json_object_is_type(a, json_type_array) && json_object_array_length(a) == 2) {
            r->machine.cache_count[i] = (unsigned)json_object_get_int64(json_object_array_get_idx(a, 0));
            r->machine.cache_size[i] = (uint64_t)json_object_get_int64(json_object_array_get_idx(a, 1));
        }
    }
    rs_jstr(m, "features", r->machine.features, sizeof r->machine.features);
    rs_jstr(m, "backends", r->machine.backends, sizeof r->machine.backends);
    rs_jstr(m, "compiler", r->machine.compiler, sizeof r->machine.compiler);
    rs_jstr(m, "flags", r->machine.flags, sizeof r->machine.flags);
    rs_jstr(m, "os", r->machine.os, sizeof r->machine.os);
    json_object *dev = rs_jget(m, "opencl_devices");
    if (dev && json_object_is_type(dev, json_type_array))
        for (size_t i = 0; i < json_object_array_length(dev) && r->machine.nopencl < RS_BENCH_MAX_DEVICES; i++) {
            json_object *d = json_object_array_get_idx(dev, i);
            if (json_object_is_type(d, json_type_string))
                rs_copy(r->machine.opencl[r->machine.nopencl++], sizeof r->machine.opencl[0], json_object_get_string(d));
        }
    rs_jstr(c, "source", r->corpus, sizeof r->corpus);
    r->docs = rs_jint(c, "documents");
    r->bytes = rs_jint(c, "bytes");
    r->tokens = rs_jint(c, "tokens");
    r->nonascii_bytes = rs_jint(c, "non_ascii_bytes");
    r->min_time = rs_jdbl(meth, "min_time");
    r->runs = (unsigned)rs_jint(meth, "runs");
    r->load[0] = rs_jget(meth, "load_before") ? rs_jdbl(meth, "load_before") : -1;
    r->load[1] = rs_jget(meth, "load_after") ? rs_jdbl(meth, "load_after") : -1;
    json_object *le = rs_jget(root, "lexicon_entries");
    if (le && json_object_is_type(le, json_type_array) && json_object_array_length(le) == 2)
        for (size_t i = 0; i < 2; i++)
            r->lexicon_entries[i] = (size_t)json_object_get_int64(json_object_array_get_idx(le, i));
    for (size_t i = 0; i < json_object_array_length(rows); i++) {
        json_object *w = json_object_array_get_idx(rows, i);
        rs_bench_row_t row;
        memset(&row, 0, sizeof row);
        rs_jstr(w, "kernel", row.kernel, sizeof row.kernel);
        rs_jstr(w, "backend", row.backend, sizeof row.backend);
        if (!row.kernel[0] || !row.backend[0]) {
            e = rs_error_set(err, RS_ERR_FORMAT, "%s: row %zu has no kernel or backend", path, i);
            goto done;
        }
        row.threads = (unsigned)rs_jint(w, "threads");
        row.bytes = rs_jint(w, "bytes");
        row.items = rs_jint(w, "tokens");
        row.reps = rs_jint(w, "reps");
        row.runs = (unsigned)rs_jint(w, "runs");
        rs_jstat(w, "seconds", &row.sec);
        rs_jstat(w, "gb_per_s", &row.gbps);
        row.mtokps = rs_jdbl(w, "mtokens_per_s");
        row.speedup = rs_jdbl(w, "speedup");
        row.efficiency = rs_jdbl(w, "efficiency");
        rs_jstr(w, "check", row.check, sizeof row.check);
        if (rs_bench_result_add(r, &row) != RS_OK) {
            e = rs_error_set(err, RS_ERR_NOMEM, "out of memory");
            goto done;
        }
    }
done:
    json_object_put(root);
    return e;
}

rs_err_e rs_bench_compare(const rs_bench_result_t *a, const rs_bench_result_t *b, rs_bench_cmp_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    rs_bench_cmp_t *v = malloc((a->n + b->n + 1) * sizeof *v);
    if (!v)
        return RS_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < a->n; i++) {
        const rs_bench_row_t *x = &a->row[i];
        const rs_bench_row_t *y = rs_find_row(b, x->kernel, x->backend, x->threads);
        rs_bench_cmp_t c = {x, y, 0, 0, 0};
        if (y && x->gbps.median > 0) {
            c.ratio = y->gbps.median / x->gbps.median;
            c.ratio_lo = x->gbps.max > 0 ? y->gbps.min / x->gbps.max : 0;
            c.ratio_hi = x->gbps.min > 0 ? y->gbps.max / x->gbps.min : 0;
        }
        v[k++] = c;
    }
    for (size_t i = 0; i < b->n; i++) {
        const rs_bench_row_t *y = &b->row[i];
        if (!rs_find_row(a, y->kernel, y->backend, y->threads))
            v[k++] = (rs_bench_cmp_t){NULL, y, 0, 0, 0};
    }
    *out = v;
    *n = k;
    return RS_OK;
}
