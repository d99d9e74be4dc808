#!/usr/bin/env bash
# test.sh — the test command: configures build/ (Release, g++), builds everything, runs every test with CTest;
# then the project again with clang 19 (scripts/test_clang.sh, build-clang/: all but the unit tests), the
# unit tests built with clang under ASan + UBSan (scripts/test_sanitize.sh, build-sanitize/) and every fuzz
# target for 10 s (scripts/fuzz.sh 10, build-fuzz/). CI (.ci/run) runs exactly this after installing the
# packages; run it yourself from any directory.
#
# Usage: scripts/test.sh   (build directories: <repository>/build, build-clang, build-sanitize, build-fuzz)
#   CTNET_SKIP_CLANG=1 / CTNET_SKIP_SANITIZE=1 / CTNET_SKIP_FUZZ=1 leave out the clang run / the sanitizer run /
#   the fuzz run (for quick local use).
# Needs: g++ 12+, CMake 3.25+, make, Eigen 3.4, doctest, zlib (Debian: g++ cmake make libeigen3-dev
# doctest-dev zlib1g-dev; clang-19 libclang-rt-19-dev libomp-19-dev for the clang and fuzz runs;
# python3-torch python3-numpy for tests/torch, which report SKIP without them). OMP_NUM_THREADS is pinned to
# 2: more threads than cores makes OpenMP crawl.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
export OMP_NUM_THREADS=2

# The CUDA code is compiled for one architecture here (sm_90, the H200's; nothing runs it without a GPU):
# a build for use keeps the default, 80;90.
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCTNET_WERROR=ON -DCMAKE_CUDA_ARCHITECTURES=90
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j2
# The GPU check's dry form on the same build (no GPU here): the CUDA targets are already built, so it only
# runs the device-free checks of scripts/gpu_check.sh, which keeps the GPU machine's one command from rotting.
bash scripts/gpu_check.sh --dry --build-dir build build/gpu_check
if [[ "${CTNET_SKIP_CLANG:-0}" != 1 ]]; then bash scripts/test_clang.sh; fi
if [[ "${CTNET_SKIP_SANITIZE:-0}" != 1 ]]; then bash scripts/test_sanitize.sh; fi
if [[ "${CTNET_SKIP_FUZZ:-0}" != 1 ]]; then bash scripts/fuzz.sh 10; fi
