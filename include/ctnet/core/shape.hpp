// ctnet/core/shape.hpp — static per-sample tensor shapes.
//
// Requires: C++20. Guarantees: Shape<D...> is an empty literal type whose dims, rank and element count
// are compile-time constants; two shapes compare equal with == exactly when their dims match; the batch
// dimension is never part of a Shape (it is the only run-time dimension in ctnet).
#pragma once

#include <array>
#include <string>
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

template <class S>
inline constexpr bool is_shape_v = false;
template <int... D>
inline constexpr bool is_shape_v<Shape<D...>> = true;

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
