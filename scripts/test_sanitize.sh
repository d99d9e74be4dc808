#!/usr/bin/env bash
# test_sanitize.sh — the unit suite once more under AddressSanitizer + UndefinedBehaviorSanitizer
# (CTNET_SANITIZE=ON: -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer), so any
# out-of-bounds access, use-after-free, leak, overflow or other undefined behaviour fails the test it occurs in.
# Only the unit tests are built (no examples, no CUDA, no -march=native duplicates, no compile-fail or
# consumer tests), at -O1, in <repository>/build-sanitize. scripts/test.sh runs it after the normal suite.
#
# Usage: scripts/test_sanitize.sh   Needs: what scripts/test.sh needs (g++ 12 ships both sanitizers).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
export OMP_NUM_THREADS=2
# halt_on_error: the first report fails the test; detect_leaks: leaks are failures too.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

start=$(date +%s)
cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -g1" -DCTNET_SANITIZE=ON \
  -DCTNET_BUILD_EXAMPLES=OFF -DCTNET_NATIVE=OFF -DCTNET_CUDA=OFF
cmake --build build-sanitize -j"$(nproc)"
built=$(date +%s)
ctest --test-dir build-sanitize --output-on-failure -j2 -L unit
end=$(date +%s)
echo "test_sanitize.sh: build $((built - start)) s, tests $((end - built)) s"
