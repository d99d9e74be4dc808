// ctnet/train/numeric_guard.hpp — stop training at the first non-finite loss or gradient, and say where.
//
// Requires: a Model over a Sequential network on a host-accessible backend (the CPU), called after one
// training batch's forward, loss gradient and Model::backward, before the optimizer step.
// Guarantees: check_training_step costs a test of the loss and one scan of the gradient and buffer arenas
// when all is finite (no allocation). When the loss, a gradient or a buffer is NaN/Inf it re-runs that
// batch layer by layer, unfused (the fused chains skip intermediate outputs), in training mode with the
// same dropout masks, and throws NumericalError naming the step (global step, epoch, batch, learning
// rate), the first non-finite value in the order it arises — the input batch; a layer's parameters or
// buffers, then its output, in forward order; the loss; the loss gradient; a layer's parameter gradient,
// then its input gradient, in backward order — with the layer as summary<Net>() prints it ("layer 5
// Conv2d(16, 16, kernel_size=3, bias=False)"; a tensor of a nested layer names both, "layer 0.0.5
// BatchNorm2d(16) inside layer 0 ..."), and a hint. The parameters are left as they were (no update
// happened), the buffers (batch-norm running statistics) are restored after the diagnostic pass, the
// gradient arena holds the diagnostic pass's gradients. check_evaluation_batch does the same for an
// evaluation batch's loss, naming the batch and the first non-finite output.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "../core/compiled.hpp"
#include "../core/finite.hpp"
#include "../core/layer.hpp"
#include "../core/shape.hpp"
#include "../graph/visit.hpp"
#include "../inspect/summary.hpp"

