/*
 * test_jsonl.c - Criterion tests for host/jsonl.c: JSON Lines and Whisper /
 * WhisperX JSON. Detection by extension and content; the text written back
 * into the buffer (escapes decoded, NUL bytes made spaces); turns, speakers
 * (strings and numbers) and talk time from start/end; custom keys; every
 * kind of bad line (invalid, truncated, not an object, no text, too deep)
 * reported with its line number while the rest is kept; Whisper documents
 * that are not transcripts refused; grouping by --jsonl-doc (names, order,
 * bytes adding up); and seeded random lines that must never crash (the seed
 * is printed; RS_TEST_SEED=N repeats it). Fixtures: tests/data/formats/.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"   /* rs_doc_parse */
#include "hash.h"     /* rs_hash64 */
#include "jsonl.h"    /* rs_jsonl_detect, rs_jsonl_split */
#include "rostrum.h"  /* rs_scan_run */
#include "subtitle.h" /* rs_media_detect */

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

TestSuite(jsonl, .init = setup, .fini = teardown);

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

static rs_err_e parse_str(rs_doc_t *d, const char *path, const char *text, rs_error_t *err)
{
    doc_from(d, path, text, strlen(text));
    return rs_doc_parse(d, RS_FORMAT_AUTO, &heads, err);
}

static void load(rs_doc_t *d, const char *file)
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
}

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

/* ------------------------------------------------------------------------ */
/* Detection                                                                */

static rs_format_e detect(const char *path, const char *s)
{
    return rs_jsonl_detect(path, (const uint8_t *)s, strlen(s));
}

Test(jsonl, detect)
{
    cr_expect_eq(detect("a.jsonl", "anything"), RS_FORMAT_JSONL);
    cr_expect_eq(detect("a.NDJSON", ""), RS_FORMAT_JSONL);
    cr_expect_eq(detect("a.txt", "{\"text\": \"hi\"}\n{\"text\": \"yo\"}\n"), RS_FORMAT_JSONL);
    cr_expect_eq(detect("-", "\xEF\xBB\xBF  {\"text\": \"hi\"}"), RS_FORMAT_JSONL);
    /* a single object: Whisper when it has segments[] or ends in .json */
    cr_expect_eq(detect("a.txt", "{\"text\": \"hi\", \"segments\": []}"), RS_FORMAT_WHISPER);
    cr_expect_eq(detect("a.json", "{\"text\": \"hi\"}\n"), RS_FORMAT_WHISPER);
    cr_expect_eq(detect("a.json", "{\"text\": \"hi\"}\n{\"text\": \"yo\"}\n"), RS_FORMAT_JSONL);
    /* pretty-printed Whisper output */
    cr_expect_eq(detect("x", "{\n  \"text\": \"hi\",\n  \"segments\": [\n"), RS_FORMAT_WHISPER);
    cr_expect_eq(detect("x.json", "{\n  \"a\": 1\n}\n"), RS_FORMAT_WHISPER);
    /* not JSON */
    cr_expect_eq(detect("x.txt", "{\n  \"a\": 1\n}\n"), RS_FORMAT_AUTO);
    cr_expect_eq(detect("x.md", "Alice: {not json}"), RS_FORMAT_AUTO);
    cr_expect_eq(detect("x.md", ""), RS_FORMAT_AUTO);
}

/* ------------------------------------------------------------------------ */
/* JSON Lines                                                               */

Test(jsonl, fixture_lines_and_bad_lines)
{
    rs_doc_t d;
    load(&d, FMTDIR "talk.jsonl");
    rs_error_t err = {0};
    cr_assert_eq(rs_doc_parse(&d, RS_FORMAT_AUTO, &heads, &err), RS_OK, "%s", err.msg);
    cr_expect_eq(d.format, RS_FORMAT_JSONL);
    cr_assert_eq(d.nseg, 5);
    expect_seg(&d, 0, "Ann", 1, "Hello, world.", 1500);
    expect_seg(&d, 1, "Bob", 1, "Hi Ann! How are you?", 1750);
    expect_seg(&d, 2, "Ann", 1, "Fine été \"quoted\"", 750);
    expect_seg(&d, 3, NULL, 1, "An anonymous line", 0);
    expect_seg(&d, 4, "7", 1, "Number seven speaks", 0);
    cr_expect_eq(d.speakers.n, 3);
    cr_assert_not_null(d.warning);
    cr_expect_str_eq(d.warning, "3 bad JSON lines skipped: line 5 (truncated JSON), line 7 (not a JSON object), "
                                "line 9 (no string \"text\")");
    cr_expect_eq(d.bytes, 365, "bytes stay the input's size");
    rs_doc_free(&d);
}

