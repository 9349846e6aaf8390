/*
 * cluster.c - the MPI mode of a scan (cluster.h): launcher detection, the
 * division of the inputs among ranks, and the binary-tree reduction of the
 * ranks' states to rank 0.
 *
 * DESIGN
 * A scan under MPI is two rs_scan_run calls per rank. The first lists: its
 * filter records every input file with its size and reads none, so every
 * rank builds the same list (checked with one allreduce of a digest), and
 * the notes it collects are exactly those of the walk itself (paths that
 * cannot be listed), which every rank will see again. The second scans:
 * its filter takes only the files this rank was assigned. Ranks other than
 * 0 then drop one copy of each walk note, so the sum over ranks has each
 * note once, as a single process has.
 *
 * Reduction: in round k (step = 2^k) a rank whose bit k is its lowest set
 * bit sends its state (state.h, encoded in memory) to rank - step and is
 * done; a rank with bits 0..k clear receives from rank + step (when it
 * exists) and adds the state to its own. Rank 0 ends with the total after
 * ceil(log2 N) rounds; each rank holds its own counts plus one received
 * state at a time. A state is sent as its length (uint64; 0 means "this
 * subtree failed"); the receiver answers a nonzero length with a "go"
 * message once it is ready, and the sender then sends chunks of at most
 * RS_CLUSTER_CHUNK bytes. A receiver always drains its children, even
 * after a failure, so that no sender is left blocked.
 *
 * Waiting: a rank done early waits for the others in nonblocking calls
 * tested between short sleeps (rs_mpi_wait), not in MPI's blocking calls,
 * which spin and would take a core from the ranks and jobs still working.
 *
 * All MPI calls are made by the calling thread. Every collective is
 * reached by every rank: failures before the reduction are agreed on with
 * an allreduce and turned into an error on all ranks.
 */
#include "cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* True when an MPI launcher started this process: Open MPI, PMI-1/2
 * (MPICH Hydra, Intel MPI, srun --mpi=pmi2), PMIx (srun --mpi=pmix, Open
 * MPI 5), MVAPICH. */
static int rs_launched(long *size)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE", "PMIX_RANK"};
    *size = 0;
    int found = 0;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) {
            found = 1;
            if (i < 3 && atol(v) > *size)
                *size = atol(v);
        }
    }
    return found;
}

#ifndef RS_HAVE_MPI

rs_err_e rs_cluster_begin(rs_cluster_t *c, int *argc, char ***argv, rs_error_t *err)
{
    (void)argc;
    (void)argv;
    memset(c, 0, sizeof *c);
    c->size = 1;
    long size;
    const char *rank = getenv("PMIX_RANK");
    if (rs_launched(&size) && (size > 1 || (rank && strcmp(rank, "0") != 0)))
        return rs_error_set(err, RS_ERR_UNSUPPORTED,
                            "this rostrum was built without MPI (RS_MPI=OFF): every process would scan "
                            "everything; run it without mpirun, or rebuild with MPI (docs/cluster.md)");
    return RS_OK;
}

rs_err_e rs_cluster_scan(rs_cluster_t *c, const rs_scan_opts_t *o, rs_scan_result_t *res, rs_error_t *err)
{
    c->listed_files = c->share_files = 0;
    c->share_bytes = 0;
    c->seconds_list = c->seconds_scan = c->seconds_wait = c->seconds_reduce = 0;
    return rs_scan_run(o, res, err);
}

int rs_cluster_end(rs_cluster_t *c, int status)
{
    (void)c;
    return status;
}

#else /* RS_HAVE_MPI */

#include <mpi.h>
#include <signal.h>
#include <time.h>

#include "dict.h"  /* rs_dict_t: assigned paths, walk notes */
#include "hash.h"  /* rs_hash64 */
#include "state.h" /* rs_state_encode, rs_state_decode */

#define RS_CLUSTER_CHUNK (64u << 20)
#define RS_TAG_LEN 7301
#define RS_TAG_DATA 7302
#define RS_TAG_GO 7303

static rs_err_e rs_mpi_fail(rs_error_t *err, int code, const char *what)
{
    char s[MPI_MAX_ERROR_STRING];
    int n = 0;
    if (MPI_Error_string(code, s, &n) != MPI_SUCCESS)
        snprintf(s, sizeof s, "error code %d", code);
    return rs_error_set(err, RS_ERR_MPI, "MPI: %s: %s", what, s);
}

