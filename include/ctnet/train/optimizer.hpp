// ctnet/train/optimizer.hpp — SGD, Adam and AdamW over one flat parameter arena and its gradient arena.
//
// Requires: params and grads of equal length with the same layout (the Model's two arenas); T is float or
// double; options valid as torch.optim checks them (bad ones throw ctnet::OptionError at construction or in
// set_lr / set_momentum).
// Guarantees: step() applies exactly the update rule documented for torch.optim.SGD / Adam / AdamW with one
// parameter group and (for Adam) amsgrad = maximize = False. State buffers are sized on the first step that
// needs them and never reallocated after, so a training step allocates nothing. state() names every buffer
// ("momentum_buffer", "exp_avg", "exp_avg_sq", PyTorch's names) and step_count() is PyTorch's "step", so a
// checkpoint can save and restore them; an empty buffer means "not yet created", exactly as in PyTorch.
// name, hyperparameters() (every option by its PyTorch name) and momentum_option (the one set_momentum sets)
// let a training state (training_state.hpp) record an optimizer and check that a resumed one is the same kind.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdio>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"

// The element loops are plain loops over contiguous memory; with OpenMP they are also marked `omp simd`.
#if !defined(CTNET_SIMD)
#if defined(_OPENMP)
#define CTNET_SIMD _Pragma("omp simd")
#else
#define CTNET_SIMD
#endif
#endif
// A loop that calls std::sqrt vectorises only where sqrt cannot set errno (-fno-math-errno, which defines
// __NO_MATH_ERRNO__): elsewhere clang would warn that it could not honour `omp simd` (-Wpass-failed). Each
// element's arithmetic is the same either way (sqrt is correctly rounded), so the results do not change.
#if !defined(CTNET_SIMD_SQRT)
#if defined(__NO_MATH_ERRNO__)
#define CTNET_SIMD_SQRT CTNET_SIMD
#else
#define CTNET_SIMD_SQRT
#endif
#endif

namespace ctnet {

// Named views of an optimizer's buffers, for checkpoints; the pointers are valid while that optimizer object lives.
template <std::floating_point T>
using OptimizerState = std::vector<std::pair<std::string, std::vector<T>*>>;
template <std::floating_point T>
using ConstOptimizerState = std::vector<std::pair<std::string, const std::vector<T>*>>;
// Every option of an optimizer by its PyTorch name, in a fixed order (booleans as 0 or 1).
using OptimizerHyperparameters = std::vector<std::pair<std::string, double>>;

namespace detail {

inline std::string option_value(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

// Callers state the rule that must hold (lr >= 0, not !(lr < 0)), so a NaN option fails it too.
inline void require_option(bool ok, const char* optimizer, const char* option, double value, const char* rule) {
  if (!ok) {
    throw OptionError(std::string(optimizer) + ": " + option + " = " + option_value(value) + " is invalid (" +
                      rule + ")");
  }
}

inline void check_step_sizes(const char* optimizer, std::size_t params, std::size_t grads) {
  if (params != grads) {
    throw Error(std::string(optimizer) + ": " + std::to_string(params) + " parameters but " +
                std::to_string(grads) + " gradients");
  }
}

// A restored buffer must match the arena; an empty one is created (zero-filled) here, once.
template <class T>
void ensure_buffer(const char* optimizer, const char* name, std::vector<T>& buffer, std::size_t n) {
  if (buffer.empty()) {
    buffer.assign(n, T(0));
  } else if (buffer.size() != n) {
    throw Error(std::string(optimizer) + ": " + name + " holds " + std::to_string(buffer.size()) +
                " values but there are " + std::to_string(n) + " parameters");
  }
}

}  // namespace detail

// torch.optim.SGD: g = grad + weight_decay * p; b = g on the first momentum step, else
// b = momentum * b + (1 - dampening) * g; the step direction is g + momentum * b (nesterov) or b; p -= lr * step.
template <std::floating_point T>
class SGD {
 public:
  struct Options {
    double lr = 1e-3;  // recent torch.optim.SGD's default
    double momentum = 0;
    double dampening = 0;
    double weight_decay = 0;
    bool nesterov = false;
  };

  using scalar = T;
  static constexpr const char* name = "SGD";
  static constexpr const char* momentum_option = "momentum";

  explicit SGD(const Options& options) : options_(options) { validate(); }
  explicit SGD(double lr, double momentum = 0, double dampening = 0, double weight_decay = 0, bool nesterov = false)
      : SGD(Options{lr, momentum, dampening, weight_decay, nesterov}) {}

