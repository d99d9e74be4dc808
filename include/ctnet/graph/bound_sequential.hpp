// ctnet/graph/bound_sequential.hpp — BoundSequential: a chain of bound layers run one after another.
//
// Requires: C++20; a list of specs (graph/binding.hpp binds them). Guarantees: the chain is itself a
// bound layer (input_shape, output_shape, parameter_count, macs, workspace sizes, init, forward,
// backward), its parameters, buffers and workspace laid out layer after layer at compile-time offsets.
// Layers run one after another, except where the backend declares a fused op (graph/fusion_plan.hpp): in
// training a BatchNorm, ReLU [, Dropout] run is one chain, in inference a Conv2d absorbs the BatchNorm and
// ReLU after it and dropout-like layers pass their buffer on; fused runs give the layers' values
// (batch-norm's backward sums may be added in another order) but do not write the absorbed layers' own
// outputs.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>

#include "../core/layer.hpp"
#include "../core/layer_concept.hpp"
#include "../core/rng.hpp"
#include "../core/type_list.hpp"
#include "binding.hpp"
#include "fusion_plan.hpp"

namespace ctnet {

// A chain of layers bound to input shape In, numbered from Position.
template <class In, int Position, class Specs>
struct BoundSequential;

template <class In, int Position, class... Specs>
struct BoundSequential<In, Position, TypeList<Specs...>> {
  static_assert(sizeof...(Specs) > 0, "ctnet: Sequential: a network needs at least one layer after its Input");
  using chain = detail::bind_chain<In, Position, TypeList<>, Specs...>;
  using layer_list = typename chain::type;
  using layers = typename list_to_tuple<layer_list>::type;
  using facts = detail::layer_facts<layer_list>;
  using input_shape_t = In;
  using output_shape_t = typename chain::output;
  static constexpr In input_shape{};
  static constexpr output_shape_t output_shape{};
  static constexpr int position = Position;
  static constexpr bool accepts_tuple = true;  // its first layer decides
  static constexpr bool is_composite = true;
  static constexpr std::size_t layer_count = facts::count;
  template <std::size_t I>
  using layer = std::tuple_element_t<I, layers>;

  static constexpr auto parameter_offsets = detail::prefix_sums(facts::params);
  static constexpr auto buffer_offsets = detail::prefix_sums(facts::buffers);
  static constexpr long parameter_count = parameter_offsets[layer_count];
  static constexpr long buffer_count = buffer_offsets[layer_count];
  static constexpr long macs = facts::total_macs;
  static constexpr long activation_floats_per_sample = [] {
    long s = In::size;
    for (long o : facts::outputs) s += o;
    return s;
  }();

  // Receptive field and jump (product of strides) after each layer, in input pixels.
  static constexpr std::array<int, layer_count> receptive_fields = [] {
    std::array<int, layer_count> rf{};
    int r = 1, j = 1;
    for (std::size_t i = 0; i < layer_count; ++i) {
      if (facts::kernels[i] == 0) r = 0;  // a combinator: undefined from here on
      if (r > 0) r += (facts::kernels[i] - 1) * j;
      j *= facts::strides[i];
      rf[i] = r;
    }
    return rf;
  }();
  static constexpr std::array<int, layer_count> jumps = [] {
    std::array<int, layer_count> js{};
    int j = 1;
    for (std::size_t i = 0; i < layer_count; ++i) js[i] = (j *= facts::strides[i]);
    return js;
  }();
  static constexpr int rf_kernel = receptive_fields[layer_count - 1];
  static constexpr int rf_stride = jumps[layer_count - 1];

