/*
 * test_labels.c - the label rule, headings and timestamps (host/labels.c),
 * on the examples of docs/labels.md.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "labels.h"

#ifndef RS_SOURCE_DIR
#define RS_SOURCE_DIR "."
#endif

static size_t label(const char *line, const rs_headings_t *h, size_t *text_at)
{
    return rs_label_match((const uint8_t *)line, strlen(line), h, text_at);
}

Test(labels, rule_examples)
{
    static const struct {
        const char *line;
        size_t name; /* expected name length, 0 for not a label */
    } cases[] = {
        {"Alice: hello", 5},
        {"Alice:", 5},
        {"Alice:\tx", 5},
        {"Jerod Santo: text", 11},
        {"Mireille B. Reece, Psy.D: text", 24},
        {"Speaker 1 (00:12): hello", 9},
        {"Speaker 1 [01:02:03]: hello", 9},
        {"Mr SPEAKER: Order.", 10},
        {"O'Brien: yes", 7},
        {"O\xe2\x80\x99" "Brien: yes", 9},
        {"Jean-Luc: oui", 8},
        {"\xc3\x89lise Lef\xc3\xa8vre: oui", 15},
        {"\xd0\x90\xd0\xbd\xd0\xbd\xd0\xb0: \xd0\xb4\xd0\xb0", 8},
        {"1984: a year", 4},
        {"A B C D E: five words", 9},
        {"A B C D E F: six words", 0},
        {"The Secretary of State: lower-case word", 0},
        {"alice: lower case", 0},
        {"\xc3\xa9lise: lower case", 0},
        {"Alice:text", 0},
        {"Alice  Smith: two spaces", 0},
        {"Alice Smith : space before colon", 0},
        {"Abcdefghij Abcdefghij Abcdefghij Abcdefghi: 43 bytes", 0},
        {"Abcdefghij Abcdefghij Abcdefghij Abcdefg: 40 bytes", 40},
        {"Reece,: trailing comma", 0},
        {"Hello, world: prose", 0},
        {"Time 10:30 is not a label", 0},
        {": no name", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t at = 0;
        const size_t n = label(cases[i].line, NULL, &at);
        cr_expect_eq(n, cases[i].name, "'%s': name length %zu, expected %zu", cases[i].line, n, cases[i].name);
        if (n)
            cr_expect(cases[i].line[at - 1] == ':', "'%s': text must start after the colon", cases[i].line);
    }
}

Test(labels, headings_are_text)
{
    rs_headings_t h;
    cr_assert_eq(rs_headings_init_default(&h), RS_OK);
    size_t at;
    cr_expect_eq(label("Note: this is not a speaker", &h, &at), 0);
    cr_expect_eq(label("NOTES: neither", &h, &at), 0);
    cr_expect_eq(label("Show Notes: neither", &h, &at), 0);
    cr_expect_eq(label("Break: neither", &h, &at), 0);
    cr_expect_eq(label("Note: but without the list it is", NULL, &at), 4);
    cr_expect_eq(label("Notary: a speaker", &h, &at), 6);
    cr_expect(rs_headings_has(&h, (const uint8_t *)"links", 5));
    cr_expect(!rs_headings_has(&h, (const uint8_t *)"Alice", 5));
    rs_headings_free(&h);
}

Test(labels, headings_list_matches_docs)
{
    FILE *f = fopen(RS_SOURCE_DIR "/docs/labels.md", "r");
    cr_assert(f, "docs/labels.md not found");
    char line[8192];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "Headings: ", 10) != 0)
            continue;
        found = 1;
        line[strcspn(line, "\n")] = '\0';
        size_t n = 0;
        const char *const *list = rs_headings_default_list();
        for (char *tok = strtok(line + 10, ","); tok; tok = strtok(NULL, ","), n++) {
            while (*tok == ' ')
                tok++;
            cr_assert(list[n], "docs list longer than the code's at '%s'", tok);
            cr_expect_str_eq(tok, list[n]);
        }
        cr_expect_null(list[n], "code list longer than the docs' (%zu in docs)", n);
    }
    fclose(f);
    cr_assert(found, "no 'Headings:' line in docs/labels.md");
}

Test(labels, timestamps)
{
    static const struct {
        const char *s;
        size_t len;
    } cases[] = {
        {"[01:46] x", 7},      {"\\[01:46\\] x", 9},     {"[01:02:03]", 10},   {"(01:02:03)", 10},
        {"[1:46]", 6},         {"[00:02:59.11]", 13},    {"[00:02:59,110]", 14}, {"01:02:03 x", 8},
        {"00:02:59.11 x", 11}, {"10:30 x", 0},           {"[1:2]", 0},         {"[01:46", 0},
        {"(01:46]", 0},        {"\\[01:46] x", 0},       {"[001:46]", 0},      {"01:02:034", 0},
        {"1:02:03:04", 0},     {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const size_t n = rs_timestamp_len((const uint8_t *)cases[i].s, strlen(cases[i].s));
        cr_expect_eq(n, cases[i].len, "'%s': %zu, expected %zu", cases[i].s, n, cases[i].len);
    }
    char text[] = "at 10:30 we met [01:46] and 00:02:59.11 then \\[12:40\\] and (1:02:03).";
    const size_t n = rs_timestamps_blank((uint8_t *)text, strlen(text));
    cr_expect_eq(n, 4);
    cr_expect_str_eq(text, "at 10:30 we met         and             then           and          .");
}
