/*
 * pool.c - shards, a bounded queue and worker threads (pool.h).
 *
 * DESIGN
 *   One mutex guards the queues (a ring of RS_QUEUE_SHARDS shard pointers
 *   for each NUMA node the workers are on, one when they are on one or are
 *   not pinned), the nodes' spare shard buffers, the closed flag, the count
 *   of live workers and the first error; condition variables wake a node's
 *   workers (rs_node_t.ready: a shard queued for a node wakes one of its
 *   idle workers, else an idle worker of another node), the reader
 *   (not_full) and rs_pool_finish (done). The reader waits with a timeout so that it can
 *   report progress while blocked. Counters read by the progress callback
 *   are relaxed atomics; nothing else is shared between workers. Each
 *   worker pins itself (hwloc_set_cpubind on its own thread) before its
 *   first shard and remembers why when that fails; rs_pool_finish turns
 *   that into a warning after joining. A second mutex guards the pool's
 *   own statistics (acc), into which each worker merges its tables when
 *   they pass flush_entries, and at its end; merging is addition, so the
 *   order of the flushes changes nothing. A flush merges the bigrams
 *   outside that mutex, a part of the table at a time under one mutex per
 *   part (the parts of two tables hold the same bigrams, pairs.h), so
 *   workers that flush at once, as all do at their end, merge side by side
 *   instead of one after another.
 *
 *   A worker scans each document of a shard with rs_scan_document, then
 *   adds the document's cue times to its speakers (rs_segment_t.ms, which
 *   the scanner does not read), and frees the document at once, so a
 *   shard's memory shrinks while it is scanned. With a kernel table that
 *   has a batched entry (a device), the whole shard goes through
 *   rs_scan_documents instead, so that its segments are tokenized in one
 *   call, and is freed after. JSON Lines documents are
 *   split by --jsonl-doc here (rs_jsonl_split), on the worker, so that the
 *   groups of one file are scanned by one worker like any document.
 */
#include "pool.h"

#include <errno.h>
#include <hwloc.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"     /* rs_hash64 */
#include "subtitle.h" /* rs_media_detect */

#define RS_QUEUE_SHARDS 1
/* Table entries (terms, bigrams, hits by speaker) that all workers together
 * may hold before flushing, and the least one worker waits for. Small
 * tables stay in the caches, and since bigrams merge part into part a
 * flush is cheap: on the podcast corpus at -j 2, 2^17 to 2^19 all take
 * about 0.90 s where 2^21 took 1.02 s (bench/RESULTS.md). */
#define RS_POOL_FLUSH_TOTAL (1u << 19)
#define RS_POOL_FLUSH_MIN (1u << 16)
/* A flushed worker keeps the memory of tables of at most this many slots. */
#define RS_POOL_KEEP_SLOTS (1u << 22)

/* The pieces of one document on their way from the reader to the worker
 * that scans them, under the pool's mu. The worker frees it after the last
 * piece, or once ended and empty. */
typedef struct rs_stream {
    rs_doc_t q[RS_STREAM_PIECES];
    size_t qh, qn;
    int ended; /* no more pieces will come */
} rs_stream_t;

/* A shard's text buffer on one NUMA node, when the workers span more than
 * one (rs_pool_t.nnodes > 1): the reader copies each document's text into
 * it, so that the worker that scans it reads its own node's memory. Kept
 * for the node's next shard once scanned (rs_node_t.spare), at most
 * RS_NODE_SPARES a node. */
typedef struct rs_arena {
    uint8_t *buf;
    size_t cap, used;
    int bound;             /* buf from hwloc_alloc_membind on the node; else malloc */
    struct rs_arena *next; /* among its node's spares */
} rs_arena_t;

typedef struct rs_shard {
    rs_doc_t *docs;
    size_t n, cap;
    uint64_t bytes;      /* text bytes held */
    rs_stream_t *stream; /* instead of docs: a document in pieces */
    unsigned node;       /* the queue (rs_pool_t.node) it goes to */
    rs_arena_t *arena;   /* its documents' text, or NULL (one node, or out of memory) */
} rs_shard_t;

/* A NUMA node's queue of shards and its spare buffers, under the pool's
 * mu. With one node (or unpinned workers) there is one, without buffers. */
#define RS_NODE_SPARES 2
typedef struct rs_node {
    rs_shard_t *queue[RS_QUEUE_SHARDS];
    size_t qhead, qn;
    hwloc_nodeset_t set; /* NULL when there is one node */
    unsigned os_index;
    pthread_cond_t ready; /* wakes its waiting workers */
    unsigned idle;        /* its workers waiting */
    int ready_ok;
    rs_arena_t *spare;
    unsigned nspare;
    uint64_t shards, local; /* queued here; taken by a worker of this node */
} rs_node_t;

typedef struct rs_worker {
    rs_pool_t *pool;
    unsigned idx;
    pthread_t th;
    int started;
    rs_scanner_t sc;
    rs_stats_t st;
    rs_stats_t part; /* the document in pieces being scanned */
    int part_ok;
    hwloc_cpuset_t set; /* one PU, or NULL when not pinning */
    unsigned node;      /* its NUMA node's queue (rs_pool_t.node) */
    int pinned;
    int pin_errno;
} rs_worker_t;

struct rs_pool {
    rs_pool_cfg_t cfg;
    unsigned nw;
    rs_worker_t *w;
    pthread_mutex_t mu;
    pthread_cond_t not_full, done;
    pthread_cond_t piece_ready, piece_taken; /* streams */
    rs_stream_t *stream; /* the reader's open stream, under mu */
    rs_node_t *node; /* nnodes queues, one per NUMA node of the workers */
    unsigned nnodes;
    size_t qn;       /* shards queued, all nodes */
    unsigned rr;     /* reader only: the worker whose node the next shard is for */
    uint64_t buffers, bound; /* reader only: shard buffers allocated, and bound to their node */
    uint64_t live, peak;     /* under mu: shard buffers that exist, and the most at once */
    int bind_errno;          /* reader only: why the first one could not be bound */
    int closed;
    unsigned alive;
    rs_err_e err; /* first worker error, under mu */
    atomic_int failed;
    rs_shard_t *cur; /* the shard being filled (reader only) */
    uint64_t docs_read, bytes_read; /* reader only; copied under mu for progress */
    uint64_t split_docs, pieces;    /* reader only: documents that came in pieces, and their pieces */
    _Atomic uint64_t docs_done, bytes_done, dropped;
    double t0, last_progress;
    hwloc_topology_t topo;
    int have_topo;
    char topology[256];
    int sync_ok; /* mutex and condition variables initialised */
    /* the statistics flushed by the workers so far, under acc_mu */
    pthread_mutex_t acc_mu;
    rs_stats_t acc;
    int acc_used, acc_ok;
    /* a part of acc's bigrams, each under its own lock: workers merge their
     * bigrams into it outside acc_mu, part by part (rs_worker_flush) */
    pthread_mutex_t part_mu[RS_PAIRS_PARTS];
    unsigned part_mu_ok; /* how many of part_mu are initialised */
    size_t flush_entries; /* a worker flushes after a shard once it holds this many entries */
};

