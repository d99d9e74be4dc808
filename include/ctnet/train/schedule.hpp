// ctnet/train/schedule.hpp — learning-rate schedules: StepLR, MultiStepLR, CosineAnnealingLR, OneCycleLR.
//
// Requires: options as torch.optim.lr_scheduler accepts them (bad ones throw ctnet::OptionError at
// construction); a step count >= 0.
// Guarantees: lr_at(step) is a pure function of the step count and equals the lr torch's scheduler has set
// after `step` calls to scheduler.step() (so lr_at(0) is the lr of the first epoch / batch). Epoch-level
// schedules (StepLR, MultiStepLR, CosineAnnealingLR) count epochs; OneCycleLR counts batches. Closed forms
// are used throughout, so the result never depends on how many times it was asked before.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

#include "../core/compiled.hpp"
#include "../core/error.hpp"

namespace ctnet {

namespace detail {

inline std::string schedule_value(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

inline void require_schedule_option(bool ok, const char* schedule, const std::string& what) {
  if (!ok) throw OptionError(std::string(schedule) + ": " + what);
}

inline void check_step(const char* schedule, long step) {
  if (step < 0) throw Error(std::string(schedule) + ": step " + std::to_string(step) + " is negative");
}

}  // namespace detail

// lr = base_lr * gamma^(epoch / step_size), integer division.
struct StepLR {
  double base_lr;
  long step_size;
  double gamma;

  StepLR(double base_lr, long step_size, double gamma = 0.1) : base_lr(base_lr), step_size(step_size), gamma(gamma) {
    detail::require_schedule_option(step_size > 0, "StepLR",
                                    "step_size = " + std::to_string(step_size) + " must be positive");
  }

  double lr_at(long epoch) const {
    detail::check_step("StepLR", epoch);
    return base_lr * std::pow(gamma, static_cast<double>(epoch / step_size));
  }
};

// lr = base_lr * gamma^(number of milestones <= epoch). Repeated milestones count repeatedly, as in torch.
struct MultiStepLR {
  double base_lr;
  std::vector<long> milestones;  // kept sorted
  double gamma;

  MultiStepLR(double base_lr, std::vector<long> milestones, double gamma = 0.1)
      : base_lr(base_lr), milestones(std::move(milestones)), gamma(gamma) {
    std::sort(this->milestones.begin(), this->milestones.end());
  }

  double lr_at(long epoch) const {
    detail::check_step("MultiStepLR", epoch);
    const auto passed = std::upper_bound(milestones.begin(), milestones.end(), epoch) - milestones.begin();
    return base_lr * std::pow(gamma, static_cast<double>(passed));
  }
};

// lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / t_max)) / 2 (torch's T_max). Past t_max the
// cosine continues (rising again), as torch's recursive form does.
struct CosineAnnealingLR {
  double base_lr;
  long t_max;
  double eta_min;

  CosineAnnealingLR(double base_lr, long t_max, double eta_min = 0) : base_lr(base_lr), t_max(t_max), eta_min(eta_min) {
    detail::require_schedule_option(t_max > 0, "CosineAnnealingLR",
                                    "T_max = " + std::to_string(t_max) + " must be positive");
  }

  double lr_at(long epoch) const {
    detail::check_step("CosineAnnealingLR", epoch);
    const double phase = std::numbers::pi * static_cast<double>(epoch) / static_cast<double>(t_max);
    return eta_min + (base_lr - eta_min) * (1 + std::cos(phase)) / 2;
  }
};

enum class AnnealStrategy { cos, linear };

// The 1cycle policy, per batch. Phases end at steps pct_start * total_steps - 1 (warm-up to max_lr) and
// total_steps - 1 (annealing to min_lr = base_lr / final_div_factor), with base_lr = max_lr / div_factor;
// three_phase inserts a symmetric return to base_lr ending at 2 * pct_start * total_steps - 2 before the final
// annealing. Momentum (or Adam's beta1) cycles the other way, max_momentum -> base_momentum -> max_momentum.
// Like torch, lr_at(total_steps) is still answered (it extrapolates the last phase) and a later step throws
// ctnet::Error; we throw rather than clamp because stepping past the plan is a bug in the training loop.
class OneCycleLR {
 public:
  struct Options {
    double max_lr = 0;
    long total_steps = 0;
    double pct_start = 0.3;
    AnnealStrategy anneal_strategy = AnnealStrategy::cos;
    bool cycle_momentum = true;
    double base_momentum = 0.85;
    double max_momentum = 0.95;
    double div_factor = 25;
    double final_div_factor = 1e4;
    bool three_phase = false;
  };

  // Derived at construction and read-only in spirit: lr_at uses the phase table built from them then.
  double base_lr;  // torch's initial_lr
  double max_lr;
  double min_lr;
  long total_steps;

  explicit OneCycleLR(const Options& options);

