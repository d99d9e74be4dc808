// Tests for ctnet/data/transforms.hpp: exact identity, mass preservation, shifts, parameter sampling.
#include <doctest/doctest.h>

#include <cmath>
#include <ctnet/data/transforms.hpp>
#include <numeric>
#include <vector>

namespace {

constexpr int R = 28, C = 28;

// A smooth Gaussian blob centred on the image, away from the borders.
std::vector<float> blob(double sigma = 3.0) {
  std::vector<float> img(R * C);
  const double cy = 0.5 * (R - 1), cx = 0.5 * (C - 1);
  for (int y = 0; y < R; ++y)
    for (int x = 0; x < C; ++x)
      img[y * C + x] = static_cast<float>(std::exp(-((y - cy) * (y - cy) + (x - cx) * (x - cx)) / (2 * sigma * sigma)));
  return img;
}

std::vector<float> noise() {
  std::vector<float> img(R * C);
  ctnet::Generator g(7, ctnet::RngStream::user);
  for (float& v : img) v = g.uniform();
  return img;
}

double mass(const std::vector<float>& img) { return std::accumulate(img.begin(), img.end(), 0.0); }

std::vector<float> warp(const std::vector<float>& src, const ctnet::AffineParams& p) {
  std::vector<float> dst(src.size(), -1.0f);
  ctnet::affine_warp(src.data(), dst.data(), R, C, p);
  return dst;
}

}  // namespace

TEST_CASE("identity affine and rotation by 0 are exact identities") {
  const std::vector<float> src = noise();
  CHECK(warp(src, {}) == src);
  ctnet::AffineParams zero_angle;
  zero_angle.angle = 0.0f;
  CHECK(warp(src, zero_angle) == src);
  ctnet::AffineParams minus_zero;
  minus_zero.angle = -0.0f;
  CHECK(warp(src, minus_zero) == src);
  // Odd sizes (integer centre) too.
  std::vector<float> odd(5 * 7), out(5 * 7);
  std::iota(odd.begin(), odd.end(), 1.0f);
  ctnet::affine_warp(odd.data(), out.data(), 5, 7, {});
  CHECK(out == odd);
}

TEST_CASE("rotating a centred blob by 10 degrees keeps its mass within 2%") {
  const std::vector<float> src = blob();
  for (float angle : {10.0f, -10.0f, 45.0f}) {
    ctnet::AffineParams p;
    p.angle = angle;
    const std::vector<float> dst = warp(src, p);
    CHECK(mass(dst) == doctest::Approx(mass(src)).epsilon(0.02));
    CHECK(dst != src);
  }
}

TEST_CASE("rotation direction: +90 degrees turns right into up (counter-clockwise on screen)") {
  std::vector<float> src(R * C, 0.0f);
  src[13 * C + 20] = 1.0f;  // right of centre, in a row just above the centre line
  ctnet::AffineParams p;
  p.angle = 90.0f;
  const std::vector<float> dst = warp(src, p);
  // Centre is (13.5, 13.5); (x=20, y=13) is at (+6.5, -0.5); rotated CCW on screen it goes to (-0.5, -6.5).
  CHECK(dst[7 * C + 13] == doctest::Approx(1.0f).epsilon(1e-5));
  CHECK(mass(dst) == doctest::Approx(1.0).epsilon(1e-5));
}

TEST_CASE("translation by whole pixels shifts exactly, filling with zero") {
  const std::vector<float> src = noise();
  ctnet::AffineParams p;
  p.translate_x = 1.0f;
  std::vector<float> dst = warp(src, p);
  for (int y = 0; y < R; ++y) {
    CHECK(dst[y * C + 0] == 0.0f);
    for (int x = 1; x < C; ++x) REQUIRE(dst[y * C + x] == src[y * C + x - 1]);
  }
  p = {};
  p.translate_y = -2.0f;
  dst = warp(src, p);
  for (int y = 0; y < R; ++y)
    for (int x = 0; x < C; ++x) REQUIRE(dst[y * C + x] == (y < R - 2 ? src[(y + 2) * C + x] : 0.0f));
}

