// ctnet/layers/norm.hpp — BatchNorm2d (CxHxW input) and BatchNorm1d (flat input), PyTorch semantics.
//
// Requires: BatchNorm2d a CxHxW input, BatchNorm1d a flat input. Guarantees: training normalises with
// the batch's statistics and updates running_mean/running_var with momentum 0.1 (unbiased variance);
// eval uses the running statistics; eps 1e-5; parameters "weight" = 1 and "bias" = 0, buffers
// "running_mean" = 0 and "running_var" = 1, as PyTorch initialises them.
#pragma once

#include <cstdint>
#include <string>

#include "../core/bind_helpers.hpp"
#include "../core/diagnostics.hpp"
#include "../core/layer.hpp"
#include "../backend/common/norm.hpp"

namespace ctnet {

namespace detail {

template <class Spec, class In, int Position, int C, long Spatial>
struct BoundBatchNorm : BoundLayerBase<In, In, Position> {
  using spec = Spec;
  static constexpr LayerKind kind = LayerKind::batchnorm;
  static constexpr int channels = C;
  static constexpr long spatial = Spatial;
  static constexpr double momentum = 0.1;
  static constexpr double eps = 1e-5;
  static constexpr long parameter_count = 2L * C;
  static constexpr long buffer_count = 2L * C;
  // xhat for every element, then per-channel mean and inverse standard deviation of this batch.
  static constexpr long workspace_per_sample = In::size;
  static constexpr long workspace_fixed = 2L * C;
  static constexpr std::array<TensorInfo, 2> parameter_tensors{
      {{"weight", 0, C, 1, {C, 0, 0, 0}}, {"bias", C, C, 1, {C, 0, 0, 0}}}};
  static constexpr std::array<TensorInfo, 2> buffer_tensors{
      {{"running_mean", 0, C, 1, {C, 0, 0, 0}}, {"running_var", C, C, 1, {C, 0, 0, 0}}}};

  template <class T>
  static void init(T* params, T* buffers, Generator&) {
    for (int c = 0; c < C; ++c) {
      params[c] = T(1);
      params[C + c] = T(0);
      buffers[c] = T(0);
      buffers[C + c] = T(1);
    }
  }

  template <class B, class T>
  static void forward(const Context<T>& ctx, const T* x, T* y, long n) {
    // Inference keeps no normalised copy for backward, and the workspace holds only the fixed part.
    T* xhat = ctx.inference ? nullptr : ctx.work;
    T* mean = ctx.inference ? ctx.work : ctx.work + workspace_per_sample * n;
    T* inv_std = mean + C;
    if (ctx.training)
      B::template batchnorm_forward_train<C, Spatial>(x, y, xhat, mean, inv_std, ctx.params, ctx.params + C,
                                                      ctx.buffers, ctx.buffers + C, n, momentum, eps);
    else
      B::template batchnorm_forward_eval<C, Spatial>(x, y, xhat, mean, inv_std, ctx.params, ctx.params + C,
                                                     ctx.buffers, ctx.buffers + C, n, eps);
  }

  // Training forward of this layer and the ReLU (and element dropout, when mask is set) after it, as one
  // pass on backends that declare fuses_bn_relu_dropout: writes only the chain's output y (no xhat: the
  // chain's backward recomputes it from the chain's input, which training keeps).
  template <class B, class T>
  static void forward_chain(const Context<T>& ctx, const T* x, T* y, long n, std::uint32_t* mask,
                            std::uint64_t dropout_seed, int dropout_position, float p) {
    const std::uint64_t first_unit = ctx.first_row * std::uint64_t(C * Spatial);  // element dropout
    T* mean = ctx.work + workspace_per_sample * n;
    B::template batchnorm_relu_dropout_forward_train<C, Spatial>(
        x, y, mean, mean + C, ctx.params, ctx.params + C, ctx.buffers, ctx.buffers + C, n, momentum, eps, mask,
        dropout_seed, ctx.step, dropout_position, p, first_unit);
  }
  // Its backward from the chain's input x and the gradient of its output; gy and gx may be the same buffer.
  template <class B, class T>
  static void backward_chain(const Context<T>& ctx, const T* x, const T* gy, T* gx, long n, const std::uint32_t* mask,
                             float p) {
    const T* mean = ctx.work + workspace_per_sample * n;
    B::template batchnorm_relu_dropout_backward<C, Spatial>(gy, x, mean, mean + C, ctx.params, ctx.params + C, gx,
                                                            ctx.grads, ctx.grads + C, n, mask, p);
  }

  // The running statistics as forward in eval uses them (for a convolution that absorbs this layer).
  template <class T>
  static void eval_statistics(const Context<T>& ctx, T* mean, T* inv_std) {
    for (int c = 0; c < C; ++c) kernels::batchnorm_eval_stats(c, mean, inv_std, ctx.buffers, ctx.buffers + C, eps);
  }

  template <class B, class T>
  static void backward(const Context<T>& ctx, const T*, const T*, const T* gy, T* gx, long n) {
    const T* inv_std = ctx.work + workspace_per_sample * n + C;
    B::template batchnorm_backward<C, Spatial>(gy, ctx.work, inv_std, ctx.params, gx, ctx.grads, ctx.grads + C, n,
                                               ctx.training);
  }
};

}  // namespace detail

struct BatchNorm2d {
  template <class In, int Position>
  struct bind : detail::BoundBatchNorm<BatchNorm2d, In, Position, detail::dim_or<In>(0, 1),
                                       long(detail::dim_or<In>(1, 1)) * detail::dim_or<In>(2, 1)> {
    static_assert(rule::needs_image_input<at_layer<Position, BatchNorm2d>, typename input_of<In>::type,
                                          expected_rank<3>, In::rank == 3>::value);
    static std::string describe() { return "BatchNorm2d(" + std::to_string(In::dims[0]) + ")"; }
  };
};

struct BatchNorm1d {
  template <class In, int Position>
  struct bind : detail::BoundBatchNorm<BatchNorm1d, In, Position, detail::dim_or<In>(0, 1), 1> {
    static_assert(rule::needs_flat_input<at_layer<Position, BatchNorm1d>, typename input_of<In>::type,
                                         expected_rank<1>, In::rank == 1>::value);
    static std::string describe() { return "BatchNorm1d(" + std::to_string(In::dims[0]) + ")"; }
  };
};

}  // namespace ctnet