Test(jsonl, every_kind_of_bad_line)
{
    char deep[300];
    size_t k = 0;
    k += (size_t)sprintf(deep + k, "{\"text\": \"deep\", \"x\": ");
    for (int i = 0; i < 100; i++)
        deep[k++] = '[';
    for (int i = 0; i < 100; i++)
        deep[k++] = ']';
    deep[k++] = '}';
    deep[k] = '\0';
    char doc[2048];
    snprintf(doc, sizeof doc,
             "{\"text\": \"one\"}\n"
             "{\"text\": 5}\n"                  /* 2: text not a string */
             "{\"text\": \"two\"} trailing\n"   /* 3: trailing garbage */
             "\"just a string\"\n"              /* 4: not an object */
             "{\"text\": \"a\" ]\n"             /* 5: invalid */
             "%s\n"                             /* 6: too deep */
             "{\"text\": \"three\"}   \r\n"     /* 7: fine, with CR */
             "{\"text\": \"four\"", deep);      /* 8: truncated, no newline */
    rs_doc_t d;
    rs_error_t err = {0};
    cr_assert_eq(parse_str(&d, "bad.jsonl", doc, &err), RS_OK);
    cr_assert_eq(d.nseg, 2);
    expect_seg(&d, 0, NULL, 1, "one", 0);
    expect_seg(&d, 1, NULL, 1, "three", 0);
    cr_assert_not_null(d.warning);
    const char *head = "6 bad JSON lines skipped: line 2 (no string \"text\"), line 3 (text after the JSON value at "
                       "column 17)";
    cr_expect(strncmp(d.warning, head, strlen(head)) == 0, "%s", d.warning);
    cr_expect(strstr(d.warning, "line 4 (not a JSON object)") && strstr(d.warning, "line 5 (invalid JSON")
                  && strstr(d.warning, "line 6 (invalid JSON") && strstr(d.warning, ", ..."),
              "%s", d.warning);
    rs_doc_free(&d);
}

Test(jsonl, custom_keys_escapes_and_speakers)
{
    const char *s = "{\"who\": \"  Dr.\\tNo \", \"said\": \"a\\u0000b \\u00e9\\n\\\"c\\\"\"}\n"
                    "{\"who\": 42, \"said\": \"num\"}\n"
                    "{\"who\": null, \"said\": \"nobody\"}\n"
                    "{\"who\": \"\", \"said\": \"empty name\"}\n"
                    "{\"who\": [1], \"said\": \"array name\"}\n";
    rs_jsonl_keys_t keys = {.text = "said", .speaker = "who"};
    rs_doc_t d;
    doc_from(&d, "k.jsonl", s, strlen(s));
    d.jsonl = &keys;
    rs_error_t err = {0};
    cr_assert_eq(rs_doc_parse(&d, RS_FORMAT_AUTO, &heads, &err), RS_OK);
    cr_assert_eq(d.nseg, 5);
    expect_seg(&d, 0, "Dr. No", 1, "a b é \"c\"", -1);
    expect_seg(&d, 1, "42", 1, "num", -1);
    expect_seg(&d, 2, NULL, 1, "nobody", -1);
    expect_seg(&d, 3, NULL, 1, "empty name", -1);
    expect_seg(&d, 4, NULL, 1, "array name", -1);
    cr_expect_null(d.warning);
    rs_doc_free(&d);
}

