/*
 * test_lexicon.c - Criterion tests for host/lexicon.c: each format read into
 * the exact categories and patterns expected, merging, format detection,
 * every documented error (code, "path:line:" prefix, lexicon untouched),
 * BOM/CRLF, empty input, a missing file, and seeded random input that must
 * never crash (the seed is printed; RS_TEST_SEED=N repeats a run).
 *
 * Fixtures live in tests/data/lexicons/ under RS_SOURCE_DIR.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lexicon.h" /* rs_lexicon_t, rs_lexicon_load, rs_lexicon_load_mem */

#ifndef RS_SOURCE_DIR /* CMake defines it; by hand, run from the repo root */
#define RS_SOURCE_DIR "."
#endif
#define LEXDIR RS_SOURCE_DIR "/tests/data/lexicons/"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

/* The lexicon as text, one "name: p1 | p2" line per category; the caller
 * frees it. */
static char *dump(const rs_lexicon_t *lex)
{
    size_t cap = 64;
    for (size_t i = 0; i < lex->n; i++) {
        cap += strlen(lex->cat[i].name) + 3;
        for (size_t j = 0; j < lex->cat[i].n; j++)
            cap += strlen(lex->cat[i].pat[j].text) + 3;
    }
    char *s = malloc(cap);
    cr_assert_not_null(s);
    size_t k = 0;
    for (size_t i = 0; i < lex->n; i++) {
        k += (size_t)sprintf(s + k, "%s:", lex->cat[i].name);
        for (size_t j = 0; j < lex->cat[i].n; j++)
            k += (size_t)sprintf(s + k, "%s%s", j ? " | " : " ", lex->cat[i].pat[j].text);
        s[k++] = '\n';
    }
    s[k] = '\0';
    return s;
}

static void expect_dump(const rs_lexicon_t *lex, const char *want)
{
    char *got = dump(lex);
    cr_expect_str_eq(got, want);
    free(got);
}

static void load_ok(rs_lexicon_t *lex, const char *file, rs_lexfmt_e fmt)
{
    rs_error_t err = {0};
    const rs_err_e e = rs_lexicon_load(lex, file, fmt, &err);
    cr_assert_eq(e, RS_OK, "%s: got %d: %s", file, (int)e, err.msg);
}

