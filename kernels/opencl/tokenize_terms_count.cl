/*
 * tokenize_terms_count.cl - counts one pass on the device, so that only its
 * statistics come back instead of its tokens: per term its count, the
 * number of distinct documents it occurs in and the first and last of
 * them; per bigram (two tokens in a row in one span) its count; per span
 * its first and last token. Embedded after tokenize_terms.cl, whose term
 * numbers (term[i], 0 .. numbers) it reads with the compacted tokens and
 * their first bytes (src).
 *
 * Five kernels run after rs_terms_resolve, in order on one queue, each with
 * one work-item per sub-chunk walking its tokens (rs_terms_chunk):
 *
 *   rs_count_span     tspan[i] = the span holding token i's first byte: the
 *                     last s with start[s] <= src[i] (binary search; start
 *                     lists the pass's spans, start[0] = 0).
 *   rs_count_insert   sets each span's first and last token (sdata), each
 *                     term's first token (atomic_min) and documents
 *                     (atomic_min/max), puts (term, document) into the set
 *                     dset, counting its tokens, and (previous term,
 *                     term), for a token after another of its span, into
 *                     the set pset. A set is open addressing over the token
 *                     that claimed a slot (index + 1), compared by the keys
 *                     of that token, like rs_terms_insert; a new (term,
 *                     document) adds a document to the term. A slot keeps
 *                     its counts in its own cache line: dset {claim,
 *                     tokens}, pset {claim, count, first token, 0}.
 *   rs_count_sum      the token that claimed a (term, document) slot adds
 *                     the slot's count to the term's: one atomic per term
 *                     and document, not one per token on a common term.
 *   rs_count_collect  the first token of each term writes the term's record
 *                     (crec_a, crec_b) and folded bytes (cfold), and the
 *                     first token of each pair the pair's record (cpair), in
 *                     any order (atomic counters in state); the host sorts
 *                     them by first token. Spans get the term numbers of
 *                     their first and last tokens.
 *   rs_count_clear    the same tokens free what they used, so that every
 *                     table is as the host made it for the next pass.
 *
 * Term arrays tc (stride cap): count, first token, documents, first and
 * last document, at 0, cap, 2 cap, 3 cap and 4 cap. Empty: 0, ~0, 0, ~0,
 * 0. Empty slots: dset {0, 0}, pset {0, 0, ~0, 0}. state: term records,
 * pair records, folded bytes, flags (RS_CL_FLAG_OVERFLOW when a set
 * filled), zeroed by the host before the pass.
 */

#define RS_CNT_NONE 0xFFFFFFFFu

uint rs_count_mix(uint a, uint b)
{
    uint h = a * 0x9E3779B1u ^ (b + 0x7F4A7C15u) * 0x85EBCA77u;
    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 12;
    return h;
}

/* The slot of token i's key in set (open addressing, stride words a
 * slot, word 0 the claiming token's index + 1, from slot h on): claimed
 * (*claimed = 1) or found; RS_CNT_NONE when the set is full. The key is
 * (term, previous term) for pair, else (term, document). */
uint rs_count_probe(__global uint *set, uint stride, uint h, uint mask, uint i, int pair, __global const uint *term,
                    __global const uint *tspan, __global const uint *spandoc, uint *claimed)
{
    const uint t = term[i], k = pair ? term[i - 1u] : spandoc[tspan[i]];
    *claimed = 0u;
    h &= mask;
    for (uint probes = 0u; probes <= mask; probes++, h = (h + 1u) & mask) {
        uint cur = set[stride * h];
        if (cur == 0u) {
            cur = atomic_cmpxchg(&set[stride * h], 0u, i + 1u);
            if (cur == 0u) {
                *claimed = 1u;
                return h;
            }
        }
        const uint j = cur - 1u;
        if (term[j] == t && (pair ? term[j - 1u] : spandoc[tspan[j]]) == k)
            return h;
    }
    return RS_CNT_NONE;
}

__kernel void rs_count_span(__global const uint4 *info, __global const uint2 *prefix, uint nchunks,
                            __global const uint *src, __global const uint *start, uint nspans, __global uint *tspan)
{
    uint first, n;
    if (!rs_terms_chunk(info, prefix, nchunks, &first, &n))
        return;
    for (uint i = first; i < first + n; i++) {
        const uint b = src[i];
        uint lo = 0u, hi = nspans; /* start[lo] <= b < start[hi] */
        while (hi - lo > 1u) {
            const uint mid = lo + (hi - lo) / 2u;
            if (start[mid] <= b)
                lo = mid;
            else
                hi = mid;
        }
        tspan[i] = lo;
    }
}