Test(jsonl, odd_times_give_no_talk_time)
{
    const char *s = "{\"speaker\": \"A\", \"text\": \"x\", \"start\": 2, \"end\": 1}\n"
                    "{\"speaker\": \"A\", \"text\": \"y\", \"start\": \"0\", \"end\": 1}\n"
                    "{\"speaker\": \"A\", \"text\": \"z\", \"start\": -1, \"end\": 1}\n"
                    "{\"speaker\": \"A\", \"text\": \"w\", \"start\": 1.2344, \"end\": 1.2346}\n";
    rs_doc_t d;
    rs_error_t err = {0};
    cr_assert_eq(parse_str(&d, "t.jsonl", s, &err), RS_OK);
    cr_assert_eq(d.nseg, 4);
    expect_seg(&d, 0, "A", 1, "x", 0);
    expect_seg(&d, 1, "A", 1, "y", 0);
    expect_seg(&d, 2, "A", 1, "z", 0);
    expect_seg(&d, 3, "A", 1, "w", 1); /* rounded to whole ms first: 2 - 1 */
    rs_doc_free(&d);
}

Test(jsonl, empty_and_blank)
{
    const char *cases[] = {"", "\n", "  \n\r\n\t\n", "\xEF\xBB\xBF{\"text\": \"bom\"}\n"};
    const size_t want[] = {0, 0, 0, 1};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rs_doc_t d;
        rs_error_t err = {0};
        doc_from(&d, "e.jsonl", cases[i], strlen(cases[i]));
        cr_assert_eq(rs_doc_parse(&d, RS_FORMAT_AUTO, &heads, &err), RS_OK, "case %zu: %s", i, err.msg);
        cr_expect_eq(d.nseg, want[i], "case %zu", i);
        cr_expect_null(d.warning, "case %zu", i);
        rs_doc_free(&d);
    }
}

/* ------------------------------------------------------------------------ */
/* Whisper                                                                  */

Test(jsonl, whisper_without_speakers)
{
    rs_doc_t d;
    load(&d, FMTDIR "whisper.json");
    rs_error_t err = {0};
    cr_assert_eq(rs_doc_parse(&d, RS_FORMAT_AUTO, &heads, &err), RS_OK, "%s", err.msg);
    cr_expect_eq(d.format, RS_FORMAT_WHISPER);
    cr_assert_eq(d.nseg, 1, "one unattributed segment, %zu", d.nseg);
    expect_seg(&d, 0, NULL, 0, "Hello everyone. Welcome back.", 3500);
    cr_expect_eq(d.speakers.n, 0);
    rs_doc_free(&d);
}

Test(jsonl, whisperx_with_speakers)
{
    rs_doc_t d;
    load(&d, FMTDIR "whisperx.json");
    rs_error_t err = {0};
    cr_assert_eq(rs_doc_parse(&d, RS_FORMAT_AUTO, &heads, &err), RS_OK, "%s", err.msg);
    cr_expect_eq(d.format, RS_FORMAT_WHISPER);
    cr_assert_eq(d.nseg, 4);
    /* a speaker's consecutive segments are one turn */
    expect_seg(&d, 0, "SPEAKER_00", 1, "Good morning. How are you?", 2469 + 1500);
    expect_seg(&d, 1, "SPEAKER_01", 1, "Très bien, merci.", 1800);
    expect_seg(&d, 2, NULL, 0, "Mm-hmm.", 500);
    expect_seg(&d, 3, "SPEAKER_00", 1, "Let's begin.", 2500);
    rs_doc_free(&d);
}

