#!/usr/bin/env bash
# CLI check of a build without OpenCL (-DRS_OPENCL=OFF), run by ctest:
# no_opencl.sh ROSTRUM SOURCE_DIR. `rostrum devices` must say that the
# build has no OpenCL support, `--backend opencl` (and opencl:0:0, and the
# ROSTRUM_BACKEND variable) must be refused by name with a non-zero exit
# and no report, and `--backend auto` must still scan the sample to the
# same report as scalar.
set -u
rostrum=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL [no_opencl]: $*" >&2; exit 1; }
ok() { echo "ok [no_opencl]: $*"; }
norun() { grep -v '^  "run": ' "$1"; }

"$rostrum" devices > "$tmp/devices" || fail "rostrum devices: exit $?"
grep -q '^opencl .*this build has no OpenCL support' "$tmp/devices" \
    || { cat "$tmp/devices"; fail "rostrum devices does not say that this build has no OpenCL support"; }
ok "rostrum devices: $(grep '^opencl' "$tmp/devices" | tr -s ' ')"

for b in opencl opencl:0:0; do
    if "$rostrum" scan "$src/sample/transcripts" --backend "$b" --quiet --json "$tmp/$b.json" 2> "$tmp/err"; then
        fail "--backend $b: exit 0 in a build without OpenCL"
    fi
    grep -q "backend '$b' is not available" "$tmp/err" || { cat "$tmp/err"; fail "--backend $b: no message naming it"; }
    [ -s "$tmp/$b.json" ] && fail "--backend $b: a report was written"
    ok "--backend $b refused: $(head -1 "$tmp/err")"
done
if ROSTRUM_BACKEND=opencl "$rostrum" scan "$src/sample/transcripts" --quiet --json "$tmp/env.json" 2> "$tmp/err"; then
    fail "ROSTRUM_BACKEND=opencl: exit 0 in a build without OpenCL"
fi
grep -q "opencl" "$tmp/err" || { cat "$tmp/err"; fail "ROSTRUM_BACKEND=opencl: no message naming it"; }
ok "ROSTRUM_BACKEND=opencl refused: $(head -1 "$tmp/err")"

"$rostrum" scan "$src/sample/transcripts" --backend scalar --quiet --json "$tmp/scalar.json" || fail "scalar scan: exit $?"
"$rostrum" scan "$src/sample/transcripts" --backend auto --quiet --json "$tmp/auto.json" || fail "auto scan: exit $?"
cmp -s <(norun "$tmp/scalar.json") <(norun "$tmp/auto.json") || fail "auto's report differs from scalar's"
ok "auto scans the sample to scalar's report"
