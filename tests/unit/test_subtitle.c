/*
 * test_subtitle.c - Criterion tests for host/subtitle.c: SubRip and WebVTT
 * detection (by extension and by content), what is blanked (cue numbers,
 * timings, header, NOTE/STYLE/REGION, tags, entities), how speakers and
 * turns come from voice tags, labels, "[SPEAKER_00]:", dashes and ">>",
 * how cue times become talk time, and the whole scan of the fixtures in
 * tests/data/formats/ (speakers' turns, tokens, questions and seconds).
 * Seeded random cue files must parse without crashing and with segments in
 * order inside the buffer (the seed is printed; RS_TEST_SEED=N repeats).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"   /* rs_doc_parse */
#include "rostrum.h"  /* rs_scan_run */
#include "subtitle.h" /* rs_subtitle_detect, rs_media_detect */

#ifndef RS_SOURCE_DIR
#define RS_SOURCE_DIR "."
#endif
#define FMTDIR RS_SOURCE_DIR "/tests/data/formats/"

static rs_headings_t heads;

static void setup(void)
{
    cr_assert_eq(rs_headings_init_default(&heads), RS_OK);
}

static void teardown(void)
{
    rs_headings_free(&heads);
}

TestSuite(subtitle, .init = setup, .fini = teardown);

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

static void doc_from(rs_doc_t *d, const char *path, const char *text, size_t len)
{
    memset(d, 0, sizeof *d);
    d->path = strdup(path);
    d->len = len;
    d->bytes = len;
    d->text = malloc(len + 1);
    memcpy(d->text, text, len);
    d->text[len] = '\0';
}

static rs_err_e parse_str(rs_doc_t *d, const char *path, const char *text, rs_format_e forced)
{
    doc_from(d, path, text, strlen(text));
    rs_error_t err = {0};
    return rs_doc_parse(d, forced, &heads, &err);
}

static rs_err_e parse_file(rs_doc_t *d, const char *file)
{
    rs_error_t err = {0};
    uint8_t *buf;
    size_t len;
    cr_assert_eq(rs_read_file(file, 0, &buf, &len, &err), RS_OK, "%s", err.msg);
    memset(d, 0, sizeof *d);
    d->path = strdup(file);
    d->text = buf;
    d->len = len;
    d->bytes = len;
    return rs_doc_parse(d, RS_FORMAT_AUTO, &heads, &err);
}

/* Segment i's text with runs of white space squeezed to one space. */
static char *seg_text(const rs_doc_t *d, size_t i)
{
    const rs_segment_t *s = &d->seg[i];
    char *out = malloc(s->end - s->start + 1);
    size_t o = 0;
    for (size_t p = s->start; p < s->end; p++) {
        const char c = (char)d->text[p];
        const int ws = c == ' ' || c == '\n' || c == '\r' || c == '\t';
        if (ws && (o == 0 || out[o - 1] == ' '))
            continue;
        out[o++] = ws ? ' ' : c;
    }
    while (o && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    return out;
}

/* speaker NULL: unattributed or anonymous; ms < 0: not checked. */
static void expect_seg(const rs_doc_t *d, size_t i, const char *speaker, int is_turn, const char *text, long ms)
{
    cr_assert_lt(i, d->nseg, "segment %zu missing (%zu segments)", i, d->nseg);
    const rs_segment_t *s = &d->seg[i];
    if (speaker) {
        cr_assert_geq(s->speaker, 0, "segment %zu has no speaker (want %s)", i, speaker);
        cr_expect_str_eq(d->speakers.s[s->speaker], speaker, "segment %zu speaker", i);
    } else {
        cr_expect_eq(s->speaker, -1, "segment %zu: speaker %d, want none", i, s->speaker);
    }
    cr_expect_eq(s->is_turn, is_turn, "segment %zu is_turn", i);
    char *t = seg_text(d, i);
    cr_expect_str_eq(t, text, "segment %zu text", i);
    free(t);
    if (ms >= 0)
        cr_expect_eq((long)s->ms, ms, "segment %zu: %u ms, want %ld", i, s->ms, ms);
}

/* The segments that hold text (empty unattributed ones dropped). */
static size_t text_segments(const rs_doc_t *d, size_t *idx, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < d->nseg && n < max; i++) {
        char *t = seg_text(d, i);
        if (*t || d->seg[i].is_turn)
            idx[n++] = i;
        free(t);
    }
    return n;
}

