// ctnet/backend/common/augment.hpp — DataLoader's random affine augmentation as a per-pixel body, so a
// device can gather augmented batches.
//
// Requires: byte images [count x rows x cols]; a table of AffineCoefficients indexed by dataset index (one
// draw per sample and epoch, made on the host by affine_table from DataLoader's generator).
// Guarantees: affine_coefficients is affine_warp's inverse map for AffineParams, computed with the same
// double expressions; gather_affine computes pixel i of a batch as DataLoader does with an augment: byte /
// 255, affine_warp (bilinear, zero outside), then Normalize — the same operations in the same order, with
// products and sums rounded separately on the device (no FMA contraction), so the result equals the
// host loader's bit for bit (tests/cuda_host/test_augment.cpp checks the host side).
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "../../core/host_device.hpp"
#include "../../core/rng.hpp"
#include "../../data/transforms.hpp"

namespace ctnet::kernels {

// affine_warp's output-to-input map: ix = m0 * ox + m1 * oy + cx, iy = m3 * ox + m4 * oy + cy with
// ox = x - cx - tx, oy = y - cy - ty.
struct AffineCoefficients {
  double m0 = 1, m1 = 0, m3 = 0, m4 = 1, tx = 0, ty = 0;
};

// Host only: the expressions of affine_warp, in the same order.
inline AffineCoefficients affine_coefficients(const AffineParams& p) {
  constexpr double deg = std::numbers::pi / 180.0;
  const double rot = -static_cast<double>(p.angle) * deg, sx = static_cast<double>(p.shear) * deg;
  const double a = std::cos(rot), b = -std::cos(rot) * std::tan(sx) - std::sin(rot);
  const double c = std::sin(rot), d = -std::sin(rot) * std::tan(sx) + std::cos(rot);
  const double inv_scale = 1.0 / static_cast<double>(p.scale);
  AffineCoefficients k;
  k.m0 = d * inv_scale;
  k.m1 = -b * inv_scale;
  k.m3 = -c * inv_scale;
  k.m4 = a * inv_scale;
  k.tx = p.translate_x;
  k.ty = p.translate_y;
  return k;
}

// Host only: DataLoader's draw for every sample of an epoch, as a table indexed by dataset index.
inline void affine_table(const RandomAffine& augment, std::uint64_t seed, int epoch, int count, int rows, int cols,
                         std::vector<AffineCoefficients>& out) {
  out.resize(static_cast<std::size_t>(count));
  for (int index = 0; index < count; ++index) {
    const std::uint64_t draw = (static_cast<std::uint64_t>(epoch) << 32) | static_cast<std::uint32_t>(index);
    Generator g(seed, RngStream::augment, draw);
    out[static_cast<std::size_t>(index)] = affine_coefficients(augment.sample(g, rows, cols));
  }
}

namespace augment_detail {
// Separately rounded products and sums: the host compiles these without contraction (ISO C++ mode), the
// device is told so explicitly.
CTNET_HD inline double dmul(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
CTNET_HD inline double dadd(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}
CTNET_HD inline float fmul(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
CTNET_HD inline float fadd(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
CTNET_HD inline double floor_of(double v) {
#if defined(__CUDA_ARCH__)
  return ::floor(v);
#else
  return std::floor(v);
#endif
}
// The source pixel as DataLoader's scratch holds it (byte / 255), 0 outside the image.
CTNET_HD inline float pixel(const std::uint8_t* src, int rows, int cols, int y, int x) {
  return (x >= 0 && x < cols && y >= 0 && y < rows)
             ? fmul(static_cast<float>(src[static_cast<long>(y) * cols + x]), 1.0f / 255.0f)
             : 0.0f;
}
CTNET_HD inline float lerp_row(const std::uint8_t* src, int rows, int cols, int y, int x0, float wx) {
  return fadd(fmul(pixel(src, rows, cols, y, x0), 1.0f - wx),
              wx != 0.0f ? fmul(pixel(src, rows, cols, y, x0 + 1), wx) : 0.0f);
}
}  // namespace augment_detail

// Element i of an augmented, normalised batch: i over batch * rows * cols; indices[s] is sample s's
// dataset index and coefficients[indices[s]] its transform.
template <class T>
CTNET_HD inline void gather_affine(long i, const std::uint8_t* images, const int* indices,
                                   const AffineCoefficients* coefficients, int rows, int cols, T* out, float mean,
                                   float inv_std) {
  using namespace augment_detail;
  const long image_size = static_cast<long>(rows) * cols;
  const long s = i / image_size, k = i % image_size;
  const int index = indices[s];
  const AffineCoefficients m = coefficients[index];
  const std::uint8_t* src = images + static_cast<long>(index) * image_size;
  const int y = static_cast<int>(k / cols), x = static_cast<int>(k % cols);
  const double cx = 0.5 * (cols - 1), cy = 0.5 * (rows - 1);
  const double ox = x - cx - m.tx, oy = y - cy - m.ty;
  const double ix = dadd(dadd(dmul(m.m0, ox), dmul(m.m1, oy)), cx);
  const double iy = dadd(dadd(dmul(m.m3, ox), dmul(m.m4, oy)), cy);
  const double fx0 = floor_of(ix), fy0 = floor_of(iy);
  float v = 0.0f;
  if (fx0 >= -1.0 && fx0 < cols && fy0 >= -1.0 && fy0 < rows) {
    const int x0 = static_cast<int>(fx0), y0 = static_cast<int>(fy0);
    const float wx = static_cast<float>(ix - fx0), wy = static_cast<float>(iy - fy0);
    v = fadd(fmul(lerp_row(src, rows, cols, y0, x0, wx), 1.0f - wy),
             wy != 0.0f ? fmul(lerp_row(src, rows, cols, y0 + 1, x0, wx), wy) : 0.0f);
  }
  out[i] = static_cast<T>((v - mean) * inv_std);
}

}  // namespace ctnet::kernels
