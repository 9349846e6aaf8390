#!/usr/bin/env bash
# targets.sh - the four speed targets of issue 3 (SIMD CPU kernels), on one
# core, in one run, with the scalar backend and the named peers measured in
# the same run; prints a Markdown summary and keeps the raw outputs.
#
#   bench/targets.sh            (TARGETS_BUILD, TARGETS_WORK, TARGETS_CPU,
#                                TARGETS_RUNS: see below)
#
# What it measures, every command pinned to one CPU (taskset -c
# $TARGETS_CPU, default 1) on data in memory (page cache warm, or texts
# loaded by the benchmark before timing):
#   1. tokenize + fold + count every term: bench_tokenize --mode both on the
#      podcast corpus (one call per file), every backend this CPU runs; the
#      peer: ICU's word break iterator (tests/icu_words, its own timer, which
#      covers its UTF-16 conversion and segmentation, not reading files);
#   2. tokenize + match a 5,000-entry lexicon: bench_tokenize --mode match
#      with the lexicon of bench/gen_lexicon.py (CORPUS 5000 2, glob share
#      0.2: words, two-word phrases and globs) and with the same patterns
#      without globs (those the peers get); the peers: Hyperscan
#      (bench/hs_match, \b...\b caseless, its scan time without compiling)
#      and rg -c -w -i -F -f -j 1 (wall time of the command, which counts
#      lines only);
#   3. the whole scan report: rostrum scan CORPUS -j 1 --json /dev/null
#      --quiet with --backend scalar and each SIMD backend (wall time of
#      the command, median of TARGETS_RUNS, default 3; the reading thread
#      shares the core);
#   4. tokenize + count on generated Cyrillic, accented Latin and Greek
#      text (bench_tokenize --gen KIND 20000000).
# GB/s = input bytes / 1e9 / seconds. bench_tokenize's figures are medians
# of 5 runs of thread CPU time (see its header); the others wall time.
#
# Needs: a build with bench_tokenize and tests/icu_words (scripts/setup.sh
# builds both; TARGETS_BUILD, default build), ripgrep and libhyperscan-dev
# (installed with apt-get when missing: root or sudo), the corpus
# (../shared/corpora/changelog-transcripts.tar.zst, unpacked into
# TARGETS_WORK, default a new /tmp directory; never into the repository).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${TARGETS_BUILD:-$here/build}
case $build in /*) ;; *) build=$here/$build ;; esac
work=${TARGETS_WORK:-$(mktemp -d /tmp/rostrum-targets.XXXXXX)}
cpu=${TARGETS_CPU:-1}
runs=${TARGETS_RUNS:-3}
mkdir -p "$work"
log() { echo "targets: $*" >&2; }
. "$here/bench/need_packages.sh" # need_packages
pin=(taskset -c "$cpu")

need_packages ripgrep libhyperscan-dev pkg-config
for f in "$build/bench_tokenize" "$build/rostrum" "$build/tests/icu_words"; do
  [ -x "$f" ] || { log "missing $f: build with scripts/setup.sh $build"; exit 1; }
done
cc -std=c11 -O2 -Wall -Wextra -o "$work/hs_match" "$here/bench/hs_match.c" $(pkg-config --cflags --libs libhs)

corpus=$work/corpus
if [ ! -d "$corpus" ]; then
  tarball=
  for t in "$here/../shared/corpora/changelog-transcripts.tar.zst" /work/shared/corpora/changelog-transcripts.tar.zst; do
    [ -f "$t" ] && { tarball=$t; break; }
  done
  [ -n "$tarball" ] || { log "no corpus (../shared/corpora/changelog-transcripts.tar.zst)"; exit 1; }
  mkdir -p "$corpus"
  tar --zstd -xf "$tarball" -C "$corpus"
fi
corpus=$(cd -P "$corpus" && pwd) # a link to an unpacked corpus: its target
find "$corpus" -type f \( -name '*.md' -o -name '*.txt' \) -print0 | sort -z > "$work/files0"
bytes=$(xargs -0 -a "$work/files0" cat | wc -c)
python3 "$here/bench/gen_lexicon.py" "$corpus" 5000 2 "$work/lex5000" 0.2 2> "$work/lexicon.log"

gbs() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.3f", b / 1e9 / s }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
load() { cut -d' ' -f1 /proc/loadavg; }

log "load $(load); 1. tokenize + fold + count"
load0=$(load)
"${pin[@]}" "$build/bench_tokenize" --mode both "$corpus" | tee "$work/count.txt" >&2
for r in $(seq "$runs"); do
  "${pin[@]}" xargs -0 -a "$work/files0" "$build/tests/icu_words" | awk '{ print $3 }'
done > "$work/icu.txt"
icu_s=$(median < "$work/icu.txt")

log "load $(load); 2. match 5,000 entries"
"${pin[@]}" "$build/bench_tokenize" --mode match --lexicon "$work/lex5000-globs.tsv" "$corpus" | tee "$work/match-globs.txt" >&2
"${pin[@]}" "$build/bench_tokenize" --mode match --lexicon "$work/lex5000.tsv" "$corpus" | tee "$work/match.txt" >&2
for r in $(seq "$runs"); do
  "${pin[@]}" "$work/hs_match" "$work/lex5000.txt" "$corpus" | awk '{ print $5 }'
done > "$work/hs.txt"
hs_s=$(median < "$work/hs.txt")
for r in $(seq "$runs"); do
  s=$(date +%s.%N)
  (cd "$corpus" && "${pin[@]}" rg -c -w -i -F -j 1 -f "$work/lex5000.txt" -g '*.md' -g '*.txt' . > "$work/rg.out" || true)
  e=$(date +%s.%N)
  awk -v s="$s" -v e="$e" 'BEGIN { print e - s }'
done > "$work/rg.txt"
rg_s=$(median < "$work/rg.txt")

log "load $(load); 3. the whole scan"
backends=$("$build/rostrum" devices 2>/dev/null | awk '/runs here|yes/ { print $1 }' | grep -E '^(scalar|sse4.2|avx2|avx512|neon)$' || true)
[ -n "$backends" ] || backends=$(awk 'NR > 2 && $1 == "count" { print $2 }' "$work/count.txt")
: > "$work/scan.txt"
for b in $backends; do
  for r in $(seq "$runs"); do
    s=$(date +%s.%N)
    "${pin[@]}" "$build/rostrum" scan "$corpus" -j 1 --backend "$b" --quiet --json "$work/scan-$b.json"
    e=$(date +%s.%N)
    awk -v b="$b" -v s="$s" -v e="$e" 'BEGIN { print b, e - s }'
  done >> "$work/scan.txt"
done

log "load $(load); 4. Cyrillic, accented Latin, Greek"
for g in cyrillic latin greek; do
  "${pin[@]}" "$build/bench_tokenize" --gen "$g" 20000000 | tee "$work/gen-$g.txt" >&2
done
load1=$(load)

# --- summary -------------------------------------------------------------------
row() { # file mode backend -> MB/s
  awk -v m="$2" -v b="$3" '$1 == m && $2 == b { print $3 }' "$1"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
best() { # file mode -> the backend with the highest median, not scalar
  awk -v m="$2" '$1 == m && $2 != "scalar" && $3 > v { v = $3; b = $2 } END { print b }' "$1"
}
echo "## Issue 3 targets: $(date -u +%Y-%m-%dT%H:%MZ), one core (taskset -c $cpu)"
echo
echo "Machine: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) CPUs; load average $load0 at the start, $load1 at the end."
echo "Corpus: $bytes bytes ($corpus); lexicon: $(tail -2 "$work/lexicon.log" | tr '\n' ' ')"
echo "rostrum: $(git -C "$here" rev-parse --short HEAD 2>/dev/null)$(git -C "$here" diff --quiet HEAD 2>/dev/null || echo ' (uncommitted changes)'), $build"
echo
echo "| target | goal | measured | backend | x scalar | x peer |"
echo "|---|---|---|---|---|---|"
# emit FILE MODE WHAT GOAL [PEER GB/S]...: the AVX2 row (the issue's
# setting), and the fastest backend's when another one is faster
emit() {
  local f=$1 m=$2 what=$3 goal=$4 s b v bs p x
  shift 4
  s=$(row "$f" "$m" scalar)
  bs=avx2
  [ -n "$(row "$f" "$m" avx2)" ] || bs=
  b=$(best "$f" "$m")
  [ "$b" = avx2 ] || bs="$bs $b"
  for b in $bs; do
    v=$(row "$f" "$m" "$b")
    x=
    for p in "$@"; do # NAME=GB/S
      x="$x${x:+; }$(ratio "$v" "$(awk -v g="${p#*=}" 'BEGIN { print g * 1000 }')") ${p%%=*} (${p#*=} GB/s)"
    done
    echo "| $what | $goal | $(awk -v v="$v" 'BEGIN { printf "%.3f", v / 1000 }') GB/s | $b | $(ratio "$v" "$s") | $x |"
  done
}
emit "$work/count.txt" count "tokenize + fold + count" "2 GB/s" "ICU=$(gbs "$icu_s")"
emit "$work/count.txt" tokenize "(tokenize + fold + hash alone)" ""
hs_g=$(gbs "$hs_s"); rg_g=$(gbs "$rg_s")
emit "$work/match-globs.txt" match "match 5,000 entries (words, phrases, globs)" "1 GB/s" \
  "Hyperscan=$hs_g" "rg -w -j 1=$rg_g"
emit "$work/match.txt" match "match 5,000 entries (words, phrases; the peers' patterns)" "1 GB/s" \
  "Hyperscan=$hs_g" "rg -w -j 1=$rg_g"
scalar_s=$(awk '$1 == "scalar" { print $2 }' "$work/scan.txt" | median)
for b in $backends; do
  [ "$b" = scalar ] && continue
  t=$(awk -v b="$b" '$1 == b { print $2 }' "$work/scan.txt" | median)
  echo "| whole scan report, -j 1 | 0.7 GB/s | $(gbs "$t") GB/s ($t s) | $b | $(awk -v a="$scalar_s" -v b="$t" 'BEGIN { printf "%.2fx", a / b }') | |"
done
echo "| (whole scan report, scalar) | | $(gbs "$scalar_s") GB/s ($scalar_s s) | scalar | 1.00x | |"
for g in cyrillic latin greek; do
  emit "$work/gen-$g.txt" count "$g 20 MB, tokenize + count" "0.5 GB/s"
  emit "$work/gen-$g.txt" tokenize "$g 20 MB, (tokenize alone)" ""
done
echo
echo "Raw outputs: $work (count.txt, match*.txt, icu.txt, hs.txt, rg.txt, scan.txt, gen-*.txt)."
