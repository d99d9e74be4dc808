// ctnet/data/image_resize.hpp — resampling a GrayImage to the network's input size.
//
// Requires: nothing beyond C++20. Guarantees: resize_bilinear is PIL's antialiased bilinear resampling (a
// triangle filter widened by the downscale factor), so shrinking a large photo averages instead of aliasing;
// same size is the identity; inconsistent sizes throw ctnet::Error.
#pragma once

#include <string>
#include <vector>

#include "../core/compiled.hpp"
#include "image_common.hpp"

namespace ctnet {

// Resamples to rows x cols with PIL's antialiased bilinear (triangle) filter, one axis at a time.
CTNET_COLD GrayImage resize_bilinear(const GrayImage& img, int rows, int cols);

}  // namespace ctnet

#if CTNET_COLD_BODIES
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>

namespace ctnet {

// Resamples to rows x cols with PIL's antialiased bilinear (triangle) filter, one axis at a time.
CTNET_COLD GrayImage resize_bilinear(const GrayImage& img, int rows, int cols) {
  if (rows < 1 || cols < 1 || img.rows < 1 || img.cols < 1 ||
      img.pixels.size() != static_cast<std::size_t>(img.rows) * static_cast<std::size_t>(img.cols))
    throw Error("resize_bilinear: bad sizes (" + std::to_string(img.cols) + "x" + std::to_string(img.rows) + " to " +
                std::to_string(cols) + "x" + std::to_string(rows) + ")");
  if (rows == img.rows && cols == img.cols) return img;
  // One axis's filter: output i = sum over k of weights[i][k] * input[first[i] + k].
  struct Axis {
    std::vector<std::size_t> first;
    std::vector<std::vector<float>> weights;
  };
  auto make_axis = [](int in_size, int out_size) {
    Axis ax;
    const double scale = static_cast<double>(in_size) / out_size, support = std::max(scale, 1.0);
    for (int i = 0; i < out_size; ++i) {
      const double centre = (i + 0.5) * scale;
      const int lo = std::max(0, static_cast<int>(std::floor(centre - support)));
      const int hi = std::min(in_size, static_cast<int>(std::ceil(centre + support)));
      std::vector<double> w;
      double total = 0.0;
      for (int j = lo; j < hi; ++j) {
        const double t = std::abs((j + 0.5 - centre) / support);
        w.push_back(t < 1.0 ? 1.0 - t : 0.0);
        total += w.back();
      }
      // Normalising per output keeps edges (where taps fall outside) at full brightness, as PIL does.
      std::vector<float> wf;
      for (double v : w) wf.push_back(static_cast<float>(total > 0.0 ? v / total : 0.0));
      ax.first.push_back(static_cast<std::size_t>(lo));
      ax.weights.push_back(std::move(wf));
    }
    return ax;
  };
  const std::size_t in_cols = static_cast<std::size_t>(img.cols), in_rows = static_cast<std::size_t>(img.rows);
  const std::size_t out_cols = static_cast<std::size_t>(cols), out_rows = static_cast<std::size_t>(rows);
  const Axis ax = make_axis(img.cols, cols), ay = make_axis(img.rows, rows);
  std::vector<float> tmp(in_rows * out_cols);  // horizontal pass
  for (std::size_t y = 0; y < in_rows; ++y) {
    for (std::size_t x = 0; x < out_cols; ++x) {
      const float* src = &img.pixels[y * in_cols + ax.first[x]];
      float s = 0.0f;
      for (std::size_t k = 0; k < ax.weights[x].size(); ++k) s += ax.weights[x][k] * src[k];
      tmp[y * out_cols + x] = s;
    }
  }
  GrayImage out{rows, cols, std::vector<float>(out_rows * out_cols)};
  for (std::size_t y = 0; y < out_rows; ++y) {
    for (std::size_t x = 0; x < out_cols; ++x) {
      float s = 0.0f;
      for (std::size_t k = 0; k < ay.weights[y].size(); ++k)
        s += ay.weights[y][k] * tmp[(ay.first[y] + k) * out_cols + x];
      out.pixels[y * out_cols + x] = s;
    }
  }
  return out;
}

}  // namespace ctnet
#endif  // CTNET_COLD_BODIES
