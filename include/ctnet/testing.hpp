// ctnet/testing.hpp — compile-time checks of a network's shape and budgets, for a user's own tests.
//
// Requires: C++20; Net a bound network (Sequential<Input<...>, ...>). Guarantees: each check is a
// static_assert usable at namespace scope or inside a doctest TEST_CASE; when it fails, the compiler
// prints one "ctnet: ..." message from a rule template whose arguments name the network, what it has and
// what was expected (actual<N>, expected_at_most<L>, expected_shape<...>). The functions return true
// when the check holds, so they also read as CHECK(ctnet::has_layer_count<Net, 7>()) in a test body.
// Programs that must NOT compile are tested with the CMake function ctnet_add_compile_fail_test
// (cmake/ctnetTesting.cmake, installed with the package).
#pragma once

#include "core/diagnostics.hpp"
#include "core/layer_concept.hpp"
#include "graph/sequential.hpp"

CTNET_SHAPE_RULE(layer_count_is, "ctnet: network has a different number of layers than expected")
CTNET_SHAPE_RULE(macs_budget, "ctnet: network exceeds its multiply-add budget per sample")
CTNET_SHAPE_RULE(receptive_field_at_least, "ctnet: network's receptive field is smaller than required")
CTNET_SHAPE_RULE(input_shape_is, "ctnet: network input shape differs from the expected shape")

namespace ctnet {

template <long N>
struct expected_exactly {};

// within_parameter_budget<Net, Limit>() and has_output_shape<Net, Shape<...>>() live with Sequential.

// The number of layers at the top level (a Seq block counts its layers; a Residual counts as one).
template <class Net, long Count>
constexpr bool has_layer_count() {
  return rule::layer_count_is<Net, actual<long(Net::layer_count)>, expected_exactly<Count>,
                              long(Net::layer_count) == Count>::value;
}

template <class Net, long Limit>
constexpr bool within_macs_budget() {
  return rule::macs_budget<Net, actual<Net::macs>, expected_at_most<Limit>, (Net::macs <= Limit)>::value;
}

// Receptive field of the network's last layer, in input pixels (0 where branches leave it undefined).
template <class Net, int Pixels>
constexpr bool has_receptive_field_at_least() {
  return rule::receptive_field_at_least<Net, actual<Net::rf_kernel>, expected_at_least<Pixels>,
                                        (Net::rf_kernel >= Pixels)>::value;
}

template <class Net, class Expected>
constexpr bool has_input_shape() {
  return rule::input_shape_is<Net, typename input_of<typename Net::input_shape_t>::type,
                              typename detail::expected_of<Expected>::type,
                              std::is_same_v<typename Net::input_shape_t, Expected>>::value;
}

// A user's layer satisfies the layer contract when bound to In at Position (what Sequential checks).
template <class Spec, class In, int Position = 0>
constexpr bool satisfies_layer_contract() {
  return detail::check_layer_contract<Spec, typename Spec::template bind<In, Position>, Position>();
}

}  // namespace ctnet

// The same as statements. The shape (and only it) may contain commas: CTNET_CHECK_OUTPUT_SHAPE(Net, Shape<4, 7, 7>).
#define CTNET_CHECK_OUTPUT_SHAPE(Net, ...) static_assert(::ctnet::has_output_shape<Net, __VA_ARGS__>())
#define CTNET_CHECK_INPUT_SHAPE(Net, ...) static_assert(::ctnet::has_input_shape<Net, __VA_ARGS__>())
#define CTNET_CHECK_PARAMETER_BUDGET(Net, limit) static_assert(::ctnet::within_parameter_budget<Net, (limit)>())
#define CTNET_CHECK_MACS_BUDGET(Net, limit) static_assert(::ctnet::within_macs_budget<Net, (limit)>())
#define CTNET_CHECK_LAYER_COUNT(Net, count) static_assert(::ctnet::has_layer_count<Net, (count)>())
#define CTNET_CHECK_RECEPTIVE_FIELD_AT_LEAST(Net, pixels) \
  static_assert(::ctnet::has_receptive_field_at_least<Net, (pixels)>())
// The spec binds to the input shape without breaking the layer contract.
#define CTNET_CHECK_LAYER_CONTRACT(Spec, ...) \
  static_assert(::ctnet::satisfies_layer_contract<Spec, __VA_ARGS__>())
