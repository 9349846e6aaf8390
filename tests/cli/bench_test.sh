#!/usr/bin/env bash
# ctest case for `rostrum bench`: bench_test.sh ROSTRUM
# A short run on a generated corpus must exit 0 and print a tokenize row and
# a scan row for every CPU backend that `rostrum devices` says runs here
# (OpenCL devices, "name:P:D", are not benchmarked yet), and its JSON must
# read back with --compare. No speed is ever checked.
set -u
rostrum=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL [bench]: $*" >&2; exit 1; }
"$rostrum" bench --generate 4M --min-time 0.05 --runs 3 --threads 2 --json "$tmp/a.json" > "$tmp/out" 2> "$tmp/err" \
  || { cat "$tmp/out" "$tmp/err" >&2; fail "exit $?"; }
cat "$tmp/out"
backends=$("$rostrum" devices | awk 'NR > 2 && $2 == "yes" && $1 !~ /:/ {print $1}')
[ -n "$backends" ] || fail "rostrum devices lists no backend that runs here"
for b in $backends; do
  grep -Eq "^tokenize\+fold\+hash +$b +1 " "$tmp/out" || fail "no tokenize row for backend $b"
  grep -Eq "^scan +$b +1 " "$tmp/out" || fail "no scan row for backend $b"
done
for k in match-500 match-5000 count; do
  grep -Eq "^$k +host +1 " "$tmp/out" || fail "no $k row"
done
grep -Eq "^scan-pool +[a-z0-9.]+ +2 " "$tmp/out" || fail "no scan-pool row for 2 workers"
grep -q "^machine: " "$tmp/out" || fail "no machine line"
"$rostrum" bench --compare "$tmp/a.json" "$tmp/a.json" > "$tmp/cmp" || fail "--compare exit $?"
grep -Eq "^scan +scalar +1 .* 1\.00x" "$tmp/cmp" || fail "--compare of a run with itself is not 1.00x"
echo "ok [bench]: rows for $(echo $backends | wc -w) backends ($(echo $backends)), JSON reads back"
