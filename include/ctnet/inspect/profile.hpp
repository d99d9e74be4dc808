// ctnet/inspect/profile.hpp — time each layer's forward and backward pass inside a Model.
//
// Requires: a Model over a Sequential network on a host-accessible backend. Guarantees: runs one full
// training forward to fill the activations, then times every layer alone (median of `repeats` runs) on
// the real activations, in training mode, at batch n; parameters are not updated. Batch-norm running
// statistics do move, as they would in training.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "../core/layer.hpp"

namespace ctnet {

struct LayerTiming {
  int position;
  std::string layer;
  double forward_us;
  double backward_us;
};

template <class M>
std::vector<LayerTiming> profile_layers(M& model, const typename M::scalar* x, long n, int repeats = 7) {
  using Net = typename M::network;
  using B = typename M::backend;
  using T = typename M::scalar;
  model.train();
  model.forward(x, n);
  const Context<T> ctx = model.context();
  [[maybe_unused]] const auto scope = model.bind_execution();  // the layers below use the model's scratch memory
  std::vector<T> last_grad(std::size_t(n * M::output_size), T(0.01));
  std::vector<LayerTiming> out;
  const auto median_us = [&](auto&& body) {
    std::vector<double> t;
    for (int r = 0; r < repeats; ++r) {
      const auto a = std::chrono::steady_clock::now();
      body();
      t.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - a).count());
    }
    std::nth_element(t.begin(), t.begin() + long(t.size() / 2), t.end());
    return t[t.size() / 2];
  };
  Net::for_each_layer([&]<std::size_t I, class L>() {
    constexpr std::size_t last = Net::layer_count - 1;
    const T* in = I == 0 ? model.input_buffer() : Net::template activation<I - 1>(ctx.work, n);
    T* y = I == last ? model.output_data() : Net::template activation<I>(ctx.work, n);
    const T* gy = I == last ? last_grad.data() : Net::gradient_buffer(ctx.work, n, (I + 1) % 2);
    T* gx = I == 0 ? nullptr : Net::gradient_buffer(ctx.work, n, I % 2);
    const Context<T> lc = Net::template layer_context<I>(ctx, n);
    LayerTiming t{L::position, L::describe(), 0, 0};
    t.forward_us = median_us([&] { L::template forward<B>(lc, in, y, n); });
    t.backward_us = median_us([&] { L::template backward<B>(lc, in, y, gy, gx, n); });
    out.push_back(t);
  });
  return out;
}

}  // namespace ctnet