static void mem_ok(rs_lexicon_t *lex, const char *name, const char *data, rs_lexfmt_e fmt)
{
    rs_error_t err = {0};
    const rs_err_e e = rs_lexicon_load_mem(lex, name, data, strlen(data), fmt, &err);
    cr_assert_eq(e, RS_OK, "%s: got %d: %s", name, (int)e, err.msg);
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A small lexicon that error cases must leave exactly as it is. */
static void base_lexicon(rs_lexicon_t *lex)
{
    mem_ok(lex, "base.tsv", "economy\tjobs\neconomy\ttax*\nhealth\thospital\n", RS_LEXFMT_AUTO);
}

/* ------------------------------------------------------------------------ */
/* Each format                                                              */

Test(lexicon, yaml_nested_scalars_and_empty)
{
    rs_lexicon_t lex = {0};
    load_ok(&lex, LEXDIR "topics.yml", RS_LEXFMT_AUTO);
    expect_dump(&lex, "economy: jobs | secur*\n"
                      "politics/domestic: election | voting rights\n"
                      "politics/foreign/nato: alliance\n"
                      "politics/foreign/trade: tariff*\n"
                      "numbers: 2020 | 3.5\n"
                      "empty:\n"
                      "quoted: single pattern\n");
    /* Line numbers come from libyaml's marks, 1-based. */
    cr_expect_eq(lex.cat[0].pat[0].line, 2);
    cr_expect_eq(lex.cat[1].pat[1].line, 6);
    cr_expect_eq(lex.cat[3].pat[0].line, 9);
    cr_expect_eq(rs_lexicon_warnings(&lex, NULL), 0);
    rs_lexicon_free(&lex);
}

Test(lexicon, yaml_null_items_flow_style_and_deep_keys)
{
    rs_lexicon_t lex = {0};
    mem_ok(&lex, "x.yaml",
           "{a: [p, ~, '', q], b: null, c: {d: {e: {f: [deep]}}}, 7: [1, true]}\n",
           RS_LEXFMT_AUTO);
    expect_dump(&lex, "a: p | q\nb:\nc/d/e/f: deep\n7: 1 | true\n");
    rs_lexicon_free(&lex);

    /* A document that is only null, or only comments, is empty. */
    mem_ok(&lex, "n.yml", "---\n~\n", RS_LEXFMT_AUTO);
    cr_expect_eq(lex.n, 0);
    mem_ok(&lex, "c.yml", "# nothing yet\n", RS_LEXFMT_AUTO);
    cr_expect_eq(lex.n, 0);
    cr_expect_eq(lex.digest, 0);
    rs_lexicon_free(&lex);
}

Test(lexicon, liwc_header_order_multiple_ids_phrases_and_warning)
{
    rs_lexicon_t lex = {0};
    load_ok(&lex, LEXDIR "liwc.dic", RS_LEXFMT_AUTO);
    expect_dump(&lex, "posemo: happy | good* | friend* | thank you | cheer\n"
                      "negemo: sad | hurt\n"
                      "social: good* | friend* | hurt | thank you | like | cheer\n");
    cr_expect_eq(lex.cat[2].pat[4].line, 12);
    const char *const *w;
    cr_assert_eq(rs_lexicon_warnings(&lex, &w), 1);
    cr_expect(starts_with(w[0], LEXDIR "liwc.dic:12: "), "%s", w[0]);
    cr_expect(strstr(w[0], "(1 2)4/5") != NULL, "%s", w[0]);
    rs_lexicon_free(&lex);
}

Test(lexicon, liwc_categories_without_words_and_word_without_ids)
{
    rs_lexicon_t lex = {0};
    mem_ok(&lex, "w.dic", "%\n10 first one\n20\tsecond\n%\n\nlonely\nalpha 10\n", RS_LEXFMT_AUTO);
    expect_dump(&lex, "first one: alpha\nsecond:\n");
    const char *const *w;
    cr_assert_eq(rs_lexicon_warnings(&lex, &w), 1);
    cr_expect(starts_with(w[0], "w.dic:6: "), "%s", w[0]);
    rs_lexicon_free(&lex);
}

Test(lexicon, liwc_pattern_is_first_field_without_tab)
{
    rs_lexicon_t lex = {0};
    /* No tab: the pattern is the first field, even when it starts with '('
     * (emoticons); only id fields may be LIWC2007 conditionals. */
    mem_ok(&lex, "e.dic", "%\n1 a\n2 b\n%\n:( 1\n(x 2 1\n:-) (1)2 2\n", RS_LEXFMT_AUTO);
    expect_dump(&lex, "a: :( | (x\nb: (x | :-)\n");
    cr_expect_eq(rs_lexicon_warnings(&lex, NULL), 1);
    rs_lexicon_free(&lex);
}

Test(lexicon, lexicoder_phrases_globs_and_repeated_category)
{
    rs_lexicon_t lex = {0};
    load_ok(&lex, LEXDIR "lexicoder.lc3", RS_LEXFMT_AUTO);
    expect_dump(&lex, "ECONOMY: JOB* | UNEMPLOYMENT | INTEREST RATE* | JOBS\n"
                      "HEALTH: HOSPITAL* | PUBLIC HEALTH\n");
    cr_expect_eq(lex.cat[0].pat[3].line, 10);
    cr_expect_eq(lex.cat[1].pat[1].line, 8);
    rs_lexicon_free(&lex);
}

Test(lexicon, tsv_header_comments_and_duplicates)
{
    rs_lexicon_t lex = {0};
    load_ok(&lex, LEXDIR "entities.tsv", RS_LEXFMT_AUTO);
    expect_dump(&lex, "person: Angela Merkel | merkel\n"
                      "place: Berlin\n"
                      "org: European Union\n");
    cr_expect_eq(lex.cat[0].pat[0].line, 3);
    cr_expect_eq(lex.cat[2].pat[0].line, 8);
    rs_lexicon_free(&lex);

    /* The header is only skipped as the first line. */
    mem_ok(&lex, "h.tsv", "a\tb\ncategory\tpattern\n", RS_LEXFMT_AUTO);
    expect_dump(&lex, "a: b\ncategory: pattern\n");
    rs_lexicon_free(&lex);
}

Test(lexicon, bom_and_crlf)
{
    rs_lexicon_t lex = {0};
    load_ok(&lex, LEXDIR "bom_crlf.tsv", RS_LEXFMT_AUTO);
    expect_dump(&lex, "greeting: hello | good morning\nfarewell: bye*\n");
    cr_expect_eq(lex.cat[1].pat[0].line, 5);
    rs_lexicon_free(&lex);

    mem_ok(&lex, "b.yml", "\xEF\xBB\xBFgreeting:\r\n  - hello\r\n  - good  morning\r\n",
           RS_LEXFMT_AUTO);
    expect_dump(&lex, "greeting: hello | good morning\n");
    cr_expect_eq(lex.cat[0].pat[1].line, 3);
    rs_lexicon_free(&lex);

    mem_ok(&lex, "b.dic", "\xEF\xBB\xBF%\r\n1\tgreeting\r\n%\r\nhello\t1\r\n", RS_LEXFMT_AUTO);
    expect_dump(&lex, "greeting: hello\n");
    rs_lexicon_free(&lex);

    mem_ok(&lex, "b.lc3", "\xEF\xBB\xBF+greeting\r\nhello\r\ngood day\r\n", RS_LEXFMT_AUTO);
    expect_dump(&lex, "greeting: hello | good day\n");
    rs_lexicon_free(&lex);
}

Test(lexicon, empty_inputs)
{
    static const char *const blanks[] = {"", "\n\n", "  \r\n\t\n", "\xEF\xBB\xBF"};
    static const rs_lexfmt_e fmts[] = {RS_LEXFMT_AUTO, RS_LEXFMT_YAML, RS_LEXFMT_LIWC,
                                       RS_LEXFMT_LEXICODER, RS_LEXFMT_TSV};
    for (size_t i = 0; i < sizeof blanks / sizeof blanks[0]; i++) {
        for (size_t f = 0; f < sizeof fmts / sizeof fmts[0]; f++) {
            rs_lexicon_t lex = {0};
            mem_ok(&lex, "empty", blanks[i], fmts[f]);
            cr_expect_eq(lex.n, 0, "blank %zu fmt %zu", i, f);
            rs_lexicon_free(&lex);
        }
    }
    rs_lexicon_t lex = {0};
    load_ok(&lex, LEXDIR "empty.yml", RS_LEXFMT_AUTO);
    cr_expect_eq(lex.n, 0);
    cr_expect_eq(lex.digest, 0);
    rs_lexicon_free(&lex);
}

/* ------------------------------------------------------------------------ */
/* Merging, detection, digest                                               */

Test(lexicon, merge_two_files)
{
    rs_lexicon_t lex = {0};
    load_ok(&lex, LEXDIR "merge_a.tsv", RS_LEXFMT_AUTO);
    const uint64_t d1 = lex.digest;
    load_ok(&lex, LEXDIR "merge_b.yml", RS_LEXFMT_AUTO);
    expect_dump(&lex, "economy: jobs | tax* | inflation\n"
                      "health: hospital | doctor\n"
                      "crime: theft\n");
    cr_expect_neq(lex.digest, d1);
    /* Loading the same file again changes nothing, digest included. */
    const uint64_t d2 = lex.digest;
    load_ok(&lex, LEXDIR "merge_b.yml", RS_LEXFMT_AUTO);
    cr_expect_eq(lex.digest, d2);
    cr_expect_eq(lex.n, 3);
    rs_lexicon_free(&lex);
}

Test(lexicon, merge_keeps_first_seen_order_at_scale)
{
    rs_lexicon_t lex = {0};
    enum { N = 3000 };
    size_t cap = (size_t)N * 24 + 1, k = 0;
    char *buf = malloc(cap);
    cr_assert_not_null(buf);
    for (int i = 0; i < N; i++)
        k += (size_t)snprintf(buf + k, cap - k, "c%d\tw%d\nall\tw%d\n", i % 7, i, i);
    cr_assert_eq(rs_lexicon_load_mem(&lex, "big.tsv", buf, k, RS_LEXFMT_AUTO, NULL), RS_OK);
    cr_assert_eq(rs_lexicon_load_mem(&lex, "big.tsv", buf, k, RS_LEXFMT_AUTO, NULL), RS_OK);
    free(buf);
    cr_assert_eq(lex.n, 8);
    cr_expect_str_eq(lex.cat[1].name, "all");
    cr_assert_eq(lex.cat[1].n, N);
    for (size_t j = 0; j < N; j++) {
        char want[32];
        snprintf(want, sizeof want, "w%zu", j);
        cr_assert_str_eq(lex.cat[1].pat[j].text, want);
    }
    rs_lexicon_free(&lex);
}

Test(lexicon, detect_by_content)
{
    static const char *const files[] = {"content_liwc.lex", "content_lc3.lex", "content_tsv.lex",
                                        "content_yaml.lex"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s%s", LEXDIR, files[i]);
        rs_lexicon_t lex = {0};
        load_ok(&lex, path, RS_LEXFMT_AUTO);
        if (i == 0)
            expect_dump(&lex, "first: alpha | beta\nsecond: beta\n");
        else if (i == 1)
            expect_dump(&lex, "first: alpha\nsecond: beta | alpha\n");
        else
            expect_dump(&lex, "first: alpha\nsecond: beta\n");
        rs_lexicon_free(&lex);
    }
    /* No extension at all: by content too; a '#' comment's tab is not TSV. */
    rs_lexicon_t lex = {0};
    mem_ok(&lex, "noext", "#\tnot tsv\na: [b]\n", RS_LEXFMT_AUTO);
    expect_dump(&lex, "a: b\n");
    rs_lexicon_free(&lex);
}

Test(lexicon, detect_by_extension_and_explicit_format)
{
    rs_lexicon_t lex = {0};
    rs_error_t err = {0};
    const char *data = "x\ty\n";
    mem_ok(&lex, "dir.d/a.TXT", data, RS_LEXFMT_AUTO);
    expect_dump(&lex, "x: y\n");
    rs_lexicon_free(&lex);
    /* The same bytes, named .lcd, .dic or .yaml, are read in those formats. */
    cr_expect_eq(rs_lexicon_load_mem(&lex, "a.lcd", data, strlen(data), RS_LEXFMT_AUTO, &err),
                 RS_ERR_LEXICON);
    cr_expect(starts_with(err.msg, "a.lcd:1: "), "%s", err.msg);
    cr_expect_eq(rs_lexicon_load_mem(&lex, "a.dic", data, strlen(data), RS_LEXFMT_AUTO, &err),
                 RS_ERR_LEXICON);
    cr_expect(starts_with(err.msg, "a.dic:1: "), "%s", err.msg);
    cr_expect_eq(rs_lexicon_load_mem(&lex, "a.yaml", data, strlen(data), RS_LEXFMT_AUTO, &err),
                 RS_ERR_LEXICON);
    cr_expect(starts_with(err.msg, "a.yaml:1: "), "%s", err.msg);
    /* An explicit format beats the extension. */
    mem_ok(&lex, "a.yml", data, RS_LEXFMT_TSV);
    expect_dump(&lex, "x: y\n");
    rs_lexicon_free(&lex);
    /* A YAML file named .yml whose content looks like Lexicoder. */
    mem_ok(&lex, "p.yml", "a:\n  - x\n+b: [y]\n", RS_LEXFMT_AUTO);
    expect_dump(&lex, "a: x\n+b: y\n");
    rs_lexicon_free(&lex);
}

Test(lexicon, digest_depends_on_content_and_order_only)
{
    rs_lexicon_t a = {0}, b = {0}, c = {0};
    mem_ok(&a, "a.tsv", "x\tp\nx\tq*\ny\tr s\n", RS_LEXFMT_AUTO);
    mem_ok(&b, "b.lc3", "+x\np\nq*\n+y\nr   s\n", RS_LEXFMT_AUTO);
    mem_ok(&c, "c.yml", "y: [r s]\nx: [p, q*]\n", RS_LEXFMT_AUTO);
    cr_expect_neq(a.digest, 0);
    cr_expect_eq(a.digest, b.digest);
    cr_expect_neq(a.digest, c.digest);
    rs_lexicon_free(&a);
    rs_lexicon_free(&b);
    rs_lexicon_free(&c);
    /* Where patterns sit matters, not just their concatenation. */
    mem_ok(&a, "a.tsv", "x\tp\ny\tq\n", RS_LEXFMT_AUTO);
    mem_ok(&b, "b.tsv", "x\tp\nx\tq\ny\tq\n", RS_LEXFMT_AUTO);
    cr_expect_neq(a.digest, b.digest);
    rs_lexicon_free(&a);
    rs_lexicon_free(&b);
}

Test(lexicon, lexfmt_parse)
{
    cr_expect_eq(rs_lexfmt_parse("auto"), RS_LEXFMT_AUTO);
    cr_expect_eq(rs_lexfmt_parse("yaml"), RS_LEXFMT_YAML);
    cr_expect_eq(rs_lexfmt_parse("liwc"), RS_LEXFMT_LIWC);
    cr_expect_eq(rs_lexfmt_parse("lexicoder"), RS_LEXFMT_LEXICODER);
    cr_expect_eq(rs_lexfmt_parse("tsv"), RS_LEXFMT_TSV);
    cr_expect_eq(rs_lexfmt_parse("TSV"), RS_LEXFMT_TSV);
    cr_expect_eq(rs_lexfmt_parse("yml"), -1);
    cr_expect_eq(rs_lexfmt_parse(""), -1);
    cr_expect_eq(rs_lexfmt_parse("tsvx"), -1);
    cr_expect_eq(rs_lexfmt_parse(NULL), -1);
}

Test(lexicon, free_leaves_zeroed_struct)
{
    rs_lexicon_t lex = {0};
    load_ok(&lex, LEXDIR "liwc.dic", RS_LEXFMT_AUTO);
    rs_lexicon_free(&lex);
    static const rs_lexicon_t zero;
    cr_expect(memcmp(&lex, &zero, sizeof lex) == 0);
    rs_lexicon_free(&lex); /* twice is fine */
    rs_lexicon_free(NULL);
    cr_expect_eq(rs_lexicon_warnings(NULL, NULL), 0);
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */

typedef struct bad_case {
    const char *name;   /* also the path in the message */
    const char *data;
    size_t len;         /* 0: strlen(data) */
    rs_lexfmt_e fmt;
    const char *prefix; /* expected start of err.msg */
    const char *what;   /* expected somewhere in err.msg, or NULL */
} bad_case_t;

static const bad_case_t bad_cases[] = {
    /* bytes, any format */
    {"nul.tsv", "a\tb\nc\td\0e\n", 10, RS_LEXFMT_AUTO, "nul.tsv:2: ", "NUL"},
    {"nul.yml", "a: [b]\n\0", 8, RS_LEXFMT_AUTO, "nul.yml:2: ", "NUL"},
    {"utf8.tsv", "a\tb\n\nc\t\xC3\x28\n", 0, RS_LEXFMT_AUTO, "utf8.tsv:3: ", "UTF-8"},
    {"overlong.lc3", "+a\n\xC0\xAF\n", 0, RS_LEXFMT_AUTO, "overlong.lc3:2: ", "UTF-8"},
    {"surrogate.dic", "%\n1 a\n%\n\xED\xA0\x80 1\n", 0, RS_LEXFMT_AUTO, "surrogate.dic:4: ",
     "UTF-8"},
    {"big.yml", "a:\n - \xF4\x90\x80\x80\n", 0, RS_LEXFMT_AUTO, "big.yml:2: ", "UTF-8"},
    {"cut.tsv", "a\tb\nc\t\xE2\x82", 0, RS_LEXFMT_AUTO, "cut.tsv:2: ", "UTF-8"},
    /* TSV */
    {"t1.tsv", "a\tb\nnotab here\n", 0, RS_LEXFMT_AUTO, "t1.tsv:2: ", "tab"},
    {"t2.tsv", "a\tb\n \t  pat\n", 0, RS_LEXFMT_AUTO, "t2.tsv:2: ", "empty category"},
    {"t3.tsv", "a\tb\n# c\ncat\t   \n", 0, RS_LEXFMT_AUTO, "t3.tsv:3: ", "empty pattern"},
    {"t4.tsv", "a\tb\nc\tfo*o\n", 0, RS_LEXFMT_AUTO, "t4.tsv:2: ",
     "'*' is only allowed at the end of a word"},
    {"t5.tsv", "c\t*\n", 0, RS_LEXFMT_AUTO, "t5.tsv:1: ", "'*' is only allowed"},
    {"t6.tsv", "c\tfoo *bar\n", 0, RS_LEXFMT_AUTO, "t6.tsv:1: ", "'*' is only allowed"},
    {"t7.tsv", "c\tfoo * bar\n", 0, RS_LEXFMT_AUTO, "t7.tsv:1: ", "'*' is only allowed"},
    {"t8.tsv", "c\tfoo**\n", 0, RS_LEXFMT_AUTO, "t8.tsv:1: ", "'*' is only allowed"},
    {"t9.tsv", "a\tb\r\n\r\nc\tx*y\r\n", 0, RS_LEXFMT_AUTO, "t9.tsv:3: ", "'*'"},
    /* Lexicoder */
    {"l1.lc3", "\n\nfoo\n+cat\n", 0, RS_LEXFMT_AUTO, "l1.lc3:3: ", "before any"},
    {"l2.lcd", "+cat\nx\n+   \n", 0, RS_LEXFMT_AUTO, "l2.lcd:3: ", "empty category"},
    {"l3.lc3", "+c\nab*c\n", 0, RS_LEXFMT_AUTO, "l3.lc3:2: ", "'*'"},
    /* LIWC */
    {"w1.dic", "%\n1\ta\n%\nword\t1\n\nother\t1\t7\n", 0, RS_LEXFMT_AUTO, "w1.dic:6: ",
     "'7' is not declared"},
    {"w2.dic", "\n%\n1\ta\n2\tb\n", 0, RS_LEXFMT_AUTO, "w2.dic:2: ", "closing"},
    {"w3", "word 1\n", 0, RS_LEXFMT_LIWC, "w3:1: ", "'%'"},
    {"w4.dic", "%\n1\ta\n%\n\t1\n", 0, RS_LEXFMT_AUTO, "w4.dic:4: ", "empty pattern"},
    {"w5.dic", "%\n1\ta\n01\tb\n%\n", 0, RS_LEXFMT_AUTO, "w5.dic:3: ", "declared twice"},
    {"w6.dic", "%\n1\n%\n", 0, RS_LEXFMT_AUTO, "w6.dic:2: ", "no name"},
    {"w7.dic", "%\n1\ta\n%\n*\t1\n", 0, RS_LEXFMT_AUTO, "w7.dic:4: ", "'*'"},
    {"w8.dic", "%\n1\ta\n%\nx*y 1\n", 0, RS_LEXFMT_AUTO, "w8.dic:4: ", "'*'"},
    /* YAML */
    {"y1.yml", "- a\n- b\n", 0, RS_LEXFMT_AUTO, "y1.yml:1: ", "mapping"},
    {"y2.yml", "\nhello\n", 0, RS_LEXFMT_AUTO, "y2.yml:2: ", "mapping"},
    {"y3.yml", "a:\n  - x\n  - {b: c}\n", 0, RS_LEXFMT_AUTO, "y3.yml:3: ", "pattern"},
    {"y4.yml", "a:\n  - x\n  - [y]\n", 0, RS_LEXFMT_AUTO, "y4.yml:3: ", "pattern"},
    {"y5.yml", "a: &x [p]\nb: *x\n", 0, RS_LEXFMT_AUTO, "y5.yml:2: ", "alias"},
    {"y6.yml", "a: [x]\n'  ': [y]\n", 0, RS_LEXFMT_AUTO, "y6.yml:2: ", "empty category"},
    {"y7.yml", "a: [x]\n? [a, b]\n: c\n", 0, RS_LEXFMT_AUTO, "y7.yml:2: ", "category name"},
    {"y8.yml", "a:\n  - ok\n  - bad*x\n", 0, RS_LEXFMT_AUTO, "y8.yml:3: ", "'*'"},
    {"y9.yml", "a: [x]\n---\nb: [y]\n", 0, RS_LEXFMT_AUTO, "y9.yml:2: ", "one YAML document"},
    {"y10.yml", "a: [x]\nb: \"x\\0y\"\n", 0, RS_LEXFMT_AUTO, "y10.yml:2: ", "NUL"},
    {"y11.yml", "a: [x]\nb: [\x01]\n", 0, RS_LEXFMT_AUTO, "y11.yml:2: ", "YAML"},
    {"y12.yml", "a:\n  - x\n  b: y\n", 0, RS_LEXFMT_AUTO, "y12.yml:3: ", "YAML"},
    {"y13.yml", "a: [x, y\nb: z\n", 0, RS_LEXFMT_AUTO, "y13.yml:2: ", "YAML"},
    {"y14.yml", "a:\n  b: [ok]\n  c: '*'\n", 0, RS_LEXFMT_AUTO, "y14.yml:3: ", "'*'"},
    {"y15.yml", "a: [x]\nb: 'unterminated\n", 0, RS_LEXFMT_AUTO, "y15.yml:2: ", "YAML"},
    {"y16.yml", "a: [x]\nb: 'unterminated", 0, RS_LEXFMT_AUTO, "y16.yml:2: ", "YAML"},
    {"y17.yml", "a: [x]\n@b: y\n", 0, RS_LEXFMT_AUTO, "y17.yml:2: ", "YAML"},
};

Test(lexicon, every_error_names_path_and_line_and_keeps_lexicon)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case_t *c = &bad_cases[i];
        rs_lexicon_t lex = {0};
        base_lexicon(&lex);
        char *before = dump(&lex);
        const uint64_t digest = lex.digest;
        rs_error_t err = {0};
        const size_t len = c->len ? c->len : strlen(c->data);
        const rs_err_e e = rs_lexicon_load_mem(&lex, c->name, c->data, len, c->fmt, &err);
        cr_expect_eq(e, RS_ERR_LEXICON, "%s: got %d (%s)", c->name, (int)e, err.msg);
        cr_expect_eq(err.code, RS_ERR_LEXICON, "%s", c->name);
        cr_expect(starts_with(err.msg, c->prefix), "%s: want prefix '%s', got '%s'", c->name,
                  c->prefix, err.msg);
        if (c->what)
            cr_expect(strstr(err.msg, c->what) != NULL, "%s: want '%s' in '%s'", c->name,
                      c->what, err.msg);
        char *after = dump(&lex);
        cr_expect_str_eq(after, before, "%s changed the lexicon", c->name);
        cr_expect_eq(lex.digest, digest, "%s", c->name);
        cr_expect_eq(rs_lexicon_warnings(&lex, NULL), 0, "%s", c->name);
        free(before);
        free(after);
        rs_lexicon_free(&lex);
    }
}

