/*
 * dispatch.c - the kernel tables compiled into this build, CPU feature
 * detection, and run-time selection of a table.
 *
 * Feature detection asks cpuid, and xgetbv for the OS's saving of the wide
 * registers, each time it is called; callers keep the answer (it is cheap,
 * and keeping no mutable global keeps the kernels free of hidden state).
 * rs_safe_cut lives here because every backend relies on the same cuts.
 */
#include "kernels.h"
#include "unicode.h" /* rs_scalar_tokenize */

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

const rs_kernels_t rs_kernels_scalar = {
    .name = "scalar",
    .description = "portable scalar reference (the specification)",
    .required = 0,
    .tokenize = rs_scalar_tokenize,
};

static const rs_kernels_t *const rs_all_tables[] = {
    &rs_kernels_scalar,
    NULL,
};

const rs_kernels_t *const *rs_kernels_all(void)
{
    return rs_all_tables;
}

uint32_t rs_cpu_features(void)
{
    uint32_t f = 0;
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    if (c & bit_SSE4_2)
        f |= RS_CPU_SSE42;
    const int osxsave = (c & bit_OSXSAVE) != 0;
    unsigned long long xcr0 = 0;
    if (osxsave) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = ((unsigned long long)hi << 32) | lo;
    }
    const int ymm_ok = (xcr0 & 0x6) == 0x6;
    const int zmm_ok = (xcr0 & 0xE6) == 0xE6;
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        if (ymm_ok && (b & bit_AVX2))
            f |= RS_CPU_AVX2;
        if (zmm_ok && (b & bit_AVX512BW) && (b & bit_AVX512F))
            f |= RS_CPU_AVX512BW;
    }
#elif defined(__aarch64__)
    f |= RS_CPU_NEON;
#endif
    return f;
}

const rs_kernels_t *rs_kernels_select(const char *name)
{
    const uint32_t have = rs_cpu_features();
    const int any = name == NULL || strcmp(name, "auto") == 0;
    for (const rs_kernels_t *const *k = rs_all_tables; *k; k++) {
        if ((have & (*k)->required) != (*k)->required)
            continue;
        if (any || strcmp(name, (*k)->name) == 0)
            return *k;
    }
    return NULL;
}

size_t rs_safe_cut(const uint8_t *text, size_t len)
{
    for (size_t p = len; p-- > 1;) {
        const uint8_t prev = text[p - 1], next = text[p];
        if ((prev == ' ' || prev == '\t' || prev == '\n') && next < 0x80 && next != ' ')
            return p;
    }
    return 0;
}
