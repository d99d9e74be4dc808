// ctnet/layers/activation.hpp — ReLU, LogSoftmax, Softmax and Identity.
//
// Requires: LogSoftmax and Softmax a flat input (they act over its features, PyTorch's dim=1).
// Guarantees: shape-preserving, no parameters; log-softmax and softmax are computed stably.
#pragma once

#include <string>

#include "../core/diagnostics.hpp"
#include "../core/layer.hpp"

namespace ctnet {

struct ReLU {
  template <class In, int Position>
  struct bind : BoundLayerBase<In, In, Position> {
    using spec = ReLU;
    static constexpr LayerKind kind = LayerKind::relu;
    static std::string describe() { return "ReLU()"; }
    template <class B, class T>
    static void forward(const Context<T>&, const T* x, T* y, long n) {
      B::relu_forward(x, y, n * In::size);
    }
    template <class B, class T>
    static void backward(const Context<T>&, const T*, const T* y, const T* gy, T* gx, long n) {
      if (gx) B::relu_backward(y, gy, gx, n * In::size);
    }
  };
};

struct Identity {
  template <class In, int Position>
  struct bind : BoundLayerBase<In, In, Position> {
    using spec = Identity;
    static constexpr LayerKind kind = LayerKind::eval_identity;
    static std::string describe() { return "Identity()"; }
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

struct LogSoftmax {
  template <class In, int Position>
  struct bind : BoundLayerBase<In, In, Position> {
    using spec = LogSoftmax;
    static_assert(rule::needs_flat_input<at_layer<Position, LogSoftmax>, typename input_of<In>::type,
                                         expected_rank<1>, In::rank == 1>::value);
    static std::string describe() { return "LogSoftmax(dim=1)"; }
    template <class B, class T>
    static void forward(const Context<T>&, const T* x, T* y, long n) {
      B::template log_softmax_forward<int(In::size)>(x, y, n);
    }
    template <class B, class T>
    static void backward(const Context<T>&, const T*, const T* y, const T* gy, T* gx, long n) {
      if (gx) B::template log_softmax_backward<int(In::size)>(y, gy, gx, n);
    }
  };
};

struct Softmax {
  template <class In, int Position>
  struct bind : BoundLayerBase<In, In, Position> {
    using spec = Softmax;
    static_assert(rule::needs_flat_input<at_layer<Position, Softmax>, typename input_of<In>::type,
                                         expected_rank<1>, In::rank == 1>::value);
    static std::string describe() { return "Softmax(dim=1)"; }
    template <class B, class T>
    static void forward(const Context<T>&, const T* x, T* y, long n) {
      B::template softmax_forward<int(In::size)>(x, y, n);
    }
    template <class B, class T>
    static void backward(const Context<T>&, const T*, const T* y, const T* gy, T* gx, long n) {
      if (gx) B::template softmax_backward<int(In::size)>(y, gy, gx, n);
    }
  };
};

}  // namespace ctnet