  void step(std::span<T> params, std::span<const T> grads) {
    detail::check_step_sizes("SGD", params.size(), grads.size());
    const std::size_t n = params.size();
    T* p = params.data();
    const T* g = grads.data();
    const T lr = static_cast<T>(options_.lr), wd = static_cast<T>(options_.weight_decay);
    const T mu = static_cast<T>(options_.momentum), keep = static_cast<T>(1 - options_.dampening);
    const bool decay = options_.weight_decay != 0, nesterov = options_.nesterov;
    ++step_count_;
    if (options_.momentum == 0) {
      CTNET_SIMD
      for (std::size_t i = 0; i < n; ++i) {
        const T gi = decay ? g[i] + wd * p[i] : g[i];
        p[i] -= lr * gi;
      }
      return;
    }
    // PyTorch creates the buffer as a copy of the (decayed) gradient, with no dampening on that first step.
    const bool first = momentum_buffer_.empty();
    detail::ensure_buffer("SGD", "momentum_buffer", momentum_buffer_, n);
    T* b = momentum_buffer_.data();
    const T b_scale = first ? T(0) : mu, g_scale = first ? T(1) : keep;
    CTNET_SIMD
    for (std::size_t i = 0; i < n; ++i) {
      const T gi = decay ? g[i] + wd * p[i] : g[i];
      const T bi = b_scale * b[i] + g_scale * gi;
      b[i] = bi;
      p[i] -= lr * (nesterov ? gi + mu * bi : bi);
    }
  }

  double lr() const noexcept { return options_.lr; }
  void set_lr(double lr) {
    detail::require_option(lr >= 0, "SGD", "lr", lr, "must be >= 0");
    options_.lr = lr;
  }
  // What OneCycleLR's momentum cycling sets (torch sets param_group["momentum"]).
  double momentum() const noexcept { return options_.momentum; }
  void set_momentum(double momentum) {
    Options o = options_;
    o.momentum = momentum;
    check(o);
    options_ = o;
  }
  const Options& options() const noexcept { return options_; }

  long step_count() const noexcept { return step_count_; }
  void set_step_count(long steps) { step_count_ = steps; }
  OptimizerState<T> state() { return {{"momentum_buffer", &momentum_buffer_}}; }
  ConstOptimizerState<T> state() const { return {{"momentum_buffer", &momentum_buffer_}}; }
  OptimizerHyperparameters hyperparameters() const {
    return {{"lr", options_.lr},
            {"momentum", options_.momentum},
            {"dampening", options_.dampening},
            {"weight_decay", options_.weight_decay},
            {"nesterov", options_.nesterov ? 1.0 : 0.0}};
  }
  // Forget all state, as a freshly constructed optimizer (the buffer's memory is kept).
  void reset_state() {
    momentum_buffer_.clear();
    step_count_ = 0;
  }

 private:
  static void check(const Options& o) {
    detail::require_option(o.lr >= 0, "SGD", "lr", o.lr, "must be >= 0");
    detail::require_option(o.momentum >= 0, "SGD", "momentum", o.momentum, "must be >= 0");
    detail::require_option(o.weight_decay >= 0, "SGD", "weight_decay", o.weight_decay, "must be >= 0");
    detail::require_option(std::isfinite(o.dampening), "SGD", "dampening", o.dampening, "must be finite");
    if (o.nesterov) {
      detail::require_option(o.momentum > 0, "SGD", "momentum", o.momentum, "nesterov requires momentum > 0");
      detail::require_option(o.dampening == 0, "SGD", "dampening", o.dampening, "nesterov requires dampening = 0");
    }
  }
  void validate() const { check(options_); }

  Options options_;
  std::vector<T> momentum_buffer_;
  long step_count_ = 0;
};

// torch.optim.Adam (Decoupled = false: weight decay is L2, added to the gradient) and torch.optim.AdamW
// (Decoupled = true: p *= 1 - lr * weight_decay before the Adam update). With t = step_count():
// m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g^2;
// p -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
template <std::floating_point T, bool Decoupled>
class BasicAdam {
 public:
  struct Options {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = Decoupled ? 1e-2 : 0.0;  // torch's defaults differ between Adam and AdamW
  };

  using scalar = T;
  static constexpr const char* name = Decoupled ? "AdamW" : "Adam";
  static constexpr const char* momentum_option = "beta1";