static double rs_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int rs_stopping(const rs_pool_t *p)
{
    return atomic_load_explicit(&p->failed, memory_order_relaxed)
           || (p->cfg.cancel && atomic_load_explicit(p->cfg.cancel, memory_order_relaxed));
}

static void rs_pool_fail(rs_pool_t *p, rs_err_e e)
{
    pthread_mutex_lock(&p->mu);
    if (p->err == RS_OK)
        p->err = e;
    pthread_mutex_unlock(&p->mu);
    atomic_store(&p->failed, 1);
}

/* --- topology ---------------------------------------------------------- */

static unsigned rs_count(hwloc_topology_t t, hwloc_obj_type_t type)
{
    const int n = hwloc_get_nbobjs_by_type(t, type);
    return n > 0 ? (unsigned)n : 0;
}

static void rs_topology_line(hwloc_topology_t t, char *buf, size_t n)
{
    const unsigned pk = rs_count(t, HWLOC_OBJ_PACKAGE), co = rs_count(t, HWLOC_OBJ_CORE),
                   pu = rs_count(t, HWLOC_OBJ_PU), nn = rs_count(t, HWLOC_OBJ_NUMANODE);
    snprintf(buf, n, "%u package%s, %u core%s, %u PU%s, %u NUMA node%s", pk, pk == 1 ? "" : "s", co,
             co == 1 ? "" : "s", pu, pu == 1 ? "" : "s", nn, nn == 1 ? "" : "s");
}

