// Schedules: closed-form values at several steps; OneCycleLR's phase boundaries, both anneal strategies,
// three_phase, momentum cycling and option validation. Reference numbers were computed with python math
// from torch.optim.lr_scheduler's documented formulas and step mapping.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include "ctnet/core/error.hpp"
#include "ctnet/train/schedule.hpp"

namespace {
// Nearly relative: the default Approx's absolute slack (~1e-5) would hide errors in values like 4e-6.
doctest::Approx near(double value) { return doctest::Approx(value).epsilon(1e-10).scale(1e-6); }
}  // namespace

TEST_CASE("StepLR decays by gamma every step_size epochs") {
  const ctnet::StepLR s{0.1, 3, 0.5};
  const double want[] = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125};
  for (int e = 0; e < 10; ++e) CHECK(s.lr_at(e) == near(want[e]));
  CHECK(ctnet::StepLR{1.0, 30}.lr_at(60) == near(0.01));  // default gamma 0.1
  CHECK(s.base_lr == 0.1);
  CHECK_THROWS_AS(ctnet::StepLR(0.1, 0), ctnet::OptionError);
  CHECK_THROWS_AS(s.lr_at(-1), ctnet::Error);
}

TEST_CASE("MultiStepLR decays at each milestone, unsorted and repeated milestones included") {
  const ctnet::MultiStepLR s{1.0, {5, 2, 5}, 0.1};
  CHECK(s.lr_at(0) == 1.0);
  CHECK(s.lr_at(1) == 1.0);
  CHECK(s.lr_at(2) == near(0.1));
  CHECK(s.lr_at(4) == near(0.1));
  CHECK(s.lr_at(5) == near(0.001));  // 5 appears twice: torch's Counter decays twice there
  CHECK(s.lr_at(100) == near(0.001));
  const ctnet::MultiStepLR t{0.5, {30, 80}};
  CHECK(t.lr_at(29) == 0.5);
  CHECK(t.lr_at(30) == near(0.05));
  CHECK(t.lr_at(80) == near(0.005));
}

TEST_CASE("CosineAnnealingLR follows the closed form, continuing past T_max") {
  const ctnet::CosineAnnealingLR s{0.1, 10, 0.001};
  CHECK(s.lr_at(0) == near(0.1));
  CHECK(s.lr_at(3) == near(0.07959536998847742));
  CHECK(s.lr_at(5) == near(0.0505));
  CHECK(s.lr_at(10) == near(0.001));
  CHECK(s.lr_at(15) == near(0.0505));
  CHECK(s.lr_at(20) == near(0.1));
  CHECK(ctnet::CosineAnnealingLR{1.0, 4}.lr_at(2) == near(0.5));
  CHECK_THROWS_AS(ctnet::CosineAnnealingLR(0.1, 0), ctnet::OptionError);
}

TEST_CASE("OneCycleLR (two phases, cos): boundaries and known values") {
  const ctnet::OneCycleLR s{1.0, 100};
  CHECK(s.base_lr == near(0.04));
  CHECK(s.min_lr == near(4e-6));
  CHECK(s.lr_at(0) == near(1.0 / 25));                   // max_lr / div_factor
  CHECK(s.lr_at(29) == near(1.0));                       // peak at pct_start * total - 1
  CHECK(s.lr_at(99) == near(1.0 / 25 / 1e4));            // initial / final_div_factor at total - 1
  CHECK(s.lr_at(10) == near(0.29516394846410077));
  CHECK(s.lr_at(30) == near(0.9994965352845243));
  CHECK(s.lr_at(50) == near(0.793893450575732));
  CHECK(s.lr_at(98) == near(0.0005074647154757879));
  CHECK(s.lr_at(100) == near(0.0005074647154757324));  // torch still answers step == total_steps
  CHECK_THROWS_WITH_AS(s.lr_at(101), "ctnet: OneCycleLR: tried to step 101 times but total_steps is 100",
                       ctnet::Error);
  CHECK_THROWS_AS(s.lr_at(-1), ctnet::Error);

  CHECK(s.cycle_momentum());
  CHECK(s.momentum_at(0) == near(0.95));
  CHECK(s.momentum_at(29) == near(0.85));
  CHECK(s.momentum_at(10) == near(0.9234204220349895));
  CHECK(s.momentum_at(50) == near(0.8706107373853763));
  CHECK(s.momentum_at(99) == near(0.95));

  // The lr rises monotonically to the peak and falls monotonically after it.
  for (long t = 1; t <= 29; ++t) CHECK(s.lr_at(t) > s.lr_at(t - 1));
  for (long t = 30; t <= 99; ++t) CHECK(s.lr_at(t) < s.lr_at(t - 1));
}

