// ctnet/graph/branches.hpp — PerInput<B...> and Parallel<B...>: branches side by side, shapes static.
//
// Requires: PerInput a TupleShape input with one branch per component; Parallel any input, given to
// every branch. A branch is a layer or a block (Seq<...>). Guarantees: the output is the TupleShape of
// the branch outputs (use Concat to join them, Select to pick one, or keep them as output heads);
// Parallel's input gradient is the sum of its branches'. Parameters are named "<layer>.<branch>.<...>".
#pragma once

#include <array>
#include <string>
#include <tuple>
#include <utility>

#include "../core/diagnostics.hpp"
#include "../core/layer.hpp"
#include "../core/type_list.hpp"
#include "sequential.hpp"

namespace ctnet {

namespace detail {

// Binds spec i to input shape i, numbering positions one after another from Position.
template <int Position, class Bound, class Specs, class Inputs>
struct bind_branches;
template <int Position, class... Bound, class... Ins>
struct bind_branches<Position, TypeList<Bound...>, TypeList<>, TypeList<Ins...>> {
  using type = TypeList<Bound...>;  // more inputs than branches: reported by PerInput's rule
};
template <int Position, class... Bound, class S, class... Ss>
struct bind_branches<Position, TypeList<Bound...>, TypeList<S, Ss...>, TypeList<>> {
  using type = TypeList<Bound...>;  // more branches than inputs: reported by PerInput's rule
};
template <int Position, class... Bound, class S, class... Ss, class In, class... Ins>
struct bind_branches<Position, TypeList<Bound...>, TypeList<S, Ss...>, TypeList<In, Ins...>> {
  using layer = typename bind_one<S, In, Position>::type;
  using type = typename bind_branches<Position + 1, TypeList<Bound..., layer>, TypeList<Ss...>,
                                     TypeList<Ins...>>::type;
};

template <class Shape, class Specs>
struct repeat_shape;
template <class Shape, class... Specs>
struct repeat_shape<Shape, TypeList<Specs...>> {
  template <class>
  using same = Shape;
  using type = TypeList<same<Specs>...>;
};

template <class In>
struct components_of {
  using type = TypeList<In>;
};
template <class... C>
struct components_of<TupleShape<C...>> {
  using type = TypeList<C...>;
};

// The bound branches, their facts and the shared forward/backward walk. PerInput and Parallel differ
// only in what each branch reads and in how input gradients combine.
template <class Spec, class In, int Position, class Children, bool Shared>
struct BoundBranches;
template <class Spec, class In, int Position, class... Child, bool Shared>
struct BoundBranches<Spec, In, Position, TypeList<Child...>, Shared>
    : BoundLayerBase<In, TupleShape<typename Child::output_shape_t...>, Position> {
  using spec = Spec;
  using Out = TupleShape<typename Child::output_shape_t...>;
  using children = std::tuple<Child...>;
  static constexpr std::size_t branch_count = sizeof...(Child);
  static constexpr bool is_composite = true;
  static constexpr bool accepts_tuple = true;
  static constexpr int rf_kernel = 0;  // branches have no single receptive field
  static constexpr auto param_offsets = prefix_sums(std::array<long, branch_count>{Child::parameter_count...});
  static constexpr auto buf_offsets = prefix_sums(std::array<long, branch_count>{Child::buffer_count...});
  static constexpr auto work_ps = prefix_sums(std::array<long, branch_count>{Child::workspace_per_sample...});
  static constexpr auto work_fixed = prefix_sums(std::array<long, branch_count>{Child::workspace_fixed...});
  static constexpr auto infer_ps = prefix_sums(std::array<long, branch_count>{Child::inference_per_sample...});
  static constexpr long parameter_count = param_offsets[branch_count];
  static constexpr long buffer_count = buf_offsets[branch_count];
  static constexpr long macs = (0L + ... + Child::macs);
  // Parallel keeps one input-sized buffer to sum its branches' input gradients.
  static constexpr long gradient_scratch = Shared ? In::size : 0;
  static constexpr long workspace_per_sample = gradient_scratch + work_ps[branch_count];
  static constexpr long workspace_fixed = work_fixed[branch_count];
  static constexpr long inference_per_sample = infer_ps[branch_count];

  template <class F>
  static void for_each_child(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (f.template operator()<I, std::tuple_element_t<I, children>>(), ...);
    }(std::make_index_sequence<branch_count>{});
  }
  static std::string child_name(std::size_t i) { return std::to_string(i); }
  static constexpr long child_parameter_offset(std::size_t i) { return param_offsets[i]; }
  static constexpr long child_buffer_offset(std::size_t i) { return buf_offsets[i]; }