Test(lexicon, failed_load_keeps_categories_pattern_arrays_and_warnings)
{
    /* The failing file starts with a new category and adds to an existing
     * one before its error, and it would add a warning. */
    rs_lexicon_t lex = {0};
    load_ok(&lex, LEXDIR "liwc.dic", RS_LEXFMT_AUTO);
    char *before = dump(&lex);
    const size_t nwarn = rs_lexicon_warnings(&lex, NULL);
    rs_error_t err = {0};
    const char *bad = "%\n1\tposemo\n2\tbrand new\n%\nglad\t1\nx\t(1)2/3\nbroken\t2 99\n";
    cr_expect_eq(rs_lexicon_load_mem(&lex, "bad.dic", bad, strlen(bad), RS_LEXFMT_AUTO, &err),
                 RS_ERR_LEXICON);
    cr_expect(starts_with(err.msg, "bad.dic:7: "), "%s", err.msg);
    char *after = dump(&lex);
    cr_expect_str_eq(after, before);
    cr_expect_eq(rs_lexicon_warnings(&lex, NULL), nwarn);
    free(before);
    free(after);
    rs_lexicon_free(&lex);
}

Test(lexicon, error_files_on_disk)
{
    rs_lexicon_t lex = {0};
    base_lexicon(&lex);
    rs_error_t err = {0};
    cr_expect_eq(rs_lexicon_load(&lex, LEXDIR "bad_star.tsv", RS_LEXFMT_AUTO, &err),
                 RS_ERR_LEXICON);
    cr_expect_str_eq(err.msg, LEXDIR "bad_star.tsv:3: '*' is only allowed at the end of a word");
    cr_expect_eq(rs_lexicon_load(&lex, LEXDIR "bad_id.dic", RS_LEXFMT_AUTO, &err),
                 RS_ERR_LEXICON);
    cr_expect(starts_with(err.msg, LEXDIR "bad_id.dic:5: "), "%s", err.msg);
    expect_dump(&lex, "economy: jobs | tax*\nhealth: hospital\n");
    rs_lexicon_free(&lex);
}

