#!/usr/bin/env bash
# CLI check of the OpenCL backend, run by ctest: opencl.sh ROSTRUM SOURCE_DIR
# `rostrum scan --backend opencl --json` must equal `--backend scalar`
# byte for byte outside the "run" line, with no warning (a warning would
# mean pieces fell back to the CPU), on sample/transcripts and, when
# ../shared/corpora is beside the checkout (or RS_CORPUS_DIR names an
# unpacked copy), on the podcast corpus. ROSTRUM_OPENCL_MIN_BYTES=0 sends
# every piece, however short, to the device; the default run is checked
# too, and the run line's "device" counters must show that text reached the
# device (a scan sends one batch per shard); ROSTRUM_OPENCL_TERMS=1 (term
# numbers from the device, off by default on a CPU device) must number
# every batch and change nothing; ROSTRUM_OPENCL_COUNT=1 (counting on the
# device, off by default on a CPU device) must count every batch (with
# lexicons, it matches them there too, unless ROSTRUM_OPENCL_MATCH=0, when the tokens come
# back for the matchers) and change nothing. Identity across -j and
# --shard-size, and with the CPU sharing the work (opencl+cpu), is checked
# on the sample and the format fixtures, and over two POCL devices
# (POCL_DEVICES="pthread pthread") with opencl:all+cpu; auto must not take a
# CPU device; and documents larger than a shard
# (read in pieces) on every format. Exits 77 (ctest: skipped) when no
# OpenCL device builds the kernels.
set -u
rostrum=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL [opencl]: $*" >&2; exit 1; }
ok() { echo "ok [opencl]: $*"; }
norun() { grep -v '^  "run": ' "$1"; }

"$rostrum" devices > "$tmp/devices" || fail "rostrum devices: exit $?"
if ! grep -q '^opencl:[0-9]*:[0-9]* *yes' "$tmp/devices"; then
    echo "SKIP [opencl]: no OpenCL device builds the kernels here (install pocl-opencl-icd); rostrum devices says:"
    grep '^opencl' "$tmp/devices"
    exit 77
fi
grep '^opencl' "$tmp/devices"

# same_report NAME PATH [scan options]: opencl (all pieces on the device,
# then the default split) against scalar
same_report() {
    local name=$1 path=$2; shift 2
    "$rostrum" scan "$path" "$@" --backend scalar --json "$tmp/$name-scalar.json" --quiet 2> "$tmp/err" \
        || fail "$name: scalar: exit $?: $(cat "$tmp/err")"
    local lexed=0
    case " $* " in *" --topics "*|*" --entities "*) lexed=1 ;; esac
    for min in 0 default terms count nomatch; do
        local envs=()
        [ $min = 0 ] && envs=(ROSTRUM_OPENCL_MIN_BYTES=0)
        [ $min = terms ] && envs=(ROSTRUM_OPENCL_MIN_BYTES=0 ROSTRUM_OPENCL_TERMS=1)
        [ $min = count ] && envs=(ROSTRUM_OPENCL_MIN_BYTES=0 ROSTRUM_OPENCL_COUNT=1)
        [ $min = nomatch ] && envs=(ROSTRUM_OPENCL_MIN_BYTES=0 ROSTRUM_OPENCL_COUNT=1 ROSTRUM_OPENCL_MATCH=0)
        env "${envs[@]}" "$rostrum" scan "$path" "$@" --backend opencl --json "$tmp/$name-cl.json" --quiet \
            2> "$tmp/err" || fail "$name: opencl (min $min): exit $?: $(cat "$tmp/err")"
        ! grep -q 'warning' "$tmp/err" || fail "$name: opencl (min $min) warned: $(cat "$tmp/err")"
        python3 "$src/tests/tools/validate_json.py" "$src/docs/report.schema.json" "$tmp/$name-cl.json" > /dev/null \
            || fail "$name: opencl (min $min): the report breaks docs/report.schema.json"
        grep -q '"backend": "opencl:' "$tmp/$name-cl.json" || fail "$name: the run line names no OpenCL device"
        local calls
        calls=$(sed -n 's/.*"device": {"calls": \([0-9]*\).*/\1/p' "$tmp/$name-cl.json")
        [ -n "$calls" ] || fail "$name: the run line has no device counters"
        if [ $min != default ] || [ "${big:-0}" = 1 ]; then
            [ "$calls" -gt 0 ] || fail "$name: opencl (min $min): nothing reached the device: $(grep '"run"' "$tmp/$name-cl.json")"
        fi
        if [ $min = terms ]; then
            grep -q "\"numbered_calls\": $calls}" "$tmp/$name-cl.json" \
                || fail "$name: ROSTRUM_OPENCL_TERMS=1: not every batch was numbered: $(grep '"run"' "$tmp/$name-cl.json")"
        fi
        if [ $min = count ] || [ $min = nomatch ]; then
            grep -q "\"counted_calls\": $calls," "$tmp/$name-cl.json" \
                || fail "$name: ROSTRUM_OPENCL_COUNT=1: not every batch was counted: $(grep '"run"' "$tmp/$name-cl.json")"
            # with lexicons, matched on the device too (every batch: no turn here is longer than a pass)
            local want=0
            [ $min = count ] && [ $lexed = 1 ] && want=$calls
            grep -q "\"matched_calls\": $want," "$tmp/$name-cl.json" \
                || fail "$name: $min: not $want batches matched on the device: $(grep '"run"' "$tmp/$name-cl.json")"
        fi
        cmp -s <(norun "$tmp/$name-cl.json") <(norun "$tmp/$name-scalar.json") \
            || { diff <(norun "$tmp/$name-cl.json") <(norun "$tmp/$name-scalar.json") | head -20;
                 fail "$name: opencl (min $min) report differs from scalar"; }
    done
    ok "$name: --backend opencl report equals --backend scalar (every piece on the device, with and without term numbers, counted on the device with and without matching there, and the default)"
}

