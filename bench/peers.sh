#!/usr/bin/env bash
# peers.sh - rostrum against the tools a user would pick instead, on one
# machine, in one run, on the same input; prints the "Against the peers
# (issue 6)" section of bench/RESULTS.md (Markdown) and keeps every raw
# result under the work directory.
#
#   bench/peers.sh [OUT.md]
#
# What it does, in order:
#   1. installs the peers from Debian (hyperfine ripgrep grep coreutils
#      libhyperscan-dev python3-sklearn libicu-dev) and records each version;
#      builds rostrum (scripts/setup.sh, Release) with ICU's word counter
#      (bench/icu_words.c) and the Hyperscan harness (bench/hs_match.c);
#   2. takes the corpus: $PEERS_CORPUS if set, else the podcast corpus from
#      /work/shared/corpora or ../shared/corpora (unpacked into the work
#      directory, never into the repository), else a generated one
#      (rostrum bench --generate $PEERS_GEN_SIZE --save);
#   3. generates the 500- and 5,000-entry lexicons from the corpus's own
#      vocabulary (bench/gen_lexicon.py, deterministic);
#   4. times with hyperfine, page cache warm (one untimed warm-up run):
#      word and term counting (wc -w, ICU, Python Counter and scikit-learn,
#      rostrum), lexicon matching at 500 and 5,000 entries (rg -c, rg -o | wc
#      -l, GNU grep -c, Hyperscan, rostrum), and the whole rostrum report;
#      then the whole report with the page cache dropped before each run,
#      when /proc/sys/vm/drop_caches can be written;
#      and runs `rostrum bench` once with its defaults (its own warm-up,
#      repetitions and checks; wall time and load recorded);
#   5. checks that the counts the tools share agree, and explains where the
#      definitions part;
#   6. writes the Markdown section (default: WORK/peers.md) and prints it.
#
# Every command writes its result to a file inside the timed command, so
# the counts compared are those of the timed runs. Figures are medians over
# runs with [min - max]; each tool's ratio is its median time over rostrum's
# (default workers) median time in the same run of this script.
#
# Environment: PEERS_WORK (scratch directory; default a new /tmp directory),
# PEERS_RUNS (timed runs, default 5), PEERS_SLOW_RUNS (runs for Python,
# default 3), PEERS_GREP_RUNS (runs for GNU grep with a lexicon, default 2:
# with 5,000 entries one run takes minutes), PEERS_GREP_TIMEOUT
# (seconds one GNU grep run may take, default 1800; slower runs are reported
# as not finished), PEERS_CORPUS, PEERS_GEN_SIZE (default 128M),
# PEERS_BUILD (rostrum's build directory, configured and built by
# scripts/setup.sh; default WORK/build),
# PEERS_GROUPS (comma-separated groups to time again in an earlier run's
# PEERS_WORK, the others kept: words, python, match500, grep500, match5000,
# grep5000, report, report-cold, bench; default all; rostrum is then not
# rebuilt when its binary exists, so that every group times the same one).
# Needs root or sudo for apt-get and for dropping the page cache.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=${PEERS_WORK:-$(mktemp -d /tmp/rostrum-peers.XXXXXX)}
mkdir -p "$work"
out_md=${1:-$work/peers.md}
runs=${PEERS_RUNS:-5}
slow_runs=${PEERS_SLOW_RUNS:-3}
grep_runs=${PEERS_GREP_RUNS:-2}
grep_timeout=${PEERS_GREP_TIMEOUT:-1800}
log() { echo "peers: $*" >&2; }
. "$here/bench/need_packages.sh" # need_packages