Test(lexicon, yaml_nesting_limit)
{
    char buf[16384];
    size_t k = 0;
    for (int d = 0; d < 70; d++)
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%*sk%d:\n", 2 * d, "", d);
    snprintf(buf + k, sizeof buf - k, "%*s- x\n", 140, "");
    rs_lexicon_t lex = {0};
    rs_error_t err = {0};
    cr_expect_eq(rs_lexicon_load_mem(&lex, "deep.yml", buf, strlen(buf), RS_LEXFMT_AUTO, &err),
                 RS_ERR_LEXICON);
    cr_expect(starts_with(err.msg, "deep.yml:65: "), "%s", err.msg);
    cr_expect_eq(lex.n, 0);
}

Test(lexicon, missing_file_is_io_error_naming_path)
{
    rs_lexicon_t lex = {0};
    base_lexicon(&lex);
    const uint64_t digest = lex.digest;
    rs_error_t err = {0};
    const char *path = LEXDIR "no_such_lexicon.yml";
    cr_expect_eq(rs_lexicon_load(&lex, path, RS_LEXFMT_AUTO, &err), RS_ERR_IO);
    cr_expect_eq(err.code, RS_ERR_IO);
    cr_expect(starts_with(err.msg, path), "%s", err.msg);
    cr_expect_eq(lex.digest, digest);
    cr_expect_eq(lex.n, 2);
    /* A directory cannot be read either. */
    cr_expect_eq(rs_lexicon_load(&lex, LEXDIR, RS_LEXFMT_AUTO, &err), RS_ERR_IO);
    cr_expect(starts_with(err.msg, LEXDIR), "%s", err.msg);
    rs_lexicon_free(&lex);
}