Test(jsonl, whisper_variants_and_refusals)
{
    rs_doc_t d;
    rs_error_t err = {0};
    /* text only */
    cr_assert_eq(parse_str(&d, "t.json", "{\"text\": \"Only text here.\"}", &err), RS_OK);
    cr_assert_eq(d.nseg, 1);
    expect_seg(&d, 0, NULL, 0, "Only text here.", 0);
    rs_doc_free(&d);
    /* empty segments[] with text: the text */
    cr_assert_eq(parse_str(&d, "t.json", "{\"segments\": [], \"text\": \"fallback\"}", &err), RS_OK);
    cr_assert_eq(d.nseg, 1);
    expect_seg(&d, 0, NULL, 0, "fallback", 0);
    rs_doc_free(&d);
    /* bad segments are skipped and counted in the warning */
    cr_assert_eq(parse_str(&d, "t.json", "{\"segments\": [1, {\"text\": \"ok\"}, {\"start\": 0}]}", &err), RS_OK);
    cr_assert_eq(d.nseg, 1);
    expect_seg(&d, 0, NULL, 0, "ok", 0);
    cr_assert_not_null(d.warning);
    cr_expect_str_eq(d.warning, "2 segments without a string \"text\" skipped (first: segments[0])");
    rs_doc_free(&d);
    /* not transcripts: refused with RS_ERR_FORMAT (the document is skipped) */
    const char *bad[] = {"{\"name\": \"package\"}", "{\"segments\": 3}", "{\"text\": \"x\"", "[1, 2]", "{} {}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err = (rs_error_t){0};
        cr_expect_eq(parse_str(&d, "t.json", bad[i], &err), RS_ERR_FORMAT, "case %zu", i);
        cr_expect(strncmp(err.msg, "t.json: ", 8) == 0, "case %zu: %s", i, err.msg);
        rs_doc_free(&d);
    }
}

/* ------------------------------------------------------------------------ */
/* Grouping by a document key                                               */

/* rs_jsonl_split of d by keys (set as d's too) into three documents. */
static rs_doc_t *split3(rs_doc_t *d, const rs_jsonl_keys_t *keys, char **warning)
{
    d->jsonl = keys;
    rs_doc_t *sub = NULL;
    size_t n = 0;
    *warning = NULL;
    cr_assert_eq(rs_jsonl_split(d, keys, &sub, &n, warning), RS_OK);
    cr_assert_eq(n, 3);
    cr_expect_eq(sub[0].bytes + sub[1].bytes + sub[2].bytes, d->bytes, "bytes add up");
    cr_assert_not_null(*warning);
    return sub;
}

static void free_split3(rs_doc_t *sub, char *warning, rs_doc_t *d)
{
    for (size_t i = 0; i < 3; i++)
        rs_doc_free(&sub[i]);
    free(sub);
    free(warning);
    rs_doc_free(d);
}

Test(jsonl, split_by_doc_key)
{
    rs_doc_t d;
    load(&d, FMTDIR "episodes.jsonl");
    const rs_jsonl_keys_t keys = {.text = "utterance", .speaker = "who", .doc = "episode"};
    char *warning;
    rs_doc_t *sub = split3(&d, &keys, &warning);
    const char *base = FMTDIR "episodes.jsonl";
    char want[512];
    snprintf(want, sizeof want, "%s#e1", base);
    cr_expect_str_eq(sub[0].path, want);
    snprintf(want, sizeof want, "%s#e2", base);
    cr_expect_str_eq(sub[1].path, want);
    cr_expect_str_eq(sub[2].path, base);
    cr_expect(strstr(warning, "1 bad JSON line skipped: line 4 (invalid JSON"), "%s", warning);
    /* each group parses as JSON Lines with its own lines, in order */
    rs_error_t err = {0};
    cr_assert_eq(rs_doc_parse(&sub[0], RS_FORMAT_AUTO, &heads, &err), RS_OK);
    cr_assert_eq(sub[0].nseg, 2);
    expect_seg(&sub[0], 0, "Host", 1, "Welcome to episode one.", -1);
    expect_seg(&sub[0], 1, "Guest", 1, "Thanks for having me.", -1);
    free_split3(sub, warning, &d);
}