/* Waits for req without holding a core: MPI_Test, then a sleep that grows
 * from 50 us to 2 ms. MPI's blocking calls poll at full speed, so a rank
 * that is done early would take a core from whatever else runs there (its
 * own node's other ranks, other jobs) for as long as the slowest rank
 * scans. Used for every wait that can be long; the data of a state moves
 * with blocking calls, once both sides are ready (RS_TAG_GO). */
static int rs_mpi_wait(MPI_Request *req)
{
    long ns = 50000;
    for (;;) {
        int done = 0;
        const int rc = MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS || done)
            return rc;
        const struct timespec ts = {0, ns};
        nanosleep(&ts, NULL);
        if (ns < 2000000)
            ns *= 2;
    }
}

static int rs_allreduce(const void *mine, void *all, int n, MPI_Datatype type, MPI_Op op)
{
    MPI_Request req;
    const int rc = MPI_Iallreduce(mine, all, n, type, op, MPI_COMM_WORLD, &req);
    return rc != MPI_SUCCESS ? rc : rs_mpi_wait(&req);
}

static int rs_recv_polite(void *buf, int n, MPI_Datatype type, int from, int tag)
{
    MPI_Request req;
    const int rc = MPI_Irecv(buf, n, type, from, tag, MPI_COMM_WORLD, &req);
    return rc != MPI_SUCCESS ? rc : rs_mpi_wait(&req);
}

rs_err_e rs_cluster_begin(rs_cluster_t *c, int *argc, char ***argv, rs_error_t *err)
{
    memset(c, 0, sizeof *c);
    c->size = 1;
    long size;
    if (!rs_launched(&size))
        return RS_OK;
    int provided = 0;
    int rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS)
        return rs_error_set(err, RS_ERR_MPI, "MPI: MPI_Init_thread failed (code %d)", rc);
    c->mpi = 1;
    rc = MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    if (rc == MPI_SUCCESS)
        rc = MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
    if (rc == MPI_SUCCESS)
        rc = MPI_Comm_size(MPI_COMM_WORLD, &c->size);
    if (rc != MPI_SUCCESS)
        return rs_mpi_fail(err, rc, "MPI_Comm_rank/size");
    return RS_OK;
}

int rs_cluster_end(rs_cluster_t *c, int status)
{
    if (!c->mpi)
        return status;
    int s = status;
    MPI_Request req;
    if (MPI_Ibcast(&s, 1, MPI_INT, 0, MPI_COMM_WORLD, &req) == MPI_SUCCESS && rs_mpi_wait(&req) == MPI_SUCCESS)
        status = s;
    MPI_Finalize();
    c->mpi = 0;
    return status;
}

/* Makes every rank's outcome the same. A rank that failed keeps its message
 * (prefixed with its rank) unless rank 0 failed too, in which case rank 0's
 * message stands for all; ranks that did not fail get an empty message. */
static rs_err_e rs_agree(const rs_cluster_t *c, rs_err_e e, rs_error_t *err)
{
    int mine[2] = {e != RS_OK, c->rank == 0 && e != RS_OK}, all[2] = {0, 0};
    const int rc = rs_allreduce(mine, all, 2, MPI_INT, MPI_MAX);
    if (rc != MPI_SUCCESS)
        return rs_mpi_fail(err, rc, "MPI_Iallreduce");
    if (!all[0])
        return RS_OK;
    if (e == RS_OK) {
        rs_error_set(err, RS_ERR_MPI, "%s", "");
        return RS_ERR_MPI;
    }
    if (c->rank != 0 && all[1]) {
        err->msg[0] = '\0';
    } else if (c->rank != 0) {
        char msg[RS_ERROR_MSG_MAX];
        memcpy(msg, err->msg, sizeof msg);
        rs_error_set(err, e, "rank %d: %.*s", c->rank, RS_ERROR_MSG_MAX - 32, msg);
    }
    return e;
}

/* ROSTRUM_TEST_MPI_KILL=K:STAGE (cluster.h), for tests only: rank K dies
 * here, as a crashed or killed process would, without a word to MPI. */