Test(lexicon, bad_arguments)
{
    rs_lexicon_t lex = {0};
    rs_error_t err = {0};
    cr_expect_eq(rs_lexicon_load_mem(NULL, "x", "", 0, RS_LEXFMT_AUTO, &err), RS_ERR_USAGE);
    cr_expect_eq(rs_lexicon_load_mem(&lex, "x", NULL, 3, RS_LEXFMT_AUTO, &err), RS_ERR_USAGE);
    cr_expect_eq(rs_lexicon_load_mem(&lex, "x", "", 0, (rs_lexfmt_e)42, &err), RS_ERR_USAGE);
    cr_expect_eq(rs_lexicon_load(&lex, NULL, RS_LEXFMT_AUTO, &err), RS_ERR_USAGE);
    /* No name: messages say <memory>; no err: the code is still returned. */
    cr_expect_eq(rs_lexicon_load_mem(&lex, NULL, "a\n", 2, RS_LEXFMT_TSV, &err), RS_ERR_LEXICON);
    cr_expect(starts_with(err.msg, "<memory>:1: "), "%s", err.msg);
    cr_expect_eq(rs_lexicon_load_mem(&lex, NULL, "a\n", 2, RS_LEXFMT_TSV, NULL), RS_ERR_LEXICON);
    cr_expect_eq(lex.n, 0);
}

