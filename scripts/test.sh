#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up (scripts/setup.sh), then three
# builds with -Wall -Wextra -Werror (gcc Release, clang, and gcc with
# AddressSanitizer + UndefinedBehaviorSanitizer), each running every ctest
# test (Criterion units, CLI cases, the corpus check when ../shared exists),
# and a fourth without OpenCL that runs a few CLI cases.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
jobs=$(nproc)
status=0

run_ctest() {
  local dir=$1; shift
  echo "== ctest in $dir $*"
  (cd "$dir" && ctest --output-on-failure -j"$jobs" "$@") || status=1
}

run_ctest build

CC=clang cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=Release -DRS_WERROR=ON >/dev/null
cmake --build build-clang -j"$jobs" >/dev/null
run_ctest build-clang -LE corpus

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DRS_WERROR=ON -DRS_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs" >/dev/null
LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_ctest build-asan

# Without OpenCL (as where ocl-icd is not installed): warning-free, the backend refused by
# name, and the CPU tables' reports as before.
cmake -S . -B build-nocl -DCMAKE_BUILD_TYPE=Release -DRS_WERROR=ON -DRS_OPENCL=OFF >/dev/null
cmake --build build-nocl -j"$jobs" >/dev/null
run_ctest build-nocl -R '^cli_(no_opencl|sample|usage|determinism|bad_inputs|bench)$'

if [ $status = 0 ]; then echo "test.sh: all four builds passed"; else echo "test.sh: FAILED"; fi
exit $status
