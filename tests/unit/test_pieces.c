/*
 * test_pieces.c - documents larger than a shard, read in pieces cut at line
 * ends (host/pieces.c) and counted piece by piece (host/scan.c, the parsers'
 * carry in host/format.c, subtitle.c, jsonl.c), against the same document
 * counted whole: every format, random documents, random piece sizes and
 * random read sizes, one by one and through a batched table (each piece in
 * one call, as a device backend does); and a document that breaks off, which must leave the
 * scanner as if it had never been seen.
 */
#include "format.h" /* RS_DETECT_BYTES */
#include "pieces.h"
#include "scan_fixture.h" /* fixture_t, report, seed_rand */

/* --- generated documents ------------------------------------------------ */

typedef struct text {
    char *s;
    size_t n, cap;
} text_t;

static void put(text_t *t, const char *s)
{
    const size_t l = strlen(s);
    if (t->n + l + 1 > t->cap) {
        t->cap = (t->n + l + 1) * 2;
        t->s = realloc(t->s, t->cap);
        cr_assert(t->s);
    }
    memcpy(t->s + t->n, s, l);
    t->n += l;
}

static const char *pick(const char *const *v, size_t n)
{
    return v[(size_t)rand() % n];
}
#define PICK(v) pick(v, sizeof v / sizeof v[0])

/* words and marks that every parser meets; none holds a line break */
static const char *const words[] = {
    "new ", "york ", "city ", "secur", "ity ", "ann ", "lee ", "the ", "state ", "of ", "the ", "?", "can't ",
    "3.14 ", "e.g. ", "U.S. ", "_id ", "\xe2\x80\x99", "caf\xc3\xa9 ", "\xd0\xbc\xd0\xb8\xd1\x80 ", "\xff",
    "&amp; ", "&#39;", "[1:02] ", "\\[01:46\\] ", "](http://x.y/z) ", ", ", ". ", "\t", "  ",
};

static void line_of_words(text_t *t, int max)
{
    const int k = rand() % max;
    for (int i = 0; i < k; i++)
        put(t, PICK(words));
}

/* Prose with labels of every kind (Markdown, "Name:", captions), blank
 * lines, CRLF, front matter at the top. */
static void gen_prose(text_t *t, size_t size, int kind)
{
    static const char *const md[] = {"**Ann Lee:** ", "**Bob:** ", "**Carol**: ", "**Note:** ", ""};
    static const char *const lab[] = {"Ann Lee: ", "Bob: ", "Speaker 1 (00:12): ", "Links: ", ""};
    static const char *const cap[] = {">> ", ">> BOB: ", ">>> ", "", "text >> more "};
    static const char *const ends[] = {"\n", "\n", "\n\n", "\r\n", "\n \n"};
    if (rand() % 2)
        put(t, "---\ntitle: A long one\ndate: 2024-05-06\nspeakers: [Ann Lee, Bob]\ntags: [x, y]\n---\n");
    while (t->n < size) {
        put(t, kind == 0 ? PICK(md) : kind == 1 ? PICK(lab) : kind == 2 ? PICK(cap) : "");
        line_of_words(t, 25);
        put(t, PICK(ends));
    }
}

static void gen_subtitles(text_t *t, size_t size, int vtt)
{
    static const char *const starts[] = {"", "", "- ", "Ann: ", "<v Bob>", "<v.loud Carol>", "[SPEAKER_00]: ",
                                         ">> ", "<i>", "{\\an8}"};
    char buf[96];
    if (vtt)
        put(t, "WEBVTT - a test\nKind: captions\n\n");
    for (unsigned cue = 1; t->n < size; cue++) {
        if (vtt && rand() % 20 == 0)
            put(t, "NOTE a note\nthat goes on\n\n");
        if (!vtt || rand() % 2) {
            snprintf(buf, sizeof buf, "%u\n", cue);
            put(t, buf);
        }
        snprintf(buf, sizeof buf, "00:%02u:%02u%c%03u --> 00:%02u:%02u%c%03u\n", cue / 60 % 60, cue % 60,
                 vtt ? '.' : ',', cue % 1000, (cue + 1) / 60 % 60, (cue + 1) % 60, vtt ? '.' : ',', cue % 7);
        put(t, buf);
        const int lines = 1 + rand() % 3;
        for (int i = 0; i < lines; i++) {
            put(t, PICK(starts));
            line_of_words(t, 12);
            put(t, rand() % 5 ? "\n" : "\r\n");
        }
        put(t, rand() % 8 ? "\n" : " \n");
    }
}