same_report sample "$src/sample/transcripts" --topics "$src/sample/lexicons/topics.yml" \
    --entities "$src/sample/lexicons/entities.yml"

# -j, shard sizes and the CPU alongside: every variant equals scalar
lex=(--topics "$src/sample/lexicons/topics.yml" --entities "$src/sample/lexicons/entities.yml")
# counted on the device (ROSTRUM_OPENCL_COUNT=1): "sample" (lexicons: the tokens come back
# for the matchers), "plain" and "plain-grouped" (no lexicons: only the counts come back)
for in in "sample:$src/sample/transcripts" "formats:$src/tests/data/formats" "grouped:$src/tests/data/formats" \
          "plain:$src/tests/data/formats" "plain-grouped:$src/tests/data/formats"; do
    name=${in%%:*} dir=${in#*:}
    extra=("${lex[@]}") count=0
    case $name in plain*) extra=() count=1 ;; sample) count=1 ;; esac
    # JSON Lines grouped into documents: split on the worker, then batched
    case $name in *grouped) extra+=(--jsonl-doc episode --jsonl-speaker who --jsonl-text utterance) ;; esac
    "$rostrum" scan "$dir" "${extra[@]}" --backend scalar --json "$tmp/v-scalar.json" --quiet 2> /dev/null
    [ $? -le 1 ] || fail "$name: scalar failed"
    for b in opencl opencl+cpu; do
        for j in 1 2 3; do
            for shard in 4K 64K default; do
                sh=()
                [ $shard = default ] || sh=(--shard-size $shard)
                # term numbers on the device with -j 1 and 3, not with 2
                ROSTRUM_OPENCL_MIN_BYTES=0 ROSTRUM_OPENCL_TERMS=$((j % 2)) ROSTRUM_OPENCL_COUNT=$count \
                    "$rostrum" scan "$dir" "${extra[@]}" --backend $b -j $j "${sh[@]}" \
                    --json "$tmp/v.json" --quiet 2> "$tmp/err"
                [ $? -le 1 ] || fail "$name: $b -j $j shard $shard: $(cat "$tmp/err")"
                ! grep -q 'warning: OpenCL' "$tmp/err" || fail "$name: $b -j $j shard $shard warned: $(cat "$tmp/err")"
                cmp -s <(norun "$tmp/v.json") <(norun "$tmp/v-scalar.json") \
                    || { diff <(norun "$tmp/v.json") <(norun "$tmp/v-scalar.json") | head -20;
                         fail "$name: $b -j $j shard $shard differs from scalar"; }
                if [ $count = 1 ] && [ $b = opencl ]; then
                    grep -q '"counted_calls": [1-9]' "$tmp/v.json" \
                        || fail "$name: $b -j $j shard $shard: no batch was counted: $(grep '"run"' "$tmp/v.json")"
                    [ $name != sample ] || grep -q '"matched_calls": [1-9]' "$tmp/v.json" \
                        || fail "$name: $b -j $j shard $shard: no batch was matched: $(grep '"run"' "$tmp/v.json")"
                fi
            done
        done
    done
    ok "$name: opencl and opencl+cpu, -j 1..3, shards of 4K, 64K and the default, equal scalar"
done

# every device together with the CPU workers (opencl:all+cpu): POCL gives two devices here;
# auto never takes a CPU device (the run line names a CPU table when every device is one)
if ! grep -q '^opencl:[0-9]*:[0-9]* *yes *OpenCL \(gpu\|accelerator\|other\)' "$tmp/devices"; then
    "$rostrum" scan "$src/tests/data/formats" --json "$tmp/auto.json" --quiet 2> /dev/null
    [ $? -le 1 ] || fail "auto failed"
    ! grep -q '"backend": "opencl' "$tmp/auto.json" || fail "auto took a CPU device: $(grep '"run"' "$tmp/auto.json")"
    grep -q '^auto: ' "$tmp/devices" || fail "rostrum devices does not say what auto runs"