__kernel void rs_count_insert(__global const uint4 *info, __global const uint2 *prefix, uint nchunks,
                              __global const uint4 *totals, __global const uint *term, __global const uint *tspan,
                              __global const uint *spandoc, __global uint *sdata, __global uint *tc, uint cap,
                              __global uint *dset, __global uint *pset, uint mask, __global uint *dclaim,
                              __global uint *pslot, __global uint *state)
{
    uint first, n;
    if (!rs_terms_chunk(info, prefix, nchunks, &first, &n))
        return;
    const uint ntok = totals[0].x;
    for (uint i = first; i < first + n; i++) {
        const uint t = term[i], s = tspan[i], d = spandoc[s];
        const int after = i > 0u && tspan[i - 1u] == s;
        if (!after)
            sdata[4u * s] = i;
        if (i + 1u == ntok || tspan[i + 1u] != s)
            sdata[4u * s + 1u] = i;
        /* a read first: most tokens change nothing, and an atomic on a
         * common term's line would take it from the other compute units */
        if (tc[cap + t] > i)
            atomic_min(&tc[cap + t], i);
        if (tc[3u * cap + t] > d)
            atomic_min(&tc[3u * cap + t], d);
        if (tc[4u * cap + t] < d)
            atomic_max(&tc[4u * cap + t], d);

        uint claimed;
        const uint h = rs_count_probe(dset, 2u, rs_count_mix(t, d), mask, i, 0, term, tspan, spandoc, &claimed);
        if (h == RS_CNT_NONE) {
            atomic_or(&state[3], RS_CL_FLAG_OVERFLOW);
        } else {
            atomic_inc(&dset[2u * h + 1u]);
            if (claimed)
                atomic_inc(&tc[2u * cap + t]);
        }
        dclaim[i] = h != RS_CNT_NONE && claimed ? h : RS_CNT_NONE;

        uint at = RS_CNT_NONE;
        if (after) {
            at = rs_count_probe(pset, 4u, rs_count_mix(term[i - 1u], t ^ 0x5BD1E995u), mask, i, 1, term, tspan,
                                spandoc, &claimed);
            if (at == RS_CNT_NONE) {
                atomic_or(&state[3], RS_CL_FLAG_OVERFLOW);
            } else {
                atomic_inc(&pset[4u * at + 1u]);
                if (pset[4u * at + 2u] > i)
                    atomic_min(&pset[4u * at + 2u], i);
            }
        }
        pslot[i] = at;
    }
}

__kernel void rs_count_sum(__global const uint4 *info, __global const uint2 *prefix, uint nchunks,
                           __global const uint *term, __global uint *tc, __global const uint *dset,
                           __global const uint *dclaim)
{
    uint first, n;
    if (!rs_terms_chunk(info, prefix, nchunks, &first, &n))
        return;
    for (uint i = first; i < first + n; i++)
        if (dclaim[i] != RS_CNT_NONE)
            atomic_add(&tc[term[i]], dset[2u * dclaim[i] + 1u]);
}

__kernel void rs_count_collect(__global const uint4 *info, __global const uint2 *prefix, uint nchunks,
                               __global const rs_cl_token *tok, __global const uchar *fold, uint fold_base,
                               __global const uint *term, __global const uint *tspan, __global uint *sdata,
                               __global const uint *tc, uint cap, __global const uint *pset,
                               __global const uint *pslot, __global uint4 *crec_a,
                               __global uint4 *crec_b, __global uint4 *cpair, __global uchar *cfold,
                               __global uint *state)
{
    uint first, n;
    if (!rs_terms_chunk(info, prefix, nchunks, &first, &n))
        return;
    for (uint i = first; i < first + n; i++) {
        const uint t = term[i], s = tspan[i];
        if (tc[cap + t] == i) {
            const rs_cl_token k = tok[i];
            const uint r = atomic_inc(&state[0]), at = atomic_add(&state[2], k.len);
            __global const uchar *p = fold + (k.off - fold_base);
            for (uint b = 0u; b < k.len; b++)
                cfold[at + b] = p[b];
            crec_a[r] = (uint4)(i, tc[t], tc[2u * cap + t], k.len);
            crec_b[r] = (uint4)(tc[3u * cap + t], tc[4u * cap + t], at, t);
        }
        const uint ps = pslot[i];
        if (ps != RS_CNT_NONE && pset[4u * ps + 2u] == i) {
            const uint q = atomic_inc(&state[1]);
            cpair[q] = (uint4)(term[i - 1u], t, pset[4u * ps + 1u], i);
        }
        if (sdata[4u * s] == i)
            sdata[4u * s + 2u] = t;
        if (sdata[4u * s + 1u] == i)
            sdata[4u * s + 3u] = t;
    }
}

__kernel void rs_count_clear(__global const uint4 *info, __global const uint2 *prefix, uint nchunks,
                             __global const uint *term, __global uint *tc, uint cap, __global uint *dset,
                             __global uint *pset, __global const uint *dclaim, __global const uint *pslot)
{
    uint first, n;
    if (!rs_terms_chunk(info, prefix, nchunks, &first, &n))
        return;
    for (uint i = first; i < first + n; i++) {
        const uint t = term[i];
        if (tc[cap + t] == i) { /* only this token can match: the others of t see i, and then ~0 */
            tc[t] = 0u;
            tc[2u * cap + t] = 0u;
            tc[3u * cap + t] = RS_CNT_NONE;
            tc[4u * cap + t] = 0u;
            tc[cap + t] = RS_CNT_NONE;
        }
        if (dclaim[i] != RS_CNT_NONE) {
            dset[2u * dclaim[i]] = 0u;
            dset[2u * dclaim[i] + 1u] = 0u;
        }
        const uint ps = pslot[i];
        if (ps != RS_CNT_NONE && pset[4u * ps + 2u] == i) {
            pset[4u * ps] = 0u;
            pset[4u * ps + 1u] = 0u;
            pset[4u * ps + 2u] = RS_CNT_NONE;
        }
    }
}