static void rs_test_kill(const rs_cluster_t *c, const char *stage)
{
    const char *v = getenv(RS_CLUSTER_TEST_KILL_ENV);
    if (!v || !*v)
        return;
    char *end;
    const long k = strtol(v, &end, 10);
    if (end != v && *end == ':' && k == c->rank && strcmp(end + 1, stage) == 0)
        raise(SIGKILL);
}

/* --- listing and assignment ---------------------------------------------- */

typedef struct rs_listing {
    char **path;
    uint64_t *size;
    size_t n, cap;
    int nomem;
} rs_listing_t;

static int rs_list_filter(void *ctx, const char *path, uint64_t size)
{
    rs_listing_t *l = ctx;
    if (l->nomem)
        return 0;
    if (l->n == l->cap) {
        const size_t cap = l->cap ? l->cap * 2 : 256;
        char **p = realloc(l->path, cap * sizeof *p);
        if (p)
            l->path = p;
        uint64_t *s = realloc(l->size, cap * sizeof *s);
        if (s)
            l->size = s;
        if (!p || !s) {
            l->nomem = 1;
            return 0;
        }
        l->cap = cap;
    }
    if (!(l->path[l->n] = strdup(path))) {
        l->nomem = 1;
        return 0;
    }
    l->size[l->n++] = size;
    return 0; /* list only: nothing is read */
}

static void rs_listing_free(rs_listing_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->path[i]);
    free(l->path);
    free(l->size);
    memset(l, 0, sizeof *l);
}

/* Order-sensitive digest of the list, to compare ranks' views. */
static uint64_t rs_listing_digest(const rs_listing_t *l)
{
    uint64_t h = rs_hash64(&l->n, sizeof l->n);
    for (size_t i = 0; i < l->n; i++) {
        const uint64_t x[3] = {h, rs_hash64(l->path[i], strlen(l->path[i])), l->size[i]};
        h = rs_hash64(x, sizeof x);
    }
    return h;
}

static _Thread_local const rs_listing_t *rs_sort_list;

/* Largest first, then by path, then by position: a total order. */
static int rs_cmp_files(const void *a, const void *b)
{
    const size_t i = *(const size_t *)a, j = *(const size_t *)b;
    const uint64_t si = rs_sort_list->size[i], sj = rs_sort_list->size[j];
    if (si != sj)
        return si > sj ? -1 : 1;
    const int c = strcmp(rs_sort_list->path[i], rs_sort_list->path[j]);
    return c ? c : (i > j) - (i < j);
}

typedef struct rs_load {
    uint64_t load;
    int rank;
} rs_load_t;

static int rs_load_less(const rs_load_t *a, const rs_load_t *b)
{
    return a->load < b->load || (a->load == b->load && a->rank < b->rank);
}

/* Fills take (path -> uint32 count) with the files of this rank: greedy,
 * largest first, each to the least-loaded rank (a min-heap of loads). */
static rs_err_e rs_assign(rs_cluster_t *c, const rs_listing_t *l, rs_dict_t *take)
{
    size_t *order = malloc((l->n ? l->n : 1) * sizeof *order);
    rs_load_t *heap = malloc((size_t)c->size * sizeof *heap);
    if (!order || !heap) {
        free(order);
        free(heap);
        return RS_ERR_NOMEM;
    }
    for (size_t i = 0; i < l->n; i++)
        order[i] = i;
    rs_sort_list = l;
    qsort(order, l->n, sizeof *order, rs_cmp_files);
    for (int r = 0; r < c->size; r++)
        heap[r] = (rs_load_t){0, r}; /* sorted, hence a heap */
    const size_t n = (size_t)c->size;
    rs_err_e e = RS_OK;
    for (size_t k = 0; k < l->n && e == RS_OK; k++) {
        const size_t i = order[k];
        if (heap[0].rank == c->rank) {
            const char *p = l->path[i];
            const size_t len = strlen(p);
            const int64_t id = rs_dict_put(take, p, len, rs_hash64(p, len), NULL);
            if (id < 0)
                e = RS_ERR_NOMEM;
            else
                (*(uint32_t *)rs_dict_val(take, (size_t)id))++;
            c->share_files++;
            c->share_bytes += l->size[i];
        }
        heap[0].load += l->size[i] + RS_CLUSTER_FILE_COST;
        for (size_t j = 0;;) { /* sift the root down */
            size_t m = j;
            const size_t a = 2 * j + 1, b = 2 * j + 2;
            if (a < n && rs_load_less(&heap[a], &heap[m]))
                m = a;
            if (b < n && rs_load_less(&heap[b], &heap[m]))
                m = b;
            if (m == j)
                break;
            const rs_load_t t = heap[j];
            heap[j] = heap[m];
            heap[m] = t;
            j = m;
        }
    }
    free(order);
    free(heap);
    return e;
}

