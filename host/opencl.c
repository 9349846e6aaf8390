/*
 * opencl.c - the OpenCL backend (opencl.h): discovery, per-device builds of
 * the embedded kernels with an on-disk binary cache, and rs_opencl_tokenize,
 * exact against rs_scalar_tokenize.
 *
 * DESIGN
 *   One pass = one window of at most h->window bytes of text, on one lane
 *   (an in-order queue with its own kernels and buffers): write the text,
 *   run rs_tok_chunks (one work-item per sub-chunk of
 *   h->sub bytes), rs_tok_scan (one work-group) and rs_tok_compact, read the
 *   totals (blocking), check them against the contract's bounds and the
 *   caller's capacity, then read the tokens and folded bytes straight into
 *   out (rs_tok_compact already wrote each token's final off, so nothing is
 *   touched on the host). Texts longer than a window are cut at rs_safe_cut
 *   points; a stretch of more than a window without one runs on the CPU.
 *   Threads: lanes are handed out under h->mu; a call holds its lane until
 *   it returns. h->failed is atomic: once set, calls go straight to the
 *   CPU. Warnings and counters are kept under h->mu.
 *   Counting (rs_opencl_count_spans) runs the same windows, with the term
 *   numbering and the count kernels after the tokenize kernels; each pass's
 *   records come back (rs_cl_count_finish), are checked, sorted by first
 *   token and appended to the caller's rs_counts_t in pass order. With
 *   lexicons, each lane holds them packed (rs_cl_lex_pack, uploaded again
 *   only when the matcher changes), rs_match_find runs after the count
 *   kernels, and the patterns it finds are sorted into the matcher's walk
 *   order (rs_cl_match_read); such a batch's passes end at span ends.
 *   Ownership: a handle owns its context, program, table buffers and lanes;
 *   the slots behind rs_kernels_select own their handles until
 *   rs_opencl_shutdown. Library code: nothing is printed, nothing aborts.
 */
#include "opencl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>

/* 1 when the ICD file at path names a library other than POCL's. */
static int rs_cl_icd_not_pocl(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char lib[512];
    const int got = fgets(lib, sizeof lib, f) != NULL;
    fclose(f);
    return got && strstr(lib, "pocl") == NULL;
}

int rs_opencl_may_have_gpu(void)
{
    const char *env = getenv("OCL_ICD_VENDORS");
    const char *dir = env && *env ? env : "/etc/OpenCL/vendors";
    DIR *d = opendir(dir);
    if (!d) /* OCL_ICD_VENDORS may name one ICD file */
        return env && *env ? rs_cl_icd_not_pocl(env) : 0;
    int found = 0;
    for (struct dirent *e; !found && (e = readdir(d)) != NULL;) {
        const size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".icd") != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        found = rs_cl_icd_not_pocl(path);
    }
    closedir(d);
    return found;
}

#ifdef RS_OPENCL

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <hwloc.h>
#include <hwloc/opencl.h> /* hwloc_opencl_get_device_cpuset */

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"    /* rs_hash64: cache keys */
#include "matcher.h" /* rs_matcher_t: lexicons matched on the device */
#include "unicode.h" /* the tables uploaded to the device */

/* The kernel source, embedded at build time (cmake/opencl.cmake). */
extern const char rs_opencl_source[];

/* rs_tok_compact writes rs_cl_token, which must be rs_token_t. */
_Static_assert(sizeof(rs_token_t) == 16, "rs_token_t layout");
_Static_assert(offsetof(rs_token_t, len) == 4 && offsetof(rs_token_t, hash) == 8, "rs_token_t layout");
/* tokenize.cl keeps flags above bit 30 of a sub-chunk's first byte */
_Static_assert(RS_OPENCL_WINDOW < (1u << 30), "window too large for tokenize.cl");

#define RS_CL_LANES 2
#define RS_CL_MIN_CAP (64u << 10)
#define RS_CL_STD_OPTIONS "-cl-std=CL1.2"
#define RS_CL_CACHE_MAGIC "rostrum-clbin-1\n"
/* rs_cl_pass: not an OpenCL error, the device's results broke a bound */
#define RS_CL_BROKEN 1
/* totals.w: the flags of tokenize.cl */
#define RS_CL_FLAG_FAULT 0x40000000u

typedef struct rs_lane {
    cl_command_queue q;
    cl_kernel kchunks, kscan, kcompact;
    cl_kernel kinsert, knumber, kresolve; /* tokenize_terms.cl */
    cl_kernel kcspan, kcinsert, kcsum, kccollect, kcclear; /* tokenize_terms_count.cl */
    cl_kernel kmatch;                                      /* tokenize_terms_match.cl */
    cl_mem text, tok, fold, info, prefix, totals, otok, ofold, src, osrc;
    cl_mem slots, term, tstate; /* the term table (all zeros between passes), numbers, {count, flags} */
    /* counting on the device (tokenize_terms_count.cl), for a handle that counts */
    cl_mem ctc, cdset, cpset, ctspan, cdclaim, cpslot, crec_a, crec_b, cpair, cfold, cstate;
    cl_mem cstart, cdoc, csdata; /* the spans of a pass */
    size_t cspan_cap;            /* spans those three have room for */
    uint32_t *hspan;             /* host side: a pass's span starts, then their documents */
    size_t hspan_cap;
    uint32_t *hres;              /* a pass's records read back: term a, term b, pairs, span data */
    size_t hres_cap;
    uint64_t *hsort;             /* (first token << 32 | record) for sorting */
    size_t hsort_cap;
    uint32_t *hmap;              /* a pass's term numbers -> the batch's term records */
    size_t hmap_cap;
    /* lexicon matching (tokenize_terms_match.cl) */
    cl_mem mlex[2];     /* the lexicons as rs_cl_lex_pack lays them out */
    uint64_t mserial[2]; /* of the matchers they were packed from (rs_matcher_t.serial) */
    int mon[2];         /* matched in this batch */
    cl_mem mcand;       /* the candidates of a pass */
    size_t mcand_cap;   /* entries mcand has room for */
    uint32_t *hcand;    /* host side: the candidates read back */
    size_t hcand_cap;
    uint32_t *hcnt;     /* their counting sort's buckets */
    size_t hcnt_cap;
    size_t cap;   /* bytes of text the buffers are sized for; 0: none yet */
    cl_uint mask; /* term table slots - 1 */
    int busy;
    /* host side of batched calls (rs_opencl_tokenize_spans) */
    uint8_t *join;  /* the spans, each followed by a '\n' */
    size_t join_cap;
    uint32_t *hsrc; /* each token's first byte in its window */
    size_t hsrc_cap;
} rs_lane_t;

struct rs_opencl {
    rs_opencl_devinfo_t info;
    cl_platform_id plat;
    cl_device_id dev;
    cl_context ctx;
    cl_program prog;
    cl_mem tp1, tp2, tf1, tf2;
    rs_lane_t lane[RS_CL_LANES];
    unsigned nlanes;    /* lanes in use: 1 in hybrid mode, so that one caller
                         * feeds the device while the others stay on the CPU */
    uint32_t sub;       /* text bytes per work-item */
    size_t chunk_local; /* work-group size of rs_tok_chunks and rs_tok_compact */
    size_t scan_local;  /* work-group size of rs_tok_scan */
    size_t window;      /* most text bytes per pass */
    int hybrid, fault;
    int terms;          /* number the terms of batches that ask (rs_opencl_opts_t.terms) */
    int count;          /* count batches on the device (rs_opencl_opts_t.count); implies terms */
    int match;          /* and match their lexicons there (rs_opencl_opts_t.match) */
    size_t min_bytes;   /* shorter texts run on the CPU */
    atomic_int failed;
    rs_tokenize_fn cpu; /* where pieces go when the device cannot take them */
    hwloc_bitmap_t near; /* the PUs near the device when they are not all of them, else NULL */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rs_strlist_t warnings;    /* under mu */
    rs_opencl_counts_t counts; /* under mu */
};

static const char *rs_cl_errstr(cl_int e)
{
    switch (e) {
#define RS_CL_E(x)                                                                                 \
    case x:                                                                                        \
        return #x
        RS_CL_E(CL_SUCCESS);
        RS_CL_E(CL_DEVICE_NOT_FOUND);
        RS_CL_E(CL_DEVICE_NOT_AVAILABLE);
        RS_CL_E(CL_COMPILER_NOT_AVAILABLE);
        RS_CL_E(CL_MEM_OBJECT_ALLOCATION_FAILURE);
        RS_CL_E(CL_OUT_OF_RESOURCES);
        RS_CL_E(CL_OUT_OF_HOST_MEMORY);
        RS_CL_E(CL_PROFILING_INFO_NOT_AVAILABLE);
        RS_CL_E(CL_MEM_COPY_OVERLAP);
        RS_CL_E(CL_IMAGE_FORMAT_MISMATCH);
        RS_CL_E(CL_IMAGE_FORMAT_NOT_SUPPORTED);
        RS_CL_E(CL_BUILD_PROGRAM_FAILURE);
        RS_CL_E(CL_MAP_FAILURE);
        RS_CL_E(CL_MISALIGNED_SUB_BUFFER_OFFSET);
        RS_CL_E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST);
        RS_CL_E(CL_COMPILE_PROGRAM_FAILURE);
        RS_CL_E(CL_LINKER_NOT_AVAILABLE);
        RS_CL_E(CL_LINK_PROGRAM_FAILURE);
        RS_CL_E(CL_DEVICE_PARTITION_FAILED);
        RS_CL_E(CL_KERNEL_ARG_INFO_NOT_AVAILABLE);
        RS_CL_E(CL_INVALID_VALUE);
        RS_CL_E(CL_INVALID_DEVICE_TYPE);
        RS_CL_E(CL_INVALID_PLATFORM);
        RS_CL_E(CL_INVALID_DEVICE);
        RS_CL_E(CL_INVALID_CONTEXT);
        RS_CL_E(CL_INVALID_QUEUE_PROPERTIES);
        RS_CL_E(CL_INVALID_COMMAND_QUEUE);
        RS_CL_E(CL_INVALID_HOST_PTR);
        RS_CL_E(CL_INVALID_MEM_OBJECT);
        RS_CL_E(CL_INVALID_BINARY);
        RS_CL_E(CL_INVALID_BUILD_OPTIONS);
        RS_CL_E(CL_INVALID_PROGRAM);
        RS_CL_E(CL_INVALID_PROGRAM_EXECUTABLE);
        RS_CL_E(CL_INVALID_KERNEL_NAME);
        RS_CL_E(CL_INVALID_KERNEL);
        RS_CL_E(CL_INVALID_ARG_INDEX);
        RS_CL_E(CL_INVALID_ARG_VALUE);
        RS_CL_E(CL_INVALID_ARG_SIZE);
        RS_CL_E(CL_INVALID_KERNEL_ARGS);
        RS_CL_E(CL_INVALID_WORK_DIMENSION);
        RS_CL_E(CL_INVALID_WORK_GROUP_SIZE);
        RS_CL_E(CL_INVALID_WORK_ITEM_SIZE);
        RS_CL_E(CL_INVALID_GLOBAL_OFFSET);
        RS_CL_E(CL_INVALID_EVENT_WAIT_LIST);
        RS_CL_E(CL_INVALID_EVENT);
        RS_CL_E(CL_INVALID_OPERATION);
        RS_CL_E(CL_INVALID_BUFFER_SIZE);
        RS_CL_E(CL_INVALID_GLOBAL_WORK_SIZE);
        RS_CL_E(CL_INVALID_PROPERTY);
#undef RS_CL_E
    case -1001:
        return "CL_PLATFORM_NOT_FOUND_KHR";
    default:
        return "unknown OpenCL error";
    }
}

/* ------------------------------------------------------------------ */
/* Discovery */

/* The platforms (*out, free()); 0 of them is not an error. */
static rs_err_e rs_cl_platforms(cl_platform_id **out, cl_uint *n, rs_error_t *err)
{
    *out = NULL;
    *n = 0;
    cl_uint np = 0;
    cl_int e = clGetPlatformIDs(0, NULL, &np);
    if (e == -1001 /* CL_PLATFORM_NOT_FOUND_KHR: an ICD loader with no platform */ || (e == CL_SUCCESS && np == 0))
        return RS_OK;
    RS_RETURN_IF(e != CL_SUCCESS, err, RS_ERR_DEVICE, "OpenCL: clGetPlatformIDs: %s (%d)", rs_cl_errstr(e), e);
    cl_platform_id *p = calloc(np, sizeof *p);
    RS_RETURN_IF(!p, err, RS_ERR_NOMEM, "out of memory");
    e = clGetPlatformIDs(np, p, NULL);
    if (e != CL_SUCCESS) {
        free(p);
        return rs_error_set(err, RS_ERR_DEVICE, "OpenCL: clGetPlatformIDs: %s (%d)", rs_cl_errstr(e), e);
    }
    *out = p;
    *n = np;
    return RS_OK;
}

/* The devices of platform p (*out, free()); 0 of them is not an error. */
static rs_err_e rs_cl_devices_of(cl_platform_id p, cl_device_id **out, cl_uint *n, rs_error_t *err)
{
    *out = NULL;
    *n = 0;
    cl_uint nd = 0;
    cl_int e = clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
    if (e == CL_DEVICE_NOT_FOUND || (e == CL_SUCCESS && nd == 0))
        return RS_OK;
    RS_RETURN_IF(e != CL_SUCCESS, err, RS_ERR_DEVICE, "OpenCL: clGetDeviceIDs: %s (%d)", rs_cl_errstr(e), e);
    cl_device_id *d = calloc(nd, sizeof *d);
    RS_RETURN_IF(!d, err, RS_ERR_NOMEM, "out of memory");
    e = clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, nd, d, NULL);
    if (e != CL_SUCCESS) {
        free(d);
        return rs_error_set(err, RS_ERR_DEVICE, "OpenCL: clGetDeviceIDs: %s (%d)", rs_cl_errstr(e), e);
    }
    *out = d;
    *n = nd;
    return RS_OK;
}

static void rs_cl_pstr(cl_platform_id p, cl_platform_info what, char *buf, size_t n)
{
    buf[0] = '\0';
    if (clGetPlatformInfo(p, what, n, buf, NULL) != CL_SUCCESS)
        snprintf(buf, n, "?");
    buf[n - 1] = '\0';
}

static void rs_cl_dstr(cl_device_id d, cl_device_info what, char *buf, size_t n)
{
    buf[0] = '\0';
    if (clGetDeviceInfo(d, what, n, buf, NULL) != CL_SUCCESS)
        snprintf(buf, n, "?");
    buf[n - 1] = '\0';
}

static uint64_t rs_cl_dulong(cl_device_id d, cl_device_info what)
{
    cl_ulong v = 0;
    return clGetDeviceInfo(d, what, sizeof v, &v, NULL) == CL_SUCCESS ? (uint64_t)v : 0;
}

/* The machine's topology, loaded once for the process and kept (the
 * handles' locality is read against it); NULL when hwloc cannot load it. */
static hwloc_topology_t rs_cl_topo;
static pthread_once_t rs_cl_topo_once = PTHREAD_ONCE_INIT;

static void rs_cl_topology_load(void)
{
    hwloc_topology_t t;
    if (hwloc_topology_init(&t) != 0)
        return;
    if (hwloc_topology_load(t) != 0) {
        hwloc_topology_destroy(t);
        return;
    }
    rs_cl_topo = t;
}

static hwloc_topology_t rs_cl_topology(void)
{
    pthread_once(&rs_cl_topo_once, rs_cl_topology_load);
    return rs_cl_topo;
}

/* The PUs near device d (hwloc's OpenCL helper: the PCI device's local
 * CPUs), written as a list into buf; returns them as a new bitmap when
 * they are fewer than the machine's, else NULL (a CPU device, a device
 * without PCI information, or a machine of one locality). */
static hwloc_bitmap_t rs_cl_near(cl_device_id d, char *buf, size_t n)
{
    snprintf(buf, n, "all PUs");
    hwloc_topology_t t = rs_cl_topology();
    hwloc_bitmap_t set = t ? hwloc_bitmap_alloc() : NULL;
    if (!set)
        return NULL;
    if (hwloc_opencl_get_device_cpuset(t, d, set) != 0 || hwloc_bitmap_iszero(set)
        || hwloc_bitmap_isincluded(hwloc_topology_get_topology_cpuset(t), set)) {
        hwloc_bitmap_free(set);
        return NULL;
    }
    char list[96];
    hwloc_bitmap_list_snprintf(list, sizeof list, set);
    snprintf(buf, n, "PUs %s", list);
    return set;
}

