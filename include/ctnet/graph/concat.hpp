// ctnet/graph/concat.hpp — Concat (join a tuple's components) and Select<I> (pick one component).
//
// Requires: Concat a TupleShape whose components are all flat (joined along features, as torch.cat
// dim=1 on vectors) or all CxHxW with one height and width (joined along channels); Select<I> a
// TupleShape with more than I components. Guarantees: shapes are computed at compile time and each broken
// rule is one "ctnet:" error; gradients are routed back to the components unchanged.
#pragma once

#include <array>
#include <string>

#include "../core/bind_helpers.hpp"
#include "../core/diagnostics.hpp"
#include "../core/layer.hpp"

namespace ctnet {

namespace detail {

template <class In>
struct concat_shape {
  using type = Shape<1>;  // not a tuple: reported by Concat's rule
  static constexpr bool ranks_ok = true, spatial_ok = true;
};
template <class... C>
struct concat_shape<TupleShape<C...>> {
  static constexpr bool all_flat = ((C::rank == 1) && ...);
  static constexpr bool all_images = ((C::rank == 3) && ...);
  static constexpr bool ranks_ok = all_flat || all_images;
  static constexpr int h = std::tuple_element_t<0, std::tuple<C...>>::rank == 3
                               ? dim_or<std::tuple_element_t<0, std::tuple<C...>>>(1, 1)
                               : 1;
  static constexpr int w = std::tuple_element_t<0, std::tuple<C...>>::rank == 3
                               ? dim_or<std::tuple_element_t<0, std::tuple<C...>>>(2, 1)
                               : 1;
  static constexpr bool spatial_ok = !all_images || ((dim_or<C>(1, 0) == h && dim_or<C>(2, 0) == w) && ...);
  using type = std::conditional_t<all_images, Shape<(0 + ... + dim_or<C>(0, 0)), h, w>,
                                  Shape<int((0L + ... + C::size))>>;
};

}  // namespace detail

struct Concat {
  static constexpr bool takes_tuple = true;
  template <class In, int Position>
  struct bind : BoundLayerBase<In, typename detail::concat_shape<In>::type, Position> {
    using spec = Concat;
    using Out = typename detail::concat_shape<In>::type;
    static constexpr bool accepts_tuple = true;
    using where = at_layer<Position, Concat>;
    static_assert(rule::tuple_input<where, In, void, is_tuple_shape_v<In>>::value);
    static_assert(rule::concat_ranks<where, In, void, detail::concat_shape<In>::ranks_ok>::value);
    static_assert(rule::concat_spatial<where, In, void, detail::concat_shape<In>::spatial_ok>::value);

    static std::string describe() {
      return std::string("Concat(") + (Out::rank == 3 ? "channels" : "features") + ")";
    }
    template <class B, class T>
    static void forward(const Context<T>&, const T* x, T* y, long n) {
      if constexpr (is_tuple_shape_v<In>) {
        for (int i = 0; i < In::count; ++i)
          B::strided_copy(x + In::offsets[std::size_t(i)] * n, In::sizes[std::size_t(i)],
                          y + In::offsets[std::size_t(i)], In::size, In::sizes[std::size_t(i)], n);
      }
    }
    template <class B, class T>
    static void backward(const Context<T>&, const T*, const T*, const T* gy, T* gx, long n) {
      if constexpr (is_tuple_shape_v<In>) {
        if (!gx) return;
        for (int i = 0; i < In::count; ++i)
          B::strided_copy(gy + In::offsets[std::size_t(i)], In::size, gx + In::offsets[std::size_t(i)] * n,
                          In::sizes[std::size_t(i)], In::sizes[std::size_t(i)], n);
      }
    }
  };
};

template <int I>
struct Select {
  static constexpr bool takes_tuple = true;
  template <class In>
  struct component {
    using type = Shape<1>;
  };
  template <class... C>
  struct component<TupleShape<C...>> {
    using type = std::tuple_element_t<(I >= 0 && I < int(sizeof...(C)) ? I : 0), std::tuple<C...>>;
  };

  template <class In, int Position>
  struct bind : BoundLayerBase<In, typename component<In>::type, Position> {
    using spec = Select;
    static constexpr bool accepts_tuple = true;
    static_assert(rule::tuple_input<at_layer<Position, Select>, In, void, is_tuple_shape_v<In>>::value);
    static constexpr bool in_range = [] {
      if constexpr (is_tuple_shape_v<In>) return I >= 0 && I < In::count;
      return true;
    }();
    static_assert(rule::select_index<at_layer<Position, Select>, In, void, in_range>::value);
    static std::string describe() { return "Select(" + std::to_string(I) + ")"; }

    template <class B, class T>
    static void forward(const Context<T>&, const T* x, T* y, long n) {
      if constexpr (is_tuple_shape_v<In>) B::copy(x + In::offsets[std::size_t(I)] * n, y, n * In::sizes[std::size_t(I)]);
    }
    template <class B, class T>
    static void backward(const Context<T>&, const T*, const T*, const T* gy, T* gx, long n) {
      if constexpr (is_tuple_shape_v<In>) {
        if (!gx) return;
        B::fill_zero(gx, n * In::size);
        B::copy(gy, gx + In::offsets[std::size_t(I)] * n, n * In::sizes[std::size_t(I)]);
      }
    }
  };
};

}  // namespace ctnet