TEST_CASE("scale 2 magnifies about the centre; a far shift empties the image") {
  std::vector<float> src = blob(2.0);
  ctnet::AffineParams p;
  p.scale = 2.0f;
  const std::vector<float> dst = warp(src, p);
  CHECK(mass(dst) == doctest::Approx(4.0 * mass(src)).epsilon(0.03));  // area grows by scale^2
  p = {};
  p.translate_x = 100.0f;
  CHECK(mass(warp(src, p)) == 0.0);
  p = {};
  p.scale = 1e-12f;  // maps every output far outside: must not overflow int conversion
  CHECK(std::isfinite(mass(warp(src, p))));
}

TEST_CASE("shear keeps the centre row and the blob's mass") {
  const std::vector<float> src = blob();
  ctnet::AffineParams p;
  p.shear = 15.0f;
  const std::vector<float> dst = warp(src, p);
  CHECK(mass(dst) == doctest::Approx(mass(src)).epsilon(0.02));
}

TEST_CASE("Normalize") {
  const ctnet::Normalize n;
  CHECK(n(0.0f) == doctest::Approx(-0.1307f / 0.3081f));
  CHECK(n(1.0f) == doctest::Approx((1.0f - 0.1307f) / 0.3081f));
  float px[2] = {0.0f, 1.0f};
  n.apply(px, 2);
  CHECK(px[0] == doctest::Approx(n(0.0f)));
  CHECK(px[1] == doctest::Approx(n(1.0f)));
  CHECK_THROWS_AS((ctnet::Normalize{0.5f, 0.0f}.validate()), ctnet::OptionError);
  CHECK_THROWS_AS((ctnet::Normalize{NAN, 1.0f}.validate()), ctnet::OptionError);
}

TEST_CASE("RandomAffine sampling: ranges, whole-pixel translation, determinism, validation") {
  const ctnet::RandomAffine aug(15.0f, 0.1f, 0.2f, 0.9f, 1.1f, 5.0f);
  aug.validate();
  bool saw_negative_angle = false, saw_positive_angle = false;
  for (std::uint64_t draw = 0; draw < 500; ++draw) {
    ctnet::Generator g(3, ctnet::RngStream::augment, draw);
    const ctnet::AffineParams p = aug.sample(g, R, C);
    REQUIRE(std::abs(p.angle) <= 15.0f);
    REQUIRE(std::abs(p.translate_x) <= std::round(0.1f * C));
    REQUIRE(std::abs(p.translate_y) <= std::round(0.2f * R));
    REQUIRE(p.translate_x == std::round(p.translate_x));
    REQUIRE(p.scale >= 0.9f);
    REQUIRE(p.scale <= 1.1f);
    REQUIRE(std::abs(p.shear) <= 5.0f);
    saw_negative_angle |= p.angle < 0;
    saw_positive_angle |= p.angle > 0;
    ctnet::Generator again(3, ctnet::RngStream::augment, draw);
    const ctnet::AffineParams q = aug.sample(again, R, C);
    REQUIRE(q.angle == p.angle);
    REQUIRE(q.scale == p.scale);
  }
  CHECK(saw_negative_angle);
  CHECK(saw_positive_angle);

  // A rotation is an affine with only the angle; disabled ranges give exact neutral values.
  const ctnet::RandomAffine rot = ctnet::RandomRotation{10.0f};
  ctnet::Generator g(1, ctnet::RngStream::augment, 0);
  const ctnet::AffineParams p = rot.sample(g, R, C);
  CHECK(p.translate_x == 0.0f);
  CHECK(p.translate_y == 0.0f);
  CHECK(p.scale == 1.0f);
  CHECK(p.shear == 0.0f);
  CHECK(std::abs(p.angle) <= 10.0f);

  CHECK_THROWS_AS(ctnet::RandomAffine(-1.0f).validate(), ctnet::OptionError);
  CHECK_THROWS_AS(ctnet::RandomAffine(0.0f, 1.5f).validate(), ctnet::OptionError);
  CHECK_THROWS_AS(ctnet::RandomAffine(0.0f, 0.0f, 0.0f, 1.2f, 1.1f).validate(), ctnet::OptionError);
  CHECK_THROWS_AS(ctnet::RandomAffine(0.0f, 0.0f, 0.0f, 0.0f, 1.0f).validate(), ctnet::OptionError);
  CHECK_THROWS_AS(ctnet::RandomAffine(0.0f, 0.0f, 0.0f, 1.0f, 1.0f, 90.0f).validate(), ctnet::OptionError);
}