static void rs_cl_describe(cl_platform_id p, cl_device_id d, unsigned pi, unsigned di, rs_opencl_devinfo_t *info)
{
    memset(info, 0, sizeof *info);
    info->platform = pi;
    info->device = di;
    rs_cl_pstr(p, CL_PLATFORM_NAME, info->platform_name, sizeof info->platform_name);
    rs_cl_pstr(p, CL_PLATFORM_VERSION, info->platform_version, sizeof info->platform_version);
    rs_cl_dstr(d, CL_DEVICE_NAME, info->device_name, sizeof info->device_name);
    rs_cl_dstr(d, CL_DEVICE_VERSION, info->device_version, sizeof info->device_version);
    rs_cl_dstr(d, CL_DRIVER_VERSION, info->driver_version, sizeof info->driver_version);
    cl_device_type t = 0;
    clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof t, &t, NULL);
    info->type = (t & CL_DEVICE_TYPE_GPU)           ? "gpu"
                 : (t & CL_DEVICE_TYPE_CPU)         ? "cpu"
                 : (t & CL_DEVICE_TYPE_ACCELERATOR) ? "accelerator"
                                                    : "other";
    cl_uint cu = 0;
    clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
    info->compute_units = cu;
    info->global_mem_bytes = rs_cl_dulong(d, CL_DEVICE_GLOBAL_MEM_SIZE);
    info->max_alloc_bytes = rs_cl_dulong(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
    info->local_mem_bytes = rs_cl_dulong(d, CL_DEVICE_LOCAL_MEM_SIZE);
    info->built = -1;
    snprintf(info->status, sizeof info->status, "not built");
    hwloc_bitmap_t near = rs_cl_near(d, info->near, sizeof info->near);
    if (near)
        hwloc_bitmap_free(near);
}

/* ------------------------------------------------------------------ */
/* Warnings and faults */

/* Keeps a warning (dropped silently when out of memory: the result is
 * still exact, only the note is lost). Called with h->mu held. */
static void rs_cl_warn_locked(rs_opencl_t *h, const char *msg)
{
    rs_strlist_push(&h->warnings, msg, strlen(msg));
}

/* Marks h failed with a warning naming the device; the first fault only. */
static void rs_cl_fail(rs_opencl_t *h, const char *what, cl_int e)
{
    char msg[768];
    pthread_mutex_lock(&h->mu);
    if (!atomic_load(&h->failed)) {
        atomic_store(&h->failed, 1);
        if (e != CL_SUCCESS)
            snprintf(msg, sizeof msg,
                     "OpenCL device opencl:%u:%u (%s): %s failed: %s (%d); this piece and all later ones "
                     "run on the CPU",
                     h->info.platform, h->info.device, h->info.device_name, what, rs_cl_errstr(e), e);
        else
            snprintf(msg, sizeof msg,
                     "OpenCL device opencl:%u:%u (%s): %s; this piece and all later ones run on the CPU",
                     h->info.platform, h->info.device, h->info.device_name, what);
        rs_cl_warn_locked(h, msg);
        snprintf(h->info.status, sizeof h->info.status, "failed: %s%s%s", what, e != CL_SUCCESS ? ": " : "",
                 e != CL_SUCCESS ? rs_cl_errstr(e) : "");
    }
    pthread_mutex_unlock(&h->mu);
}

/* ------------------------------------------------------------------ */
/* Program build and binary cache */

static int rs_cl_mkdirs(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/* The cache directory into buf; 0 when there is none. */
static int rs_cl_cache_dir(const rs_opencl_opts_t *o, char *buf, size_t n)
{
    if (o && o->cache_dir)
        return o->cache_dir[0] && snprintf(buf, n, "%s", o->cache_dir) < (int)n;
    const char *x = getenv("XDG_CACHE_HOME");
    if (x && x[0] == '/')
        return snprintf(buf, n, "%s/rostrum", x) < (int)n;
    const char *home = getenv("HOME");
    if (home && home[0] == '/')
        return snprintf(buf, n, "%s/.cache/rostrum", home) < (int)n;
    return 0;
}

/* Reads a whole cache entry; NULL when absent or unreadable. */
static uint8_t *rs_cl_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1u << 16;
            uint8_t *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = b;
        }
        const size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    const int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Entry layout: magic, key length (8 decimal digits), key, binary. */
static int rs_cl_cache_load(const char *path, const char *key, uint8_t **bin, size_t *binlen, uint8_t **file)
{
    size_t n = 0;
    uint8_t *f = rs_cl_read_file(path, &n);
    if (!f)
        return 0;
    const size_t ml = strlen(RS_CL_CACHE_MAGIC), kl = strlen(key);
    char lenbuf[24];
    snprintf(lenbuf, sizeof lenbuf, "%08zu", kl);
    if (n <= ml + 8 + kl || memcmp(f, RS_CL_CACHE_MAGIC, ml) != 0 || memcmp(f + ml, lenbuf, 8) != 0
        || memcmp(f + ml + 8, key, kl) != 0) {
        free(f);
        return 0;
    }
    *file = f;
    *bin = f + ml + 8 + kl;
    *binlen = n - ml - 8 - kl;
    return 1;
}

/* Writes the entry to a temporary file and renames it into place, so that
 * readers never see half an entry. Returns 0 or -1. */
static int rs_cl_cache_store(const char *dir, const char *path, const char *key, const uint8_t *bin, size_t binlen)
{
    if (rs_cl_mkdirs(dir) != 0)
        return -1;
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid()) >= (int)sizeof tmp)
        return -1;
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return -1;
    const size_t kl = strlen(key);
    int ok = fprintf(f, "%s%08zu", RS_CL_CACHE_MAGIC, kl) > 0 && fwrite(key, 1, kl, f) == kl
             && fwrite(bin, 1, binlen, f) == binlen;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
}

/* The program's binary for h->dev (malloc'd); NULL when not available. */
static uint8_t *rs_cl_program_binary(cl_program prog, size_t *len)
{
    size_t sz = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof sz, &sz, NULL) != CL_SUCCESS || sz == 0)
        return NULL;
    uint8_t *bin = malloc(sz);
    if (!bin)
        return NULL;
    unsigned char *ptrs[1] = {bin};
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof ptrs, ptrs, NULL) != CL_SUCCESS) {
        free(bin);
        return NULL;
    }
    *len = sz;
    return bin;
}

/* Builds the program from the cache or the source. On failure h is marked
 * failed with the build log in its warning. */
static void rs_cl_build(rs_opencl_t *h, const rs_opencl_opts_t *o)
{
    char options[1024];
    snprintf(options, sizeof options, "%s%s%s", RS_CL_STD_OPTIONS, o && o->build_options ? " " : "",
             o && o->build_options ? o->build_options : "");
    const size_t srclen = strlen(rs_opencl_source);
    char key[2048];
    snprintf(key, sizeof key,
             "platform=%s\nplatform_version=%s\ndevice=%s\ndevice_version=%s\ndriver=%s\n"
             "source=%016llx-%zu\noptions=%s\n",
             h->info.platform_name, h->info.platform_version, h->info.device_name, h->info.device_version,
             h->info.driver_version, (unsigned long long)rs_hash64(rs_opencl_source, srclen), srclen, options);
    char dir[4000], path[4100];
    const int cache = rs_cl_cache_dir(o, dir, sizeof dir);
    if (cache)
        snprintf(path, sizeof path, "%s/%016llx.clbin", dir, (unsigned long long)rs_hash64(key, strlen(key)));

    cl_int e;
    if (cache) {
        uint8_t *file = NULL, *bin = NULL;
        size_t binlen = 0;
        if (rs_cl_cache_load(path, key, &bin, &binlen, &file)) {
            cl_int bst = CL_SUCCESS;
            const unsigned char *bins[1] = {bin};
            cl_program p = clCreateProgramWithBinary(h->ctx, 1, &h->dev, &binlen, bins, &bst, &e);
            if (e == CL_SUCCESS && bst == CL_SUCCESS)
                e = clBuildProgram(p, 1, &h->dev, options, NULL, NULL);
            else if (e == CL_SUCCESS)
                e = bst;
            free(file);
            if (e == CL_SUCCESS) {
                h->prog = p;
                h->info.built = 1;
                h->info.from_cache = 1;
                snprintf(h->info.status, sizeof h->info.status, "built (cached)");
                return;
            }
            if (p)
                clReleaseProgram(p);
        }
    }

    const char *srcs[1] = {rs_opencl_source};
    cl_program p = clCreateProgramWithSource(h->ctx, 1, srcs, &srclen, &e);
    if (e != CL_SUCCESS) {
        h->info.built = 0;
        rs_cl_fail(h, "clCreateProgramWithSource", e);
        return;
    }
    e = clBuildProgram(p, 1, &h->dev, options, NULL, NULL);
    if (e != CL_SUCCESS) {
        size_t loglen = 0;
        clGetProgramBuildInfo(p, h->dev, CL_PROGRAM_BUILD_LOG, 0, NULL, &loglen);
        char *log = malloc(loglen + 1);
        if (log) {
            log[0] = '\0';
            if (clGetProgramBuildInfo(p, h->dev, CL_PROGRAM_BUILD_LOG, loglen + 1, log, NULL) != CL_SUCCESS)
                log[0] = '\0';
            log[loglen] = '\0';
        }
        const char *lg = log && log[0] ? log : "(the build log is empty)";
        const size_t ml = strlen(lg) + 512;
        char *msg = malloc(ml);
        h->info.built = 0;
        if (msg) {
            snprintf(msg, ml,
                     "OpenCL device opencl:%u:%u (%s): the kernels did not build (%s); pieces run on the CPU. "
                     "Build log:\n%s",
                     h->info.platform, h->info.device, h->info.device_name, rs_cl_errstr(e), lg);
            pthread_mutex_lock(&h->mu);
            rs_cl_warn_locked(h, msg);
            pthread_mutex_unlock(&h->mu);
        }
        /* the status line: the first line of the log */
        const size_t first = strcspn(lg, "\n");
        snprintf(h->info.status, sizeof h->info.status, "build failed (%s): %.*s", rs_cl_errstr(e),
                 (int)(first < 300 ? first : 300), lg);
        atomic_store(&h->failed, 1);
        free(msg);
        free(log);
        clReleaseProgram(p);
        return;
    }
    h->prog = p;
    h->info.built = 1;
    snprintf(h->info.status, sizeof h->info.status, "built");
    if (cache) {
        size_t binlen = 0;
        uint8_t *bin = rs_cl_program_binary(p, &binlen);
        if (!bin || rs_cl_cache_store(dir, path, key, bin, binlen) != 0)
            snprintf(h->info.status, sizeof h->info.status, "built (not cached: %s)",
                     bin ? "cannot write the cache directory" : "no binary from the driver");
        free(bin);
    }
}

/* ------------------------------------------------------------------ */
/* Handles */

/* A lane's kernels, in the order of rs_lane_kernel_names. */
#define RS_LANE_KERNELS 12
static const char *const rs_lane_kernel_names[RS_LANE_KERNELS] = {
    "rs_tok_chunks",   "rs_tok_scan",     "rs_tok_compact", "rs_terms_insert",  "rs_terms_number", "rs_terms_resolve",
    "rs_count_span",   "rs_count_insert", "rs_count_sum",   "rs_count_collect", "rs_count_clear",  "rs_match_find",
};

static void rs_lane_kernels(rs_lane_t *l, cl_kernel *k[RS_LANE_KERNELS])
{
    k[0] = &l->kchunks;
    k[1] = &l->kscan;
    k[2] = &l->kcompact;
    k[3] = &l->kinsert;
    k[4] = &l->knumber;
    k[5] = &l->kresolve;
    k[6] = &l->kcspan;
    k[7] = &l->kcinsert;
    k[8] = &l->kcsum;
    k[9] = &l->kccollect;
    k[10] = &l->kcclear;
    k[11] = &l->kmatch;
}

static void rs_lane_release_buffers(rs_lane_t *l)
{
    cl_mem *m[] = {&l->text,    &l->tok,     &l->fold,    &l->info,    &l->prefix, &l->totals,  &l->otok,
                   &l->ofold,   &l->src,     &l->osrc,    &l->slots,   &l->term,   &l->tstate,  &l->ctc,
                   &l->cdset,   &l->cpset,   &l->ctspan, &l->cdclaim, &l->cpslot,
                   &l->crec_a,  &l->crec_b,  &l->cpair,   &l->cfold,   &l->cstate, &l->cstart,  &l->cdoc,
                   &l->csdata,  &l->mcand};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        if (*m[i])
            clReleaseMemObject(*m[i]);
        *m[i] = NULL;
    }
    l->cap = 0;
    l->cspan_cap = 0;
    l->mcand_cap = 0;
}

static void rs_lane_free(rs_lane_t *l)
{
    rs_lane_release_buffers(l);
    for (int i = 0; i < 2; i++)
        if (l->mlex[i])
            clReleaseMemObject(l->mlex[i]);
    cl_kernel *k[RS_LANE_KERNELS];
    rs_lane_kernels(l, k);
    for (size_t i = 0; i < RS_LANE_KERNELS; i++)
        if (*k[i])
            clReleaseKernel(*k[i]);
    if (l->q)
        clReleaseCommandQueue(l->q);
    free(l->join);
    free(l->hsrc);
    free(l->hspan);
    free(l->hres);
    free(l->hsort);
    free(l->hmap);
    free(l->hcand);
    free(l->hcnt);
    memset(l, 0, sizeof *l);
}

/* Sizes the lane's buffers for len bytes of text (len <= h->window). */
static cl_int rs_lane_reserve(rs_opencl_t *h, rs_lane_t *l, size_t len)
{
    if (len <= l->cap)
        return CL_SUCCESS;
    size_t cap = RS_CL_MIN_CAP;
    while (cap < len)
        cap *= 2;
    if (cap > h->window)
        cap = h->window;
    rs_lane_release_buffers(l);
    const size_t nchunks = (cap + h->sub - 1) / h->sub;
    /* terms <= tokens <= bytes: a table of cap slots never fills */
    size_t slots = 1;
    while (slots < cap)
        slots *= 2;
    const struct {
        cl_mem *m;
        cl_mem_flags f;
        size_t bytes;
    } want[] = {
        {&l->text, CL_MEM_READ_ONLY, cap},
        {&l->tok, CL_MEM_READ_WRITE, cap * 16},
        {&l->fold, CL_MEM_READ_WRITE, cap * 2},
        {&l->info, CL_MEM_READ_WRITE, nchunks * 16},
        {&l->prefix, CL_MEM_READ_WRITE, nchunks * 8},
        {&l->totals, CL_MEM_READ_WRITE, 16},
        {&l->otok, CL_MEM_WRITE_ONLY, cap * 16},
        {&l->ofold, CL_MEM_WRITE_ONLY, cap * 2},
        {&l->src, CL_MEM_READ_WRITE, cap * 4},
        {&l->osrc, CL_MEM_WRITE_ONLY, cap * 4},
        /* the term numbering's: only for a handle that numbers */
        {&l->slots, CL_MEM_READ_WRITE, slots * 4},
        {&l->term, CL_MEM_READ_WRITE, cap * 4},
        {&l->tstate, CL_MEM_READ_WRITE, 8},
        /* the counting's, last: only for a handle that counts */
        {&l->ctc, CL_MEM_READ_WRITE, cap * 20},
        {&l->cdset, CL_MEM_READ_WRITE, slots * 8},
        {&l->cpset, CL_MEM_READ_WRITE, slots * 16},
        {&l->ctspan, CL_MEM_READ_WRITE, cap * 4},
        {&l->cdclaim, CL_MEM_READ_WRITE, cap * 4},
        {&l->cpslot, CL_MEM_READ_WRITE, cap * 4},
        {&l->crec_a, CL_MEM_WRITE_ONLY, cap * 16},
        {&l->crec_b, CL_MEM_WRITE_ONLY, cap * 16},
        {&l->cpair, CL_MEM_WRITE_ONLY, cap * 16},
        {&l->cfold, CL_MEM_WRITE_ONLY, cap * 2},
        {&l->cstate, CL_MEM_READ_WRITE, 32},
    };
    const int number = h->terms || h->count; /* counting reads the term numbers */
    const size_t nwant = sizeof want / sizeof want[0] - (h->count ? 0 : 11) - (number ? 0 : 3);
    for (size_t i = 0; i < nwant; i++) {
        cl_int e;
        *want[i].m = clCreateBuffer(h->ctx, want[i].f, want[i].bytes, NULL, &e);
        if (e != CL_SUCCESS) {
            rs_lane_release_buffers(l);
            return e;
        }
    }
    if (number) {
        const cl_uint zero = 0, none = 0xFFFFFFFFu;
        cl_int e = clEnqueueFillBuffer(l->q, l->slots, &zero, sizeof zero, 0, slots * 4, 0, NULL, NULL);
        /* tokenize_terms_count.cl's empty tables: tc 0, ~0, 0, ~0, 0 by fifths; sets 0; pfirst ~0 */
        for (unsigned k = 0; h->count && k < 5 && e == CL_SUCCESS; k++)
            e = clEnqueueFillBuffer(l->q, l->ctc, k % 2 ? &none : &zero, 4, k * cap * 4, cap * 4, 0, NULL, NULL);
        const cl_uint pempty[4] = {0, 0, none, 0};
        if (h->count && e == CL_SUCCESS)
            e = clEnqueueFillBuffer(l->q, l->cdset, &zero, sizeof zero, 0, slots * 8, 0, NULL, NULL);
        if (h->count && e == CL_SUCCESS)
            e = clEnqueueFillBuffer(l->q, l->cpset, pempty, sizeof pempty, 0, slots * 16, 0, NULL, NULL);
        if (e == CL_SUCCESS)
            e = clFinish(l->q);
        if (e != CL_SUCCESS) {
            rs_lane_release_buffers(l);
            return e;
        }
    }
    l->mask = (cl_uint)(slots - 1);
    l->cap = cap;
    return CL_SUCCESS;
}

