#!/usr/bin/env python3
"""Independent check of rostrum's per-speaker counts on a directory of
Markdown transcripts.

It re-implements the label rule of docs/labels.md in Python (regular
expressions, its own heading list read from that page), cuts each document
into turns, removes timestamps, link targets and HTML character references
as the page says, and counts each turn's words with ICU's word break
iterator (bench/icu_words.c, a separate UAX #29 implementation). It then
compares turns (must be equal) and tokens (reported; ICU's rules are
tailored, so small differences are expected and listed) with a rostrum JSON
report of the same directory.

usage: check_speakers.py DIR REPORT.json ICU_WORDS_BINARY [--max-token-diff FRACTION]
"""
import html
import json
import os
import re
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
doc = open(os.path.join(here, "..", "docs", "labels.md"), encoding="utf-8").read()
headings = {h.strip().lower() for h in re.search(r"^Headings: (.*)$", doc, re.M).group(1).split(",")}


def is_upper_start(c):
    return c.isdigit() and c.isascii() or (c.isalpha() and c != c.lower())


def word_ok(w):
    if not w or not is_upper_start(w[0]):
        return False
    return all(ch.isalnum() or ch in ".'’-_" for ch in w)


def valid_name(name):
    words = name.split(" ")
    if not 1 <= len(words) <= 5 or len(name.encode()) > 40:
        return False
    for i, w in enumerate(words):
        if w.endswith(",") and i + 1 < len(words):
            w = w[:-1]
        if not word_ok(w):
            return False
    return name.lower() not in headings


label_re = re.compile(r"^\*\*([^*\n]{1,60}?)(:\*\*|\*\*:(?=[ \t\r]|$))", re.M)
ts = r"\d{1,2}(?::\d\d){1,2}(?:[.,]\d{1,3})?"
ts_re = re.compile(r"\\\[" + ts + r"\\\]|\[" + ts + r"\]|\(" + ts + r"\)|(?<![\d:.])\d{1,2}:\d\d:\d\d(?:[.,]\d{1,3})?(?![\d:])")
link_re = re.compile(r"\]\([^\s)]{0,2046}\)")
entity_re = re.compile(r"&(#\d+|#[xX][0-9a-fA-F]+|quot|amp|lt|gt|apos|nbsp);")


def clean(text):
    text = link_re.sub(lambda m: "]", text)
    text = entity_re.sub(lambda m: html.unescape(m.group(0)), text)
    return ts_re.sub(lambda m: " " * len(m.group(0)), text)


def turns_of(path):
    raw = open(path, "rb").read()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    text = raw.decode("utf-8", "surrogateescape")
    lines = text.split("\n")
    if lines and lines[0].rstrip("\r") == "---":
        for i in range(1, min(len(lines), 1001)):
            if lines[i].rstrip("\r") in ("---", "..."):
                text = "\n".join(lines[i + 1:])
                break
    out = []
    labels = [m for m in label_re.finditer(text) if valid_name(m.group(1))]
    for i, m in enumerate(labels):
        end = labels[i + 1].start() if i + 1 < len(labels) else len(text)
        out.append((m.group(1), clean(text[m.end():end])))
    return out


def main():
    root, report, icu = sys.argv[1:4]
    max_diff = float(sys.argv[5]) if len(sys.argv) > 5 else 0.01
    records = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for f in sorted(filenames):
            if f.endswith(".md") and not f.startswith("."):
                for name, text in turns_of(os.path.join(dirpath, f)):
                    records.append(name.encode() + b"\0" + text.encode("utf-8", "surrogateescape").replace(b"\0", b" ") + b"\0")
    res = subprocess.run([icu, "--records"], input=b"".join(records), capture_output=True, check=True)
    icu_counts = {}
    for line in res.stdout.decode().splitlines():
        name, turns, tokens = line.split("\t")
        icu_counts[name] = (int(turns), int(tokens))
    rep = {s["name"]: s for s in json.load(open(report, encoding="utf-8"))["speakers"]}
    bad_turns = [(n, icu_counts.get(n, (0, 0))[0], rep.get(n, {}).get("turns", 0))
                 for n in sorted(set(icu_counts) | set(rep))
                 if icu_counts.get(n, (0, 0))[0] != rep.get(n, {}).get("turns", 0)]
    tot_icu = sum(t for _, t in icu_counts.values())
    tot_rs = sum(s["tokens"] for s in rep.values())
    print(f"speakers: {len(rep)} in the report, {len(icu_counts)} found independently")
    print(f"turns: {sum(s['turns'] for s in rep.values())} in the report, "
          f"{sum(t for t, _ in icu_counts.values())} found independently, {len(bad_turns)} speakers differ")
    for n, a, b in bad_turns[:20]:
        print(f"  turns differ: {n!r}: independent {a}, rostrum {b}")
    print(f"tokens: rostrum {tot_rs}, ICU {tot_icu}, difference {tot_rs - tot_icu} "
          f"({(tot_rs - tot_icu) / max(tot_icu, 1):+.4%})")
    worst = sorted(((abs(rep[n]["tokens"] - t) / max(t, 1), n, rep[n]["tokens"], t)
                    for n, (_, t) in icu_counts.items() if n in rep), reverse=True)[:5]
    for frac, n, a, b in worst:
        print(f"  largest token difference: {n!r}: rostrum {a}, ICU {b} ({frac:.3%})")
    ok = not bad_turns and all(f <= max_diff for f, *_ in worst)
    print("check_speakers: " + ("1 passed, 0 failed" if ok else "0 passed, 1 failed"))
    sys.exit(0 if ok else 1)


main()
