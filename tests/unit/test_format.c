/*
 * test_format.c - format detection and segmentation (host/format.c):
 * labels, caption markers, front matter, blanking, entities, bad input.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

static rs_headings_t heads;

static void setup(void)
{
    cr_assert_eq(rs_headings_init_default(&heads), RS_OK);
}

static void teardown(void)
{
    rs_headings_free(&heads);
}

static rs_err_e parse(rs_doc_t *d, const char *text, rs_format_e forced)
{
    memset(d, 0, sizeof *d);
    d->path = strdup("test.txt");
    d->len = strlen(text);
    d->bytes = d->len;
    d->text = malloc(d->len + 1);
    memcpy(d->text, text, d->len + 1);
    rs_error_t err = {0};
    return rs_doc_parse(d, forced, &heads, &err);
}

/* Text of segment i with runs of white space squeezed to one space. */
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

static void expect_seg(const rs_doc_t *d, size_t i, const char *speaker, int is_turn, const char *text)
{
    cr_assert_lt(i, d->nseg, "segment %zu missing (%zu segments)", i, d->nseg);
    const rs_segment_t *s = &d->seg[i];
    if (speaker)
        cr_expect_str_eq(d->speakers.s[s->speaker], speaker, "segment %zu speaker", i);
    else
        cr_expect_eq(s->speaker, -1, "segment %zu should have no speaker", i);
    cr_expect_eq(s->is_turn, is_turn, "segment %zu is_turn", i);
    char *t = seg_text(d, i);
    cr_expect_str_eq(t, text, "segment %zu text", i);
    free(t);
}

TestSuite(format, .init = setup, .fini = teardown);

