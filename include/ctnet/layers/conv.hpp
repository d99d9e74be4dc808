// ctnet/layers/conv.hpp — Conv2d<OutChannels, Kernel, Options...>, PyTorch's nn.Conv2d (square kernel).
//
// Requires: a CxHxW input at least as large as the kernel after padding. Options: Stride<S> (default 1),
// Padding<P> (default 0), NoBias (bias on by default). Guarantees: output
// OutChannels x ((H+2P-K)/S+1) x ((W+2P-K)/S+1); parameters "weight" (OUT x IN x K x K) and "bias" (OUT),
// initialised as PyTorch does (uniform in +-1/sqrt(IN*K*K)); each broken rule is one "ctnet:" error.
#pragma once

#include <string>

#include "../core/bind_helpers.hpp"
#include "../core/diagnostics.hpp"
#include "../core/layer.hpp"
#include "../backend/common/geometry.hpp"

namespace ctnet {

template <int OutChannels, int Kernel, class... Options>
struct Conv2d {
  static constexpr int out_channels = OutChannels;
  static constexpr int kernel = Kernel;
  static constexpr int stride = detail::stride_option<1, Options...>();
  static constexpr int padding = detail::padding_option<Options...>();
  static constexpr bool bias = detail::bias_option<Options...>();

  template <class In, int Position>
  struct bind;
};

template <int OutChannels, int Kernel, class... Options>
template <class In, int Position>
struct Conv2d<OutChannels, Kernel, Options...>::bind
    : BoundLayerBase<In,
                     Shape<detail::at_least_one(OutChannels),
                           detail::at_least_one((detail::dim_or<In>(1, 1) + 2 * padding - Kernel) / detail::at_least_one(stride) + 1),
                           detail::at_least_one((detail::dim_or<In>(2, 1) + 2 * padding - Kernel) / detail::at_least_one(stride) + 1)>,
                     Position> {
  using spec = Conv2d;
  static constexpr LayerKind kind = LayerKind::conv2d;
  using where = at_layer<Position, Conv2d>;
  using got = typename input_of<In>::type;
  static_assert(rule::unknown_option<where, got, void, (detail::known_option<Options> && ...)>::value);
  static_assert(rule::positive_size<where, got, expected_positive, (OutChannels > 0 && Kernel > 0 && stride > 0)>::value);
  static_assert(rule::non_negative_padding<where, got, expected_positive, (padding >= 0)>::value);
  static_assert(rule::needs_image_input<where, got, expected_rank<3>, In::rank == 3>::value);
  static_assert(rule::kernel_fits<where, got, expected_at_least<Kernel - 2 * padding, Kernel - 2 * padding>,
                                  (In::rank != 3 || (detail::dim_or<In>(1, Kernel) + 2 * padding >= Kernel &&
                                                     detail::dim_or<In>(2, Kernel) + 2 * padding >= Kernel))>::value);

  using Out = typename bind::output_shape_t;
  static constexpr int in_channels = detail::dim_or<In>(0, 1);
  static constexpr ConvGeometry geometry{in_channels,        detail::dim_or<In>(1, 1), detail::dim_or<In>(2, 1),
                                         OutChannels,        Out::dims[1],             Out::dims[2],
                                         Kernel,             stride,                   padding,
                                         bias};
  static constexpr long weight_count = long(OutChannels) * in_channels * Kernel * Kernel;
  static constexpr long parameter_count = weight_count + (bias ? OutChannels : 0);
  static constexpr long macs = weight_count * Out::dims[1] * Out::dims[2];
  static constexpr int rf_kernel = Kernel;
  static constexpr int rf_stride = stride;
  static constexpr std::array<TensorInfo, bias ? 2 : 1> parameter_tensors = [] {
    std::array<TensorInfo, bias ? 2 : 1> t{};
    t[0] = {"weight", 0, weight_count, 4, {OutChannels, in_channels, Kernel, Kernel}};
    if constexpr (bias) t[1] = {"bias", weight_count, OutChannels, 1, {OutChannels, 0, 0, 0}};
    return t;
  }();

  static std::string describe() {
    std::string s = "Conv2d(" + std::to_string(in_channels) + ", " + std::to_string(OutChannels) +
                    ", kernel_size=" + std::to_string(Kernel);
    if (stride != 1) s += ", stride=" + std::to_string(stride);
    if (padding != 0) s += ", padding=" + std::to_string(padding);
    if (!bias) s += ", bias=False";
    return s + ")";
  }

  template <class T>
  static void init(T* params, T* /*buffers*/, Generator& gen) {
    const double bound = detail::default_init_bound(long(in_channels) * Kernel * Kernel);
    for (long i = 0; i < parameter_count; ++i) params[i] = T(gen.uniform(-bound, bound));
  }

  template <class B, class T>
  static void forward(const Context<T>& ctx, const T* x, T* y, long n) {
    B::template conv2d_forward<geometry>(x, ctx.params, bias ? ctx.params + weight_count : nullptr, y, int(n));
  }

  // Inference with the following batch-norm and/or ReLU folded into the output pass (backends that
  // declare fuses_conv_epilogue).
  template <class B, class T>
  static void forward_with_epilogue(const Context<T>& ctx, const T* x, T* y, long n, const ConvEpilogue<T>& e) {
    B::template conv2d_forward<geometry>(x, ctx.params, bias ? ctx.params + weight_count : nullptr, y, int(n), e);
  }
  template <class B, class T>
  static void backward(const Context<T>& ctx, const T* x, const T* /*y*/, const T* gy, T* gx, long n) {
    B::template conv2d_backward<geometry>(x, ctx.params, gy, gx, ctx.grads, bias ? ctx.grads + weight_count : nullptr,
                                          int(n));
  }
};

}  // namespace ctnet
