#!/usr/bin/env bash
# backends.sh ROSTRUM SOURCE_DIR - every CPU kernel backend this machine runs
# (as `rostrum devices` lists them: scalar, sse4.2, avx2, avx512, neon) gives
# the same scan report as the scalar reference, byte for byte outside the
# "run" line, on sample/transcripts and on the corpus
# ../shared/corpora/changelog-transcripts.tar.zst (unpacked into a temporary
# directory; skipped, with the reason printed, when it is absent).
# Backends the CPU lacks are named as skipped; device backends (names with a
# colon, such as opencl:0:0) have tests of their own. Exits non-zero on the
# first difference.
set -u
rostrum=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL [backends]: $*" >&2; exit 1; }
norun() { grep -v '^  "run": ' "$1"; } # the report without its run line (backend, seconds)

"$rostrum" devices > "$tmp/devices" || fail "rostrum devices: exit $?"
backends=$(awk '/^backend /{t=1; next} t && $1 !~ /:/ && $1 != "scalar" && $2 == "yes" {print $1}' "$tmp/devices")
for b in $(awk '/^backend /{t=1; next} t && $1 !~ /:/ && $2 == "no" {print $1}' "$tmp/devices"); do
    echo "skipped [backends]: $b: this CPU lacks its instruction set"
done
[ -n "$backends" ] || echo "note [backends]: no SIMD backend runs here; only scalar is listed"

inputs=("sample:$src/sample/transcripts")
corpus=$src/../shared/corpora/changelog-transcripts.tar.zst
if [ -r "$corpus" ]; then
    mkdir "$tmp/corpus"
    tar --zstd -xf "$corpus" -C "$tmp/corpus" || fail "cannot unpack $corpus (tar with zstd needed)"
    inputs+=("corpus:$tmp/corpus")
else
    echo "skipped [backends]: corpus: $corpus not found (no ../shared next to the source tree)"
fi

for in in "${inputs[@]}"; do
    name=${in%%:*} dir=${in#*:}
    "$rostrum" scan "$dir" --backend scalar --json "$tmp/scalar.json" --quiet
    rc=$?
    [ $rc -le 1 ] || fail "$name: scalar: exit $rc"
    for b in $backends; do
        "$rostrum" scan "$dir" --backend "$b" --json "$tmp/$b.json" --quiet
        rcb=$?
        [ $rcb = $rc ] || fail "$name: $b: exit $rcb, scalar $rc"
        grep -q "^  \"run\": {\"backend\": \"$b\"" "$tmp/$b.json" || fail "$name: $b: report names another backend"
        cmp -s <(norun "$tmp/scalar.json") <(norun "$tmp/$b.json") ||
            { diff <(norun "$tmp/scalar.json") <(norun "$tmp/$b.json") | head -20 >&2; fail "$name: $b differs from scalar"; }
        echo "ok [backends]: $name: $b report equals scalar"
    done
done
