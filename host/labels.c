/*
 * labels.c - speaker label rule, non-speaker headings and timestamps (see
 * labels.h). Pure functions over byte ranges, plus a read-only set.
 */
#include "labels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"    /* rs_hash64 */
#include "unicode.h" /* rs_utf8_decode, rs_unicode_fold, rs_unicode_props */

/* Headings that look like labels but name no speaker. Keep this the one
 * list; docs/labels.md prints it. */
static const char *const rs_default_headings[] = {
    "Note", "Notes", "Slides", "Video", "Audio", "Transcript", "Transcription",
    "Source", "Sources", "Link", "Links", "Update", "Updated", "Edit", "Edited",
    "Date", "Time", "Title", "Tags", "Tag", "Location", "Speakers", "Topic",
    "Topics", "Agenda", "Summary", "Example", "Examples", "Warning",
    "Disclaimer", "Chapter", "Chapters", "Reference", "References", "Break",
    "Intro", "Outro", "Jingle", "Music", "Song", "Sample", "Sponsor",
    "Sponsors", "Ad", "Advertisement", "Episode", "Show Notes", "Guest",
    "Guests", "Host", "Hosts", "Description", "Keywords", "Category",
    "Categories", "Author", "Authors", "URL", "Email", "Website", "Subject",
    "Caption", "Captions", "Credits", "Copyright", "License", "Status",
    "Abstract", "Contents", "Appendix", "Table", "Figure", "Footnote", "Tip",
    "Important", "Caution", "Info", "Question", "Answer", "Q&A", "Photo",
    "Image", "Transcribed by", "Recorded", "Published", "Duration",
    NULL,
};

const char *const *rs_headings_default_list(void)
{
    return rs_default_headings;
}

static void rs_ascii_lower(uint8_t *dst, const uint8_t *src, size_t len)
{
    for (size_t i = 0; i < len; i++)
        dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (uint8_t)(src[i] + 32) : src[i];
}

rs_err_e rs_headings_add(rs_headings_t *h, const char *name, size_t len)
{
    uint8_t buf[256];
    if (len == 0 || len > sizeof buf)
        return RS_OK; /* longer than any label: can never match */
    rs_ascii_lower(buf, (const uint8_t *)name, len);
    if (rs_dict_put(&h->set, buf, len, rs_hash64(buf, len), NULL) < 0)
        return RS_ERR_NOMEM;
    return RS_OK;
}

rs_err_e rs_headings_init_default(rs_headings_t *h)
{
    rs_dict_init(&h->set, 1);
    for (const char *const *p = rs_default_headings; *p; p++)
        RS_FORWARD(rs_headings_add(h, *p, strlen(*p)));
    return RS_OK;
}

rs_err_e rs_headings_load(rs_headings_t *h, const char *path, rs_error_t *err)
{
    FILE *f = fopen(path, "rb");
    RS_RETURN_IF(!f, err, RS_ERR_IO, "%s: cannot open the headings list", path);
    rs_headings_free(h);
    rs_dict_init(&h->set, 1);
    char line[512];
    rs_err_e e = RS_OK;
    while (e == RS_OK && fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\r\n");
        size_t b = 0;
        while (b < n && (line[b] == ' ' || line[b] == '\t'))
            b++;
        while (n > b && (line[n - 1] == ' ' || line[n - 1] == '\t'))
            n--;
        if (n > b && line[b] != '#')
            e = rs_headings_add(h, line + b, n - b);
    }
    if (ferror(f) && e == RS_OK)
        e = rs_error_set(err, RS_ERR_IO, "%s: read error", path);
    fclose(f);
    return e;
}

int rs_headings_has(const rs_headings_t *h, const uint8_t *name, size_t len)
{
    uint8_t buf[256];
    if (len == 0 || len > sizeof buf)
        return 0;
    rs_ascii_lower(buf, name, len);
    return rs_dict_get(&h->set, buf, len, rs_hash64(buf, len)) >= 0;
}

void rs_headings_free(rs_headings_t *h)
{
    rs_dict_free(&h->set);
}

/* --- the label rule -------------------------------------------------- */

static int rs_unicode_is_word(uint32_t cp)
{
    return (rs_unicode_props(cp) & RS_UP_WORD) != 0;
}

static int rs_is_digit(uint32_t cp)
{
    return cp >= '0' && cp <= '9';
}

/* A word may start with an upper-case letter (one that case-folds to
 * another code point) or an ASCII digit. */
static int rs_label_word_start(uint32_t cp)
{
    if (rs_is_digit(cp))
        return 1;
    return cp != 0xFFFD && rs_unicode_is_word(cp) && rs_unicode_fold(cp) != cp;
}

static int rs_label_word_char(uint32_t cp)
{
    if (cp == '.' || cp == '\'' || cp == 0x2019 || cp == '-' || cp == '_')
        return 1;
    return cp != 0xFFFD && rs_unicode_is_word(cp);
}

