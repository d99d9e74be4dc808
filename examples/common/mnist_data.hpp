// examples/common/mnist_data.hpp — the MNIST splits and loader settings every example uses.
//
// Requires: RunOptions (options.hpp). Guarantees: the training split honours --train-limit, the test split
// --test-limit; with --validation N the last N training images are the evaluation split instead of the test
// set (which is then not read) and --train-limit counts among the images before them; training batches are
// shuffled from --seed and augmented by --rotation/--translate/--scale; test batches are 1000 images in file order.
// Missing or malformed files, files whose images do not fit the network's input (InputShape) or whose labels
// do not fit its classes, and a limit above what a file holds throw ctnet::DataError naming the file, before
// anything is trained. No Eigen: the CUDA driver uses it.
#pragma once

#include <optional>

#include <ctnet/data/loader.hpp>
#include <ctnet/data/mnist.hpp>

#include "compiled.hpp"
#include "options.hpp"

namespace examples {

struct MnistSplits {
  ctnet::Dataset train, test;
};

// The first `limit` samples of `data` (all when limit is 0); `option` names the limit in the error.
// `held_out`: how many images of the file another split took (--validation), which the message counts out.
CTNET_EXAMPLES_COLD ctnet::Dataset limited(ctnet::Dataset data, long limit, const char* option, long held_out = 0);

// Every MNIST example's network takes one 1x28x28 image (the adder: plus a digit) and scores 10 digits.
template <class InputShape = ctnet::Shape<1, 28, 28>>
MnistSplits load_splits(const RunOptions& o, int classes = 10) {
  MnistSplits s{ctnet::load_mnist_split(o.data, true), {}};
  ctnet::check_fits<InputShape>(s.train, classes);
  if (!o.validation) {
    s.test = ctnet::load_mnist_split(o.data, false);
    ctnet::check_fits<InputShape>(s.test, classes);
  } else {
    // The held-out images come from the end, so --train-limit still takes the first images of the file.
    if (o.validation >= s.train.count)
      throw ctnet::DataError("--validation " + std::to_string(o.validation) + ": '" + s.train.images_file +
                             "' holds only " + std::to_string(s.train.count) +
                             " images, and at least one must be left to train on");
    const int kept = s.train.count - int(o.validation);
    s.test = ctnet::slice(s.train, kept, int(o.validation));
    s.train = ctnet::slice(s.train, 0, kept);
  }
  s.train = limited(std::move(s.train), o.train_limit, "--train-limit", o.validation);
  s.test = limited(std::move(s.test), o.test_limit, "--test-limit");
  return s;
}

// The training images' augmentation (--rotation, --translate, --scale), on either device; none when all are 0.
CTNET_EXAMPLES_COLD std::optional<ctnet::RandomAffine> augmentation(const RunOptions& o);

CTNET_EXAMPLES_COLD ctnet::LoaderOptions train_loader_options(const RunOptions& o);

inline constexpr int test_batch = 1000;

CTNET_EXAMPLES_COLD ctnet::LoaderOptions test_loader_options();

}  // namespace examples

#if CTNET_EXAMPLES_COLD_BODIES
namespace examples {

CTNET_EXAMPLES_COLD ctnet::Dataset limited(ctnet::Dataset data, long limit, const char* option, long held_out) {
  if (limit > data.count)
    throw ctnet::DataError(
        std::string(option) + " " + std::to_string(limit) + ": '" + data.images_file + "' holds only " +
        std::to_string(data.count) + " images" +
        (held_out ? " besides the " + std::to_string(held_out) + " that --validation holds out" : std::string()));
  return limit ? ctnet::slice(data, 0, int(limit)) : data;
}

CTNET_EXAMPLES_COLD std::optional<ctnet::RandomAffine> augmentation(const RunOptions& o) {
  if (o.rotation > 0 || o.translate > 0 || o.scale > 0)
    return ctnet::RandomAffine(o.rotation, o.translate, o.translate, 1.0f - o.scale, 1.0f + o.scale);
  return std::nullopt;
}

CTNET_EXAMPLES_COLD ctnet::LoaderOptions train_loader_options(const RunOptions& o) {
  ctnet::LoaderOptions l;
  l.batch_size = o.batch;
  l.seed = o.seed;
  l.augment = augmentation(o);
  return l;
}

CTNET_EXAMPLES_COLD ctnet::LoaderOptions test_loader_options() {
  ctnet::LoaderOptions l;
  l.batch_size = test_batch;
  l.shuffle = false;
  return l;
}

}  // namespace examples
#endif  // CTNET_EXAMPLES_COLD_BODIES
