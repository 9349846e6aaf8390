/*
 * tokenize_terms_match.cl - lexicon matching on the device, after the
 * counting of a pass (tokenize_terms_count.cl, whose span of each token
 * (tspan) and first and last token of each span (sdata) it reads), so that
 * a scan with lexicons reads back the patterns that match instead of every
 * token. Embedded after tokenize_terms_count.cl.
 *
 * rs_match_find runs once per lexicon, one work-item per sub-chunk walking
 * its tokens (rs_terms_chunk). At each token it does what host/matcher.c's
 * rs_match_at does before the overlap rule: the prefilter bitmap, the
 * exact first word's table and chain, then each glob prefix length's table
 * and chain, and every pattern whose words all match (within the token's
 * span) is written to cand as (token, lexicon << 31 | chain << 24 |
 * pattern), in any order (an atomic counter, state[4]); the host sorts
 * them and applies the overlap rule (rs_matcher_take). A counter past cap
 * means the host grows cand and runs the kernel again.
 *
 * The lexicon is one buffer of uints (host/opencl.c, rs_cl_lex_pack):
 *   [0] filter shift   [1] glob classes (bit K)   [2] glob lengths
 *   [3] patterns       [4] exact table mask       [5] glob table mask
 *   [6] filter at      [7] exact table at         [8] glob table at
 *   [9] patterns at    [10] words at              [11] arena at
 *   [12] lexicon (0, 1), [16 ..] the glob prefix lengths, ascending;
 *   filter: the bitmap (bit b in uint b / 32); tables: 4 uints a slot
 *   {hash lo, hash hi, head pattern + 1 (0: empty), 0}, linear probing
 *   from the hash's low bits; patterns: 6 uints {first word, words, flags
 *   (1: last of its chain, 2: the second word's hash follows), 0, hash
 *   lo, hash hi}; words: 2 uints {byte offset in the arena, length |
 *   glob << 31}; the arena: folded bytes.
 */

#define RS_MX_NONE 0xFFFFFFFFu

int rs_mx_bit(__global const uint *lx, ulong bit)
{
    return (int)((lx[lx[6] + (uint)(bit >> 5)] >> (uint)(bit & 31u)) & 1u);
}

/* The filter bit of glob class k for the first k bytes w (matcher.c's rs_fbit_glob). */
ulong rs_mx_gbit(__global const uint *lx, uint w, uint k)
{
    return ((((ulong)k << 32) | (ulong)w) * 0x9E3779B97F4A7C15UL) >> lx[0];
}

/* The first min(n, 4) bytes at p, little-endian. */
uint rs_mx_head(__global const uchar *p, uint n)
{
    uint w = 0u;
    for (uint q = 0u; q < n && q < 4u; q++)
        w |= (uint)p[q] << (8u * q);
    return w;
}

__global const uchar *rs_mx_arena(__global const uint *lx)
{
    return (__global const uchar *)(lx + lx[11]);
}

int rs_mx_same(__global const uchar *a, __global const uchar *b, uint n)
{
    for (uint q = 0u; q < n; q++)
        if (a[q] != b[q])
            return 0;
    return 1;
}

/* The head pattern of the key (bytes, len) of hash h in the table at
 * slots (mask + 1 slots), or RS_MX_NONE. */
uint rs_mx_find(__global const uint *lx, uint slots, uint mask, ulong h, __global const uchar *bytes, uint len)
{
    uint s = (uint)h & mask;
    for (uint probes = 0u; probes <= mask; probes++, s = (s + 1u) & mask) {
        __global const uint *q = lx + slots + 4u * s;
        if (q[2] == 0u)
            return RS_MX_NONE;
        if (q[0] == (uint)h && q[1] == (uint)(h >> 32)) {
            const uint head = q[2] - 1u, word = lx[lx[9] + 6u * head];
            const uint off = lx[lx[10] + 2u * word], wl = lx[lx[10] + 2u * word + 1u] & 0x7FFFFFFFu;
            if (wl == len && rs_mx_same(rs_mx_arena(lx) + off, bytes, len))
                return head;
        }
    }
    return RS_MX_NONE;
}

