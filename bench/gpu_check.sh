#!/usr/bin/env bash
# bench/gpu_check.sh - the OpenCL checks and figures that need a GPU, in one
# short run, for a machine lent for minutes (docs/opencl.md; the figures go
# to bench/RESULTS.md by hand, with the machine and these commands).
#
#   bash bench/gpu_check.sh pack        here: a Release build in build-gpu/,
#                                       and build-gpu-pack/bundle.tgz with its
#                                       programs and the shared libraries they
#                                       need (all but glibc's), so that they
#                                       run on a machine with none installed
#   bash bench/gpu_check.sh run [OUT]   there (carry build-gpu-pack): finds the
#                                       NVIDIA OpenCL driver (an ICD file is
#                                       written when none is installed),
#                                       lists the devices, runs the OpenCL
#                                       unit tests and cli_opencl on them,
#                                       then the kernels-only bench and timed
#                                       scans of a generated archive, without
#                                       and with a lexicon of 2,000 patterns
#                                       drawn from it (bench/gen_lexicon.py),
#                                       each report compared with the CPU
#                                       table's.
#                                       Logs go to OUT ($OUT, else ./gpu-out);
#                                       the summary is OUT/summary.txt.
#
# run also works where the only device is POCL's (a dry run of the script).
# GPU_CHECK_SIZE sets the generated archive's size (default 1G) and
# GPU_CHECK_WINDOW the bench's window (default 64 MiB).
set -u
mode=${1:-}
src=$(cd "$(dirname "$0")/.." && pwd)
pack=$src/build-gpu-pack

pack() {
    local b=$src/build-gpu
    cmake -S "$src" -B "$b" -DCMAKE_BUILD_TYPE=Release > /dev/null || exit 1
    cmake --build "$b" -j "$(nproc)" --target rostrum_cli unit_tests rs_opencl_bench gen_corpus > /dev/null || exit 1
    local stage=$b/stage
    rm -rf "$stage" && mkdir -p "$stage/lib" "$stage/tests"
    cp "$b/rostrum" "$b/rs_opencl_bench" "$b/gen_corpus" "$stage/"
    cp "$b/tests/unit_tests" "$stage/tests/"
    for exe in "$b/rostrum" "$b/tests/unit_tests" "$b/rs_opencl_bench"; do
        ldd "$exe" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'
    done | sort -u | grep -Ev '/(libc|libm|libpthread|libdl|librt|ld-linux[^/]*)\.so' | while read -r lib; do
        cp -L "$lib" "$stage/lib/"
    done
    echo "$src" > "$stage/built_in" # the unit tests read data from the source directory
    mkdir -p "$pack" && tar -czf "$pack/bundle.tgz" -C "$stage" .
    du -sh "$pack/bundle.tgz"
    echo "packed: carry build-gpu-pack, then: bash bench/gpu_check.sh run"
}