  explicit BasicAdam(const Options& options) : options_(options) { check(options_); }
  explicit BasicAdam(double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
                     double weight_decay = Decoupled ? 1e-2 : 0.0)
      : BasicAdam(Options{lr, beta1, beta2, eps, weight_decay}) {}

  void step(std::span<T> params, std::span<const T> grads) {
    detail::check_step_sizes(name, params.size(), grads.size());
    const std::size_t n = params.size();
    detail::ensure_buffer(name, "exp_avg", exp_avg_, n);
    detail::ensure_buffer(name, "exp_avg_sq", exp_avg_sq_, n);
    ++step_count_;
    const double t = static_cast<double>(step_count_);
    const double bias_correction1 = 1 - std::pow(options_.beta1, t);
    const double bias_correction2 = 1 - std::pow(options_.beta2, t);
    const T step_size = static_cast<T>(options_.lr / bias_correction1);
    const T bc2_sqrt = static_cast<T>(std::sqrt(bias_correction2));
    const T eps = static_cast<T>(options_.eps);
    const T beta1 = static_cast<T>(options_.beta1), one_minus_beta1 = static_cast<T>(1 - options_.beta1);
    const T beta2 = static_cast<T>(options_.beta2), one_minus_beta2 = static_cast<T>(1 - options_.beta2);
    const T l2 = Decoupled ? T(0) : static_cast<T>(options_.weight_decay);
    const T shrink = Decoupled ? static_cast<T>(1 - options_.lr * options_.weight_decay) : T(1);
    const bool decay = options_.weight_decay != 0;
    T* p = params.data();
    const T* g = grads.data();
    T* m = exp_avg_.data();
    T* v = exp_avg_sq_.data();
    CTNET_SIMD_SQRT
    for (std::size_t i = 0; i < n; ++i) {
      T pi = p[i];
      const T gi = (decay && !Decoupled) ? g[i] + l2 * pi : g[i];
      if (Decoupled) pi *= shrink;
      const T mi = beta1 * m[i] + one_minus_beta1 * gi;
      const T vi = beta2 * v[i] + one_minus_beta2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] = pi - step_size * mi / (std::sqrt(vi) / bc2_sqrt + eps);
    }
  }

  double lr() const noexcept { return options_.lr; }
  void set_lr(double lr) {
    detail::require_option(lr >= 0, name, "lr", lr, "must be >= 0");
    options_.lr = lr;
  }
  // OneCycleLR's momentum cycling sets beta1 for Adam-type optimizers, as torch does.
  double momentum() const noexcept { return options_.beta1; }
  void set_momentum(double beta1) {
    detail::require_option(beta1 >= 0 && beta1 < 1, name, "beta1", beta1, "must be in [0, 1)");
    options_.beta1 = beta1;
  }
  const Options& options() const noexcept { return options_; }

  long step_count() const noexcept { return step_count_; }
  void set_step_count(long steps) { step_count_ = steps; }
  OptimizerState<T> state() { return {{"exp_avg", &exp_avg_}, {"exp_avg_sq", &exp_avg_sq_}}; }
  ConstOptimizerState<T> state() const { return {{"exp_avg", &exp_avg_}, {"exp_avg_sq", &exp_avg_sq_}}; }
  OptimizerHyperparameters hyperparameters() const {
    return {{"lr", options_.lr},
            {"beta1", options_.beta1},
            {"beta2", options_.beta2},
            {"eps", options_.eps},
            {"weight_decay", options_.weight_decay}};
  }
  void reset_state() {
    exp_avg_.clear();
    exp_avg_sq_.clear();
    step_count_ = 0;
  }

 private:
  static void check(const Options& o) {
    detail::require_option(o.lr >= 0, name, "lr", o.lr, "must be >= 0");
    detail::require_option(o.beta1 >= 0 && o.beta1 < 1, name, "beta1", o.beta1, "must be in [0, 1)");
    detail::require_option(o.beta2 >= 0 && o.beta2 < 1, name, "beta2", o.beta2, "must be in [0, 1)");
    detail::require_option(o.eps >= 0, name, "eps", o.eps, "must be >= 0");
    detail::require_option(o.weight_decay >= 0, name, "weight_decay", o.weight_decay, "must be >= 0");
  }

  Options options_;
  std::vector<T> exp_avg_;
  std::vector<T> exp_avg_sq_;
  long step_count_ = 0;
};

template <std::floating_point T>
using Adam = BasicAdam<T, false>;
template <std::floating_point T>
using AdamW = BasicAdam<T, true>;

}  // namespace ctnet