static unsigned rs_online_cpus(void)
{
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

/* Loads the machine's topology, cut down to the PUs this process may run
 * on (its binding: taskset, a batch system, mpirun's --bind-to), so that
 * workers are counted and pinned inside them and two processes bound
 * apart never pin their workers to the same cores. When it was cut down
 * and whole is not NULL, whole[0..n) gets the machine's PUs before the
 * cut (a list, "0-15"); else whole is left empty. 0 on success. */
static int rs_topology_load_bound(hwloc_topology_t *out, char *whole, size_t n)
{
    if (whole && n)
        whole[0] = '\0';
    hwloc_topology_t t;
    if (hwloc_topology_init(&t) != 0)
        return -1;
    if (hwloc_topology_load(t) != 0) {
        hwloc_topology_destroy(t);
        return -1;
    }
    hwloc_bitmap_t bound = hwloc_bitmap_alloc();
    hwloc_const_cpuset_t all = hwloc_topology_get_topology_cpuset(t);
    if (bound && hwloc_get_cpubind(t, bound, HWLOC_CPUBIND_PROCESS) == 0 && !hwloc_bitmap_iszero(bound)
        && !hwloc_bitmap_isincluded(all, bound) && hwloc_bitmap_intersects(bound, all)) {
        char list[128] = "";
        hwloc_bitmap_list_snprintf(list, sizeof list, all);
        if (hwloc_topology_restrict(t, bound, 0) == 0 && whole && n) /* on failure the topology is left whole */
            snprintf(whole, n, "%s", list);
    }
    hwloc_bitmap_free(bound);
    *out = t;
    return 0;
}

unsigned rs_default_workers(void)
{
    hwloc_topology_t t;
    unsigned n = 0;
    if (rs_topology_load_bound(&t, NULL, 0) == 0) {
        n = rs_count(t, HWLOC_OBJ_CORE);
        if (!n)
            n = rs_count(t, HWLOC_OBJ_PU);
        hwloc_topology_destroy(t);
    }
    if (!n)
        n = rs_online_cpus();
    return n > RS_MAX_WORKERS ? RS_MAX_WORKERS : n;
}

static void rs_size_str(char *buf, size_t n, uint64_t b)
{
    if (b >= (1ull << 30))
        snprintf(buf, n, "%.1f GiB", (double)b / (1ull << 30));
    else if (b >= (1ull << 20))
        snprintf(buf, n, "%.1f MiB", (double)b / (1 << 20));
    else
        snprintf(buf, n, "%llu KiB", (unsigned long long)(b >> 10));
}

rs_err_e rs_topology_describe(char *buf, size_t n)
{
    hwloc_topology_t t;
    char whole[128];
    if (rs_topology_load_bound(&t, whole, sizeof whole) != 0) {
        snprintf(buf, n, "topology: unknown (hwloc could not load the topology)\n");
        return RS_ERR_UNSUPPORTED;
    }
    size_t k = 0;
    char line[256], sz[32];
#define RS_PUT(...)                                                                                                    \
    do {                                                                                                               \
        if (k < n) {                                                                                                   \
            const int w_ = snprintf(buf + k, n - k, __VA_ARGS__);                                                      \
            k += w_ > 0 ? (size_t)w_ : 0;                                                                              \
        }                                                                                                              \
    } while (0)
    rs_topology_line(t, line, sizeof line);
    RS_PUT("topology: %s\n", line);
    if (whole[0]) {
        char mine[128] = "";
        hwloc_bitmap_list_snprintf(mine, sizeof mine, hwloc_topology_get_topology_cpuset(t));
        RS_PUT("  this process is bound to PUs %s of the machine's %s: the topology above, as a scan uses it\n", mine,
               whole);
    }
    const unsigned nn = rs_count(t, HWLOC_OBJ_NUMANODE);
    for (unsigned i = 0; i < nn; i++) {
        hwloc_obj_t o = hwloc_get_obj_by_type(t, HWLOC_OBJ_NUMANODE, i);
        char cpus[128] = "";
        if (o->cpuset)
            hwloc_bitmap_list_snprintf(cpus, sizeof cpus, o->cpuset);
        rs_size_str(sz, sizeof sz, o->attr ? o->attr->numanode.local_memory : 0);
        RS_PUT("  NUMA node %u: %s, PUs %s\n", o->os_index, sz, cpus);
    }
    static const struct {
        hwloc_obj_type_t type;
        const char *name;
    } caches[] = {{HWLOC_OBJ_L1CACHE, "L1d"}, {HWLOC_OBJ_L1ICACHE, "L1i"}, {HWLOC_OBJ_L2CACHE, "L2"},
                  {HWLOC_OBJ_L3CACHE, "L3"}, {HWLOC_OBJ_L4CACHE, "L4"}};
    for (size_t c = 0; c < sizeof caches / sizeof caches[0]; c++) {
        const unsigned cnt = rs_count(t, caches[c].type);
        if (!cnt)
            continue;
        hwloc_obj_t o = hwloc_get_obj_by_type(t, caches[c].type, 0);
        rs_size_str(sz, sizeof sz, o->attr ? o->attr->cache.size : 0);
        const int share = o->cpuset ? hwloc_bitmap_weight(o->cpuset) : 0;
        RS_PUT("  %-3s %u x %s (each shared by %d PU%s)\n", caches[c].name, cnt, sz, share, share == 1 ? "" : "s");
    }
    unsigned w = rs_count(t, HWLOC_OBJ_CORE);
    if (!w)
        w = rs_count(t, HWLOC_OBJ_PU);
    RS_PUT("  scan workers by default: %u (one per core; -j to change)\n", w ? w : rs_online_cpus());
#undef RS_PUT
    hwloc_topology_destroy(t);
    return RS_OK;
}

/* --- shards, their buffers and the queues ------------------------------ */

/* A buffer for a shard of node n, a spare one when there is one: the
 * reader's. NULL when out of memory (the shard's documents then keep their
 * own text). */
static rs_arena_t *rs_arena_get(rs_pool_t *p, unsigned n)
{
    rs_node_t *nd = &p->node[n];
    pthread_mutex_lock(&p->mu);
    rs_arena_t *a = nd->spare;
    if (a) {
        nd->spare = a->next;
        nd->nspare--;
    }
    pthread_mutex_unlock(&p->mu);
    if (a) {
        a->used = 0;
        a->next = NULL;
        return a;
    }
    if (!(a = calloc(1, sizeof *a)))
        return NULL;
    a->cap = (size_t)p->cfg.shard_bytes;
    errno = 0;
    a->buf = hwloc_alloc_membind(p->topo, a->cap, nd->set, HWLOC_MEMBIND_BIND,
                                 HWLOC_MEMBIND_BYNODESET | HWLOC_MEMBIND_STRICT);
    if (a->buf) {
        a->bound = 1;
        p->bound++;
    } else {
        if (!p->bind_errno)
            p->bind_errno = errno ? errno : ENOSYS;
        a->buf = malloc(a->cap);
    }
    if (!a->buf) {
        free(a);
        return NULL;
    }
    p->buffers++;
    pthread_mutex_lock(&p->mu);
    if (++p->live > p->peak)
        p->peak = p->live;
    pthread_mutex_unlock(&p->mu);
    return a;
}

static void rs_arena_free(rs_pool_t *p, rs_arena_t *a)
{
    if (a->bound)
        hwloc_free(p->topo, a->buf, a->cap);
    else
        free(a->buf);
    free(a);
}

/* Frees a scanned shard; its buffer becomes a spare of its node (any
 * thread). */
static void rs_shard_free(rs_pool_t *p, rs_shard_t *sh)
{
    rs_arena_t *a = sh->arena;
    if (a) {
        rs_node_t *nd = &p->node[sh->node];
        pthread_mutex_lock(&p->mu);
        if (nd->nspare < RS_NODE_SPARES) {
            a->next = nd->spare;
            nd->spare = a;
            nd->nspare++;
            a = NULL;
        }
        p->live -= a != NULL;
        pthread_mutex_unlock(&p->mu);
        if (a)
            rs_arena_free(p, a);
    }
    free(sh->docs);
    free(sh);
}

/* Frees one of sh's documents, but not its text when that lies in the
 * shard's buffer. */
static void rs_shard_doc_free(const rs_shard_t *sh, rs_doc_t *d)
{
    if (sh->arena && d->text) {
        const uintptr_t t = (uintptr_t)d->text, b = (uintptr_t)sh->arena->buf;
        if (t >= b && t < b + sh->arena->cap)
            d->text = NULL;
    }
    rs_doc_free(d);
}

/* A new shard for the reader to fill, for the node of the next worker in
 * turn (so each node gets shards in proportion to its workers), with a
 * buffer on that node when there is more than one. */
static rs_shard_t *rs_shard_new(rs_pool_t *p)
{
    rs_shard_t *sh = calloc(1, sizeof *sh);
    if (!sh || p->nnodes < 2)
        return sh;
    sh->node = p->w[p->rr].node;
    p->rr = (p->rr + 1) % p->nw;
    return sh;
}

/* Moves doc's text into sh's buffer when it fits (the reader's; the
 * shard's first document brings its buffer). */
static void rs_shard_take_text(rs_pool_t *p, rs_shard_t *sh, rs_doc_t *doc)
{
    if (p->nnodes < 2 || !doc->len || doc->len > p->cfg.shard_bytes)
        return; /* one node; nothing to copy; a document read whole that is larger than a shard */
    if (!sh->arena && !(sh->arena = rs_arena_get(p, sh->node)))
        return;
    rs_arena_t *a = sh->arena;
    if (doc->len > a->cap - a->used)
        return;
    memcpy(a->buf + a->used, doc->text, doc->len);
    free(doc->text);
    doc->text = a->buf + a->used;
    const size_t step = (doc->len + 63) & ~(size_t)63; /* each document on its own cache lines */
    a->used = step < a->cap - a->used ? a->used + step : a->cap;
}

/* The next shard for a worker of node home, mu held: from its own node's
 * queue, else from the first other node's with one. NULL when all are
 * empty. */
static rs_shard_t *rs_queue_pop(rs_pool_t *p, unsigned home)
{
    for (unsigned k = 0; k < p->nnodes; k++) {
        rs_node_t *nd = &p->node[(home + k) % p->nnodes];
        if (!nd->qn)
            continue;
        rs_shard_t *sh = nd->queue[nd->qhead];
        nd->qhead = (nd->qhead + 1) % RS_QUEUE_SHARDS;
        nd->qn--;
        p->qn--;
        nd->local += k == 0;
        return sh;
    }
    return NULL;
}

/* --- workers ----------------------------------------------------------- */

/* Adds d's cue times to its speakers, named in names (the record's). */
static void rs_add_talk_time(rs_stats_t *st, const rs_doc_t *d, const rs_strlist_t *names)
{
    for (size_t i = 0; i < d->nseg; i++) {
        const rs_segment_t *sg = &d->seg[i];
        if (!sg->ms || sg->speaker < 0 || (size_t)sg->speaker >= names->n)
            continue;
        const char *name = names->s[sg->speaker];
        const size_t len = strlen(name);
        const int64_t id = rs_dict_get(&st->speakers, name, len, rs_hash64(name, len));
        if (id >= 0)
            ((rs_speaker_val_t *)rs_dict_val(&st->speakers, (size_t)id))->talk_ms += sg->ms;
    }
}

static rs_err_e rs_scan_one(rs_worker_t *w, rs_doc_t *d)
{
    const size_t before = w->st.ndocs;
    RS_FORWARD(rs_scan_document(&w->sc, d, &w->st));
    if (w->st.ndocs > before)
        rs_add_talk_time(&w->st, d, &w->st.docs[w->st.ndocs - 1].speakers);
    return RS_OK;
}

/* Entries of a worker's tables, the measure of when to flush them. */
static size_t rs_stats_entries(const rs_stats_t *st)
{
    return st->terms.n + st->bigrams.n + st->topics.by_speaker.n + st->entities.by_speaker.n;
}

/* Merges the worker's bigrams into the pool's, a part at a time under that
 * part's lock, from a part of its own: workers that flush at once, as they
 * do at their end, start apart and go round at about the same pace, so
 * they seldom wait for each other. tmap: the worker's term ids to the
 * pool's. */
static rs_err_e rs_flush_bigrams(rs_worker_t *w, const uint32_t *tmap)
{
    rs_pool_t *p = w->pool;
    const rs_pairs_t *src = &w->st.bigrams;
    size_t added = 0;
    int bad = 0;
    const unsigned start = (unsigned)((uint64_t)w->idx * RS_PAIRS_PARTS / p->nw);
    for (unsigned k = 0; k < RS_PAIRS_PARTS && !bad; k++) {
        const unsigned part = (start + k) % RS_PAIRS_PARTS;
        if (!src->part[part].n)
            continue;
        size_t n;
        pthread_mutex_lock(&p->part_mu[part]);
        bad = rs_pairs_merge_part(&p->acc.bigrams, src, tmap, part, &n) != 0;
        pthread_mutex_unlock(&p->part_mu[part]);
        added += n;
    }
    pthread_mutex_lock(&p->acc_mu);
    p->acc.bigrams.n += added;
    pthread_mutex_unlock(&p->acc_mu);
    return bad ? RS_ERR_NOMEM : RS_OK;
}

/* Adds the worker's statistics to the pool's and empties them. The first
 * flush hands the tables over whole (no copy). Later ones merge all but
 * the bigrams under acc_mu, then the bigrams part by part outside it, so
 * that workers flushing at once merge their bigrams side by side. */
static void rs_worker_flush(rs_worker_t *w)
{
    rs_pool_t *p = w->pool;
    rs_err_e e = rs_scanner_flush(&w->sc); /* the bigrams it holds for w->st */
    uint32_t *tmap = NULL;
    if (e != RS_OK)
        rs_pool_fail(p, e);
    pthread_mutex_lock(&p->acc_mu);
    if (!p->acc_used) {
        const rs_stats_t t = p->acc;
        p->acc = w->st;
        w->st = t;
        p->acc_used = 1;
    } else {
        e = rs_stats_merge_rest(&p->acc, &w->st, &tmap);
    }
    pthread_mutex_unlock(&p->acc_mu);
    if (e == RS_OK && tmap)
        e = rs_flush_bigrams(w, tmap);
    free(tmap);
    if (e != RS_OK)
        rs_pool_fail(p, e);
    rs_stats_clear(&w->st, RS_POOL_KEEP_SLOTS);
}

static rs_err_e rs_worker_scan(rs_worker_t *w, rs_doc_t *d)
{
    if (!d->jsonl || !d->jsonl->doc || rs_media_detect(d, w->pool->cfg.scan->format) != RS_FORMAT_JSONL)
        return rs_scan_one(w, d);
    rs_doc_t *sub = NULL;
    size_t n = 0;
    char *warning = NULL;
    RS_FORWARD(rs_jsonl_split(d, d->jsonl, &sub, &n, &warning));
    rs_err_e e = RS_OK;
    if (warning)
        e = rs_notes_add(&w->st.warnings, d->path, warning);
    free(warning);
    if (n == 0 && e == RS_OK)
        e = rs_scan_one(w, d);
    for (size_t i = 0; i < n; i++) {
        if (e == RS_OK)
            e = rs_scan_one(w, &sub[i]);
        rs_doc_free(&sub[i]);
    }
    free(sub);
    return e;
}

static void rs_batch_done(void *ctx, const rs_doc_t *d, const rs_docrec_t *rec)
{
    if (rec)
        rs_add_talk_time(ctx, d, &rec->speakers);
}

/* A shard for a kernel table with a batched entry: its documents (JSON
 * Lines files split into their groups first) through rs_scan_documents,
 * so that a device tokenizes the shard's segments in one call. */
static rs_err_e rs_worker_scan_shard(rs_worker_t *w, rs_shard_t *sh)
{
    rs_pool_t *p = w->pool;
    rs_doc_t **items = malloc((sh->n ? sh->n : 1) * sizeof *items);
    rs_doc_t **subs = calloc(sh->n ? sh->n : 1, sizeof *subs);
    size_t *nsub = calloc(sh->n ? sh->n : 1, sizeof *nsub);
    size_t ni = 0, cap = sh->n;
    rs_err_e e = items && subs && nsub ? RS_OK : RS_ERR_NOMEM;
    for (size_t i = 0; i < sh->n && e == RS_OK; i++) {
        rs_doc_t *d = &sh->docs[i];
        if (rs_stopping(p)) {
            atomic_fetch_add_explicit(&p->dropped, 1, memory_order_relaxed);
            continue;
        }
        if (d->jsonl && d->jsonl->doc && rs_media_detect(d, p->cfg.scan->format) == RS_FORMAT_JSONL) {
            char *warning = NULL;
            e = rs_jsonl_split(d, d->jsonl, &subs[i], &nsub[i], &warning);
            if (warning && e == RS_OK)
                e = rs_notes_add(&w->st.warnings, d->path, warning);
            free(warning);
            if (e != RS_OK || nsub[i] == 0) {
                if (e == RS_OK)
                    items[ni++] = d;
                continue;
            }
            const size_t need = ni + nsub[i] + (sh->n - i - 1); /* room for the documents after it too */
            if (need > cap) {
                rs_doc_t **g = realloc(items, need * sizeof *g);
                if (!g) {
                    e = RS_ERR_NOMEM;
                    continue;
                }
                items = g;
                cap = need;
            }
            for (size_t k = 0; k < nsub[i]; k++)
                items[ni++] = &subs[i][k];
        } else {
            items[ni++] = d;
        }
    }
    if (e == RS_OK)
        e = rs_scan_documents(&w->sc, items, ni, &w->st, rs_batch_done, &w->st);
    for (size_t i = 0; subs && i < sh->n; i++) {
        for (size_t k = 0; k < nsub[i]; k++)
            rs_doc_free(&subs[i][k]);
        free(subs[i]);
    }
    free(items);
    free(subs);
    free(nsub);
    return e;
}

/* Takes the pieces of s in order and scans them into w->part, then merges
 * that into w->st; a document that breaks off (a broken piece, a stream
 * ended early) or is cancelled leaves nothing. Frees s. */
static void rs_worker_stream(rs_worker_t *w, rs_stream_t *s)
{
    rs_pool_t *p = w->pool;
    int dropping = !w->part_ok, complete = 0;
    if (!w->part_ok)
        rs_pool_fail(p, RS_ERR_NOMEM);
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (s->qn == 0 && !s->ended)
            pthread_cond_wait(&p->piece_ready, &p->mu);
        if (s->qn == 0) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        rs_doc_t d = s->q[s->qh];
        s->qh = (s->qh + 1) % RS_STREAM_PIECES;
        s->qn--;
        pthread_cond_broadcast(&p->piece_taken);
        pthread_mutex_unlock(&p->mu);
        const int last = !d.more;
        const uint64_t bytes = d.bytes;
        if (!dropping && rs_stopping(p)) {
            dropping = 1;
            atomic_fetch_add_explicit(&p->dropped, 1, memory_order_relaxed);
        }
        if (!dropping) {
            const size_t before = w->part.ndocs;
            const rs_err_e e = rs_scan_document(&w->sc, &d, &w->part);
            if (e != RS_OK) {
                rs_pool_fail(p, e);
                dropping = 1;
            } else if (!d.broken) {
                complete = last;
                if (!last)
                    rs_add_talk_time(&w->part, &d, rs_scan_piece_speakers(&w->sc));
                else if (w->part.ndocs > before)
                    rs_add_talk_time(&w->part, &d, &w->part.docs[w->part.ndocs - 1].speakers);
            }
        }
        rs_doc_free(&d);
        atomic_fetch_add_explicit(&p->bytes_done, bytes, memory_order_relaxed);
        if (last)
            break;
    }
    const rs_err_e fe = rs_scanner_flush(&w->sc); /* the bigrams held for w->part */
    if (fe != RS_OK) {
        rs_pool_fail(p, fe);
        complete = 0;
    }
    if (complete) {
        const rs_err_e e = rs_stats_merge(&w->st, &w->part);
        if (e != RS_OK)
            rs_pool_fail(p, e);
    } else {
        rs_scan_drop(&w->sc);
    }
    if (w->part_ok)
        rs_stats_clear(&w->part, RS_POOL_KEEP_SLOTS);
    atomic_fetch_add_explicit(&p->docs_done, 1, memory_order_relaxed);
    free(s);
}