static cl_int rs_lane_init(rs_opencl_t *h, rs_lane_t *l)
{
    cl_int e;
    l->q = clCreateCommandQueue(h->ctx, h->dev, 0, &e);
    if (e != CL_SUCCESS)
        return e;
    cl_kernel *k[RS_LANE_KERNELS];
    rs_lane_kernels(l, k);
    for (size_t i = 0; i < RS_LANE_KERNELS && e == CL_SUCCESS; i++)
        *k[i] = clCreateKernel(h->prog, rs_lane_kernel_names[i], &e);
    return e;
}

static size_t rs_cl_kernel_wg(cl_kernel k, cl_device_id d)
{
    size_t wg = 0;
    if (clGetKernelWorkGroupInfo(k, d, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg, &wg, NULL) != CL_SUCCESS || wg == 0)
        return 1;
    return wg;
}

int rs_opencl_compiled(void)
{
    return 1;
}

/* An on/off option of rs_opencl_opts_t: opt 1 on, -1 off, 0 the
 * environment variable env ("1" or "0"), else dflt. */
static int rs_cl_switch(int opt, const char *env, int dflt)
{
    const char *v = getenv(env);
    if (opt)
        return opt > 0;
    if (v && (strcmp(v, "0") == 0 || strcmp(v, "1") == 0))
        return v[0] == '1';
    return dflt;
}

rs_opencl_t *rs_opencl_open(unsigned pi, unsigned di, const rs_opencl_opts_t *o, rs_error_t *err)
{
    cl_platform_id *plats = NULL;
    cl_device_id *devs = NULL;
    cl_uint np = 0, nd = 0;
    if (rs_cl_platforms(&plats, &np, err) != RS_OK)
        return NULL;
    if (pi >= np) {
        free(plats);
        rs_error_set(err, RS_ERR_DEVICE, "OpenCL: no platform %u (%u found; see rostrum devices)", pi, np);
        return NULL;
    }
    const cl_platform_id plat = plats[pi];
    free(plats);
    if (rs_cl_devices_of(plat, &devs, &nd, err) != RS_OK)
        return NULL;
    if (di >= nd) {
        free(devs);
        rs_error_set(err, RS_ERR_DEVICE, "OpenCL: platform %u has no device %u (%u found; see rostrum devices)", pi,
                     di, nd);
        return NULL;
    }
    const cl_device_id dev = devs[di];
    free(devs);

    rs_opencl_t *h = calloc(1, sizeof *h);
    if (!h) {
        rs_error_set(err, RS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    atomic_init(&h->failed, 0);
    h->plat = plat;
    h->dev = dev;
    h->hybrid = o && o->hybrid;
    h->nlanes = h->hybrid ? 1 : RS_CL_LANES;
    h->fault = o && o->fault;
    h->cpu = rs_kernels_select(NULL)->tokenize;
    h->min_bytes = RS_OPENCL_MIN_BYTES;
    const char *mb = getenv("ROSTRUM_OPENCL_MIN_BYTES");
    if (o && o->min_device_bytes >= 0) {
        h->min_bytes = (size_t)o->min_device_bytes;
    } else if (mb && *mb) {
        char *end;
        const unsigned long long v = strtoull(mb, &end, 10);
        if (*end == '\0')
            h->min_bytes = (size_t)v;
    }
    rs_cl_describe(plat, dev, pi, di, &h->info);
    h->near = rs_cl_near(dev, h->info.near, sizeof h->info.near);
    const int not_cpu = strcmp(h->info.type, "cpu") != 0;
    h->terms = rs_cl_switch(o ? o->terms : 0, "ROSTRUM_OPENCL_TERMS", not_cpu);
    h->count = rs_cl_switch(o ? o->count : 0, "ROSTRUM_OPENCL_COUNT", not_cpu);
    h->match = rs_cl_switch(o ? o->match : 0, "ROSTRUM_OPENCL_MATCH", 1);

    const cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)plat, 0};
    cl_int e;
    h->ctx = clCreateContext(props, 1, &dev, NULL, NULL, &e);
    if (e != CL_SUCCESS) {
        rs_error_set(err, RS_ERR_DEVICE, "OpenCL device opencl:%u:%u (%s): clCreateContext: %s (%d)", pi, di,
                     h->info.device_name, rs_cl_errstr(e), e);
        rs_opencl_close(h);
        return NULL;
    }

    /* sub-chunks: long ones for CPU devices (few threads, each one fast),
     * short ones elsewhere (many threads) */
    const int cpu_dev = strcmp(h->info.type, "cpu") == 0;
    h->sub = o && o->subchunk_bytes ? o->subchunk_bytes : cpu_dev ? 16384u : 256u;
    h->window = o && o->window_bytes ? o->window_bytes : RS_OPENCL_WINDOW;
    if (h->window < 256)
        h->window = 256;
    while (h->window > RS_CL_MIN_CAP && h->info.max_alloc_bytes && (uint64_t)h->window * 16 > h->info.max_alloc_bytes)
        h->window /= 2;

    cl_bool little = CL_FALSE;
    clGetDeviceInfo(dev, CL_DEVICE_ENDIAN_LITTLE, sizeof little, &little, NULL);
    const uint16_t probe = 1;
    const int host_little = *(const uint8_t *)&probe == 1;
    if ((little == CL_TRUE) != host_little) {
        h->info.built = 0;
        rs_cl_fail(h, "the device's byte order differs from the host's", CL_SUCCESS);
        snprintf(h->info.status, sizeof h->info.status, "not usable: byte order differs from the host's");
        return h;
    }

    rs_cl_build(h, o);
    if (atomic_load(&h->failed))
        return h;

    const struct {
        cl_mem *m;
        const void *p;
        size_t bytes;
    } tabs[] = {
        {&h->tp1, rs_unicode_props_stage1, sizeof rs_unicode_props_stage1},
        {&h->tp2, rs_unicode_props_stage2, rs_unicode_props_stage2_len},
        {&h->tf1, rs_unicode_fold_stage1, rs_unicode_fold_stage1_len * sizeof rs_unicode_fold_stage1[0]},
        {&h->tf2, rs_unicode_fold_stage2, rs_unicode_fold_stage2_len * sizeof rs_unicode_fold_stage2[0]},
    };
    for (size_t i = 0; i < sizeof tabs / sizeof tabs[0]; i++) {
        *tabs[i].m = clCreateBuffer(h->ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, tabs[i].bytes, (void *)tabs[i].p, &e);
        if (e != CL_SUCCESS) {
            rs_cl_fail(h, "uploading the Unicode tables", e);
            return h;
        }
    }
    for (unsigned i = 0; i < RS_CL_LANES; i++) { /* in hybrid mode too: the second doubles a batch's buffers */
        e = rs_lane_init(h, &h->lane[i]);
        if (e != CL_SUCCESS) {
            rs_cl_fail(h, "creating a queue and kernels", e);
            return h;
        }
    }
    size_t devwg = 0;
    clGetDeviceInfo(dev, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof devwg, &devwg, NULL);
    /* the kernels that run one work-item per sub-chunk share a work-group size */
    const cl_kernel per_chunk[] = {h->lane[0].kchunks, h->lane[0].kcompact, h->lane[0].kinsert, h->lane[0].knumber,
                                   h->lane[0].kresolve};
    size_t wgmin = SIZE_MAX;
    for (size_t i = 0; i < sizeof per_chunk / sizeof per_chunk[0]; i++) {
        const size_t w = rs_cl_kernel_wg(per_chunk[i], dev);
        if (w < wgmin)
            wgmin = w;
    }
    h->chunk_local = cpu_dev ? 1 : 64;
    while (h->chunk_local > 1 && h->chunk_local > wgmin)
        h->chunk_local /= 2;
    h->scan_local = 256;
    const size_t wgs = rs_cl_kernel_wg(h->lane[0].kscan, dev);
    while (h->scan_local > 1 && (h->scan_local > wgs || (devwg && h->scan_local > devwg)))
        h->scan_local /= 2;
    return h;
}

void rs_opencl_close(rs_opencl_t *h)
{
    if (!h)
        return;
    for (unsigned i = 0; i < RS_CL_LANES; i++)
        rs_lane_free(&h->lane[i]);
    cl_mem *m[] = {&h->tp1, &h->tp2, &h->tf1, &h->tf2};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (*m[i])
            clReleaseMemObject(*m[i]);
    if (h->prog)
        clReleaseProgram(h->prog);
    if (h->ctx)
        clReleaseContext(h->ctx);
    rs_strlist_free(&h->warnings);
    if (h->near)
        hwloc_bitmap_free(h->near);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h);
}

int rs_opencl_usable(const rs_opencl_t *h)
{
    return h && !atomic_load(&((rs_opencl_t *)h)->failed);
}

const rs_opencl_devinfo_t *rs_opencl_info(const rs_opencl_t *h)
{
    return &h->info;
}

/* ------------------------------------------------------------------ */
/* Tokenize */

#define RS_CL_TRY(what, expr)                                                                      \
    do {                                                                                           \
        const cl_int rs_cl_e_ = (expr);                                                            \
        if (rs_cl_e_ != CL_SUCCESS) {                                                              \
            *what_out = (what);                                                                    \
            return rs_cl_e_;                                                               \
        }                                                                                          \
    } while (0)

/* What a pass gives besides the tokens and folded bytes. */
enum {
    RS_CL_WANT_SRC = 1,   /* each token's first byte, into l->osrc */
    RS_CL_WANT_TERMS = 2, /* each token's term number in the pass, into l->term (tokenize_terms.cl) */
    RS_CL_WANT_COUNT = 4, /* the pass counted (tokenize_terms_count.cl); needs the other two */
    RS_CL_WANT_MATCH = 8, /* the lexicons of l->mon matched (tokenize_terms_match.cl); needs counting */
};

/* One argument of a kernel: clSetKernelArg's size and value. */
typedef struct rs_cl_arg {
    size_t size;
    const void *value;
} rs_cl_arg_t;

#define RS_CL_MEM(m) {sizeof(cl_mem), &(m)}
#define RS_CL_UINT(u) {sizeof(cl_uint), &(u)}

/* Sets kernel k's n arguments and enqueues it over gc work-items in
 * groups of lc; on failure *what_out names the step and the kernel. */
static cl_int rs_cl_launch(rs_lane_t *l, cl_kernel k, const char *const what[2], const rs_cl_arg_t *arg, cl_uint n,
                           size_t gc, size_t lc, const char **what_out)
{
    cl_int e = CL_SUCCESS;
    for (cl_uint i = 0; i < n; i++)
        e |= clSetKernelArg(k, i, arg[i].size, arg[i].value);
    RS_CL_TRY(what[0], e != CL_SUCCESS ? CL_INVALID_KERNEL_ARGS : CL_SUCCESS);
    RS_CL_TRY(what[1], clEnqueueNDRangeKernel(l->q, k, 1, NULL, &gc, &lc, 0, NULL, NULL));
    return CL_SUCCESS;
}

/* The term kernels after rs_tok_compact (tokenize_terms.cl): l->term
 * gets each token's number, l->tstate {numbers, flags}. l->tok, free
 * scratch by now, holds where (from 0) and num (from num_at). */
static cl_int rs_cl_enqueue_terms(rs_opencl_t *h, rs_lane_t *l, cl_uint nchunks, cl_uint fold_base, size_t gc,
                                  const char **what_out)
{
    static const cl_uint zero[2] = {0, 0};
    static const char *const insert[2] = {"clSetKernelArg(rs_terms_insert)", "clEnqueueNDRangeKernel(rs_terms_insert)"};
    static const char *const number[2] = {"clSetKernelArg(rs_terms_number)", "clEnqueueNDRangeKernel(rs_terms_number)"};
    static const char *const resolve[2] = {"clSetKernelArg(rs_terms_resolve)",
                                           "clEnqueueNDRangeKernel(rs_terms_resolve)"};
    const size_t lc = h->chunk_local;
    const cl_uint num_at = (cl_uint)l->cap; /* l->tok holds 4 * cap uints */
    RS_CL_TRY("clEnqueueWriteBuffer(term state)",
              clEnqueueWriteBuffer(l->q, l->tstate, CL_FALSE, 0, sizeof zero, zero, 0, NULL, NULL));
    const rs_cl_arg_t ai[] = {RS_CL_MEM(l->otok),   RS_CL_MEM(l->ofold), RS_CL_UINT(fold_base), RS_CL_MEM(l->info),
                              RS_CL_MEM(l->prefix), RS_CL_UINT(nchunks), RS_CL_MEM(l->slots),   RS_CL_UINT(l->mask),
                              RS_CL_MEM(l->term),   RS_CL_MEM(l->tok),   RS_CL_MEM(l->tstate)};
    const rs_cl_arg_t an[] = {RS_CL_MEM(l->info), RS_CL_MEM(l->prefix), RS_CL_UINT(nchunks), RS_CL_MEM(l->term),
                              RS_CL_MEM(l->tok),  RS_CL_UINT(num_at),   RS_CL_MEM(l->tstate)};
    const rs_cl_arg_t ar[] = {RS_CL_MEM(l->info), RS_CL_MEM(l->prefix), RS_CL_UINT(nchunks), RS_CL_MEM(l->term),
                              RS_CL_MEM(l->tok),  RS_CL_UINT(num_at),   RS_CL_MEM(l->slots)};
    cl_int e = rs_cl_launch(l, l->kinsert, insert, ai, sizeof ai / sizeof ai[0], gc, lc, what_out);
    if (e == CL_SUCCESS)
        e = rs_cl_launch(l, l->knumber, number, an, sizeof an / sizeof an[0], gc, lc, what_out);
    if (e == CL_SUCCESS)
        e = rs_cl_launch(l, l->kresolve, resolve, ar, sizeof ar / sizeof ar[0], gc, lc, what_out);
    return e;
}

/* The count kernels after the term kernels (tokenize_terms_count.cl), over
 * the ns spans already written to l->cstart and l->cdoc. */
static cl_int rs_cl_enqueue_count(rs_opencl_t *h, rs_lane_t *l, cl_uint nchunks, cl_uint fold_base, size_t gc,
                                  cl_uint ns, const char **what_out)
{
    static const char *const span[2] = {"clSetKernelArg(rs_count_span)", "clEnqueueNDRangeKernel(rs_count_span)"};
    static const char *const insert[2] = {"clSetKernelArg(rs_count_insert)", "clEnqueueNDRangeKernel(rs_count_insert)"};
    static const char *const sum[2] = {"clSetKernelArg(rs_count_sum)", "clEnqueueNDRangeKernel(rs_count_sum)"};
    static const char *const collect[2] = {"clSetKernelArg(rs_count_collect)",
                                           "clEnqueueNDRangeKernel(rs_count_collect)"};
    static const char *const clear[2] = {"clSetKernelArg(rs_count_clear)", "clEnqueueNDRangeKernel(rs_count_clear)"};
    const size_t lc = h->chunk_local;
    const cl_uint cap = (cl_uint)l->cap;
    const rs_cl_arg_t as[] = {RS_CL_MEM(l->info),   RS_CL_MEM(l->prefix), RS_CL_UINT(nchunks), RS_CL_MEM(l->osrc),
                              RS_CL_MEM(l->cstart), RS_CL_UINT(ns),       RS_CL_MEM(l->ctspan)};
    const rs_cl_arg_t ai[] = {RS_CL_MEM(l->info),    RS_CL_MEM(l->prefix),  RS_CL_UINT(nchunks),  RS_CL_MEM(l->totals),
                              RS_CL_MEM(l->term),    RS_CL_MEM(l->ctspan),  RS_CL_MEM(l->cdoc),   RS_CL_MEM(l->csdata),
                              RS_CL_MEM(l->ctc),     RS_CL_UINT(cap),       RS_CL_MEM(l->cdset),  RS_CL_MEM(l->cpset),
                              RS_CL_UINT(l->mask),   RS_CL_MEM(l->cdclaim), RS_CL_MEM(l->cpslot), RS_CL_MEM(l->cstate)};
    const rs_cl_arg_t au[] = {RS_CL_MEM(l->info), RS_CL_MEM(l->prefix), RS_CL_UINT(nchunks),  RS_CL_MEM(l->term),
                              RS_CL_MEM(l->ctc),  RS_CL_MEM(l->cdset),  RS_CL_MEM(l->cdclaim)};
    const rs_cl_arg_t ac[] = {RS_CL_MEM(l->info),    RS_CL_MEM(l->prefix), RS_CL_UINT(nchunks), RS_CL_MEM(l->otok),
                              RS_CL_MEM(l->ofold),   RS_CL_UINT(fold_base), RS_CL_MEM(l->term),  RS_CL_MEM(l->ctspan),
                              RS_CL_MEM(l->csdata),  RS_CL_MEM(l->ctc),    RS_CL_UINT(cap),     RS_CL_MEM(l->cpset),
                              RS_CL_MEM(l->cpslot),  RS_CL_MEM(l->crec_a), RS_CL_MEM(l->crec_b),
                              RS_CL_MEM(l->cpair),   RS_CL_MEM(l->cfold),  RS_CL_MEM(l->cstate)};
    const rs_cl_arg_t ak[] = {RS_CL_MEM(l->info),    RS_CL_MEM(l->prefix),  RS_CL_UINT(nchunks),  RS_CL_MEM(l->term),
                              RS_CL_MEM(l->ctc),     RS_CL_UINT(cap),       RS_CL_MEM(l->cdset),  RS_CL_MEM(l->cpset),
                              RS_CL_MEM(l->cdclaim), RS_CL_MEM(l->cpslot)};
    cl_int e = rs_cl_launch(l, l->kcspan, span, as, sizeof as / sizeof as[0], gc, lc, what_out);
    if (e == CL_SUCCESS)
        e = rs_cl_launch(l, l->kcinsert, insert, ai, sizeof ai / sizeof ai[0], gc, lc, what_out);
    if (e == CL_SUCCESS)
        e = rs_cl_launch(l, l->kcsum, sum, au, sizeof au / sizeof au[0], gc, lc, what_out);
    if (e == CL_SUCCESS)
        e = rs_cl_launch(l, l->kccollect, collect, ac, sizeof ac / sizeof ac[0], gc, lc, what_out);
    if (e == CL_SUCCESS)
        e = rs_cl_launch(l, l->kcclear, clear, ak, sizeof ak / sizeof ak[0], gc, lc, what_out);
    return e;
}

