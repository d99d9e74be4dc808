// ctnet/core/diagnostics.hpp — readable compile errors for shape rules.
//
// Requires: C++20 (g++ 12). Guarantees: a broken rule fails one static_assert whose message starts with
// "ctnet:" and names the rule, inside a class template whose arguments name the layer position, the
// layer spec, the actual input shape and what was expected. g++ prints those arguments on the line just
// above the message ("In instantiation of 'struct ctnet::rule::kernel_fits<ctnet::at_layer<6,
// ctnet::Conv2d<16, 3> >, ctnet::input<8, 2, 2>, ctnet::expected_at_least<3, 3>, false>'"), because a
// static_assert message itself cannot be computed in C++20.
#pragma once

namespace ctnet {

// Diagnostic tags: they exist only to be printed by the compiler.
template <int Position, class Spec>
struct at_layer {};
template <int... Dims>
struct input {};
template <int... Dims>
struct expected_at_least {};
template <int Rank>
struct expected_rank {};
template <int... Dims>
struct expected_shape {};
struct expected_positive {};
struct expected_probability_in_0_1 {};
template <long Limit>
struct expected_at_most {};
template <long Actual>
struct actual {};

template <class... Shapes>
struct expected_tuple {};

template <class Shape>
struct input_of;
template <template <int...> class S, int... D>
struct input_of<S<D...>> {
  using type = input<D...>;
};
template <template <class...> class S, class... C>
struct input_of<S<C...>> {
  using type = S<C...>;  // a TupleShape names itself
};

}  // namespace ctnet

// One rule = one class template with one static_assert. Instantiating it with Ok == false fails
// compilation once, with the rule's message and the context in the template arguments.
#define CTNET_SHAPE_RULE(rule_name, message)           \
  namespace ctnet::rule {                              \
  template <class Where, class Got, class Expected, bool Ok> \
  struct rule_name {                                   \
    static_assert(Ok, message);                        \
    /* true: a failure has already been reported */ \
    static constexpr bool value = true;                \
  };                                                   \
  }

CTNET_SHAPE_RULE(input_rank, "ctnet: Input: an input must be Input<N> (features) or Input<C, H, W> (image)")
CTNET_SHAPE_RULE(input_positive, "ctnet: Input: every input dimension must be positive")
CTNET_SHAPE_RULE(needs_image_input, "ctnet: layer needs a CxHxW input; it got a flat input (put it before Flatten)")
CTNET_SHAPE_RULE(needs_flat_input, "ctnet: layer needs a flat input; it got a CxHxW input (insert Flatten before it)")
CTNET_SHAPE_RULE(positive_size, "ctnet: layer hyper-parameters (channels, features, kernel, stride) must be positive")
CTNET_SHAPE_RULE(non_negative_padding, "ctnet: padding must be zero or positive")
CTNET_SHAPE_RULE(kernel_fits, "ctnet: Conv2d: input (with padding) is smaller than the kernel")
CTNET_SHAPE_RULE(window_fits, "ctnet: pooling window is larger than its input")
CTNET_SHAPE_RULE(dropout_probability, "ctnet: dropout probability must be in [0, 1)")
CTNET_SHAPE_RULE(parameter_budget, "ctnet: network exceeds its parameter budget")
CTNET_SHAPE_RULE(output_shape_is, "ctnet: network output shape differs from the expected shape")
CTNET_SHAPE_RULE(unknown_option, "ctnet: unknown layer option (use Stride<S>, Padding<P> or NoBias where the layer takes them)")
CTNET_SHAPE_RULE(single_tensor_input, "ctnet: layer takes one tensor but its input is a tuple (several inputs or branches): combine them first with Concat, or route them with PerInput or Select")
CTNET_SHAPE_RULE(tuple_input, "ctnet: layer needs a tuple input (several inputs or branches); it got one tensor")
CTNET_SHAPE_RULE(branch_count, "ctnet: PerInput needs exactly one branch per input component")
CTNET_SHAPE_RULE(concat_ranks, "ctnet: Concat: components must be all flat (joined along features) or all CxHxW (joined along channels)")
CTNET_SHAPE_RULE(concat_spatial, "ctnet: Concat: CxHxW components must have the same height and width")
CTNET_SHAPE_RULE(residual_shape, "ctnet: Residual: the block must return its input's shape, to be added to its input")
CTNET_SHAPE_RULE(select_index, "ctnet: Select: index out of range for the tuple")
CTNET_SHAPE_RULE(index_input, "ctnet: layer needs a single index per sample (Input<1>)")