static void *rs_worker_main(void *arg)
{
    rs_worker_t *w = arg;
    rs_pool_t *p = w->pool;
    if (w->set) {
        if (hwloc_set_cpubind(p->topo, w->set, HWLOC_CPUBIND_THREAD) == 0)
            w->pinned = 1;
        else
            w->pin_errno = errno ? errno : EINVAL;
    }
    for (;;) {
        pthread_mutex_lock(&p->mu);
        rs_node_t *home = &p->node[w->node];
        while (p->qn == 0 && !p->closed) {
            home->idle++;
            pthread_cond_wait(&home->ready, &p->mu);
            home->idle--;
        }
        if (p->qn == 0) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        rs_shard_t *sh = rs_queue_pop(p, w->node);
        pthread_cond_signal(&p->not_full);
        pthread_mutex_unlock(&p->mu);
        if (sh->stream) {
            rs_worker_stream(w, sh->stream);
            rs_shard_free(p, sh);
            if (p->nw > 1 && rs_stats_entries(&w->st) >= p->flush_entries)
                rs_worker_flush(w);
            continue;
        }
        if (w->sc.cfg->kernels->tokenize_spans) {
            const rs_err_e e = rs_worker_scan_shard(w, sh);
            if (e != RS_OK)
                rs_pool_fail(p, e);
        }
        for (size_t i = 0; i < sh->n; i++) {
            rs_doc_t *d = &sh->docs[i];
            const uint64_t bytes = d->bytes;
            if (w->sc.cfg->kernels->tokenize_spans) {
                /* scanned above */
            } else if (rs_stopping(p)) {
                atomic_fetch_add_explicit(&p->dropped, 1, memory_order_relaxed);
            } else {
                const rs_err_e e = rs_worker_scan(w, d);
                if (e != RS_OK)
                    rs_pool_fail(p, e);
            }
            rs_shard_doc_free(sh, d);
            atomic_fetch_add_explicit(&p->docs_done, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&p->bytes_done, bytes, memory_order_relaxed);
        }
        rs_shard_free(p, sh);
        const rs_err_e e = rs_scanner_flush(&w->sc); /* the shard's last bigrams into w->st */
        if (e != RS_OK)
            rs_pool_fail(p, e);
        if (p->nw > 1 && rs_stats_entries(&w->st) >= p->flush_entries)
            rs_worker_flush(w);
    }
    rs_worker_flush(w);
    pthread_mutex_lock(&p->mu);
    p->alive--;
    pthread_cond_broadcast(&p->done);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* --- the reader's side ------------------------------------------------- */

static void rs_progress_now(rs_pool_t *p, int force)
{
    if (!p->cfg.progress)
        return;
    const double now = rs_clock();
    const double every = p->cfg.progress_interval > 0 ? p->cfg.progress_interval : 0.25;
    if (!force && now - p->last_progress < every)
        return;
    p->last_progress = now;
    const rs_progress_t pr = {
        .docs_read = p->docs_read,
        .bytes_read = p->bytes_read,
        .input_read = p->cfg.consumed ? *p->cfg.consumed : 0,
        .docs_done = atomic_load_explicit(&p->docs_done, memory_order_relaxed),
        .bytes_done = atomic_load_explicit(&p->bytes_done, memory_order_relaxed),
        .seconds = now - p->t0,
        .workers = p->nw,
    };
    p->cfg.progress(p->cfg.progress_ctx, &pr);
}

/* Absolute time dt seconds from now, for pthread_cond_timedwait. */
static struct timespec rs_deadline(double dt)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    const long long ns = (long long)ts.tv_nsec + (long long)(dt * 1e9);
    ts.tv_sec += (time_t)(ns / 1000000000LL);
    ts.tv_nsec = (long)(ns % 1000000000LL);
    return ts;
}

