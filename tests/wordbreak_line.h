/*
 * wordbreak_line.h - one line of WordBreakTest.txt as UTF-8 text, for the
 * tests that compare kernels on it (tests/unit/test_simd.c,
 * tests/unit/test_opencl.c and the Criterion-free tests/cross/neon_check.c). The includer defines
 * _POSIX_C_SOURCE (strtok_r) before its first system header.
 */
#ifndef RS_TESTS_WORDBREAK_LINE_H
#define RS_TESTS_WORDBREAK_LINE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unicode.h" /* rs_utf8_encode */

/* The code points of line (modified: its comment cut, split on blanks),
 * without the break marks, encoded into text; stops at the first invalid
 * code point or before passing max bytes. Returns the length (0: none). */
static inline size_t rs_wordbreak_line(char *line, uint8_t *text, size_t max)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    size_t len = 0;
    char *save = NULL;
    for (char *w = strtok_r(line, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
        if (strcmp(w, "\xC3\xB7") == 0 || strcmp(w, "\xC3\x97") == 0)
            continue;
        const unsigned long cp = strtoul(w, NULL, 16);
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || len + 4 > max)
            break;
        len += rs_utf8_encode((uint32_t)cp, text + len);
    }
    return len;
}

#endif
