#!/usr/bin/env bash
# CLI tests for `rostrum scan --save-state` and `rostrum merge`, run by ctest:
#   state_test.sh CASE ROSTRUM SOURCE_DIR [MPIRUN]
# Each case prints what it checks and exits non-zero on the first failure. The mpi* cases
# need MPIRUN (an Open MPI launcher) and a rostrum built with MPI (RS_MPI).
# Inputs are the bundled sample (sample/) copied into a temporary directory,
# plus a binary file (skipped) and a document with broken front matter (a
# warning), so every section of the report is exercised.
set -u
case_name=$1 rostrum=$2 src=$3 mpirun=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
exec 3>&2 2>"$tmp/stderr.log"   # rostrum's own messages; shown on failure
fail() { echo "FAIL [$case_name]: $*" >&3; tail -5 "$tmp/stderr.log" >&3; cat "$tmp"/asan.* 2>/dev/null | head -60 >&3; exit 1; }
ok() { echo "ok [$case_name]: $*"; }
norun() { grep -v '^  "run": ' "$1"; }   # the report without its run line
lex=(--topics "$src/sample/lexicons/topics.yml" --entities "$src/sample/lexicons/entities.yml")

cd "$tmp" || exit 1
mkdir in
cp "$src"/sample/transcripts/* in/ || fail "copy the sample"
printf 'PNG\000\001\002 binary' > in/zz-binary.txt
printf -- '---\ntitle: [unclosed\n---\nAnn Lee: the front matter above is broken; housing and tram.\n' > in/broken-front.txt
docs=(in/*)
[ ${#docs[@]} -ge 9 ] || fail "expected at least 9 documents, have ${#docs[@]}"
# three groups, each a slice of the list
g1=("${docs[@]:0:3}") g2=("${docs[@]:3:3}") g3=("${docs[@]:6}")

# The reference: one scan of everything (exit 1: the binary file is skipped).
"$rostrum" scan in "${lex[@]}" --json single.json --csv single_csv --quiet
[ $? = 1 ] || fail "single scan: exit $?, expected 1 (one document skipped)"

# The MPI cases: the launcher with its flags ("${mpi[@]}" -np N ...). Open MPI refuses root
# without --allow-run-as-root (CI runs as root). In the sanitizer build, LeakSanitizer needs
# the slow unwinder to see through Open MPI's frames (tests/lsan.supp), and every rank's
# report goes to a file (ranks other than 0 have their stderr on /dev/null).
mpi_setup() {
    mpi=("$mpirun" --oversubscribe)
    [ "$(id -u)" = 0 ] && mpi+=(--allow-run-as-root)
    if [ -n "${ASAN_OPTIONS:-}" ]; then
        export ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0:log_path=$tmp/asan"
        echo "  sanitizer build: ASAN_OPTIONS=$ASAN_OPTIONS"
    fi
    ln -s nowhere in/dangling.txt
    cp -r "$src/tests/data/formats" in/formats || fail "copy the fixtures"
    tar -czf in/formats-packed.tar.gz -C "$src/tests/data" formats || fail "pack the fixtures"
}

same() { # same REPORT WHAT: REPORT equals the single scan outside "run"
    cmp -s <(norun single.json) <(norun "$1") || { diff <(norun single.json) <(norun "$1") | head -20; fail "$2"; }
}

save_groups() {
    "$rostrum" scan "${g1[@]}" "${lex[@]}" --save-state g1.state --quiet; [ $? -le 1 ] || fail "scan g1"
    "$rostrum" scan "${g2[@]}" "${lex[@]}" --save-state g2.state --quiet; [ $? -le 1 ] || fail "scan g2"
    "$rostrum" scan "${g3[@]}" "${lex[@]}" --save-state g3.state --quiet; [ $? -le 1 ] || fail "scan g3"
    for g in g1 g2 g3; do [ -s $g.state ] || fail "$g.state not written"; done
}

case $case_name in
merge_groups)
    save_groups
    n=0
    for order in "g1 g2 g3" "g3 g1 g2" "g2 g3 g1" "g3 g2 g1"; do
        files=()
        for g in $order; do files+=("$g.state"); done
        "$rostrum" merge "${files[@]}" --json m.json --quiet
        rc=$?
        [ $rc = 1 ] || fail "merge $order: exit $rc, expected 1 (a skipped document in the merged report)"
        same m.json "merge $order differs from the single scan"
        n=$((n + 1))
    done
    "$rostrum" merge g2.state g1.state g3.state --csv m_csv --quiet
    diff -r single_csv m_csv > /dev/null || fail "merged CSV tables differ from the single scan's"
    # a merge's report on stdout, and the table (no --quiet) does not break it
    "$rostrum" merge g1.state g2.state g3.state --json - > out.json; [ $? = 1 ] || fail "merge --json -"
    same out.json "merge --json - differs"
    "$rostrum" merge g1.state g2.state g3.state > table.txt; [ $? = 1 ] || fail "merge with the table"
    grep -q '^Corpus: ' table.txt || fail "no summary table"
    ok "$n orders of 3 groups, CSV and stdout: equal to one scan"
    ;;
merge_tree)
    save_groups
    # ((g1 g3) g2) and (g2 (g3 g1)) through saved intermediate states
    "$rostrum" merge g1.state g3.state --save-state g13.state --quiet; [ $? = 1 ] || fail "merge g1 g3"
    "$rostrum" merge g13.state g2.state --json t1.json --quiet; [ $? = 1 ] || fail "merge g13 g2"
    same t1.json "((g1 g3) g2) differs from the single scan"
    "$rostrum" merge g3.state g1.state --save-state g31.state --quiet
    "$rostrum" merge g2.state g31.state --save-state all.state --json t2.json --quiet
    same t2.json "(g2 (g3 g1)) differs from the single scan"
    # a state of a state: merging one file is the identity
    "$rostrum" merge all.state --json t3.json --quiet
    same t3.json "re-reading the merged state differs"
    # the whole input saved by one scan, then merged alone
    "$rostrum" scan in "${lex[@]}" --save-state one.state --quiet
    "$rostrum" merge one.state --json t4.json --quiet
    same t4.json "a single saved scan differs"
    ok "trees of merges through saved states equal one scan"
    ;;
refusals)
    save_groups
    size=$(stat -c %s g2.state)
    head -c $((size / 2)) g2.state > cut.state
    cp g2.state flip.state
    printf '\x5a' | dd of=flip.state bs=1 seek=$((size / 2)) conv=notrunc status=none
    cmp -s g2.state flip.state && { printf '\xa5' | dd of=flip.state bs=1 seek=$((size / 2)) conv=notrunc status=none; }
    : > empty.state
    cp in/council-debate.txt text.state
    "$rostrum" scan "${g2[@]}" --topics "$src/sample/lexicons/entities.yml" --entities "$src/sample/lexicons/entities.yml" \
        --save-state otherlex.state --quiet
    for spec in "cut.state:truncated" "flip.state:checksum mismatch" "empty.state:empty file" \
                "text.state:not a rostrum state file" "otherlex.state:different topics lexicons" \
                "missing.state:No such file"; do
        f=${spec%%:*} want=${spec#*:}
        rm -rf out.json out.state out_csv
        "$rostrum" merge g1.state "$f" g3.state --json out.json --csv out_csv --save-state out.state --quiet 2> err.txt
        rc=$?
        [ $rc = 2 ] || fail "$f: exit $rc, expected 2"
        grep -q "$f" err.txt || fail "$f: the message does not name the file: $(cat err.txt)"
        grep -q "$want" err.txt || fail "$f: the message does not say '$want': $(cat err.txt)"
        [ ! -e out.json ] && [ ! -e out.state ] && [ ! -e out_csv ] || fail "$f: something was written"
        ls | grep -q '\.tmp\.' && fail "$f: a temporary file was left"
    done
    "$rostrum" merge g1.state otherlex.state --quiet 2> err.txt
    grep -q "otherlex.state" err.txt && grep -q "g1.state" err.txt || fail "a lexicon mismatch does not name both files"
    "$rostrum" merge --quiet 2> /dev/null; [ $? = 2 ] || fail "merge without files: exit not 2"
    "$rostrum" merge --bogus g1.state 2> /dev/null; [ $? = 2 ] || fail "merge --bogus: exit not 2"
    "$rostrum" merge g1.state --save-state - --quiet 2> /dev/null; [ $? = 2 ] || fail "merge --save-state -: exit not 2"
    "$rostrum" scan in --save-state - --quiet 2> /dev/null; [ $? = 2 ] || fail "scan --save-state -: exit not 2"
    "$rostrum" scan in --save-state "$tmp/no/such/dir/x.state" --quiet 2> err.txt
    [ $? = 3 ] && grep -q "no/such/dir/x.state" err.txt || fail "--save-state into a missing directory"
    ok "truncated, corrupted, empty, foreign, mismatched and missing states refused with exit 2, nothing written"
    ;;
mpi)
    # mpirun -np 2, 3 and 13 (more ranks than some have files) against the single-process
    # report, JSON (outside "run") and CSV: the sample, the format fixtures (tests/data/formats),
    # the fixtures again packed in one archive (one input file: it goes whole to one rank),
    # a binary file and a broken front matter (read by one rank: skipped, a warning), and
    # notes from the walk itself that every rank sees (a missing path, a broken symlink).
    [ -n "$mpirun" ] || { echo "SKIP [$case_name]: no MPI launcher"; exit 0; }
    mpi_setup
    "$rostrum" scan in missing.txt "${lex[@]}" --json single_mpi.json --csv single_mpi_csv --quiet
    rc=$?; [ $rc = 1 ] || fail "single scan: exit $rc, expected 1"
    python3 - single_mpi.json <<'PY' || fail "the single scan does not have the inputs the test needs"
import json, sys
d = json.load(open(sys.argv[1]))["corpus"]
reasons = " ".join(s["reason"] for s in d["skipped"])
assert d["documents"] >= 20, d["documents"]
for want in ("zz-binary.txt", "dangling.txt: broken symlink", "missing.txt: No such file"):
    assert want in reasons, (want, reasons)
PY
    largest=$(find in -type f -printf '%s\n' | sort -n | tail -1)
    for np in 2 3 13; do
        rm -rf mpi.json mpi.state mpi_csv
        ROSTRUM_MPI_VERBOSE=1 "${mpi[@]}" -np $np "$rostrum" scan in missing.txt "${lex[@]}" \
            --json mpi.json --csv mpi_csv --save-state mpi.state --quiet 2> mpi_err.txt
        rc=$?
        [ $rc = 1 ] || { cat mpi_err.txt >&2; fail "-np $np: exit $rc, expected 1 (inputs skipped)"; }
        cmp -s <(norun single_mpi.json) <(norun mpi.json) || { diff <(norun single_mpi.json) <(norun mpi.json) | head -20;
            fail "mpirun -np $np: the JSON report differs from the single-process one"; }
        diff -r single_mpi_csv mpi_csv > /dev/null || fail "mpirun -np $np: the CSV tables differ"
        "$rostrum" merge mpi.state --json mpi2.json --quiet
        cmp -s <(norun single_mpi.json) <(norun mpi2.json) || fail "the state saved by mpirun -np $np differs"
        # every rank had a share; each input file went to exactly one; loads within one file
        python3 - mpi_err.txt $np "$largest" <<'PY' || fail "mpirun -np $np: the shares are wrong: $(grep 'rank .* of' mpi_err.txt)"
import re, sys
lines = re.findall(r"rostrum: rank (\d+) of (\d+): (\d+) of (\d+) input files, (\d+) bytes", open(sys.argv[1]).read())
np_, largest = int(sys.argv[2]), int(sys.argv[3])
ranks = sorted(int(l[0]) for l in lines)
assert ranks == list(range(np_)), ranks
files = [int(l[2]) for l in lines]
listed = {int(l[3]) for l in lines}
assert len(listed) == 1, listed
assert sum(files) == listed.pop(), files
assert min(files) >= 1, files
loads = [int(l[4]) + 4096 * int(l[2]) for l in lines]
assert max(loads) - min(loads) <= largest + 4096, loads
PY
        echo "  -np $np: $(grep -c 'rostrum: rank' mpi_err.txt) ranks, files per rank: $(sed -n 's/^rostrum: rank \([0-9]*\) of [0-9]*: \([0-9]*\) of.*/\2/p' mpi_err.txt | sort -n | tr '\n' ' ')"
    done
    # more ranks than input files: the ranks without a share add nothing
    "$rostrum" scan in/council-debate.txt "${lex[@]}" --json one.json --quiet || fail "single scan of one file"
    "${mpi[@]}" -np 3 "$rostrum" scan in/council-debate.txt "${lex[@]}" --json one_mpi.json --quiet
    rc=$?; [ $rc = 0 ] || fail "-np 3 with one input file: exit $rc"
    cmp -s <(norun one.json) <(norun one_mpi.json) || fail "-np 3 with one input file differs from the single process"
    # only rank 0 writes: one summary table on stdout, each note once on stderr
    "${mpi[@]}" -np 3 "$rostrum" scan in missing.txt "${lex[@]}" > table.txt 2> table_err.txt
    [ "$(grep -c '^Corpus: ' table.txt)" = 1 ] || fail "-np 3: $(grep -c '^Corpus: ' table.txt) summary tables, expected 1"
    [ "$(grep -c 'skipped: .*zz-binary.txt' table_err.txt)" = 1 ] || fail "-np 3: the binary file is not named once on stderr"
    [ "$(grep -c 'skipped: missing.txt' table_err.txt)" = 1 ] || fail "-np 3: the missing path is not named once on stderr"
    "${mpi[@]}" -np 2 "$rostrum" scan - --quiet < in/council-debate.txt 2> stdin_err.txt
    rc=$?; [ $rc = 2 ] || fail "stdin under mpirun: exit $rc, expected 2"
    [ "$(grep -c "standard input ('-') cannot be divided" stdin_err.txt)" = 1 ] || fail "stdin refusal not said once: $(cat stdin_err.txt)"
    ok "mpirun -np 2, 3 and 13: JSON, CSV and saved state equal the single-process ones; every rank had a share; more ranks than files; one table; stdin refused"
    ;;
