#!/usr/bin/env bash
# test.sh — the test command: configures build/ (Release), builds everything, runs every test with CTest.
# CI (.ci/run) runs exactly this after installing the packages; run it yourself from any directory.
#
# Usage: scripts/test.sh   (the build directory is always <repository>/build)
# Needs: g++ 12+, CMake 3.25+, make, Eigen 3.4, doctest, zlib (Debian: g++ cmake make libeigen3-dev
# doctest-dev zlib1g-dev). OMP_NUM_THREADS is pinned to 2: more threads than cores makes OpenMP crawl.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
export OMP_NUM_THREADS=2

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j2
# The GPU check's dry form on the same build (no GPU here): the CUDA targets are already built, so it only
# runs the device-free checks of scripts/gpu_check.sh, which keeps the GPU machine's one command from rotting.
bash scripts/gpu_check.sh --dry --build-dir build build/gpu_check
