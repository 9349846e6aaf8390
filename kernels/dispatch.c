/*
 * dispatch.c - the kernel tables compiled into this build, CPU feature
 * detection, and run-time selection of a table.
 *
 * Feature detection asks cpuid, and xgetbv for the OS's saving of the wide
 * registers, each time it is called; callers keep the answer (it is cheap,
 * and keeping no mutable global keeps the kernels free of hidden state).
 * rs_safe_cut lives here because every backend relies on the same cuts.
 * The one piece of mutable state is the hook for backends outside kernels/
 * (OpenCL, registered by host/): an atomic pointer, set once at start-up.
 */
#include "kernels.h"
#include "unicode.h" /* rs_scalar_tokenize */

#include <stdatomic.h>
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

/* The SIMD tables (tokenize_<isa>.c); cmake/kernels.cmake defines
 * RS_HAVE_<ISA> for those compiled with their instruction set. */
#if defined(RS_HAVE_AVX512)
extern const rs_kernels_t rs_kernels_avx512;
#endif
#if defined(RS_HAVE_AVX2)
extern const rs_kernels_t rs_kernels_avx2;
#endif
#if defined(RS_HAVE_SSE42)
extern const rs_kernels_t rs_kernels_sse42;
#endif
#if defined(RS_HAVE_NEON)
extern const rs_kernels_t rs_kernels_neon;
#endif

/* Best first, the scalar reference last. */
static const rs_kernels_t *const rs_all_tables[] = {
#if defined(RS_HAVE_AVX512)
    &rs_kernels_avx512,
#endif
#if defined(RS_HAVE_AVX2)
    &rs_kernels_avx2,
#endif
#if defined(RS_HAVE_SSE42)
    &rs_kernels_sse42,
#endif
#if defined(RS_HAVE_NEON)
    &rs_kernels_neon,
#endif
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
    /* The SSE4.2 kernel also uses POPCNT, which every SSE4.2 CPU has. */
    if ((c & bit_SSE4_2) && (c & bit_POPCNT))
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
        /* The AVX2 and AVX-512 kernels also use BMI1, BMI2, POPCNT and
         * LZCNT, which every CPU with AVX2 has; a (virtual) CPU hiding them
         * gets SSE4.2. */
        unsigned xa = 0, xb = 0, xc = 0, xd = 0;
        const int lzcnt = __get_cpuid(0x80000001u, &xa, &xb, &xc, &xd) && (xc & bit_LZCNT);
        const int bmi = (b & bit_BMI) && (b & bit_BMI2) && (f & RS_CPU_SSE42) && lzcnt;
        if (ymm_ok && bmi && (b & bit_AVX2))
            f |= RS_CPU_AVX2;
        if (zmm_ok && bmi && (b & bit_AVX512BW) && (b & bit_AVX512F))
            f |= RS_CPU_AVX512BW;
    }
#elif defined(__aarch64__)
    f |= RS_CPU_NEON;
#endif
    return f;
}

static _Atomic(rs_kernels_hook_fn) rs_hook;

void rs_kernels_set_hook(rs_kernels_hook_fn fn)
{
    atomic_store(&rs_hook, fn);
}

const rs_kernels_t *rs_kernels_select(const char *name)
{
    const uint32_t have = rs_cpu_features();
    const int any = name == NULL || strcmp(name, "auto") == 0;
    for (const rs_kernels_t *const *k = rs_all_tables; *k; k++) {
        if (!any && strcmp(name, (*k)->name) == 0)
            return (have & (*k)->required) == (*k)->required ? *k : NULL;
        if (any && (have & (*k)->required) == (*k)->required)
            return *k;
    }
    const rs_kernels_hook_fn hook = any ? NULL : atomic_load(&rs_hook);
    return hook ? hook(name) : NULL;
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