/* rs_match_find once for each lexicon of l->mon, after the count kernels
 * (tokenize_terms_match.cl), into l->mcand, its counter state[4] of
 * l->cstate. */
static cl_int rs_cl_enqueue_match(rs_opencl_t *h, rs_lane_t *l, cl_uint nchunks, cl_uint fold_base, size_t gc,
                                  const char **what_out)
{
    static const char *const find[2] = {"clSetKernelArg(rs_match_find)", "clEnqueueNDRangeKernel(rs_match_find)"};
    const cl_uint cap = (cl_uint)l->mcand_cap;
    for (int k = 0; k < 2; k++) {
        if (!l->mon[k])
            continue;
        const rs_cl_arg_t am[] = {RS_CL_MEM(l->info),   RS_CL_MEM(l->prefix), RS_CL_UINT(nchunks), RS_CL_MEM(l->otok),
                                  RS_CL_MEM(l->ofold),  RS_CL_UINT(fold_base), RS_CL_MEM(l->ctspan), RS_CL_MEM(l->csdata),
                                  RS_CL_MEM(l->mlex[k]), RS_CL_MEM(l->mcand),  RS_CL_UINT(cap),     RS_CL_MEM(l->cstate)};
        const cl_int e = rs_cl_launch(l, l->kmatch, find, am, sizeof am / sizeof am[0], gc, h->chunk_local, what_out);
        if (e != CL_SUCCESS)
            return e;
    }
    return CL_SUCCESS;
}

/* Enqueues the three tokenize kernels on text already written to l->text,
 * and what want asks for (RS_CL_WANT_*). */
static cl_int rs_cl_enqueue_kernels(rs_opencl_t *h, rs_lane_t *l, cl_uint n, cl_uint fold_base, int want,
                                    cl_uint ns, const char **what_out)
{
    const cl_uint want_src = (want & RS_CL_WANT_SRC) != 0;
    const cl_uint sub = h->sub, nchunks = (n + sub - 1) / sub, f1len = (cl_uint)rs_unicode_fold_stage1_len;
    const cl_uint fault = (cl_uint)h->fault;
    cl_kernel k = l->kchunks;
    cl_uint a = 0;
    cl_int e = CL_SUCCESS;
    e |= clSetKernelArg(k, a++, sizeof(cl_mem), &l->text);
    e |= clSetKernelArg(k, a++, sizeof(cl_uint), &n);
    e |= clSetKernelArg(k, a++, sizeof(cl_uint), &sub);
    e |= clSetKernelArg(k, a++, sizeof(cl_uint), &nchunks);
    e |= clSetKernelArg(k, a++, sizeof(cl_mem), &h->tp1);
    e |= clSetKernelArg(k, a++, sizeof(cl_mem), &h->tp2);
    e |= clSetKernelArg(k, a++, sizeof(cl_mem), &h->tf1);
    e |= clSetKernelArg(k, a++, sizeof(cl_uint), &f1len);
    e |= clSetKernelArg(k, a++, sizeof(cl_mem), &h->tf2);
    e |= clSetKernelArg(k, a++, sizeof(cl_mem), &l->tok);
    e |= clSetKernelArg(k, a++, sizeof(cl_mem), &l->fold);
    e |= clSetKernelArg(k, a++, sizeof(cl_mem), &l->info);
    e |= clSetKernelArg(k, a++, sizeof(cl_uint), &fault);
    e |= clSetKernelArg(k, a++, sizeof(cl_mem), &l->src);
    e |= clSetKernelArg(k, a++, sizeof(cl_uint), &want_src);
    RS_CL_TRY("clSetKernelArg(rs_tok_chunks)", e != CL_SUCCESS ? CL_INVALID_KERNEL_ARGS : CL_SUCCESS);
    const size_t lc = h->chunk_local, gc = (nchunks + lc - 1) / lc * lc;
    RS_CL_TRY("clEnqueueNDRangeKernel(rs_tok_chunks)", clEnqueueNDRangeKernel(l->q, k, 1, NULL, &gc, &lc, 0, NULL, NULL));

    k = l->kscan;
    a = 0;
    const size_t ls = h->scan_local;
    e |= clSetKernelArg(k, a++, sizeof(cl_mem), &l->info);
    e |= clSetKernelArg(k, a++, sizeof(cl_uint), &nchunks);
    e |= clSetKernelArg(k, a++, sizeof(cl_mem), &l->prefix);
    e |= clSetKernelArg(k, a++, sizeof(cl_mem), &l->totals);
    e |= clSetKernelArg(k, a++, ls * sizeof(cl_uint), NULL);
    e |= clSetKernelArg(k, a++, ls * sizeof(cl_uint), NULL);
    e |= clSetKernelArg(k, a++, ls * sizeof(cl_uint), NULL);
    e |= clSetKernelArg(k, a++, ls * sizeof(cl_uint), NULL);
    RS_CL_TRY("clSetKernelArg(rs_tok_scan)", e != CL_SUCCESS ? CL_INVALID_KERNEL_ARGS : CL_SUCCESS);
    RS_CL_TRY("clEnqueueNDRangeKernel(rs_tok_scan)", clEnqueueNDRangeKernel(l->q, k, 1, NULL, &ls, &ls, 0, NULL, NULL));

    k = l->kcompact;
    a = 0;
    e |= clSetKernelArg(k, a++, sizeof(cl_mem), &l->tok);
    e |= clSetKernelArg(k, a++, sizeof(cl_mem), &l->fold);
    e |= clSetKernelArg(k, a++, sizeof(cl_mem), &l->info);
    e |= clSetKernelArg(k, a++, sizeof(cl_mem), &l->prefix);
    e |= clSetKernelArg(k, a++, sizeof(cl_uint), &nchunks);
    e |= clSetKernelArg(k, a++, sizeof(cl_uint), &fold_base);
    e |= clSetKernelArg(k, a++, sizeof(cl_mem), &l->otok);
    e |= clSetKernelArg(k, a++, sizeof(cl_mem), &l->ofold);
    e |= clSetKernelArg(k, a++, sizeof(cl_mem), &l->src);
    e |= clSetKernelArg(k, a++, sizeof(cl_mem), &l->osrc);
    e |= clSetKernelArg(k, a++, sizeof(cl_uint), &want_src);
    RS_CL_TRY("clSetKernelArg(rs_tok_compact)", e != CL_SUCCESS ? CL_INVALID_KERNEL_ARGS : CL_SUCCESS);
    RS_CL_TRY("clEnqueueNDRangeKernel(rs_tok_compact)",
              clEnqueueNDRangeKernel(l->q, k, 1, NULL, &gc, &lc, 0, NULL, NULL));
    if (want & RS_CL_WANT_TERMS)
        RS_CL_TRY(*what_out, rs_cl_enqueue_terms(h, l, nchunks, fold_base, gc, what_out));
    if (want & RS_CL_WANT_COUNT)
        RS_CL_TRY(*what_out, rs_cl_enqueue_count(h, l, nchunks, fold_base, gc, ns, what_out));
    if (want & RS_CL_WANT_MATCH)
        return rs_cl_enqueue_match(h, l, nchunks, fold_base, gc, what_out);
    return CL_SUCCESS;
}

/* A window in flight: started on a lane, its totals on their way back. */
typedef struct rs_cl_flight {
    rs_lane_t *l;
    size_t pos, len;   /* where the window starts in the caller's text, its length */
    cl_uint fold_base; /* the fold offset its tokens were given on the device */
    cl_uint tot[4];    /* tokens, fold bytes, invalid bytes, flags */
    cl_uint terms[2];  /* with RS_CL_WANT_TERMS: numbers given, flags */
    cl_uint cst[8];    /* with RS_CL_WANT_COUNT: term records, pair records, folded bytes, flags;
                        * with RS_CL_WANT_MATCH: candidates */
    size_t s0, ns;     /* with RS_CL_WANT_COUNT: the spans of the pass, s0 .. s0 + ns - 1 */
    int want;          /* RS_CL_WANT_* */
    cl_event ev;       /* the read of tot (queued after that of terms) */
} rs_cl_flight_t;

/* Room on the device for the ns spans of a pass (l->cstart, cdoc, csdata). */
static cl_int rs_lane_spans(rs_opencl_t *h, rs_lane_t *l, size_t ns)
{
    if (ns <= l->cspan_cap)
        return CL_SUCCESS;
    size_t cap = 1024;
    while (cap < ns)
        cap *= 2;
    cl_mem *m[3] = {&l->cstart, &l->cdoc, &l->csdata};
    const size_t bytes[3] = {cap * 4, cap * 4, cap * 16};
    l->cspan_cap = 0;
    for (int i = 0; i < 3; i++) {
        if (*m[i])
            clReleaseMemObject(*m[i]);
        *m[i] = NULL;
    }
    for (int i = 0; i < 3; i++) {
        cl_int e;
        *m[i] = clCreateBuffer(h->ctx, CL_MEM_READ_WRITE, bytes[i], NULL, &e);
        if (e != CL_SUCCESS)
            return e;
    }
    l->cspan_cap = cap;
    return CL_SUCCESS;
}

/* The candidates' buffer of a lane that matches (l->mcand), once its
 * text buffers are sized: an entry per 8 bytes of text to begin with
 * (rs_cl_match_read grows it when a pass finds more). */
static cl_int rs_lane_match_buffer(rs_opencl_t *h, rs_lane_t *l)
{
    if (l->mcand)
        return CL_SUCCESS;
    cl_int e;
    const size_t cap = l->cap / 8 > 64 ? l->cap / 8 : 64;
    l->mcand = clCreateBuffer(h->ctx, CL_MEM_READ_WRITE, cap * 8, NULL, &e);
    l->mcand_cap = e == CL_SUCCESS ? cap : 0;
    return e;
}

/* Starts one window on lane l: the upload, the kernels and the read of the
 * totals are queued, nothing waits. The device gives token offsets from
 * fold_base on. On failure the lane is idle again. */
