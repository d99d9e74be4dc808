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

TEST_CASE("a batch that starts at row r of the global batch draws those rows' masks (data parallelism)") {
  constexpr long n = 7 * (64 * 9 + 21);  // whole units of 1 and of 7 elements
  std::vector<float> x(n), whole(n);
  for (long i = 0; i < n; ++i) x[std::size_t(i)] = float(i % 13) + 0.25f;
  for (long unit_size : {1L, 7L}) {
    Cpu::dropout_forward(x.data(), whole.data(), nullptr, n, 8, 4, 2, unit_size, 0.4f);
    // Shifts within a 64-unit word, a whole word, and more than one word.
    for (long first : {1L, 37L, 64L, 130L}) {
      const long offset = first * unit_size, rest = n - offset;
      const auto count = static_cast<std::size_t>(rest);
      std::vector<float> part(count), back(count), redrawn(count);
      std::vector<std::uint32_t> mask(std::size_t((rest / unit_size + 31) / 32) + 1);
      Cpu::dropout_forward(x.data() + offset, part.data(), mask.data(), rest, 8, 4, 2, unit_size, 0.4f,
                           std::uint64_t(first));
      CHECK(std::equal(part.begin(), part.end(), whole.begin() + offset));
      Cpu::dropout_backward(x.data() + offset, back.data(), mask.data(), rest, 8, 4, 2, unit_size, 0.4f,
                            std::uint64_t(first));
      Cpu::dropout_backward(x.data() + offset, redrawn.data(), nullptr, rest, 8, 4, 2, unit_size, 0.4f,
                            std::uint64_t(first));
      CHECK(back == part);
      CHECK(redrawn == part);
      for (long i = 0; i < rest; ++i)
        kernels::dropout_apply(i, x.data() + offset, back.data(), 8, 4, 2, unit_size, 0.4f, std::uint64_t(first));
      CHECK(back == part);
    }
  }
  // The fused chain's mask drawing (BatchNorm -> ReLU -> Dropout): the same bits.
  std::vector<std::uint32_t> all(std::size_t((n + 31) / 32) + 1), tail(all.size());
  cpu::dropout_draw_mask(all.data(), n, 8, 4, 2, 0.4f, 0);
  cpu::dropout_draw_mask(tail.data(), n - 37, 8, 4, 2, 0.4f, 37);
  for (long u = 0; u < n - 37; ++u)
    CHECK(bool((tail[std::size_t(u / 32)] >> (u % 32)) & 1) ==
          bool((all[std::size_t((u + 37) / 32)] >> ((u + 37) % 32)) & 1));
}

TEST_CASE("Model::set_first_row: rows 4.. of a global batch, trained alone, get the whole batch's outputs") {
  using Net = Sequential<Input<3, 4, 5>, Dropout2d<0.4f>, Dropout<0.3f>>;
  constexpr long rows = 10, size = 3 * 4 * 5;
  std::vector<float> x(rows * size);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i % 11) + 1.0f;
  Model<Net> whole(3, rows), part(3, rows);
  const float* all = whole.forward(x.data(), rows);
  const std::vector<float> want(all + 4 * size, all + rows * size);
  part.set_first_row(4);
  const float* got = part.forward(x.data() + 4 * size, rows - 4);
  CHECK(std::equal(want.begin(), want.end(), got));
  Model<Net> unshifted(3, rows);  // numbering its rows from 0 gives other masks
  const float* other = unshifted.forward(x.data() + 4 * size, rows - 4);
  CHECK_FALSE(std::equal(want.begin(), want.end(), other));
}
