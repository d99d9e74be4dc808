// depthwise_conv.hpp — DepthwiseConv2d<3, Stride<S>, Padding<P>>, a layer written outside ctnet: PyTorch's
// nn.Conv2d(C, C, 3, stride=S, padding=P, groups=C), one 3x3 filter and one bias per channel.
//
// Requires: a CxHxW input at least 3x3 after padding. Guarantees: output C x ((H+2P-3)/S+1) x
// ((W+2P-3)/S+1); parameters "weight" (C x 1 x 3 x 3) and "bias" (C), initialised as PyTorch does
// (uniform in +-1/sqrt(9)); each broken rule is one static_assert naming the layer; host-memory backends.
#pragma once

#include <array>
#include <cmath>
#include <string>

#include <ctnet/core/diagnostics.hpp>
#include <ctnet/core/layer.hpp>

namespace custom {

// The layer's own rule, in ctnet's style: the template arguments name the layer and the shapes when it fails.
template <class Where, class Got, class Expected, bool Ok>
struct depthwise_kernel_fits {
  static_assert(Ok, "custom: DepthwiseConv2d: input (with padding) is smaller than the 3x3 kernel");
  static constexpr bool value = true;
};

namespace options {
template <class O>
constexpr int stride_or(int s) {
  if constexpr (requires { O::stride_value; }) return O::stride_value;
  return s;
}
template <class O>
constexpr int padding_or(int p) {
  if constexpr (requires { O::padding_value; }) return O::padding_value;
  return p;
}
template <class O>
concept known = requires { O::stride_value; } || requires { O::padding_value; };
}  // namespace options

template <int Kernel, class... Options>
struct DepthwiseConv2d {
  static_assert(Kernel == 3, "custom: DepthwiseConv2d: only the 3x3 kernel is written");
  static constexpr int kernel = 3;
  static constexpr int stride = [] { int s = 1; ((s = options::stride_or<Options>(s)), ...); return s; }();
  static constexpr int padding = [] { int p = 0; ((p = options::padding_or<Options>(p)), ...); return p; }();

  // Dimension i of a CxHxW input, or 1 where the input has another rank (that rule fails on its own).
  template <class In>
  static constexpr int dim(int i) {
    if constexpr (In::rank == 3) return In::dims[i];
    return 1;
  }
  static constexpr int out_dim(int in) {
    const int o = (in + 2 * padding - 3) / (stride > 0 ? stride : 1) + 1;
    return o < 1 ? 1 : o;
  }

  template <class In, int Position>
  struct bind : ctnet::BoundLayerBase<In, ctnet::Shape<dim<In>(0), out_dim(dim<In>(1)), out_dim(dim<In>(2))>, Position> {
    using where = ctnet::at_layer<Position, DepthwiseConv2d>;
    using got = typename ctnet::input_of<In>::type;
    // ctnet's own rules where they fit, the layer's own where they do not.
    static_assert(ctnet::rule::unknown_option<where, got, void, (options::known<Options> && ...)>::value);
    static_assert(ctnet::rule::positive_size<where, got, ctnet::expected_positive, (stride > 0)>::value);
    static_assert(ctnet::rule::non_negative_padding<where, got, ctnet::expected_positive, (padding >= 0)>::value);
    static_assert(ctnet::rule::needs_image_input<where, got, ctnet::expected_rank<3>, In::rank == 3>::value);
    static_assert(depthwise_kernel_fits<where, got, ctnet::expected_at_least<3 - 2 * padding, 3 - 2 * padding>,
                                        (dim<In>(1) + 2 * padding >= 3 && dim<In>(2) + 2 * padding >= 3)>::value);

    static constexpr int C = dim<In>(0), H = dim<In>(1), W = dim<In>(2);
    static constexpr int OH = out_dim(H), OW = out_dim(W);
    static constexpr long weight_count = long(C) * 9;
    static constexpr long parameter_count = weight_count + C;
    static constexpr long macs = weight_count * OH * OW;
    static constexpr int rf_kernel = 3;
    static constexpr int rf_stride = stride;
    static constexpr std::array<ctnet::TensorInfo, 2> parameter_tensors{{
        {"weight", 0, weight_count, 4, {C, 1, 3, 3}},
        {"bias", weight_count, C, 1, {C, 0, 0, 0}},
    }};

    static std::string describe() {
      std::string s = "DepthwiseConv2d(" + std::to_string(C) + ", " + std::to_string(C) + ", kernel_size=3";
      if (stride != 1) s += ", stride=" + std::to_string(stride);
      if (padding != 0) s += ", padding=" + std::to_string(padding);
      return s + ", groups=" + std::to_string(C) + ")";
    }

    // PyTorch's default: kaiming_uniform_(a=sqrt(5)) for the weight and U(+-1/sqrt(fan_in)) for the bias,
    // fan_in = (C / groups) * 3 * 3 = 9.
    template <class T>
    static void init(T* params, T* /*buffers*/, ctnet::Generator& gen) {
      const double bound = 1.0 / std::sqrt(9.0);
      for (long i = 0; i < parameter_count; ++i) params[i] = T(gen.uniform(-bound, bound));
    }

    template <class B, class T>
      requires B::host_accessible
    static void forward(const ctnet::Context<T>& ctx, const T* x, T* y, long n) {
      const T* w = ctx.params;
      const T* b = ctx.params + weight_count;
      for (long plane = 0; plane < n * C; ++plane) {
        const int c = int(plane % C);
        const T* in = x + plane * H * W;
        T* out = y + plane * OH * OW;
        for (int oy = 0; oy < OH; ++oy)
          for (int ox = 0; ox < OW; ++ox) {
            T acc = b[c];
            for (int ky = 0; ky < 3; ++ky)
              for (int kx = 0; kx < 3; ++kx) {
                const int iy = oy * stride - padding + ky, ix = ox * stride - padding + kx;
                if (iy >= 0 && iy < H && ix >= 0 && ix < W) acc += w[c * 9 + ky * 3 + kx] * in[iy * W + ix];
              }
            out[oy * OW + ox] = acc;
          }
      }
    }

    // Parameter gradients are accumulated into ctx.grads; gx (when wanted) is overwritten.
    template <class B, class T>
      requires B::host_accessible
    static void backward(const ctnet::Context<T>& ctx, const T* x, const T* /*y*/, const T* gy, T* gx, long n) {
      const T* w = ctx.params;
      T* gw = ctx.grads;
      T* gb = ctx.grads + weight_count;
      if (gx)
        for (long i = 0; i < n * In::size; ++i) gx[i] = T(0);
      for (long plane = 0; plane < n * C; ++plane) {
        const int c = int(plane % C);
        const T* in = x + plane * H * W;
        const T* g = gy + plane * OH * OW;
        T* gin = gx ? gx + plane * H * W : nullptr;
        for (int oy = 0; oy < OH; ++oy)
          for (int ox = 0; ox < OW; ++ox) {
            const T go = g[oy * OW + ox];
            gb[c] += go;
            for (int ky = 0; ky < 3; ++ky)
              for (int kx = 0; kx < 3; ++kx) {
                const int iy = oy * stride - padding + ky, ix = ox * stride - padding + kx;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                gw[c * 9 + ky * 3 + kx] += go * in[iy * W + ix];
                if (gin) gin[iy * W + ix] += go * w[c * 9 + ky * 3 + kx];
              }
          }
      }
    }
  };
};

}  // namespace custom
