// ctnet/ctnet.hpp — the umbrella header: everything a user needs with one include.
//
// Requires: C++20, Eigen 3.4, zlib, OpenMP (optional, for threads). Guarantees: the whole public CPU
// vocabulary in namespace ctnet — shapes, layers, graph combinators, Model and the Cpu backend; losses,
// optimizers, schedules, the trainer, metrics, progress, numeric guards and resumable training states; checkpoints and safetensors; the IDX and image
// readers, MNIST, the data loader and transforms; summary, gradient_check and profile; the version. The CUDA
// backend is apart (ctnet/cuda.cuh), for nvcc translation units.
#pragma once

#include "version.hpp"

#include "core/diagnostics.hpp"
#include "core/error.hpp"
#include "core/execution_call.hpp"
#include "core/finite.hpp"
#include "core/json.hpp"
#include "core/layer_concept.hpp"
#include "core/output_file.hpp"
#include "core/rng.hpp"
#include "core/shape.hpp"

#include "layers/activation.hpp"
#include "layers/conv.hpp"
#include "layers/dropout.hpp"
#include "layers/embedding.hpp"
#include "layers/linear.hpp"
#include "layers/norm.hpp"
#include "layers/pool.hpp"
#include "layers/reshape.hpp"

#include "graph/branches.hpp"
#include "graph/concat.hpp"
#include "graph/residual.hpp"
#include "graph/sequential.hpp"

#include "backend/cpu/cpu.hpp"
#include "model.hpp"

#include "inspect/gradient_check.hpp"
#include "inspect/profile.hpp"
#include "inspect/summary.hpp"

#include "train/checkpoint.hpp"
#include "train/loss.hpp"
#include "train/metrics.hpp"
#include "train/multitask.hpp"
#include "train/numeric_guard.hpp"
#include "train/optimizer.hpp"
#include "train/progress.hpp"
#include "train/safetensors.hpp"
#include "train/schedule.hpp"
#include "train/state_dict.hpp"
#include "train/trainer.hpp"
#include "train/training_state.hpp"

#include "dist/communicator.hpp"

#include "data/idx.hpp"
#include "data/image_file.hpp"
#include "data/loader.hpp"
#include "data/mnist.hpp"
#include "data/paired_digits.hpp"
#include "data/transforms.hpp"
