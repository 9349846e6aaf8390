/*
 * doc.c - ownership helpers for rs_doc_t and the format names.
 */
#include "doc.h"

#include <stdlib.h>
#include <string.h>

static const char *const rs_format_names[RS_FORMAT_COUNT_] = {
    [RS_FORMAT_AUTO] = "auto",         [RS_FORMAT_PLAIN] = "plain",
    [RS_FORMAT_CAPTION] = "caption",   [RS_FORMAT_LABELED] = "labeled",
    [RS_FORMAT_MARKDOWN] = "markdown", [RS_FORMAT_SRT] = "srt",
    [RS_FORMAT_VTT] = "vtt",           [RS_FORMAT_JSONL] = "jsonl",
    [RS_FORMAT_WHISPER] = "whisper",
};

const char *rs_format_name(rs_format_e f)
{
    return (unsigned)f < RS_FORMAT_COUNT_ ? rs_format_names[f] : "unknown";
}

int rs_format_parse(const char *s)
{
    for (int i = 0; i < RS_FORMAT_COUNT_; i++)
        if (strcmp(s, rs_format_names[i]) == 0)
            return i;
    return -1;
}

int64_t rs_strlist_push(rs_strlist_t *l, const char *s, size_t len)
{
    if (l->n == l->cap) {
        const size_t cap = l->cap ? l->cap * 2 : 8;
        char **p = realloc(l->s, cap * sizeof *p);
        if (!p)
            return -1;
        l->s = p;
        l->cap = cap;
    }
    char *c = malloc(len + 1);
    if (!c)
        return -1;
    memcpy(c, s, len);
    c[len] = '\0';
    l->s[l->n] = c;
    return (int64_t)l->n++;
}

void rs_strlist_free(rs_strlist_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->s[i]);
    free(l->s);
    memset(l, 0, sizeof *l);
}

void rs_doc_free(rs_doc_t *d)
{
    free(d->path);
    free(d->text);
    free(d->seg);
    rs_strlist_free(&d->speakers);
    free(d->meta.title);
    free(d->meta.date);
    rs_strlist_free(&d->meta.speakers);
    rs_strlist_free(&d->meta.tags);
    free(d->warning);
    memset(d, 0, sizeof *d);
}