/* Whether word wi of the lexicon matches token k. */
int rs_mx_word(__global const uint *lx, uint wi, rs_cl_token k, __global const uchar *fold, uint fold_base)
{
    const uint off = lx[lx[10] + 2u * wi], lg = lx[lx[10] + 2u * wi + 1u];
    const uint len = lg & 0x7FFFFFFFu;
    if ((lg >> 31) ? k.len < len : k.len != len)
        return 0;
    return rs_mx_same(rs_mx_arena(lx) + off, fold + (k.off - fold_base), len);
}

/* The patterns of the chain from head that match at token i, whose span
 * ends at token last: each written to cand with the chain's class cls. */
void rs_mx_chain(__global const uint *lx, uint head, uint i, uint last, uint cls, __global const rs_cl_token *tok,
                 __global const uchar *fold, uint fold_base, __global uint2 *cand, uint cap,
                 __global uint *state)
{
    const ulong h1 = i < last ? tok[i + 1u].hash : 0UL;
    for (uint p = head;; p++) {
        __global const uint *P = lx + lx[9] + 6u * p;
        const uint nw = P[1], fl = P[2];
        if (i + nw <= last + 1u && (!(fl & 2u) || (P[4] == (uint)h1 && P[5] == (uint)(h1 >> 32)))) {
            uint k = 1u;
            while (k < nw && rs_mx_word(lx, P[0] + k, tok[i + k], fold, fold_base))
                k++;
            if (k == nw) {
                const uint r = atomic_inc(&state[4]);
                if (r < cap)
                    cand[r] = (uint2)(i, (lx[12] << 31) | (cls << 24) | p);
            }
        }
        if (fl & 1u)
            break;
    }
}

/* matcher.c's rs_filter_glob: whether a token of len bytes at b may start
 * a glob. */
int rs_mx_filter_glob(__global const uint *lx, __global const uchar *b, uint len)
{
    const uint w = rs_mx_head(b, len), ks = lx[1];
    for (uint kk = 1u; kk <= 4u && kk <= len; kk++)
        if (((ks >> kk) & 1u) && rs_mx_bit(lx, rs_mx_gbit(lx, kk == 4u ? w : w & ((1u << (8u * kk)) - 1u), kk)))
            return 1;
    return 0;
}

__kernel void rs_match_find(__global const uint4 *info, __global const uint2 *prefix, uint nchunks,
                            __global const rs_cl_token *tok, __global const uchar *fold, uint fold_base,
                            __global const uint *tspan, __global const uint *sdata, __global const uint *lx,
                            __global uint2 *cand, uint cap, __global uint *state)
{
    uint first, n;
    if (!rs_terms_chunk(info, prefix, nchunks, &first, &n))
        return;
    const uint nglob = lx[2];
    for (uint i = first; i < first + n; i++) {
        const rs_cl_token k = tok[i];
        __global const uchar *b = fold + (k.off - fold_base);
        const uint last = sdata[4u * tspan[i] + 1u];
        if (rs_mx_bit(lx, k.hash >> lx[0])) {
            const uint head = rs_mx_find(lx, lx[7], lx[4], k.hash, b, k.len);
            if (head != RS_MX_NONE)
                rs_mx_chain(lx, head, i, last, 0u, tok, fold, fold_base, cand, cap, state);
        }
        if (nglob && k.len >= lx[16] && rs_mx_filter_glob(lx, b, k.len)) {
            const uint w4 = rs_mx_head(b, k.len);
            for (uint g = 0u; g < nglob && lx[16u + g] <= k.len; g++) {
                const uint gl = lx[16u + g], kk = gl < 4u ? gl : 4u;
                if (!rs_mx_bit(lx, rs_mx_gbit(lx, kk == 4u ? w4 : w4 & ((1u << (8u * kk)) - 1u), 8u + gl)))
                    continue;
                const ulong h = gl == k.len ? k.hash : rs_cl_hash(b, gl);
                const uint head = rs_mx_find(lx, lx[8], lx[5], h, b, gl);
                if (head != RS_MX_NONE)
                    rs_mx_chain(lx, head, i, last, 1u + g, tok, fold, fold_base, cand, cap, state);
            }
        }
    }
}