static void gen_jsonl(text_t *t, size_t size)
{
    static const char *const spk[] = {"\"Ann\"", "\"Bob Ray\"", "7", "\"\"", "null"};
    static const char *const bad[] = {"{\"text\": 3}", "[1, 2]", "{\"speaker\": \"Ann\", \"text\": \"cut",
                                      "not json", ""};
    static const char *const txt[] = {"new york city", "secur ity", "the state of the union?", "ann lee",
                                      "caf\\u00e9 \\\"q\\\"", "3.14 e.g. U.S."};
    char buf[256];
    for (unsigned i = 0; t->n < size; i++) {
        if (rand() % 15 == 0) {
            put(t, PICK(bad));
        } else {
            snprintf(buf, sizeof buf, "{\"speaker\": %s, \"text\": \"%s %s\", \"start\": %u, \"end\": %u.5}", PICK(spk),
                     PICK(txt), PICK(txt), i, i);
            put(t, buf);
        }
        put(t, "\n");
    }
}

static const char *const kinds[] = {"markdown", "labeled", "captions", "plain", "srt", "vtt", "jsonl"};

/* A document of kind k of a bit more than size bytes; its name. */
static const char *gen(text_t *t, int k, size_t size)
{
    t->n = 0;
    switch (k) {
    case 4:
        gen_subtitles(t, size, 0);
        return "talk.srt";
    case 5:
        gen_subtitles(t, size, 1);
        return rand() % 2 ? "talk.vtt" : "talk.txt"; /* found by "WEBVTT" too */
    case 6:
        gen_jsonl(t, size);
        return rand() % 2 ? "talk.jsonl" : "talk.txt"; /* found by content too */
    default:
        gen_prose(t, size, k);
        return k == 0 ? "talk.md" : "talk.txt";
    }
}

/* --- the pieces' receiver ------------------------------------------------ */

typedef struct sink {
    rs_scanner_t sc;
    rs_stats_t *st;
    size_t pieces, blank_cuts, line_cuts;
    uint32_t next;  /* the piece expected */
    int subtitles;  /* cuts must follow a blank line */
    int broken;     /* a broken piece arrived */
    unsigned seed;
} sink_t;

static rs_err_e on_piece(void *ctx, rs_doc_t *d)
{
    sink_t *s = ctx;
    cr_assert_eq(d->piece, s->next, "seed %u: piece %u, expected %u", s->seed, d->piece, s->next);
    s->next = d->more ? s->next + 1 : 0;
    s->pieces++;
    s->broken |= d->broken;
    if (d->more) {
        cr_assert(d->len > 0 && d->text[d->len - 1] == '\n', "seed %u: piece %u does not end a line", s->seed,
                  d->piece);
        if (s->subtitles) {
            size_t i = d->len - 1;
            while (i > 0 && d->text[i - 1] != '\n' && strchr(" \t\r\f\v", d->text[i - 1]))
                i--;
            cr_assert(i == 0 || d->text[i - 1] == '\n', "seed %u: subtitle piece %u not cut after a blank line",
                      s->seed, d->piece);
        }
        if (d->piece == 0)
            cr_assert_geq(d->len, RS_DETECT_BYTES, "seed %u: first piece of %zu bytes", s->seed, d->len);
    }
    cr_assert_eq(rs_scan_document(&s->sc, d, s->st), RS_OK, "seed %u", s->seed);
    rs_doc_free(d);
    return RS_OK;
}

static rs_err_e on_skip(void *ctx, const char *path, const char *why)
{
    (void)ctx;
    cr_assert_fail("skip %s: %s", path, why);
    return RS_OK;
}

