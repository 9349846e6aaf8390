#!/usr/bin/env bash
# neon.sh SRC_DIR OUT_DIR - the NEON kernels on an x86-64 machine: builds
# tests/cross/neon_check.c with kernels/*.c for aarch64 (gcc's cross
# compiler, -Wall -Wextra -Werror, static) and runs it under qemu-aarch64 on
# WordBreakTest.txt, the sample transcripts and, when ../shared has the
# podcast corpus, twelve of its files. Exit status 77 (ctest: skipped) with
# a line saying why when the cross compiler or qemu is missing
# (scripts/setup.sh installs gcc-aarch64-linux-gnu and qemu-user);
# NEON_CC and NEON_QEMU name other ones.
set -euo pipefail
src=$1
out=$2
cc=${NEON_CC:-aarch64-linux-gnu-gcc}
qemu=${NEON_QEMU:-qemu-aarch64}
for t in "$cc" "$qemu"; do
  if ! command -v "$t" >/dev/null; then
    echo "neon: SKIPPED: $t not found (scripts/setup.sh installs gcc-aarch64-linux-gnu and qemu-user):" \
      "the NEON kernels are not tested on this machine"
    exit 77
  fi
done
wbt=/usr/share/unicode/auxiliary/WordBreakTest.txt
mkdir -p "$out"
"$cc" -std=c11 -O2 -Wall -Wextra -Werror -DRS_HAVE_NEON -I"$src/kernels" -I"$src/host" -static \
  -o "$out/neon_check" "$src/tests/cross/neon_check.c" "$src"/kernels/*.c
files=("$src"/sample/transcripts/*)
tarball=$src/../shared/corpora/changelog-transcripts.tar.zst
if [ -f "$tarball" ]; then
  rm -rf "$out/corpus"
  mkdir -p "$out/corpus"
  mapfile -t members < <(tar --zstd -tf "$tarball" | grep '\.md$' | sort | awk 'NR % 150 == 1' | head -12)
  tar --zstd -xf "$tarball" -C "$out/corpus" "${members[@]}"
  while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$out/corpus" -type f -name '*.md' -print0 | sort -z)
  echo "neon: ${#members[@]} files of $tarball"
else
  echo "neon: no podcast corpus at $tarball: WordBreakTest.txt, generated texts and the sample only"
fi
"$qemu" "$out/neon_check" "$wbt" "${files[@]}"