static int contains(const rs_doc_t *d, const char *needle)
{
    const size_t n = strlen(needle);
    for (size_t i = 0; i + n <= d->len; i++)
        if (memcmp(d->text + i, needle, n) == 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Detection                                                                */

Test(subtitle, detect_by_extension)
{
    cr_expect_eq(rs_subtitle_detect("a/b/talk.srt", (const uint8_t *)"x", 1), RS_FORMAT_SRT);
    cr_expect_eq(rs_subtitle_detect("talk.SRT", (const uint8_t *)"x", 1), RS_FORMAT_SRT);
    cr_expect_eq(rs_subtitle_detect("arch.tar.gz:dir/talk.vtt", (const uint8_t *)"x", 1), RS_FORMAT_VTT);
    cr_expect_eq(rs_subtitle_detect("notes.txt", (const uint8_t *)"hello", 5), RS_FORMAT_AUTO);
    /* the extension of the last component only */
    cr_expect_eq(rs_subtitle_detect("dir.srt/notes", (const uint8_t *)"hello", 5), RS_FORMAT_AUTO);
}

Test(subtitle, detect_by_content)
{
    const char *vtt = "WEBVTT\n\n00:01.000 --> 00:02.000\nhi\n";
    cr_expect_eq(rs_subtitle_detect("x.txt", (const uint8_t *)vtt, strlen(vtt)), RS_FORMAT_VTT);
    const char *bom = "\xEF\xBB\xBFWEBVTT - title\n";
    cr_expect_eq(rs_subtitle_detect("-", (const uint8_t *)bom, strlen(bom)), RS_FORMAT_VTT);
    const char *srt = "\n\n1\n00:00:01,000 --> 00:00:02,000\nhi\n";
    cr_expect_eq(rs_subtitle_detect("x.txt", (const uint8_t *)srt, strlen(srt)), RS_FORMAT_SRT);
    const char *srt2 = "00:00:01,000 --> 00:00:02,000\nhi\n";
    cr_expect_eq(rs_subtitle_detect(NULL, (const uint8_t *)srt2, strlen(srt2)), RS_FORMAT_SRT);
    /* near misses stay prose */
    const char *p1 = "WEBVTTX\nhello\n", *p2 = "1\nhello there\n", *p3 = "1\n00:00:01 -> 00:00:02\n",
               *p4 = "12 apples\n00:00:01,000 --> 00:00:02,000\n", *p5 = "";
    cr_expect_eq(rs_subtitle_detect("a", (const uint8_t *)p1, strlen(p1)), RS_FORMAT_AUTO);
    cr_expect_eq(rs_subtitle_detect("a", (const uint8_t *)p2, strlen(p2)), RS_FORMAT_AUTO);
    cr_expect_eq(rs_subtitle_detect("a", (const uint8_t *)p3, strlen(p3)), RS_FORMAT_AUTO);
    cr_expect_eq(rs_subtitle_detect("a", (const uint8_t *)p4, strlen(p4)), RS_FORMAT_AUTO);
    cr_expect_eq(rs_subtitle_detect("a", (const uint8_t *)p5, 0), RS_FORMAT_AUTO);
}

Test(subtitle, forced_format_wins)
{
    rs_doc_t d;
    /* a .srt forced to plain is prose: the timing line stays words */
    cr_assert_eq(parse_str(&d, "x.srt", "1\n00:00:01,000 --> 00:00:02,000\nAlice: hi\n", RS_FORMAT_PLAIN), RS_OK);
    cr_expect_eq(d.format, RS_FORMAT_PLAIN);
    cr_expect(contains(&d, "-->"));
    rs_doc_free(&d);
    /* prose forced to srt */
    cr_assert_eq(parse_str(&d, "x.md", "Alice: hi\n", RS_FORMAT_SRT), RS_OK);
    cr_expect_eq(d.format, RS_FORMAT_SRT);
    rs_doc_free(&d);
}

/* ------------------------------------------------------------------------ */
/* SubRip                                                                   */

Test(subtitle, srt_fixture)
{
    rs_doc_t d;
    cr_assert_eq(parse_file(&d, FMTDIR "talk.srt"), RS_OK);
    cr_expect_eq(d.format, RS_FORMAT_SRT);
    size_t ix[16];
    const size_t n = text_segments(&d, ix, 16);
    cr_assert_eq(n, 5, "%zu text segments", n);
    expect_seg(&d, ix[0], "Alice", 1, "Welcome to the show . Today we talk about & compilers.", 4500);
    expect_seg(&d, ix[1], "SPEAKER_01", 1, "Thanks, Alice! Glad to be here?", 3000);
    expect_seg(&d, ix[2], NULL, 1, "Really?", 500);
    expect_seg(&d, ix[3], NULL, 1, "Yes.", 500);
    expect_seg(&d, ix[4], "Alice", 1, "Café crème — naïve ünïcödé.", 2500);
    cr_expect_eq(d.speakers.n, 2);
    cr_expect(!contains(&d, "-->") && !contains(&d, "00:00") && !contains(&d, "<i>") && !contains(&d, "\\an8"));
    rs_doc_free(&d);
}

Test(subtitle, srt_without_blank_lines_and_odd_timings)
{
    rs_doc_t d;
    /* cue numbers right after payload, '.' fractions, short fractions,
     * hours over 99, a zero and a negative duration */
    const char *s = "1\n00:00:01.5 --> 00:00:03,25\nBob: one\n2\n00:00:03,250 --> 00:00:03,250\ntwo\n"
                    "3\n100:00:00,000 --> 99:59:59,000\nthree\n";
    cr_assert_eq(parse_str(&d, "x.srt", s, RS_FORMAT_AUTO), RS_OK);
    size_t ix[8];
    cr_assert_eq(text_segments(&d, ix, 8), 1);
    expect_seg(&d, ix[0], "Bob", 1, "one two three", 1750);
    rs_doc_free(&d);
}

Test(subtitle, srt_labels_dashes_and_markers)
{
    rs_doc_t d;
    const char *s = "1\n00:00:00,000 --> 00:00:04,000\n- Ann: Hi.\n- Ann: Again?\n\n"
                    "2\n00:00:04,000 --> 00:00:06,000\n>> Carl: News.\n>>Weather next.\n\n"
                    "3\n00:00:06,000 --> 00:00:07,000\nNote: not a speaker\na < b and c > d, 5 -> 6\n\n"
                    "4\n00:00:07,000 --> 00:00:08,000\n[Music]\n[Dee]: sings &lt;loud&gt; &#233; &nbsp;&amp;\n";
    cr_assert_eq(parse_str(&d, "x.srt", s, RS_FORMAT_AUTO), RS_OK);
    size_t ix[16];
    const size_t n = text_segments(&d, ix, 16);
    cr_assert_eq(n, 5, "%zu segments", n);
    /* "- Name:" always starts a new turn, even for the same speaker */
    expect_seg(&d, ix[0], "Ann", 1, "Hi.", 2000);
    expect_seg(&d, ix[1], "Ann", 1, "Again?", 2000);
    expect_seg(&d, ix[2], "Carl", 1, "News.", 1000);
    /* ">>" without a label: anonymous; "Note:" is a heading, not a
     * speaker; "[Music]" is text; a lone "<" or ">" is text */
    expect_seg(&d, ix[3], NULL, 1, "Weather next. Note: not a speaker a < b and c > d, 5 -> 6 [Music]", -1);
    expect_seg(&d, ix[4], "Dee", 1, "sings loud &", 500);
    rs_doc_free(&d);
}

Test(subtitle, srt_empty_and_degenerate)
{
    const char *cases[] = {"", "\n\n\n", "1\n", "00:00:01,000 --> 00:00:02,000", "1\n00:00:01,000 --> 00:00:02,000\n",
                           "Alice:\n", "- \n", ">>", "<v>", "<v >x", "[", "[]:", "&;", "{\\", "<", "\r\n\r\n"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rs_doc_t d;
        cr_assert_eq(parse_str(&d, "x.srt", cases[i], RS_FORMAT_SRT), RS_OK, "case %zu", i);
        for (size_t k = 0; k < d.nseg; k++)
            cr_expect(d.seg[k].start <= d.seg[k].end && d.seg[k].end <= d.len, "case %zu segment %zu", i, k);
        rs_doc_free(&d);
    }
}

/* ------------------------------------------------------------------------ */
/* WebVTT                                                                   */

Test(subtitle, vtt_fixture)
{
    rs_doc_t d;
    cr_assert_eq(parse_file(&d, FMTDIR "talk.vtt"), RS_OK);
    cr_expect_eq(d.format, RS_FORMAT_VTT);
    size_t ix[16];
    const size_t n = text_segments(&d, ix, 16);
    cr_assert_eq(n, 3, "%zu text segments", n);
    expect_seg(&d, ix[0], "Roger Bingham", 1, "We are in New York City and we’re actually at the Lucern Hotel", 4500);
    /* a cue without a voice continues the turn; the dash line in it is a
     * new anonymous turn: the cue's 2 s are shared */
    expect_seg(&d, ix[1], "Neil deGrasse Tyson", 1, "Yes, exactly right? Music plays", 2500);
    expect_seg(&d, ix[2], NULL, 1, "Hello there", 1000);
    cr_expect(!contains(&d, "WEBVTT") && !contains(&d, "Kind") && !contains(&d, "yellow") && !contains(&d, "comment")
              && !contains(&d, "fred") && !contains(&d, "intro") && !contains(&d, "align") && !contains(&d, "<"));
    rs_doc_free(&d);
}

Test(subtitle, vtt_voices)
{
    rs_doc_t d;
    const char *s = "WEBVTT\n\n00:00.000 --> 00:04.000\n<v Ann>Hi <v Bob>hello</v>\n<v Ann>again\n\n"
                    "00:04.000 --> 00:05.000\n<v.first.loud   Cy  >Yo\n<v Cy>still Cy\n\n"
                    "NOTE\nNOTE\n\n00:05.000 --> 00:06.000\nWho said NOTE?\n";
    cr_assert_eq(parse_str(&d, "x.vtt", s, RS_FORMAT_AUTO), RS_OK);
    size_t ix[16];
    const size_t n = text_segments(&d, ix, 16);
    cr_assert_eq(n, 4, "%zu segments", n);
    /* three turns in one 4 s cue: 1334 + 1333 + 1333 */
    expect_seg(&d, ix[0], "Ann", 1, "Hi", 1334);
    expect_seg(&d, ix[1], "Bob", 1, "hello", 1333);
    expect_seg(&d, ix[2], "Ann", 1, "again", 1333);
    expect_seg(&d, ix[3], "Cy", 1, "Yo still Cy Who said NOTE?", 2000);
    cr_expect_eq(d.speakers.n, 3);
    rs_doc_free(&d);
}

Test(subtitle, vtt_without_header_blank_line)
{
    rs_doc_t d;
    /* a timing line ends the header even without a blank line */
    cr_assert_eq(parse_str(&d, "x.vtt", "WEBVTT\n00:01.000 --> 00:02.000\nEve: hi\n", RS_FORMAT_AUTO), RS_OK);
    size_t ix[4];
    cr_assert_eq(text_segments(&d, ix, 4), 1);
    expect_seg(&d, ix[0], "Eve", 1, "hi", 1000);
    rs_doc_free(&d);
}

/* ------------------------------------------------------------------------ */
/* Random input                                                             */

static unsigned seed_from_env(void)
{
    const char *e = getenv("RS_TEST_SEED");
    return e ? (unsigned)strtoul(e, NULL, 10) : (unsigned)time(NULL);
}

Test(subtitle, random_cues_never_crash)
{
    const unsigned seed = seed_from_env();
    srand(seed);
    fprintf(stderr, "test_subtitle: random cues seed %u (RS_TEST_SEED=%u repeats it)\n", seed, seed);
    static const char *const parts[] = {"1\n", "00:00:01,000 --> 00:00:02,000\n", "00:01.000 --> 00:00.500", "\n",
                                        "\r\n", "<v Ann>", "<v.x", "</v>", "<i>", "<", ">", "&amp;", "&#", "{\\an8}",
                                        "Ann: ", "[SPEAKER_00]: ", "- ", ">> ", "NOTE ", "STYLE\n", "WEBVTT\n",
                                        "word ", "é", "\xff", "?", " "};
    for (int round = 0; round < 400; round++) {
        char buf[1024];
        size_t n = 0;
        const int k = rand() % 60;
        for (int i = 0; i < k; i++) {
            const char *p = parts[rand() % (int)(sizeof parts / sizeof parts[0])];
            const size_t l = strlen(p);
            if (n + l >= sizeof buf)
                break;
            memcpy(buf + n, p, l);
            n += l;
        }
        rs_doc_t d;
        doc_from(&d, round % 2 ? "r.vtt" : "r.srt", buf, n);
        rs_error_t err = {0};
        cr_assert_eq(rs_doc_parse(&d, RS_FORMAT_AUTO, &heads, &err), RS_OK, "seed %u round %d", seed, round);
        size_t prev = 0;
        for (size_t i = 0; i < d.nseg; i++) {
            cr_assert(d.seg[i].start <= d.seg[i].end && d.seg[i].end <= d.len, "seed %u round %d", seed, round);
            cr_assert(d.seg[i].start >= prev || d.seg[i].start == d.seg[i].end, "seed %u round %d: order", seed,
                      round);
            if (d.seg[i].start != d.seg[i].end)
                prev = d.seg[i].end;
            cr_assert(d.seg[i].speaker < (int32_t)d.speakers.n, "seed %u round %d", seed, round);
        }
        rs_doc_free(&d);
    }
}

/* ------------------------------------------------------------------------ */
/* The whole scan                                                           */

static const rs_speaker_val_t *speaker(const rs_scan_result_t *r, const char *name)
{
    for (size_t i = 0; i < r->stats.speakers.n; i++)
        if (strcmp(rs_dict_key(&r->stats.speakers, i, NULL), name) == 0)
            return rs_dict_val(&r->stats.speakers, i);
    cr_assert_fail("no speaker %s", name);
    return NULL;
}

static void scan_one(const char *path, rs_scan_result_t *r)
{
    const char *paths[] = {path};
    rs_scan_opts_t o = {.paths = paths, .npaths = 1, .jobs = 2};
    rs_error_t err = {0};
    cr_assert_eq(rs_scan_run(&o, r, &err), RS_OK, "%s", err.msg);
}

Test(subtitle, scan_srt_and_vtt)
{
    rs_scan_result_t r;
    scan_one(FMTDIR "talk.srt", &r);
    cr_expect_eq(r.stats.documents, 1);
    cr_expect_eq(r.stats.turns, 5);
    cr_expect_eq(r.stats.tokens, 21);
    const rs_speaker_val_t *a = speaker(&r, "Alice"), *s = speaker(&r, "SPEAKER_01");
    cr_expect_eq(a->turns, 2);
    cr_expect_eq(a->tokens, 13);
    cr_expect_eq(a->talk_ms, 7000);
    cr_expect_eq(s->turns, 1);
    cr_expect_eq(s->tokens, 6);
    cr_expect_eq(s->questions, 1);
    cr_expect_eq(s->talk_ms, 3000);
    cr_expect_eq(r.stats.docs[0].format, RS_FORMAT_SRT);
    rs_scan_result_free(&r);

    scan_one(FMTDIR "talk.vtt", &r);
    cr_expect_eq(r.stats.turns, 3);
    cr_expect_eq(r.stats.tokens, 20);
    cr_expect_eq(speaker(&r, "Roger Bingham")->tokens, 13);
    cr_expect_eq(speaker(&r, "Roger Bingham")->talk_ms, 4500);
    cr_expect_eq(speaker(&r, "Neil deGrasse Tyson")->tokens, 5);
    cr_expect_eq(speaker(&r, "Neil deGrasse Tyson")->questions, 1);
    cr_expect_eq(speaker(&r, "Neil deGrasse Tyson")->talk_ms, 2500);
    rs_scan_result_free(&r);
}

Test(subtitle, seconds_in_the_json_report)
{
    rs_scan_result_t r;
    scan_one(FMTDIR "talk.srt", &r);
    rs_report_view_t v;
    cr_assert_eq(rs_report_view_build(&v, &r.stats, &r.topics, &r.entities, 20), RS_OK);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(rs_report_json(f, &v, &r.run), RS_OK);
    fclose(f);
    cr_expect(strstr(buf, "\"name\": \"Alice\"") && strstr(buf, "\"seconds\": 7.000,"), "%s", buf);
    cr_expect(strstr(buf, "\"seconds\": 3.000,"));
    cr_expect(strstr(buf, "\"format\": \"srt\""));
    free(buf);
    rs_report_view_free(&v);
    rs_scan_result_free(&r);
}