/* ------------------------------------------------------------------------ */
/* Random input never crashes                                               */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t test_seed(void)
{
    const char *env = getenv("RS_TEST_SEED");
    const uint64_t seed = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
    fprintf(stderr, "test_lexicon: random input seed %llu (RS_TEST_SEED=%llu repeats it)\n",
            (unsigned long long)seed, (unsigned long long)seed);
    return seed;
}

/* Every pattern a successful load keeps must follow the rules. */
static void check_invariants(const rs_lexicon_t *lex)
{
    for (size_t i = 0; i < lex->n; i++) {
        const rs_lex_category_t *c = &lex->cat[i];
        cr_assert(c->name[0] != '\0');
        for (size_t j = 0; j < c->n; j++) {
            const char *t = c->pat[j].text;
            const size_t n = strlen(t);
            cr_assert(n > 0);
            cr_assert(t[0] != ' ' && t[n - 1] != ' ' && strstr(t, "  ") == NULL, "'%s'", t);
            cr_assert(strchr(t, '\t') == NULL, "'%s'", t);
            for (size_t k = 0; k < n; k++)
                if (t[k] == '*')
                    cr_assert(k > 0 && t[k - 1] != ' ' && (t[k + 1] == '\0' || t[k + 1] == ' '),
                              "'%s'", t);
        }
    }
}