  // Workspace per batch of n: intermediate activations, two gradient buffers, then each layer's own.
  static constexpr auto activation_offsets = [] {
    std::array<long, layer_count> inner{};
    for (std::size_t i = 0; i + 1 < layer_count; ++i) inner[i] = facts::outputs[i];
    return detail::prefix_sums(inner);
  }();
  static constexpr long max_inner_activation = [] {
    long m = 0;
    for (std::size_t i = 0; i + 1 < layer_count; ++i) m = std::max(m, facts::outputs[i]);
    return m;
  }();
  static constexpr auto layer_work_per_sample = detail::prefix_sums(facts::work_per_sample);
  static constexpr auto layer_work_fixed = detail::prefix_sums(facts::work_fixed);
  static constexpr long workspace_per_sample =
      activation_offsets[layer_count] + 2 * max_inner_activation + layer_work_per_sample[layer_count];
  static constexpr long workspace_fixed = layer_work_fixed[layer_count];
  static constexpr long workspace_size(long n) { return workspace_per_sample * n + workspace_fixed; }
  // Inference keeps no activations for backward: two alternating buffers, then each layer's own part.
  static constexpr auto layer_inference_per_sample = detail::prefix_sums(facts::inference_per_sample);
  static constexpr long inference_per_sample = 2 * max_inner_activation + layer_inference_per_sample[layer_count];
  static constexpr long inference_workspace_size(long n) { return inference_per_sample * n + workspace_fixed; }

  template <class T>
  static void init(T* params, T* buffers, std::uint64_t seed) {
    for_each_layer([&]<std::size_t I, class L>() {
      Generator gen(seed, RngStream::init, static_cast<std::uint64_t>(L::position));
      L::init(params + parameter_offsets[I], buffers + buffer_offsets[I], gen);
    });
  }
  // As a nested block: each layer draws from the stream of its own (globally unique) position.
  template <class T>
  static void init(T* params, T* buffers, Generator& gen) {
    init(params, buffers, gen.seed());
  }

  // Children, for tools that walk nested networks (graph/visit.hpp): layer I is named by its index.
  template <class F>
  static void for_each_child(F&& f) {
    for_each_layer(f);
  }
  static std::string child_name(std::size_t i) { return std::to_string(i); }
  static constexpr long child_parameter_offset(std::size_t i) { return parameter_offsets[i]; }
  static constexpr long child_buffer_offset(std::size_t i) { return buffer_offsets[i]; }
  static std::string describe() { return "Sequential(" + std::to_string(layer_count) + " layers)"; }

  template <class B, class T>
  static void forward(const Context<T>& ctx, const T* x, T* y, long n) {
    static_assert(detail::check_kernels<B, T, false>(static_cast<layer_list*>(nullptr)));
    if (ctx.inference) {
      T* const buffers[2] = {ctx.work, ctx.work + max_inner_activation * n};
      for_each_layer([&]<std::size_t I, class L>() {
        // (Declared inside the lambda: nvcc does not take a captured constexpr local as a constant.)
        constexpr auto plan = inference_plan<B>();
        if constexpr (plan.role[I] == detail::InferenceRole::run) {
          const T* in = plan.input[I] < 0 ? x : buffers[plan.input[I]];
          T* out = plan.output[I] < 0 ? y : buffers[plan.output[I]];
          const long work = (2 * max_inner_activation + layer_inference_per_sample[I]) * n + layer_work_fixed[I];
          const Context<T> lctx = ctx.shifted(parameter_offsets[I], buffer_offsets[I], work);
          if constexpr (plan.fuse_bn[I] || plan.fuse_relu[I]) {
            ConvEpilogue<T> e;
            e.relu = plan.fuse_relu[I];
            std::array<T, std::size_t(L::geometry.out_c)> mean{}, inv_std{};
            if constexpr (plan.fuse_bn[I]) {
              using Norm = layer<I + 1>;
              const Context<T> norm = ctx.shifted(parameter_offsets[I + 1], buffer_offsets[I + 1], 0);
              Norm::eval_statistics(norm, mean.data(), inv_std.data());
              e.mean = mean.data();
              e.inv_std = inv_std.data();
              e.gamma = norm.params;
              e.beta = norm.params + Norm::channels;
            }
            L::template forward_with_epilogue<B>(lctx, in, out, n, e);
          } else {
            L::template forward<B>(lctx, in, out, n);
          }
        }
      });
      if constexpr (inference_plan<B>().copy_input_to_output) B::copy(x, y, n * In::size);
      return;
    }
    std::size_t next = 0;  // layers before it ran inside a fused chain
    for_each_layer([&]<std::size_t I, class L>() {
      constexpr auto chains = training_chains<B>();
      if (I < next) return;
      const T* in = I == 0 ? x : activation<I - 1>(ctx.work, n);
      if constexpr (chains.length[I] > 0) {
        if (ctx.training) {
          constexpr std::size_t last = I + std::size_t(chains.length[I]) - 1;
          T* out = last + 1 == layer_count ? y : activation<last>(ctx.work, n);
          if constexpr (chains.length[I] == 3) {
            using Drop = layer<last>;
            L::template forward_chain<B>(layer_context<I>(ctx, n), in, out, n, Drop::mask(layer_context<last>(ctx, n)),
                                         ctx.seed ^ ctx.salt, Drop::position, Drop::spec::p);
          } else {
            L::template forward_chain<B>(layer_context<I>(ctx, n), in, out, n, nullptr, 0, 0, 0.0f);
          }
          next = last + 1;
          return;
        }
      }
      T* out = I + 1 == layer_count ? y : activation<I>(ctx.work, n);
      L::template forward<B>(layer_context<I>(ctx, n), in, out, n);
    });
  }

