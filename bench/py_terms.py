#!/usr/bin/env python3
"""py_terms.py - term counting as a Python user would write it, for the
peer benchmark (bench/peers.sh).

    py_terms.py counter CORPUS_DIR    collections.Counter over re.findall(r"\\w+")
                                      of each file's text, lower-cased
    py_terms.py sklearn CORPUS_DIR    scikit-learn's CountVectorizer (defaults:
                                      lowercase, token_pattern r"(?u)\\b\\w\\w+\\b",
                                      so one-character words are not terms),
                                      one document per file, then column sums

Files: every *.md, *.txt, *.markdown, *.text under CORPUS_DIR, hidden
entries skipped, sorted by path, read as UTF-8 (invalid bytes replaced).
Prints one line: "tokens<TAB>types<TAB>the<TAB>files<TAB>seconds", where
"the" is the count of the term "the" (the agreement check against rg and
rostrum) and seconds covers reading and counting. Single-threaded.
"""
import collections
import os
import re
import sys
import time

EXTS = (".md", ".txt", ".markdown", ".text")


def corpus_files(root):
    out = []
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if not x.startswith("."))
        for f in files:
            if not f.startswith(".") and f.lower().endswith(EXTS):
                out.append(os.path.join(d, f))
    return sorted(out)


def read(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def with_counter(files):
    word = re.compile(r"\w+")
    c = collections.Counter()
    for p in files:
        c.update(word.findall(read(p).lower()))
    return sum(c.values()), len(c), c.get("the", 0)


def with_sklearn(files):
    from sklearn.feature_extraction.text import CountVectorizer

    v = CountVectorizer()
    m = v.fit_transform(read(p) for p in files)
    sums = m.sum(axis=0).A1
    the = v.vocabulary_.get("the")
    return int(sums.sum()), len(v.vocabulary_), int(sums[the]) if the is not None else 0


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("counter", "sklearn"):
        sys.exit("usage: py_terms.py counter|sklearn CORPUS_DIR")
    t0 = time.monotonic()
    files = corpus_files(sys.argv[2])
    tokens, types, the = (with_counter if sys.argv[1] == "counter" else with_sklearn)(files)
    print(f"{tokens}\t{types}\t{the}\t{len(files)}\t{time.monotonic() - t0:.3f}")


if __name__ == "__main__":
    main()