static double rs_wait_step(const rs_pool_t *p)
{
    return p->cfg.progress && p->cfg.progress_interval > 0 ? p->cfg.progress_interval : 0.25;
}

/* One wait of the reader on cv, mu held: at most one progress step, then
 * the progress line (outside mu) when there is one. The caller loops. */
static void rs_reader_wait(rs_pool_t *p, pthread_cond_t *cv)
{
    const struct timespec ts = rs_deadline(rs_wait_step(p));
    pthread_cond_timedwait(cv, &p->mu, &ts);
    if (p->cfg.progress) {
        pthread_mutex_unlock(&p->mu);
        rs_progress_now(p, 0);
        pthread_mutex_lock(&p->mu);
    }
}

/* Wakes a waiting worker for a shard queued for node n, mu held: one of
 * that node's, else one of another node's (which will take it from there). */
static void rs_wake(rs_pool_t *p, unsigned n)
{
    for (unsigned k = 0; k < p->nnodes; k++) {
        rs_node_t *nd = &p->node[(n + k) % p->nnodes];
        if (nd->idle) {
            pthread_cond_signal(&nd->ready);
            return;
        }
    }
}

/* Queues sh, waiting while its node's queue is full. Workers keep popping even
 * after a failure or a cancel (they drop documents), so this never waits
 * for ever. */
