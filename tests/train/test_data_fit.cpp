// Data that do not fit the network are refused before any step: the Trainer and evaluate check the
// loader's Dataset against the network's input shape and class count (check_fits), naming the file and
// the shapes found and expected; check_fits itself on every input rank.
#include "support/helpers.hpp"

#include <ctnet/data/loader.hpp>
#include <ctnet/train/loss.hpp>
#include <ctnet/train/optimizer.hpp>
#include <ctnet/train/trainer.hpp>
#include <sstream>
#include <string>

using namespace ctnet;

namespace {

using Tiny = Sequential<Input<1, 28, 28>, Conv2d<4, 3>, ReLU, GlobalAvgPool, Flatten, Linear<10>, LogSoftmax>;

Dataset make_data(int n, int rows, int cols, int label_modulo = 10) {
  Dataset d;
  d.count = n;
  d.rows = rows;
  d.cols = cols;
  d.images.assign(std::size_t(n) * std::size_t(rows * cols), 77);
  for (int i = 0; i < n; ++i) d.labels.push_back(std::uint8_t(i % label_modulo));
  return d;
}

struct Run {
  Model<Tiny> model{1, 16, 16};
  SGD<float> sgd{0.01, 0.9};
  StepSchedule schedule{[](long, int) { return 0.01; }, {}};
  std::ostringstream quiet;
  ProgressBar progress{quiet, ProgressBar::Mode::off};
  Trainer<Model<Tiny>, NLLLoss> trainer{model, NLLLoss{}, progress};
};

LoaderOptions batches_of(int n) {
  LoaderOptions o;
  o.batch_size = n;
  o.shuffle = false;
  return o;
}

}  // namespace

TEST_CASE("the trainer refuses images that are not the network's input size, before any step") {
  Run run;
  Dataset small = make_data(20, 20, 20);
  small.images_file = "dir/train-images-idx3-ubyte";
  DataLoader loader(small, batches_of(16));
  const std::vector<float> before = run.model.read_parameters();
  CHECK_THROWS_WITH_AS(run.trainer.train_epoch(loader, run.sgd, run.schedule, 1, "e"),
                       "ctnet: 'dir/train-images-idx3-ubyte': images are 1x20x20 (400 values), the network's input "
                       "is 1x28x28 (784)",
                       DataError);
  CHECK(run.model.read_parameters() == before);  // nothing was trained
  CHECK(run.trainer.global_step() == 0);
  CHECK_THROWS_WITH_AS(evaluate(run.model, loader, NLLLoss{}),
                       doctest::Contains("images are 1x20x20 (400 values), the network's input is 1x28x28"),
                       DataError);
}

TEST_CASE("same pixel count, other shape: 14x56 is not 28x28") {
  Run run;
  const Dataset wide = make_data(20, 14, 56);  // built in memory: no file to name
  DataLoader loader(wide, batches_of(16));
  CHECK_THROWS_WITH_AS(run.trainer.train_epoch(loader, run.sgd, run.schedule, 1, "e"),
                       "ctnet: Dataset: images are 1x14x56 (784 values), the network's input is 1x28x28 (784)",
                       DataError);
}

TEST_CASE("labels outside the network's classes are refused, naming the labels file and the sample") {
  Run run;
  Dataset d = make_data(20, 28, 28);
  d.labels[13] = 10;
  d.labels_file = "x/t10k-labels-idx1-ubyte";
  DataLoader loader(d, batches_of(16));
  const std::string message =
      "ctnet: 'x/t10k-labels-idx1-ubyte': label 10 (sample 13) is outside 0..9, expected one of 10 classes";
  CHECK_THROWS_WITH_AS(run.trainer.train_epoch(loader, run.sgd, run.schedule, 1, "e"), message.c_str(), DataError);
  CHECK_THROWS_WITH_AS(evaluate(run.model, loader, NLLLoss{}), message.c_str(), DataError);
}

TEST_CASE("data that fit train, and the check costs no step") {
  Run run;
  const Dataset d = make_data(20, 28, 28);
  DataLoader loader(d, batches_of(16));
  const EpochResult r = run.trainer.train_epoch(loader, run.sgd, run.schedule, 1, "e");
  CHECK(r.train.total == 20);
  CHECK(run.trainer.global_step() == 2);
  CHECK(evaluate(run.model, loader, NLLLoss{}).total == 20);
}

TEST_CASE("check_fits on every input rank") {
  using Image = Shape<1, 28, 28>;
  using Plane = Shape<28, 28>;
  using Flat = Shape<784>;
  using Rgb = Shape<3, 28, 28>;
  using Narrow = Shape<28, 27>;
  using Flat785 = Shape<785>;
  using Four = Shape<4, 14, 14>;
  const Dataset d = make_data(3, 28, 28, 3);
  CHECK_NOTHROW(check_fits<Image>(d, 10));
  CHECK_NOTHROW(check_fits<Plane>(d, 10));
  CHECK_NOTHROW(check_fits<Flat>(d, 10));  // a flat input takes the pixels in row-major order
  CHECK_NOTHROW(check_fits<Image>(d, 3));
  CHECK_NOTHROW(check_fits<Image>(d, 0));  // 0: labels not checked
  CHECK_THROWS_WITH_AS(check_fits<Image>(d, 2), doctest::Contains("label 2 (sample 2) is outside 0..1"),
                       DataError);
  CHECK_THROWS_WITH_AS(check_fits<Rgb>(d, 10),
                       "ctnet: Dataset: images are 1x28x28 (784 values), the network's input is 3x28x28 (2352)",
                       DataError);
  CHECK_THROWS_WITH_AS(check_fits<Narrow>(d, 10), doctest::Contains("the network's input is 28x27 (756)"),
                       DataError);
  CHECK_THROWS_WITH_AS(check_fits<Flat785>(d, 10), doctest::Contains("the network's input is 785 (785)"),
                       DataError);
  CHECK_THROWS_AS(check_fits<Four>(d, 10), DataError);  // 784 values, but 4 channels
}

TEST_CASE("check_image_shape and check_label_range name the Dataset's files; slice keeps them") {
  Dataset d = make_data(5, 28, 28);
  d.images_file = "a/images";
  d.labels_file = "a/labels";
  const Dataset s = slice(d, 1, 3);
  CHECK(s.images_file == "a/images");
  CHECK(s.labels_file == "a/labels");
  CHECK_THROWS_WITH_AS(check_image_shape(s, 20, 20), "ctnet: 'a/images': images are 28x28, expected 20x20", DataError);
  CHECK_NOTHROW(check_image_shape(s, 28, 28));
  CHECK_THROWS_WITH_AS(check_label_range(s, 3), doctest::Contains("'a/labels': label 3 (sample 2)"), DataError);
}
