#!/usr/bin/env python3
"""gen_lexicon.py - lexicons for the peer benchmark (bench/peers.sh), drawn
deterministically from a corpus's own vocabulary.

    gen_lexicon.py CORPUS_DIR N SEED OUT_PREFIX [GLOB_SHARE]

reads every *.md, *.txt, *.markdown and *.text file under CORPUS_DIR (sorted
by path), and writes

    OUT_PREFIX.txt   one pattern a line (for rg/grep -F -f and bench/hs_match)
    OUT_PREFIX.tsv   the same patterns for rostrum: category<TAB>pattern, one
                     category per pattern ("p0001", ...), so that rostrum's
                     per-category hits count every pattern on its own, as
                     Hyperscan reports them

How: a "word" is a whitespace-separated piece of text stripped of leading
and trailing ASCII punctuation that is then ASCII letters only, lower-cased
(so "don't" and "node.js" never become patterns: they are where the tools'
definitions of a word part). Words seen at least 5 times, 3 letters or more,
ranked by count (ties by the word), minus the 100 most frequent (function
words), are the candidates; phrases are two such words next to each other
on one line, separated by one space with no punctuation between them
(so the phrase occurs literally), seen at least 5 times. About 80% of
the patterns are words and 20% phrases, each picked at a log-uniform rank
(as many among the first 2^k as among the next 2^k) with Python's
random.Random(SEED), duplicates skipped. No globs: fixed-string peers
(rg -F, grep -F) cannot express them. Same corpus and seed, same files.

With GLOB_SHARE (0 to 1), also OUT_PREFIX-globs.tsv: the same N patterns
for rostrum, where each single word of five or more letters is, with
probability GLOB_SHARE (drawn from a second random.Random(SEED)), a glob
instead: its first 4 to 6 letters (fewer than the word's) and `*`
(a prefix already written is skipped, so the file may hold fewer
patterns). For the issue-3 target "match a 5,000-entry lexicon (words,
phrases, globs)" (bench/targets.sh).
"""
import collections
import os
import random
import re
import string
import sys

EXTS = (".md", ".txt", ".markdown", ".text")
SKIP_TOP = 100
MIN_COUNT = 5
ALPHA = re.compile(r"^[a-z]+$")
STRIP = string.punctuation


def corpus_files(root):
    out = []
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if not x.startswith("."))
        for f in files:
            if not f.startswith(".") and f.lower().endswith(EXTS):
                out.append(os.path.join(d, f))
    return sorted(out)


def words_of_line(line):
    """(word, starts_clean, ends_clean) per piece; word None when not one."""
    out = []
    for piece in line.split():
        w = piece.strip(STRIP).lower()
        ok = ALPHA.match(w) and len(w) >= 3
        out.append((w if ok else None, piece[:1] not in STRIP, piece[-1:] not in STRIP))
    return out


def pick_rank(rng, n):
    bits = max(1, (n - 1).bit_length())
    k = rng.randrange(bits)
    lo, hi = (1 << k) - 1, min(n, (1 << (k + 1)) - 1)
    return lo + rng.randrange(hi - lo) if hi > lo else n - 1


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit("usage: gen_lexicon.py CORPUS_DIR N SEED OUT_PREFIX [GLOB_SHARE]")
    root, n, seed, prefix = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    glob_share = float(sys.argv[5]) if len(sys.argv) == 6 else None
    wc, bc = collections.Counter(), collections.Counter()
    for path in corpus_files(root):
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        for line in text.split("\n"):
            ws = words_of_line(line)
            wc.update(w for w, _, _ in ws if w)
            # a phrase is written as it is found: "a b" with nothing between
            bc.update(f"{a[0]} {b[0]}" for a, b in zip(ws, ws[1:]) if a[0] and b[0] and a[2] and b[1])
    ranked = sorted(wc.items(), key=lambda kv: (-kv[1], kv[0]))
    top = {w for w, _ in ranked[:SKIP_TOP]}
    words = [w for w, c in ranked[SKIP_TOP:] if c >= MIN_COUNT]
    phrases = [p for p, c in sorted(bc.items(), key=lambda kv: (-kv[1], kv[0]))
               if c >= MIN_COUNT and not (set(p.split()) & top)]
    if not words:
        sys.exit("gen_lexicon.py: no candidate words in " + root)
    rng = random.Random(seed)
    seen, pats = set(), []
    tries = 0
    while len(pats) < n and tries < 50 * n:
        tries += 1
        pool = phrases if (phrases and rng.randrange(5) == 0) else words
        p = pool[pick_rank(rng, len(pool))]
        if p not in seen:
            seen.add(p)
            pats.append(p)
    with open(prefix + ".txt", "w") as f:
        f.write("".join(p + "\n" for p in pats))
    with open(prefix + ".tsv", "w") as f:
        f.write("category\tpattern\n")
        f.write("".join(f"p{i + 1:04d}\t{p}\n" for i, p in enumerate(pats)))
    if glob_share is not None:
        grng, gseen, gpats = random.Random(seed), set(), []
        for p in pats:
            if " " not in p and len(p) >= 5 and grng.random() < glob_share:
                g = p[:min(len(p) - 1, 4 + grng.randrange(3))] + "*"
                if g in gseen:
                    continue
                gseen.add(g)
                p = g
            gpats.append(p)
        with open(prefix + "-globs.tsv", "w") as f:
            f.write("category\tpattern\n")
            f.write("".join(f"p{i + 1:04d}\t{p}\n" for i, p in enumerate(gpats)))
        print(f"{prefix}-globs.tsv: {len(gpats)} patterns ({len(gseen)} globs)", file=sys.stderr)
    print(f"{prefix}: {len(pats)} patterns ({sum(' ' in p for p in pats)} phrases) "
          f"from {len(words)} candidate words and {len(phrases)} phrases", file=sys.stderr)


if __name__ == "__main__":
    main()