Test(format, detect)
{
    static const struct {
        const char *text;
        rs_format_e f;
    } cases[] = {
        {"**Ann:** hi\n\n**Bob:** yo\n", RS_FORMAT_MARKDOWN},
        {"**Ann:** one markdown label only\n", RS_FORMAT_MARKDOWN},
        {"intro\n>> one\n>> two\n", RS_FORMAT_CAPTION},
        {"Ann: hi\nBob: yo\n", RS_FORMAT_LABELED},
        {"Note: a heading\nLinks: another\nplain prose.\n", RS_FORMAT_PLAIN},
        {"Just prose. Nothing else: at all.\n", RS_FORMAT_PLAIN},
        {"", RS_FORMAT_PLAIN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const rs_format_e f = rs_format_detect((const uint8_t *)cases[i].text, strlen(cases[i].text), &heads);
        cr_expect_eq(f, cases[i].f, "case %zu: %s, expected %s", i, rs_format_name(f), rs_format_name(cases[i].f));
    }
}

Test(format, labeled_turns)
{
    rs_doc_t d;
    cr_assert_eq(parse(&d, "Heading line\nAnn (00:01): first\nmore of Ann\n\nBob: second?\n"
                           "Note: still Bob\n[00:01:02] Ann: third [01:46] end\n",
                       RS_FORMAT_AUTO),
                 RS_OK);
    cr_expect_eq(d.format, RS_FORMAT_LABELED);
    cr_expect_eq(d.nseg, 4);
    cr_expect_eq(d.speakers.n, 2);
    expect_seg(&d, 0, NULL, 0, "Heading line");
    expect_seg(&d, 1, "Ann", 1, "first more of Ann");
    expect_seg(&d, 2, "Bob", 1, "second? Note: still Bob");
    expect_seg(&d, 3, "Ann", 1, "third end");
    rs_doc_free(&d);
}

Test(format, markdown_turns_front_matter_links_entities)
{
    rs_doc_t d;
    cr_assert_eq(parse(&d,
                       "---\ntitle: \"Ep 1\"\ndate: 2026-01-02\nspeakers: [Ann, Bob]\ntags: a, b\n---\n"
                       "**Ann:** they&#39;re &quot;here&quot; at [a link](https://example.org/x) \\[01:46\\]\n\n"
                       "**Bob**: yes &amp; no\n\n**Break:** \\[12:40\\]\n\n**Ann:**\"quoted\" &bogus; &#0;\n",
                       RS_FORMAT_AUTO),
                 RS_OK);
    cr_expect_eq(d.format, RS_FORMAT_MARKDOWN);
    cr_expect_str_eq(d.meta.title, "Ep 1");
    cr_expect_str_eq(d.meta.date, "2026-01-02");
    cr_assert_eq(d.meta.speakers.n, 2);
    cr_expect_str_eq(d.meta.speakers.s[1], "Bob");
    cr_assert_eq(d.meta.tags.n, 2);
    cr_expect_str_eq(d.meta.tags.s[0], "a");
    cr_expect_str_eq(d.meta.tags.s[1], "b");
    cr_expect_eq(d.nseg, 4);
    expect_seg(&d, 0, NULL, 0, "");
    expect_seg(&d, 1, "Ann", 1, "they're \"here\" at [a link]");
    expect_seg(&d, 2, "Bob", 1, "yes & no **Break:**");
    expect_seg(&d, 3, "Ann", 1, "\"quoted\" &bogus; &#0;");
    rs_doc_free(&d);
}

Test(format, caption_turns)
{
    rs_doc_t d;
    cr_assert_eq(parse(&d, "before\n>> first turn\ncontinues >> second on the line\n>>> ANDERSON: named\n"
                           "a>>b is not a marker\n",
                       RS_FORMAT_AUTO),
                 RS_OK);
    cr_expect_eq(d.format, RS_FORMAT_CAPTION);
    cr_expect_eq(d.nseg, 4);
    expect_seg(&d, 0, NULL, 0, "before");
    expect_seg(&d, 1, NULL, 1, "first turn continues");
    expect_seg(&d, 2, NULL, 1, "second on the line");
    expect_seg(&d, 3, "ANDERSON", 1, "named a>>b is not a marker");
    rs_doc_free(&d);
}

Test(format, forced_plain_keeps_labels_as_text)
{
    rs_doc_t d;
    cr_assert_eq(parse(&d, "Ann: hi\nBob: yo\n", RS_FORMAT_PLAIN), RS_OK);
    cr_expect_eq(d.nseg, 1);
    expect_seg(&d, 0, NULL, 0, "Ann: hi Bob: yo");
    rs_doc_free(&d);
}

Test(format, bom_binary_utf16_bad_front_matter)
{
    rs_doc_t d;
    cr_assert_eq(parse(&d, "\xef\xbb\xbf" "Ann: a\nBob: b\n", RS_FORMAT_AUTO), RS_OK);
    cr_expect_eq(d.len, strlen("Ann: a\nBob: b\n"));
    cr_expect_eq(d.bytes, d.len + 3);
    cr_expect_eq(d.speakers.n, 2);
    rs_doc_free(&d);

    memset(&d, 0, sizeof d);
    d.path = strdup("bin");
    d.text = malloc(8);
    memcpy(d.text, "ab\0cdefg", 8);
    d.len = d.bytes = 8;
    rs_error_t err = {0};
    cr_expect_eq(rs_doc_parse(&d, RS_FORMAT_AUTO, &heads, &err), RS_ERR_BINARY);
    cr_expect(strstr(err.msg, "bin: binary file (NUL byte at offset 2)"), "%s", err.msg);
    rs_doc_free(&d);

    cr_expect_eq(parse(&d, "\xff\xfeh", RS_FORMAT_AUTO), RS_ERR_BINARY);
    rs_doc_free(&d);

    cr_assert_eq(parse(&d, "---\ntitle: [unclosed\n---\nAnn: a\nBob: b\n", RS_FORMAT_AUTO), RS_OK);
    cr_expect_not_null(d.warning);
    cr_expect_null(d.meta.title);
    cr_expect_eq(d.speakers.n, 2);
    rs_doc_free(&d);

    /* "---" without a closing line is text, not front matter */
    cr_assert_eq(parse(&d, "---\nAnn: a\nBob: b\n", RS_FORMAT_AUTO), RS_OK);
    cr_expect_eq(d.speakers.n, 2);
    rs_doc_free(&d);
}

Test(format, empty_and_tiny)
{
    rs_doc_t d;
    cr_assert_eq(parse(&d, "", RS_FORMAT_AUTO), RS_OK);
    cr_expect_eq(d.format, RS_FORMAT_PLAIN);
    rs_doc_free(&d);
    cr_assert_eq(parse(&d, ">", RS_FORMAT_CAPTION), RS_OK);
    rs_doc_free(&d);
    cr_assert_eq(parse(&d, "**", RS_FORMAT_MARKDOWN), RS_OK);
    rs_doc_free(&d);
    cr_assert_eq(parse(&d, "&#", RS_FORMAT_MARKDOWN), RS_OK);
    rs_doc_free(&d);
}
