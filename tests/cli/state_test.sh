#!/usr/bin/env bash
# CLI tests for `rostrum scan --save-state` and `rostrum merge`, run by ctest:
#   state_test.sh CASE ROSTRUM SOURCE_DIR [MPIRUN]
# Each case prints what it checks and exits non-zero on the first failure.
# Inputs are the bundled sample (sample/) copied into a temporary directory,
# plus a binary file (skipped) and a document with broken front matter (a
# warning), so every section of the report is exercised.
set -u
case_name=$1 rostrum=$2 src=$3 mpirun=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
exec 3>&2 2>"$tmp/stderr.log"   # rostrum's own messages; shown on failure
fail() { echo "FAIL [$case_name]: $*" >&3; tail -5 "$tmp/stderr.log" >&3; exit 1; }
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
    # mpirun -np 2 and -np 3 (and more ranks than files) against the single-process report,
    # with notes from the walk itself (a missing path, a broken symlink) that every rank sees
    # and a binary file that only its rank reads.
    [ -n "$mpirun" ] || { echo "SKIP [$case_name]: no mpirun"; exit 0; }
    ln -s nowhere in/dangling.txt
    "$rostrum" scan in missing.txt "${lex[@]}" --json single_mpi.json --quiet
    [ $? = 1 ] || fail "single scan: exit $?, expected 1"
    for np in 2 3 13; do
        rm -f mpi.json mpi.state
        $mpirun --allow-run-as-root --oversubscribe -np $np "$rostrum" scan in missing.txt "${lex[@]}" \
            --json mpi.json --save-state mpi.state --quiet
        rc=$?
        [ $rc = 1 ] || fail "-np $np: exit $rc, expected 1 (inputs skipped)"
        cmp -s <(norun single_mpi.json) <(norun mpi.json) || { diff <(norun single_mpi.json) <(norun mpi.json) | head;
            fail "mpirun -np $np differs from the single-process report"; }
        "$rostrum" merge mpi.state --json mpi2.json --quiet
        cmp -s <(norun single_mpi.json) <(norun mpi2.json) || fail "the state saved by mpirun -np $np differs"
    done
    $mpirun --allow-run-as-root --oversubscribe -np 2 "$rostrum" scan - --quiet < in/council-debate.txt
    [ $? = 2 ] || fail "stdin under mpirun: exit not 2"
    ok "mpirun -np 2, 3 and 13 give the single-process report; stdin refused"
    ;;
*) fail "unknown case" ;;
esac
