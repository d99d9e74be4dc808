#include "support/helpers.hpp"

using namespace ctnet;
using namespace ctnet::testing;

TEST_CASE("Dropout zeroes about p of the elements and scales the rest by 1/(1-p)") {
  constexpr long n = 100;
  Model<Sequential<Input<1000>, Dropout<0.25f>>> m(3, n);
  const std::vector<float> x(n * 1000, 2.0f);
  const auto y = run(m, x);
  long zeros = 0;
  for (float v : y) {
    if (v == 0) ++zeros;
    else CHECK(v == doctest::Approx(2.0 / 0.75));
  }
  CHECK(double(zeros) / double(y.size()) == doctest::Approx(0.25).epsilon(0.02));
  // A new step draws a new mask; the same seed and step draw the same one.
  const auto y2 = run(m, x);
  CHECK(y2 != y);
  Model<Sequential<Input<1000>, Dropout<0.25f>>> again(3, n);
  CHECK(run(again, x) == y);
}

TEST_CASE("Dropout and Dropout2d are the identity in eval") {
  Model<Sequential<Input<2, 3, 3>, Dropout2d<0.5f>, Dropout<0.5f>>> m(3, 2);
  m.eval();
  std::vector<float> x(36);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i) - 7.5f;
  CHECK(run(m, x) == x);
}

TEST_CASE("Dropout2d drops whole channels") {
  Model<Sequential<Input<64, 2, 2>, Dropout2d<0.5f>>> m(5, 8);
  const std::vector<float> x(8 * 64 * 4, 1.0f);
  const auto y = run(m, x);
  long dropped = 0;
  for (long plane = 0; plane < 8 * 64; ++plane) {
    const float first = y[std::size_t(plane * 4)];
    for (int i = 1; i < 4; ++i) CHECK(y[std::size_t(plane * 4 + i)] == first);
    CHECK((first == 0.0f || first == 2.0f));
    dropped += first == 0.0f;
  }
  CHECK(double(dropped) / 512 == doctest::Approx(0.5).epsilon(0.15));
}

TEST_CASE("Dropout backward applies the forward mask") {
  check_gradients<Sequential<Input<3, 4, 4>, Dropout<0.3f>>>();
  check_gradients<Sequential<Input<3, 4, 4>, Dropout2d<0.3f>>>();
}

TEST_CASE("the CPU's blocked dropout draws the masks of the per-element kernel body (as CUDA runs it)") {
  constexpr long n = 3 * 5 * 7 * 2;  // not a multiple of four units
  std::vector<float> x(n), fast(n), body(n);
  for (long i = 0; i < n; ++i) x[std::size_t(i)] = float(i) + 0.5f;
  for (long unit_size : {1L, 7L, 35L}) {
    std::vector<std::uint32_t> mask(std::size_t((n / unit_size + 31) / 32));
    Cpu::dropout_forward(x.data(), fast.data(), mask.data(), n, 42, 9, 3, unit_size, 0.3f);
    for (long i = 0; i < n; ++i) kernels::dropout_apply(i, x.data(), body.data(), 42, 9, 3, unit_size, 0.3f);
    CHECK(fast == body);
    // The stored bits are the per-element keep decisions, and backward applies them as forward did,
    // whether it reads them or draws them again.
    for (long u = 0; u < n / unit_size; ++u)
      CHECK(bool((mask[std::size_t(u / 32)] >> (u % 32)) & 1) == kernels::dropout_keep(42, 9, 3, u, 0.3f));
    std::vector<float> from_mask(n), redrawn(n);
    Cpu::dropout_backward(x.data(), from_mask.data(), mask.data(), n, 42, 9, 3, unit_size, 0.3f);
    Cpu::dropout_backward(x.data(), redrawn.data(), nullptr, n, 42, 9, 3, unit_size, 0.3f);
    CHECK(from_mask == body);
    CHECK(redrawn == body);
  }
  // Whole 64-unit groups (the vectorised path) and a partial last group, over several thread chunks.
  for (long big : {64L * 1000, 64L * 1000 + 37}) {
    const auto size = static_cast<std::size_t>(big);
    std::vector<float> xs(size, 1.5f), ys(size), want(size);
    std::vector<std::uint32_t> bits(std::size_t((big + 31) / 32));
    Cpu::dropout_forward(xs.data(), ys.data(), bits.data(), big, 5, 77, 2, 1, 0.05f);
    for (long i = 0; i < big; ++i) kernels::dropout_apply(i, xs.data(), want.data(), 5, 77, 2, 1, 0.05f);
    CHECK(ys == want);
  }
  // The integer threshold is the float comparison u >= p for every 24-bit u.
  for (float p : {0.0f, 0.05f, 0.3f, 0.5f, 0.999f}) {
    const std::uint32_t t = kernels::dropout_threshold(p);
    CHECK(float(t) / 16777216.0f >= p);
    if (t > 0) CHECK(float(t - 1) / 16777216.0f < p);
  }
}
