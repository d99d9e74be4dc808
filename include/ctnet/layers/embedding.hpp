// ctnet/layers/embedding.hpp — OneHot<N> and Embedding<N, D>: integer inputs as vectors.
//
// Requires: an Input<1> per sample holding an integer in [0, N) (as a float). Guarantees: OneHot gives
// the N-vector with a 1 at that index; Embedding gives row `index` of its N x D "weight" (PyTorch's
// nn.Embedding, initialised N(0, 1)); an index that is not an integer in range throws ctnet::Error
// naming the sample. No gradient flows back to the index.
#pragma once

#include <string>

#include "../core/bind_helpers.hpp"
#include "../core/diagnostics.hpp"
#include "../core/layer.hpp"

namespace ctnet {

template <int N>
struct OneHot {
  template <class In, int Position>
  struct bind : BoundLayerBase<In, Shape<detail::at_least_one(N)>, Position> {
    using spec = OneHot;
    static_assert(rule::positive_size<at_layer<Position, OneHot>, In, expected_positive, (N > 0)>::value);
    static_assert(rule::index_input<at_layer<Position, OneHot>, In, expected_shape<1>,
                                    std::is_same_v<In, Shape<1>>>::value);
    static std::string describe() { return "OneHot(" + std::to_string(N) + ")"; }
    template <class B, class T>
    static void forward(const Context<T>&, const T* x, T* y, long n) {
      B::template one_hot<N>(x, y, n);
    }
    template <class B, class T>
    static void backward(const Context<T>&, const T*, const T*, const T*, T* gx, long n) {
      if (gx) B::fill_zero(gx, n);
    }
  };
};

template <int N, int D>
struct Embedding {
  template <class In, int Position>
  struct bind : BoundLayerBase<In, Shape<detail::at_least_one(D)>, Position> {
    using spec = Embedding;
    static_assert(rule::positive_size<at_layer<Position, Embedding>, In, expected_positive, (N > 0 && D > 0)>::value);
    static_assert(rule::index_input<at_layer<Position, Embedding>, In, expected_shape<1>,
                                    std::is_same_v<In, Shape<1>>>::value);
    static constexpr long parameter_count = long(N) * D;
    static constexpr std::array<TensorInfo, 1> parameter_tensors{{{"weight", 0, long(N) * D, 2, {N, D, 0, 0}}}};
    static std::string describe() { return "Embedding(" + std::to_string(N) + ", " + std::to_string(D) + ")"; }
    template <class T>
    static void init(T* params, T*, Generator& gen) {
      for (long i = 0; i < parameter_count; ++i) params[i] = T(gen.normal());
    }
    template <class B, class T>
    static void forward(const Context<T>& ctx, const T* x, T* y, long n) {
      B::template embedding_forward<N, D>(x, ctx.params, y, n);
    }
    template <class B, class T>
    static void backward(const Context<T>& ctx, const T* x, const T*, const T* gy, T* gx, long n) {
      B::template embedding_backward<N, D>(x, gy, ctx.grads, n);
      if (gx) B::fill_zero(gx, n);
    }
  };
};

}  // namespace ctnet
