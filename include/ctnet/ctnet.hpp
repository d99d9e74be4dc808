// ctnet/ctnet.hpp — the umbrella header: everything a user needs with one include.
//
// Requires: C++20 (g++ 12), Eigen 3.4, OpenMP (optional, for threads). Guarantees: the whole public
// vocabulary in namespace ctnet: shapes, layers, Sequential, Model, the Cpu backend and summary().
#pragma once

#include "backend/cpu/cpu.hpp"
#include "core/diagnostics.hpp"
#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/shape.hpp"
#include "graph/sequential.hpp"
#include "inspect/summary.hpp"
#include "layers/activation.hpp"
#include "layers/conv.hpp"
#include "layers/dropout.hpp"
#include "layers/linear.hpp"
#include "layers/norm.hpp"
#include "layers/pool.hpp"
#include "layers/reshape.hpp"
#include "model.hpp"
#include "inspect/gradient_check.hpp"
#include "inspect/profile.hpp"
#include "graph/branches.hpp"
#include "graph/concat.hpp"
#include "graph/residual.hpp"
#include "layers/embedding.hpp"