static void fuzz_one(const char *data, size_t len)
{
    static const char *const names[] = {"f.yml", "f.dic", "f.lc3", "f.tsv", "f"};
    static const rs_lexfmt_e fmts[] = {RS_LEXFMT_AUTO, RS_LEXFMT_YAML, RS_LEXFMT_LIWC,
                                       RS_LEXFMT_LEXICODER, RS_LEXFMT_TSV};
    for (size_t f = 0; f < sizeof fmts / sizeof fmts[0]; f++) {
        rs_lexicon_t lex = {0};
        base_lexicon(&lex);
        char *before = dump(&lex);
        rs_error_t err = {0};
        const char *name = names[rng_next() % (sizeof names / sizeof names[0])];
        const rs_err_e e = rs_lexicon_load_mem(&lex, name, data, len, fmts[f], &err);
        cr_assert(e == RS_OK || e == RS_ERR_LEXICON, "got %d: %s", (int)e, err.msg);
        if (e == RS_OK) {
            check_invariants(&lex);
        } else {
            cr_assert(starts_with(err.msg, name), "%s", err.msg);
            char *after = dump(&lex);
            cr_assert_str_eq(after, before);
            free(after);
        }
        free(before);
        rs_lexicon_free(&lex);
    }
}

Test(lexicon, random_bytes_never_crash)
{
    rng_state = test_seed();
    static const char alphabet[] = "%+#\t\n\r *:-[]{},?&!|>'\"~01ab\xC3\xA9\xEF\xBB\xBF\x80\xFF";
    char buf[600];
    for (int iter = 0; iter < 1500; iter++) {
        const size_t len = (size_t)(rng_next() % sizeof buf);
        const int raw = (int)(rng_next() % 4 == 0);
        for (size_t i = 0; i < len; i++) {
            const uint64_t r = rng_next();
            buf[i] = raw ? (char)(r & 0xFF) : alphabet[r % (sizeof alphabet - 1)];
        }
        fuzz_one(buf, len);
    }
}