static int rs_take_filter(void *ctx, const char *path, uint64_t size)
{
    (void)size;
    rs_dict_t *take = ctx;
    const size_t len = strlen(path);
    const int64_t id = rs_dict_get(take, path, len, rs_hash64(path, len));
    if (id < 0)
        return 0;
    uint32_t *left = rs_dict_val(take, (size_t)id);
    if (!*left)
        return 0;
    (*left)--;
    return 1;
}

/* --- walk notes ---------------------------------------------------------- */

static char *rs_note_key(const rs_note_t *n, size_t *len)
{
    const size_t a = strlen(n->path), b = strlen(n->message);
    char *k = malloc(a + b + 1);
    if (k) {
        memcpy(k, n->path, a);
        k[a] = '\0';
        memcpy(k + a + 1, n->message, b);
    }
    *len = a + 1 + b;
    return k;
}

/* Counts each note of from in set (key path NUL message -> uint32). */
static rs_err_e rs_notes_count(rs_dict_t *set, const rs_notes_t *from)
{
    for (size_t i = 0; i < from->n; i++) {
        size_t len;
        char *k = rs_note_key(&from->v[i], &len);
        const int64_t id = k ? rs_dict_put(set, k, len, rs_hash64(k, len), NULL) : -1;
        free(k);
        if (id < 0)
            return RS_ERR_NOMEM;
        (*(uint32_t *)rs_dict_val(set, (size_t)id))++;
    }
    return RS_OK;
}

/* Drops from notes one copy of each note counted in set. */
static rs_err_e rs_notes_drop(rs_notes_t *notes, rs_dict_t *set)
{
    size_t out = 0;
    for (size_t i = 0; i < notes->n; i++) {
        size_t len;
        char *k = rs_note_key(&notes->v[i], &len);
        if (!k)
            return RS_ERR_NOMEM;
        const int64_t id = rs_dict_get(set, k, len, rs_hash64(k, len));
        free(k);
        uint32_t *left = id >= 0 ? rs_dict_val(set, (size_t)id) : NULL;
        if (left && *left) {
            (*left)--;
            free(notes->v[i].path);
            free(notes->v[i].message);
        } else {
            notes->v[out++] = notes->v[i];
        }
    }
    notes->n = out;
    return RS_OK;
}

/* --- reduction ----------------------------------------------------------- */

static rs_err_e rs_send_state(const rs_cluster_t *c, int to, const rs_scan_result_t *res, rs_err_e e,
                              rs_error_t *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (e == RS_OK)
        e = rs_state_encode(&res->stats, &res->topics, &res->entities, &buf, &len, err);
    uint64_t n = e == RS_OK ? (uint64_t)len : 0;
    int rc = MPI_Send(&n, 1, MPI_UINT64_T, to, RS_TAG_LEN, MPI_COMM_WORLD);
    int go = 0;
    if (rc == MPI_SUCCESS && n > 0) /* the receiver may still be scanning */
        rc = rs_recv_polite(&go, 1, MPI_INT, to, RS_TAG_GO);
    for (size_t off = 0; rc == MPI_SUCCESS && off < n;) {
        const size_t k = n - off < RS_CLUSTER_CHUNK ? (size_t)(n - off) : RS_CLUSTER_CHUNK;
        rc = MPI_Send(buf + off, (int)k, MPI_BYTE, to, RS_TAG_DATA, MPI_COMM_WORLD);
        off += k;
    }
    free(buf);
    if (rc != MPI_SUCCESS) {
        char what[64];
        snprintf(what, sizeof what, "sending the state of rank %d to rank %d", c->rank, to);
        return rs_mpi_fail(err, rc, what);
    }
    return e;
}

/* Receives the state of from's subtree and adds it to res, unless *ep is
 * already an error: then it is only drained. A failure to decode or merge
 * goes to *ep. Returns -1 when MPI itself failed (*ep and err say so): the
 * protocol cannot go on. */