static void rs_queue_push(rs_pool_t *p, rs_shard_t *sh)
{
    rs_node_t *nd = &p->node[sh->node];
    pthread_mutex_lock(&p->mu);
    while (nd->qn == RS_QUEUE_SHARDS)
        rs_reader_wait(p, &p->not_full);
    nd->queue[(nd->qhead + nd->qn) % RS_QUEUE_SHARDS] = sh;
    nd->qn++;
    nd->shards++;
    p->qn++;
    rs_wake(p, sh->node);
    pthread_mutex_unlock(&p->mu);
}

static rs_err_e rs_pool_error(rs_pool_t *p)
{
    pthread_mutex_lock(&p->mu);
    const rs_err_e e = p->err;
    pthread_mutex_unlock(&p->mu);
    return e;
}

/* Ends the reader's open stream, if any, without its last piece: its
 * worker drops what it scanned of it. */
static void rs_stream_cut(rs_pool_t *p)
{
    if (!p->stream)
        return; /* only the reader sets it */
    pthread_mutex_lock(&p->mu);
    if (p->stream) {
        p->stream->ended = 1;
        p->stream = NULL;
        pthread_cond_broadcast(&p->piece_ready);
    }
    pthread_mutex_unlock(&p->mu);
}

/* A later piece of the open stream's document, queued for its worker. */
static rs_err_e rs_stream_push(rs_pool_t *p, rs_doc_t *doc)
{
    const uint64_t bytes = doc->bytes;
    pthread_mutex_lock(&p->mu);
    rs_stream_t *s = p->stream;
    if (!s) {
        pthread_mutex_unlock(&p->mu);
        rs_doc_free(doc);
        return RS_ERR_INTERNAL; /* a piece without its first */
    }
    while (s->qn == RS_STREAM_PIECES)
        rs_reader_wait(p, &p->piece_taken);
    const int last = !doc->more;
    p->pieces += !doc->broken;
    s->q[(s->qh + s->qn) % RS_STREAM_PIECES] = *doc;
    s->qn++;
    memset(doc, 0, sizeof *doc);
    if (last) {
        s->ended = 1;
        p->stream = NULL; /* the worker owns it now */
    }
    pthread_cond_broadcast(&p->piece_ready);
    pthread_mutex_unlock(&p->mu);
    p->bytes_read += bytes;
    rs_progress_now(p, 0);
    return RS_OK;
}

/* The first piece of a document in pieces: a shard of its own, queued at
 * once, that stands for the stream of its pieces. */
static rs_err_e rs_stream_open(rs_pool_t *p, rs_doc_t *doc)
{
    if (p->cur && p->cur->n) {
        rs_queue_push(p, p->cur);
        p->cur = NULL;
    }
    if (p->cur) { /* empty */
        rs_shard_free(p, p->cur);
        p->cur = NULL;
    }
    rs_shard_t *sh = rs_shard_new(p);
    rs_stream_t *s = calloc(1, sizeof *s);
    if (!sh || !s) {
        free(sh);
        free(s);
        rs_doc_free(doc);
        return RS_ERR_NOMEM;
    }
    sh->stream = s;
    p->split_docs++;
    p->pieces++;
    s->q[0] = *doc;
    s->qn = 1;
    p->bytes_read += doc->bytes;
    p->docs_read++;
    memset(doc, 0, sizeof *doc);
    pthread_mutex_lock(&p->mu);
    p->stream = s;
    pthread_mutex_unlock(&p->mu);
    rs_queue_push(p, sh);
    rs_progress_now(p, 0);
    return RS_OK;
}

rs_err_e rs_pool_add(rs_pool_t *p, rs_doc_t *doc)
{
    if (rs_stopping(p)) {
        if (doc->piece == 0)
            atomic_fetch_add_explicit(&p->dropped, 1, memory_order_relaxed);
        rs_doc_free(doc);
        rs_stream_cut(p);
        return rs_pool_error(p);
    }
    if (doc->piece > 0 || doc->broken)
        return rs_stream_push(p, doc);
    rs_stream_cut(p); /* a document begins: any stream before it is over */
    if (doc->more)
        return rs_stream_open(p, doc);
    const uint64_t limit = p->cfg.shard_bytes;
    if (p->cur && p->cur->n && p->cur->bytes + doc->len > limit) {
        rs_queue_push(p, p->cur);
        p->cur = NULL;
    }
    if (!p->cur && !(p->cur = rs_shard_new(p))) {
        rs_doc_free(doc);
        return RS_ERR_NOMEM;
    }
    rs_shard_t *sh = p->cur;
    if (sh->n == sh->cap) {
        const size_t cap = sh->cap ? sh->cap * 2 : 16;
        rs_doc_t *d = realloc(sh->docs, cap * sizeof *d);
        if (!d) {
            rs_doc_free(doc);
            return RS_ERR_NOMEM;
        }
        sh->docs = d;
        sh->cap = cap;
    }
    rs_shard_take_text(p, sh, doc);
    sh->docs[sh->n++] = *doc;
    memset(doc, 0, sizeof *doc);
    sh->bytes += sh->docs[sh->n - 1].len;
    p->docs_read++;
    p->bytes_read += sh->docs[sh->n - 1].bytes;
    if (sh->bytes >= limit) {
        rs_queue_push(p, sh);
        p->cur = NULL;
    }
    rs_progress_now(p, 0);
    return RS_OK;
}

/* --- start, finish, free ----------------------------------------------- */

/* The NUMA node of a worker's PU: the index of the first node whose PUs
 * include it, or -1. */
static int rs_node_of(hwloc_topology_t t, hwloc_const_cpuset_t pu)
{
    const int nn = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);
    for (int i = 0; i < nn; i++) {
        hwloc_obj_t o = hwloc_get_obj_by_type(t, HWLOC_OBJ_NUMANODE, (unsigned)i);
        if (o && o->cpuset && hwloc_bitmap_isincluded(pu, o->cpuset))
            return i;
    }
    return -1;
}

/* One queue per NUMA node the pinned workers are on, and each worker's,
 * when they are on more than one; else one queue for all. -1 when out of
 * memory. */
