// Test data: a slice of real MNIST when it has been fetched (data/mnist or $CTNET_DATA), otherwise a
// generated stand-in with the same layout (ten classes of 28x28 strokes, shifted and noisy), so the
// end-to-end tests run everywhere and say which data they used.
#pragma once

#include <ctnet/data/mnist.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace ctnet::testing {

struct TestData {
  Dataset train, test;
  bool real = false;
};

inline Dataset generated_digits(int count, std::uint64_t seed) {
  Dataset d;
  d.count = count;
  d.rows = d.cols = 28;
  d.images.assign(std::size_t(count) * 784, 0);
  d.labels.resize(std::size_t(count));
  Generator g(seed, RngStream::user);
  for (int i = 0; i < count; ++i) {
    const int label = int(g.below(10));
    d.labels[std::size_t(i)] = std::uint8_t(label);
    const int dx = int(g.below(5)) - 2, dy = int(g.below(5)) - 2;
    std::uint8_t* img = d.images.data() + std::size_t(i) * 784;
    // Class k: a horizontal bar at row 4 + 2k and a vertical bar at column 4 + 2k (distinct per class).
    for (int t = 6; t < 22; ++t) {
      const int r = 4 + 2 * label + dy, c = t + dx;
      if (r >= 0 && r < 28 && c >= 0 && c < 28) img[r * 28 + c] = 255;
      const int r2 = t + dy, c2 = 4 + 2 * (9 - label) + dx;
      if (r2 >= 0 && r2 < 28 && c2 >= 0 && c2 < 28) img[r2 * 28 + c2] = 200;
    }
    for (int p = 0; p < 784; ++p)
      if (g.below(20) == 0) img[p] = std::uint8_t(g.below(128));
  }
  return d;
}

inline TestData test_data(int train_count, int test_count) {
  const char* env = std::getenv("CTNET_DATA");
  const std::string dir = env && *env ? env : "data/mnist";
  TestData t;
  if (std::filesystem::exists(dir + "/train-images-idx3-ubyte.gz") ||
      std::filesystem::exists(dir + "/train-images-idx3-ubyte")) {
    t.train = slice(load_mnist_split(dir, true), 0, train_count);
    t.test = slice(load_mnist_split(dir, false), 0, test_count);
    t.real = true;
  } else {
    t.train = generated_digits(train_count, 1);
    t.test = generated_digits(test_count, 2);
  }
  return t;
}

}  // namespace ctnet::testing