namespace ctnet {

// Where a training step is, for the message.
struct TrainingStep {
  long step = 0;   // global step, counted from 1
  int epoch = 0;   // as the caller numbers epochs
  long batch = 0;  // within the epoch, counted from 1
  double lr = 0;   // the step's learning rate
};

namespace detail {

inline std::string short_number(double v) {
  char s[32];
  std::snprintf(s, sizeof s, "%.6g", v);
  return s;
}

CTNET_COLD std::string step_text(const TrainingStep& s);

template <std::size_t I, class L>
std::string layer_text() {
  return "layer " + std::to_string(I) + " " + L::describe();
}

// The layer that owns tensor `name` ("0.0.5.running_var"), as the summary prints it: "layer 2 Linear(...)",
// or for a nested layer "layer 0.0.5 BatchNorm2d(16) inside layer 0 PerInput(2 branches)".
template <class Net>
std::string tensor_owner(const std::string& name) {
  const std::string index = name.substr(0, name.rfind('.'));
  const std::vector<SummaryRow> rows = summary_rows<Net>();
  const auto text = [&](const std::string& i) {
    for (const SummaryRow& r : rows)
      if (r.index == i) return "layer " + i + " " + r.layer.substr(r.layer.find_first_not_of(' '));
    return "layer " + i;
  };
  const std::string top = index.substr(0, index.find('.'));
  return top == index ? text(index) : text(index) + " inside " + text(top);
}

// The first non-finite parameter (or buffer, unless buffers is null) of layer I: "'2.bias' (layer 2
// Linear(...)) holds NaN at element 1"; empty when all are finite. *is_parameter says which it was.
template <class Net, std::size_t I, class L, class T>
std::string nonfinite_tensor(const T* params, const T* buffers, bool* was_parameter = nullptr) {
  std::string found;
  visit_tensors<L>(std::to_string(I) + ".", Net::parameter_offsets[I], Net::buffer_offsets[I],
                   [&](const std::string& name, const TensorInfo& t, long offset, bool is_parameter) {
                     if (!found.empty() || (!is_parameter && !buffers)) return;
                     const T* p = (is_parameter ? params : buffers) + offset;
                     if (const long i = first_nonfinite(p, std::size_t(t.size)); i >= 0) {
                       found = "'" + name + "' (" + tensor_owner<Net>(name) + ") holds " + nonfinite_place(p, i);
                       if (was_parameter) *was_parameter = is_parameter;
                     }
                   });
  return found;
}

// Per-sample size of a batch laid out [n x size], or 0 for tuple shapes (several tensors one after another).
template <class S>
constexpr long per_sample() {
  if constexpr (is_tuple_shape_v<S>)
    return 0;
  else
    return S::size;
}

inline const char* divergence_hint() {
  return "hint: the learning rate is probably too high (lower it or the schedule's peak, or add warm-up or "
         "batch-norm), or the weight decay too large; also check the input data";
}

}  // namespace detail

// The diagnosis behind check_training_step: what went non-finite first, where, and a hint.
template <class M>
[[gnu::cold]] std::string diagnose_nonfinite_step(M& model, double loss, const typename M::scalar* grad_output,
                                                  const TrainingStep& at) {
  using Net = typename M::network;
  using B = typename M::backend;
  using T = typename M::scalar;
  const long n = model.last_batch();
  std::string what = "the loss is " + value_name(loss);
  if (std::isfinite(loss)) {
    const auto g = model.gradients(), b = model.buffers();
    const long i = first_nonfinite(g.data(), g.size()), j = first_nonfinite(b.data(), b.size());
    what = "the loss is finite (" + detail::short_number(loss) + ") but " +
           (i >= 0   ? "the gradient arena holds " + value_name(double(g[std::size_t(i)]))
            : j >= 0 ? "the buffers (running statistics) hold " + value_name(double(b[std::size_t(j)]))
                     : std::string("no NaN or Inf is left to find"));
  }
  std::string found, hint = detail::divergence_hint();
  const T* x = model.input_buffer();
  if (const long i = first_nonfinite(x, std::size_t(n * M::input_size)); i >= 0) {
    found = "first non-finite input: the input batch holds " +
            nonfinite_place(x, i, detail::per_sample<typename Net::input_shape_t>());
    hint = "hint: check the input data (a NaN or Inf value reached the network before its first layer)";
  } else {
    const std::vector<T> saved_buffers = model.read_buffers();
    const Context<T> ctx = model.context();
    const T* params = model.parameters().data();
    const T* buffers = model.buffers().data();
    constexpr std::size_t last = Net::layer_count - 1;
    Net::for_each_layer([&]<std::size_t I, class L>() __attribute__((cold)) {
      if (!found.empty()) return;
      bool parameter = true;
      if (const std::string t = detail::nonfinite_tensor<Net, I, L>(params, buffers, &parameter); !t.empty()) {
        found = parameter ? "first non-finite parameter: " + t + " (from the previous update or the loaded weights)"
                          : "first non-finite buffer: " + t + " (this step's batch statistics overflowed)";
        return;
      }
      const T* in = I == 0 ? x : Net::template activation<I - 1>(ctx.work, n);
      T* y = I == last ? model.output_data() : Net::template activation<I>(ctx.work, n);
      L::template forward<B>(Net::template layer_context<I>(ctx, n), in, y, n);
      if (const long i = first_nonfinite(y, std::size_t(n * L::output_shape_t::size)); i >= 0)
        found = "first non-finite output: " + detail::layer_text<I, L>() + " gives " +
                nonfinite_place(y, i, detail::per_sample<typename L::output_shape_t>()) + " from a finite input";
    });
    if (found.empty() && !std::isfinite(loss)) {
      found = "first non-finite value: the loss itself (the network's output is finite)";
      hint = "hint: check the targets and the loss (NLLLoss takes log-probabilities: end the network with "
             "LogSoftmax; class targets must be in range)";
    }
    if (found.empty()) {
      if (const long i = first_nonfinite(grad_output, std::size_t(n * M::output_size)); i >= 0)
        found = "first non-finite gradient: the loss gradient holds " +
                nonfinite_place(grad_output, i, detail::per_sample<typename Net::output_shape_t>());
    }
    if (found.empty()) {
      model.zero_grad();
      T* grads = model.gradients().data();
      Net::for_each_layer_reversed([&]<std::size_t I, class L>() __attribute__((cold)) {
        if (!found.empty()) return;
        const T* in = I == 0 ? x : Net::template activation<I - 1>(ctx.work, n);
        const T* y = I == last ? model.output_data() : Net::template activation<I>(ctx.work, n);
        const T* gy = I == last ? grad_output : Net::gradient_buffer(ctx.work, n, (I + 1) % 2);
        T* gx = I == 0 ? nullptr : Net::gradient_buffer(ctx.work, n, I % 2);
        L::template backward<B>(Net::template layer_context<I>(ctx, n), in, y, gy, gx, n);
        if (std::string t = detail::nonfinite_tensor<Net, I, L>(grads, static_cast<const T*>(nullptr)); !t.empty()) {
          found = "first non-finite gradient: the gradient of " + t + ", from a finite output gradient";
        } else if (gx) {
          if (const long i = first_nonfinite(gx, std::size_t(n * L::input_shape_t::size)); i >= 0)
            found = "first non-finite gradient: " + detail::layer_text<I, L>() + " gives an input gradient with " +
                    nonfinite_place(gx, i, detail::per_sample<typename L::input_shape_t>()) +
                    " from a finite output gradient";
        }
      });
    }
    model.write_buffers(saved_buffers);
    if (found.empty())
      found = "the layer-by-layer pass did not reproduce it (the fused training pass differs from the layers run "
              "one by one)";
  }
  return "training diverged at " + detail::step_text(at) + ": " + what + "; " + found + "; " + hint;
}

// Throws NumericalError (diagnose_nonfinite_step's message) when the loss, the gradient arena or the buffer
// arena (running statistics, updated by this step's forward) holds a NaN or an Inf; returns at the cost of
// one scan of each arena otherwise.
template <class M>
void check_training_step(M& model, double loss, const typename M::scalar* grad_output, const TrainingStep& at) {
  if (std::isfinite(loss) && all_finite(model.gradients()) && all_finite(model.buffers())) [[likely]]
    return;
  throw NumericalError(diagnose_nonfinite_step(model, loss, grad_output, at));
}

// After an evaluation batch of n samples (batch counted from 1) whose outputs are `out` [n x output_size]
// in host memory: throws NumericalError naming the batch and the first non-finite output when the
// batch's loss is not finite.
template <class Net, class T>
void check_evaluation_batch(double loss, long batch, const T* out, long n) {
  if (std::isfinite(loss)) [[likely]]
    return;
  using Out = typename Net::output_shape_t;
  const long i = first_nonfinite(out, std::size_t(n * Out::size));
  throw NumericalError(
      "evaluation diverged at batch " + std::to_string(batch) + ": the loss is " + value_name(loss) + "; " +
      (i >= 0 ? "the network's output holds " + nonfinite_place(out, i, detail::per_sample<Out>())
              : std::string("the network's output is finite: the loss itself is not (targets out of range?)")) +
      "; hint: the parameters or batch-norm running statistics have overflowed (learning rate too high?), or "
      "the input data holds NaN or Inf");
}

}  // namespace ctnet

#if CTNET_COLD_BODIES
namespace ctnet {

namespace detail {

CTNET_COLD std::string step_text(const TrainingStep& s) {
  return "training step " + std::to_string(s.step) + " (epoch " + std::to_string(s.epoch) + ", batch " +
         std::to_string(s.batch) + ", lr " + short_number(s.lr) + ")";
}

}  // namespace detail

}  // namespace ctnet
#endif  // CTNET_COLD_BODIES
