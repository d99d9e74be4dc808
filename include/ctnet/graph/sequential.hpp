// ctnet/graph/sequential.hpp — Input, Seq blocks and Sequential networks: a network is a type.
//
// Requires: C++20. Guarantees: Sequential<Input<...>, Layers...> binds every layer to the output shape of
// the one before it, at compile time, and is itself a bound layer (a BoundSequential,
// graph/bound_sequential.hpp), so it can be used wherever a bound layer can. Seq<...> and Sequential<...>
// without an Input are blocks: they are spliced into the enclosing list, so layers are numbered flat, as
// PyTorch numbers an nn.Sequential (parameter names "3.weight", "4.running_mean"). A bad Input is the
// first error reported. Including it also gives the network checks (graph/network_checks.hpp).
#pragma once

#include "../core/diagnostics.hpp"
#include "../core/shape.hpp"
#include "binding.hpp"
#include "bound_sequential.hpp"
#include "network_checks.hpp"

namespace ctnet {

template <int... Dims>
struct Input {
  using shape = Shape<Dims...>;
};

// A block: layers without an Input, spliced into the enclosing Sequential. As a layer of a graph
// combinator it binds like any other layer.
template <class... Layers>
struct Seq {
  // As a branch or a residual block: its layers are numbered from 0 within it.
  template <class In, int Position>
  using bind = BoundSequential<In, 0, typename detail::splice<Layers...>::type>;
};

// Without an Input first, Sequential is a block like Seq.
template <class... Layers>
struct Sequential : Seq<Layers...> {};

namespace detail {
// Checked first (it is the base's argument), so a bad Input is the first error reported.
template <int... Dims>
struct checked_input {
  static_assert(rule::input_rank<Input<Dims...>, input<Dims...>, expected_rank<3>,
                                 sizeof...(Dims) == 1 || sizeof...(Dims) == 3>::value);
  static_assert(rule::input_positive<Input<Dims...>, input<Dims...>, expected_positive, ((Dims > 0) && ...)>::value);
  using shape = Shape<(Dims > 0 ? Dims : 1)...>;
};
}  // namespace detail

// Several inputs: Sequential<Inputs<Input<1, 28, 28>, Input<1>>, ...> takes a TupleShape; a batch is
// passed component after component ([n x 784] images, then [n x 1] numbers).
template <class... In>
struct Inputs {};

namespace detail {
template <class I>
struct checked_input_of;
template <int... Dims>
struct checked_input_of<Input<Dims...>> {
  using shape = typename checked_input<Dims...>::shape;
};
}  // namespace detail

template <class... In, class... Layers>
struct Sequential<Inputs<In...>, Layers...>
    : BoundSequential<TupleShape<typename detail::checked_input_of<In>::shape...>, 0,
                      typename detail::splice<Layers...>::type> {};

template <int... Dims, class... Layers>
struct Sequential<Input<Dims...>, Layers...>
    : BoundSequential<typename detail::checked_input<Dims...>::shape, 0, typename detail::splice<Layers...>::type> {};

}  // namespace ctnet
