// ctnet/cuda.cuh — the umbrella header for CUDA translation units: the network vocabulary, Model, and the
// Cuda backend with its device-side training pieces, all without Eigen.
//
// Requires: nvcc -std=c++20 (CMake: link ctnet::cuda). Guarantees: a .cu file that includes this can
// declare networks, build Model<Net, Cuda>, and run a whole training step on the device (DeviceDataset,
// EpochOrder, nll_loss / cross_entropy_loss with Metrics, cuda::SGD, cuda::Graph). The CPU backend
// (Eigen) is not included: compare the backends by linking a .cpp part that uses Cpu (see tests/cuda).
#pragma once

#include "backend/cuda/cuda.cuh"
#include "backend/cuda/data.cuh"
#include "backend/cuda/graph.cuh"
#include "backend/cuda/loss.cuh"
#include "backend/cuda/optimizer.cuh"
#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/shape.hpp"
#include "graph/sequential.hpp"
#include "layers/activation.hpp"
#include "layers/conv.hpp"
#include "layers/dropout.hpp"
#include "layers/linear.hpp"
#include "layers/norm.hpp"
#include "layers/pool.hpp"
#include "layers/reshape.hpp"
#include "model.hpp"
