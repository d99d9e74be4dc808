// ctnet/graph/network_checks.hpp — compile-time checks on a whole network, for static_assert.
//
// Requires: C++20; Net a bound network (a Sequential with an Input, or any bound layer). Guarantees:
// within_parameter_budget and has_output_shape are constant expressions that are true when the check
// holds, and otherwise fail with one "ctnet:" error naming the actual and the expected value.
#pragma once

#include <type_traits>

#include "../core/diagnostics.hpp"
#include "../core/shape.hpp"

namespace ctnet {

// Compile-time budget check that names the network's actual parameter count when it fails:
// static_assert(ctnet::within_parameter_budget<Net, 8000>());
template <class Net, long Limit>
constexpr bool within_parameter_budget() {
  return rule::parameter_budget<Net, actual<Net::parameter_count>, expected_at_most<Limit>,
                                (Net::parameter_count <= Limit)>::value;
}

namespace detail {
template <class S>
struct expected_of;
template <int... D>
struct expected_of<Shape<D...>> {
  using type = expected_shape<D...>;
};
template <class... S>
struct expected_of<TupleShape<S...>> {
  using type = expected_tuple<S...>;
};
}  // namespace detail

// Output-shape check that names the actual and the expected shape when it fails:
// static_assert(ctnet::has_output_shape<Net, Shape<10>>());
template <class Net, class Expected>
constexpr bool has_output_shape() {
  return rule::output_shape_is<Net, typename input_of<typename Net::output_shape_t>::type,
                               typename detail::expected_of<Expected>::type,
                               std::is_same_v<typename Net::output_shape_t, Expected>>::value;
}

}  // namespace ctnet