  OneCycleLR(double max_lr, long total_steps, double pct_start = 0.3, AnnealStrategy anneal = AnnealStrategy::cos,
             double div_factor = 25, double final_div_factor = 1e4, bool three_phase = false)
      : OneCycleLR(Options{max_lr, total_steps, pct_start, anneal, true, 0.85, 0.95, div_factor, final_div_factor,
                           three_phase}) {}

  const Options& options() const noexcept { return options_; }
  bool cycle_momentum() const noexcept { return options_.cycle_momentum; }

  double lr_at(long step) const {
    const Point p = locate(step);
    return anneal(phases_[p.phase].start_lr, phases_[p.phase].end_lr, p.pct);
  }

  // The momentum torch sets with cycle_momentum; apply it only when cycle_momentum() is true.
  double momentum_at(long step) const {
    const Point p = locate(step);
    return anneal(phases_[p.phase].start_momentum, phases_[p.phase].end_momentum, p.pct);
  }

 private:
  struct Phase {
    double end_step;
    double start_lr, end_lr;
    double start_momentum, end_momentum;
  };
  struct Point {
    int phase;
    double pct;
  };

  void validate() const;

  // torch's walk: the first phase whose end_step >= step, else the last; pct measured from the previous end.
  Point locate(long step) const {
    detail::check_step("OneCycleLR", step);
    if (step > total_steps) {
      throw Error("OneCycleLR: tried to step " + std::to_string(step) + " times but total_steps is " +
                  std::to_string(total_steps));
    }
    const double s = static_cast<double>(step);
    double start = 0;
    for (int i = 0; i < phase_count_; ++i) {
      if (s <= phases_[i].end_step || i == phase_count_ - 1) return {i, (s - start) / (phases_[i].end_step - start)};
      start = phases_[i].end_step;
    }
    return {phase_count_ - 1, 1};  // not reached
  }

  double anneal(double from, double to, double pct) const {
    if (options_.anneal_strategy == AnnealStrategy::linear) return (to - from) * pct + from;
    return to + (from - to) / 2 * (std::cos(std::numbers::pi * pct) + 1);
  }

  Options options_;
  Phase phases_[3] = {};
  int phase_count_ = 0;
};

}  // namespace ctnet

#if CTNET_COLD_BODIES
namespace ctnet {

CTNET_COLD OneCycleLR::OneCycleLR(const Options& options)
    : base_lr(options.max_lr / options.div_factor),
      max_lr(options.max_lr),
      min_lr(base_lr / options.final_div_factor),
      total_steps(options.total_steps),
      options_(options) {
  validate();
  const double warm_end = options.pct_start * static_cast<double>(total_steps) - 1;
  const double last = static_cast<double>(total_steps - 1);
  const double hi_m = options.max_momentum, lo_m = options.base_momentum;
  if (options.three_phase) {
    phase_count_ = 3;
    phases_[0] = {warm_end, base_lr, max_lr, hi_m, lo_m};
    phases_[1] = {2 * options.pct_start * static_cast<double>(total_steps) - 2, max_lr, base_lr, lo_m, hi_m};
    phases_[2] = {last, base_lr, min_lr, hi_m, hi_m};
  } else {
    phase_count_ = 2;
    phases_[0] = {warm_end, base_lr, max_lr, hi_m, lo_m};
    phases_[1] = {last, max_lr, min_lr, lo_m, hi_m};
  }
  // torch divides by each phase's length; a zero-length phase that a step can reach would divide by zero.
  double start = 0;
  for (int i = 0; i < phase_count_; ++i) {
    detail::require_schedule_option(phases_[i].end_step != start, "OneCycleLR",
                                    "phase " + std::to_string(i + 1) + " has zero length (pct_start = " +
                                        detail::schedule_value(options.pct_start) +
                                        ", total_steps = " + std::to_string(total_steps) + ")");
    start = phases_[i].end_step;
  }
}

CTNET_COLD void OneCycleLR::validate() const {
  const Options& o = options_;
  detail::require_schedule_option(o.total_steps > 0, "OneCycleLR",
                                  "total_steps = " + std::to_string(o.total_steps) + " must be positive");
  detail::require_schedule_option(o.pct_start > 0 && o.pct_start < 1, "OneCycleLR",
                                  "pct_start = " + detail::schedule_value(o.pct_start) + " must be in (0, 1)");
  detail::require_schedule_option(o.max_lr >= 0 && std::isfinite(o.max_lr), "OneCycleLR",
                                  "max_lr = " + detail::schedule_value(o.max_lr) + " must be finite and >= 0");
  detail::require_schedule_option(o.div_factor > 0 && std::isfinite(o.div_factor), "OneCycleLR",
                                  "div_factor = " + detail::schedule_value(o.div_factor) + " must be positive");
  detail::require_schedule_option(
      o.final_div_factor > 0 && std::isfinite(o.final_div_factor), "OneCycleLR",
      "final_div_factor = " + detail::schedule_value(o.final_div_factor) + " must be positive");
}

}  // namespace ctnet
#endif  // CTNET_COLD_BODIES