size_t rs_label_name(const uint8_t *s, size_t len)
{
    if (len > RS_LABEL_MAX_BYTES + 1)
        len = RS_LABEL_MAX_BYTES + 1;
    size_t pos = 0, end = 0;
    for (int words = 0; words < RS_LABEL_MAX_WORDS; words++) {
        uint32_t cp;
        if (pos >= len)
            break;
        size_t n = rs_utf8_decode(s, len, pos, &cp);
        if (!rs_label_word_start(cp))
            break;
        pos += n;
        while (pos < len) {
            n = rs_utf8_decode(s, len, pos, &cp);
            if (!rs_label_word_char(cp))
                break;
            pos += n;
        }
        end = pos;
        /* another word follows after one space, or after ", " */
        size_t next = pos;
        if (next < len && s[next] == ',')
            next++;
        if (next + 1 < len && s[next] == ' ' && s[next + 1] != ' ') {
            uint32_t c2;
            rs_utf8_decode(s, len, next + 1, &c2);
            if (rs_label_word_start(c2)) {
                pos = next + 1;
                continue;
            }
        }
        break;
    }
    return end <= RS_LABEL_MAX_BYTES ? end : 0;
}

size_t rs_label_match(const uint8_t *s, size_t len, const rs_headings_t *h, size_t *text_at)
{
    const size_t name = rs_label_name(s, len);
    if (name == 0)
        return 0;
    size_t p = name;
    if (p + 1 < len && s[p] == ' ' && s[p + 1] != ':') {
        const size_t t = rs_timestamp_len(s + p + 1, len - p - 1);
        if (t == 0 || (s[p + 1] != '(' && s[p + 1] != '['))
            return 0;
        p += 1 + t;
    }
    if (p >= len || s[p] != ':')
        return 0;
    p++;
    if (p < len && s[p] != ' ' && s[p] != '\t' && s[p] != '\r')
        return 0;
    if (h && rs_headings_has(h, s, name))
        return 0;
    if (text_at)
        *text_at = p;
    return name;
}

/* --- timestamps ------------------------------------------------------ */

static size_t rs_digits(const uint8_t *s, size_t len, size_t pos, size_t min, size_t max)
{
    size_t n = 0;
    while (pos + n < len && n < max && s[pos + n] >= '0' && s[pos + n] <= '9')
        n++;
    return n >= min ? n : 0;
}

/* h:mm, hh:mm:ss, with an optional fraction; returns its length and the
 * number of colons in *colons. */
static size_t rs_clock_len(const uint8_t *s, size_t len, size_t pos, int *colons)
{
    size_t p = pos, d = rs_digits(s, len, p, 1, 2);
    if (!d)
        return 0;
    p += d;
    *colons = 0;
    for (int i = 0; i < 2; i++) {
        if (p < len && s[p] == ':' && rs_digits(s, len, p + 1, 2, 2) == 2
            && !(p + 3 < len && s[p + 3] >= '0' && s[p + 3] <= '9')) {
            p += 3;
            (*colons)++;
        } else {
            break;
        }
    }
    if (*colons == 0)
        return 0;
    if (p + 1 < len && (s[p] == '.' || s[p] == ',')) {
        const size_t f = rs_digits(s, len, p + 1, 1, 3);
        if (f && !(p + 1 + f < len && s[p + 1 + f] >= '0' && s[p + 1 + f] <= '9'))
            p += 1 + f;
    }
    return p - pos;
}

size_t rs_timestamp_len(const uint8_t *s, size_t len)
{
    int colons = 0;
    if (len == 0)
        return 0;
    size_t p = 0;
    uint8_t close;
    int escaped = 0;
    if (s[0] == '\\' && len > 1 && s[1] == '[') {
        escaped = 1;
        p = 2;
        close = ']';
    } else if (s[0] == '[') {
        p = 1;
        close = ']';
    } else if (s[0] == '(') {
        p = 1;
        close = ')';
    } else {
        const size_t c = rs_clock_len(s, len, 0, &colons);
        if (c && colons == 2 && !(c < len && ((s[c] >= '0' && s[c] <= '9') || s[c] == ':')))
            return c;
        return 0;
    }
    const size_t c = rs_clock_len(s, len, p, &colons);
    if (!c)
        return 0;
    p += c;
    if (escaped) {
        if (p + 1 < len && s[p] == '\\' && s[p + 1] == ']')
            return p + 2;
        return 0;
    }
    if (p < len && s[p] == close)
        return p + 1;
    return 0;
}

size_t rs_timestamps_blank(uint8_t *s, size_t len)
{
    size_t count = 0, from = 0;
    while (from < len) {
        const uint8_t *colon = memchr(s + from, ':', len - from);
        if (!colon)
            break;
        const size_t c = (size_t)(colon - s);
        size_t found = 0, at = 0;
        const size_t lo = c >= 12 ? c - 12 : 0;
        for (size_t st = lo < from ? from : lo; st < c && !found; st++) {
            const uint8_t b = s[st];
            if (b != '[' && b != '(' && b != '\\' && !(b >= '0' && b <= '9'))
                continue;
            /* a bare clock starts at the first digit of its run */
            if (b >= '0' && b <= '9' && st > 0
                && ((s[st - 1] >= '0' && s[st - 1] <= '9') || s[st - 1] == ':' || s[st - 1] == '.'))
                continue;
            const size_t t = rs_timestamp_len(s + st, len - st);
            if (t && st + t > c) {
                found = t;
                at = st;
            }
        }
        if (found) {
            memset(s + at, ' ', found);
            count++;
            from = at + found;
        } else {
            from = c + 1;
        }
    }
    return count;
}
