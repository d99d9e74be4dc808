// ctnet/layers/pool.hpp — MaxPool2d<K, Options...>, AvgPool2d<K, Options...> and GlobalAvgPool.
//
// Requires: a CxHxW input at least as large as the window. Options: Stride<S> (default K, as PyTorch).
// No padding, floor mode. Guarantees: output C x ((H-K)/S+1) x ((W-K)/S+1); GlobalAvgPool gives Cx1x1
// (PyTorch's AdaptiveAvgPool2d(1)); no parameters; each broken rule is one "ctnet:" error.
#pragma once

#include <string>

#include "../core/bind_helpers.hpp"
#include "../core/diagnostics.hpp"
#include "../core/layer.hpp"

namespace ctnet {

namespace detail {

template <class Spec, class In, int Position, int K, int S, class... Options>
struct BoundPool2d
    : BoundLayerBase<In,
                     Shape<dim_or<In>(0, 1), at_least_one((dim_or<In>(1, 1) - K) / at_least_one(S) + 1),
                           at_least_one((dim_or<In>(2, 1) - K) / at_least_one(S) + 1)>,
                     Position> {
  using where = at_layer<Position, Spec>;
  using got = typename input_of<In>::type;
  static_assert(rule::unknown_option<where, got, void, ((has_stride<Options>) && ...)>::value);
  static_assert(rule::positive_size<where, got, expected_positive, (K > 0 && S > 0)>::value);
  static_assert(rule::needs_image_input<where, got, expected_rank<3>, In::rank == 3>::value);
  static_assert(rule::window_fits<where, got, expected_at_least<K, K>,
                                  (In::rank != 3 || (dim_or<In>(1, K) >= K && dim_or<In>(2, K) >= K))>::value);
  using Out = typename BoundPool2d::output_shape_t;
  static constexpr int in_h = dim_or<In>(1, 1), in_w = dim_or<In>(2, 1);
  static constexpr int out_h = Out::dims[1], out_w = Out::dims[2];
  static constexpr int rf_kernel = K;
  static constexpr int rf_stride = S;
  static std::string window_text() {
    return "kernel_size=" + std::to_string(K) + (S != K ? ", stride=" + std::to_string(S) : std::string());
  }
};

}  // namespace detail

template <int K, class... Options>
struct MaxPool2d {
  static constexpr int kernel = K;
  static constexpr int stride = detail::stride_option<K, Options...>();
  template <class In, int Position>
  struct bind : detail::BoundPool2d<MaxPool2d, In, Position, K, stride, Options...> {
    using spec = MaxPool2d;
    static std::string describe() { return "MaxPool2d(" + bind::window_text() + ")"; }
    template <class B, class T>
    static void forward(const Context<T>&, const T* x, T* y, long n) {
      B::template maxpool_forward<bind::in_h, bind::in_w, bind::out_h, bind::out_w, K, stride>(x, y, n * In::dims[0]);
    }
    template <class B, class T>
    static void backward(const Context<T>&, const T* x, const T*, const T* gy, T* gx, long n) {
      if (gx)
        B::template maxpool_backward<bind::in_h, bind::in_w, bind::out_h, bind::out_w, K, stride>(x, gy, gx,
                                                                                                 n * In::dims[0]);
    }
  };
};

template <int K, class... Options>
struct AvgPool2d {
  static constexpr int kernel = K;
  static constexpr int stride = detail::stride_option<K, Options...>();
  template <class In, int Position>
  struct bind : detail::BoundPool2d<AvgPool2d, In, Position, K, stride, Options...> {
    using spec = AvgPool2d;
    static std::string describe() { return "AvgPool2d(" + bind::window_text() + ")"; }
    template <class B, class T>
    static void forward(const Context<T>&, const T* x, T* y, long n) {
      B::template avgpool_forward<bind::in_h, bind::in_w, bind::out_h, bind::out_w, K, stride>(x, y, n * In::dims[0]);
    }
    template <class B, class T>
    static void backward(const Context<T>&, const T*, const T*, const T* gy, T* gx, long n) {
      if (gx)
        B::template avgpool_backward<bind::in_h, bind::in_w, bind::out_h, bind::out_w, K, stride>(gy, gx,
                                                                                                 n * In::dims[0]);
    }
  };
};

struct GlobalAvgPool {
  template <class In, int Position>
  struct bind : BoundLayerBase<In, Shape<detail::dim_or<In>(0, 1), 1, 1>, Position> {
    using spec = GlobalAvgPool;
    static_assert(rule::needs_image_input<at_layer<Position, GlobalAvgPool>, typename input_of<In>::type,
                                          expected_rank<3>, In::rank == 3>::value);
    static constexpr int spatial = detail::dim_or<In>(1, 1) * detail::dim_or<In>(2, 1);
    static constexpr int rf_kernel = detail::dim_or<In>(1, 1);
    static std::string describe() { return "GlobalAvgPool()"; }
    template <class B, class T>
    static void forward(const Context<T>&, const T* x, T* y, long n) {
      B::template global_avgpool_forward<spatial>(x, y, n * In::dims[0]);
    }
    template <class B, class T>
    static void backward(const Context<T>&, const T*, const T*, const T* gy, T* gx, long n) {
      if (gx) B::template global_avgpool_backward<spatial>(gy, gx, n * In::dims[0]);
    }
  };
};

}  // namespace ctnet
