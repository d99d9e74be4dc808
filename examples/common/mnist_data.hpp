// examples/common/mnist_data.hpp — the MNIST splits and loader settings every example uses.
//
// Requires: RunOptions (options.hpp). Guarantees: the training split honours --train-limit, the test split
// --test-limit; training batches are shuffled from --seed and augmented by --rotation/--translate; test
// batches are 1000 images in file order. Missing or malformed files throw ctnet::DataError.
#pragma once

#include <ctnet/data/loader.hpp>
#include <ctnet/data/mnist.hpp>

#include "options.hpp"

namespace examples {

struct MnistSplits {
  ctnet::Dataset train, test;
};

inline MnistSplits load_splits(const RunOptions& o) {
  MnistSplits s{ctnet::load_mnist_split(o.data, true), ctnet::load_mnist_split(o.data, false)};
  if (o.train_limit) s.train = ctnet::slice(s.train, 0, int(o.train_limit));
  if (o.test_limit) s.test = ctnet::slice(s.test, 0, int(o.test_limit));
  return s;
}

inline ctnet::LoaderOptions train_loader_options(const RunOptions& o) {
  ctnet::LoaderOptions l;
  l.batch_size = o.batch;
  l.seed = o.seed;
  if (o.rotation > 0 || o.translate > 0) l.augment = ctnet::RandomAffine(o.rotation, o.translate, o.translate);
  return l;
}

inline constexpr int test_batch = 1000;

inline ctnet::LoaderOptions test_loader_options() {
  ctnet::LoaderOptions l;
  l.batch_size = test_batch;
  l.shuffle = false;
  return l;
}

}  // namespace examples