static int rs_recv_state(const rs_cluster_t *c, int from, rs_scan_result_t *res, rs_err_e *ep, rs_error_t *err)
{
    rs_err_e e = *ep;
    char what[64];
    snprintf(what, sizeof what, "rank %d receiving the state of rank %d", c->rank, from);
    uint64_t n = 0;
    int rc = rs_recv_polite(&n, 1, MPI_UINT64_T, from, RS_TAG_LEN);
    const int go = 1;
    if (rc == MPI_SUCCESS && n > 0) /* ready: the sender may send the data */
        rc = MPI_Send(&go, 1, MPI_INT, from, RS_TAG_GO, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) {
        *ep = rs_mpi_fail(err, rc, what);
        return -1;
    }
    if (n == 0 && e == RS_OK)
        e = rs_error_set(err, RS_ERR_MPI, "rank %d: the results of ranks %d and up could not be received", c->rank,
                         from);
    uint8_t *buf = e == RS_OK ? malloc((size_t)n) : NULL;
    if (!buf && e == RS_OK)
        e = rs_error_set(err, RS_ERR_NOMEM, "rank %d: out of memory receiving a state of %llu bytes", c->rank,
                         (unsigned long long)n);
    uint8_t *drain = NULL;
    for (uint64_t off = 0; off < n;) {
        const size_t k = n - off < RS_CLUSTER_CHUNK ? (size_t)(n - off) : RS_CLUSTER_CHUNK;
        uint8_t *to = buf ? buf + off : (drain ? drain : (drain = malloc(RS_CLUSTER_CHUNK)));
        uint8_t none;
        rc = MPI_Recv(to ? to : &none, to ? (int)k : 0, MPI_BYTE, from, RS_TAG_DATA, MPI_COMM_WORLD,
                      MPI_STATUS_IGNORE);
        int cls = 0;
        if (!to && rc != MPI_SUCCESS && MPI_Error_class(rc, &cls) == MPI_SUCCESS && cls == MPI_ERR_TRUNCATE)
            rc = MPI_SUCCESS; /* no memory even to drain: the message is consumed, truncated */
        if (rc != MPI_SUCCESS) {
            free(buf);
            free(drain);
            *ep = rs_mpi_fail(err, rc, what);
            return -1;
        }
        off += k;
    }
    free(drain);
    if (e == RS_OK) {
        char name[64];
        snprintf(name, sizeof name, "the state of rank %d", from);
        rs_state_t s;
        e = rs_state_decode(&s, buf, (size_t)n, name, err);
        if (e == RS_OK && (s.topics.digest != res->topics.digest || s.entities.digest != res->entities.digest
                           || strcmp(s.tokenizer, rs_state_tokenizer()) != 0))
            e = rs_error_set(err, RS_ERR_STATE, "%s was counted with other lexicons or another tokenizer", name);
        if (e == RS_OK && rs_stats_merge(&res->stats, &s.stats) != RS_OK)
            e = rs_error_set(err, RS_ERR_NOMEM, "rank %d: out of memory merging %s", c->rank, name);
        rs_state_free(&s);
    }
    free(buf);
    *ep = e;
    return 0;
}

static rs_err_e rs_reduce(const rs_cluster_t *c, rs_scan_result_t *res, rs_error_t *err)
{
    rs_err_e e = RS_OK;
    for (int step = 1; step < c->size; step <<= 1) {
        if (c->rank & step)
            return rs_send_state(c, c->rank - step, res, e, err);
        if (c->rank + step < c->size && rs_recv_state(c, c->rank + step, res, &e, err) != 0)
            return e;
    }
    return e;
}

/* --- the scan ------------------------------------------------------------ */