# --- 1. peers and builds ------------------------------------------------------
peer_pkgs=(hyperfine ripgrep grep coreutils libhyperscan-dev python3-sklearn libicu-dev python3 zstd tar)
need_packages "${peer_pkgs[@]}"
build=${PEERS_BUILD:-$work/build}
case $build in /*) ;; *) build=$here/$build ;; esac
if [ -n "${PEERS_GROUPS:-}" ] && [ -x "$build/rostrum" ] && [ -s "$work/versions.tsv" ]; then
  log "PEERS_GROUPS: keeping the rostrum of the earlier run ($build/rostrum) and its versions"
  keep_versions=1
else
  log "building rostrum in $build"
  (cd "$here" && scripts/setup.sh "$build" >&2)
  keep_versions=0
fi
rostrum=$build/rostrum
icu=$build/tests/icu_words
[ -x "$icu" ] || { log "ICU word counter not built ($icu)"; exit 1; }
cc -std=c11 -O2 -Wall -Wextra -o "$work/hs_match" "$here/bench/hs_match.c" $(pkg-config --cflags --libs libhs)
hs=$work/hs_match
py=/usr/bin/python3   # Debian's, where python3-sklearn lives

ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
[ "$keep_versions" = 1 ] || {
  if git -C "$here" rev-parse --git-dir > /dev/null 2>&1; then
    rev="git $(git -C "$here" rev-parse --short HEAD)$(git -C "$here" diff --quiet HEAD 2>/dev/null || echo ', uncommitted changes')"
  else
    rev="not a git checkout"
  fi
  echo "rostrum	$("$rostrum" version | awk '{print $2}') ($rev)"
  echo "ripgrep	$(rg --version 2>/dev/null | head -1 | awk '{print $2}') (Debian $(ver ripgrep))"
  echo "GNU grep	$(grep --version | head -1 | awk '{print $NF}') (Debian $(ver grep))"
  echo "GNU wc	$(wc --version | head -1 | awk '{print $NF}') (Debian coreutils $(ver coreutils))"
  echo "ICU	$(pkg-config --modversion icu-uc) (Debian libicu-dev $(ver libicu-dev))"
  echo "Hyperscan	$(pkg-config --modversion libhs) (Debian libhyperscan-dev $(ver libhyperscan-dev))"
  echo "Python	$("$py" -c 'import sys; print(sys.version.split()[0])')"
  echo "scikit-learn	$("$py" -c 'import sklearn; print(sklearn.__version__)') (Debian python3-sklearn $(ver python3-sklearn))"
  echo "hyperfine	$(hyperfine --version | awk '{print $2}') (Debian $(ver hyperfine))"
  echo "C compiler	$(cc --version | head -1)"
} > "$work/versions.tsv"
{
  echo "cpu	$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
  echo "cpus	$(nproc)"
  echo "memory	$(free -g | awk '/^Mem:/{print $2}') GiB"
  echo "kernel	$(uname -sr)"
  echo "locale	${LC_ALL:-${LC_CTYPE:-${LANG:-POSIX}}}"
} > "$work/machine.tsv"

# --- 2. corpus ---------------------------------------------------------------
corpus=${PEERS_CORPUS:-}
source_note=""
if [ -z "$corpus" ]; then
  tarball=""
  for t in /work/shared/corpora/changelog-transcripts.tar.zst "$here/../shared/corpora/changelog-transcripts.tar.zst"; do
    [ -f "$t" ] && { tarball=$t; break; }
  done
  corpus=$work/corpus
  if [ -n "$tarball" ]; then
    if [ ! -d "$corpus" ]; then
      mkdir -p "$corpus" && tar --zstd -xf "$tarball" -C "$corpus"
    fi
    source_note="the Changelog podcast transcripts ($(basename "$tarball"), CC BY-SA), unpacked"
  else
    [ -d "$corpus" ] || "$rostrum" bench --generate "${PEERS_GEN_SIZE:-128M}" --save "$corpus" >&2
    source_note="generated by rostrum bench --generate ${PEERS_GEN_SIZE:-128M} --save (seed 1)"
  fi
else
  source_note="$corpus"
fi
# The same files for every tool: *.md and *.txt, hidden entries skipped.
(cd "$corpus" && find . -mindepth 1 -name '.*' -prune -o -type f \( -name '*.md' -o -name '*.txt' \) -print0 | sort -z) \
  | sed -z "s|^\./|$corpus/|" > "$work/files0"
nfiles=$(tr -cd '\0' < "$work/files0" | wc -c)
nbytes=$(xargs -0 -a "$work/files0" cat | wc -c)
echo "corpus	$source_note; $nfiles files, $nbytes bytes" >> "$work/machine.tsv"
globs=(-g '*.md' -g '*.txt')                       # for commands run here
incl=(--include='*.md' --include='*.txt')
G="-g '*.md' -g '*.txt'"                           # the same inside hyperfine's command strings
I="--include='*.md' --include='*.txt'"

# --- 3. lexicons ---------------------------------------------------------------
"$py" "$here/bench/gen_lexicon.py" "$corpus" 500 1 "$work/lex500"
"$py" "$here/bench/gen_lexicon.py" "$corpus" 5000 2 "$work/lex5000"

# --- 4. timings ----------------------------------------------------------------
o=$work/out
mkdir -p "$o"
wanted() { # NAME: whether to time group NAME in this run
  if [ -n "${PEERS_GROUPS:-}" ] && [[ ",$PEERS_GROUPS," != *",$1,"* ]]; then
    log "keeping $1 from an earlier run in $work"
    return 1
  fi
}
keep_load() { # NAME BEFORE: the 1-minute load average as group NAME began and ended
  { grep -v "^$1	" "$work/loads.tsv" 2>/dev/null || true; echo "$1	$2	$(cut -d' ' -f1 /proc/loadavg)"; } \
    > "$work/loads.tsv.new" && mv "$work/loads.tsv.new" "$work/loads.tsv"
}
hf() { # NAME RUNS WARMUP [hyperfine args...]
  local name=$1 r=$2 w=$3
  shift 3
  wanted "$name" || return 0
  log "timing $name ($r runs)"
  local before
  before=$(cut -d' ' -f1 /proc/loadavg)
  hyperfine --style basic --warmup "$w" --runs "$r" --export-json "$work/$name.json" "$@" > "$work/$name.log"
  keep_load "$name" "$before"
}
q() { printf '%q' "$1"; }   # quote a path inside a command string
C=$(q "$corpus")
R=$(q "$rostrum")

# Words and terms: what each tool counts is in the report section below.
hf words "$runs" 1 \
  -n "wc -w" "wc -w --files0-from=$(q "$work/files0") > $o/wc.txt" \
  -n "ICU word break (icu_words)" "xargs -0 -s 1000000 -a $(q "$work/files0") $(q "$icu") > $o/icu.txt" \
  -n "rostrum scan --format plain -j 1" "$R scan $C --format plain -j 1 --quiet --json $o/plain-j1.json" \
  -n "rostrum scan --format plain" "$R scan $C --format plain --quiet --json $o/plain.json"
hf python "$slow_runs" 1 \
  -n "Python collections.Counter(re.findall(r'\\w+'))" "$py $(q "$here/bench/py_terms.py") counter $C > $o/counter.txt" \
  -n "scikit-learn CountVectorizer" "$py $(q "$here/bench/py_terms.py") sklearn $C > $o/sklearn.txt" \
  -n "rostrum scan --format plain" "$R scan $C --format plain --quiet --json $o/plain-py.json"

for n in 500 5000; do
  L=$(q "$work/lex$n.txt")
  T=$(q "$work/lex$n.tsv")
  # rg -o with 5,000 -w -i patterns takes minutes a run (4 to 5 on the
  # 2-core machine of bench/RESULTS.md): it goes with GNU grep below
  rgo=(-n "rg -o -w -i -F -f | wc -l" "rg -o -w -i -F -f $L $G $C | wc -l > $o/rg-o-$n.txt")
  fast_rgo=("${rgo[@]}") slow_rgo=()
  [ "$n" = 5000 ] && { slow_rgo=("${rgo[@]}"); fast_rgo=(); }
  hf "match$n" "$runs" 1 \
    -n "rg -c -w -i -F -f" "rg -c -w -i -F -f $L $G $C > $o/rg-c-$n.txt" \
    -n "rg -c -w -i -F -f -j 1" "rg -j 1 -c -w -i -F -f $L $G $C > $o/rg-c1-$n.txt" \
    "${fast_rgo[@]}" \
    -n "Hyperscan (hs_match)" "$(q "$hs") --per-pattern $o/hs-per-$n.tsv $L $C > $o/hs-$n.txt" \
    -n "rostrum scan --format plain --topics -j 1" "$R scan $C --format plain --topics $T -j 1 --quiet --json $o/lex$n-j1.json" \
    -n "rostrum scan --format plain --topics" "$R scan $C --format plain --topics $T --quiet --json $o/lex$n.json"
  # GNU grep is single-threaded and slow with many -w -i patterns: fewer
  # runs, no warm-up (the runs above warmed the cache), and a time limit.
  hf "grep$n" "$grep_runs" 0 -i \
    -n "GNU grep -c -w -i -F -f" \
    "timeout $grep_timeout grep -r -c -w -i -F -f $L $I $C > $o/grep-c-$n.txt; test \$? -le 1" \
    "${slow_rgo[@]}" \
    -n "rostrum scan --format plain --topics" "$R scan $C --format plain --topics $T --quiet --json $o/lex$n-g.json"
done

hf report "$runs" 1 \
  -n "rostrum scan (whole report) -j 1" "$R scan $C --topics $(q "$work/lex500.tsv") -j 1 --quiet --json $o/report-j1.json" \
  -n "rostrum scan (whole report)" "$R scan $C --topics $(q "$work/lex500.tsv") --quiet --json $o/report.json"
cold=0
if [ -w /proc/sys/vm/drop_caches ] && (sync && echo 3 > /proc/sys/vm/drop_caches) 2>/dev/null; then
  cold=1
  hf report-cold "$runs" 0 --prepare 'sync; echo 3 > /proc/sys/vm/drop_caches' \
    -n "rostrum scan (whole report), cold cache" "$R scan $C --topics $(q "$work/lex500.tsv") --quiet --json $o/report-cold.json"
fi

# rostrum bench as a user would run it (defaults: a generated corpus, every
# backend and OpenCL device, each row checked against scalar)
if wanted bench; then
  log "running rostrum bench (defaults)"
  before=$(cut -d' ' -f1 /proc/loadavg)
  t0=$(date +%s.%N)
  "$rostrum" bench --json "$o/bench.json" > "$o/bench.txt" 2>&1 || log "rostrum bench failed (exit $?): $o/bench.txt"
  echo "$(date +%s.%N) $t0" | awk '{printf "%.1f\n", $1 - $2}' > "$o/bench-wall.txt"
  keep_load bench "$before"
fi

# --- 5. agreement inputs that are not timed ------------------------------------
rg -o -w -i "${globs[@]}" the "$corpus" | wc -l > "$o/rg-the.txt"
grep -r -o -w -i "${incl[@]}" the "$corpus" | wc -l > "$o/grep-the.txt"
# "the" where rg sees the word and rostrum a longer UAX #29 word: a letter,
# then one of . ' ’ : (MidLetter, MidNumLet), then "the", or the reverse
rg -o -i -N --no-filename "${globs[@]}" \
  "[\\w.'’:]*[a-z][.'’:]the\\b[\\w.'’:]*|[\\w.'’:]*\\bthe[.'’:][a-z][\\w.'’:]*" "$corpus" \
  | sort | uniq -c | sort -rn > "$o/the-contexts-all.txt" || true
head -20 "$o/the-contexts-all.txt" > "$o/the-contexts.txt"
# ICU on the text with timestamps blanked as rostrum blanks them (docs/labels.md)
"$py" - "$work/files0" <<'EOF' | "$icu" --records > "$o/icu-blanked.txt"
import re, sys
ts = r"\d{1,2}(?::\d\d){1,2}(?:[.,]\d{1,3})?"
ts_re = re.compile(r"\\\[" + ts + r"\\\]|\[" + ts + r"\]|\(" + ts + r"\)"
                   r"|(?<![\d:.])\d{1,2}:\d\d:\d\d(?:[.,]\d{1,3})?(?![\d:])")
out = sys.stdout.buffer
for p in open(sys.argv[1], "rb").read().split(b"\0"):
    if p:
        t = open(p, "rb").read().decode("utf-8", "surrogateescape")
        t = ts_re.sub(lambda m: " " * len(m.group(0)), t)
        out.write(b"all\0" + t.encode("utf-8", "surrogateescape") + b"\0")
EOF

# --- 6. the section ------------------------------------------------------------
"$py" - "$work" "$cold" "$runs" "$slow_runs" "$grep_timeout" "$grep_runs" > "$out_md" <<'EOF'
import json, os, statistics, sys
work, cold, runs, slow_runs, grep_timeout, grep_runs = sys.argv[1], sys.argv[2] == "1", *sys.argv[3:7]
o = os.path.join(work, "out")


def tsv(name):
    return dict(l.rstrip("\n").split("\t", 1) for l in open(os.path.join(work, name)) if "\t" in l)


def hyper(name):
    p = os.path.join(work, name + ".json")
    if not os.path.exists(p):
        return {}
    res = {}
    for r in json.load(open(p))["results"]:
        t = r["times"]
        ok = all(c == 0 for c in r.get("exit_codes", [0]))
        res[r["command"]] = (statistics.median(t), min(t), max(t), len(t), ok)
    return res


def fmt(v):
    return f"{v:.2f}" if v < 100 else f"{v:.0f}"


def loads():
    try:
        return {l.split("\t")[0]: l.split("\t")[1:3] for l in open(os.path.join(work, "loads.tsv")).read().split("\n") if l}
    except OSError:
        return {}


def table(groups):
    """groups: (hyperfine result, group of the reference, reference command); ratios are to it."""
    ld = loads()
    names = [g[0] for g in groups]
    note = "; ".join(f"{n}: {ld[n][0]} to {ld[n][1]}" for n in names if n in ld)
    lines = ["| tool | median s | [min - max] | runs | time / rostrum's |", "|---|---|---|---|---|"]
    for name, ref_group, ref in groups:
        h = hyper(name)
        base = hyper(ref_group).get(ref)
        for cmd, (med, lo, hi, n, ok) in h.items():
            if not ok:
                lines.append(f"| {cmd} | did not finish within {grep_timeout} s | | {n} | |")
                continue
            ratio = f"{med / base[0]:.2f}" if base else "-"
            if cmd == ref and name == ref_group:
                ratio = "**1.00** (reference)"
            cmd = cmd.replace("|", "\\|")
            lines.append(f"| {cmd} | {fmt(med)} | [{fmt(lo)} - {fmt(hi)}] | {n} | {ratio} |")
    if note:
        lines.append(f"\nLoad average (1 minute) as each hyperfine group began and ended: {note}.")
    return "\n".join(lines)


def first_int(path, col=0):
    try:
        return int(open(path).read().split()[col])
    except (OSError, IndexError, ValueError):
        return None


def sum_counts(path):
    try:
        return sum(int(l.rsplit(":", 1)[1]) for l in open(path) if ":" in l)
    except OSError:
        return None


def rostrum_hits(path, tsv_path):
    r = json.load(open(path))
    cats = {}
    for l in open(tsv_path).read().splitlines()[1:]:
        c, p = l.split("\t", 1)
        cats[c] = p
    return {cats[t["name"]]: t["hits"] for t in r["topics"]}, r


def hs_hits(path):
    out = {}
    for l in open(path):
        n, p = l.rstrip("\n").split("\t", 1)
        out[p] = int(n)
    return out


def num(v):
    return "n/a" if v is None else f"{v:,}"


v, m = tsv("versions.tsv"), tsv("machine.tsv")
print("## Against the peers (issue 6)\n")
print(f"Reproduce: `PEERS_RUNS={runs} PEERS_SLOW_RUNS={slow_runs} PEERS_GREP_RUNS={grep_runs} "
      f"PEERS_GREP_TIMEOUT={grep_timeout} bench/peers.sh` (as root or with sudo; it installs the peers from Debian, "
      "builds everything, and prints this section). Raw results: the work directory it names "
      "(hyperfine JSON per group, every tool's output).\n")
print(f"Machine: {m.get('cpu')}, {m.get('cpus')} CPUs, {m.get('memory')}, {m.get('kernel')}, locale "
      f"{m.get('locale')}; shared with other work: the load average of "
      "each group is under its table.  ")
print(f"Input: {m.get('corpus')}; the same files for every tool (`*.md`, `*.txt`).  ")
print("Versions: " + "; ".join(f"{k} {val}" for k, val in v.items()) + ".\n")
print(f"Method: hyperfine, page cache warm (one untimed warm-up run), {runs} timed runs "
      f"({slow_runs} for Python; {grep_runs} for GNU grep with a lexicon and for rg -o with 5,000 entries, "
      f"without warm-up and with a {grep_timeout} s limit for grep); median [min - max] wall seconds of the whole command (process start, "
      "reading every file, writing the result to a file). Ratio: the tool's median time over rostrum's "
      "(default workers, one per core) median time in the same hyperfine group; above 1 means rostrum is "
      "faster. Threads: rg uses every core by default (`-j 1` rows: one); grep, wc, ICU, Hyperscan and "
      "Python use one; rostrum one worker per core by default (`-j 1` rows: one) and always a reading "
      "thread besides. rostrum always computes its whole report (tokens, terms, bigrams, speakers, "
      "lexicon hits); the peers compute only the one number of their row.\n")

print("### Counting words and terms\n")
print(table([("words", "words", "rostrum scan --format plain"),
             ("python", "python", "rostrum scan --format plain")]))
print()
print("### Lexicon matching\n")
for n in (500, 5000):
    try:
        cnt = sum(1 for _ in open(os.path.join(work, f"lex{n}.txt")))
        ph = sum(1 for l in open(os.path.join(work, f"lex{n}.txt")) if " " in l.strip())
    except OSError:
        cnt = ph = 0
    print(f"{cnt} entries ({cnt - ph} words, {ph} two-word phrases) from `bench/gen_lexicon.py`; "
          "rostrum reads the same patterns as TSV, one category per pattern.\n")
    print(table([(f"match{n}", f"match{n}", "rostrum scan --format plain --topics"),
                 (f"grep{n}", f"grep{n}", "rostrum scan --format plain --topics")]))
    hs_line = open(os.path.join(o, f"hs-{n}.txt")).read().split() if os.path.exists(os.path.join(o, f"hs-{n}.txt")) else []
    if len(hs_line) == 5:
        print(f"\nHyperscan's last run: {hs_line[3]} s compiling the {cnt} expressions, {hs_line[4]} s scanning.")
    print()
print("### The whole report\n")
print("`rostrum scan CORPUS --topics lex500.tsv --json FILE` (formats detected: Markdown labels, speakers, "
      "turns, terms, bigrams, topics).\n")
groups = [("report", "report", "rostrum scan (whole report)")]
if cold:
    groups.append(("report-cold", "report", "rostrum scan (whole report)"))
print(table(groups))
if cold:
    print("\nCold: `sync; echo 3 > /proc/sys/vm/drop_caches` before each run (hyperfine --prepare); its ratio "
          "is to the warm run.")
else:
    print("\nCold cache: not measured: /proc/sys/vm/drop_caches cannot be written here.")
print()
print("### `rostrum bench`\n")
try:
    bt = open(os.path.join(o, "bench.txt")).read().rstrip()
    wall = open(os.path.join(o, "bench-wall.txt")).read().strip()
    ld = loads().get("bench", ["?", "?"])
    print(f"`rostrum bench --json bench.json` with its defaults (a generated corpus; its own warm-up, "
          f"calibrated repetitions and checks against scalar, described in its output): {wall} s wall "
          f"from start to exit, load average (1 minute) {ld[0]} to {ld[1]}. Its output:\n")
    print("```\n" + bt + "\n```")
except OSError:
    print("Not run.")
print()

# --- agreement
print("### Do the counts agree?\n")
plain = json.load(open(os.path.join(o, "plain.json")))
rt = plain["corpus"]["tokens"]
the_r = next((t["count"] for t in plain["terms"] if t["term"] == "the"), None)
wc = first_int(os.path.join(o, "wc.txt"))
try:
    wc = int(open(os.path.join(o, "wc.txt")).read().split("\n")[-2].split()[0])
except (OSError, IndexError, ValueError):
    pass
icu = first_int(os.path.join(o, "icu.txt"))
icu_b = first_int(os.path.join(o, "icu-blanked.txt"), 2)
ctr = open(os.path.join(o, "counter.txt")).read().split()
skl = open(os.path.join(o, "sklearn.txt")).read().split()
print("| count | tool | value | what a word is |")
print("|---|---|---|---|")
print(f"| words | GNU `wc -w` | {num(wc)} | a run of non-space bytes (`Mat:**`, `--`, `[laughs]` are words) |")
print(f"| words | ICU word break | {num(icu)} | UAX #29 segments whose rule status is not `UBRK_WORD_NONE` (ICU's tailored rules) |")
print(f"| words | ICU, timestamps blanked as rostrum blanks them | {num(icu_b)} | the same, on the text rostrum tokenizes |")
print(f"| words | rostrum `--format plain` | {num(rt)} | UAX #29 segments holding a letter, digit, `_` or ideograph (docs/tokens.md); timestamps are not words |")
print(f"| words | Python `re.findall(r'\\w+')` | {num(int(ctr[0]))} | runs of `\\w`: `don't` is two words, `node.js` two |")
print(f"| words | scikit-learn CountVectorizer | {num(int(skl[0]))} | runs of two or more `\\w` (`I`, `a` are not terms) |")
print(f"| distinct terms | rostrum / Counter / scikit-learn | {num(plain['corpus']['types'])} / {num(int(ctr[1]))} / {num(int(skl[1]))} | case-folded terms |")
rg_the = first_int(os.path.join(o, "rg-the.txt"))
grep_the = first_int(os.path.join(o, "grep-the.txt"))
print(f"| \"the\", whole word, any case | rg -o -w -i / grep -o -w -i / Counter / scikit-learn / rostrum | "
      f"{num(rg_the)} / {num(grep_the)} / {num(int(ctr[2]))} / {num(int(skl[2]))} / {num(the_r)} | |")
print()
print("- Distinct terms: rostrum has more because a word joined across `'`, `’`, `.` or `:` (`don't`, `node.js`, "
      "`github.com`) is one term of its own, which Counter and scikit-learn split into pieces "
      "(`don`, `t`); scikit-learn also drops one-character terms.")
if icu_b is not None:
    print(f"- ICU against rostrum on the same text: {num(icu_b)} against {num(rt)}, a difference of "
          f"{num(rt - icu_b)} ({abs(rt - icu_b) / rt * 1e6:.0f} per million), where ICU tailors UAX #29 and "
          "rostrum follows it as written: ICU does not join letters across `:` (`go:embed` is two ICU words, one "
          "rostrum token) and joins across `@` (`npm@5`: one ICU word, two tokens); a lone `_` (Pc) is a rostrum "
          "token and no ICU word; ICU segments Thai, Chinese and Japanese with dictionaries where rostrum makes "
          "each ideograph a token; front matter is not text for rostrum. Without blanking, ICU also counts the digits of "
          f"timestamps: {num(icu - rt) if icu is not None else 'n/a'} more.")
if rg_the is not None and the_r is not None:
    # every "the" inside a joined context, counted: the contexts hold one or more
    explained = 0
    try:
        import re as _re
        for l in open(os.path.join(o, "the-contexts-all.txt")):
            c, ctx = l.strip().split(" ", 1)
            explained += int(c) * len(_re.findall(r"(?<![A-Za-z0-9_])the(?![A-Za-z0-9_])", ctx, _re.I))
    except (OSError, ValueError):
        explained = None
    print(f"- \"the\": {num(rg_the - the_r)} occurrences that rg, grep and Python see and rostrum does not; "
          f"{num(explained)} of them are inside a longer UAX #29 word, where `.`, `'`, `’` or `:` between letters "
          "joins (found by `rg` with a letter, one of those, and \"the\"; the most frequent below)"
          + ("." if explained == rg_the - the_r else
             f"; the other {num(rg_the - the_r - explained) if explained is not None else 'n/a'} are not "
             "explained by that rule (a non-ASCII letter next to the punctuation, or text rostrum does not read "
             "as words)."))
    try:
        ctx = open(os.path.join(o, "the-contexts.txt")).read().rstrip()
        if ctx:
            print("\n```\n" + ctx + "\n```")
    except OSError:
        pass
print()
for n in (500, 5000):
    rgc = sum_counts(os.path.join(o, f"rg-c-{n}.txt"))
    rgc1 = sum_counts(os.path.join(o, f"rg-c1-{n}.txt"))
    gh = hyper(f"grep{n}").get("GNU grep -c -w -i -F -f")
    grep_done = gh is not None and gh[4]  # a run killed by its time limit counted only some files
    grc = sum_counts(os.path.join(o, f"grep-c-{n}.txt")) if grep_done else None
    rgo = first_int(os.path.join(o, f"rg-o-{n}.txt"))
    hst = first_int(os.path.join(o, f"hs-{n}.txt"))
    try:
        ro, rj = rostrum_hits(os.path.join(o, f"lex{n}.json"), os.path.join(work, f"lex{n}.tsv"))
        hs = hs_hits(os.path.join(o, f"hs-per-{n}.tsv"))
    except OSError:
        continue
    words = [p for p in hs if " " not in p]
    phr = [p for p in hs if " " in p]
    rw, hw = sum(ro.get(p, 0) for p in words), sum(hs[p] for p in words)
    rp, hp = sum(ro.get(p, 0) for p in phr), sum(hs[p] for p in phr)
    same = sum(1 for p in hs if hs[p] == ro.get(p, 0))
    grep_txt = num(grc) if grep_done else f"did not finish within {grep_timeout} s"
    print(f"**{n} entries.** Lines with a match: rg -c {num(rgc)}, rg -j 1 -c {num(rgc1)}, GNU grep -c {grep_txt}"
          f"{' (equal)' if rgc == grc == rgc1 and rgc is not None else (' (rg and rg -j 1 equal)' if rgc == rgc1 and rgc is not None else '')}. "
          f"Matches: Hyperscan {num(hst)}, rostrum {num(sum(ro.values()))} (all patterns), rg -o {num(rgo)}. "
          f"Single words: Hyperscan {num(hw)}, rostrum {num(rw)} ({(hw - rw) / hw * 100 if hw else 0:.2f}% fewer); "
          f"phrases: Hyperscan {num(hp)}, rostrum {num(rp)}. Patterns with the same count in both: {same} of {len(hs)}.\n")
    diffs = sorted(((hs[p] - ro.get(p, 0), p) for p in hs if hs[p] != ro.get(p, 0)), key=lambda d: -abs(d[0]))[:8]
    if diffs:
        print("Largest differences (Hyperscan minus rostrum): "
              + ", ".join(f"`{p}` {d:+,}" for d, p in diffs) + ".\n")
print("Why they part: a lexicon word next to `'`, `’`, `.` or `:` and a letter (`let's`, `node.js`, "
      "`github.com`) is a whole word for rg, grep and Hyperscan (`\\b` sits at the punctuation) but part of a longer "
      "UAX #29 word for rostrum, so the peers count more single words. A rostrum phrase matches its words as "
      "tokens with anything but a word between them (`high-level`, `real, world`, a line break inside a turn), "
      "where the fixed-string peers need the exact bytes `high level`, so rostrum counts more phrases. rg -o "
      "prints non-overlapping matches, leftmost first, so a word inside a matched phrase is not counted again; "
      "Hyperscan and rostrum (one category per pattern) count every pattern on its own. Hyperscan's `\\b` is "
      "ASCII-only (it does not support `\\b` with UCP), so next to a non-ASCII letter it sees a boundary that the "
      "others do not. YAML front matter, where a corpus has it, is metadata for rostrum and text for the "
      "others. rg and grep count lines, which rostrum does not report.")
EOF
cat "$out_md"
log "section written to $out_md; raw results in $work"