static int rs_pool_nodes(rs_pool_t *p)
{
    int *of = calloc(p->nw, sizeof *of), *slot = NULL;
    const int nn = p->have_topo ? hwloc_get_nbobjs_by_type(p->topo, HWLOC_OBJ_NUMANODE) : 0;
    if (!of)
        return -1;
    unsigned used = 0;
    if (nn > 1 && (slot = malloc((size_t)nn * sizeof *slot)) != NULL) {
        for (int i = 0; i < nn; i++)
            slot[i] = -1;
        for (unsigned i = 0; i < p->nw; i++) {
            const int k = p->w[i].set ? rs_node_of(p->topo, p->w[i].set) : -1;
            if (k < 0) { /* a worker without a node: one queue for all */
                used = 0;
                break;
            }
            if (slot[k] < 0)
                slot[k] = (int)used++;
            of[i] = slot[k];
        }
    }
    const unsigned nodes = used > 1 ? used : 1;
    int bad = !(p->node = calloc(nodes, sizeof *p->node));
    if (!bad)
        p->nnodes = nodes;
    for (unsigned i = 0; i < p->nw; i++)
        p->w[i].node = p->nnodes > 1 ? (unsigned)of[i] : 0;
    for (int k = 0; !bad && p->nnodes > 1 && k < nn; k++) {
        if (slot[k] < 0)
            continue;
        hwloc_obj_t o = hwloc_get_obj_by_type(p->topo, HWLOC_OBJ_NUMANODE, (unsigned)k);
        rs_node_t *nd = &p->node[slot[k]];
        nd->os_index = o->os_index;
        bad = !(nd->set = hwloc_bitmap_dup(o->nodeset));
    }
    for (unsigned n = 0; !bad && n < p->nnodes; n++)
        bad = !(p->node[n].ready_ok = pthread_cond_init(&p->node[n].ready, NULL) == 0);
    free(of);
    free(slot);
    return bad ? -1 : 0;
}

rs_err_e rs_pool_start(rs_pool_t **out, const rs_pool_cfg_t *cfg, rs_error_t *err)
{
    *out = NULL;
    rs_pool_t *p = calloc(1, sizeof *p);
    RS_RETURN_IF(!p, err, RS_ERR_NOMEM, "out of memory");
    p->cfg = *cfg;
    if (!p->cfg.shard_bytes)
        p->cfg.shard_bytes = RS_DEFAULT_SHARD_BYTES;
    p->t0 = p->last_progress = rs_clock();
    snprintf(p->topology, sizeof p->topology, "unknown (hwloc could not load the topology)");
    if (rs_topology_load_bound(&p->topo, NULL, 0) == 0) {
        p->have_topo = 1;
        rs_topology_line(p->topo, p->topology, sizeof p->topology);
    }
    p->nw = cfg->workers;
    if (!p->nw && p->have_topo)
        p->nw = rs_count(p->topo, HWLOC_OBJ_CORE) ? rs_count(p->topo, HWLOC_OBJ_CORE) : rs_count(p->topo, HWLOC_OBJ_PU);
    if (!p->nw)
        p->nw = rs_default_workers();
    if (p->nw > RS_MAX_WORKERS)
        p->nw = RS_MAX_WORKERS;
    rs_err_e e = RS_OK;
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p);
        return rs_error_set(err, RS_ERR_INTERNAL, "cannot create a mutex");
    }
    pthread_cond_init(&p->not_full, NULL);
    pthread_cond_init(&p->done, NULL);
    pthread_cond_init(&p->piece_ready, NULL);
    pthread_cond_init(&p->piece_taken, NULL);
    p->sync_ok = 1;
    if (pthread_mutex_init(&p->acc_mu, NULL) != 0) {
        rs_pool_free(p);
        return rs_error_set(err, RS_ERR_INTERNAL, "cannot create a mutex");
    }
    p->acc_ok = 1;
    for (; p->part_mu_ok < RS_PAIRS_PARTS; p->part_mu_ok++) {
        if (pthread_mutex_init(&p->part_mu[p->part_mu_ok], NULL) != 0) {
            rs_pool_free(p);
            return rs_error_set(err, RS_ERR_INTERNAL, "cannot create a mutex");
        }
    }
    if (rs_stats_init(&p->acc, cfg->topic_cats, cfg->topic_pats, cfg->entity_cats, cfg->entity_pats) != RS_OK) {
        rs_pool_free(p);
        return rs_error_set(err, RS_ERR_NOMEM, "out of memory");
    }
    p->flush_entries = cfg->flush_entries ? cfg->flush_entries : RS_POOL_FLUSH_TOTAL / p->nw;
    if (!cfg->flush_entries && p->flush_entries < RS_POOL_FLUSH_MIN)
        p->flush_entries = RS_POOL_FLUSH_MIN;
    if (!(p->w = calloc(p->nw, sizeof *p->w))) {
        rs_pool_free(p);
        return rs_error_set(err, RS_ERR_NOMEM, "out of memory");
    }
    hwloc_cpuset_t *sets = NULL;
    if (cfg->pin && p->have_topo && (sets = calloc(p->nw, sizeof *sets)) != NULL) {
        hwloc_obj_t root = hwloc_get_root_obj(p->topo);
        if (hwloc_distrib(p->topo, &root, 1, sets, p->nw, INT_MAX, 0) == 0) {
            for (unsigned i = 0; i < p->nw; i++)
                if (sets[i])
                    hwloc_bitmap_singlify(sets[i]);
        }
    }
    for (unsigned i = 0; i < p->nw && e == RS_OK; i++) {
        rs_worker_t *w = &p->w[i];
        w->pool = p;
        w->idx = i;
        w->set = sets ? sets[i] : NULL;
        if (!w->set && cfg->pin)
            w->pin_errno = p->have_topo ? EINVAL : ENOSYS;
        if (rs_scanner_init(&w->sc, cfg->scan) != RS_OK
            || rs_stats_init(&w->st, cfg->topic_cats, cfg->topic_pats, cfg->entity_cats, cfg->entity_pats) != RS_OK
            || rs_stats_init(&w->part, cfg->topic_cats, cfg->topic_pats, cfg->entity_cats, cfg->entity_pats) != RS_OK)
            e = rs_error_set(err, RS_ERR_NOMEM, "out of memory");
        else
            w->part_ok = 1;
        /* one worker: its bigram table grows to the whole input's, so it
         * takes its bigrams a shard's batch at a time (pairs.h), flushed
         * after each shard and before w->st or w->part is read; with more,
         * each worker's tables go to the pool's after a shard at most and
         * stay small, where batches measured slower (bench/RESULTS.md) */
        w->sc.hold_bigrams = 1;
        if (p->nw > 1)
            w->sc.bigrams.from = SIZE_MAX;
    }
    free(sets); /* the sets themselves now belong to the workers */
    if (e == RS_OK && rs_pool_nodes(p) != 0)
        e = rs_error_set(err, RS_ERR_NOMEM, "out of memory");
    for (unsigned i = 0; i < p->nw && e == RS_OK; i++) {
        pthread_mutex_lock(&p->mu);
        p->alive++;
        pthread_mutex_unlock(&p->mu);
        if (pthread_create(&p->w[i].th, NULL, rs_worker_main, &p->w[i]) != 0) {
            pthread_mutex_lock(&p->mu);
            p->alive--;
            pthread_mutex_unlock(&p->mu);
            e = rs_error_set(err, RS_ERR_INTERNAL, "cannot start worker thread %u of %u", i + 1, p->nw);
            break;
        }
        p->w[i].started = 1;
    }
    if (e != RS_OK) {
        rs_pool_free(p);
        return e;
    }
    *out = p;
    return RS_OK;
}

