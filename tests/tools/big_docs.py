#!/usr/bin/env python3
"""Writes documents larger than a shard, in every format, from the project's
own fixtures (tests/data/formats) repeated with a seeded shuffle of their
lines, for the `pieces` CLI case (tests/cli/cli_test.sh).

usage: big_docs.py SRC_DIR OUT_DIR MEGABYTES [NAME,...]
(NAME: interview.md captions.txt talk.srt talk.vtt talk.jsonl; default all)
"""
import os
import random
import sys

src, out, mb = sys.argv[1], sys.argv[2], float(sys.argv[3])
size = int(mb * 1024 * 1024)
fx = os.path.join(src, "tests", "data", "formats")
only = set(sys.argv[4].split(",")) if len(sys.argv) > 4 else None
rng = random.Random(20261202)
os.makedirs(out, exist_ok=True)


def read(name):
    with open(os.path.join(fx, name), encoding="utf-8") as f:
        return f.read()


def write(name, parts):
    if only is not None and name not in only:
        return
    with open(os.path.join(out, name), "w", encoding="utf-8", newline="") as f:
        f.write("".join(parts))


# Markdown: the front matter once, then the turns again and again, some
# lines joined into longer turns so that turns run across many lines.
md = read("interview.md")
head, body = md.split("---\n", 2)[1], md.split("---\n", 2)[2]
turns = [t for t in body.split("\n") if t.strip()]
parts, n = ["---\n", head, "---\n\n"], 0
while n < size:
    t = rng.choice(turns)
    extra = "\n".join(rng.choice(turns).split(":** ", 1)[-1] for _ in range(rng.randint(0, 3)))
    s = t + ("\n" + extra if extra else "") + rng.choice(["\n\n", "\n", "\r\n"])
    parts.append(s)
    n += len(s.encode())
write("interview.md", parts)

# Auto-captions: ">>" turns, some in the middle of a line.
cap = [l for l in read("captions.txt").split("\n") if l]
parts, n = [], 0
while n < size:
    s = rng.choice(cap) + (" " + rng.choice(cap) if rng.random() < 0.2 else "") + "\n"
    parts.append(s)
    n += len(s.encode())
write("captions.txt", parts)

# SubRip and WebVTT: the cues again and again, renumbered.
for name in ("talk.srt", "talk.vtt"):
    text = read(name)
    header = ""
    if name.endswith(".vtt"):
        header, text = text.split("\n\n", 1)
        header += "\n\n"
    cues = [c for c in text.split("\n\n") if c.strip()]
    parts, n, k = [header], 0, 0
    while n < size:
        c = rng.choice(cues)
        lines = c.split("\n")
        if lines[0].isdigit():
            k += 1
            lines[0] = str(k)
        s = "\n".join(lines) + "\n\n"
        parts.append(s)
        n += len(s.encode())
    write(name, parts)

# JSON Lines: the lines (bad ones too) again and again.
lines = read("talk.jsonl").split("\n")
parts, n = [], 0
while n < size:
    s = rng.choice(lines) + "\n"
    parts.append(s)
    n += len(s.encode())
write("talk.jsonl", parts)