/* Pours t into pieces of about split bytes, read in random sizes; stops
 * after abort_at bytes (0: never) with rs_pieces_abort. */
static void pour(const rs_ingest_cfg_t *cfg, const char *name, const text_t *t, size_t abort_at)
{
    rs_pieces_t pc;
    rs_pieces_init(&pc, cfg, strdup(name), rand() % 2 ? t->n : 0);
    size_t off = 0;
    while (off < t->n) {
        if (abort_at && off >= abort_at) {
            cr_assert_eq(rs_pieces_abort(&pc), RS_OK);
            return;
        }
        uint8_t *at;
        size_t room;
        cr_assert_eq(rs_pieces_room(&pc, &at, &room), RS_OK);
        size_t k = 1 + (size_t)rand() % 70000;
        if (k > room)
            k = room;
        if (k > t->n - off)
            k = t->n - off;
        if (abort_at && off < abort_at && k > abort_at - off)
            k = abort_at - off; /* stop exactly there */
        memcpy(at, t->s + off, k);
        off += k;
        cr_assert_eq(rs_pieces_add(&pc, k), RS_OK);
    }
    cr_assert_eq(rs_pieces_end(&pc), RS_OK);
}

static char *whole_report(fixture_t *f, const char *name, const text_t *t)
{
    rs_stats_t st;
    stats_init(f, &st);
    rs_scanner_t sc;
    cr_assert_eq(rs_scanner_init(&sc, &f->cfg), RS_OK);
    rs_doc_t d = {0};
    d.path = strdup(name);
    d.text = malloc(t->n + 1);
    memcpy(d.text, t->s, t->n);
    d.len = d.bytes = t->n;
    cr_assert_eq(rs_scan_document(&sc, &d, &st), RS_OK);
    rs_doc_free(&d);
    rs_scanner_free(&sc);
    char *r = report(f, &st);
    rs_stats_free(&st);
    return r;
}

/* t poured in pieces of about split bytes through a scanner with kernels
 * k into fresh statistics: their report; *pieces gets how many came and
 * *docs how many documents were counted. */
static char *pieces_report(fixture_t *f, const rs_kernels_t *k, const char *name, const text_t *t, uint64_t split,
                           int subtitles, unsigned seed, size_t *pieces, uint64_t *docs)
{
    rs_scan_cfg_t cfg1 = f->cfg;
    cfg1.kernels = k;
    rs_stats_t st;
    stats_init(f, &st);
    sink_t s = {.st = &st, .subtitles = subtitles, .seed = seed};
    cr_assert_eq(rs_scanner_init(&s.sc, &cfg1), RS_OK);
    const rs_ingest_cfg_t cfg = {.split_bytes = split, .on_doc = on_piece, .on_skip = on_skip, .ctx = &s};
    pour(&cfg, name, t, 0);
    *pieces = s.pieces;
    *docs = st.documents;
    char *r = report(f, &st);
    rs_scanner_free(&s.sc);
    rs_stats_free(&st);
    return r;
}

Test(pieces, every_format_in_pieces_counts_as_whole, .timeout = 600)
{
    fixture_t f;
    fixture_init(&f);
    const unsigned seed = seed_rand("pieces");
    text_t t = {0};
    for (int k = 0; k < (int)(sizeof kinds / sizeof kinds[0]); k++) {
        for (int round = 0; round < 2; round++) {
            const char *name = gen(&t, k, RS_DETECT_BYTES + 200000 + (size_t)rand() % 300000);
            char *want = whole_report(&f, name, &t);
            /* round 1: a batched table (a device's), each piece in one call */
            const uint64_t split = round ? 4096 : 64 + (uint64_t)rand() % 40000;
            const size_t batches = fake_batches;
            size_t pieces;
            uint64_t docs;
            char *got = pieces_report(&f, round ? &fake_batched : f.cfg.kernels, name, &t, split, k == 4 || k == 5,
                                      seed, &pieces, &docs);
            const size_t calls = fake_batches - batches;
            cr_expect_gt(pieces, 2, "seed %u: %s (%zu bytes) in %zu pieces of %llu", seed, kinds[k], t.n, pieces,
                         (unsigned long long)split);
            cr_expect_eq(docs, 1, "seed %u: %s", seed, kinds[k]);
            /* one call a piece (a JSON Lines piece of only bad lines has no turn: no call) */
            if (round)
                cr_expect(k == 6 ? calls <= pieces && calls > pieces / 2 : calls == pieces,
                          "seed %u: %s: %zu batched calls for %zu pieces", seed, kinds[k], calls, pieces);
            cr_expect_str_eq(got, want, "seed %u: %s in pieces of %llu differs from whole", seed, kinds[k],
                             (unsigned long long)split);
            free(got);
            free(want);
        }
    }
    free(t.s);
    fixture_free(&f);
}

