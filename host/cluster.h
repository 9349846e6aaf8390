/*
 * cluster.h - the optional MPI mode of a scan: `mpirun -np N rostrum scan
 * ...` divides the documents among N ranks, each scans its share, and the
 * ranks' states (state.h) are added up in a binary tree to rank 0, whose
 * result is the one a single process gives. docs/cluster.md tells users
 * how to run it.
 *
 * MPI is started only when the process was launched by an MPI launcher
 * (mpirun, mpiexec, srun with PMI/PMIx: detected from its environment);
 * otherwise, and in builds without MPI (RS_MPI=OFF, no RS_HAVE_MPI), the
 * cluster is one process and nothing changes.
 *
 * How the work is divided: every rank walks the inputs the same way
 * without reading them (rs_scan_opts_t.filter), the ranks check that they
 * saw the same list (a digest, compared with one allreduce), and each
 * assigns the files deterministically: by size, largest first (ties by
 * path), each to the least-loaded rank (ties: the lowest rank), a file
 * costing its size plus RS_CLUSTER_FILE_COST. Each rank then scans only its
 * files. Notes about inputs that the walk itself cannot read (a missing
 * path, a broken symlink) are seen by every rank: only rank 0 keeps them.
 *
 * Threads: every MPI call is made by the thread that calls these functions
 * (MPI_THREAD_FUNNELED); a scan may use worker threads of its own. MPI
 * errors return RS_ERR_MPI with MPI's message (MPI_ERRORS_RETURN is set):
 * the library never aborts the job.
 */
#ifndef RS_CLUSTER_H
#define RS_CLUSTER_H

#include "error.h"   /* rs_err_e, rs_error_t */
#include "rostrum.h" /* rs_scan_opts_t, rs_scan_result_t */

/* What a file costs on top of its size when balancing ranks. */
#define RS_CLUSTER_FILE_COST 4096

typedef struct rs_cluster {
    int rank, size; /* 0 and 1 outside MPI */
    int mpi;        /* 1: MPI was started by rs_cluster_begin */
    /* Set by rs_cluster_scan with more than one rank (0 otherwise): the
     * input files every rank listed, and this rank's share of them. */
    size_t listed_files, share_files;
    uint64_t share_bytes;
    /* This rank's time in each step of rs_cluster_scan, in seconds: listing
     * and assignment, scanning its share, waiting for the other ranks to
     * finish theirs, and the reduction (rank 0: receiving and adding). */
    double seconds_list, seconds_scan, seconds_wait, seconds_reduce;
} rs_cluster_t;

/* Starts MPI when launched by an MPI launcher. On error (RS_ERR_MPI; or
 * RS_ERR_UNSUPPORTED when launched by one in a build without MPI, so that N
 * copies do not each write the same report) err says why. */
rs_err_e rs_cluster_begin(rs_cluster_t *c, int *argc, char ***argv, rs_error_t *err);

/* Scans o's inputs divided among the ranks (every rank calls it with the
 * same options). On rank 0, *res then holds the whole scan's statistics,
 * lexicons and run information; on other ranks *res holds the lexicons and
 * only that rank's share (already sent to rank 0). With one rank it is
 * rs_scan_run. Standard input ("-") is refused with more than one rank.
 * On error, every rank returns an error; err->msg is empty on the ranks
 * that have nothing to add to the message of another rank (so that a
 * failure all ranks share is printed once). res must be freed in any case. */
rs_err_e rs_cluster_scan(rs_cluster_t *c, const rs_scan_opts_t *o, rs_scan_result_t *res, rs_error_t *err);

/* Fault injection, for tests only (tests/cli/state_test.sh, case
 * mpi_kill): with ROSTRUM_TEST_MPI_KILL=K:STAGE in the environment, rank K
 * of an MPI scan kills itself with SIGKILL at STAGE: "list" (before it
 * lists the inputs) or "reduce" (its share scanned, before the reduction),
 * to check that the launcher ends the run with a message naming the rank
 * rather than hang. Read by rs_cluster_scan on every rank; ignored outside
 * MPI. */
#define RS_CLUSTER_TEST_KILL_ENV "ROSTRUM_TEST_MPI_KILL"

/* Gives every rank rank 0's exit status, ends MPI when it was started, and
 * returns that status. Can't fail (an MPI failure here keeps status). */
int rs_cluster_end(rs_cluster_t *c, int status);

#endif
