#!/usr/bin/env bash
# ctest case for `rostrum bench`: bench_test.sh ROSTRUM
# A short run on a generated corpus must exit 0 and print, for every CPU
# backend that `rostrum devices` says runs here, a tokenize row and a scan
# row checked against scalar; for every OpenCL device that runs here, a
# tokenize row checked against scalar or a note saying why it was not
# measured; the fold+hash, match, count and scan-pool rows; the machine with
# its compiler flags and OpenCL devices. Its JSON must read back with
# --compare, and bad usage must exit 2. No speed is ever checked.
set -u
rostrum=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL [bench]: $*" >&2; exit 1; }
"$rostrum" bench --generate 1M --min-time 0.01 --runs 3 --threads 2 --json "$tmp/a.json" > "$tmp/out" 2> "$tmp/err" \
  || { cat "$tmp/out" "$tmp/err" >&2; fail "exit $?"; }
cat "$tmp/out"
"$rostrum" devices > "$tmp/devices" || fail "rostrum devices exit $?"
backends=$(awk 'NR > 2 && $2 == "yes" && $1 !~ /:/ {print $1}' "$tmp/devices")
[ -n "$backends" ] || fail "rostrum devices lists no backend that runs here"
for b in $backends; do
  grep -Eq "^tokenize\+fold\+hash +$b +1 .*(reference|= scalar)$" "$tmp/out" || fail "no checked tokenize row for backend $b"
  grep -Eq "^scan +$b +1 .*(reference|= scalar \(tables\))$" "$tmp/out" || fail "no checked scan row for backend $b"
done
devices=$(awk '$1 ~ /^opencl:[0-9]+:[0-9]+$/ && $2 == "yes" {print $1}' "$tmp/devices")
for d in $devices; do
  grep -Eq "^tokenize\+fold\+hash +$d +1 .*= scalar$" "$tmp/out" || grep -q "^note: .*$d" "$tmp/out" \
    || fail "device $d has neither a checked tokenize row nor a note"
  grep -q "^  OpenCL: $d .*; driver " "$tmp/out" || fail "device $d is not listed with its driver"
done
grep -Eq "^fold\+hash +scalar +1 .*= scalar tokenize$" "$tmp/out" || fail "no checked fold+hash row"
for k in match-500 match-5000 count; do
  grep -Eq "^$k +host +1 " "$tmp/out" || fail "no $k row"
done
grep -Eq "^scan-pool +[a-z0-9.]+ +2 .*efficiency [0-9]+%$" "$tmp/out" || fail "no scan-pool row with efficiency for 2 workers"
grep -q "^machine: .*(from \(hwloc\|sysconf\))" "$tmp/out" || fail "no machine line"
# the build type and the flags every file gets (-Wall is always there; -O
# is not, in a Debug build)
grep -Eq "^  flags: [A-Za-z]+: .*-Wall" "$tmp/out" || fail "compiler flags not recorded"
grep -q "^  OpenCL: " "$tmp/out" || fail "no OpenCL line (devices, or why none)"
"$rostrum" bench --compare "$tmp/a.json" "$tmp/a.json" > "$tmp/cmp" || fail "--compare exit $?"
grep -Eq "^scan +scalar +1 .* 1\.00x" "$tmp/cmp" || fail "--compare of a run with itself is not 1.00x"
# a corpus read from files: the sample transcripts, every document counted
sample=$(cd "$(dirname "$0")/../../sample/transcripts" && pwd)
n=$(find "$sample" -type f \( -name '*.txt' -o -name '*.md' -o -name '*.markdown' -o -name '*.text' \) | wc -l)
"$rostrum" bench "$sample" --min-time 0.01 --runs 1 --no-opencl > "$tmp/path" 2>&1 || { cat "$tmp/path" >&2; fail "bench PATH exit $?"; }
grep -q "^rostrum bench: corpus files: $sample" "$tmp/path" || fail "bench PATH does not name its corpus"
grep -q "^  $n documents, " "$tmp/path" || fail "bench PATH did not read the $n sample documents"
grep -Eq "^scan +scalar +1 .*reference$" "$tmp/path" || fail "bench PATH has no scan row"
if grep -v "^  OpenCL: " "$tmp/path" | grep -q "opencl:"; then fail "--no-opencl measured a device"; fi
# usage errors: exit 2, nothing measured
for args in "--compare $tmp/a.json" "--generate 1M $tmp" "--threads 0" "--runs x" "--bogus"; do
  # shellcheck disable=SC2086
  "$rostrum" bench $args > /dev/null 2>&1
  rc=$?
  [ $rc -eq 2 ] || fail "bench $args: exit $rc, expected 2"
done
echo "ok [bench]: rows for $(echo $backends | wc -w) backends ($(echo $backends)) and $(echo $devices | wc -w) OpenCL devices, JSON reads back"
