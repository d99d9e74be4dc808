#!/usr/bin/env bash
# train_flagship.sh — from a fresh Debian 12 machine to a trained flagship MNIST model:
# installs the packages, fetches and verifies MNIST (data/mnist), builds the examples (build/), trains
# mnist_step3_gap at its defaults (15 epochs, seed 1; extra arguments are passed on), saves
# mnist_step3_gap.safetensors, loads it again and classifies the first 10 test images.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
bash scripts/install_deps.sh --data
bash scripts/fetch_mnist.sh data/mnist
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)" --target mnist_step3_gap mnist_predict
build/examples/mnist_step3_gap --data data/mnist --save mnist_step3_gap.safetensors "$@"
build/examples/mnist_predict --model mnist_step3_gap.safetensors --data data/mnist --test 10
