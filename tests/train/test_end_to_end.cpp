#include "support/helpers.hpp"

#include <ctnet/data/loader.hpp>
#include <ctnet/train/loss.hpp>
#include <ctnet/train/optimizer.hpp>
#include <ctnet/train/schedule.hpp>
#include <ctnet/train/trainer.hpp>
#include <sstream>

#include "support/data.hpp"

using namespace ctnet;
using namespace ctnet::testing;

using Small = Sequential<Input<1, 28, 28>, Conv2d<8, 3, NoBias>, BatchNorm2d, ReLU, MaxPool2d<2>, Conv2d<16, 3, NoBias>,
                         BatchNorm2d, ReLU, Dropout<0.05f>, MaxPool2d<2>, Flatten, Linear<10>, LogSoftmax>;

TEST_CASE("a small network trains on a slice of MNIST: the loss falls and accuracy is far above chance") {
  const TestData data = test_data(3000, 1000);
  MESSAGE(std::string(data.real ? "data: MNIST slice" : "data: generated stand-in (MNIST not fetched)"));
  LoaderOptions lo;
  lo.batch_size = 64;
  lo.seed = 3;
  DataLoader train(data.train, lo);
  LoaderOptions to = lo;
  to.shuffle = false;
  to.batch_size = 500;
  DataLoader test(data.test, to);
  Model<Small> model(3, 64, 500);
  SGD<float> sgd(0.05, 0.9);
  OneCycleLR::Options oc;
  oc.max_lr = 0.05;
  oc.total_steps = 3L * train.batches_per_epoch();
  oc.cycle_momentum = false;
  const OneCycleLR one_cycle(oc);
  StepSchedule schedule{[&](long step, int) { return one_cycle.lr_at(step); }, {}};
  std::ostringstream quiet;
  ProgressBar progress(quiet, ProgressBar::Mode::off);
  Trainer<Model<Small>, NLLLoss> trainer(model, NLLLoss{}, progress);
  std::vector<double> losses;
  for (int epoch = 1; epoch <= 3; ++epoch) losses.push_back(trainer.train_epoch(train, sgd, schedule, epoch, "e").train.loss);
  const EvalResult r = evaluate(model, test, NLLLoss{});
  MESSAGE("train loss per epoch " << losses[0] << " " << losses[1] << " " << losses[2] << ", test accuracy "
                                  << r.accuracy());
  CHECK(losses[2] < 0.5 * losses[0]);
  CHECK(r.accuracy() > 0.85);  // chance is 0.1
  CHECK(r.total == 1000);
}

TEST_CASE("training is reproducible: the same seed gives the same parameters") {
  const TestData data = test_data(512, 10);
  const auto train_once = [&] {
    LoaderOptions lo;
    lo.batch_size = 64;
    lo.seed = 9;
    lo.augment = RandomAffine(10.0f, 0.1f, 0.1f);
    DataLoader train(data.train, lo);
    Model<Small> model(9, 64);
    SGD<float> sgd(0.05, 0.9);
    std::ostringstream quiet;
    ProgressBar progress(quiet, ProgressBar::Mode::off);
    Trainer<Model<Small>, NLLLoss> trainer(model, NLLLoss{}, progress);
    trainer.train_epoch(train, sgd, StepSchedule{[](long, int) { return 0.05; }, {}}, 1, "e");
    return model.read_parameters();
  };
  CHECK(train_once() == train_once());
}