TEST_CASE("OneCycleLR (two phases, linear)") {
  const ctnet::OneCycleLR s{1.0, 100, 0.3, ctnet::AnnealStrategy::linear};
  CHECK(s.lr_at(0) == near(0.04));
  CHECK(s.lr_at(10) == near(0.37103448275862067));
  CHECK(s.lr_at(29) == near(1.0));
  CHECK(s.lr_at(30) == near(0.9857143428571429));
  CHECK(s.lr_at(50) == near(0.7000012));
  CHECK(s.lr_at(99) == near(4e-6));
  CHECK(s.momentum_at(10) == near(0.9155172413793103));
  CHECK(s.momentum_at(50) == near(0.88));
  // A fractional phase boundary (0.5 * 21 - 1 = 9.5): step 9 is the warm-up, step 10 already anneals.
  const ctnet::OneCycleLR t{0.1, 21, 0.5, ctnet::AnnealStrategy::linear, 10, 100};
  CHECK(t.lr_at(0) == near(0.01));
  CHECK(t.lr_at(9) == near(0.01 + (0.1 - 0.01) * 9 / 9.5));
  CHECK(t.lr_at(10) == near(0.1 + (1e-4 - 0.1) * 0.5 / 10.5));
  CHECK(t.lr_at(20) == near(1e-4));
}

TEST_CASE("OneCycleLR three_phase and the options form") {
  ctnet::OneCycleLR::Options o;
  o.max_lr = 0.5;
  o.total_steps = 1000;
  o.pct_start = 0.25;
  o.three_phase = true;
  const ctnet::OneCycleLR s{o};
  CHECK(s.lr_at(0) == near(0.02));
  CHECK(s.lr_at(100) == near(0.1869887962129056));
  CHECK(s.lr_at(249) == near(0.5));
  CHECK(s.lr_at(250) == near(0.49998089810136415));
  CHECK(s.lr_at(400) == near(0.1812436040102208));
  CHECK(s.lr_at(498) == near(0.02));  // back to base_lr at 2 * pct_start * total - 2
  CHECK(s.lr_at(700) == near(0.01299529676570491));
  CHECK(s.lr_at(999) == near(2e-6));
  CHECK(s.momentum_at(100) == near(0.9152106674556446));
  CHECK(s.momentum_at(249) == near(0.85));
  CHECK(s.momentum_at(498) == near(0.95));
  CHECK(s.momentum_at(700) == near(0.95));

  o.anneal_strategy = ctnet::AnnealStrategy::linear;
  const ctnet::OneCycleLR lin{o};
  CHECK(lin.lr_at(100) == near(0.21277108433734937));
  CHECK(lin.lr_at(400) == near(0.2089156626506024));
  CHECK(lin.lr_at(700) == near(0.011936934131736526));
  CHECK(lin.momentum_at(100) == near(0.9098393574297189));

  const ctnet::OneCycleLR custom({.max_lr = 2.0, .total_steps = 10, .pct_start = 0.5, .base_momentum = 0.8,
                                  .max_momentum = 0.9, .div_factor = 4, .final_div_factor = 5});
  CHECK(custom.lr_at(0) == near(0.5));
  CHECK(custom.lr_at(4) == near(2.0));
  CHECK(custom.lr_at(9) == near(0.1));
  CHECK(custom.momentum_at(0) == near(0.9));
  CHECK(custom.momentum_at(4) == near(0.8));
}

TEST_CASE("OneCycleLR rejects bad options") {
  using ctnet::OneCycleLR;
  using ctnet::OptionError;
  CHECK_THROWS_WITH_AS(OneCycleLR(0.1, 0), "ctnet: OneCycleLR: total_steps = 0 must be positive", OptionError);
  CHECK_THROWS_AS(OneCycleLR(0.1, -5), OptionError);
  CHECK_THROWS_AS(OneCycleLR(0.1, 100, 0.0), OptionError);
  CHECK_THROWS_AS(OneCycleLR(0.1, 100, 1.0), OptionError);
  CHECK_THROWS_AS(OneCycleLR(0.1, 100, 1.5), OptionError);
  CHECK_THROWS_AS(OneCycleLR(-0.1, 100), OptionError);
  CHECK_THROWS_AS(OneCycleLR(0.1, 100, 0.3, ctnet::AnnealStrategy::cos, 0), OptionError);
  CHECK_THROWS_AS(OneCycleLR(0.1, 100, 0.3, ctnet::AnnealStrategy::cos, 25, -1), OptionError);
  // pct_start * total_steps == 1 puts the warm-up's end at step 0: torch would divide by zero there.
  CHECK_THROWS_WITH_AS(OneCycleLR(0.1, 10, 0.1),
                       "ctnet: OneCycleLR: phase 1 has zero length (pct_start = 0.1, total_steps = 10)", OptionError);
  CHECK_NOTHROW(OneCycleLR(0.1, 1));  // a one-step cycle is legal in torch
}
