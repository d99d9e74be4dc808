// ctnet/data/transforms.hpp — per-image transforms: normalisation and random affine augmentation.
//
// Requires: single-channel images as float pixels in [0, 1] (byte / 255), row-major rows x cols.
// Guarantees: affine_warp is a pure function that samples the source bilinearly at the inverse-mapped centre
// of each destination pixel, treating everything outside the image as 0 (torchvision's RandomAffine with
// fill 0); the identity transform reproduces the source bit for bit. RandomAffine::sample draws its
// parameters from a ctnet::Generator in a fixed order (always five draws), so a sample's augmentation is a
// pure function of the generator's (seed, stream, draw).
#pragma once

#include <cmath>
#include <cstddef>
#include <numbers>
#include <string>

#include "../core/error.hpp"
#include "../core/rng.hpp"

namespace ctnet {

// (x - mean) / std; the defaults are MNIST's training-set statistics.
struct Normalize {
  float mean = 0.1307f;
  float std = 0.3081f;

  float operator()(float x) const { return (x - mean) / std; }
  void apply(float* pixels, std::size_t n) const {
    const float inv = 1.0f / std;
    for (std::size_t i = 0; i < n; ++i) pixels[i] = (pixels[i] - mean) * inv;
  }
  void validate() const {
    if (!std::isfinite(mean) || !std::isfinite(std) || !(std > 0.0f))
      throw OptionError("Normalize needs a finite mean and a finite std > 0, got mean " + std::to_string(mean) +
                        ", std " + std::to_string(std));
  }
};

// One concrete affine transform about the image centre. Angles in degrees, positive angle rotates the
// content counter-clockwise as displayed (y down); translation in pixels; shear along x.
struct AffineParams {
  float angle = 0.0f;
  float translate_x = 0.0f;
  float translate_y = 0.0f;
  float scale = 1.0f;
  float shear = 0.0f;
};

// Rotation by an angle uniform in [-degrees, degrees].
struct RandomRotation {
  float degrees = 0.0f;
};

// torchvision's RandomAffine: angle uniform in [-degrees, degrees]; translation uniform in
// [-translate_x * cols, translate_x * cols] (likewise y), rounded to whole pixels as torchvision does;
// scale uniform in [scale_min, scale_max]; x-shear uniform in [-shear, shear] degrees.
struct RandomAffine {
  float degrees = 0.0f;
  float translate_x = 0.0f;  // fraction of the width
  float translate_y = 0.0f;  // fraction of the height
  float scale_min = 1.0f;
  float scale_max = 1.0f;
  float shear = 0.0f;

  RandomAffine() = default;
  RandomAffine(float degrees_, float translate_x_ = 0.0f, float translate_y_ = 0.0f, float scale_min_ = 1.0f,
               float scale_max_ = 1.0f, float shear_ = 0.0f)
      : degrees(degrees_),
        translate_x(translate_x_),
        translate_y(translate_y_),
        scale_min(scale_min_),
        scale_max(scale_max_),
        shear(shear_) {}
  // A rotation is the affine transform with only an angle.
  RandomAffine(const RandomRotation& r) : degrees(r.degrees) {}  // NOLINT: implicit on purpose

  void validate() const {
    auto bad = [](const std::string& what) { throw OptionError("RandomAffine: " + what); };
    if (!(degrees >= 0.0f && degrees <= 180.0f)) bad("degrees must be in [0, 180], got " + std::to_string(degrees));
    if (!(translate_x >= 0.0f && translate_x <= 1.0f) || !(translate_y >= 0.0f && translate_y <= 1.0f))
      bad("translate fractions must be in [0, 1], got " + std::to_string(translate_x) + ", " +
          std::to_string(translate_y));
    if (!(scale_min > 0.0f && scale_min <= scale_max && std::isfinite(scale_max)))
      bad("scale range must satisfy 0 < scale_min <= scale_max, got [" + std::to_string(scale_min) + ", " +
          std::to_string(scale_max) + "]");
    if (!(shear >= 0.0f && shear < 90.0f)) bad("shear must be in [0, 90) degrees, got " + std::to_string(shear));
  }