  // How inference runs on this backend (fusions only where it offers the fused op).
  template <class B>
  static constexpr auto inference_plan() {
    return detail::make_inference_plan(facts::kinds, requires { requires B::fuses_conv_epilogue; });
  }

  // The training chains this backend fuses (none where it offers no fused op).
  template <class B>
  static constexpr auto training_chains() {
    return detail::make_training_chains(facts::kinds, requires { requires B::fuses_bn_relu_dropout; });
  }

  // gx may be null: the input gradient is then not computed.
  template <class B, class T>
  static void backward(const Context<T>& ctx, const T* x, const T* y, const T* gy, T* gx, long n) {
    static_assert(detail::check_kernels<B, T, true>(static_cast<layer_list*>(nullptr)));
    const T* g_out = gy;
    std::size_t stop = layer_count;  // layers from it on ran inside a fused chain
    for_each_layer_reversed([&]<std::size_t I, class L>() {
      constexpr auto chains = training_chains<B>();
      if (I >= stop) return;
      if constexpr (chains.start[I] >= 0) {
        if (ctx.training) {
          constexpr std::size_t first = std::size_t(chains.start[I]);
          using Norm = layer<first>;
          // The chain's input gradient goes where its first layer's would; for a two-layer chain that is
          // the buffer holding g_out, which the fused backward may overwrite in place.
          T* g_in = first == 0 ? gx : gradient_buffer(ctx.work, n, first % 2);
          const T* chain_in = first == 0 ? x : activation<first - 1>(ctx.work, n);
          if constexpr (I - first == 2)
            Norm::template backward_chain<B>(layer_context<first>(ctx, n), chain_in, g_out, g_in, n,
                                             L::mask(layer_context<I>(ctx, n)), L::spec::p);
          else
            Norm::template backward_chain<B>(layer_context<first>(ctx, n), chain_in, g_out, g_in, n, nullptr, 0.0f);
          g_out = g_in;
          stop = first;
          return;
        }
      }
      const T* in = I == 0 ? x : activation<I - 1>(ctx.work, n);
      const T* out = I + 1 == layer_count ? y : activation<I>(ctx.work, n);
      T* g_in = I == 0 ? gx : gradient_buffer(ctx.work, n, I % 2);
      L::template backward<B>(layer_context<I>(ctx, n), in, out, g_out, g_in, n);
      g_out = g_in;
    });
  }

  template <class F>
  static void for_each_layer(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (f.template operator()<I, layer<I>>(), ...);
    }(std::make_index_sequence<layer_count>{});
  }
  template <class F>
  static void for_each_layer_reversed(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (f.template operator()<layer_count - 1 - I, layer<layer_count - 1 - I>>(), ...);
    }(std::make_index_sequence<layer_count>{});
  }

  // Workspace views, public for tools that step through layers (inspect/profile.hpp).
  template <std::size_t I, class T>
  static T* activation(T* work, long n) {
    return work + activation_offsets[I] * n;
  }
  template <class T>
  static T* gradient_buffer(T* work, long n, std::size_t which) {
    return work + (activation_offsets[layer_count] + long(which) * max_inner_activation) * n;
  }
  template <std::size_t I, class T>
  static Context<T> layer_context(const Context<T>& ctx, long n) {
    const long work = (activation_offsets[layer_count] + 2 * max_inner_activation + layer_work_per_sample[I]) * n +
                      layer_work_fixed[I];
    return ctx.shifted(parameter_offsets[I], buffer_offsets[I], work);
  }
};

}  // namespace ctnet
