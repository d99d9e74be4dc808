#!/usr/bin/env bash
# test_clang.sh — the whole project (library, examples, every test, compile-fail tests with clang's messages,
# consumer projects) built with clang 19 against libstdc++ and tested with CTest, in <repository>/build-clang.
# The CUDA targets are left out: nvcc's host compiler is g++ (scripts/test.sh's g++ build covers them).
# scripts/test.sh runs it after the g++ suite; warnings are errors here (-Werror) so clang stays warnings-clean.
#
# Usage: scripts/test_clang.sh   Needs: clang-19 and libomp-19-dev (scripts/install_deps.sh installs them).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
export OMP_NUM_THREADS=2
cxx="${CTNET_CLANG:-clang++-19}"
cc="${cxx/clang++/clang}"
if ! command -v "$cxx" > /dev/null; then
  echo "test_clang.sh: $cxx not found (Debian: apt-get install clang-19 libomp-19-dev)" >&2
  exit 1
fi

start=$(date +%s)
CC="$cc" CXX="$cxx" cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=Release -DCTNET_CUDA=OFF -DCTNET_WERROR=ON
cmake --build build-clang -j"$(nproc)"
built=$(date +%s)
ctest --test-dir build-clang --output-on-failure -j2
end=$(date +%s)
echo "test_clang.sh: build $((built - start)) s, tests $((end - built)) s"