  template <class T>
  static void init(T* params, T* buffers, Generator& gen) {
    for_each_child([&]<std::size_t I, class C>() {
      Generator child(gen.seed() ^ child_salt(0, Position, I), RngStream::init, static_cast<std::uint64_t>(C::position));
      C::init(params + param_offsets[I], buffers + buf_offsets[I], child);
    });
  }

  template <std::size_t I, class T>
  static const T* branch_input(const T* x, long n) {
    if constexpr (Shared) {
      return x;
    } else {
      return x + In::offsets[I] * n;
    }
  }
  template <std::size_t I, class T>
  static Context<T> branch_context(const Context<T>& ctx, long n) {
    const long work = ctx.inference ? infer_ps[I] * n + work_fixed[I]
                                    : (gradient_scratch + work_ps[I]) * n + work_fixed[I];
    return ctx.child(param_offsets[I], buf_offsets[I], work, Position, I);
  }

  template <class B, class T>
  static void forward(const Context<T>& ctx, const T* x, T* y, long n) {
    for_each_child([&]<std::size_t I, class C>() {
      C::template forward<B>(branch_context<I>(ctx, n), branch_input<I>(x, n), y + Out::offsets[I] * n, n);
    });
  }

  template <class B, class T>
  static void backward(const Context<T>& ctx, const T* x, const T* y, const T* gy, T* gx, long n) {
    for_each_child([&]<std::size_t I, class C>() {
      T* g_in = nullptr;
      if (gx) {
        if constexpr (Shared) g_in = I == 0 ? gx : ctx.work;
        else g_in = gx + In::offsets[I] * n;
      }
      C::template backward<B>(branch_context<I>(ctx, n), branch_input<I>(x, n), y + Out::offsets[I] * n,
                              gy + Out::offsets[I] * n, g_in, n);
      if constexpr (Shared) {
        if (gx && I > 0) B::accumulate(static_cast<const T*>(ctx.work), gx, n * In::size);
      }
    });
  }
};

}  // namespace detail

// One branch per input component: PerInput<ImageTower, OneHot<10>> on (1x28x28, 1).
template <class... Branches>
struct PerInput {
  static constexpr bool takes_tuple = true;
  template <class In, int Position>
  struct bind : detail::BoundBranches<PerInput, In, Position,
                                      typename detail::bind_branches<0, TypeList<>, TypeList<Branches...>,
                                                                     typename detail::components_of<In>::type>::type,
                                      false> {
    static_assert(rule::tuple_input<at_layer<Position, PerInput>, In, void, is_tuple_shape_v<In>>::value);
    static_assert(rule::branch_count<at_layer<Position, PerInput>, In, expected_rank<int(sizeof...(Branches))>,
                                     !is_tuple_shape_v<In> || In::count == int(sizeof...(Branches))>::value);
    static std::string describe() { return "PerInput(" + std::to_string(sizeof...(Branches)) + " branches)"; }
  };
};

// Every branch reads the same input: Parallel<Seq<Linear<10>, LogSoftmax>, Seq<Linear<19>, LogSoftmax>>.
template <class... Branches>
struct Parallel {
  static constexpr bool takes_tuple = true;  // each branch decides what it takes
  template <class In, int Position>
  struct bind
      : detail::BoundBranches<Parallel, In, Position,
                              typename detail::bind_branches<0, TypeList<>, TypeList<Branches...>,
                                                             typename detail::repeat_shape<In, TypeList<Branches...>>::type>::type,
                              true> {
    static std::string describe() { return "Parallel(" + std::to_string(sizeof...(Branches)) + " branches)"; }
  };
};

// Several output heads on the same features: a Parallel that ends a network.
template <class... HeadBranches>
using Heads = Parallel<HeadBranches...>;

}  // namespace ctnet
