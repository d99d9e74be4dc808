#!/usr/bin/env bash
# test_clang.sh — the project built with clang 19 against libstdc++ (Release, warnings are errors) and tested
# with CTest in <repository>/build-clang: every public header on its own, the examples and their bad-input,
# divergence and resume tests, the compile-fail tests with clang's messages, the README's tour and a
# find_package consumer; the MPI programs are built (and run in the g++ stage: the MPI logic is the same). The unit tests are not built here (CTNET_UNIT_TESTS=OFF): scripts/test.sh
# builds and runs them with clang under ASan + UBSan next (scripts/test_sanitize.sh). Left to the g++ build of
# scripts/test.sh: the CUDA targets (nvcc's host compiler is g++), the PyTorch and ONNX round trips
# (CTNET_INTEROP_TESTS=OFF: they check other programs' numbers, not the compiler's) and the consumer projects
# other than find_package (add_subdirectory, FetchContent, custom_layer, compile_fail_function: CMake's
# logic, the same for either compiler).
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
CC="$cc" CXX="$cxx" cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=Release -DCTNET_CUDA=OFF -DCTNET_WERROR=ON \
  -DCTNET_UNIT_TESTS=OFF -DCTNET_INTEROP_TESTS=OFF
cmake --build build-clang -j"$(nproc)"
built=$(date +%s)
ctest --test-dir build-clang --output-on-failure -j2 -E '^(consumer/(add_subdirectory|fetchcontent|custom_layer|compile_fail_function)|dist/.*)$'
end=$(date +%s)
echo "test_clang.sh: build $((built - start)) s, tests $((end - built)) s"