Test(lexicon, mutated_fixtures_never_crash)
{
    rng_state = test_seed() ^ 0x5DEECE66DULL;
    static const char *const files[] = {"topics.yml", "liwc.dic", "lexicoder.lc3",
                                        "entities.tsv", "bom_crlf.tsv"};
    for (size_t fi = 0; fi < sizeof files / sizeof files[0]; fi++) {
        char path[1024];
        snprintf(path, sizeof path, "%s%s", LEXDIR, files[fi]);
        FILE *f = fopen(path, "rb");
        cr_assert_not_null(f, "%s", path);
        char orig[2048];
        const size_t n = fread(orig, 1, sizeof orig, f);
        fclose(f);
        for (int iter = 0; iter < 300; iter++) {
            char buf[2048 + 16];
            size_t len = n;
            memcpy(buf, orig, n);
            const int edits = 1 + (int)(rng_next() % 4);
            for (int k = 0; k < edits && len > 0; k++) {
                const size_t at = (size_t)(rng_next() % len);
                const int kind = (int)(rng_next() % 3);
                if (kind == 0) { /* overwrite */
                    buf[at] = (char)(rng_next() & 0xFF);
                } else if (kind == 1) { /* delete */
                    memmove(buf + at, buf + at + 1, len - at - 1);
                    len--;
                } else if (len < sizeof buf) { /* insert */
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = "\t\n *%+:-[]#\0"[rng_next() % 12];
                    len++;
                }
            }
            fuzz_one(buf, len);
        }
    }
}
