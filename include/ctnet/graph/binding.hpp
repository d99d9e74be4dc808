// ctnet/graph/binding.hpp — how a list of layer specs becomes a list of bound layers.
//
// Requires: C++20; specs with a nested bind<In, Position>. Guarantees: Seq and Sequential blocks (without
// an Input) are spliced flat into the list, so layers are numbered as PyTorch numbers an nn.Sequential;
// each spec is bound to the output shape of the one before it and checked against the layer contract
// (core/layer_concept.hpp), a broken one reported once and replaced by a pass-through so no cascade of
// errors follows; layer_facts gathers the bound layers' compile-time sizes for BoundSequential.
#pragma once

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>

#include "../core/diagnostics.hpp"
#include "../core/layer.hpp"
#include "../core/layer_concept.hpp"
#include "../core/shape.hpp"
#include "../core/type_list.hpp"

namespace ctnet {

template <class... Layers>
struct Seq;
template <class... Layers>
struct Sequential;

namespace detail {

template <class L>
struct splice_one {
  using type = TypeList<L>;
};
template <class... Ls>
struct splice;
template <>
struct splice<> {
  using type = TypeList<>;
};
template <class L, class... Rest>
struct splice<L, Rest...> {
  using type = typename concat_lists<typename splice_one<L>::type, typename splice<Rest...>::type>::type;
};
template <class... L>
struct splice_one<Seq<L...>> {
  using type = typename splice<L...>::type;
};
template <class... L>
struct splice_one<Sequential<L...>> {
  using type = typename splice<L...>::type;
};

// Binds specs one after another; each sees the previous output shape and its flat position.
template <class In, int Position, class Bound, class... Specs>
struct bind_chain {
  using type = Bound;
  using output = In;
};
// Whether a spec takes a TupleShape input, decided from the spec alone (binding a one-tensor layer to a
// tuple would fire that layer's own rank rule first, with a misleading message). Combinators say so with
// `takes_tuple`; a block takes what its first layer takes.
template <class S>
struct spec_takes_tuple : std::bool_constant<requires { requires S::takes_tuple; }> {};
template <class List>
struct first_takes_tuple : std::false_type {};
template <class F, class... R>
struct first_takes_tuple<TypeList<F, R...>> : spec_takes_tuple<F> {};
template <class... L>
struct spec_takes_tuple<Seq<L...>> : first_takes_tuple<typename splice<L...>::type> {};
template <class... L>
struct spec_takes_tuple<Sequential<L...>> : first_takes_tuple<typename splice<L...>::type> {};

// Every bound layer is checked against the layer contract (core/layer_concept.hpp): each missing member
// is reported once, and a broken layer is replaced by a pass-through so no cascade follows.
template <class S, class In, int Position>
struct bind_one {
  using bound = typename S::template bind<In, Position>;
  using type = std::conditional_t<check_layer_contract<S, bound, Position>(), bound, broken_layer<In, Position>>;
};
// A layer that takes one tensor, given a tuple, is reported once and then bound to the first
// component, so the error is not followed by a cascade.
template <class S, class... C, int Position>
  requires(!spec_takes_tuple<S>::value)
struct bind_one<S, TupleShape<C...>, Position> {
  static_assert(rule::single_tensor_input<at_layer<Position, S>, TupleShape<C...>, void, false>::value);
  using type = typename bind_one<S, std::tuple_element_t<0, std::tuple<C...>>, Position>::type;
};

template <class In, int Position, class... Bound, class S, class... Rest>
struct bind_chain<In, Position, TypeList<Bound...>, S, Rest...> {
  using layer = typename bind_one<S, In, Position>::type;
  using next = bind_chain<typename layer::output_shape_t, Position + 1,
                          TypeList<Bound..., layer>, Rest...>;
  using type = typename next::type;
  using output = typename next::output;
};

template <class Layers>
struct layer_facts;
template <class... L>
struct layer_facts<TypeList<L...>> {
  static constexpr std::size_t count = sizeof...(L);
  static constexpr std::array<long, sizeof...(L)> params{L::parameter_count...};
  static constexpr std::array<long, sizeof...(L)> buffers{L::buffer_count...};
  static constexpr std::array<long, sizeof...(L)> outputs{L::output_shape_t::size...};
  static constexpr std::array<long, sizeof...(L)> work_per_sample{L::workspace_per_sample...};
  static constexpr std::array<long, sizeof...(L)> work_fixed{L::workspace_fixed...};
  static constexpr std::array<long, sizeof...(L)> inference_per_sample{L::inference_per_sample...};
  static constexpr std::array<int, sizeof...(L)> kernels{L::rf_kernel...};
  static constexpr std::array<int, sizeof...(L)> strides{L::rf_stride...};
  static constexpr std::array<LayerKind, sizeof...(L)> kinds{L::kind...};
  static constexpr long total_macs = (0L + ... + L::macs);
};

template <std::size_t N>
constexpr std::array<long, N + 1> prefix_sums(const std::array<long, N>& v) {
  std::array<long, N + 1> out{};
  for (std::size_t i = 0; i < N; ++i) out[i + 1] = out[i] + v[i];
  return out;
}

}  // namespace detail

}  // namespace ctnet