Test(pieces, small_documents_and_whisper_come_whole)
{
    fixture_t f;
    fixture_init(&f);
    const unsigned seed = seed_rand("whole");
    rs_stats_t st;
    stats_init(&f, &st);
    sink_t s = {.st = &st, .seed = seed};
    cr_assert_eq(rs_scanner_init(&s.sc, &f.cfg), RS_OK);
    const rs_ingest_cfg_t cfg = {.split_bytes = 4096, .on_doc = on_piece, .on_skip = on_skip, .ctx = &s};
    /* under the first piece's least size: whole, however small the split */
    text_t t = {0};
    gen(&t, 0, RS_DETECT_BYTES / 2);
    pour(&cfg, "a.md", &t, 0);
    cr_expect_eq(s.pieces, 1);
    /* Whisper JSON is one JSON value: never cut */
    t.n = 0;
    put(&t, "{\"segments\": [\n");
    while (t.n < 3 * RS_DETECT_BYTES)
        put(&t, "  {\"text\": \"new york city\", \"start\": 1, \"end\": 2, \"speaker\": \"A\"},\n");
    put(&t, "  {\"text\": \"end\", \"start\": 2, \"end\": 3}\n]}\n");
    s.pieces = 0;
    pour(&cfg, "w.json", &t, 0);
    cr_expect_eq(s.pieces, 1, "whisper JSON came in %zu pieces", s.pieces);
    cr_expect_eq(st.documents, 2);
    rs_scanner_free(&s.sc);
    rs_stats_free(&st);
    free(t.s);
    fixture_free(&f);
}

Test(pieces, a_document_that_breaks_off_leaves_nothing_behind, .timeout = 300)
{
    fixture_t f;
    fixture_init(&f);
    const unsigned seed = seed_rand("broken");
    text_t a = {0}, b = {0};
    for (int k = 0; k < (int)(sizeof kinds / sizeof kinds[0]); k++) {
        const char *na = gen(&a, k, RS_DETECT_BYTES + 100000);
        const char *nb = gen(&b, (k + 1) % 7, RS_DETECT_BYTES + 100000);
        char *want = whole_report(&f, nb, &b);
        /* a breaks off after some pieces went into a table of its own,
         * which is thrown away; then b comes in pieces through the same
         * scanner into a fresh table */
        rs_stats_t part, st;
        stats_init(&f, &part);
        stats_init(&f, &st);
        sink_t s = {.st = &part, .seed = seed};
        cr_assert_eq(rs_scanner_init(&s.sc, &f.cfg), RS_OK);
        const rs_ingest_cfg_t cfg = {.split_bytes = 8192, .on_doc = on_piece, .on_skip = on_skip, .ctx = &s};
        pour(&cfg, na, &a, RS_DETECT_BYTES + 50000);
        cr_expect(s.broken, "seed %u: %s: no broken piece", seed, kinds[k]);
        cr_expect_gt(s.pieces, 2, "seed %u: %s: %zu pieces", seed, kinds[k], s.pieces);
        s.st = &st;
        s.pieces = 0;
        s.subtitles = (k + 1) % 7 == 4 || (k + 1) % 7 == 5;
        pour(&cfg, nb, &b, 0);
        char *got = report(&f, &st);
        cr_expect_str_eq(got, want, "seed %u: %s after a broken %s differs", seed, kinds[(k + 1) % 7], kinds[k]);
        free(got);
        free(want);
        rs_scanner_free(&s.sc);
        rs_stats_free(&part);
        rs_stats_free(&st);
    }
    free(a.s);
    free(b.s);
    fixture_free(&f);
}