mpi_kill)
    # A rank that dies (SIGKILL, through the test hook ROSTRUM_TEST_MPI_KILL, host/cluster.h)
    # while listing or before the reduction: the run fails, the launcher's message names the
    # rank, nothing is written, and nobody hangs (timeout 120 s; a healthy run takes ~1 s).
    [ -n "$mpirun" ] || { echo "SKIP [$case_name]: no MPI launcher"; exit 0; }
    mpi_setup
    for spec in 2:1:reduce 3:1:reduce 3:2:list 3:2:reduce 3:0:reduce; do
        np=${spec%%:*} kill=${spec#*:} k=${spec#*:}; k=${k%%:*}
        rm -f k.json k.state
        start=$(date +%s)
        ROSTRUM_TEST_MPI_KILL=$kill timeout 120 "${mpi[@]}" -np $np "$rostrum" scan in "${lex[@]}" \
            --json k.json --save-state k.state --quiet > kill_out.txt 2>&1
        rc=$? secs=$(($(date +%s) - start))
        [ $rc != 124 ] || fail "-np $np, rank $k killed at $kill: still running after 120 s (hang)"
        [ $rc != 0 ] || fail "-np $np, rank $k killed at $kill: exit 0"
        grep -Eq "rank $k([^0-9]|\$)" kill_out.txt || { cat kill_out.txt >&2; fail "-np $np, rank $k killed: no message names rank $k"; }
        [ ! -e k.json ] && [ ! -e k.state ] || fail "-np $np, rank $k killed: a report or state was written"
        echo "  -np $np, rank $k killed at ${kill#*:}: exit $rc after ${secs} s: $(grep -Eo "[^ ]* ?process rank $k[^.]*" kill_out.txt | head -1)"
    done
    ok "a killed rank fails the run with a message naming it, within seconds, and nothing is written"
    ;;
mpi_corpus)
    # The podcast corpus, when ../shared is beside the checkout: -np 2 and 3 (one worker each)
    # against one process.
    [ -n "$mpirun" ] || { echo "SKIP [$case_name]: no MPI launcher"; exit 0; }
    tarball="$src/../shared/corpora/changelog-transcripts.tar.zst"
    if [ ! -f "$tarball" ]; then echo "SKIP [$case_name]: $tarball not present; the corpus check did not run"; exit 0; fi
    mpi_setup
    mkdir c && tar --zstd -xf "$tarball" -C c || fail "unpack"
    printf 'PNG\000\001\002 binary' > c/zz-binary.md
    "$rostrum" scan c "${lex[@]}" --json single_c.json --quiet
    rc=$?; [ $rc = 1 ] || fail "single scan of the corpus: exit $rc, expected 1 (the binary file)"
    for np in 2 3; do
        rm -f c.json
        "${mpi[@]}" -np $np "$rostrum" scan c "${lex[@]}" -j 1 --no-pin --json c.json --quiet
        rc=$?; [ $rc = 1 ] || fail "-np $np on the corpus: exit $rc, expected 1"
        cmp -s <(norun single_c.json) <(norun c.json) || { diff <(norun single_c.json) <(norun c.json) | head -20;
            fail "mpirun -np $np: the corpus report differs from the single-process one"; }
    done
    ok "podcast corpus: mpirun -np 2 and 3 give the single-process report"
    ;;
*) fail "unknown case" ;;
esac
