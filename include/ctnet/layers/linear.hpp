// ctnet/layers/linear.hpp — Linear<OutFeatures, Options...>, PyTorch's nn.Linear.
//
// Requires: a flat input (a CxHxW input needs Flatten first); OutFeatures > 0. Options: NoBias.
// Guarantees: parameters "weight" (OUT x IN) and "bias" (OUT), initialised uniform in +-1/sqrt(IN)
// as PyTorch does.
#pragma once

#include <string>

#include "../core/bind_helpers.hpp"
#include "../core/diagnostics.hpp"
#include "../core/layer.hpp"

namespace ctnet {

template <int OutFeatures, class... Options>
struct Linear {
  static constexpr int out_features = OutFeatures;
  static constexpr bool bias = detail::bias_option<Options...>();

  template <class In, int Position>
  struct bind : BoundLayerBase<In, Shape<detail::at_least_one(OutFeatures)>, Position> {
    using spec = Linear;
    using where = at_layer<Position, Linear>;
    using got = typename input_of<In>::type;
    static_assert(rule::unknown_option<where, got, void, (detail::has_bias<Options> && ...)>::value);
    static_assert(rule::positive_size<where, got, expected_positive, (OutFeatures > 0)>::value);
    static_assert(rule::needs_flat_input<where, got, expected_rank<1>, In::rank == 1>::value);

    static constexpr int in_features = int(In::size);
    static constexpr long weight_count = long(OutFeatures) * in_features;
    static constexpr long parameter_count = weight_count + (bias ? OutFeatures : 0);
    static constexpr long macs = weight_count;
    static constexpr std::array<TensorInfo, bias ? 2 : 1> parameter_tensors = [] {
      std::array<TensorInfo, bias ? 2 : 1> t{};
      t[0] = {"weight", 0, weight_count, 2, {OutFeatures, in_features, 0, 0}};
      if constexpr (bias) t[1] = {"bias", weight_count, OutFeatures, 1, {OutFeatures, 0, 0, 0}};
      return t;
    }();

    static std::string describe() {
      return "Linear(in_features=" + std::to_string(in_features) + ", out_features=" + std::to_string(OutFeatures) +
             (bias ? "" : ", bias=False") + ")";
    }
    template <class T>
    static void init(T* params, T*, Generator& gen) {
      const double bound = detail::default_init_bound(in_features);
      for (long i = 0; i < parameter_count; ++i) params[i] = T(gen.uniform(-bound, bound));
    }
    template <class B, class T>
    static void forward(const Context<T>& ctx, const T* x, T* y, long n) {
      B::template linear_forward<in_features, OutFeatures, bias>(x, ctx.params, ctx.params + weight_count, y, n);
    }
    template <class B, class T>
    static void backward(const Context<T>& ctx, const T* x, const T*, const T* gy, T* gx, long n) {
      B::template linear_backward<in_features, OutFeatures, bias>(x, ctx.params, gy, gx, ctx.grads,
                                                                   ctx.grads + weight_count, n);
    }
  };
};

}  // namespace ctnet
