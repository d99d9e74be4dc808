// ctnet/layers/reshape.hpp — Flatten: CxHxW (or any shape) to a flat vector of the same size.
//
// Requires: nothing. Guarantees: a change of view: in training a copy into the next activation buffer
// (every layer owns its output for backward); inference passes the buffer on without copying.
#pragma once

#include <string>

#include "../core/layer.hpp"

namespace ctnet {

struct Flatten {
  template <class In, int Position>
  struct bind : BoundLayerBase<In, Shape<int(In::size)>, Position> {
    using spec = Flatten;
    static constexpr LayerKind kind = LayerKind::eval_identity;
    static std::string describe() { return "Flatten()"; }
    template <class B, class T>
    static void forward(const Context<T>&, const T* x, T* y, long n) {
      B::copy(x, y, n * In::size);
    }
    template <class B, class T>
    static void backward(const Context<T>&, const T*, const T*, const T* gy, T* gx, long n) {
      if (gx) B::copy(gy, gx, n * In::size);
    }
  };
};

}  // namespace ctnet
