// ctnet/graph/residual.hpp — Residual<Block>: y = x + Block(x), a skip connection.
//
// Requires: Block (a layer or a Seq) returns its input's shape. Guarantees: one "ctnet:" error naming the
// shapes otherwise; the gradient reaches the input both through the block and directly.
#pragma once

#include <string>
#include <tuple>
#include <utility>

#include "../core/diagnostics.hpp"
#include "../core/layer.hpp"
#include "sequential.hpp"

namespace ctnet {

template <class Block>
struct Residual {
  static constexpr bool takes_tuple = detail::spec_takes_tuple<Block>::value;
  template <class In, int Position>
  struct bind : BoundLayerBase<In, In, Position> {
    using spec = Residual;
    using block = typename detail::bind_one<Block, In, 0>::type;
    static_assert(rule::residual_shape<at_layer<Position, Residual>, typename block::output_shape_t,
                                       typename detail::expected_of<In>::type,
                                       std::is_same_v<typename block::output_shape_t, In>>::value);
    static constexpr bool is_composite = true;
    static constexpr bool accepts_tuple = block::accepts_tuple;
    static constexpr long parameter_count = block::parameter_count;
    static constexpr long buffer_count = block::buffer_count;
    static constexpr long macs = block::macs;
    static constexpr int rf_kernel = block::rf_kernel;
    static constexpr int rf_stride = block::rf_stride;
    // The block's own output is kept: its backward needs it (y = x + block(x) is not it).
    static constexpr long workspace_per_sample = In::size + block::workspace_per_sample;
    static constexpr long workspace_fixed = block::workspace_fixed;
    static constexpr long inference_per_sample = In::size + block::inference_per_sample;

    template <class F>
    static void for_each_child(F&& f) {
      f.template operator()<0, block>();
    }
    static std::string child_name(std::size_t) { return "0"; }
    static constexpr long child_parameter_offset(std::size_t) { return 0; }
    static constexpr long child_buffer_offset(std::size_t) { return 0; }
    static std::string describe() { return "Residual"; }

    template <class T>
    static void init(T* params, T* buffers, Generator& gen) {
      Generator child(gen.seed() ^ child_salt(0, Position, 0), RngStream::init,
                      static_cast<std::uint64_t>(block::position));
      block::init(params, buffers, child);
    }
    template <class B, class T>
    static void forward(const Context<T>& ctx, const T* x, T* y, long n) {
      T* block_out = ctx.work;
      block::template forward<B>(ctx.child(0, 0, In::size * n, Position, 0), x, block_out, n);
      B::add(x, static_cast<const T*>(block_out), y, n * In::size);
    }
    template <class B, class T>
    static void backward(const Context<T>& ctx, const T* x, const T*, const T* gy, T* gx, long n) {
      block::template backward<B>(ctx.child(0, 0, In::size * n, Position, 0), x, ctx.work, gy, gx, n);
      if (gx) B::accumulate(gy, gx, n * In::size);
    }
  };
};

}  // namespace ctnet
