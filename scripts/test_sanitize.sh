#!/usr/bin/env bash
# test_sanitize.sh — the unit suite under AddressSanitizer + UndefinedBehaviorSanitizer (CTNET_SANITIZE=ON:
# -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer), so any out-of-bounds
# access, use-after-free, leak, overflow or other undefined behaviour fails the test it occurs in. Built with
# clang 19 (CTNET_SANITIZE_CXX=g++ for g++'s sanitizers), warnings as errors, at -O1 without debug
# information (reports name functions, not lines: rebuild with -g to see those), in
# <repository>/build-sanitize: every unit test, portable build (the -march=native duplicates of the kernel
# tests run in the g++ build; clang compiles the AVX-512 paths in scripts/test_clang.sh's examples); no
# examples, no CUDA, no MPI. This is the clang stage's unit-test run: scripts/test.sh runs it after
# scripts/test_clang.sh, which builds everything else with clang.
#
# Usage: scripts/test_sanitize.sh   Needs: clang-19, libclang-rt-19-dev, libomp-19-dev (or g++ 12).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
export OMP_NUM_THREADS=2
# halt_on_error: the first report fails the test; detect_leaks: leaks are failures too.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cxx="${CTNET_SANITIZE_CXX:-clang++-19}"
case "$cxx" in
  *clang++*) cc="${cxx/clang++/clang}" ;;
  *g++*) cc="${cxx/g++/gcc}" ;;
  *) cc=cc ;;
esac
if ! command -v "$cxx" > /dev/null; then
  echo "test_sanitize.sh: $cxx not found (Debian: apt-get install clang-19 libclang-rt-19-dev libomp-19-dev)" >&2
  exit 1
fi

start=$(date +%s)
CC="$cc" CXX="$cxx" cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1" \
  -DCTNET_SANITIZE=ON -DCTNET_WERROR=ON -DCTNET_BUILD_EXAMPLES=OFF -DCTNET_CUDA=OFF -DCTNET_NATIVE=OFF
cmake --build build-sanitize -j"$(nproc)"
built=$(date +%s)
ctest --test-dir build-sanitize --output-on-failure -j2 -L unit
end=$(date +%s)
echo "test_sanitize.sh: build $((built - start)) s, tests $((end - built)) s"
