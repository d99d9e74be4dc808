// ctnet/data/mnist.hpp — MNIST-format data sets (MNIST, Fashion-MNIST, ...) held in memory as bytes.
//
// Requires: zlib (link -lz) through idx.hpp. The directory holds the four canonical IDX files, raw or .gz
// (scripts/fetch_mnist.sh puts them there).
// Guarantees: load_mnist_split returns a consistent Dataset (images.size() == count*rows*cols,
// labels.size() == count, every label in 0..9) or throws ctnet::DataError naming the file(s) at fault; the
// Dataset remembers its two files so later checks (check_images_fit, check_labels_fit: loader.hpp, the
// trainer) can name them. slice returns a copy of a contiguous range, with bounds checked.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../core/compiled.hpp"
#include "../core/error.hpp"
#include "idx.hpp"

namespace ctnet {

struct Dataset {
  std::vector<std::uint8_t> images;  // count x rows x cols, row-major, 0 = background
  std::vector<std::uint8_t> labels;  // count
  int count = 0;
  int rows = 0;
  int cols = 0;
  std::string images_file;  // where images and labels were read from; empty for data built in memory
  std::string labels_file;

  int image_size() const { return rows * cols; }
  const std::uint8_t* image(int i) const { return images.data() + static_cast<std::size_t>(i) * image_size(); }
};

namespace mnist_detail {

// "'path': " for messages, or "Dataset: " when the data were built in memory.
inline std::string origin(const std::string& file) { return file.empty() ? "Dataset: " : "'" + file + "': "; }

}  // namespace mnist_detail

// Loads the training split (train-*) or the test split (t10k-*) from `dir`.
CTNET_COLD Dataset load_mnist_split(const std::string& dir, bool train);

// Throws DataError, naming the images file, unless each image is rows x cols.
CTNET_COLD void check_image_shape(const Dataset& data, int rows, int cols);

// Throws DataError, naming the labels file and the first bad sample, unless every label is below `classes`.
CTNET_COLD void check_label_range(const Dataset& data, int classes);

// Samples [first, first + count) of `data`, copied.
CTNET_COLD Dataset slice(const Dataset& data, int first, int count);

}  // namespace ctnet

#if CTNET_COLD_BODIES
namespace ctnet {

namespace mnist_detail {

inline std::string dims_text(const std::vector<int>& dims) {
  std::string s;
  for (std::size_t i = 0; i < dims.size(); ++i) s.append(i ? "x" : "").append(std::to_string(dims[i]));
  return s;
}

inline std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

}  // namespace mnist_detail

CTNET_COLD Dataset load_mnist_split(const std::string& dir, bool train) {
  using mnist_detail::dims_text;
  const std::string prefix = train ? "train" : "t10k";
  const std::string images_path = mnist_detail::join_path(dir, prefix + "-images-idx3-ubyte");
  const std::string labels_path = mnist_detail::join_path(dir, prefix + "-labels-idx1-ubyte");

  IdxArray images, labels;
  try {
    images = read_idx(images_path);
    labels = read_idx(labels_path);
  } catch (const DataError& e) {
    // A missing file is most often a data set that was never fetched; say how to fetch it.
    const std::string what = e.what();
    if (what.find("not found") != std::string::npos)
      throw DataError(what.substr(7) + "; run scripts/fetch_mnist.sh " + dir + " to download MNIST");
    throw;
  }
  if (images.dims.size() != 3) {
    throw DataError("'" + images_path + "': an image file must have rank 3 (count x rows x cols), found rank " +
                    std::to_string(images.dims.size()) + " (" + dims_text(images.dims) + ")");
  }
  if (labels.dims.size() != 1) {
    throw DataError("'" + labels_path + "': a label file must have rank 1 (count), found rank " +
                    std::to_string(labels.dims.size()) + " (" + dims_text(labels.dims) + ")");
  }
  if (images.dims[0] != labels.dims[0]) {
    throw DataError("'" + images_path + "' holds " + std::to_string(images.dims[0]) + " images but '" + labels_path +
                    "' holds " + std::to_string(labels.dims[0]) + " labels");
  }
  for (std::size_t i = 0; i < labels.bytes.size(); ++i) {
    if (labels.bytes[i] > 9) {
      throw DataError("'" + labels_path + "': label " + std::to_string(i) + " is " + std::to_string(labels.bytes[i]) +
                      ", outside 0..9");
    }
  }
  Dataset out;
  out.count = images.dims[0];
  out.rows = images.dims[1];
  out.cols = images.dims[2];
  out.images = std::move(images.bytes);
  out.labels = std::move(labels.bytes);
  out.images_file = images_path;
  out.labels_file = labels_path;
  return out;
}

CTNET_COLD void check_image_shape(const Dataset& data, int rows, int cols) {
  if (data.rows != rows || data.cols != cols)
    throw DataError(mnist_detail::origin(data.images_file) + "images are " + std::to_string(data.rows) + "x" +
                    std::to_string(data.cols) + ", expected " + std::to_string(rows) + "x" + std::to_string(cols));
}

CTNET_COLD void check_label_range(const Dataset& data, int classes) {
  for (std::size_t i = 0; i < data.labels.size(); ++i) {
    if (data.labels[i] >= classes)
      throw DataError(mnist_detail::origin(data.labels_file) + "label " + std::to_string(data.labels[i]) +
                      " (sample " + std::to_string(i) + ") is outside 0.." + std::to_string(classes - 1) +
                      ", expected one of " + std::to_string(classes) + " classes");
  }
}

CTNET_COLD Dataset slice(const Dataset& data, int first, int count) {
  if (first < 0 || count < 0 || first > data.count || count > data.count - first) {
    throw DataError("slice [" + std::to_string(first) + ", " + std::to_string(first) + "+" + std::to_string(count) +
                    ") is outside the data set's " + std::to_string(data.count) + " samples");
  }
  Dataset out;
  out.count = count;
  out.rows = data.rows;
  out.cols = data.cols;
  out.images_file = data.images_file;
  out.labels_file = data.labels_file;
  const auto size = static_cast<std::size_t>(data.image_size());
  out.images.assign(data.images.begin() + static_cast<std::ptrdiff_t>(first * size),
                    data.images.begin() + static_cast<std::ptrdiff_t>((first + count) * size));
  out.labels.assign(data.labels.begin() + first, data.labels.begin() + first + count);
  return out;
}

}  // namespace ctnet
#endif  // CTNET_COLD_BODIES