Test(pieces, pieces_and_turns_larger_than_a_batch, .timeout = 600)
{
    fixture_t f;
    fixture_init(&f);
    const unsigned seed = seed_rand("large");
    rs_scan_cfg_t batched = f.cfg;
    batched.kernels = &fake_batched;
    text_t t = {0};
    /* pieces of 9 MiB, over a batch: each is tokenized a batch at a time */
    const char *name = gen(&t, 0, 2 * RS_SCAN_BATCH_BYTES + 3000000);
    char *want = whole_report(&f, name, &t);
    const size_t before = fake_batches;
    size_t pieces;
    uint64_t docs;
    char *got = pieces_report(&f, &fake_batched, name, &t, RS_SCAN_BATCH_BYTES + (1u << 20), 0, seed, &pieces, &docs);
    cr_expect_geq(pieces, 2, "seed %u: %zu pieces", seed, pieces);
    cr_expect_gt(fake_batches - before, pieces, "seed %u: %zu calls for %zu pieces over a batch", seed,
                 fake_batches - before, pieces);
    cr_expect_str_eq(got, want, "seed %u: pieces over a batch differ from whole", seed);
    free(got);
    free(want);
    /* a whole document larger than a batch with one turn larger than a
     * batch among short ones, through rs_scan_documents */
    t.n = 0;
    put(&t, "**Ann:** short one?\n**Bob:** ");
    while (t.n < RS_SCAN_BATCH_BYTES + 500000)
        line_of_words(&t, 30), put(&t, "\n");
    for (int i = 0; i < 20000; i++)
        put(&t, i % 2 ? "**Ann:** new york city and the state of the union\n" : "**Bob:** secur ity ann lee\n");
    want = whole_report(&f, "big.md", &t);
    rs_doc_t d = {0};
    d.path = strdup("big.md");
    d.text = malloc(t.n + 1);
    memcpy(d.text, t.s, t.n);
    d.len = d.bytes = t.n;
    rs_doc_t *ptr = &d;
    rs_stats_t st;
    stats_init(&f, &st);
    rs_scanner_t sc;
    cr_assert_eq(rs_scanner_init(&sc, &batched), RS_OK);
    const size_t before2 = fake_batches;
    cr_assert_eq(rs_scan_documents(&sc, &ptr, 1, &st, NULL, NULL), RS_OK);
    cr_expect_geq(fake_batches - before2, 2, "seed %u: %zu calls", seed, fake_batches - before2);
    got = report(&f, &st);
    cr_expect_str_eq(got, want, "seed %u: a turn over a batch differs from one by one", seed);
    free(got);
    free(want);
    rs_doc_free(&d);
    rs_scanner_free(&sc);
    rs_stats_free(&st);
    free(t.s);
    fixture_free(&f);
}

/* The cut rule is judged from as many bytes as the parser's detection reads:
 * a SubRip file without its extension whose first cue comes after 100 KB of
 * blank lines is still cut only after blank lines. */
Test(pieces, the_cut_rule_sees_what_detection_sees)
{
    fixture_t f;
    fixture_init(&f);
    const unsigned seed = seed_rand("rule");
    text_t t = {0};
    for (int i = 0; i < 50000; i++)
        put(&t, "\n\n");
    text_t cues = {0};
    gen_subtitles(&cues, RS_DETECT_BYTES + 200000, 0);
    put(&t, cues.s);
    char *want = whole_report(&f, "talk.txt", &t);
    size_t pieces;
    uint64_t docs;
    char *got = pieces_report(&f, f.cfg.kernels, "talk.txt", &t, 4096, 1, seed, &pieces, &docs);
    cr_expect_gt(pieces, 2);
    cr_expect_str_eq(got, want, "seed %u: late SubRip in pieces differs from whole", seed);
    free(got);
    free(want);
    free(t.s);
    free(cues.s);
    fixture_free(&f);
}