/* One whole transcript per line, no id: --jsonl-doc @line. */
Test(jsonl, one_document_per_line)
{
    static const char text[] = "{\"text\": \"First episode. Hello there.\", \"speaker\": \"Ann\"}\n"
                               "\n"
                               "{\"text\": \"Second episode. Hello again.\"}\n"
                               "{\"text\": \"broken\"\n"
                               "{\"text\": \"Third, hello.\", \"speaker\": \"Bo\"}";
    rs_doc_t d;
    doc_from(&d, "t.jsonl", text, sizeof text - 1);
    const rs_jsonl_keys_t keys = {.doc = RS_JSONL_DOC_LINE};
    char *warning;
    rs_doc_t *sub = split3(&d, &keys, &warning);
    cr_expect_str_eq(sub[0].path, "t.jsonl#1");
    cr_expect_str_eq(sub[1].path, "t.jsonl#3", "line numbers count the blank line");
    cr_expect_str_eq(sub[2].path, "t.jsonl#5");
    cr_expect(strstr(warning, "line 4 ("), "%s", warning);
    rs_error_t err = {0};
    cr_assert_eq(rs_doc_parse(&sub[2], RS_FORMAT_AUTO, &heads, &err), RS_OK);
    cr_assert_eq(sub[2].nseg, 1);
    expect_seg(&sub[2], 0, "Bo", 1, "Third, hello.", -1);
    free_split3(sub, warning, &d);
}

Test(jsonl, scan_with_doc_key)
{
    const char *paths[] = {FMTDIR "episodes.jsonl"};
    for (unsigned j = 1; j <= 3; j++) {
        rs_scan_opts_t o = {.paths = paths, .npaths = 1, .jobs = j, .shard_bytes = 64};
        o.jsonl = (rs_jsonl_keys_t){.text = "utterance", .speaker = "who", .doc = "episode"};
        rs_scan_result_t r;
        rs_error_t err = {0};
        cr_assert_eq(rs_scan_run(&o, &r, &err), RS_OK, "%s", err.msg);
        cr_expect_eq(r.stats.documents, 3, "-j %u", j);
        cr_expect_eq(r.stats.bytes, 293);
        cr_expect_eq(r.stats.warnings.n, 1);
        const int64_t id = rs_dict_get(&r.stats.terms, "episode", 7, rs_hash64("episode", 7));
        cr_assert_geq(id, 0);
        const rs_term_val_t *tv = rs_dict_val(&r.stats.terms, (size_t)id);
        cr_expect_eq(tv->count, 3);
        cr_expect_eq(tv->docs, 3, "document frequency over the groups");
        rs_scan_result_free(&r);
    }
}

/* ------------------------------------------------------------------------ */
/* Random input                                                             */

Test(jsonl, random_lines_never_crash)
{
    const char *e = getenv("RS_TEST_SEED");
    const unsigned seed = e ? (unsigned)strtoul(e, NULL, 10) : (unsigned)time(NULL);
    srand(seed);
    fprintf(stderr, "test_jsonl: random lines seed %u (RS_TEST_SEED=%u repeats it)\n", seed, seed);
    static const char *const parts[] = {"{", "}", "[", "]", "\"text\"", "\"speaker\"", "\"segments\"", ":", ",",
                                        "\"a b\"", "1.5", "-2", "null", "true", "\n", "\\u00e9", "\\u0000", "\"",
                                        "\xff", " ", "\"start\"", "\"end\""};
    for (int round = 0; round < 500; round++) {
        char buf[1024];
        size_t n = 0;
        const int k = rand() % 80;
        for (int i = 0; i < k; i++) {
            const char *p = parts[rand() % (int)(sizeof parts / sizeof parts[0])];
            const size_t l = strlen(p);
            if (n + l >= sizeof buf)
                break;
            memcpy(buf + n, p, l);
            n += l;
        }
        for (int f = 0; f < 2; f++) {
            rs_doc_t d;
            doc_from(&d, f ? "r.json" : "r.jsonl", buf, n);
            rs_error_t err = {0};
            const rs_err_e r = rs_doc_parse(&d, RS_FORMAT_AUTO, &heads, &err);
            cr_assert(r == RS_OK || r == RS_ERR_FORMAT, "seed %u round %d: %d", seed, round, (int)r);
            for (size_t i = 0; r == RS_OK && i < d.nseg; i++)
                cr_assert(d.seg[i].start <= d.seg[i].end && d.seg[i].end <= d.len, "seed %u round %d", seed, round);
            rs_doc_free(&d);
        }
    }
}
