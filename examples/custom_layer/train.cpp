// train.cpp — trains a network that mixes ctnet's layers with two written here (Swish, DepthwiseConv2d),
// on generated images, with ctnet's Trainer; prints the summary, saves a checkpoint and loads it back.
//
// Usage: custom_layer_train [CHECKPOINT]   (default custom_layer.safetensors). Exit 0 when the network
// learned the patterns (test accuracy >= 90%) and the reloaded model predicts the same bits; 1 otherwise.
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <ctnet/testing.hpp>

#include "network.hpp"

using custom::Net;

// The network's shape and budgets are part of its type: checked before it ever runs.
CTNET_CHECK_OUTPUT_SHAPE(Net, ctnet::Shape<3>);
CTNET_CHECK_PARAMETER_BUDGET(Net, 1000);
CTNET_CHECK_RECEPTIVE_FIELD_AT_LEAST(Net, 5);

int main(int argc, char** argv) {
  if (argc > 2 || (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || argv[1][0] == '\0'))) {
    std::fprintf(stderr, "usage: custom_layer_train [CHECKPOINT]\n");
    return 2;
  }
  const std::string path = argc == 2 ? argv[1] : "custom_layer.safetensors";
  try {
    ctnet::summary<Net>(std::cout);

    const ctnet::Dataset train = custom::make_patterns(900, 1), test = custom::make_patterns(300, 2);
    ctnet::LoaderOptions lo;
    lo.batch_size = 32;
    lo.normalize = {0.25f, 0.3f};
    ctnet::DataLoader train_loader(train, lo);
    lo.shuffle = false;
    ctnet::DataLoader test_loader(test, lo);

    using M = ctnet::Model<Net>;
    M model(7, lo.batch_size);
    ctnet::ProgressBar progress(std::cout, ctnet::ProgressBar::Mode::off);
    ctnet::Trainer<M, ctnet::NLLLoss> trainer(model, ctnet::NLLLoss{}, progress);
    ctnet::SGD<float> sgd(0.05, 0.9);
    const ctnet::StepSchedule schedule{[](long, int) { return 0.05; }, {}};
    ctnet::EvalResult result;
    for (int epoch = 1; epoch <= 3; ++epoch) {
      const ctnet::EpochResult e = trainer.train_epoch(train_loader, sgd, schedule, epoch, "train");
      result = ctnet::evaluate(model, test_loader, ctnet::NLLLoss{});
      std::printf("epoch %d: train loss %.4f accuracy %.3f, test loss %.4f accuracy %.3f\n", epoch, e.train.loss,
                  e.train.accuracy(), result.loss, result.accuracy());
    }
    if (result.accuracy() < 0.9) {
      std::fprintf(stderr, "error: test accuracy %.3f after 3 epochs; expected at least 0.900\n", result.accuracy());
      return 1;
    }

    ctnet::save_checkpoint(model, path);
    M reloaded(99, lo.batch_size);  // another seed: every value must come from the file
    ctnet::load_checkpoint(reloaded, path);
    ctnet::Batch batch;
    test_loader.start_epoch(0);
    test_loader.next(batch);
    const float* a = model.predict(batch.images.data(), batch.size);
    const std::vector<float> first(a, a + batch.size * M::output_size);
    const float* b = reloaded.predict(batch.images.data(), batch.size);
    if (std::memcmp(first.data(), b, first.size() * sizeof(float)) != 0) {
      std::fprintf(stderr, "error: the model loaded from %s predicts differently from the one saved\n", path.c_str());
      return 1;
    }
    std::printf("saved and reloaded %s: identical predictions\ncustom_layer: OK\n", path.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