static cl_int rs_cl_pass_start(rs_opencl_t *h, rs_lane_t *l, const uint8_t *text, size_t len, cl_uint fold_base,
                               int want, rs_cl_flight_t *f, const char **what_out)
{
    f->l = l;
    f->want = want;
    f->len = len;
    f->fold_base = fold_base;
    f->ev = NULL;
    RS_CL_TRY("allocating buffers", rs_lane_reserve(h, l, len));
    if (want & RS_CL_WANT_COUNT) /* before anything is queued: nothing to drain on failure */
        RS_CL_TRY("allocating span buffers", rs_lane_spans(h, l, f->ns));
    if (want & RS_CL_WANT_MATCH)
        RS_CL_TRY("allocating the match buffer", rs_lane_match_buffer(h, l));
    RS_CL_TRY("clEnqueueWriteBuffer(text)", clEnqueueWriteBuffer(l->q, l->text, CL_FALSE, 0, len, text, 0, NULL, NULL));
    cl_int e = CL_SUCCESS;
    if (want & RS_CL_WANT_COUNT) {
        static const cl_uint zero[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        const cl_uint none = 0xFFFFFFFFu;
        e = clEnqueueWriteBuffer(l->q, l->cstart, CL_FALSE, 0, f->ns * 4, l->hspan, 0, NULL, NULL);
        if (e == CL_SUCCESS)
            e = clEnqueueWriteBuffer(l->q, l->cdoc, CL_FALSE, 0, f->ns * 4, l->hspan + f->ns, 0, NULL, NULL);
        if (e == CL_SUCCESS)
            e = clEnqueueFillBuffer(l->q, l->csdata, &none, sizeof none, 0, f->ns * 16, 0, NULL, NULL);
        if (e == CL_SUCCESS)
            e = clEnqueueWriteBuffer(l->q, l->cstate, CL_FALSE, 0, sizeof zero, zero, 0, NULL, NULL);
        if (e != CL_SUCCESS)
            *what_out = "writing a pass's spans";
    }
    if (e == CL_SUCCESS)
        e = rs_cl_enqueue_kernels(h, l, (cl_uint)len, fold_base, want, (cl_uint)f->ns, what_out);
    if (e == CL_SUCCESS && (want & RS_CL_WANT_TERMS)) {
        e = clEnqueueReadBuffer(l->q, l->tstate, CL_FALSE, 0, sizeof f->terms, f->terms, 0, NULL, NULL);
        if (e != CL_SUCCESS)
            *what_out = "clEnqueueReadBuffer(term state)";
    }
    if (e == CL_SUCCESS && (want & RS_CL_WANT_COUNT)) {
        e = clEnqueueReadBuffer(l->q, l->cstate, CL_FALSE, 0, sizeof f->cst, f->cst, 0, NULL, NULL);
        if (e != CL_SUCCESS)
            *what_out = "clEnqueueReadBuffer(count state)";
    }
    if (e == CL_SUCCESS) {
        e = clEnqueueReadBuffer(l->q, l->totals, CL_FALSE, 0, sizeof f->tot, f->tot, 0, NULL, &f->ev);
        if (e != CL_SUCCESS)
            *what_out = "clEnqueueReadBuffer(totals)";
    }
    if (e != CL_SUCCESS)
        clFinish(l->q); /* the write may still read text */
    return e;
}

/* Waits for the totals of a started window; on failure the lane is
 * drained and *what_out says what failed. */
static cl_int rs_cl_flight_wait(rs_cl_flight_t *f, const char **what_out)
{
    const cl_int e = clWaitForEvents(1, &f->ev);
    clReleaseEvent(f->ev);
    f->ev = NULL;
    if (e != CL_SUCCESS) {
        clFinish(f->l->q);
        *what_out = "clEnqueueReadBuffer(totals)";
    }
    return e;
}

/* Waits for a started window and appends its tokens and folded bytes to
 * out (with src, each token's first byte in the window to src[0..]); the
 * offsets are moved to out's fold_len when they were given another base.
 * out is changed only on success; the lane is idle after, either way. On
 * failure *what_out says what failed, and the OpenCL error code is
 * returned, or RS_CL_BROKEN when the device's results broke a bound. */
static cl_int rs_cl_pass_read(rs_cl_flight_t *f, rs_tokens_t *out, uint32_t *src, const char **what_out);

static cl_int rs_cl_pass_finish(rs_cl_flight_t *f, rs_tokens_t *out, uint32_t *src, const char **what_out)
{
    const cl_int e = rs_cl_flight_wait(f, what_out);
    return e != CL_SUCCESS ? e : rs_cl_pass_read(f, out, src, what_out);
}

/* rs_cl_pass_finish once the totals are in. */
static cl_int rs_cl_pass_read(rs_cl_flight_t *f, rs_tokens_t *out, uint32_t *src, const char **what_out)
{
    rs_lane_t *l = f->l;
    cl_int e = CL_SUCCESS;
    const size_t ntok = f->tot[0], nfold = f->tot[1], len = f->len;
    const int terms = (f->want & RS_CL_WANT_TERMS) && out->term;
    if (f->tot[3] != 0 || ntok > len || nfold > 2 * len || ntok > out->tok_cap - out->n
        || nfold > out->fold_cap - out->fold_len
        || (terms && (f->terms[1] != 0 || f->terms[0] > ntok || out->nterms + f->terms[0] > UINT32_MAX))) {
        *what_out = (f->tot[3] & RS_CL_FLAG_FAULT) ? "a kernel reported a fault (injected)"
                                                   : "the device's results broke the contract's bounds";
        return RS_CL_BROKEN;
    }
    if (ntok && e == CL_SUCCESS) {
        e = clEnqueueReadBuffer(l->q, l->otok, CL_FALSE, 0, ntok * sizeof(rs_token_t), out->tok + out->n, 0, NULL, NULL);
        *what_out = "clEnqueueReadBuffer(tokens)";
    }
    if (nfold && e == CL_SUCCESS) {
        e = clEnqueueReadBuffer(l->q, l->ofold, CL_FALSE, 0, nfold, out->fold + out->fold_len, 0, NULL, NULL);
        *what_out = "clEnqueueReadBuffer(fold)";
    }
    if (ntok && src && e == CL_SUCCESS) {
        e = clEnqueueReadBuffer(l->q, l->osrc, CL_FALSE, 0, ntok * sizeof *src, src, 0, NULL, NULL);
        *what_out = "clEnqueueReadBuffer(src)";
    }
    if (ntok && terms && e == CL_SUCCESS) {
        e = clEnqueueReadBuffer(l->q, l->term, CL_FALSE, 0, ntok * sizeof *out->term, out->term + out->n, 0, NULL,
                                NULL);
        *what_out = "clEnqueueReadBuffer(terms)";
    }
    const cl_int fe = clFinish(l->q); /* also when a read failed: none may still write into out */
    if (e == CL_SUCCESS && fe != CL_SUCCESS) {
        e = fe;
        *what_out = "clFinish";
    }
    if (e != CL_SUCCESS)
        return e;
    if (terms) { /* the pass's numbers follow those of the passes before */
        const uint32_t base = (uint32_t)out->nterms, nt = f->terms[0];
        uint32_t *t = out->term + out->n;
        for (size_t i = 0; i < ntok; i++) {
            if (t[i] >= nt) {
                *what_out = "the device gave a term number out of range";
                return RS_CL_BROKEN;
            }
            t[i] += base;
        }
        out->nterms += nt;
    }
    const cl_uint fix = (cl_uint)out->fold_len - f->fold_base;
    if (fix)
        for (size_t i = 0; i < ntok; i++)
            out->tok[out->n + i].off += fix;
    out->n += ntok;
    out->fold_len += nfold;
    out->invalid_bytes += f->tot[2];
    return CL_SUCCESS;
}

/* One window on the device, start to finish (see rs_cl_pass_finish). */
static cl_int rs_cl_pass(rs_opencl_t *h, rs_lane_t *l, const uint8_t *text, size_t len, rs_tokens_t *out,
                         uint32_t *src, const char **what_out)
{
    rs_cl_flight_t f;
    const cl_int e =
        rs_cl_pass_start(h, l, text, len, (cl_uint)out->fold_len, src ? RS_CL_WANT_SRC : 0, &f, what_out);
    return e != CL_SUCCESS ? e : rs_cl_pass_finish(&f, out, src, what_out);
}

/* *buf grown to at least n elements of size sz (doubling); 0 when out of memory. */
static int rs_cl_grow(void **buf, size_t *cap, size_t n, size_t sz)
{
    if (n <= *cap)
        return 1;
    size_t c = *cap ? *cap : 64;
    while (c < n)
        c *= 2;
    void *p = realloc(*buf, c * sz);
    if (!p)
        return 0;
    *buf = p;
    *cap = c;
    return 1;
}

/* A batch being counted on the device (rs_opencl_count_spans): where the
 * results of its passes go, in order. */
typedef struct rs_cl_acc {
    rs_opencl_t *h;
    rs_counts_t *out;
    int match;          /* the lexicons of the lanes' mon are matched (passes end at spans' ends) */
    rs_tokens_t *tok;   /* NULL, or where the tokens go too */
    size_t *ntok;       /* per span of the batch */
    size_t nspans;
    uint64_t tokens;    /* the tokens of the passes so far */
    size_t carry_span;  /* the span of the last of them; SIZE_MAX: none yet */
    uint32_t carry_rec; /* the term record of that token */
} rs_cl_acc_t;


static int rs_cl_cmp_u64(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Sorts the n records of 4 words at rec by their word w (a token index):
 * idx gets (word << 32 | record), in that order. */
static void rs_cl_order(const uint32_t *rec, size_t n, unsigned w, uint64_t *idx)
{
    for (size_t r = 0; r < n; r++)
        idx[r] = (uint64_t)rec[4 * r + w] << 32 | r;
    qsort(idx, n, sizeof *idx, rs_cl_cmp_u64);
}

#define RS_CL_NONE 0xFFFFFFFFu

/* ------------------------------------------------------------------ */
/* Lexicons on the device (tokenize_terms_match.cl) */

/* Room for the keys of dictionary d in a table at most half full: the
 * mask of its slots. */
static uint32_t rs_cl_lex_mask(const rs_dict_t *d)
{
    size_t slots = 2;
    while (slots < 2 * d->n)
        slots *= 2;
    return (uint32_t)(slots - 1);
}

/* Fills the table at t (mask + 1 slots of 4 uints, zeroed) from d: each
 * key's hash and head pattern + 1, linear probing from the hash's low bits. */
static void rs_cl_lex_table(uint32_t *t, uint32_t mask, const rs_dict_t *d)
{
    for (size_t id = 0; id < d->n; id++) {
        const uint64_t hash = rs_dict_hash(d, id);
        uint32_t at = (uint32_t)hash & mask;
        while (t[4 * at + 2] != 0)
            at = (at + 1) & mask;
        t[4 * at] = (uint32_t)hash;
        t[4 * at + 1] = (uint32_t)(hash >> 32);
        t[4 * at + 2] = *(const uint32_t *)rs_dict_val(d, id) + 1;
    }
}

/* Matcher m laid out for tokenize_terms_match.cl as lexicon mid (see the
 * layout there): a malloc'd array of *n uints, or NULL when it is too
 * large for that layout or memory is short. */
static uint32_t *rs_cl_lex_pack(const rs_matcher_t *m, uint32_t mid, size_t *n)
{
    if (m->npat >= (1u << 24) || m->nwords >= (1u << 24) || m->arena_len >= (1u << 30) || m->filter_shift < 40)
        return NULL;
    const size_t nfilter = ((size_t)1 << (64 - m->filter_shift)) / 32;
    const uint32_t emask = rs_cl_lex_mask(&m->first_exact), gmask = rs_cl_lex_mask(&m->first_glob);
    const size_t F = 80, E = F + nfilter, G = E + 4 * ((size_t)emask + 1), P = G + 4 * ((size_t)gmask + 1),
                 W = P + 6 * m->npat, A = W + 2 * m->nwords, total = A + (m->arena_len + 3) / 4 + 1;
    if (total >= (1u << 30))
        return NULL;
    uint32_t *lx = calloc(total, sizeof *lx);
    if (!lx)
        return NULL;
    const uint32_t hdr[13] = {m->filter_shift, m->glob_ks, (uint32_t)m->nglob_lens, (uint32_t)m->npat, emask, gmask,
                              (uint32_t)F, (uint32_t)E, (uint32_t)G, (uint32_t)P, (uint32_t)W, (uint32_t)A, mid};
    memcpy(lx, hdr, sizeof hdr);
    for (size_t g = 0; g < m->nglob_lens; g++)
        lx[16 + g] = m->glob_lens[g];
    for (size_t w = 0; w < nfilter / 2; w++) {
        lx[F + 2 * w] = (uint32_t)m->filter[w];
        lx[F + 2 * w + 1] = (uint32_t)(m->filter[w] >> 32);
    }
    rs_cl_lex_table(lx + E, emask, &m->first_exact);
    rs_cl_lex_table(lx + G, gmask, &m->first_glob);
    for (size_t p = 0; p < m->npat; p++) {
        const rs_mpat_t *q = &m->pat[p];
        uint32_t *o = lx + P + 6 * p;
        o[0] = q->word0;
        o[1] = q->nwords;
        o[2] = (q->next == UINT32_MAX ? 1u : 0u) | (q->has_hash1 ? 2u : 0u);
        o[4] = (uint32_t)q->hash1;
        o[5] = (uint32_t)(q->hash1 >> 32);
    }
    for (size_t w = 0; w < m->nwords; w++) {
        lx[W + 2 * w] = m->words[w].off;
        lx[W + 2 * w + 1] = m->words[w].len | (m->words[w].glob ? 1u << 31 : 0u);
    }
    if (m->arena_len)
        memcpy(lx + A, m->arena, m->arena_len);
    *n = total;
    return lx;
}

/* Lane l holds the lexicons of m[0..1] (uploaded unless it held them
 * already) and l->mon says which have patterns. 0 when one cannot go to
 * the device (too large, out of memory): the batch's tokens come back
 * instead. */
static int rs_cl_lex_ready(rs_opencl_t *h, rs_lane_t *l, const rs_matcher_t *const m[2])
{
    for (int k = 0; k < 2; k++) {
        l->mon[k] = 0;
        if (!m[k] || m[k]->npat == 0)
            continue;
        if (!l->mlex[k] || l->mserial[k] != m[k]->serial) {
            if (l->mlex[k])
                clReleaseMemObject(l->mlex[k]);
            l->mlex[k] = NULL;
            size_t n = 0;
            uint32_t *lx = rs_cl_lex_pack(m[k], (uint32_t)k, &n);
            if (!lx)
                return 0;
            cl_int e;
            l->mlex[k] = clCreateBuffer(h->ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, n * 4, lx, &e);
            free(lx);
            if (e != CL_SUCCESS) {
                l->mlex[k] = NULL;
                return 0;
            }
            l->mserial[k] = m[k]->serial;
        }
        l->mon[k] = 1;
    }
    return 1;
}

/* The candidates of a counted pass that matched (RS_CL_WANT_MATCH), after
 * its records: read back (the kernels run again into a larger buffer when
 * they did not fit), each checked against the pass and its lexicon, put
 * in the order rs_matcher_take wants by a counting sort on (lexicon,
 * token) and an insertion sort within each token (a few patterns at
 * most), and appended to acc->out->hit with batch-wide token indices. */
static cl_int rs_cl_match_read(rs_cl_flight_t *f, rs_cl_acc_t *acc, const char **what_out)
{
    rs_opencl_t *h = acc->h;
    rs_lane_t *l = f->l;
    rs_counts_t *out = acc->out;
    const size_t ntok = f->tot[0];
    size_t nc = f->cst[4];
    if (acc->tokens + ntok > UINT32_MAX) {
        *what_out = "a batch of more than 2^32 tokens";
        return RS_CL_BROKEN;
    }
    if (nc > l->mcand_cap) {
        size_t cap = l->mcand_cap;
        while (cap < nc)
            cap *= 2;
        clReleaseMemObject(l->mcand);
        l->mcand_cap = 0;
        cl_int e;
        l->mcand = clCreateBuffer(h->ctx, CL_MEM_READ_WRITE, cap * 8, NULL, &e);
        RS_CL_TRY("allocating the match buffer", e);
        l->mcand_cap = cap;
        static const cl_uint zero = 0;
        cl_uint again = 0;
        const cl_uint nchunks = (cl_uint)((f->len + h->sub - 1) / h->sub);
        const size_t gc = (nchunks + h->chunk_local - 1) / h->chunk_local * h->chunk_local;
        RS_CL_TRY("clEnqueueWriteBuffer(match state)",
                  clEnqueueWriteBuffer(l->q, l->cstate, CL_FALSE, 16, 4, &zero, 0, NULL, NULL));
        RS_CL_TRY(*what_out, rs_cl_enqueue_match(h, l, nchunks, f->fold_base, gc, what_out));
        RS_CL_TRY("clEnqueueReadBuffer(match state)",
                  clEnqueueReadBuffer(l->q, l->cstate, CL_TRUE, 16, 4, &again, 0, NULL, NULL));
        if (again != nc) {
            *what_out = "the device found other matches on a second run";
            return RS_CL_BROKEN;
        }
    }
    void *p = l->hcand;
    int room = rs_cl_grow(&p, &l->hcand_cap, 2 * nc + 2, 4);
    l->hcand = p;
    p = l->hcnt;
    room &= rs_cl_grow(&p, &l->hcnt_cap, 2 * ntok + 1, 4);
    l->hcnt = p;
    p = l->hsort;
    room &= rs_cl_grow(&p, &l->hsort_cap, nc + 1, 8);
    l->hsort = p;
    for (int k = 0; k < 2; k++) {
        p = out->hit[k];
        room &= rs_cl_grow(&p, &out->hit_cap[k], out->nhit[k] + nc + 1, sizeof *out->hit[k]);
        out->hit[k] = p;
    }
    if (!room) {
        *what_out = NULL;
        return RS_CL_BROKEN;
    }
    if (nc)
        RS_CL_TRY("clEnqueueReadBuffer(matches)",
                  clEnqueueReadBuffer(l->q, l->mcand, CL_TRUE, 0, nc * 8, l->hcand, 0, NULL, NULL));
    *what_out = "the device's matches broke the contract's bounds";
    uint32_t *const cnt = l->hcnt;
    memset(cnt, 0, (2 * ntok + 1) * sizeof *cnt);
    for (size_t c = 0; c < nc; c++) {
        const uint32_t i = l->hcand[2 * c], v = l->hcand[2 * c + 1], k = v >> 31;
        const rs_matcher_t *m = out->match[k];
        if (i >= ntok || !l->mon[k] || (v & 0xFFFFFFu) >= m->npat || ((v >> 24) & 0x7Fu) > m->nglob_lens)
            return RS_CL_BROKEN;
        cnt[k * ntok + i + 1]++;
    }
    for (size_t b = 0; b < 2 * ntok; b++)
        cnt[b + 1] += cnt[b];
    uint64_t *const sorted = l->hsort;
    for (size_t c = 0; c < nc; c++) {
        const uint32_t i = l->hcand[2 * c], v = l->hcand[2 * c + 1];
        const uint64_t key = (uint64_t)i << 32 | v;
        sorted[cnt[(v >> 31) * ntok + i]++] = key;
    }
    /* within a token, by the walk's order (chain, pattern): buckets are
     * short, and key >> 31 is the bucket (token << 1 | lexicon) */
    for (size_t c = 1; c < nc; c++) {
        const uint64_t key = sorted[c];
        size_t j = c;
        while (j > 0 && (sorted[j - 1] >> 31) == (key >> 31) && sorted[j - 1] > key) {
            sorted[j] = sorted[j - 1];
            j--;
        }
        sorted[j] = key;
    }
    for (size_t c = 0; c < nc; c++) {
        const uint32_t i = (uint32_t)(sorted[c] >> 32), v = (uint32_t)sorted[c], k = v >> 31;
        if (c > 0 && sorted[c] == sorted[c - 1])
            return RS_CL_BROKEN; /* a pattern found twice at one token */
        out->hit[k][out->nhit[k]++] = (rs_count_hit_t){.tok = (uint32_t)(acc->tokens + i), .pat = v & 0xFFFFFFu};
    }
    *what_out = NULL;
    return CL_SUCCESS;
}

/* Waits for a started counting pass, reads its records back and appends
 * them to acc in token order (term records, then the pair that joins the
 * last token of the passes before to this one's first, when they share a
 * span, then this pass's pairs), and its tokens to acc->tok when the
 * caller wants them; every record is checked against the pass's bounds
 * first. Returns as rs_cl_pass_finish; out of host memory is RS_CL_BROKEN
 * with *what_out NULL. */
static cl_int rs_cl_count_read(rs_cl_flight_t *f, rs_cl_acc_t *acc, const char **what_out);

static cl_int rs_cl_count_finish(rs_cl_flight_t *f, rs_cl_acc_t *acc, const char **what_out)
{
    cl_int e = rs_cl_flight_wait(f, what_out);
    if (e == CL_SUCCESS)
        e = rs_cl_count_read(f, acc, what_out);
    if (e == CL_SUCCESS && acc->tok) { /* the tokens too, without their numbers; the counts gave each span's */
        f->want &= ~RS_CL_WANT_TERMS;
        e = rs_cl_pass_read(f, acc->tok, NULL, what_out);
    }
    return e;
}

/* rs_cl_count_finish's records, once the totals are in. */
static cl_int rs_cl_count_read(rs_cl_flight_t *f, rs_cl_acc_t *acc, const char **what_out)
{
    rs_lane_t *l = f->l;
    cl_int e = CL_SUCCESS;
    const size_t ntok = f->tot[0], nterm = f->terms[0], nrec = f->cst[0], npair = f->cst[1], nfold = f->cst[2];
    const size_t ns = f->ns;
    rs_counts_t *out = acc->out;
    *what_out = "the device's counts broke the contract's bounds";
    if (f->tot[3] != 0 || f->terms[1] != 0 || f->cst[3] != 0 || ntok > f->len || nterm > ntok || nrec != nterm
        || npair > ntok || nfold > f->tot[1] || out->fold_len + nfold > UINT32_MAX) {
        if (f->tot[3] & RS_CL_FLAG_FAULT)
            *what_out = "a kernel reported a fault (injected)";
        return RS_CL_BROKEN;
    }
    void *p;
    int room = 1;
    p = l->hres;
    room &= rs_cl_grow(&p, &l->hres_cap, 8 * nrec + 4 * npair + 4 * ns + 1, 4);
    l->hres = p;
    p = l->hsort;
    room &= rs_cl_grow(&p, &l->hsort_cap, (nrec > npair ? nrec : npair) + 1, 8);
    l->hsort = p;
    p = l->hmap;
    room &= rs_cl_grow(&p, &l->hmap_cap, nterm + 1, 4);
    l->hmap = p;
    p = out->term;
    room &= rs_cl_grow(&p, &out->term_cap, out->nterm + nrec + 1, sizeof *out->term);
    out->term = p;
    p = out->pair;
    room &= rs_cl_grow(&p, &out->pair_cap, out->npair + npair + 2, sizeof *out->pair);
    out->pair = p;
    p = out->fold;
    room &= rs_cl_grow(&p, &out->fold_cap, out->fold_len + nfold + 1, 1);
    out->fold = p;
    if (!room) {
        clFinish(l->q);
        *what_out = NULL;
        return RS_CL_BROKEN;
    }
    uint32_t *const ra = l->hres, *const rb = ra + 4 * nrec, *const rp = rb + 4 * nrec, *const sd = rp + 4 * npair;
    const struct {
        cl_mem m;
        size_t bytes;
        void *to;
        const char *what;
    } rd[] = {
        {l->crec_a, nrec * 16, ra, "clEnqueueReadBuffer(term records)"},
        {l->crec_b, nrec * 16, rb, "clEnqueueReadBuffer(term records)"},
        {l->cpair, npair * 16, rp, "clEnqueueReadBuffer(pair records)"},
        {l->cfold, nfold, out->fold + out->fold_len, "clEnqueueReadBuffer(folded terms)"},
        {l->csdata, ns * 16, sd, "clEnqueueReadBuffer(spans)"},
    };
    for (size_t i = 0; i < sizeof rd / sizeof rd[0] && e == CL_SUCCESS; i++)
        if (rd[i].bytes) {
            e = clEnqueueReadBuffer(l->q, rd[i].m, CL_FALSE, 0, rd[i].bytes, rd[i].to, 0, NULL, NULL);
            if (e != CL_SUCCESS)
                *what_out = rd[i].what;
        }
    const cl_int fe = clFinish(l->q);
    if (e == CL_SUCCESS && fe != CL_SUCCESS) {
        e = fe;
        *what_out = "clFinish";
    }
    if (e != CL_SUCCESS)
        return e;
    *what_out = "the device's counts broke the contract's bounds";

    uint32_t *const map = l->hmap;
    for (size_t k = 0; k < nterm; k++)
        map[k] = RS_CL_NONE;
    uint64_t counted = 0;
    const size_t rec0 = out->nterm;
    rs_cl_order(ra, nrec, 0, l->hsort);
    for (size_t k = 0; k < nrec; k++) {
        const size_t r = (size_t)(l->hsort[k] & 0xFFFFFFFFu);
        const uint32_t *a = ra + 4 * r, *b = rb + 4 * r;
        if (a[0] >= ntok || b[3] >= nterm || map[b[3]] != RS_CL_NONE || a[1] == 0 || a[2] == 0 || a[2] > a[1]
            || b[0] > b[1] || a[3] == 0 || b[2] > nfold || a[3] > nfold - b[2] || rec0 + k >= UINT32_MAX)
            return RS_CL_BROKEN;
        map[b[3]] = (uint32_t)(rec0 + k);
        const uint32_t off = (uint32_t)out->fold_len + b[2];
        out->term[rec0 + k] = (rs_count_term_t){.first = acc->tokens + a[0], .hash = rs_hash64(out->fold + off, a[3]),
                                                .off = off, .len = a[3], .count = a[1], .docs = a[2],
                                                .doc_lo = b[0], .doc_hi = b[1]};
        counted += a[1];
    }
    if (counted != ntok)
        return RS_CL_BROKEN;
    /* the spans: token counts, and the pair across the edge of the pass */
    size_t seen = 0, last_span = SIZE_MAX;
    uint32_t last_rec = 0;
    for (size_t s = 0; s < ns; s++) {
        const uint32_t *d = sd + 4 * s;
        if (d[0] == RS_CL_NONE)
            continue;
        const size_t gs = f->s0 + s;
        if (d[1] < d[0] || d[1] >= ntok || d[0] != seen || d[2] >= nterm || d[3] >= nterm || gs >= acc->nspans)
            return RS_CL_BROKEN;
        if (seen == 0 && acc->carry_span == gs)
            out->pair[out->npair++] =
                (rs_count_pair_t){.first = acc->tokens, .a = acc->carry_rec, .b = map[d[2]], .count = 1};
        acc->ntok[gs] += d[1] - d[0] + 1;
        seen = d[1] + 1;
        last_span = gs;
        last_rec = map[d[3]];
    }
    if (seen != ntok)
        return RS_CL_BROKEN;
    rs_cl_order(rp, npair, 3, l->hsort);
    for (size_t k = 0; k < npair; k++) {
        const uint32_t *q = rp + 4 * (l->hsort[k] & 0xFFFFFFFFu);
        if (q[0] >= nterm || q[1] >= nterm || q[2] == 0 || q[3] == 0 || q[3] >= ntok)
            return RS_CL_BROKEN;
        out->pair[out->npair++] =
            (rs_count_pair_t){.first = acc->tokens + q[3], .a = map[q[0]], .b = map[q[1]], .count = q[2]};
    }
    if (f->want & RS_CL_WANT_MATCH) {
        const cl_int me = rs_cl_match_read(f, acc, what_out);
        if (me != CL_SUCCESS)
            return me;
    }
    out->nterm += nrec;
    out->fold_len += nfold;
    out->invalid_bytes += f->tot[2];
    if (ntok) {
        acc->carry_span = last_span;
        acc->carry_rec = last_rec;
    }
    acc->tokens += ntok;
    *what_out = NULL;
    return CL_SUCCESS;
}

enum { RS_CL_CPU, RS_CL_DEVICE, RS_CL_SHORT };

static void rs_cl_count(rs_opencl_t *h, int where, size_t bytes)
{
    pthread_mutex_lock(&h->mu);
    if (where == RS_CL_DEVICE) {
        h->counts.device_calls++;
        h->counts.device_bytes += bytes;
    } else if (where == RS_CL_SHORT) {
        h->counts.short_calls++;
        h->counts.short_bytes += bytes;
    } else {
        h->counts.cpu_calls++;
        h->counts.cpu_bytes += bytes;
    }
    pthread_mutex_unlock(&h->mu);
}

/* A free lane, or NULL when none is (hybrid) or the handle failed. */
static rs_lane_t *rs_lane_acquire(rs_opencl_t *h)
{
    rs_lane_t *got = NULL;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        if (atomic_load(&h->failed))
            break;
        for (unsigned i = 0; i < h->nlanes && !got; i++)
            if (!h->lane[i].busy)
                got = &h->lane[i];
        if (got || h->hybrid)
            break;
        pthread_cond_wait(&h->cv, &h->mu);
    }
    if (got)
        got->busy = 1;
    pthread_mutex_unlock(&h->mu);
    return got;
}

static void rs_lane_release(rs_opencl_t *h, rs_lane_t *l)
{
    pthread_mutex_lock(&h->mu);
    l->busy = 0;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

/* Binds the calling thread to the PUs near the device for a call, when
 * the device has a locality and the thread is bound elsewhere; returns
 * the binding to restore (rs_cl_unbind), or NULL when nothing changed.
 * Best effort: a failure leaves the thread as it was. */
static hwloc_bitmap_t rs_cl_bind_near(const rs_opencl_t *h)
{
    hwloc_topology_t t = rs_cl_topology();
    if (!h->near || !t)
        return NULL;
    hwloc_bitmap_t old = hwloc_bitmap_alloc();
    if (old && hwloc_get_cpubind(t, old, HWLOC_CPUBIND_THREAD) == 0 && !hwloc_bitmap_isincluded(old, h->near)
        && hwloc_set_cpubind(t, h->near, HWLOC_CPUBIND_THREAD) == 0)
        return old;
    hwloc_bitmap_free(old);
    return NULL;
}

static void rs_cl_unbind(hwloc_bitmap_t old)
{
    if (!old)
        return;
    hwloc_set_cpubind(rs_cl_topology(), old, HWLOC_CPUBIND_THREAD);
    hwloc_bitmap_free(old);
}

/* The first safe cut at or after from (0 < from < len), or len. */
static size_t rs_cl_next_cut(const uint8_t *text, size_t len, size_t from)
{
    for (size_t p = from; p < len; p++) {
        const uint8_t prev = text[p - 1], next = text[p];
        if ((prev == ' ' || prev == '\t' || prev == '\n') && next < 0x80 && next != ' ')
            return p;
    }
    return len;
}

static void rs_cl_tokenize_lane(rs_opencl_t *h, rs_lane_t *l, const uint8_t *text, size_t len, rs_tokens_t *out);

void rs_opencl_tokenize(rs_opencl_t *h, const uint8_t *text, size_t len, rs_tokens_t *out)
{
    if (len == 0)
        return;
    if (len < h->min_bytes) {
        h->cpu(text, len, out);
        rs_cl_count(h, RS_CL_SHORT, len);
        return;
    }
    rs_lane_t *l = rs_lane_acquire(h);
    if (!l) {
        h->cpu(text, len, out);
        rs_cl_count(h, RS_CL_CPU, len);
        return;
    }
    rs_cl_tokenize_lane(h, l, text, len, out);
}

/* rs_opencl_tokenize on lane l, which it releases. */
static void rs_cl_tokenize_lane(rs_opencl_t *h, rs_lane_t *l, const uint8_t *text, size_t len, rs_tokens_t *out)
{
    hwloc_bitmap_t bound = rs_cl_bind_near(h);
    size_t pos = 0;
    while (pos < len) {
        size_t end = len;
        if (len - pos > h->window) {
            const size_t cut = rs_safe_cut(text + pos, h->window + 1);
            if (cut == 0) {
                /* no safe cut in a whole window: this stretch on the CPU */
                end = rs_cl_next_cut(text, len, pos + h->window);
                h->cpu(text + pos, end - pos, out);
                rs_cl_count(h, RS_CL_CPU, end - pos);
                pos = end;
                continue;
            }
            end = pos + cut;
        }
        const char *what = "?";
        const cl_int e = rs_cl_pass(h, l, text + pos, end - pos, out, NULL, &what);
        if (e != CL_SUCCESS) {
            rs_cl_fail(h, what, e == RS_CL_BROKEN ? CL_SUCCESS : e);
            h->cpu(text + pos, len - pos, out);
            rs_cl_count(h, RS_CL_CPU, len - pos);
            break;
        }
        rs_cl_count(h, RS_CL_DEVICE, end - pos);
        pos = end;
    }
    rs_cl_unbind(bound);
    rs_lane_release(h, l);
}

/* Each span on the CPU, as its own call. */
static void rs_cl_spans_cpu(rs_opencl_t *h, const rs_span_t *sp, size_t n, rs_tokens_t *out, size_t *ntok)
{
    for (size_t i = 0; i < n; i++) {
        const size_t before = out->n;
        if (sp[i].len)
            h->cpu(sp[i].text, sp[i].len, out);
        ntok[i] = out->n - before;
    }
}


/* A second lane for the windows of a batch, if one is free now (never
 * waits): every lane the handle made counts, also in hybrid mode, where
 * callers get only the first. NULL when none is free. */
static rs_lane_t *rs_lane_try_partner(rs_opencl_t *h)
{
    rs_lane_t *got = NULL;
    pthread_mutex_lock(&h->mu);
    for (unsigned i = 0; i < RS_CL_LANES && !got && !atomic_load(&h->failed); i++)
        if (h->lane[i].q && !h->lane[i].busy)
            got = &h->lane[i];
    if (got)
        got->busy = 1;
    pthread_mutex_unlock(&h->mu);
    return got;
}

/* Gives the tokens out->tok[first..out->n) to spans by their first bytes
 * (src[k] for token first + k, relative to window start pos). 0 when one
 * lies outside every span (a broken device). */
static int rs_cl_assign(const rs_span_t *sp, size_t n, size_t *span, size_t *span_start, const uint32_t *src,
                        size_t count, size_t pos, size_t end, size_t *ntok)
{
    for (size_t t = 0; t < count; t++) {
        const size_t b = pos + src[t];
        while (*span < n && b >= *span_start + sp[*span].len) {
            *span_start += sp[*span].len + 1;
            (*span)++;
        }
        if (*span == n || b < *span_start || b >= end)
            return 0;
        ntok[*span]++;
    }
    return 1;
}

/* The spans joined into l->join, each followed by a '\n', in windows of
 * at most h->window bytes cut at safe cuts; tokens are given to spans by
 * their first byte. A '\n' ends a segment before it and begins one after
 * it (UAX #29 WB3a, WB3b) whatever is around it, so each span tokenizes as
 * if alone. Double-buffered: with a second lane free (partner), window
 * k + 1 is uploaded and run on one lane while window k's results are read
 * back from the other (its token offsets, given from 0 on the device, are
 * moved on the host). Returns 0 with out unchanged (the caller then runs
 * the spans on the CPU) on any failure; *what_out and *cl_err say why, or
 * *what_out stays NULL when that was no fault of the device (a window
 * without a safe cut, no host memory for the batch). */
static int rs_cl_spans_device(rs_opencl_t *h, rs_lane_t *l, rs_lane_t *partner, const rs_span_t *sp, size_t n,
                              size_t total, rs_tokens_t *out, size_t *ntok, const uint32_t *doc, rs_cl_acc_t *acc,
                              const char **what_out, cl_int *cl_err)
{
    const size_t jlen = total + n, wmax = jlen < h->window ? jlen : h->window;
    rs_lane_t *lanes[2] = {l, partner};
    const int nl = partner ? 2 : 1;
    void *join = l->join;
    int grown = rs_cl_grow(&join, &l->join_cap, jlen, 1);
    l->join = join;
    for (int i = 0; i < nl && grown; i++) {
        void *hsrc = lanes[i]->hsrc;
        grown = rs_cl_grow(&hsrc, &lanes[i]->hsrc_cap, wmax, sizeof *lanes[i]->hsrc);
        lanes[i]->hsrc = hsrc;
    }
    if (!grown)
        return 0; /* no room for the batch on the host: the CPU takes it (the device stays usable) */
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (sp[i].len)
            memcpy(l->join + at, sp[i].text, sp[i].len);
        at += sp[i].len;
        l->join[at++] = '\n';
        ntok[i] = 0;
    }
    const size_t saved_n = out->n, saved_fold = out->fold_len, saved_nterms = out->nterms;
    const uint64_t saved_invalid = out->invalid_bytes;
    const int want = acc ? RS_CL_WANT_SRC | RS_CL_WANT_TERMS | RS_CL_WANT_COUNT | (acc->match ? RS_CL_WANT_MATCH : 0)
                         : RS_CL_WANT_SRC | (out->term && h->terms ? RS_CL_WANT_TERMS : 0);
    size_t span = 0, span_start = 0; /* the span tokens are given to, and where it starts */
    size_t cs = 0, cs_start = 0;     /* counting: the first span of the next pass, and where it starts */
    size_t ms = 0, ms_start = 0;     /* matching: the first span after the passes so far, where it starts */
    rs_cl_flight_t fl[2];
    int head = 0, live = 0, next = 0; /* oldest window in flight, windows in flight, lane for the next */
    size_t pos = 0;
    int ok = 1;
    while ((ok && pos < jlen) || live) { /* after a failure, only to drain what is in flight */
        while (ok && live < nl && pos < jlen) {
            size_t end = jlen;
            if (jlen - pos > h->window && acc && acc->match) {
                /* a pass ends where a span does, so that a phrase never
                 * runs into the next pass (every span fits a window:
                 * rs_cl_count_lane checked) */
                while (ms < n && ms_start + sp[ms].len + 1 - pos <= h->window) {
                    ms_start += sp[ms].len + 1;
                    ms++;
                }
                if (ms_start <= pos) {
                    ok = 0;
                    break;
                }
                end = ms_start;
            } else if (jlen - pos > h->window) {
                const size_t cut = rs_safe_cut(l->join + pos, h->window + 1);
                if (cut == 0) {
                    ok = 0; /* no safe cut in a whole window: all on the CPU */
                    break;
                }
                end = pos + cut;
            }
            rs_cl_flight_t *f = &fl[(head + live) % 2];
            if (acc) { /* the spans the pass meets, their starts in it and their documents */
                while (cs < n && cs_start + sp[cs].len + 1 <= pos) {
                    cs_start += sp[cs].len + 1;
                    cs++;
                }
                size_t ns = 0;
                for (size_t s = cs, at = cs_start; s < n && at < end; at += sp[s].len + 1, s++)
                    ns++;
                void *hs = lanes[next]->hspan;
                if (!rs_cl_grow(&hs, &lanes[next]->hspan_cap, 2 * ns + 2, sizeof *lanes[next]->hspan)) {
                    ok = 0; /* no host memory: the caller tokenizes instead */
                    break;
                }
                lanes[next]->hspan = hs;
                for (size_t k = 0, at = cs_start; k < ns; at += sp[cs + k].len + 1, k++) {
                    lanes[next]->hspan[k] = (uint32_t)((at > pos ? at : pos) - pos);
                    lanes[next]->hspan[ns + k] = doc[cs + k];
                }
                f->s0 = cs;
                f->ns = ns;
            }
            /* one lane: offsets from out's end, as they stay; two: from 0, moved when read */
            const cl_uint base = nl == 1 ? (cl_uint)out->fold_len : 0u;
            const cl_int e = rs_cl_pass_start(h, lanes[next], l->join + pos, end - pos, base, want, f, what_out);
            if (e != CL_SUCCESS) {
                *cl_err = e;
                ok = 0;
                break;
            }
            f->pos = pos;
            live++;
            next = (next + 1) % nl;
            pos = end;
        }
        if (!live)
            break;
        rs_cl_flight_t *f = &fl[head];
        head = (head + 1) % 2;
        live--;
        if (!ok) { /* drain: nothing more is kept */
            clWaitForEvents(1, &f->ev);
            clReleaseEvent(f->ev);
            clFinish(f->l->q);
            continue;
        }
        if (acc) {
            const cl_int e = rs_cl_count_finish(f, acc, what_out);
            if (e != CL_SUCCESS) {
                *cl_err = e;
                ok = 0;
            }
            continue;
        }
        const size_t first = out->n;
        const cl_int e = rs_cl_pass_finish(f, out, f->l->hsrc, what_out);
        if (e != CL_SUCCESS) {
            *cl_err = e;
            ok = 0;
            continue;
        }
        if (!rs_cl_assign(sp, n, &span, &span_start, f->l->hsrc, out->n - first, f->pos, f->pos + f->len, ntok)) {
            *what_out = "the device placed a token outside the text";
            *cl_err = RS_CL_BROKEN;
            ok = 0;
        }
    }
    if (ok) {
        out->numbered = !acc && (want & RS_CL_WANT_TERMS) != 0;
        return 1;
    }
    out->n = saved_n;
    out->fold_len = saved_fold;
    out->nterms = saved_nterms;
    out->invalid_bytes = saved_invalid;
    return 0;
}

static void rs_cl_spans_lane(rs_opencl_t *h, rs_lane_t *l, const rs_span_t *sp, size_t n, size_t total,
                             rs_tokens_t *out, size_t *ntok);

static size_t rs_cl_total(const rs_span_t *sp, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += sp[i].len;
    return total;
}

void rs_opencl_tokenize_spans(rs_opencl_t *h, const rs_span_t *sp, size_t n, rs_tokens_t *out, size_t *ntok)
{
    const size_t total = rs_cl_total(sp, n);
    if (total == 0 || total < h->min_bytes) {
        rs_cl_spans_cpu(h, sp, n, out, ntok);
        if (total)
            rs_cl_count(h, RS_CL_SHORT, total);
        return;
    }
    rs_lane_t *l = rs_lane_acquire(h);
    if (!l) {
        rs_cl_spans_cpu(h, sp, n, out, ntok);
        rs_cl_count(h, RS_CL_CPU, total);
        return;
    }
    rs_cl_spans_lane(h, l, sp, n, total, out, ntok);
}

/* rs_opencl_tokenize_spans of total bytes on lane l, which it releases. */
static void rs_cl_spans_lane(rs_opencl_t *h, rs_lane_t *l, const rs_span_t *sp, size_t n, size_t total,
                             rs_tokens_t *out, size_t *ntok)
{
    const char *what = NULL;
    cl_int e = CL_SUCCESS;
    rs_lane_t *partner = total + n > h->window ? rs_lane_try_partner(h) : NULL;
    hwloc_bitmap_t bound = rs_cl_bind_near(h);
    const int done = rs_cl_spans_device(h, l, partner, sp, n, total, out, ntok, NULL, NULL, &what, &e);
    rs_cl_unbind(bound);
    if (partner) {
        rs_lane_release(h, partner);
        if (done) {
            pthread_mutex_lock(&h->mu);
            h->counts.paired_calls++;
            pthread_mutex_unlock(&h->mu);
        }
    }
    if (done) {
        rs_cl_count(h, RS_CL_DEVICE, total);
        if (out->numbered) {
            pthread_mutex_lock(&h->mu);
            h->counts.numbered_calls++;
            pthread_mutex_unlock(&h->mu);
        }
    } else {
        if (what)
            rs_cl_fail(h, what, e == RS_CL_BROKEN ? CL_SUCCESS : e);
        rs_cl_spans_cpu(h, sp, n, out, ntok);
        rs_cl_count(h, RS_CL_CPU, total);
    }
    rs_lane_release(h, l);
}

/* Whether h counts a batch of total bytes at all. */
static int rs_cl_counts_batch(rs_opencl_t *h, size_t total)
{
    return h->count && total > 0 && total >= h->min_bytes && !atomic_load(&h->failed);
}

/* rs_opencl_count_spans of total bytes on lane l, which it releases. */
static int rs_cl_count_lane(rs_opencl_t *h, rs_lane_t *l, const rs_span_t *sp, const uint32_t *doc, size_t n,
                            size_t total, rs_counts_t *out, rs_tokens_t *tok, size_t *ntok)
{
    out->nterm = out->npair = out->fold_len = 0;
    out->invalid_bytes = 0;
    out->matched = 0;
    out->nhit[0] = out->nhit[1] = 0;
    for (size_t i = 0; i < n; i++)
        ntok[i] = 0;
    rs_cl_acc_t acc = {.h = h, .out = out, .tok = tok, .ntok = ntok, .nspans = n, .carry_span = SIZE_MAX};
    const size_t saved_n = tok ? tok->n : 0, saved_fold = tok ? tok->fold_len : 0;
    const uint64_t saved_invalid = tok ? tok->invalid_bytes : 0;
    rs_tokens_t none = {0}; /* counting reads no tokens back */
    const char *what = NULL;
    cl_int e = CL_SUCCESS;
    rs_lane_t *partner = total + n > h->window ? rs_lane_try_partner(h) : NULL;
    /* the lexicons on the device too, when every span fits a pass */
    const rs_matcher_t *const lex[2] = {(const rs_matcher_t *)out->match[0], (const rs_matcher_t *)out->match[1]};
    acc.match = h->match && ((lex[0] && lex[0]->npat) || (lex[1] && lex[1]->npat));
    for (size_t i = 0; i < n && acc.match; i++)
        acc.match = sp[i].len + 1 <= h->window;
    if (acc.match)
        acc.match = rs_cl_lex_ready(h, l, lex) && (!partner || rs_cl_lex_ready(h, partner, lex));
    if (acc.match)
        acc.tok = NULL; /* the matches come back instead of the tokens */
    hwloc_bitmap_t bound = rs_cl_bind_near(h);
    const int done = rs_cl_spans_device(h, l, partner, sp, n, total, &none, ntok, doc, &acc, &what, &e);
    rs_cl_unbind(bound);
    if (partner)
        rs_lane_release(h, partner);
    if (done) {
        out->matched = acc.match;
        rs_cl_count(h, RS_CL_DEVICE, total);
        pthread_mutex_lock(&h->mu);
        h->counts.counted_calls++;
        h->counts.matched_calls += acc.match;
        h->counts.paired_calls += partner != NULL;
        pthread_mutex_unlock(&h->mu);
    } else {
        if (what)
            rs_cl_fail(h, what, e == RS_CL_BROKEN ? CL_SUCCESS : e);
        if (tok) { /* as it was: the caller tokenizes the spans instead */
            tok->n = saved_n;
            tok->fold_len = saved_fold;
            tok->invalid_bytes = saved_invalid;
        }
    }
    rs_lane_release(h, l);
    return done;
}

int rs_opencl_count_spans(rs_opencl_t *h, const rs_span_t *sp, const uint32_t *doc, size_t n, rs_counts_t *out,
                          rs_tokens_t *tok, size_t *ntok)
{
    const size_t total = rs_cl_total(sp, n);
    if (!rs_cl_counts_batch(h, total))
        return 0;
    rs_lane_t *l = rs_lane_acquire(h);
    return l ? rs_cl_count_lane(h, l, sp, doc, n, total, out, tok, ntok) : 0;
}

rs_opencl_counts_t rs_opencl_counts(rs_opencl_t *h)
{
    pthread_mutex_lock(&h->mu);
    const rs_opencl_counts_t c = h->counts;
    pthread_mutex_unlock(&h->mu);
    return c;
}

static rs_err_e rs_cl_take(rs_opencl_t *h, rs_strlist_t *into)
{
    rs_err_e r = RS_OK;
    pthread_mutex_lock(&h->mu);
    size_t i = 0;
    for (; i < h->warnings.n; i++) {
        if (rs_strlist_push(into, h->warnings.s[i], strlen(h->warnings.s[i])) < 0) {
            r = RS_ERR_NOMEM;
            break;
        }
        free(h->warnings.s[i]);
    }
    /* keep what was not moved */
    if (i && i < h->warnings.n)
        memmove(h->warnings.s, h->warnings.s + i, (h->warnings.n - i) * sizeof *h->warnings.s);
    h->warnings.n -= i;
    pthread_mutex_unlock(&h->mu);
    return r;
}

rs_err_e rs_opencl_bench_kernels(rs_opencl_t *h, const uint8_t *text, size_t len, unsigned reps, int terms,
                                 const struct rs_matcher *const lex[2], double *seconds, uint64_t *tokens,
                                 rs_error_t *err)
{
    const int want = (terms > 1 ? RS_CL_WANT_SRC | RS_CL_WANT_TERMS | RS_CL_WANT_COUNT : terms ? RS_CL_WANT_TERMS : 0)
                     | (terms > 2 ? RS_CL_WANT_MATCH : 0);
    RS_RETURN_IF(terms == 1 && !h->terms, err, RS_ERR_UNSUPPORTED, "OpenCL bench: the handle was opened without terms");
    RS_RETURN_IF(terms > 1 && !h->count, err, RS_ERR_UNSUPPORTED, "OpenCL bench: the handle was opened without count");
    RS_RETURN_IF(!rs_opencl_usable(h), err, RS_ERR_UNSUPPORTED, "OpenCL: the device is not usable: %s",
                 h->info.status);
    RS_RETURN_IF(len == 0 || len > h->window, err, RS_ERR_UNSUPPORTED, "OpenCL bench: length %zu not in 1..%zu", len,
                 h->window);
    rs_lane_t *l = rs_lane_acquire(h);
    RS_RETURN_IF(!l, err, RS_ERR_UNSUPPORTED, "OpenCL: the device is not usable");
    const char *what = "?";
    cl_int e = rs_lane_reserve(h, l, len);
    if (e == CL_SUCCESS)
        e = clEnqueueWriteBuffer(l->q, l->text, CL_TRUE, 0, len, text, 0, NULL, NULL);
    if (e == CL_SUCCESS && (want & RS_CL_WANT_MATCH)) {
        const rs_matcher_t *const m[2] = {lex ? (const rs_matcher_t *)lex[0] : NULL,
                                          lex ? (const rs_matcher_t *)lex[1] : NULL};
        if (!rs_cl_lex_ready(h, l, m))
            e = CL_OUT_OF_RESOURCES;
        what = "uploading the lexicons";
        if (e == CL_SUCCESS)
            e = rs_lane_match_buffer(h, l);
    }
    static const cl_uint zero[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    const cl_uint none = 0xFFFFFFFFu;
    if (e == CL_SUCCESS && (want & RS_CL_WANT_COUNT)) { /* the text as one span of document 0 */
        e = rs_lane_spans(h, l, 1);
        if (e == CL_SUCCESS)
            e = clEnqueueWriteBuffer(l->q, l->cstart, CL_TRUE, 0, 4, zero, 0, NULL, NULL);
        if (e == CL_SUCCESS)
            e = clEnqueueWriteBuffer(l->q, l->cdoc, CL_TRUE, 0, 4, zero, 0, NULL, NULL);
    }
    cl_uint tot[4] = {0, 0, 0, 0}, cst[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    struct timespec t0 = {0, 0};
    /* one untimed run, then the timed ones */
    for (unsigned r = 0; e == CL_SUCCESS && r <= reps; r++) {
        struct timespec t1;
        if (r == 1)
            clock_gettime(CLOCK_MONOTONIC, &t0);
        if (want & RS_CL_WANT_COUNT) {
            e = clEnqueueFillBuffer(l->q, l->csdata, &none, sizeof none, 0, 16, 0, NULL, NULL);
            if (e == CL_SUCCESS)
                e = clEnqueueWriteBuffer(l->q, l->cstate, CL_FALSE, 0, sizeof zero, zero, 0, NULL, NULL);
            if (e != CL_SUCCESS)
                break;
        }
        e = rs_cl_enqueue_kernels(h, l, (cl_uint)len, 0, want, 1, &what);
        if (e == CL_SUCCESS && (want & RS_CL_WANT_COUNT) && r == reps)
            e = clEnqueueReadBuffer(l->q, l->cstate, CL_TRUE, 0, sizeof cst, cst, 0, NULL, NULL);
        if (e == CL_SUCCESS && (r == 0 || r == reps))
            e = clEnqueueReadBuffer(l->q, l->totals, CL_TRUE, 0, sizeof tot, tot, 0, NULL, NULL);
        if (r == reps && e == CL_SUCCESS) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            *seconds = reps ? (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9 : 0.0;
        }
    }
    if (e != CL_SUCCESS)
        clFinish(l->q);
    rs_lane_release(h, l);
    RS_RETURN_IF(e != CL_SUCCESS, err, RS_ERR_DEVICE, "OpenCL bench: %s: %s (%d)", what, rs_cl_errstr(e), e);
    RS_RETURN_IF(cst[3] != 0, err, RS_ERR_DEVICE, "OpenCL bench: a count table filled");
    *tokens = tot[0];
    return RS_OK;
}

rs_err_e rs_opencl_devices(rs_opencl_devinfo_t **out, size_t *n, int build, rs_error_t *err)
{
    *out = NULL;
    *n = 0;
    cl_platform_id *plats = NULL;
    cl_uint np = 0;
    RS_FORWARD(rs_cl_platforms(&plats, &np, err));
    rs_opencl_devinfo_t *v = NULL;
    size_t nv = 0;
    for (cl_uint p = 0; p < np; p++) {
        cl_device_id *devs = NULL;
        cl_uint nd = 0;
        if (rs_cl_devices_of(plats[p], &devs, &nd, err) != RS_OK) {
            /* a broken platform does not hide the others */
            continue;
        }
        rs_opencl_devinfo_t *nv_ = realloc(v, (nv + nd + 1) * sizeof *v);
        if (!nv_) {
            free(devs);
            free(plats);
            free(v);
            return rs_error_set(err, RS_ERR_NOMEM, "out of memory");
        }
        v = nv_;
        for (cl_uint d = 0; d < nd; d++) {
            rs_cl_describe(plats[p], devs[d], p, d, &v[nv]);
            if (build) {
                rs_error_t oe = {0};
                const rs_opencl_opts_t o = {.min_device_bytes = -1};
                rs_opencl_t *h = rs_opencl_open(p, d, &o, &oe);
                if (h) {
                    v[nv] = h->info;
                    rs_opencl_close(h);
                } else {
                    v[nv].built = 0;
                    snprintf(v[nv].status, sizeof v[nv].status, "%.500s", oe.msg);
                }
            }
            nv++;
        }
        free(devs);
    }
    free(plats);
    *out = v;
    *n = nv;
    return RS_OK;
}

/* ------------------------------------------------------------------ */
/* Kernel tables for rs_kernels_select */

typedef struct rs_cl_slot {
    rs_kernels_t table;
    rs_opencl_t *h;
    unsigned p, d;
    int hybrid;
    char name[48];
    char desc[400];
} rs_cl_slot_t;

static rs_cl_slot_t rs_slots[RS_OPENCL_SLOTS];
static pthread_mutex_t rs_slots_mu = PTHREAD_MUTEX_INITIALIZER;

#define RS_CL_SLOT_FN(i)                                                                           \
    static void rs_cl_slot_tokenize_##i(const uint8_t *text, size_t len, rs_tokens_t *out)         \
    {                                                                                              \
        rs_opencl_tokenize(rs_slots[i].h, text, len, out);                                         \
    }
RS_CL_SLOT_FN(0)
RS_CL_SLOT_FN(1)
RS_CL_SLOT_FN(2)
RS_CL_SLOT_FN(3)
RS_CL_SLOT_FN(4)
RS_CL_SLOT_FN(5)
RS_CL_SLOT_FN(6)
RS_CL_SLOT_FN(7)
#define RS_CL_SLOT_SPANS_FN(i)                                                                     \
    static void rs_cl_slot_spans_##i(const rs_span_t *sp, size_t n, rs_tokens_t *out, size_t *ntok)   \
    {                                                                                              \
        rs_opencl_tokenize_spans(rs_slots[i].h, sp, n, out, ntok);                                 \
    }
RS_CL_SLOT_SPANS_FN(0)
RS_CL_SLOT_SPANS_FN(1)
RS_CL_SLOT_SPANS_FN(2)
RS_CL_SLOT_SPANS_FN(3)
RS_CL_SLOT_SPANS_FN(4)
RS_CL_SLOT_SPANS_FN(5)
RS_CL_SLOT_SPANS_FN(6)
RS_CL_SLOT_SPANS_FN(7)
#define RS_CL_SLOT_COUNT_FN(i)                                                                     \
    static int rs_cl_slot_count_##i(const rs_span_t *sp, const uint32_t *doc, size_t n, rs_counts_t *out, \
                                    rs_tokens_t *tok, size_t *ntok)                                \
    {                                                                                              \
        return rs_opencl_count_spans(rs_slots[i].h, sp, doc, n, out, tok, ntok);                   \
    }
RS_CL_SLOT_COUNT_FN(0)
RS_CL_SLOT_COUNT_FN(1)
RS_CL_SLOT_COUNT_FN(2)
RS_CL_SLOT_COUNT_FN(3)
RS_CL_SLOT_COUNT_FN(4)
RS_CL_SLOT_COUNT_FN(5)
RS_CL_SLOT_COUNT_FN(6)
RS_CL_SLOT_COUNT_FN(7)
_Static_assert(RS_OPENCL_SLOTS == 8, "one rs_cl_slot_tokenize_N, rs_cl_slot_spans_N and rs_cl_slot_count_N per slot");
static const rs_count_spans_fn rs_slot_count_fns[RS_OPENCL_SLOTS] = {
    rs_cl_slot_count_0, rs_cl_slot_count_1, rs_cl_slot_count_2, rs_cl_slot_count_3,
    rs_cl_slot_count_4, rs_cl_slot_count_5, rs_cl_slot_count_6, rs_cl_slot_count_7,
};
static const rs_tokenize_fn rs_slot_fns[RS_OPENCL_SLOTS] = {
    rs_cl_slot_tokenize_0, rs_cl_slot_tokenize_1, rs_cl_slot_tokenize_2, rs_cl_slot_tokenize_3,
    rs_cl_slot_tokenize_4, rs_cl_slot_tokenize_5, rs_cl_slot_tokenize_6, rs_cl_slot_tokenize_7,
};
static const rs_tokenize_spans_fn rs_slot_span_fns[RS_OPENCL_SLOTS] = {
    rs_cl_slot_spans_0, rs_cl_slot_spans_1, rs_cl_slot_spans_2, rs_cl_slot_spans_3,
    rs_cl_slot_spans_4, rs_cl_slot_spans_5, rs_cl_slot_spans_6, rs_cl_slot_spans_7,
};

/* The slot of (p, d, hybrid), opened when new; NULL when the device does
 * not exist or every slot is taken. Called with rs_slots_mu held. */
static rs_cl_slot_t *rs_cl_slot_get(unsigned p, unsigned d, int hybrid)
{
    rs_cl_slot_t *free_slot = NULL;
    for (unsigned i = 0; i < RS_OPENCL_SLOTS; i++) {
        rs_cl_slot_t *s = &rs_slots[i];
        if (s->h && s->p == p && s->d == d && s->hybrid == hybrid)
            return s;
        if (!s->h && !free_slot)
            free_slot = s;
    }
    if (!free_slot)
        return NULL;
    const rs_opencl_opts_t o = {.hybrid = hybrid, .min_device_bytes = -1};
    rs_opencl_t *h = rs_opencl_open(p, d, &o, NULL);
    if (!h)
        return NULL;
    rs_cl_slot_t *s = free_slot;
    s->p = p;
    s->d = d;
    s->hybrid = hybrid;
    snprintf(s->name, sizeof s->name, "opencl:%u:%u%s", p, d, hybrid ? "+cpu" : "");
    snprintf(s->desc, sizeof s->desc, "OpenCL %s device %.120s (%.120s, driver %.60s)%s", h->info.type, h->info.device_name,
             h->info.platform_name, h->info.driver_version, hybrid ? ", CPU when the device is busy" : "");
    s->table = (rs_kernels_t){
        .name = s->name,
        .description = s->desc,
        .required = 0,
        .tokenize = rs_slot_fns[s - rs_slots],
        .tokenize_spans = rs_slot_span_fns[s - rs_slots],
        .count_spans = rs_slot_count_fns[s - rs_slots],
    };
    s->h = h;
    return s;
}

/* Groups: every usable device of a kind, each through its hybrid slot,
 * and the CPU workers. A call goes to the first device with a free lane,
 * else to the CPU (counted on the first device's handle). */
enum { RS_CL_GROUP_ALL, RS_CL_GROUP_GPU, RS_CL_GROUPS };
static const char *const rs_group_names[RS_CL_GROUPS] = {"opencl:all+cpu", "opencl:gpu+cpu"};

typedef struct rs_cl_group {
    rs_kernels_t table;
    rs_opencl_t *h[RS_OPENCL_SLOTS]; /* usable when the group was made */
    size_t n;
    int made; /* tried already (n may be 0) */
    char desc[400];
} rs_cl_group_t;

static rs_cl_group_t rs_groups[RS_CL_GROUPS];

static void rs_cl_group_tokenize(const rs_cl_group_t *g, const uint8_t *text, size_t len, rs_tokens_t *out)
{
    rs_opencl_t *const h0 = g->h[0];
    if (len == 0)
        return;
    if (len >= h0->min_bytes)
        for (size_t i = 0; i < g->n; i++) {
            rs_lane_t *l = rs_lane_acquire(g->h[i]);
            if (l) {
                rs_cl_tokenize_lane(g->h[i], l, text, len, out);
                return;
            }
        }
    h0->cpu(text, len, out);
    rs_cl_count(h0, len < h0->min_bytes ? RS_CL_SHORT : RS_CL_CPU, len);
}

static void rs_cl_group_spans(const rs_cl_group_t *g, const rs_span_t *sp, size_t n, rs_tokens_t *out, size_t *ntok)
{
    rs_opencl_t *const h0 = g->h[0];
    const size_t total = rs_cl_total(sp, n);
    if (total && total >= h0->min_bytes)
        for (size_t i = 0; i < g->n; i++) {
            rs_lane_t *l = rs_lane_acquire(g->h[i]);
            if (l) {
                rs_cl_spans_lane(g->h[i], l, sp, n, total, out, ntok);
                return;
            }
        }
    rs_cl_spans_cpu(h0, sp, n, out, ntok);
    if (total)
        rs_cl_count(h0, total < h0->min_bytes ? RS_CL_SHORT : RS_CL_CPU, total);
}

static int rs_cl_group_count(const rs_cl_group_t *g, const rs_span_t *sp, const uint32_t *doc, size_t n,
                             rs_counts_t *out, rs_tokens_t *tok, size_t *ntok)
{
    const size_t total = rs_cl_total(sp, n);
    for (size_t i = 0; i < g->n; i++) {
        if (!rs_cl_counts_batch(g->h[i], total))
            continue;
        rs_lane_t *l = rs_lane_acquire(g->h[i]);
        if (l)
            return rs_cl_count_lane(g->h[i], l, sp, doc, n, total, out, tok, ntok);
    }
    return 0;
}

#define RS_CL_GROUP_FNS(i)                                                                         \
    static void rs_cl_group_tokenize_##i(const uint8_t *text, size_t len, rs_tokens_t *out)        \
    {                                                                                              \
        rs_cl_group_tokenize(&rs_groups[i], text, len, out);                                       \
    }                                                                                              \
    static void rs_cl_group_spans_##i(const rs_span_t *sp, size_t n, rs_tokens_t *out, size_t *ntok) \
    {                                                                                              \
        rs_cl_group_spans(&rs_groups[i], sp, n, out, ntok);                                        \
    }                                                                                              \
    static int rs_cl_group_count_##i(const rs_span_t *sp, const uint32_t *doc, size_t n, rs_counts_t *out, \
                                     rs_tokens_t *tok, size_t *ntok)                               \
    {                                                                                              \
        return rs_cl_group_count(&rs_groups[i], sp, doc, n, out, tok, ntok);                       \
    }
RS_CL_GROUP_FNS(0)
RS_CL_GROUP_FNS(1)
_Static_assert(RS_CL_GROUPS == 2, "one set of rs_cl_group_*_N per group");

/* Group k, made on first use: NULL when no device of its kind is usable.
 * Called with rs_slots_mu held. */
static const rs_kernels_t *rs_cl_group_get(int k)
{
    rs_cl_group_t *g = &rs_groups[k];
    if (!g->made) {
        g->made = 1;
        rs_opencl_devinfo_t *v = NULL;
        size_t nv = 0;
        if (rs_opencl_devices(&v, &nv, 0, NULL) == RS_OK)
            for (size_t i = 0; i < nv && g->n < RS_OPENCL_SLOTS; i++) {
                if (k == RS_CL_GROUP_GPU && strcmp(v[i].type, "cpu") == 0)
                    continue; /* a CPU device would compete with the CPU workers for the same cores */
                const rs_cl_slot_t *s = rs_cl_slot_get(v[i].platform, v[i].device, 1);
                if (s && rs_opencl_usable(s->h))
                    g->h[g->n++] = s->h;
            }
        free(v);
        size_t at = (size_t)snprintf(g->desc, sizeof g->desc, "%zu OpenCL device%s and the CPU workers:", g->n,
                                     g->n == 1 ? "" : "s");
        for (size_t i = 0; i < g->n && at < sizeof g->desc; i++)
            at += (size_t)snprintf(g->desc + at, sizeof g->desc - at, "%s opencl:%u:%u (%.60s)", i ? "," : "",
                                   g->h[i]->info.platform, g->h[i]->info.device, g->h[i]->info.device_name);
        static const rs_tokenize_fn tok[RS_CL_GROUPS] = {rs_cl_group_tokenize_0, rs_cl_group_tokenize_1};
        static const rs_tokenize_spans_fn spans[RS_CL_GROUPS] = {rs_cl_group_spans_0, rs_cl_group_spans_1};
        static const rs_count_spans_fn count[RS_CL_GROUPS] = {rs_cl_group_count_0, rs_cl_group_count_1};
        g->table = (rs_kernels_t){.name = rs_group_names[k],
                                  .description = g->desc,
                                  .tokenize = tok[k],
                                  .tokenize_spans = spans[k],
                                  .count_spans = count[k]};
    }
    return g->n ? &g->table : NULL;
}

/* "opencl", "opencl:P:D", each optionally followed by "+cpu"; "auto+opencl",
 * the same as "opencl+cpu"; and the groups "opencl:all+cpu" (every usable
 * device) and "opencl:gpu+cpu" (every usable device but CPU devices). */
static const rs_kernels_t *rs_cl_hook(const char *name)
{
    for (int k = 0; k < RS_CL_GROUPS; k++)
        if (strcmp(name, rs_group_names[k]) == 0) {
            pthread_mutex_lock(&rs_slots_mu);
            const rs_kernels_t *t = rs_cl_group_get(k);
            pthread_mutex_unlock(&rs_slots_mu);
            return t;
        }
    if (strcmp(name, "auto+opencl") == 0)
        name = "opencl+cpu";
    if (strncmp(name, "opencl", 6) != 0)
        return NULL;
    const char *rest = name + 6;
    int explicit_dev = 0;
    unsigned p = 0, d = 0;
    if (*rest == ':') {
        int used = 0;
        if (sscanf(rest, ":%u:%u%n", &p, &d, &used) != 2 || used <= 0)
            return NULL;
        rest += used;
        explicit_dev = 1;
    }
    int hybrid = 0;
    if (strcmp(rest, "+cpu") == 0)
        hybrid = 1;
    else if (*rest)
        return NULL;

    const rs_kernels_t *r = NULL;
    pthread_mutex_lock(&rs_slots_mu);
    if (explicit_dev) {
        const rs_cl_slot_t *s = rs_cl_slot_get(p, d, hybrid);
        r = s ? &s->table : NULL;
    } else {
        /* the first device whose kernels build; else the first device,
         * whose pieces then run on the CPU with the build log as warning */
        rs_opencl_devinfo_t *v = NULL;
        size_t nv = 0;
        if (rs_opencl_devices(&v, &nv, 0, NULL) == RS_OK) {
            const rs_cl_slot_t *first = NULL;
            for (size_t i = 0; i < nv && !r; i++) {
                const rs_cl_slot_t *s = rs_cl_slot_get(v[i].platform, v[i].device, hybrid);
                if (s && !first)
                    first = s;
                if (s && rs_opencl_usable(s->h))
                    r = &s->table;
            }
            if (!r && first)
                r = &first->table;
        }
        free(v);
    }
    pthread_mutex_unlock(&rs_slots_mu);
    return r;
}

void rs_opencl_register(void)
{
    rs_kernels_set_hook(rs_cl_hook);
}

rs_opencl_t *rs_opencl_of_kernels(const rs_kernels_t *k)
{
    for (unsigned i = 0; i < RS_OPENCL_SLOTS; i++)
        if (k == &rs_slots[i].table)
            return rs_slots[i].h;
    return NULL;
}

int rs_opencl_kernels_counts(const rs_kernels_t *k, rs_opencl_counts_t *c)
{
    memset(c, 0, sizeof *c);
    rs_opencl_t *h = rs_opencl_of_kernels(k);
    if (h) {
        *c = rs_opencl_counts(h);
        return 1;
    }
    for (int g = 0; g < RS_CL_GROUPS; g++)
        if (k == &rs_groups[g].table && rs_groups[g].n) {
            for (size_t i = 0; i < rs_groups[g].n; i++) {
                const rs_opencl_counts_t x = rs_opencl_counts(rs_groups[g].h[i]);
                c->device_calls += x.device_calls;
                c->device_bytes += x.device_bytes;
                c->short_calls += x.short_calls;
                c->short_bytes += x.short_bytes;
                c->cpu_calls += x.cpu_calls;
                c->cpu_bytes += x.cpu_bytes;
                c->paired_calls += x.paired_calls;
                c->numbered_calls += x.numbered_calls;
                c->counted_calls += x.counted_calls;
                c->matched_calls += x.matched_calls;
            }
            return 1;
        }
    return 0;
}

rs_err_e rs_opencl_take_warnings(rs_opencl_t *h, rs_strlist_t *into)
{
    if (h)
        return rs_cl_take(h, into);
    rs_err_e r = RS_OK;
    pthread_mutex_lock(&rs_slots_mu);
    for (unsigned i = 0; i < RS_OPENCL_SLOTS; i++)
        if (rs_slots[i].h && rs_cl_take(rs_slots[i].h, into) != RS_OK)
            r = RS_ERR_NOMEM;
    pthread_mutex_unlock(&rs_slots_mu);
    return r;
}

void rs_opencl_shutdown(void)
{
    pthread_mutex_lock(&rs_slots_mu);
    memset(rs_groups, 0, sizeof rs_groups); /* they hold the slots' handles */
    for (unsigned i = 0; i < RS_OPENCL_SLOTS; i++) {
        rs_opencl_close(rs_slots[i].h);
        memset(&rs_slots[i], 0, sizeof rs_slots[i]);
    }
    pthread_mutex_unlock(&rs_slots_mu);
}

#else /* !RS_OPENCL: built without OpenCL */

struct rs_opencl {
    int unused;
};

int rs_opencl_compiled(void)
{
    return 0;
}

rs_err_e rs_opencl_devices(rs_opencl_devinfo_t **out, size_t *n, int build, rs_error_t *err)
{
    (void)build;
    (void)err;
    *out = NULL;
    *n = 0;
    return RS_OK;
}

rs_opencl_t *rs_opencl_open(unsigned p, unsigned d, const rs_opencl_opts_t *opts, rs_error_t *err)
{
    (void)p;
    (void)d;
    (void)opts;
    rs_error_set(err, RS_ERR_UNSUPPORTED, "this rostrum was built without OpenCL");
    return NULL;
}

void rs_opencl_close(rs_opencl_t *h)
{
    (void)h;
}

int rs_opencl_usable(const rs_opencl_t *h)
{
    (void)h;
    return 0;
}

const rs_opencl_devinfo_t *rs_opencl_info(const rs_opencl_t *h)
{
    (void)h;
    return NULL;
}

void rs_opencl_tokenize(rs_opencl_t *h, const uint8_t *text, size_t len, rs_tokens_t *out)
{
    (void)h;
    rs_kernels_select(NULL)->tokenize(text, len, out);
}

int rs_opencl_count_spans(rs_opencl_t *h, const rs_span_t *sp, const uint32_t *doc, size_t n, rs_counts_t *out,
                          rs_tokens_t *tok, size_t *ntok)
{
    (void)h, (void)sp, (void)doc, (void)n, (void)out, (void)tok, (void)ntok;
    return 0;
}

void rs_opencl_tokenize_spans(rs_opencl_t *h, const rs_span_t *sp, size_t n, rs_tokens_t *out, size_t *ntok)
{
    (void)h;
    const rs_tokenize_fn f = rs_kernels_select(NULL)->tokenize;
    for (size_t i = 0; i < n; i++) {
        const size_t before = out->n;
        if (sp[i].len)
            f(sp[i].text, sp[i].len, out);
        ntok[i] = out->n - before;
    }
}

rs_opencl_counts_t rs_opencl_counts(rs_opencl_t *h)
{
    (void)h;
    return (rs_opencl_counts_t){0};
}

rs_err_e rs_opencl_take_warnings(rs_opencl_t *h, rs_strlist_t *into)
{
    (void)h;
    (void)into;
    return RS_OK;
}

rs_err_e rs_opencl_bench_kernels(rs_opencl_t *h, const uint8_t *text, size_t len, unsigned reps, int terms,
                                 const struct rs_matcher *const lex[2], double *seconds, uint64_t *tokens,
                                 rs_error_t *err)
{
    (void)h;
    (void)text;
    (void)len;
    (void)reps;
    (void)terms;
    (void)lex;
    (void)seconds;
    (void)tokens;
    return rs_error_set(err, RS_ERR_UNSUPPORTED, "this rostrum was built without OpenCL");
}

void rs_opencl_register(void)
{
}

rs_opencl_t *rs_opencl_of_kernels(const rs_kernels_t *k)
{
    (void)k;
    return NULL;
}

void rs_opencl_shutdown(void)
{
}

int rs_opencl_kernels_counts(const rs_kernels_t *k, rs_opencl_counts_t *c)
{
    (void)k;
    memset(c, 0, sizeof *c);
    return 0;
}

#endif