fi
POCL_DEVICES="pthread pthread" "$rostrum" devices > "$tmp/devices2"
if [ "$(grep -c '^opencl:[0-9]*:[0-9]* *yes' "$tmp/devices2")" -ge 2 ]; then
    "$rostrum" scan "$src/tests/data/formats" "${lex[@]}" --backend scalar --json "$tmp/g-scalar.json" --quiet 2> /dev/null
    for count in 0 1; do
        for j in 2 3; do
            POCL_DEVICES="pthread pthread" ROSTRUM_OPENCL_MIN_BYTES=0 ROSTRUM_OPENCL_COUNT=$count \
                "$rostrum" scan "$src/tests/data/formats" "${lex[@]}" --backend opencl:all+cpu -j $j --shard-size 4K \
                --json "$tmp/g.json" --quiet 2> "$tmp/err"
            [ $? -le 1 ] || fail "opencl:all+cpu -j $j count $count: $(cat "$tmp/err")"
            ! grep -q 'warning: OpenCL' "$tmp/err" || fail "opencl:all+cpu warned: $(cat "$tmp/err")"
            grep -q '"backend": "opencl:all+cpu"' "$tmp/g.json" || fail "opencl:all+cpu: $(grep '"run"' "$tmp/g.json")"
            cmp -s <(norun "$tmp/g.json") <(norun "$tmp/g-scalar.json") \
                || { diff <(norun "$tmp/g.json") <(norun "$tmp/g-scalar.json") | head -20;
                     fail "opencl:all+cpu -j $j count $count differs from scalar"; }
        done
    done
    ok "opencl:all+cpu over two POCL devices with the sample lexicons, -j 2 and 3, counted and matched on the devices or not, equals scalar"
else
    echo "SKIP [opencl]: POCL_DEVICES gave no second device: opencl:all+cpu over several devices did not run here"
fi

# documents larger than a shard, in pieces cut at line ends (docs/formats.md): every format,
# each piece through the device, against scalar scanning them whole
python3 "$src/tests/tools/big_docs.py" "$src" "$tmp/big" 2.5 || fail "generating documents"
"$rostrum" scan "$tmp/big" "${lex[@]}" --backend scalar --json "$tmp/b-scalar.json" --quiet 2> /dev/null
[ $? -le 1 ] || fail "big: scalar failed"
for b in opencl opencl+cpu; do
    ROSTRUM_OPENCL_TERMS=1 "$rostrum" scan "$tmp/big" "${lex[@]}" --backend $b -j 2 --shard-size 64K --json "$tmp/b.json" \
        --quiet 2> "$tmp/err"
    [ $? -le 1 ] || fail "big: $b: $(cat "$tmp/err")"
    ! grep -q 'warning: OpenCL' "$tmp/err" || fail "big: $b warned: $(cat "$tmp/err")"
    grep -q '"split": {"documents": 5,' "$tmp/b.json" || fail "big: $b: not in pieces: $(grep '"run"' "$tmp/b.json")"
    calls=$(sed -n 's/.*"device": {"calls": \([0-9]*\).*/\1/p' "$tmp/b.json")
    [ "${calls:-0}" -gt 0 ] || fail "big: $b: nothing reached the device: $(grep '"run"' "$tmp/b.json")"
    cmp -s <(norun "$tmp/b.json") <(norun "$tmp/b-scalar.json") \
        || { diff <(norun "$tmp/b.json") <(norun "$tmp/b-scalar.json") | head -20; fail "big: $b in pieces differs from scalar whole"; }
done
ok "big: 5 documents of 2.5 MB in 64K pieces, opencl and opencl+cpu, equal scalar on them whole"

# one long line: pieces of RS_CHUNK_BYTES, windows, sub-chunk cuts
yes 'Der Ölpreis stieg, the price rose; 3.14 x86_64 can'"'"'t — 東京 ' | head -c 5000000 > "$tmp/long.txt"
big=1 same_report long_line "$tmp/long.txt"

corpus=${RS_CORPUS_DIR:-}
if [ -z "$corpus" ]; then
    tarball="$src/../shared/corpora/changelog-transcripts.tar.zst"
    if [ -f "$tarball" ]; then
        mkdir "$tmp/c" && tar --zstd -xf "$tarball" -C "$tmp/c" || fail "unpack $tarball"
        corpus=$tmp/c
    fi
fi
if [ -n "$corpus" ]; then
    big=1 same_report corpus "$corpus"
    # matched on the device: the sample lexicons, and 2,000 patterns drawn from one show
    # (words, phrases and 255 globs) with the sample's entities beside them
    [ -d "$corpus/gotime" ] || fail "the corpus has no gotime directory"
    python3 "$src/bench/gen_lexicon.py" "$corpus/gotime" 2000 3 "$tmp/lexg" 0.2 > /dev/null 2>&1 \
        || fail "gen_lexicon.py failed"
    big=1 same_report corpus-lexicons "$corpus" "${lex[@]}"
    big=1 same_report gotime-2000 "$corpus/gotime" --topics "$tmp/lexg-globs.tsv" --entities "$src/sample/lexicons/entities.yml"
else
    echo "SKIP [opencl]: no corpus (../shared/corpora or RS_CORPUS_DIR): the corpus check did not run"
fi
