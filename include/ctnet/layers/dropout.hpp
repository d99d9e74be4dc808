// ctnet/layers/dropout.hpp — Dropout<P> (elements) and Dropout2d<P> (whole channels), P a float.
//
// Requires: 0 <= P < 1; Dropout2d a CxHxW input. Guarantees: in training each unit is zeroed with
// probability P and survivors scaled by 1/(1-P); in eval the layer is the identity. The mask is a pure
// function of (model seed, training step, layer position, element of the global batch), so a run repeats
// exactly, N data-parallel ranks draw one process's masks, and the
// CPU and CUDA backends draw the same masks. Training keeps the mask as bits in the layer's workspace
// (a backend may draw it again instead).
#pragma once

#include <cstdint>
#include <string>

#include "../core/bind_helpers.hpp"
#include "../core/diagnostics.hpp"
#include "../core/layer.hpp"

namespace ctnet {

namespace detail {

template <class Spec, class In, int Position, float P, long UnitSize>
struct BoundDropout : BoundLayerBase<In, In, Position> {
  using spec = Spec;
  static constexpr LayerKind kind = UnitSize == 1 ? LayerKind::dropout : LayerKind::eval_identity;
  static_assert(rule::dropout_probability<at_layer<Position, Spec>, typename input_of<In>::type,
                                          expected_probability_in_0_1, (P >= 0.0f && P < 1.0f)>::value);

  // Training keeps the keep mask for backward, one bit per unit in 32-bit words; one T per word holds it
  // for any T at least as wide as float.
  static constexpr long mask_words_per_sample = (In::size / UnitSize + 31) / 32;
  static constexpr long workspace_per_sample = mask_words_per_sample;
  static constexpr long workspace_fixed = 1;  // a word of slack: readers may load 64 bits at any word

  template <class T>
  static std::uint32_t* mask(const Context<T>& ctx) {
    static_assert(sizeof(T) >= sizeof(std::uint32_t));
    return reinterpret_cast<std::uint32_t*>(ctx.work);
  }

  // Units are numbered over the global batch (Context::first_row), so a data-parallel rank draws the masks
  // of its rows of the global batch.
  template <class T>
  static std::uint64_t first_unit(const Context<T>& ctx) {
    return ctx.first_row * std::uint64_t(In::size / UnitSize);
  }

  template <class B, class T>
  static void forward(const Context<T>& ctx, const T* x, T* y, long n) {
    if (ctx.training && P > 0.0f)
      B::dropout_forward(x, y, mask(ctx), n * In::size, ctx.seed ^ ctx.salt, ctx.step, Position, UnitSize, P,
                         first_unit(ctx));
    else
      B::copy(x, y, n * In::size);
  }
  template <class B, class T>
  static void backward(const Context<T>& ctx, const T*, const T*, const T* gy, T* gx, long n) {
    if (!gx) return;
    if (ctx.training && P > 0.0f)
      B::dropout_backward(gy, gx, const_cast<const std::uint32_t*>(mask(ctx)), n * In::size, ctx.seed ^ ctx.salt,
                          ctx.step, Position, UnitSize, P, first_unit(ctx));
    else
      B::copy(gy, gx, n * In::size);
  }
};

}  // namespace detail

template <float P>
struct Dropout {
  static constexpr float p = P;
  template <class In, int Position>
  struct bind : detail::BoundDropout<Dropout, In, Position, P, 1> {
    static std::string describe() { return "Dropout(p=" + detail::float_text(P) + ")"; }
  };
};

template <float P>
struct Dropout2d {
  static constexpr float p = P;
  template <class In, int Position>
  struct bind : detail::BoundDropout<Dropout2d, In, Position, P,
                                     long(detail::dim_or<In>(1, 1)) * detail::dim_or<In>(2, 1)> {
    static_assert(rule::needs_image_input<at_layer<Position, Dropout2d>, typename input_of<In>::type,
                                          expected_rank<3>, In::rank == 3>::value);
    static std::string describe() { return "Dropout2d(p=" + detail::float_text(P) + ")"; }
  };
};

}  // namespace ctnet
