/*
 * icu_words.c - an independent word count with ICU's word break iterator
 * (ICU's UAX #29 implementation), for checking rostrum and as a benchmark
 * peer.
 *
 *   icu_words FILE...        prints "tokens<TAB>bytes<TAB>seconds" for all
 *                            FILEs: segments whose rule status is not
 *                            UBRK_WORD_NONE count as words
 *   icu_words --records      reads NUL-separated pairs "name\0text\0" from
 *                            stdin and prints "name<TAB>records<TAB>tokens"
 *                            per name, sorted by name
 *
 * Single-threaded; ICU converts each text to UTF-16 first (counted in the
 * time, as any ICU user pays it).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unicode/ubrk.h>
#include <unicode/ustring.h>

static UBreakIterator *bi;

static unsigned long long count_words(const char *text, size_t len)
{
    UErrorCode st = U_ZERO_ERROR;
    int32_t ulen = 0;
    u_strFromUTF8WithSub(NULL, 0, &ulen, text, (int32_t)len, 0xFFFD, NULL, &st);
    st = U_ZERO_ERROR;
    UChar *u = malloc(((size_t)ulen + 1) * sizeof *u);
    if (!u)
        exit(3);
    u_strFromUTF8WithSub(u, ulen + 1, NULL, text, (int32_t)len, 0xFFFD, NULL, &st);
    if (U_FAILURE(st)) {
        fprintf(stderr, "icu_words: conversion failed: %s\n", u_errorName(st));
        exit(3);
    }
    ubrk_setText(bi, u, ulen, &st);
    unsigned long long n = 0;
    for (int32_t b = ubrk_next(bi); b != UBRK_DONE; b = ubrk_next(bi))
        if (ubrk_getRuleStatus(bi) != UBRK_WORD_NONE)
            n++;
    free(u);
    return n;
}

static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 1 << 20, n = 0;
    char *b = malloc(cap);
    for (size_t r; b && (r = fread(b + n, 1, cap - n, f)) > 0;) {
        n += r;
        if (n == cap)
            b = realloc(b, cap *= 2);
    }
    *len = n;
    return b;
}

typedef struct {
    char *name;
    unsigned long long records, tokens;
} agg_t;

static int cmp_agg(const void *a, const void *b)
{
    return strcmp(((const agg_t *)a)->name, ((const agg_t *)b)->name);
}

int main(int argc, char **argv)
{
    UErrorCode st = U_ZERO_ERROR;
    bi = ubrk_open(UBRK_WORD, "en", NULL, 0, &st);
    if (U_FAILURE(st)) {
        fprintf(stderr, "icu_words: ubrk_open: %s\n", u_errorName(st));
        return 3;
    }
    if (argc == 2 && strcmp(argv[1], "--records") == 0) {
        size_t len;
        char *all = read_all(stdin, &len);
        agg_t *v = NULL;
        size_t n = 0;
        for (size_t p = 0; p < len;) {
            const char *name = all + p;
            p += strlen(name) + 1;
            if (p > len)
                break;
            const char *text = all + p;
            const size_t tl = strlen(text);
            p += tl + 1;
            size_t i = 0;
            while (i < n && strcmp(v[i].name, name) != 0)
                i++;
            if (i == n) {
                v = realloc(v, (n + 1) * sizeof *v);
                v[n++] = (agg_t){strdup(name), 0, 0};
            }
            v[i].records++;
            v[i].tokens += count_words(text, tl);
        }
        qsort(v, n, sizeof *v, cmp_agg);
        for (size_t i = 0; i < n; i++) {
            printf("%s\t%llu\t%llu\n", v[i].name, v[i].records, v[i].tokens);
            free(v[i].name);
        }
        free(v);
        free(all);
        ubrk_close(bi);
        return 0;
    }
    unsigned long long tokens = 0, bytes = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 2;
        }
        size_t len;
        char *b = read_all(f, &len);
        fclose(f);
        tokens += count_words(b, len);
        bytes += len;
        free(b);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%llu\t%llu\t%.3f\n", tokens, bytes, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9);
    ubrk_close(bi);
    return 0;
}
