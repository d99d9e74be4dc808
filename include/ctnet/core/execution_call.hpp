// ctnet/core/execution_call.hpp — which Model call a backend's ExecutionScope brackets.
//
// Requires: nothing. Guarantees: Model<Net, Backend> names each forward, backward and predict call (and its
// batch) when it installs its execution state, so a backend can keep statistics per kind of call — the
// CPU's adaptive thread count does (backend/cpu/adaptive_threads.hpp); the CUDA backend ignores it.
#pragma once

namespace ctnet {

struct ExecutionCall {
  enum class Kind : int { forward, backward, predict };
  Kind kind;
  long batch;  // samples in the call
};

}  // namespace ctnet
