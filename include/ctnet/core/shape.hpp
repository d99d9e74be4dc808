// ctnet/core/shape.hpp — static per-sample tensor shapes.
//
// Requires: C++20. Guarantees: Shape<D...> is an empty literal type whose dims, rank and element count
// are compile-time constants; two shapes compare equal with == exactly when their dims match; the batch
// dimension is never part of a Shape (it is the only run-time dimension in ctnet). TupleShape<S...> is
// the static shape of several tensors per sample (several inputs, several heads).
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>

namespace ctnet {

template <int... D>
struct Shape {
  static constexpr int rank = sizeof...(D);
  static constexpr std::array<int, sizeof...(D)> dims{D...};
  static constexpr long size = (1L * ... * static_cast<long>(D));

  template <int... E>
  friend constexpr bool operator==(Shape, Shape<E...>) {
    return std::is_same_v<Shape<D...>, Shape<E...>>;
  }

  // "16x24x24", as summaries and messages print shapes.
  static std::string str() {
    std::string s;
    ((s.append(s.empty() ? "" : "x").append(std::to_string(D))), ...);
    return s.empty() ? "scalar" : s;
  }
};

// Several tensors per sample, as a network with several inputs or output heads has. In memory a batch
// of n is stored component after component: [n x size_0][n x size_1]..., so each component is an
// ordinary contiguous batch a layer can work on.
template <class... S>
struct TupleShape {
  static constexpr int rank = -1;  // not a tensor: layers that take one tensor reject it
  static constexpr std::array<int, 0> dims{};
  static constexpr int count = sizeof...(S);
  static constexpr long size = (0L + ... + S::size);
  static constexpr std::array<long, sizeof...(S)> sizes{S::size...};
  static constexpr std::array<long, sizeof...(S) + 1> offsets = [] {
    std::array<long, sizeof...(S) + 1> o{};
    for (std::size_t i = 0; i < sizeof...(S); ++i) o[i + 1] = o[i] + sizes[i];
    return o;
  }();

  template <class... E>
  friend constexpr bool operator==(TupleShape, TupleShape<E...>) {
    return std::is_same_v<TupleShape<S...>, TupleShape<E...>>;
  }
  static std::string str() {
    std::string s;
    ((s.append(s.empty() ? "(" : ", ").append(S::str())), ...);
    return s + ")";
  }
};

template <class S>
inline constexpr bool is_shape_v = false;
template <int... D>
inline constexpr bool is_shape_v<Shape<D...>> = true;
template <class... S>
inline constexpr bool is_shape_v<TupleShape<S...>> = true;

template <class S>
inline constexpr bool is_tuple_shape_v = false;
template <class... S>
inline constexpr bool is_tuple_shape_v<TupleShape<S...>> = true;

// Component I of a TupleShape.
template <class S, std::size_t I>
struct tuple_component;
template <class... S, std::size_t I>
struct tuple_component<TupleShape<S...>, I> {
  using type = std::tuple_element_t<I, std::tuple<S...>>;
};

template <class S>
concept ShapeType = is_shape_v<S>;

// Channel-height-width views of a rank-3 shape; callers check the rank first.
template <ShapeType S>
inline constexpr int channels_of = S::dims[0];
template <ShapeType S>
inline constexpr int height_of = S::dims[1];
template <ShapeType S>
inline constexpr int width_of = S::dims[2];

}  // namespace ctnet
