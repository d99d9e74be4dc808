// ctnet/core/type_list.hpp — a minimal compile-time list of types.
//
// Requires: C++20. Guarantees: TypeList is empty and carries only its elements; the helpers below
// are pure type computations (no run-time cost).
#pragma once

#include <cstddef>
#include <tuple>

namespace ctnet {

template <class... T>
struct TypeList {
  static constexpr std::size_t size = sizeof...(T);
};

template <class A, class B>
struct concat_lists;
template <class... A, class... B>
struct concat_lists<TypeList<A...>, TypeList<B...>> {
  using type = TypeList<A..., B...>;
};

template <class List>
struct list_to_tuple;
template <class... T>
struct list_to_tuple<TypeList<T...>> {
  using type = std::tuple<T...>;
};

}  // namespace ctnet