run() {
    local out=${1:-${OUT:-$src/gpu-out}}
    mkdir -p "$out"
    local sum=$out/summary.txt
    : > "$sum"
    note() { echo "$*" | tee -a "$sum"; }
    [ -f "$pack/bundle.tgz" ] || { note "no build-gpu-pack/bundle.tgz: run 'bash bench/gpu_check.sh pack' here first and carry build-gpu-pack"; exit 1; }
    local b=/tmp/rs-gpu-bin
    rm -rf "$b" && mkdir -p "$b" && tar -xzf "$pack/bundle.tgz" -C "$b" || { note "cannot unpack the bundle"; exit 1; }
    export LD_LIBRARY_PATH=$b/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    # the unit tests read data from the source directory they were built in
    local built
    built=$(cat "$b/built_in")
    if [ -n "$built" ] && [ "$built" != "$src" ] && [ ! -e "$built" ]; then
        mkdir -p "$(dirname "$built")" && ln -s "$src" "$built"
    fi
    # the NVIDIA OpenCL driver: an ICD file when the image has none
    if ! ls /etc/OpenCL/vendors/*.icd > /dev/null 2>&1; then
        local nv
        nv=$(ldconfig -p 2> /dev/null | awk '/libnvidia-opencl\.so/ {print $NF; exit}')
        [ -n "$nv" ] || nv=$(ls /usr/local/nvidia/lib64/libnvidia-opencl.so* /usr/lib/x86_64-linux-gnu/libnvidia-opencl.so* 2> /dev/null | head -1)
        if [ -n "$nv" ]; then
            mkdir -p /tmp/rs-icd && echo "$nv" > /tmp/rs-icd/nvidia.icd
            export OCL_ICD_VENDORS=/tmp/rs-icd
            note "ICD: none installed; wrote /tmp/rs-icd/nvidia.icd -> $nv"
        else
            note "ICD: none installed and no libnvidia-opencl.so found"
        fi
    fi
    { uname -a; nvidia-smi -L 2>&1; nvidia-smi --query-gpu=name,driver_version,memory.total,pcie.link.gen.current,pcie.link.width.current --format=csv 2>&1; nproc; } > "$out/machine.txt"
    note "machine: $(head -c 300 "$out/machine.txt" | tr '\n' ' ')"
    "$b/rostrum" devices > "$out/devices.txt" 2>&1
    grep -E '^(opencl|auto)' "$out/devices.txt" | tee -a "$sum"
    local dev
    dev=$(awk '$1 ~ /^opencl:[0-9]+:[0-9]+$/ && $2 == "yes" && $4 != "cpu" {print $1; exit}' "$out/devices.txt")
    [ -n "$dev" ] || dev=$(awk '$1 ~ /^opencl:[0-9]+:[0-9]+$/ && $2 == "yes" {print $1; exit}' "$out/devices.txt")
    [ -n "$dev" ] || { note "no OpenCL device builds the kernels: nothing more to do"; exit 1; }
    note "device: $dev"

    # correctness first: the OpenCL unit tests (every device) and the CLI check
    timeout 240 "$b/tests/unit_tests" --filter='opencl/*' > "$out/unit_opencl.txt" 2>&1
    note "unit opencl/*: exit $? ($(grep -o 'Tested: .*' "$out/unit_opencl.txt" | tail -1))"
    timeout 240 "$b/tests/unit_tests" --filter='spans/*' > "$out/unit_spans.txt" 2>&1
    note "unit spans/*: exit $? ($(grep -o 'Tested: .*' "$out/unit_spans.txt" | tail -1))"
    timeout 300 bash "$src/tests/cli/opencl.sh" "$b/rostrum" "$src" > "$out/cli_opencl.txt" 2>&1
    note "cli_opencl: exit $? ($(grep -c '^ok' "$out/cli_opencl.txt") ok lines; $(grep -m1 FAIL "$out/cli_opencl.txt"))"

    # figures: a generated archive (no corpus travels), unpacked for the bench
    local size=${GPU_CHECK_SIZE:-1G} win=${GPU_CHECK_WINDOW:-67108864} tmp=/tmp/rs-gpu
    rm -rf "$tmp" && mkdir -p "$tmp/docs"
    "$b/gen_corpus" --size "$size" --seed 1 --out "$tmp/g.tar" || { note "gen_corpus failed"; exit 1; }
    tar -xf "$tmp/g.tar" -C "$tmp/docs"
    note "archive: $(stat -c %s "$tmp/g.tar") bytes (gen_corpus --size $size --seed 1)"
    # a lexicon drawn from the first 300 documents: words, phrases, globs
    mkdir -p "$tmp/some"
    find "$tmp/docs" -type f | sort | head -300 | while read -r f; do cp "$f" "$tmp/some/"; done
    python3 "$src/bench/gen_lexicon.py" "$tmp/some" 2000 3 "$tmp/lex" 0.2 > "$out/lexicon.txt" 2>&1
    note "lexicon: $(tail -1 "$out/lexicon.txt")"
    local lexopt=()
    [ -f "$tmp/lex-globs.tsv" ] && lexopt=(--lexicon "$tmp/lex-globs.tsv")
    timeout 300 "$b/rs_opencl_bench" --device "${dev#opencl:}" --runs 3 --window "$win" --threads "$(nproc)" \
        "${lexopt[@]}" "$tmp/docs" > "$out/opencl_bench.txt" 2>&1
    note "rs_opencl_bench --window $win: exit $?"
    grep -E 'input|tokens:|thread|kernels|end to end' "$out/opencl_bench.txt" | tee -a "$sum"

    local cpu
    cpu=$(awk '/\[auto\]/ {print $1}' "$out/devices.txt")
    # backend, ROSTRUM_OPENCL_COUNT, lexicon (1: --topics), ROSTRUM_OPENCL_MATCH
    for v in "$cpu 0 0 1" "$dev 0 0 1" "$dev 1 0 1" "${dev}+cpu 1 0 1" "auto 1 0 1" \
             "$cpu 0 1 1" "$dev 1 1 0" "$dev 1 1 1" "${dev}+cpu 1 1 1"; do
        set -- $v
        local name=${1//[:+]/_}-count$2-lex$3-match$4
        local t0 t1 rc lx=()
        if [ "$3" = 1 ]; then
            [ -f "$tmp/lex-globs.tsv" ] || { note "scan --backend $1 with a lexicon: skipped, no lexicon (python3?)"; continue; }
            lx=(--topics "$tmp/lex-globs.tsv")
        fi
        t0=$(date +%s%N)
        ROSTRUM_OPENCL_COUNT=$2 ROSTRUM_OPENCL_MATCH=$4 "$b/rostrum" scan "$tmp/g.tar" "${lx[@]}" --backend "$1" \
            --json "$tmp/$name.json" --quiet 2> "$tmp/err"
        rc=$?
        t1=$(date +%s%N)
        echo "$(( (t1 - t0) / 1000000 )) ms wall" > "$out/time.txt"
        grep -v '^  "run": ' "$tmp/$name.json" > "$tmp/$name.norun" 2> /dev/null
        local same=same
        [ "$1 $2" = "$cpu 0" ] && cp "$tmp/$name.norun" "$tmp/ref$3.norun"
        cmp -s "$tmp/$name.norun" "$tmp/ref$3.norun" || same=DIFFERS
        note "scan --backend $1, ROSTRUM_OPENCL_COUNT=$2, lexicon $3, ROSTRUM_OPENCL_MATCH=$4: exit $rc, $(cat "$out/time.txt"), report $same; $(grep -o '"backend": "[^"]*"' "$tmp/$name.json"); $(grep -o '"device": {[^}]*}' "$tmp/$name.json"); $(head -c 300 "$tmp/err")"
    done
}

case $mode in
pack) pack ;;
run) shift; run "$@" ;;
*) sed -n '2,25p' "$0"; exit 2 ;;
esac