/* Closes the queue and joins the workers (progress while waiting). */
static void rs_pool_join(rs_pool_t *p)
{
    pthread_mutex_lock(&p->mu);
    p->closed = 1;
    for (unsigned n = 0; n < p->nnodes; n++)
        if (p->node[n].ready_ok)
            pthread_cond_broadcast(&p->node[n].ready);
    while (p->alive > 0)
        rs_reader_wait(p, &p->done);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nw; i++)
        if (p->w[i].started) {
            pthread_join(p->w[i].th, NULL);
            p->w[i].started = 0;
        }
}

rs_err_e rs_pool_finish(rs_pool_t *p, rs_stats_t *into, rs_strlist_t *warnings, rs_error_t *err)
{
    rs_stream_cut(p); /* a walk that stopped inside a document */
    if (p->cur) {
        if (p->cur->n)
            rs_queue_push(p, p->cur);
        else
            rs_shard_free(p, p->cur);
        p->cur = NULL;
    }
    rs_pool_join(p);
    rs_progress_now(p, 1);
    for (unsigned i = 0; i < p->nw; i++) {
        const rs_worker_t *w = &p->w[i];
        if (!p->cfg.pin || w->pinned)
            continue;
        char msg[256];
        snprintf(msg, sizeof msg, "worker %u of %u not pinned to a PU (%s); it runs where the system puts it", i + 1,
                 p->nw, strerror(w->pin_errno));
        if (rs_strlist_push(warnings, msg, strlen(msg)) < 0)
            return rs_error_set(err, RS_ERR_NOMEM, "out of memory");
    }
    if (p->buffers > p->bound) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "%llu of %llu shard buffers not bound to their NUMA node (%s); they lie where the system puts them",
                 (unsigned long long)(p->buffers - p->bound), (unsigned long long)p->buffers, strerror(p->bind_errno));
        if (rs_strlist_push(warnings, msg, strlen(msg)) < 0)
            return rs_error_set(err, RS_ERR_NOMEM, "out of memory");
    }
    const rs_err_e we = rs_pool_error(p);
    if (we != RS_OK)
        return rs_error_set(err, we, "scan failed in a worker: %s", rs_err_str(we));
    /* into takes the workers' flushed tables as they are (no copy), then
     * what it held (notes of the reader) */
    const rs_stats_t tmp = *into;
    *into = p->acc;
    p->acc = tmp;
    const rs_err_e e = rs_stats_merge(into, &p->acc);
    if (e != RS_OK)
        return rs_error_set(err, e, "merging worker statistics: %s", rs_err_str(e));
    return RS_OK;
}

void rs_pool_free(rs_pool_t *p)
{
    if (!p)
        return;
    if (p->sync_ok)
        rs_stream_cut(p);
    if (p->sync_ok && p->w)
        rs_pool_join(p);
    for (unsigned n = 0; n < p->nnodes; n++) {
        rs_node_t *nd = &p->node[n];
        for (; nd->qn; nd->qhead = (nd->qhead + 1) % RS_QUEUE_SHARDS, nd->qn--) {
            rs_shard_t *sh = nd->queue[nd->qhead];
            if (sh->stream) {
                for (size_t j = 0; j < sh->stream->qn; j++)
                    rs_doc_free(&sh->stream->q[(sh->stream->qh + j) % RS_STREAM_PIECES]);
                free(sh->stream);
            }
            for (size_t j = 0; j < sh->n; j++)
                rs_shard_doc_free(sh, &sh->docs[j]);
            rs_shard_free(p, sh);
        }
    }
    if (p->cur) {
        for (size_t j = 0; j < p->cur->n; j++)
            rs_shard_doc_free(p->cur, &p->cur->docs[j]);
        rs_shard_free(p, p->cur);
    }
    for (unsigned n = 0; n < p->nnodes; n++) {
        rs_node_t *nd = &p->node[n];
        while (nd->spare) {
            rs_arena_t *a = nd->spare;
            nd->spare = a->next;
            rs_arena_free(p, a);
        }
        if (nd->ready_ok)
            pthread_cond_destroy(&nd->ready);
        if (nd->set)
            hwloc_bitmap_free(nd->set);
    }
    free(p->node);
    for (unsigned i = 0; p->w && i < p->nw; i++) {
        rs_scanner_free(&p->w[i].sc);
        rs_stats_free(&p->w[i].st);
        if (p->w[i].part_ok)
            rs_stats_free(&p->w[i].part);
        if (p->w[i].set)
            hwloc_bitmap_free(p->w[i].set);
    }
    free(p->w);
    if (p->acc_ok) {
        rs_stats_free(&p->acc);
        pthread_mutex_destroy(&p->acc_mu);
    }
    for (unsigned i = 0; i < p->part_mu_ok; i++)
        pthread_mutex_destroy(&p->part_mu[i]);
    if (p->sync_ok) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->not_full);
        pthread_cond_destroy(&p->done);
        pthread_cond_destroy(&p->piece_ready);
        pthread_cond_destroy(&p->piece_taken);
    }
    if (p->have_topo)
        hwloc_topology_destroy(p->topo);
    free(p);
}

unsigned rs_pool_workers(const rs_pool_t *p)
{
    return p->nw;
}

uint64_t rs_pool_shard_bytes(const rs_pool_t *p)
{
    return p->cfg.shard_bytes;
}

void rs_pool_pieces(const rs_pool_t *p, uint64_t *docs, uint64_t *pieces)
{
    *docs = p->split_docs;
    *pieces = p->pieces;
}

uint64_t rs_pool_dropped(const rs_pool_t *p)
{
    return atomic_load(&((rs_pool_t *)p)->dropped);
}

void rs_pool_numa(const rs_pool_t *p, rs_numa_use_t *out)
{
    memset(out, 0, sizeof *out);
    out->nodes = p->nnodes;
    for (unsigned n = 0; p->nnodes > 1 && n < p->nnodes; n++) {
        out->shards += p->node[n].shards;
        out->local += p->node[n].local;
    }
    out->buffers = p->buffers;
    out->bound = p->bound;
    out->peak = p->peak;
}

int rs_pool_pinned(const rs_pool_t *p)
{
    for (unsigned i = 0; i < p->nw; i++)
        if (!p->w[i].pinned)
            return 0;
    return p->nw > 0;
}

const char *rs_pool_topology(const rs_pool_t *p)
{
    return p->topology;
}