  AffineParams sample(Generator& g, int rows, int cols) const {
    // Always five draws in this order, whatever is disabled, so changing one range never shifts the others.
    const double u_angle = g.uniform_double(), u_tx = g.uniform_double(), u_ty = g.uniform_double();
    const double u_scale = g.uniform_double(), u_shear = g.uniform_double();
    AffineParams p;
    p.angle = static_cast<float>((2.0 * u_angle - 1.0) * degrees);
    const double max_dx = static_cast<double>(translate_x) * cols, max_dy = static_cast<double>(translate_y) * rows;
    p.translate_x = static_cast<float>(std::round((2.0 * u_tx - 1.0) * max_dx));
    p.translate_y = static_cast<float>(std::round((2.0 * u_ty - 1.0) * max_dy));
    p.scale = static_cast<float>(scale_min + u_scale * (static_cast<double>(scale_max) - scale_min));
    p.shear = static_cast<float>((2.0 * u_shear - 1.0) * shear);
    return p;
  }
};

// dst = src warped by `p` about the centre ((cols-1)/2, (rows-1)/2). src and dst must not overlap.
inline void affine_warp(const float* src, float* dst, int rows, int cols, const AffineParams& p) {
  // Inverse map (output pixel -> input point), following torchvision's _get_inverse_affine_matrix with the
  // rotation sign flipped so that a positive angle is counter-clockwise on screen.
  constexpr double deg = std::numbers::pi / 180.0;
  const double rot = -static_cast<double>(p.angle) * deg, sx = static_cast<double>(p.shear) * deg;
  const double a = std::cos(rot), b = -std::cos(rot) * std::tan(sx) - std::sin(rot);
  const double c = std::sin(rot), d = -std::sin(rot) * std::tan(sx) + std::cos(rot);
  const double inv_scale = 1.0 / static_cast<double>(p.scale);
  // Inverse of [[a, b], [c, d]] (its determinant is 1), divided by the scale.
  const double m0 = d * inv_scale, m1 = -b * inv_scale, m3 = -c * inv_scale, m4 = a * inv_scale;
  const double cx = 0.5 * (cols - 1), cy = 0.5 * (rows - 1);
  const double tx = p.translate_x, ty = p.translate_y;

  auto at = [&](int y, int x) -> float {
    return (x >= 0 && x < cols && y >= 0 && y < rows) ? src[static_cast<std::size_t>(y) * cols + x] : 0.0f;
  };
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols; ++x) {
      const double ox = x - cx - tx, oy = y - cy - ty;
      const double ix = m0 * ox + m1 * oy + cx, iy = m3 * ox + m4 * oy + cy;
      const double fx0 = std::floor(ix), fy0 = std::floor(iy);
      float v = 0.0f;
      // Compared as doubles first: a tiny scale can map far outside int range.
      if (fx0 >= -1.0 && fx0 < cols && fy0 >= -1.0 && fy0 < rows) {
        const int x0 = static_cast<int>(fx0), y0 = static_cast<int>(fy0);
        const float wx = static_cast<float>(ix - fx0), wy = static_cast<float>(iy - fy0);
        // Neighbours with zero weight are skipped, so wx == wy == 0 gives exactly at(y0, x0): the identity and
        // whole-pixel translations are exact.
        auto row = [&](int yy) { return at(yy, x0) * (1.0f - wx) + (wx != 0.0f ? at(yy, x0 + 1) * wx : 0.0f); };
        v = row(y0) * (1.0f - wy) + (wy != 0.0f ? row(y0 + 1) * wy : 0.0f);
      }
      dst[static_cast<std::size_t>(y) * cols + x] = v;
    }
  }
}

}  // namespace ctnet