rs_err_e rs_cluster_scan(rs_cluster_t *c, const rs_scan_opts_t *o, rs_scan_result_t *res, rs_error_t *err)
{
    c->listed_files = c->share_files = 0;
    c->share_bytes = 0;
    c->seconds_list = c->seconds_scan = c->seconds_wait = c->seconds_reduce = 0;
    if (c->size <= 1)
        return rs_scan_run(o, res, err);
    memset(res, 0, sizeof *res);
    for (size_t i = 0; i < o->npaths; i++)
        if (strcmp(o->paths[i], "-") == 0) {
            rs_error_set(err, RS_ERR_USAGE, "standard input ('-') cannot be divided among %d MPI ranks: "
                                            "give files or directories", c->size);
            if (c->rank)
                err->msg[0] = '\0';
            return RS_ERR_USAGE;
        }
    const double t0 = rs_now();
    rs_test_kill(c, "list");

    /* 1. list: every rank, the same way, reading nothing */
    rs_listing_t list = {0};
    rs_scan_opts_t lo = *o;
    lo.filter = rs_list_filter;
    lo.filter_ctx = &list;
    lo.progress = NULL; /* nothing to show: nothing is read */
    rs_scan_result_t walk;
    rs_err_e e = rs_scan_run(&lo, &walk, err);
    if (e == RS_OK && list.nomem)
        e = rs_error_set(err, RS_ERR_NOMEM, "out of memory listing the inputs");
    rs_dict_t walk_notes, take;
    rs_dict_init(&walk_notes, sizeof(uint32_t));
    rs_dict_init(&take, sizeof(uint32_t));
    if (e == RS_OK && c->rank != 0 && rs_notes_count(&walk_notes, &walk.stats.skipped) != RS_OK)
        e = rs_error_set(err, RS_ERR_NOMEM, "out of memory");
    rs_scan_result_free(&walk);
    e = rs_agree(c, e, err);

    /* 2. the same list everywhere, then this rank's share */
    if (e == RS_OK) {
        const uint64_t h = rs_listing_digest(&list);
        uint64_t mine[2] = {h, ~h}, all[2];
        const int rc = rs_allreduce(mine, all, 2, MPI_UINT64_T, MPI_MAX);
        if (rc != MPI_SUCCESS)
            e = rs_mpi_fail(err, rc, "MPI_Iallreduce");
        else if (all[0] != ~all[1]) {
            e = rs_error_set(err, RS_ERR_USAGE,
                             "the MPI ranks do not see the same input files (%zu here): the inputs changed while "
                             "they were listed, or they are not on a file system every rank shares",
                             list.n);
            if (c->rank)
                err->msg[0] = '\0';
        }
    }
    if (e == RS_OK && rs_assign(c, &list, &take) != RS_OK)
        e = rs_error_set(err, RS_ERR_NOMEM, "out of memory");
    c->listed_files = list.n;
    rs_listing_free(&list);
    e = rs_agree(c, e, err);
    const double t1 = rs_now();
    c->seconds_list = t1 - t0;

    /* 3. scan this rank's files; drop the walk's notes but on rank 0 */
    if (e == RS_OK) {
        rs_scan_opts_t so = *o;
        so.filter = rs_take_filter;
        so.filter_ctx = &take;
        e = rs_scan_run(&so, res, err);
        if (e == RS_OK && c->rank != 0 && rs_notes_drop(&res->stats.skipped, &walk_notes) != RS_OK)
            e = rs_error_set(err, RS_ERR_NOMEM, "out of memory");
    }
    rs_dict_free(&walk_notes);
    rs_dict_free(&take);
    const double t2 = rs_now();
    c->seconds_scan = t2 - t1;
    e = rs_agree(c, e, err);
    if (e != RS_OK)
        return e;
    /* interrupted anywhere: the total is partial */
    int partial = res->run.partial, any = 0;
    const int prc = rs_allreduce(&partial, &any, 1, MPI_INT, MPI_MAX);
    if (prc != MPI_SUCCESS)
        return rs_mpi_fail(err, prc, "MPI_Iallreduce");
    res->run.partial = any;
    const double t3 = rs_now();
    c->seconds_wait = t3 - t2;

    /* 4. add the states up, in a binary tree, to rank 0 */
    rs_test_kill(c, "reduce");
    e = rs_reduce(c, res, err);
    c->seconds_reduce = rs_now() - t3;
    if (e != RS_OK && c->rank != 0 && err->msg[0] && strncmp(err->msg, "rank ", 5) != 0) {
        char msg[RS_ERROR_MSG_MAX];
        memcpy(msg, err->msg, sizeof msg);
        rs_error_set(err, e, "rank %d: %.*s", c->rank, RS_ERROR_MSG_MAX - 32, msg);
    }
    res->run.seconds = rs_now() - t0;
    return e;
}

#endif /* RS_HAVE_MPI */
