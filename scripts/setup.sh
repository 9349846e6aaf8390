#!/usr/bin/env bash
# Installs what rostrum needs from Debian 12 packages (only those missing),
# then configures and builds it in build/ (Release, warnings as errors).
# Run as root or as a user with sudo. Usage: scripts/setup.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}

pkgs=(
  build-essential cmake pkg-config clang          # toolchains: gcc and clang
  libyaml-dev libjson-c-dev                       # YAML lexicons and front matter; JSON formats
  libarchive-dev libhwloc-dev                     # archives; worker placement
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd  # OpenCL loader, headers, CPU device
  libopenmpi-dev openmpi-bin                      # MPI mode
  libcriterion-dev unicode-data libicu-dev        # tests: Criterion, WordBreakTest.txt, ICU check
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user  # tests: the NEON kernels, cross-compiled and emulated
  python3 zstd tar                                # test drivers; the corpus archive
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  echo "setup: installing ${missing[*]}"
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRS_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
echo "setup: built $build/rostrum"
