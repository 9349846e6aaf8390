/*
 * tokenize_terms.cl - numbers the terms of one pass on the device, so that
 * the host counts each token by an array lookup instead of a hash-table
 * probe: equal folded bytes get equal numbers 0, 1, 2, ... within the pass.
 * Embedded after tokenize.cl (the host embeds the .cl files of kernels/opencl in name
 * order), whose rs_cl_token and compacted output it reads.
 *
 * Three kernels run after rs_tok_compact, in order on the same queue, each
 * with one work-item per sub-chunk that walks the sub-chunk's tokens (as
 * info and prefix give them), so the host launches them without knowing
 * the token count:
 *
 *   rs_terms_insert   open addressing on the token hashes in a table of
 *                     mask + 1 slots (zero: free, else a token index + 1):
 *                     the first token to claim a slot (atomic_cmpxchg)
 *                     represents its folded bytes; every other token with
 *                     the same bytes finds it by comparing hash, length
 *                     and bytes. rep[i] = the representative's index;
 *                     where[i] = the slot a representative claimed. A
 *                     probe that runs through the whole table sets
 *                     RS_CL_FLAG_OVERFLOW in state[1].
 *   (where and num share one scratch buffer: num starts at num_at.)
 *   rs_terms_number   each representative takes the next number
 *                     (atomic_inc on state[0], the count of numbers), in
 *                     num[i]. The host zeroes state before the pass.
 *   rs_terms_resolve  rep[i] becomes num[rep[i]], the token's number, and
 *                     each representative frees its slot, so the table is
 *                     all zeros again for the next pass.
 *
 * Which token represents a term, and so which number a term gets, depends
 * on the order work-items run: the numbers are the same set of classes on
 * every run, not the same labels. The host gives terms their ids in token
 * order (host/scan.c), which the labels do not change.
 */

/* This work-item's sub-chunk's tokens in the compacted output, [*first,
 * *first + *n); 0 for a work-item past the last sub-chunk. */
int rs_terms_chunk(__global const uint4 *info, __global const uint2 *prefix, uint nchunks, uint *first, uint *n)
{
    const uint c = (uint)get_global_id(0);
    if (c >= nchunks)
        return 0;
    *first = prefix[c].x;
    *n = info[c].y;
    return 1;
}

int rs_terms_same(__global const rs_cl_token *tok, __global const uchar *fold, uint fold_base, uint a, uint b)
{
    const rs_cl_token x = tok[a], y = tok[b];
    if (x.hash != y.hash || x.len != y.len)
        return 0;
    __global const uchar *p = fold + (x.off - fold_base), *q = fold + (y.off - fold_base);
    for (uint k = 0u; k < x.len; k++)
        if (p[k] != q[k])
            return 0;
    return 1;
}

__kernel void rs_terms_insert(__global const rs_cl_token *tok, __global const uchar *fold, uint fold_base,
                              __global const uint4 *info, __global const uint2 *prefix, uint nchunks,
                              __global uint *slots, uint mask, __global uint *rep, __global uint *where,
                              __global uint *state)
{
    uint first, n;
    if (!rs_terms_chunk(info, prefix, nchunks, &first, &n))
        return;
    for (uint i = first; i < first + n; i++) {
        uint s = (uint)tok[i].hash & mask, probes = 0u, found = 0xFFFFFFFFu;
        while (probes <= mask) {
            uint cur = slots[s];
            if (cur == 0u) {
                cur = atomic_cmpxchg(&slots[s], 0u, i + 1u);
                if (cur == 0u) {
                    found = i;
                    where[i] = s;
                    break;
                }
            }
            if (rs_terms_same(tok, fold, fold_base, i, cur - 1u)) {
                found = cur - 1u;
                break;
            }
            s = (s + 1u) & mask;
            probes++;
        }
        if (found == 0xFFFFFFFFu) {
            atomic_or(&state[1], RS_CL_FLAG_OVERFLOW);
            found = i; /* the host drops the numbers of this pass */
            where[i] = 0xFFFFFFFFu;
        }
        rep[i] = found;
    }
}

__kernel void rs_terms_number(__global const uint4 *info, __global const uint2 *prefix, uint nchunks,
                              __global const uint *rep, __global uint *scratch, uint num_at, __global uint *state)
{
    __global uint *const num = scratch + num_at;
    uint first, n;
    if (!rs_terms_chunk(info, prefix, nchunks, &first, &n))
        return;
    for (uint i = first; i < first + n; i++)
        if (rep[i] == i)
            num[i] = atomic_inc(&state[0]);
}

__kernel void rs_terms_resolve(__global const uint4 *info, __global const uint2 *prefix, uint nchunks,
                               __global uint *rep, __global const uint *scratch, uint num_at, __global uint *slots)
{
    __global const uint *const where = scratch, *const num = scratch + num_at;
    uint first, n;
    if (!rs_terms_chunk(info, prefix, nchunks, &first, &n))
        return;
    for (uint i = first; i < first + n; i++) {
        const uint r = rep[i];
        if (r == i && where[i] != 0xFFFFFFFFu)
            slots[where[i]] = 0u;
        rep[i] = num[r];
    }
}
